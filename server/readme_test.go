package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"metriclab/core/eval"
)

// TestREADMETables holds the README's tables of defaults to the code: each
// is the output of the command the README names, verbatim (regenerate the
// table with that command when a flag or a default changes), and the
// whole table, between blank lines: a row left below it (a flag gone, or
// renamed to sort before it) is a row the code no longer has.
func TestREADMETables(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, args := range [][]string{
		{"train", flagsTableArg},
		{"serve", flagsTableArg},
		{"losses", "--dim", "3"},
		{"presets"},
	} {
		code, table, stderr := runCLI(t, args...)
		if code != 0 || table == "" {
			t.Fatalf("metriclab %s: status %d, %s", strings.Join(args, " "), code, stderr)
		}
		if !strings.Contains(readme, "\n\n"+table+"\n") {
			t.Errorf("README.md does not hold the table of `bin/metriclab %s`, between blank lines; it is now:\n%s", strings.Join(args, " "), table)
		}
	}
}

// TestREADMENamesEveryFlag: every flag of every command, as its -h lists
// it, is named in the README (`--name`), so that a reader learns of it
// without running -h (before, openset's --train-classes and
// --eval-classes, compare's --open-train and --open-eval and bench's
// --warmup and --resident were named nowhere).
func TestREADMENamesEveryFlag(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, cmd := range []string{"train", "eval", "bench", "compare", "openset", "join", "serve"} {
		code, help, _ := runCLI(t, cmd, "-h")
		if code != 0 {
			t.Fatalf("metriclab %s -h: exit %d", cmd, code)
		}
		n := 0
		for _, line := range strings.Split(help, "\n") {
			name, ok := strings.CutPrefix(line, "  -")
			if !ok {
				continue
			}
			name, _, _ = strings.Cut(name, " ")
			n++
			if !strings.Contains(readme, "--"+name+"`") && !strings.Contains(readme, "--"+name+" ") && !strings.Contains(readme, "--"+name+"=") {
				t.Errorf("README.md does not name %s's flag --%s", cmd, name)
			}
		}
		if n == 0 {
			t.Errorf("metriclab %s -h: no flags read from %q", cmd, help)
		}
	}
}

// TestREADMEEvalJSON holds the README's outline of `eval --json` to
// evalOutput: every key, in the order eval prints them, with every
// optional part present (a model's classifier, the open-set figures,
// --expand).
func TestREADMEEvalJSON(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	fars := map[string]float64{}
	for _, far := range eval.FARLevels() {
		fars[strconv.FormatFloat(far, 'g', -1, 64)] = far
	}
	one := 1.0
	var out evalOutput
	out.ClosedSet.Classifier = &one
	out.Expand = 5
	out.Verification.TARAtFAR = fars
	out.Identification.CMC = []float64{1}
	out.Identification.OpenSet = &eval.OpenSetReport{DIRAtFAR: fars}
	raw, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	shape := "`" + jsonOutline(t, json.NewDecoder(bytes.NewReader(raw))) + "`"
	if !strings.Contains(string(b), shape) {
		t.Errorf("README.md does not outline eval --json as it is now:\n%s", shape)
	}
}

// TestREADMETrainJSON holds the README's outline of the last line of
// `train --json` to trainedLine: every key, in the order train prints
// them, with every optional one present.
func TestREADMETrainJSON(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	one := 1.0
	raw, err := json.Marshal(trainedLine{Threshold: &one, FAR: &one, BestEpoch: 1})
	if err != nil {
		t.Fatal(err)
	}
	shape := "`" + jsonOutline(t, json.NewDecoder(bytes.NewReader(raw))) + "`"
	if !strings.Contains(string(b), shape) {
		t.Errorf("README.md does not outline the last line of train --json as it is now:\n%s", shape)
	}
}

// TestREADMEEvalSynopsis holds the README's synopsis of eval (`eval
// --model FILE --data mnist|DIR [--classes SPEC] …`) to eval's flags:
// every flag, each once, none that eval lacks, and --metric's values
// those eval takes, in its order.
func TestREADMEEvalSynopsis(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i := strings.Index(readme, "`eval --model FILE ")
	if i < 0 {
		t.Fatal("README.md has no synopsis of eval (`eval --model FILE …`)")
	}
	synopsis, _, _ := strings.Cut(readme[i+1:], "`")
	f, err := parseEval([]string{"--model", "raw"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var want, got []string
	f.fs.VisitAll(func(fl *flag.Flag) { want = append(want, fl.Name) })
	words := strings.Fields(synopsis)
	for k, w := range words {
		name, ok := strings.CutPrefix(strings.Trim(w, "[]"), "--")
		if !ok {
			continue
		}
		got = append(got, name)
		value := ""
		if k+1 < len(words) {
			value = strings.Trim(words[k+1], "[]")
		}
		if metrics := strings.Join(evalMetrics, "|"); name == "metric" && value != metrics {
			t.Errorf("README.md's synopsis of eval: --metric %s, want --metric %s", value, metrics)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("README.md's synopsis of eval names the flags %q; eval has %q", got, want)
	}
}

// jsonOutline reads one JSON value from d and returns its outline: an
// object as {"key":outline,...}, where a key whose value is not an object
// stands alone.
func jsonOutline(t *testing.T, d *json.Decoder) string {
	t.Helper()
	tok, err := d.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok != json.Delim('{') {
		if tok == json.Delim('[') {
			for d.More() {
				jsonOutline(t, d)
			}
			d.Token() // ]
		}
		return ""
	}
	var parts []string
	for d.More() {
		key, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		part := strconv.Quote(key.(string))
		if inner := jsonOutline(t, d); inner != "" {
			part += ":" + inner
		}
		parts = append(parts, part)
	}
	d.Token() // }
	return "{" + strings.Join(parts, ",") + "}"
}

// TestREADMECommands holds the metriclab command lines of README.md and
// docs/*.md to the commands as they are: each goes through its command's
// parsing and every check the command makes before any work (no data
// read, no model file, no device, no training; see readmeChecks), so that
// a flag renamed, a value no longer taken, a preset gone or a --variant
// that openset would refuse fails here, not for a reader. A placeholder
// the reader fills in (--seed S) is checked with one value it stands for
// (docPlaceholders).
func TestREADMECommands(t *testing.T) {
	n := 0
	for _, path := range docPaths(t) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range docCommands(string(b)) {
			n++
			args := make([]string, len(c.args))
			for i, arg := range c.args {
				args[i] = fillPlaceholders(arg)
			}
			check, ok := readmeChecks[args[0]]
			if !ok {
				t.Errorf("%s:%d: bin/metriclab %q: no command %s that this test checks", path, c.line, c.args, args[0])
				continue
			}
			if err := check(args[1:]); err != nil && !errors.Is(err, flag.ErrHelp) {
				t.Errorf("%s:%d: bin/metriclab %q: %v", path, c.line, c.args, err)
			}
		}
	}
	// The README had 63 commands when this test was written: far fewer
	// means that the extraction, not the README, changed.
	if n < 50 {
		t.Errorf("found %d metriclab commands in the docs, want 50 or more", n)
	}
}

// readmeChecks check a command's arguments as the command does before
// it works: its parseX, which refuses what needs no data, model file,
// device or output file to be found wrong (each says what it leaves to
// the command). losses and presets only print: they run.
var readmeChecks = map[string]func(args []string) error{
	"train":   func(args []string) error { _, err := parseTrain(args, io.Discard); return err },
	"eval":    func(args []string) error { _, err := parseEval(args, io.Discard); return err },
	"bench":   func(args []string) error { _, err := parseBench(args, io.Discard); return err },
	"compare": func(args []string) error { _, err := parseCompare(args, io.Discard); return err },
	"openset": func(args []string) error { _, err := parseOpenSet(args, io.Discard); return err },
	"join":    func(args []string) error { _, _, err := parseJoin(args, io.Discard); return err },
	"serve":   func(args []string) error { _, err := parseServe(args, io.Discard); return err },
	"losses": func(args []string) error {
		return cmdLosses(context.Background(), args, io.Discard, io.Discard)
	},
	"presets": func(args []string) error {
		return cmdPresets(context.Background(), args, io.Discard, io.Discard)
	},
}

// docPlaceholders are the values the docs leave to the reader, each with
// one value it stands for: --loss L, --seed S (and a --variant seed=S2),
// --pca K and --expand K, --threads T. An argument that is a placeholder,
// or a flag=value word of one (a --variant's) whose value is, is replaced;
// any other upper-case word reaches the command as it is, and fails there
// if it is no value of its flag.
var docPlaceholders = map[string]string{"L": "arcface", "S": "1", "S2": "2", "K": "5", "T": "1"}

// fillPlaceholders returns arg with its placeholders replaced.
func fillPlaceholders(arg string) string {
	if v, ok := docPlaceholders[arg]; ok {
		return v
	}
	words := strings.Split(arg, " ")
	for i, w := range words {
		if name, value, ok := strings.Cut(w, "="); ok {
			if v, ok := docPlaceholders[value]; ok {
				words[i] = name + "=" + v
			}
		}
	}
	return strings.Join(words, " ")
}

// docCommand is a metriclab command line of a markdown file, without
// bin/metriclab, and the line it starts on.
type docCommand struct {
	line int
	args []string
}

// docCommands returns the metriclab commands of markdown text md: those
// of each line of a fenced code block, and of each inline code span,
// which may break over the lines of its paragraph (read as one line, as
// markdown shows it). shellCommands finds them in a line or a span.
func docCommands(md string) []docCommand {
	var cmds []docCommand
	lines := strings.Split(md, "\n")
	fenced := false
	var para []string // the lines of the paragraph being read
	paraStart := 0
	endPara := func() {
		text := strings.Join(para, "\n")
		for i := strings.IndexByte(text, '`'); i >= 0; {
			j := strings.IndexByte(text[i+1:], '`')
			if j < 0 {
				break
			}
			span := text[i+1 : i+1+j]
			line := paraStart + strings.Count(text[:i], "\n")
			for _, args := range shellCommands(strings.Join(strings.Fields(span), " ")) {
				cmds = append(cmds, docCommand{line, args})
			}
			next := strings.IndexByte(text[i+j+2:], '`')
			if next < 0 {
				break
			}
			i += j + 2 + next
		}
		para = nil
	}
	for n, line := range lines {
		switch {
		case strings.HasPrefix(strings.TrimSpace(line), "```"):
			endPara()
			fenced = !fenced
		case fenced:
			for _, args := range shellCommands(line) {
				cmds = append(cmds, docCommand{n + 1, args})
			}
		case strings.TrimSpace(line) == "":
			endPara()
		default:
			if len(para) == 0 {
				paraStart = n + 1
			}
			para = append(para, line)
		}
	}
	endPara()
	return cmds
}

// shellCommands splits s into words as a shell does ('single' and
// "double" quotes, a backslash before a character, # starting a comment
// between words) and into simple commands at the operators (&&, ||, ;,
// |, &, < and >, whose file starts a command of its own), and returns
// the arguments of those that run bin/metriclab.
func shellCommands(s string) [][]string {
	var cmds [][]string
	var cmd []string
	var word strings.Builder
	inWord := false
	endWord := func() {
		if inWord {
			cmd = append(cmd, word.String())
			word.Reset()
			inWord = false
		}
	}
	endCmd := func() {
		endWord()
		if len(cmd) > 1 && cmd[0] == "bin/metriclab" {
			cmds = append(cmds, cmd[1:])
		}
		cmd = nil
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				j = len(s) - i - 1
			}
			word.WriteString(s[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case c == '\\' && i+1 < len(s):
			word.WriteByte(s[i+1])
			inWord = true
			i++
		case c == ' ' || c == '\t':
			endWord()
		case c == '#' && !inWord:
			endCmd()
			return cmds
		case strings.IndexByte("&;|<>", c) >= 0:
			endCmd()
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	endCmd()
	return cmds
}

// TestDocLinks: every link of the README and docs/ to a file of the
// repository reaches it, and one to a heading (#anchor) reaches a heading
// of that file, by the anchors GitHub makes of headings (docAnchors).
func TestDocLinks(t *testing.T) {
	n := 0
	for _, path := range docPaths(t) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range docLink.FindAllStringSubmatchIndex(string(b), -1) {
			target := string(b[m[2]:m[3]])
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			n++
			line := 1 + bytes.Count(b[:m[0]], []byte("\n"))
			file, anchor, _ := strings.Cut(target, "#")
			to := path
			if file != "" {
				to = filepath.Join(filepath.Dir(path), filepath.FromSlash(file))
			}
			tb, err := os.ReadFile(to)
			if err != nil {
				t.Errorf("%s:%d: link %q: %v", path, line, target, err)
				continue
			}
			if anchor != "" && !docAnchors(string(tb))[anchor] {
				t.Errorf("%s:%d: link %q: %s has no heading of anchor %q", path, line, target, to, anchor)
			}
		}
	}
	if n < 10 {
		t.Errorf("%d links found in the docs: the pattern no longer finds them", n)
	}
}

// docLink is a Markdown link's target: [text](target).
var docLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// docAnchors are the anchors GitHub gives the headings of the Markdown
// doc: lower case, every character but letters, digits, spaces, '-' and
// '_' dropped, spaces made '-', and -1, -2… after a repeat.
func docAnchors(doc string) map[string]bool {
	anchors := map[string]bool{}
	seen := map[string]int{}
	fence := false
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "```") {
			fence = !fence
		}
		heading := strings.TrimLeft(line, "#")
		if fence || heading == line || !strings.HasPrefix(heading, " ") {
			continue
		}
		var a strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
				a.WriteRune(r)
			case r == ' ':
				a.WriteRune('-')
			}
		}
		s := a.String()
		if k := seen[s]; k > 0 {
			anchors[s+"-"+strconv.Itoa(k)] = true
		} else {
			anchors[s] = true
		}
		seen[s]++
	}
	return anchors
}

// docPaths are the paths of the docs, from this package's folder: the
// README, then docs/*.md.
func docPaths(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob("../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"../README.md"}, docs...)
}

// TestREADMEGoVersion: the README's prerequisites name the Go version
// go.mod asks for (before, they named no Go version at all).
func TestREADMEGoVersion(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	if want := "`go " + string(m[1]) + "`"; !strings.Contains(string(readme), want) {
		t.Errorf("README.md does not name the Go version go.mod asks for, %s", want)
	}
}

// TestMakeInstallsAsUser: the Makefile's targets that install Debian's
// packages (node, chromium, qemu, torch) call apt-get through sudo for a
// user who is not root and has sudo, and without it for root or where
// there is no sudo, as the README says (before, apt-get alone, which a
// user who is not root cannot run). make -n prints the commands without
// running them, on a PATH of stand-ins for id and sudo.
func TestMakeInstallsAsUser(t *testing.T) {
	mk, err := exec.LookPath("make")
	if err != nil {
		t.Skip("no make")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go on PATH")
	}
	for _, c := range []struct {
		uid  string
		sudo bool
		want string
	}{
		{"1000", true, "sudo apt-get"},
		{"0", true, "apt-get"},
		{"1000", false, "apt-get"},
	} {
		bin := t.TempDir()
		script := func(name, body string) {
			if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		script("id", "echo "+c.uid)
		if c.sudo {
			script("sudo", `exec "$@"`)
		}
		if err := os.Symlink(goBin, filepath.Join(bin, "go")); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(mk, "-n", "-B", "node", "chromium", "qemu", "torch")
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "PATH="+bin, "MAKEFLAGS=", "MAKELEVEL=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make -n (uid %s, sudo %v): %v\n%s", c.uid, c.sudo, err, out)
		}
		n := 0
		for _, line := range strings.Split(string(out), "\n") {
			for _, cmd := range regexp.MustCompile(`(?:\S+ )?apt-get`).FindAllString(line, -1) {
				n++
				if strings.HasSuffix(cmd, "sudo apt-get") != (c.want == "sudo apt-get") {
					t.Errorf("uid %s, sudo %v: %q in\n%s\nwant %q", c.uid, c.sudo, cmd, line, c.want)
				}
			}
		}
		if n < 8 {
			t.Errorf("uid %s, sudo %v: %d apt-get commands in make -n's\n%s\nwant update and install for each of node, chromium, qemu and torch", c.uid, c.sudo, n, out)
		}
	}
}
