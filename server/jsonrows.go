package main

import (
	"encoding/json"
	"fmt"
	"io"
)

// jsonRows writes the rows of openset's and compare's --json, one JSON
// object a line. A row that does not encode (a NaN or ±Inf in its
// report, which encoding/json refuses and reports are not meant to hold)
// is not written: the first such row's error is kept in err, which the
// command returns after the other rows, so that no row is lost with
// status 0.
type jsonRows struct {
	w   io.Writer
	err error
}

// write writes row, called name in an error, as one line.
func (j *jsonRows) write(name string, row any) {
	line, err := json.Marshal(row)
	if err != nil {
		if j.err == nil {
			j.err = fmt.Errorf("--json: the row %q could not be written: %v", name, err)
		}
		return
	}
	j.w.Write(append(line, '\n'))
}
