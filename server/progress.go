package main

import (
	"fmt"
	"image"
	"io"
	"os"
	"strings"
	"time"

	"metriclab/core"
	"metriclab/core/data"
)

// progressBar draws training progress on one terminal line, at most ten
// times a second; off a terminal (or on a dumb one: isTerminal) it prints
// a line at each tenth of an epoch of 20 steps or more and when
// logInterval has passed since the last line, then one as the epoch
// ends: a log shows that a long epoch goes on.
type progressBar struct {
	w        io.Writer
	terminal bool
	last     time.Time // of the last redraw; off a terminal, of the last line (or the first step)
	label    string    // before the bar: which run of several
	live     bool      // a bar is drawn, its line not ended
}

func newProgressBar(w io.Writer, terminal bool) *progressBar {
	return &progressBar{w: w, terminal: terminal}
}

// logInterval is the longest a log (progress off a terminal) goes
// without a line while a training steps.
const logInterval = 30 * time.Second

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
		b.last = time.Now()
		return
	}
	if !b.terminal {
		if b.last.IsZero() {
			b.last = time.Now() // the first step: the interval counts from it
		}
		tenth := p.Steps / 10
		if tenth >= 2 && p.Step%tenth == 0 || time.Since(b.last) >= logInterval {
			fmt.Fprintf(b.w, "epoch %d: step %d/%d loss %.4f %.0f img/s\n", p.Epoch, p.Step, p.Steps, p.Loss, p.ImgPerS)
			b.last = time.Now()
		}
		return
	}
	if !b.due() {
		return
	}
	left := time.Duration(float64(p.Steps-p.Step) * p.ElapsedS / float64(max(p.Step, 1)) * float64(time.Second))
	b.draw(p.Step, p.Steps, fmt.Sprintf("loss %.4f %.0f img/s ETA %s", p.Loss, p.ImgPerS, left.Round(time.Second)))
}

// due reports whether the bar's line is to be redrawn: on a terminal, at
// most ten times a second.
func (b *progressBar) due() bool {
	return b.terminal && time.Since(b.last) >= 100*time.Millisecond
}

// draw redraws the bar's line (when due): step of steps, then figures.
func (b *progressBar) draw(step, steps int, figures string) {
	b.last, b.live = time.Now(), true
	const width = 30
	done := width * step / max(steps, 1)
	label, bar := []rune(b.label), fmt.Sprintf("[%s%s] %d/%d %s",
		strings.Repeat("=", done), strings.Repeat(" ", width-done), step, steps, figures)
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
// compare), on stderr w: on a terminal (terminal: isTerminal(w), not
// under --json), a live line of the run's steps
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

// baselineProgress tells that baseline row i (from 1) of n, named name,
// of openset or compare starts (raw pixels with a metric: its fit, then
// its evaluation; 40 s for openset's three on MNIST), on stderr w: off a
// terminal (terminal: isTerminal(w), not under --json), one line, as
// runProgress's as a run starts; on a terminal, nothing, as the fit's
// and the retrieval's live lines (fitProgress, evalProgress) show it.
func baselineProgress(w io.Writer, terminal bool, i, n int, name string) {
	if !terminal {
		fmt.Fprintf(w, "evaluating baseline %d/%d %s\n", i, n, name)
	}
}

// fitProgress is the progress of fitting a metric, named name, that
// learns in steps (--metric linear: NCA, eval.LearnOptions.Progress), on
// stderr w: on a terminal (terminal: isTerminal(w), not under --json,
// as train's bar), a live line of the steps and the objective,
// cleared by done; off a terminal, nothing (report is nil), as the fit
// ends in a minute or so and its figures are in what follows. Step 0 is
// the initial W's (PCA of raw pixels: a third of the fit on MNIST), so
// the time left is measured from step 1.
func fitProgress(w io.Writer, terminal bool, name string) (report func(step, steps int, objective float64), done func()) {
	if !terminal {
		return nil, func() {}
	}
	b := &progressBar{w: w, terminal: true, label: "fitting " + name + " "}
	var first time.Time // of step 1
	return func(step, steps int, objective float64) {
			if step == 1 {
				first = time.Now()
			}
			if !b.due() {
				return
			}
			figures := "initial W"
			switch {
			case step == 1:
				figures = fmt.Sprintf("objective %.4f", objective)
			case step > 1:
				left := time.Duration(float64(steps-step) * float64(time.Since(first)) / float64(step-1))
				figures = fmt.Sprintf("objective %.4f ETA %s", objective, left.Round(time.Second))
			}
			b.draw(step, steps, figures)
		}, func() {
			if b.live {
				fmt.Fprint(w, "\r\033[K")
			}
		}
}

// evalProgress is the progress of an evaluation's retrieval
// (eval.Options.Progress), its longest part (MNIST's 10,000 test images
// as raw pixels: 20 s), or of --expand's as long similarities
// (eval.Expand), on stderr w: on a terminal (terminal: isTerminal(w),
// not under --json), a live line, label then a bar of the rows
// done, named unit ("queries"), cleared by done (which may be called
// after each of several evaluations: openset's rows); off a terminal,
// nothing (report is nil), as fitProgress. The time left is measured
// from row 0.
func evalProgress(w io.Writer, terminal bool, label, unit string) (report func(done, total int), done func()) {
	if !terminal {
		return nil, func() {}
	}
	b := &progressBar{w: w, terminal: true, label: label + " "}
	var start time.Time // of row 0
	return func(done, total int) {
			if done == 0 { // an evaluation starts: its line is drawn
				start, b.last = time.Now(), time.Time{}
			}
			if !b.due() {
				return
			}
			figures := unit
			if done > 0 {
				left := time.Duration(float64(total-done) * float64(time.Since(start)) / float64(done))
				figures = fmt.Sprintf("%s ETA %s", unit, left.Round(time.Second))
			}
			b.draw(done, total, figures)
		}, func() {
			if b.live {
				fmt.Fprint(w, "\r\033[K")
				b.live = false
			}
		}
}

// warmupProgress is the progress of bench's warm-up (5 steps of a model
// of 100,000 classes and batch 4096 on the CPU: two minutes), on stderr
// w: on a terminal (terminal: isTerminal(w), not under --json), a live
// line of the steps done, cleared by done; off a terminal, nothing, as
// bench's line before it says how many steps it runs. The time left is
// measured from step 0.
func warmupProgress(w io.Writer, terminal bool) (report func(step, steps int), done func()) {
	if !terminal {
		return func(int, int) {}, func() {}
	}
	b := &progressBar{w: w, terminal: true, label: "warming up "}
	var start time.Time
	return func(step, steps int) {
			if step == 0 {
				start = time.Now()
			}
			if !b.due() {
				return
			}
			figures := "steps"
			if step > 0 {
				left := time.Duration(float64(steps-step) * float64(time.Since(start)) / float64(step))
				figures = fmt.Sprintf("steps ETA %s", left.Round(time.Second))
			}
			b.draw(step, steps, figures)
		}, func() {
			if b.live {
				fmt.Fprint(w, "\r\033[K")
				b.live = false
			}
		}
}

// alignProgress wraps align so that a live line on the terminal w counts
// the alignments done, a photo's or a turned version's each (a face found
// and aligned, or not: about 60 a second on ORL's 400 photos here, each
// with its --align-turns versions), at most ten times a second; done clears
// it, before the load's line tells what was aligned. No total is shown:
// the photos of a split, and which are turned, are the load's to count.
func alignProgress(w io.Writer, align data.Aligner) (counted data.Aligner, done func()) {
	b := &progressBar{w: w, terminal: true}
	n := 0
	return func(dst []float32, img image.Image, in core.Input) ([]float32, string) {
			if n++; b.due() {
				b.last, b.live = time.Now(), true
				fmt.Fprintf(w, "\raligning faces: %d done\033[K", n-1)
			}
			return align(dst, img, in)
		}, func() {
			if b.live {
				fmt.Fprint(w, "\r\033[K")
			}
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

// embedProgress is the progress of a model's embedding of a data set
// (job.EmbedSetProgress), eval's longest part (MNIST's 10,000 test images:
// 35 s with lenetpp), on the terminal w, nil off a terminal or under
// --json (nothing drawn then, as evalProgress off a terminal): a live
// line, "embedding", member (which model of an ensemble, " (model 2/3)",
// or ""), then a bar of the images embedded, cleared by done.
func embedProgress(w io.Writer, member string) (report func(done, total int), done func()) {
	return evalProgress(w, w != nil, "embedding"+member, "images")
}
