package gorgonia

// metriclab's slim copy (wasm/_slim): added beside templates.go, which
// templates.go.sed leaves without its text/template. text/template
// evaluates methods by name through reflection, which makes Go's linker
// keep every exported method of every type in the binary; without it the
// browser trainer is half the size.

import (
	"fmt"
	"io"
	"strings"
)

// exprNodeTempl writes a node's DOT label, the table that text/template
// wrote from exprNodeTemplText upstream, character for character.
var exprNodeTempl nodeLabel

type nodeLabel struct{}

// ExecuteTemplate writes n's label to w; name is ignored (there is one).
func (nodeLabel) ExecuteTemplate(w io.Writer, name string, data interface{}) error {
	n := data.(*Node)
	var b strings.Builder
	b.WriteString("<\n<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"0\" PORT=\"anchor\" ")
	switch {
	case isLeaf(n):
		b.WriteString(` COLOR="#00FF00;"`)
	case isRoot(n):
		b.WriteString(` COLOR="#FF0000;" `)
	case isMarked(n):
		b.WriteString(` COLOR="#0000FF;" `)
	}
	switch {
	case isInput(n):
		b.WriteString(` BGCOLOR="lightyellow"`)
	case isStmt(n):
		b.WriteString(` BGCOLOR="lightblue"`)
	}
	b.WriteString(">\n\n")
	fmt.Fprintf(&b, "<TR><TD>%x</TD><TD>%s :: %s</TD></TR>\n", n.ID(),
		dotEscape(htmlEscape(fmt.Sprintf("%v", n.Name()))), dotEscape(htmlEscape(nodeType(n))))
	if printOp(n) {
		fmt.Fprintf(&b, "<TR><TD>Op</TD><TD>%s :: %s</TD></TR>", dotEscape(htmlEscape(opStr(n))), dotEscape(htmlEscape(opType(n))))
	}
	b.WriteString("\n")
	if hasShape(n) {
		fmt.Fprintf(&b, "<TR><TD>Shape</TD><TD>%s</TD></TR>", getShape(n))
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "<TR><TD>Overwrites Input %d</TD><TD>Data On: %v</TD></TR>\n", overwritesInput(n), n.Device())
	value := dotEscape(fmt.Sprintf("%+3.3s", n.Value()))
	if hasGrad(n) {
		b.WriteString("<TR><TD>Value</TD><TD>Grad</TD></TR>\n")
		fmt.Fprintf(&b, "<TR><TD>%s</TD><TD>%s </TD></TR>\n", value, dotEscape(getGrad(n)))
		fmt.Fprintf(&b, "<TR><TD>Ptr: %s </TD><TD>Ptr: %s </TD></TR>\n", dotEscape(getValPtr(n)), dotEscape(getGradPtr(n)))
	} else {
		b.WriteString("\n")
		fmt.Fprintf(&b, "<TR><TD>Value</TD><TD>%s</TD></TR>\n", value)
	}
	b.WriteString("\n\n</TABLE>\n>")
	_, err := io.WriteString(w, b.String())
	return err
}

// htmlEscape is text/template's html function on a string.
var htmlEscape = strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", "'", "&#39;", "&", "&amp;", "<", "&lt;", ">", "&gt;").Replace
