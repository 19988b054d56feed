package job

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"metriclab/core/eval"
)

// WriteProjectorTSV writes e in the TSV files of the TensorFlow Embedding
// Projector (projector.tensorflow.org, "Load"): vectors gets one line per
// embedding, its D values separated by tabs; metadata gets a header line
// "label\tclass" and then, per embedding, its class name and its label
// number. (The projector reads a one-column metadata file without a
// header, so the second column is what lets the header name the columns.)
// A label without a name in classes is written as its number.
func WriteProjectorTSV(vectors, metadata io.Writer, e eval.Embeddings, classes []string) error {
	if len(e.X) != e.N*e.D || len(e.Labels) != e.N {
		panic("job: WriteProjectorTSV: embeddings sizes disagree")
	}
	vw, mw := bufio.NewWriter(vectors), bufio.NewWriter(metadata)
	mw.WriteString("label\tclass\n")
	var line []byte
	for i := 0; i < e.N; i++ {
		line = line[:0]
		for k, v := range e.Row(i) {
			if k > 0 {
				line = append(line, '\t')
			}
			line = strconv.AppendFloat(line, float64(v), 'g', -1, 32)
		}
		line = append(line, '\n')
		vw.Write(line)
		l := e.Labels[i]
		name := strconv.Itoa(l)
		if l >= 0 && l < len(classes) {
			name = classes[l]
		}
		fmt.Fprintf(mw, "%s\t%d\n", tsvField(name), l)
	}
	if err := vw.Flush(); err != nil {
		return err
	}
	return mw.Flush()
}

// tsvField replaces the tabs and line breaks of s, which would break a TSV
// line, by spaces.
func tsvField(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '\t' || c == '\n' || c == '\r' {
			b[i] = ' '
		}
	}
	return string(b)
}
