// Command metriclab trains, evaluates and benchmarks deep metric learning
// encoders.
//
//	metriclab train   --data mnist --arch lenet-s --loss arcface --dim 3 --out model.safetensors
//	metriclab eval    --model model.safetensors --data mnist --json
//	metriclab bench   --arch lenet-s --loss arcface --dim 3 --batch 64
//	metriclab compare --losses all --dims 3,64 --epochs 2
//	metriclab openset --data mnist --preset digits
//
// Bad input gives one line on stderr and exit status 2; a failure while
// working gives exit status 1; a command stopped by Ctrl-C or SIGTERM,
// 128 + the signal's number (130, 143), as a shell gives a process the
// signal ends. No output file is ever left half-written.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"

	"metriclab/core/msg"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `metriclab: deep metric learning playground

usage: metriclab <command> [flags]

commands:
  train     train an encoder with a metric learning loss and write a model file
  eval      evaluate a model: closed set, 1:1 verification, 1:k identification, retrieval
  bench     measure training throughput (img/s) of an architecture and loss
  compare   train and evaluate several losses and print a markdown table
  openset   train a recipe on some identities, evaluate it on unseen ones beside raw pixels, print a markdown table
  losses    list the losses, their formulas and their parameters' defaults
  presets   list the training recipes of --preset and what they set
  join      join model files (seeds of a recipe, say) into one model of views: their ensemble in one file
  serve     serve the browser playground (make run builds it), by default on 127.0.0.1:8000
  version   print the version

Run 'metriclab <command> -h' for the flags of a command.
`

func main() {
	ctx := context.Background()
	if len(os.Args) > 1 && catchesInterrupt[os.Args[1]] {
		var stop context.CancelCauseFunc
		ctx, stop = context.WithCancelCause(ctx)
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
		go func() {
			// The first Ctrl-C asks the command to stop (after a training
			// step, a data load), the signal kept for its exit status; a
			// second one ends the process at once.
			sig := <-sigs
			signal.Stop(sigs)
			stop(interrupted{sig})
		}()
	}
	out := &outputWriter{w: os.Stdout}
	if len(os.Args) > 1 && tableCommands[os.Args[1]] {
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
		go func() {
			sig := <-sigs
			out.interrupt(os.Args[1], os.Stderr)
			endBySignal(sig)
		}()
	}
	os.Exit(run(ctx, os.Args[1:], out, os.Stderr))
}

// tableCommands print a table a row at a time, each row as it is done
// (tableRows, rowDone): on Ctrl-C or SIGTERM, the table written ends with
// a line that says it was interrupted, after how many of its rows
// (outputWriter.interrupt), and the process ends as the signal ends it
// (status 130, 143: signalStatus).
var tableCommands = map[string]bool{"openset": true, "compare": true}

// endBySignal ends the process as sig would have, had it not been
// caught: the signal again, its handler reset; where it cannot be sent
// (Windows), the status a shell gives such a process, 128 + its number.
func endBySignal(sig os.Signal) {
	signal.Reset(sig)
	if p, err := os.FindProcess(os.Getpid()); err == nil && p.Signal(sig) == nil {
		time.Sleep(time.Second) // its delivery
	}
	os.Exit(signalStatus(sig))
}

// interrupted is the cause of the cancellation of a command's context by
// a signal (main): the signal, of which the exit status tells.
type interrupted struct{ sig os.Signal }

func (e interrupted) Error() string { return "interrupted by " + e.sig.String() }

// signalStatus is the exit status of a command that sig stopped: the
// shell's for a process that sig ended, 128 + its number (130 for Ctrl-C,
// 143 for SIGTERM); 130 for a signal without a number.
func signalStatus(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 130
}

// catchesInterrupt are the commands that stop cleanly on Ctrl-C or
// SIGTERM: train and join write no model (the last one stays; a model
// being written is finished, so that no temporary file is left), bench
// releases its device, serve checkpoints its running job. The others
// write nothing but their output, and end at once, as a signal ends a
// process.
var catchesInterrupt = map[string]bool{"train": true, "join": true, "bench": true, "serve": true}

// helpFlags ask a command for its usage (as the flag package reads them).
var helpFlags = []string{"-h", "-help", "--h", "--help"}

// run executes one command and returns the process exit status. A
// command that succeeds but could not write all its output on stdout (a
// full disk, a stdout closed) fails, status 1: its table, report, help or
// JSON lines are cut short. serve's stdout, once it serves, is the log of
// a long run, not its result: cmdServe writes it past this check.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	out, ok := stdout.(*outputWriter) // main's
	if !ok {
		out = &outputWriter{w: stdout}
	}
	code := runCommand(ctx, args, out, stderr)
	if err := stdoutLost(out); code == 0 && err != nil {
		fmt.Fprintf(stderr, "metriclab %s: %s\n", args[0], oneLine(err))
		return 1
	}
	return code
}

// stdoutLost is the first error of a write to w, when w is run's
// outputWriter, as the error that says the output is incomplete; nil
// while every write went through. compare and openset, which print a row
// as each is done, stop at it rather than train on for rows that would be
// lost.
func stdoutLost(w io.Writer) error {
	if o, ok := w.(*outputWriter); ok && o.err != nil {
		return fmt.Errorf("the output on stdout is incomplete: %w", o.err)
	}
	return nil
}

// wroteButLost is the error of a command that wrote the file out and
// then could not write all its output on stdout: lastErr, the error of
// its last write, or an earlier one that stdoutLost keeps (train --json's
// progress lines). It says that out was written, so that a script that
// reads the status alone (1: the output is incomplete) is told the file
// is there. nil when all went through.
func wroteButLost(out string, stdout io.Writer, lastErr error) error {
	err := stdoutLost(stdout)
	if err == nil && lastErr != nil {
		err = fmt.Errorf("the output on stdout is incomplete: %w", lastErr)
	}
	if err == nil {
		return nil
	}
	return fmt.Errorf("wrote %s, but %w", pathText(out), err)
}

// outputWriter is a command's stdout that keeps the first error of a
// write, and counts the rows of a table command's table (tableRows).
type outputWriter struct {
	mu   sync.Mutex // a write, and interrupt, which holds it to the end
	w    io.Writer
	err  error
	rows int  // of the table's, written
	of   int  // the table's rows, 0 before its header
	json bool // the rows are JSON lines (--json), not a markdown table
}

func (o *outputWriter) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n, err := o.w.Write(p)
	if err != nil && o.err == nil {
		o.err = err
	}
	return n, err
}

// tableRows says that the table written on w, run's outputWriter, has n
// rows, JSON lines where json, from now on; rowDone counts each.
func tableRows(w io.Writer, n int, json bool) {
	if o, ok := w.(*outputWriter); ok {
		o.mu.Lock()
		o.of, o.json = n, json
		o.mu.Unlock()
	}
}

// rowDone counts a row of the table written on w (tableRows).
func rowDone(w io.Writer) {
	if o, ok := w.(*outputWriter); ok {
		o.mu.Lock()
		o.rows++
		o.mu.Unlock()
	}
}

// interrupt ends the table of command cmd (tableRows), once a row being
// written is whole, with a line that says it was interrupted after k of
// its n rows: a paragraph of its own below a markdown table, on stderr
// beside JSON lines, which stdout keeps to. stderr gets the command's
// last line, as another command interrupted gives it. Nothing is written
// on o after it: the process is to end.
func (o *outputWriter) interrupt(cmd string, stderr io.Writer) {
	o.mu.Lock() // for good
	if o.of == 0 {
		fmt.Fprintf(stderr, "metriclab %s: interrupted before its table\n", cmd)
		return
	}
	line := fmt.Sprintf("interrupted after %d of %d rows", o.rows, o.of)
	if !o.json {
		fmt.Fprintf(o.w, "\n*The table is incomplete: %s.*\n", line)
	}
	fmt.Fprintf(stderr, "metriclab %s: %s\n", cmd, line)
}

// runCommand executes one command and returns the process exit status.
func runCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "train":
		err = cmdTrain(ctx, rest, stdout, stderr)
	case "eval":
		err = cmdEval(ctx, rest, stdout, stderr)
	case "bench":
		err = cmdBench(ctx, rest, stdout, stderr)
	case "compare":
		err = cmdCompare(ctx, rest, stdout, stderr)
	case "openset":
		err = cmdOpenSet(ctx, rest, stdout, stderr)
	case "losses":
		err = cmdLosses(ctx, rest, stdout, stderr)
	case "presets":
		err = cmdPresets(ctx, rest, stdout, stderr)
	case "join":
		err = cmdJoin(ctx, rest, stdout, stderr)
	case "serve":
		err = cmdServe(ctx, rest, stdout, stderr)
	case "version", "-version", "--version": // the flag most programs take for it
		if len(rest) == 1 && slices.Contains(helpFlags, rest[0]) {
			fmt.Fprint(stdout, "usage: metriclab version\n\nprint the version (it takes no flags)\n")
			return 0
		}
		if len(rest) > 0 && rest[0] == "--" { // the flags' end, as every command's
			rest = rest[1:]
		}
		if len(rest) > 0 { // it takes no flags: one given would go unread
			fmt.Fprintf(stderr, "metriclab version: unexpected argument %q\n", msg.Shorten(rest[0], maxErrorRunes/2))
			return 2
		}
		fmt.Fprintln(stdout, "metriclab", version)
		return 0
	case "-h", "-help", "--help", "help":
		switch {
		case len(rest) == 0 || len(rest) == 1 && (rest[0] == "help" || slices.Contains(helpFlags, rest[0])):
			fmt.Fprint(stdout, usage)
			return 0
		case len(rest) == 1: // help CMD: CMD's usage, as CMD -h prints it
			return runCommand(ctx, []string{rest[0], "-h"}, stdout, stderr)
		}
		fmt.Fprintf(stderr, "metriclab %s: unexpected argument %q (want one command)\n", cmd, msg.Shorten(rest[1], maxErrorRunes/2))
		return 2
	default:
		fmt.Fprintf(stderr, "metriclab: unknown command %q (want train, eval, bench, compare, openset, losses, presets, join, serve or version)\n", msg.Shorten(cmd, maxErrorRunes/2))
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(inputError)):
		fmt.Fprintf(stderr, "metriclab %s: %s\n", cmd, oneLine(err))
		return 2
	case errors.Is(err, context.Canceled):
		what := "nothing written"
		if err != context.Canceled { // it says what was written
			what = strings.TrimPrefix(oneLine(err), context.Canceled.Error()+": ")
		}
		fmt.Fprintf(stderr, "metriclab %s: interrupted, %s\n", cmd, what)
		var sig interrupted
		if errors.As(context.Cause(ctx), &sig) {
			return signalStatus(sig.sig)
		}
		return 130 // a context cancelled as Ctrl-C does (tests)
	default:
		fmt.Fprintf(stderr, "metriclab %s: %s\n", cmd, oneLine(err))
		return 1
	}
}

// oneLine is err's message on one line: a line break or other control
// character that a path or a name brought in is written as Go escapes it
// (a\nb for a line break between a and b); the rest is left as it is, up
// to maxErrorRunes characters.
func oneLine(err error) string { return msg.Shorten(oneLineText(err.Error()), maxErrorRunes) }

// maxErrorRunes bounds the line of an error: one that quotes a value of
// megabytes given to a flag (a file pasted, a shell's runaway expansion)
// would fill the terminal's scrollback, a line of 100,000 characters for
// as many in --metric. A longer one keeps its start and its end (msg.
// Shorten), which say what was given and what is wrong. A thousand
// characters, a dozen rows of 80 columns, keep a path or two of some
// hundreds of bytes whole.
const maxErrorRunes = 1000

// oneLineText is oneLine's of a message that is no error: the success
// lines that name a path the user gave (train's and join's "wrote PATH",
// through pathText).
func oneLineText(msg string) string {
	if !strings.ContainsFunc(msg, unicode.IsControl) {
		return msg
	}
	var b strings.Builder
	for _, r := range msg {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r) // '\n'
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// pathText is oneLineText of a path the user gave, quoted as Go quotes a
// string when it starts or ends with white space, which the line would
// hide: `wrote "m.safetensors "` of an --out given with a space at its
// end (before, "wrote m.safetensors ", the file then not found as
// m.safetensors).
func pathText(path string) string {
	if strings.TrimSpace(path) != path {
		return strconv.Quote(path)
	}
	return oneLineText(path)
}

// inputError is bad input from the user: a flag, a name, a value, a file.
type inputError struct{ err error }

func (e inputError) Error() string { return e.err.Error() }
func (e inputError) Unwrap() error { return e.err }

// badInput wraps a formatted message as an inputError.
func badInput(format string, a ...any) error { return inputError{fmt.Errorf(format, a...)} }

// parseFlags parses args with fs, printing help to stdout for -h and turning
// every other parse failure into a one-line inputError.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	if len(args) == 1 && args[0] == flagsTableArg {
		writeFlagsTable(stdout, fs)
		return flag.ErrHelp
	}
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	restore := readNumbersInDecimal(fs)
	given := watchSets(fs)
	err := fs.Parse(args)
	given.restore()
	restore() // -h names their types, int and float
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		if !hasFlags(fs) { // presets
			fmt.Fprintf(stdout, "usage: metriclab %s\n\n(it takes no flags)\n", fs.Name())
			return err
		}
		fmt.Fprintf(stdout, "usage: metriclab %s [flags]\n\n", fs.Name())
		fs.PrintDefaults()
		return err
	}
	if err != nil {
		return given.parseError(fs, err)
	}
	if err := unexpandedHome(fs); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		// A true/false flag takes no value after a space: --baselines
		// false stops the flags at "false".
		if _, err := strconv.ParseBool(fs.Arg(0)); err == nil && len(args) > fs.NArg() {
			// The last argument parsed: the flag, unless it was the value
			// of the flag before it (--data --json true: --json is --data's).
			prev := args[len(args)-fs.NArg()-1]
			if fl := fs.Lookup(strings.TrimLeft(prev, "-")); fl != nil && strings.HasPrefix(prev, "-") && isBoolFlag(fl) && flagGiven(fs, fl.Name) {
				return badInput("unexpected argument %q: a true/false flag takes its value after =, as --%s=%s", fs.Arg(0), fl.Name, fs.Arg(0))
			}
		}
		return badInput("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// flagSets watches the values a parse of a flag set sets (watchSets):
// the first value of each flag, and the first Set that failed.
type flagSets struct {
	values   map[*flag.Flag]flag.Value // the flags' own, put back by restore
	first    map[string]string         // the value given, by flag name
	twice    string                    // a flag given a second time, refused
	second   string                    // its second value
	failed   string                    // the flag whose Set failed
	value    string                    // the value it failed on
	setError error                     // and why
}

// watchSets makes every flag of fs refuse a second value, but for one
// that repeats (a flag.Value with a Repeats method, openset's --variant,
// which collects its values), until restore puts the flags' values back:
// the flag package keeps the last of a flag given twice, so that eval
// --model m.safetensors --model raw evaluated raw pixels alone and train
// --out a --out b wrote b alone. It records which flag's value was
// refused, and why, for parseError.
func watchSets(fs *flag.FlagSet) *flagSets {
	w := &flagSets{values: map[*flag.Flag]flag.Value{}, first: map[string]string{}}
	fs.VisitAll(func(fl *flag.Flag) {
		w.values[fl] = fl.Value
		watched := watchedValue{Value: fl.Value, name: fl.Name, sets: w}
		if isBoolFlag(fl) {
			fl.Value = watchedBool{watched}
		} else {
			fl.Value = watched
		}
	})
	return w
}

// restore puts the flags' own values back.
func (w *flagSets) restore() {
	for fl, v := range w.values {
		fl.Value = v
	}
}

// repeats is a flag.Value that takes several values, each added to those
// before (openset's --variant).
type repeats interface{ Repeats() bool }

// watchedValue is a flag's value watched by watchSets.
type watchedValue struct {
	flag.Value
	name string
	sets *flagSets
}

// errGivenTwice is the Set error of a flag given a second time (parseError
// says it in full).
var errGivenTwice = errors.New("given twice")

func (v watchedValue) Set(s string) error {
	w := v.sets
	if _, ok := w.first[v.name]; !ok {
		w.first[v.name] = s
	} else if r, ok := v.Value.(repeats); !ok || !r.Repeats() {
		w.twice, w.second = v.name, s
		return errGivenTwice
	}
	if err := v.Value.Set(s); err != nil {
		w.failed, w.value, w.setError = v.name, s, err
		return err
	}
	return nil
}

// watchedBool is the watchedValue of a true/false flag, which the flag
// package reads without a value after a space.
type watchedBool struct{ watchedValue }

func (watchedBool) IsBoolFlag() bool { return true }

// parseError is the inputError of err, the flag package's of a parse of
// fs, in the words of the command line, one line, with the flags spelt
// --name as this help and its errors spell them (the flag package's
// "flag provided but not defined: -steps", "invalid boolean value
// \"yes\" for -json: parse error" read as another program's): an
// unknown flag with the flag meant, where one is close; a flag given
// twice with both values; a value refused with the flag's words of why.
func (w *flagSets) parseError(fs *flag.FlagSet, err error) error {
	switch {
	case w.twice != "":
		return badInput("--%s is given twice, %s and %s: give it once", w.twice, flagValueText(w.first[w.twice]), flagValueText(w.second))
	case w.failed != "":
		why := w.setError.Error()
		if fl := fs.Lookup(w.failed); fl != nil && isBoolFlag(fl) {
			why = "want true or false"
		}
		return badInput("--%s %s: %s", w.failed, flagValueText(w.value), why)
	}
	text := err.Error()
	if name, ok := strings.CutPrefix(text, "flag provided but not defined: -"); ok {
		// metriclab losses names the parameters with _, their flags
		// have - (lossParamName).
		if flag := strings.ReplaceAll(name, "_", "-"); flag != name && fs.Lookup(flag) != nil {
			return badInput("unknown flag --%s: the flag is --%s", name, flag)
		}
		if near := nearFlag(fs, name); near != "" {
			return badInput("unknown flag --%s: did you mean --%s?", name, near)
		}
		return badInput("unknown flag --%s (metriclab %s -h lists its flags)", name, fs.Name())
	}
	if name, ok := strings.CutPrefix(text, "flag needs an argument: -"); ok {
		return badInput("--%s needs a value", name)
	}
	if arg, ok := strings.CutPrefix(text, "bad flag syntax: "); ok {
		return badInput("unexpected argument %s: a flag is --name or --name=value", flagValueText(arg))
	}
	return inputError{err}
}

// flagValueText is a value given to a flag as an error names it: quoted
// as Go quotes a string, so that an empty value or one with spaces at
// its edges shows.
func flagValueText(v string) string { return strconv.Quote(v) }

// nearFlag is the flag of fs that an unknown flag name was likely meant
// for: of the flags within two edits of it (fewer than its letters: --x
// is not --s) or that it starts (--epoch, --epochs), the one fewest
// edits away; "" when none is close, or several are as close.
func nearFlag(fs *flag.FlagSet, name string) string {
	near, best, ties := "", 0, 0
	fs.VisitAll(func(fl *flag.Flag) {
		d := editDistance(name, fl.Name)
		if !(d <= 2 && d < len(name) || len(name) >= 2 && strings.HasPrefix(fl.Name, name)) {
			return
		}
		switch {
		case near == "" || d < best:
			near, best, ties = fl.Name, d, 1
		case d == best:
			ties++
		}
	})
	if ties != 1 {
		return ""
	}
	return near
}

// editDistance is the Levenshtein distance of a and b: the fewest
// characters inserted, deleted or replaced that turn one into the other.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	row := make([]int, len(rb)+1)
	for j := range row {
		row[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		diag := row[0]
		row[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			diag, row[j] = row[j], min(row[j]+1, row[j-1]+1, diag+cost)
		}
	}
	return row[len(rb)]
}

// unexpandedHome refuses a flag of fs given a path that starts with the
// home folder's ~ where no folder ~ is: the shell puts the home folder
// for ~ at the start of a word alone, so --data=~/faces (= as a
// true/false flag needs it) reads ./~/faces, and the error, that it does
// not exist, leaves the user wondering why. So too a path of a list
// separated by commas (eval's and join's --model, splitPaths) after a
// comma, --model a,~/b, which the shell leaves with a space as well;
// a file whose name has a comma is a file, as loadEnsemble has it.
func unexpandedHome(fs *flag.FlagSet) error {
	var err error
	fs.Visit(func(fl *flag.Flag) {
		v := fl.Value.String()
		if err != nil || !strings.Contains(v, "~") {
			return
		}
		if _, serr := os.Stat("~"); !errors.Is(serr, os.ErrNotExist) {
			return
		}
		list, afterComma := splitPaths(v), false
		if _, serr := os.Stat(v); len(list) > 1 && serr != nil {
			for i, path := range list {
				if isHome(path) {
					afterComma = afterComma || i > 0
					list[i] = "$HOME" + path[1:]
				}
			}
		}
		switch {
		case afterComma:
			err = badInput("--%s %s: there is no folder ~ here, and the shell puts the home folder for ~ only at the start of a word, not after a comma: write --%s %s", fl.Name, v, fl.Name, strings.Join(list, ","))
		case isHome(v):
			err = badInput("--%s %s: there is no folder ~ here, and the shell puts the home folder for ~ only at the start of a word: write --%s %s (a space, not =) or --%s=$HOME%s", fl.Name, v, fl.Name, v, fl.Name, v[1:])
		}
	})
	return err
}

// isHome reports whether path starts with the home folder's ~: ~ or ~/….
func isHome(path string) bool { return path == "~" || strings.HasPrefix(path, "~/") }

// readNumbersInDecimal makes the number flags of fs read their values in
// decimal notation alone, as users write numbers, until restore puts the
// flag package's values back. The flag package reads Go's literals:
// --batch 064 is octal 52, 0x40 is 64, 1_000 is 1000; --lr 0x1p-4 is
// 0.0625, and NaN, Inf and infinity are floats.
func readNumbersInDecimal(fs *flag.FlagSet) (restore func()) {
	values := map[*flag.Flag]flag.Value{}
	fs.VisitAll(func(fl *flag.Flag) {
		if g, ok := fl.Value.(flag.Getter); ok {
			switch g.Get().(type) {
			case int, int64:
				values[fl] = fl.Value
				fl.Value = decimal{fl.Value}
			case float64:
				values[fl] = fl.Value
				fl.Value = decimalFloat{fl.Value}
			}
		}
	})
	return func() {
		for fl, v := range values {
			fl.Value = v
		}
	}
}

// decimal is an integer flag's value read in base 10 alone (a leading 0
// is no octal prefix): readNumbersInDecimal.
type decimal struct{ flag.Value }

func (d decimal) Set(s string) error {
	v, err := strconv.ParseInt(s, 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return errors.New("out of range")
	case err != nil:
		return errors.New("want a decimal integer")
	}
	return d.Value.Set(strconv.FormatInt(v, 10))
}

// decimalFloat is a float flag's value read in decimal notation alone,
// finite, -0 read as 0 (msg.ParseDecimal): readNumbersInDecimal.
type decimalFloat struct{ flag.Value }

func (d decimalFloat) Set(s string) error {
	v, err := msg.ParseDecimal(s)
	if err != nil {
		return err
	}
	return d.Value.Set(strconv.FormatFloat(v, 'g', -1, 64))
}

// isBoolFlag reports whether fl is a true/false flag, which takes no
// value after a space.
func isBoolFlag(fl *flag.Flag) bool {
	b, ok := fl.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// hasFlags reports whether fs defines a flag.
func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// flagsTableArg, the only argument of a command, prints the command's
// flags as the markdown table of the README (which a test holds to it)
// instead of running it.
const flagsTableArg = "--flags-table"

// writeFlagsTable writes the flags of fs as a markdown table: name,
// default (– where the default is the zero value, as flag.PrintDefaults
// leaves it out, but for a 0 whose meaning the usage gives: "`0`: one per
// CPU"), and the flag's own usage text.
func writeFlagsTable(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "| flag | default | meaning |\n|---|---|---|\n")
	fs.VisitAll(func(f *flag.Flag) {
		def := "–"
		switch f.DefValue {
		case "0":
			if m := zeroMeaning.FindStringSubmatch(f.Usage); m != nil {
				def = "`0`: " + mdCell(strings.TrimSpace(m[1]))
			}
		case "", "false":
		default:
			def = "`" + f.DefValue + "`"
		}
		fmt.Fprintf(w, "| `--%s` | %s | %s |\n", f.Name, def, mdCell(f.Usage))
	})
}

// zeroMeaning finds what 0 means in a flag's usage: "0: X" at the start
// of a clause (after "(", ";" or ","), X up to the clause's end or an
// aside ("0: half of this machine's memory (or of its cgroup's limit; …)"
// gives "half of this machine's memory").
var zeroMeaning = regexp.MustCompile(`(?:^|[(;,] ?)0: ([^;,()]+)`)

// mdCell is s as a cell of a markdown table row: a | escaped (it would
// end the cell), and a line break or other control character a space (it
// would end the row).
func mdCell(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.ReplaceAll(s, "|", `\|`)
}
