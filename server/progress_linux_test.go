//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// openPty opens a pseudo-terminal: tty, the terminal a command writes to
// (isTerminal holds for it: TERM is set to xterm for the test, whatever
// the terminal the tests run in), and read, which returns what was
// written to it so far (the line discipline's \r\n for \n included)
// once tty is closed.
func openPty(t *testing.T) (tty *os.File, read func() string) {
	t.Helper()
	t.Setenv("TERM", "xterm")
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { ptm.Close() })
	if err := unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(int(ptm.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	var mu sync.Mutex
	var got bytes.Buffer
	done := make(chan struct{})
	go func() { // read as it is written: a full terminal blocks its writer
		defer close(done)
		b := make([]byte, 4096)
		for {
			n, err := ptm.Read(b)
			mu.Lock()
			got.Write(b[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return tty, func() string {
		tty.Close() // the reader then gets EIO
		<-done
		mu.Lock()
		defer mu.Unlock()
		return got.String()
	}
}

// stopAfter is a context that is cancelled from its nth Err on (train
// asks before each step): an interrupt at a known step.
type stopAfter struct {
	context.Context
	n int
}

func (c *stopAfter) Err() error {
	if c.n--; c.n <= 0 {
		return context.Canceled
	}
	return nil
}

// onTerminal runs the command args with a pseudo-terminal as its stderr
// and stdout as given, and returns its exit status and what the terminal
// got.
func onTerminal(t *testing.T, stdout io.Writer, args ...string) (code int, got string) {
	t.Helper()
	tty, read := openPty(t)
	code = run(context.Background(), args, stdout, tty)
	return code, read()
}

// quietUnderJSON runs the command args with --json on a terminal and
// wants it to succeed and write nothing there, as train's --json does.
func quietUnderJSON(t *testing.T, args ...string) {
	t.Helper()
	if code, got := onTerminal(t, new(bytes.Buffer), append(args, "--json")...); code != 0 || got != "" {
		t.Errorf("--json: exit %d, terminal %q: want nothing", code, got)
	}
}

// startLine is a live line of evalProgress as first drawn: its label, an
// empty bar and 0 of n units.
func startLine(label string, n int, unit string) string {
	return fmt.Sprintf("\r%s [%s] 0/%d %s\033[K", label, strings.Repeat(" ", 30), n, unit)
}

// TestTrainInterruptOnTerminal: on a terminal, Ctrl-C in the middle of an
// epoch ends the live progress line before train says it was interrupted
// (before, "metriclab train: interrupted, nothing written" was written on
// the bar's line, after its ETA).
func TestTrainInterruptOnTerminal(t *testing.T) {
	dir := t.TempDir()
	writePatterns(t, dir) // 3 identities of 8 images: 6 steps of 4 an epoch
	tty, read := openPty(t)
	out := filepath.Join(dir, "m.safetensors")
	var stdout bytes.Buffer
	ctx := &stopAfter{Context: context.Background(), n: 3} // after 2 steps
	code := run(ctx, []string{"train", "--data", dir, "--split", "all", "--input", "1x16x16", "--arch", "mlp", "--batch", "4", "--val", "0", "--epochs", "1", "--out", out}, &stdout, tty)
	got := read()
	if code != 130 || !strings.Contains(got, "] 1/6 loss") || !strings.HasSuffix(got, "\r\nmetriclab train: interrupted, nothing written\r\n") {
		t.Errorf("exit %d, terminal %q: want 130, the bar, then the interrupt on a line of its own", code, got)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s after an interrupted train: %v", out, err)
	}
}

// TestAlignOnTerminal: on a terminal, a load that aligns faces (train
// --align, here with --align-turns, a minute or more on ORL) counts its
// alignments on a live line, cleared before the line that tells what was
// aligned (before, silence until that line); under --json nothing is
// drawn, as train's --json draws no bar.
func TestAlignOnTerminal(t *testing.T) {
	args := []string{"train", "--data", filepath.Join("testdata", "orl", "seen"), "--split", "all", "--align", "--align-turns", "1", "--input", "1x32x32",
		"--arch", "mlp", "--batch", "8", "--epochs", "1", "--out", filepath.Join(t.TempDir(), "m.safetensors")}
	code, got := onTerminal(t, new(bytes.Buffer), args...)
	if first := "\raligning faces: 0 done\033[K"; code != 0 || !strings.HasPrefix(got, first) || !strings.Contains(got, "\033[K\r\033[Kalign testdata/orl/seen (all): ") {
		t.Errorf("exit %d, terminal %q: want the alignments counted, cleared before the line of what was aligned", code, got)
	}
	code, got = onTerminal(t, new(bytes.Buffer), append(args, "--json")...)
	if code != 0 || strings.Contains(got, "aligning faces") {
		t.Errorf("--json: exit %d, terminal %q: want no live line", code, got)
	}
}

// TestProgressFitsTheTerminal: the live line of a bar is cut to the
// terminal's width (before, a long one, a run's name before the bar of
// openset or compare, or the bar alone at 40 columns, wrapped, and every
// redraw, going back to the start of its last row only, left a row
// behind).
func TestProgressFitsTheTerminal(t *testing.T) {
	tty, read := openPty(t)
	if err := unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 40}); err != nil {
		t.Skipf("cannot size the pseudo-terminal: %v", err)
	}
	if !isTerminal(tty) {
		t.Fatal("a pseudo-terminal is not a terminal")
	}
	p := progress{Epoch: 1, Step: 10, Steps: 4000, Loss: 12.5, ImgPerS: 1234, ElapsedS: 10}
	report, done := runProgress(tty, true, 1, 3, "preset face-photos, augment=none turns=0 embed-bn=false")
	report(p)
	done()
	newProgressBar(tty, true).update(p)
	// 100 columns: the run's name is cut, its bar and figures kept; at 40,
	// the name is gone and the bar's end.
	if err := unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 100}); err != nil {
		t.Fatal(err)
	}
	report, done = runProgress(tty, true, 2, 3, "preset face-photos, augment=none turns=0 embed-bn=false")
	report(p)
	done()
	got := read()
	if !strings.HasPrefix(got, "\r[                              ] 10/400") ||
		!strings.Contains(got, "\r2/3 preset face-photo… [                              ] 10/4000 loss 12.5000 1234 img/s ETA 1h6m30s\033[K") {
		t.Fatalf("terminal %q: want the runs' bars and train's", got)
	}
	for i, line := range strings.Split(got, "\r") {
		if n, cols := len([]rune(strings.TrimSuffix(line, "\033[K"))), map[bool]int{true: 40, false: 100}[i < 4]; n >= cols {
			t.Errorf("a line of %d columns on a terminal of %d: %q", n, cols, line)
		}
	}
}

// TestTrainOnADumbTerminal: on a terminal whose TERM is dumb, train
// prints the plain lines it prints to a file, one an epoch (before, the
// bar's \r redraws and the escape that clears a line, which a dumb
// terminal shows as they are); openset's and compare's runs ask
// isTerminal too.
func TestTrainOnADumbTerminal(t *testing.T) {
	dir := t.TempDir()
	writePatterns(t, dir) // 3 identities of 8 images: 6 steps of 4 an epoch
	tty, read := openPty(t)
	t.Setenv("TERM", "dumb")
	if isTerminal(tty) {
		t.Error("isTerminal holds for a dumb terminal")
	}
	var stdout bytes.Buffer
	code := run(context.Background(), []string{"train", "--data", dir, "--split", "all", "--input", "1x16x16", "--arch", "mlp", "--batch", "4", "--val", "0", "--epochs", "2", "--out", filepath.Join(dir, "m.safetensors")}, &stdout, tty)
	got := read()
	if code != 0 || strings.ContainsAny(strings.ReplaceAll(got, "\r\n", "\n"), "\r\033") || strings.Count(got, "epoch ") != 2 {
		t.Errorf("exit %d, dumb terminal %q: want 0 and a plain line an epoch", code, got)
	}
}

// TestEvalLinearFitOnTerminal: on a terminal, eval --metric linear shows
// NCA's fit as a live line of its steps and objective, cleared when the
// fit ends (before, a minute of silence on MNIST); --json keeps the
// terminal quiet, as train's does.
func TestEvalLinearFitOnTerminal(t *testing.T) {
	dir := t.TempDir()
	writePatterns(t, dir) // 3 identities of 8 images
	writeOtherShapes(t, dir, 8)
	// NCA fits on c and other-vertical (one identity alone is refused):
	// 20 steps of 1 batch.
	args := []string{"eval", "--model", "raw", "--data", dir, "--split", "all", "--classes", "a,b", "--fit-classes", "c,other-vertical", "--input", "1x16x16", "--metric", "linear"}
	code, got := onTerminal(t, new(bytes.Buffer), args...)
	if code != 0 || !strings.HasPrefix(got, "\rfitting linear (NCA) [") || !strings.Contains(got, "] 0/20 initial W\033[K") ||
		!strings.HasSuffix(got, "\r\033[K") || strings.Contains(got, "\n") {
		t.Errorf("exit %d, terminal %q: want the fit's line, cleared", code, got)
	}
	quietUnderJSON(t, args...)
}

// TestEvalOnTerminal: on a terminal, eval shows its retrieval, an N×N
// similarity (20 s on MNIST as raw pixels), as a live line of the queries
// ranked, cleared when it ends (before, silence); --json keeps the
// terminal quiet, as train's does.
func TestEvalOnTerminal(t *testing.T) {
	dir := t.TempDir()
	writePatterns(t, dir) // 3 identities of 8 images: 24 queries
	args := []string{"eval", "--model", "raw", "--data", dir, "--split", "all", "--input", "1x16x16"}
	code, got := onTerminal(t, new(bytes.Buffer), args...)
	if code != 0 || !strings.HasPrefix(got, startLine("evaluating retrieval", 24, "queries")) ||
		!strings.HasSuffix(got, "\r\033[K") || strings.Contains(got, "\n") {
		t.Errorf("exit %d, terminal %q: want retrieval's line, cleared", code, got)
	}
	quietUnderJSON(t, args...)
}

// TestEvalExpandOnTerminal: on a terminal, eval --expand shows its
// expansion, N×N similarities as long as retrieval's, as a live line of
// the images expanded, cleared before retrieval's (before, silence as
// long as retrieval's); --json keeps the terminal quiet.
func TestEvalExpandOnTerminal(t *testing.T) {
	dir := t.TempDir()
	writePatterns(t, dir) // 3 identities of 8 images
	args := []string{"eval", "--model", "raw", "--data", dir, "--split", "all", "--input", "1x16x16", "--expand", "2"}
	code, got := onTerminal(t, new(bytes.Buffer), args...)
	if code != 0 || !strings.HasPrefix(got, startLine("expanding (K = 2)", 24, "images")) ||
		!strings.Contains(got, "\033[K\r\033[K\revaluating retrieval [") ||
		!strings.HasSuffix(got, "\r\033[K") || strings.Contains(got, "\n") {
		t.Errorf("exit %d, terminal %q: want the expansion's line, cleared, then retrieval's", code, got)
	}
	quietUnderJSON(t, args...)
}

// TestOpenSetEvalOnTerminal: on a terminal, openset shows each row's
// retrieval as eval does, cleared before the row is written (before,
// silence between a run's training and its row: a few seconds a row on
// MNIST's unseen digits), and the expansion of each expanded row before
// it (before, silence as long as retrieval's). Under --json it draws no
// live line, as eval's: the terminal gets what a file gets, a line as
// each baseline row and the run start (before, every bar).
func TestOpenSetEvalOnTerminal(t *testing.T) {
	folder := sixIdentities(t) // 36 images of 3 unseen identities evaluated
	args := []string{"openset", "--data", folder, "--input", "1x16x16", "--arch", "mlp", "--epochs", "1", "--batch", "8", "--threads", "1", "--expand", "2"}
	code, got := onTerminal(t, new(bytes.Buffer), args...)
	// 6 rows: raw pixels' three metrics and cosine expanded, then the
	// run's, and expanded.
	if code != 0 || strings.Count(got, startLine("evaluating retrieval", 36, "queries")) != 6 ||
		strings.Count(got, startLine("expanding (K = 2)", 36, "images")) != 2 ||
		!strings.HasSuffix(got, "\r\033[K") || strings.Contains(got, "\n") {
		t.Errorf("exit %d, terminal %q: want each row's retrieval and each expansion, cleared", code, got)
	}
	want := baselineLines + "training 1/1 mlp\r\n"
	if code, got := onTerminal(t, new(bytes.Buffer), append(args, "--json")...); code != 0 || got != want {
		t.Errorf("--json: exit %d, terminal %q: want %q, the baselines' lines and the run's", code, got, want)
	}
}

// TestCompareEvalOnTerminal: on a terminal, compare shows each of its
// evaluations' retrieval as openset does, a line cleared as it ends
// (before, silence: 20 s for each of MNIST's closed-set evaluations). On
// a small MNIST of its own ($METRICLAB_MNIST): 60 test images, 30 of the
// open set's classes 5-9; the baselines alone, each a closed and an open
// evaluation. --json keeps the terminal quiet, as eval's does (before, it
// drew every bar; compare's runs and baseline rows get a line each, as
// openset's).
func TestCompareEvalOnTerminal(t *testing.T) {
	dir := t.TempDir()
	writeSmallMNIST(t, dir, 6)
	t.Setenv("METRICLAB_MNIST", dir)
	args := []string{"compare", "--losses", "none"}
	code, got := onTerminal(t, new(bytes.Buffer), args...)
	closed, open := startLine("evaluating retrieval", 60, "queries"), startLine("evaluating retrieval", 30, "queries")
	if code != 0 || !strings.HasPrefix(got, closed) || strings.Index(got, open) < len(closed) ||
		strings.Count(got, closed) != 3 || strings.Count(got, open) != 3 ||
		!strings.HasSuffix(got, "\r\033[K") || strings.Contains(got, "\n") {
		t.Errorf("exit %d, terminal %q: want the closed and open sets' retrieval of each baseline, each cleared", code, got)
	}
	if code, got := onTerminal(t, new(bytes.Buffer), append(args, "--json")...); code != 0 || got != baselineLines {
		t.Errorf("--json: exit %d, terminal %q: want %q, the baselines' lines alone", code, got, baselineLines)
	}
}

// baselineLines is what openset's and compare's baselines write on a
// terminal under --json, as in a file (baselineProgress).
const baselineLines = "evaluating baseline 1/3 raw pixels, cosine\r\n" +
	"evaluating baseline 2/3 raw pixels, PCA + whitening\r\n" +
	"evaluating baseline 3/3 raw pixels, linear (NCA)\r\n"

// TestEvalEmbeddingOnTerminal: on a terminal, eval shows its embedding of
// the images, its longest part (35 s on MNIST with lenetpp), as a live
// line of the images embedded, cleared before retrieval's (before,
// silence); each model of an ensemble has its line, which says which;
// --json keeps the terminal quiet.
func TestEvalEmbeddingOnTerminal(t *testing.T) {
	trainDir, evalDir := t.TempDir(), t.TempDir() // other folders: eval says nothing of images trained on
	writePatterns(t, trainDir)
	writePatterns(t, evalDir) // 3 identities of 8 images: 24 embedded
	a, b := filepath.Join(trainDir, "a.safetensors"), filepath.Join(trainDir, "b.safetensors")
	for i, out := range []string{a, b} {
		args := []string{"train", "--data", trainDir, "--split", "all", "--input", "1x16x16", "--arch", "mlp", "--dim", "4", "--batch", "8", "--val", "0", "--epochs", "1", "--seed", fmt.Sprint(i + 1), "--out", out}
		if code, _, stderr := runCLI(t, args...); code != 0 {
			t.Fatalf("train: exit %d: %s", code, stderr)
		}
	}
	args := []string{"eval", "--model", a, "--data", evalDir, "--split", "all"}
	code, got := onTerminal(t, new(bytes.Buffer), args...)
	if code != 0 || !strings.HasPrefix(got, startLine("embedding", 24, "images")) ||
		!strings.Contains(got, "\033[K\r\033[K\revaluating retrieval [") || strings.Contains(got, "\n") {
		t.Errorf("exit %d, terminal %q: want the embedding's line, cleared, then retrieval's", code, got)
	}
	quietUnderJSON(t, args...)
	code, got = onTerminal(t, new(bytes.Buffer), "eval", "--model", a+","+b, "--data", evalDir, "--split", "all")
	if code != 0 || !strings.HasPrefix(got, startLine("embedding (model 1/2)", 24, "images")) || !strings.Contains(got, startLine("embedding (model 2/2)", 24, "images")) {
		t.Errorf("an ensemble: exit %d, terminal %q: want each model's embedding", code, got)
	}
}

// TestBenchWarmupOnTerminal: on a terminal, bench's warm-up draws a live
// line of its steps, cleared before the result (before, "warming up: 5
// steps" and nothing else: two minutes of silence for a head of 100,000
// classes at batch 4096); under --json nothing is drawn.
func TestBenchWarmupOnTerminal(t *testing.T) {
	args := []string{"bench", "--arch", "mlp", "--batch", "8", "--threads", "1", "--warmup", "3", "--seconds", "0.01"}
	code, got := onTerminal(t, new(bytes.Buffer), args...)
	if want := "warming up: 3 steps, then measuring for 0.01 s\r\n" + startLine("warming up", 3, "steps"); code != 0 || !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "\r\033[K") {
		t.Errorf("exit %d, terminal %q: want the warm-up's steps on a live line, cleared", code, got)
	}
	if code, got := onTerminal(t, new(bytes.Buffer), append(args, "--json")...); code != 0 || strings.Contains(got, "\033[K") {
		t.Errorf("--json: exit %d, terminal %q: want no live line", code, got)
	}
}
