# metriclab's slim copy (wasm/_slim) of ebiten's builtinshader/shader.go:
# without the shader source's text/template; shader_slim.go's source writes
# the same source in Go. text/template evaluates methods by name through
# reflection, which makes Go's linker keep every exported method of every
# type in the binary (viz.wasm grows by a third).
\|^	"bytes"$|d
\|^	"fmt"$|d
\|^	"text/template"$|d
\|^var tmpl = template.Must(template.New("tmpl").Parse(`//kage:unit pixels$|,\|^`))$|d
\|^	var buf bytes.Buffer$|,\|^	b := buf.Bytes()$|c\
	b := source(filter, address, useColorM)
