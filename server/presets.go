package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"metriclab/core/msg"
)

// cmdPresets prints the recipes of --preset and what each sets, as a
// markdown table.
func cmdPresets(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := flag.NewFlagSet("presets", flag.ContinueOnError)
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "| preset | for | sets |\n|---|---|---|")
	for _, p := range msg.Presets() {
		fmt.Fprintf(stdout, "| `%s` | %s | `%s` |\n", p.Name, p.Description, strings.ReplaceAll(describePreset(p), "|", `\|`))
	}
	return nil
}
