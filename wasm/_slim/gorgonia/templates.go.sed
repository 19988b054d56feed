# metriclab's slim copy (wasm/_slim) of gorgonia's templates.go: without
# the node label's text/template (its template text, FuncMap and init);
# templates_slim.go writes the same label in Go. text/template evaluates
# methods by name through reflection, which makes Go's linker keep every
# exported method of every type in the binary (trainer.wasm doubles).
\|^	"text/template"$|d
\|^const exprNodeTemplText = `<$|,\|^>`$|d
\|^var funcMap = template.FuncMap{$|,$d
