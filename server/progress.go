package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progressBar draws training progress on one terminal line, at most ten
// times a second; off a terminal (or on a dumb one: isTerminal) it prints
// one line per epoch.
type progressBar struct {
	w        io.Writer
	terminal bool
	last     time.Time
	label    string // before the bar: which run of several
	live     bool   // a bar is drawn, its line not ended
}

func newProgressBar(w io.Writer, terminal bool) *progressBar {
	return &progressBar{w: w, terminal: terminal}
}

func (b *progressBar) update(p progress) {
	if p.EpochEnd {
		if b.terminal {
			fmt.Fprint(b.w, "\r\033[K")
			b.live = false
		}
		fmt.Fprintf(b.w, "epoch %d: step %d/%d loss %.4f %.0f img/s", p.Epoch, p.Step, p.Steps, p.Loss, p.ImgPerS)
		if p.ValAccuracy != nil {
			fmt.Fprintf(b.w, " | held-out verification acc %.4f EER %.4f, nearest-centre acc %.4f", *p.ValAccuracy, *p.ValEER, *p.ValClosedSetAcc)
		}
		fmt.Fprintln(b.w)
		return
	}
	if !b.terminal || time.Since(b.last) < 100*time.Millisecond {
		return
	}
	b.last, b.live = time.Now(), true
	const width = 30
	done := width * p.Step / max(p.Steps, 1)
	left := time.Duration(float64(p.Steps-p.Step) * p.ElapsedS / float64(max(p.Step, 1)) * float64(time.Second))
	label, bar := []rune(b.label), fmt.Sprintf("[%s%s] %d/%d loss %.4f %.0f img/s ETA %s",
		strings.Repeat("=", done), strings.Repeat(" ", width-done), p.Step, p.Steps, p.Loss, p.ImgPerS, left.Round(time.Second))
	line := string(label) + bar
	// A line wider than the terminal wraps, and \r goes back to the start
	// of its last row only: every redraw would leave a row behind. It is
	// cut short of the last column (which wraps on some terminals): the
	// label first, then the bar's end.
	if cols := termWidth(b.w); cols > 1 {
		if over := len(label) + len([]rune(bar)) - (cols - 1); over > 0 {
			if keep := len(label) - over - 2; keep > 0 {
				line = string(label[:keep]) + "… " + bar
			} else {
				line = string([]rune(bar)[:min(len([]rune(bar)), cols-1)])
			}
		}
	}
	fmt.Fprintf(b.w, "\r%s\033[K", line)
}

// end ends the line of a bar still drawn (a training stopped in the
// middle of an epoch: an error, Ctrl-C), so that what follows starts a
// line of its own, below the bar's last state.
func (b *progressBar) end() {
	if b.live {
		fmt.Fprintln(b.w)
		b.live = false
	}
}

// runProgress is the progress of run i (from 1) of n, named name, of a
// command that trains several and prints a table row after each (openset,
// compare), on stderr w: on a terminal (terminal: isTerminal(w)), a live line of the run's steps
// with the run's number and name before the bar, cleared by done; off a
// terminal, one line when the run starts (no line per epoch: the rows are
// the record).
func runProgress(w io.Writer, terminal bool, i, n int, name string) (report func(progress), done func()) {
	label := fmt.Sprintf("%d/%d %s ", i, n, name)
	if !terminal {
		fmt.Fprintf(w, "training %s\n", strings.TrimSpace(label))
		return func(progress) {}, func() {}
	}
	b := &progressBar{w: w, terminal: true, label: label}
	return func(p progress) {
			p.EpochEnd = false // the step drawn, no epoch line
			b.update(p)
		}, func() {
			fmt.Fprint(w, "\r\033[K")
		}
}

// isTerminal reports whether w is a terminal that can redraw a line: a
// character device, unless TERM is dumb. A dumb terminal (an editor's
// shell buffer, say) need not go back to the start of a line or clear it:
// the bar's \r and escape would show as they are, so it gets the plain
// lines that a file gets.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
