package gorgonia

// metriclab's slim copy (wasm/_slim): the node label written with
// fmt against upstream's template, kept here verbatim.

import (
	"bytes"
	"testing"
	"text/template"

	"gorgonia.org/tensor"
)

// TestSlimLabelMatchesTemplate writes every node's DOT label of a small
// training graph both ways, before and after a run (values and gradients
// printed), with names that need escaping (a NUL too), a node marked as of
// interest and a statement node (Read).
func TestSlimLabelMatchesTemplate(t *testing.T) {
	g := NewGraph()
	x := NewMatrix(g, tensor.Float32, WithShape(2, 3), WithName("x<&'\"\ny"), WithInit(GlorotU(1)))
	w := NewMatrix(g, tensor.Float32, WithShape(3, 2), WithName("w\x00"), WithInit(GlorotU(1)))
	xw := Must(Mul(x, w))
	xw.ofInterest = true
	s := Must(Sum(Must(Tanh(xw))))
	if _, err := Grad(s, w); err != nil {
		t.Fatal(err)
	}
	var read Value
	Read(s, &read)
	if n := len(g.AllNodes()); n < 8 {
		t.Fatalf("%d nodes: the gradient is missing from the graph", n)
	}
	vm := NewTapeMachine(g, BindDualValues(w))
	defer vm.Close()
	compare := func(stage string) {
		var marked, stmts int
		for _, n := range g.AllNodes() {
			if isMarked(n) {
				marked++
			}
			if isStmt(n) {
				stmts++
			}
			var want, got bytes.Buffer
			if err := upstreamTempl.ExecuteTemplate(&want, "node", n); err != nil {
				t.Fatal(err)
			}
			if err := exprNodeTempl.ExecuteTemplate(&got, "node", n); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("%s, node %v:\ngot  %q\nwant %q", stage, n, got.String(), want.String())
			}
		}
		if marked == 0 || stmts == 0 {
			t.Errorf("%s: %d nodes of interest, %d statements: want both", stage, marked, stmts)
		}
	}
	compare("before the run")
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	compare("after the run")
}

// upstream's template, as gorgonia v0.9.18's templates.go has it.

const upstreamText = `<
<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" PORT="anchor" {{if isLeaf .}} COLOR="#00FF00;"{{else if isRoot . }} COLOR="#FF0000;" {{else if isMarked .}} COLOR="#0000FF;" {{end}}{{if isInput .}} BGCOLOR="lightyellow"{{else if isStmt .}} BGCOLOR="lightblue"{{end}}>

<TR><TD>{{printf "%x" .ID}}</TD><TD>{{printf "%v" .Name | html | dotEscape}} :: {{nodeType . | html | dotEscape }}</TD></TR>
{{if printOp . }}<TR><TD>Op</TD><TD>{{ opStr . | html | dotEscape }} :: {{ opType . | html | dotEscape }}</TD></TR>{{end}}
{{if hasShape .}}<TR><TD>Shape</TD><TD>{{ getShape .}}</TD></TR>{{end}}
<TR><TD>Overwrites Input {{overwritesInput . }}</TD><TD>Data On: {{.Device}}</TD></TR>
{{if hasGrad .}}<TR><TD>Value</TD><TD>Grad</TD></TR>
<TR><TD>{{printf "%+3.3s" .Value | dotEscape}}</TD><TD>{{getGrad . | dotEscape }} </TD></TR>
<TR><TD>Ptr: {{getValPtr . | dotEscape}} </TD><TD>Ptr: {{getGradPtr . | dotEscape}} </TD></TR>
{{else}}
<TR><TD>Value</TD><TD>{{printf "%+3.3s" .Value | dotEscape}}</TD></TR>
{{end}}

</TABLE>
>`

var upstreamFuncs = template.FuncMap{
	"dotEscape":       dotEscape,
	"printOp":         printOp,
	"isRoot":          isRoot,
	"isLeaf":          isLeaf,
	"isInput":         isInput,
	"isStmt":          isStmt,
	"isMarked":        isMarked,
	"hasShape":        hasShape,
	"hasGrad":         hasGrad,
	"getShape":        getShape,
	"getValPtr":       getValPtr,
	"getGrad":         getGrad,
	"getGradPtr":      getGradPtr,
	"overwritesInput": overwritesInput,
	"opStr":           opStr,
	"opType":          opType,
	"nodeType":        nodeType,
}

var upstreamTempl = template.Must(template.New("node").Funcs(upstreamFuncs).Parse(upstreamText))
