package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"metriclab/core"
	"metriclab/losses"
)

// cmdLosses prints every loss with its formula and its parameters' defaults
// and ranges at one embedding dimension, as a markdown table.
func cmdLosses(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := flag.NewFlagSet("losses", flag.ContinueOnError)
	dim := fs.Int("dim", 3, "embedding dimension D the defaults are for")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if err := core.CheckDim(*dim); err != nil {
		return inputError{err}
	}
	fmt.Fprintf(stdout, "| loss | formula | parameters at D = %d: default [range] |\n|---|---|---|\n", *dim)
	for _, name := range losses.Names() {
		params, err := losses.Params(name, *dim)
		if err != nil {
			return err
		}
		var ps []string
		for _, p := range params {
			if p.Name == "easy_margin" { // its flag, --easy-margin, is true/false: 1 is true
				ps = append(ps, fmt.Sprintf("`%s` %t [true/false]", p.Name, p.Default == 1))
				continue
			}
			ps = append(ps, fmt.Sprintf("`%s` %.4g [%g, %g]", p.Name, p.Default, p.Min, p.Max))
		}
		fmt.Fprintf(stdout, "| `%s` | %s | %s |\n", name, strings.ReplaceAll(losses.Doc(name), "|", `\|`), strings.Join(ps, ", "))
	}
	return nil
}
