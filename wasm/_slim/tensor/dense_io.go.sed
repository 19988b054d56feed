# metriclab's slim copy (wasm/_slim) of tensor's dense_io.go: upstream's file
# without PBEncode and PBDecode (from its "PB SERIALIZATION" comment to the
# end) and their import. Their gogo protobuf code looks methods up by name
# through reflection, which makes Go's linker keep every exported method of
# every type in the binary; the browser trainer never calls them.
\|^	"gorgonia.org/tensor/internal/serialization/pb"$|d
\|^/\* PB SERIALIZATION \*/$|,$d
