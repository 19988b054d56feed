//go:build !js

package jobs

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"metriclab/core"
	"metriclab/core/data"
	"metriclab/core/job"
	"metriclab/core/msg"
	"metriclab/core/safetensors"
	"metriclab/server/api/store"
)

// barSet is a data set of classes classes of perClass 1×8×8 images, class
// c bright in its own rows: an mlp separates them in a few steps.
func barSet(classes, perClass int) *data.Set {
	in := core.Input{Channels: 1, Height: 8, Width: 8}
	s := &data.Set{N: classes * perClass, Input: in}
	for c := range classes {
		s.Classes = append(s.Classes, fmt.Sprintf("c%d", c))
	}
	for i := range s.N {
		c := i % classes
		for p := range in.Size() {
			v := 0.05 * float32((i*7+p*3)%5)
			if (p/8)%classes == c {
				v += 0.8
			}
			s.X = append(s.X, v)
		}
		s.Labels = append(s.Labels, c)
	}
	return s
}

// storeWithoutModels opens a store in a new folder dir with a file where
// its models go, at models: no run can save its model, so each keeps it as
// a checkpoint and ends interrupted, until models is made a folder.
func storeWithoutModels(t *testing.T) (st *store.Store, dir, models string) {
	t.Helper()
	dir = t.TempDir()
	st, _, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	models = filepath.Join(dir, "models")
	if err := os.Remove(models); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(models, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return st, dir, models
}

// barRunner returns a Runner of st, not started, whose data sets are bar
// sets of 3 classes (barSet) and whose progress is not published.
func barRunner(st *store.Store) *Runner {
	load := barLoad
	return New(Config{Store: st, Load: load, Options: job.Options{SnapshotPoints: 12, SnapshotPairs: 6},
		ProgressEvery: time.Hour, Logger: log.New(io.Discard, "", 0)})
}

// waitEnded returns job id of st once it is neither queued nor running.
func waitEnded(t *testing.T, st *store.Store, id string) store.Job {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if j, err := st.Job(id); err == nil && j.State != store.StateQueued && j.State != store.StateRunning {
			return j
		}
	}
	t.Fatalf("job %s did not end", id)
	return store.Job{}
}

// TestResumeAsRunEnds resumes a job in the moment between the end of the
// run that left it interrupted (its model could not be saved) and that
// run's letting go of it. A watcher of the resumed job follows it to its
// end: the old run's cleanup removed the resumed job's hub, and the
// watcher, on a hub no run published to, got nothing and was never closed.
func TestResumeAsRunEnds(t *testing.T) {
	// The first run cannot save its model, keeps it as a checkpoint and
	// ends interrupted.
	st, _, models := storeWithoutModels(t)
	defer st.Close()
	r := barRunner(st)
	var (
		runs       int
		resumeErr  error
		watch      <-chan msg.Message
		resumedEnd = make(chan struct{})
	)
	r.ended = func(id string) { // on the worker, between the runs
		runs++
		switch runs {
		case 1:
			if err := os.Remove(models); err != nil {
				t.Error(err)
			}
			if err := os.Mkdir(models, 0o755); err != nil {
				t.Error(err)
			}
			_, resumeErr = r.Resume(id, "c", 0)
			_, watch, _, _ = r.Subscribe(id)
		case 2:
			close(resumedEnd)
		}
	}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	req := barRequest(1)
	j, err := r.Submit("c", req, 0)
	if err != nil {
		t.Fatal(err)
	}
	<-resumedEnd
	if resumeErr != nil || watch == nil {
		t.Fatalf("resume as the run ended: %v, watcher's channel %v", resumeErr, watch)
	}
	// The resumed run has finished its hub: what it published is buffered,
	// and the channel closed after the final state.
	var got []string
	for open := true; open; {
		select {
		case m, ok := <-watch:
			if open = ok; ok {
				got = append(got, m.Type+" "+m.State)
			}
		default:
			t.Fatalf("the resumed job's watcher got %q and is still open, want its messages to the final state", got)
		}
	}
	if len(got) == 0 || got[len(got)-1] != msg.TypeState+" "+store.StateDone {
		t.Errorf("the resumed job's watcher got %q, want its messages to the final state %s", got, store.StateDone)
	}
	if j, err := r.Job(j.ID); err != nil || j.State != store.StateDone || j.ModelID == "" {
		t.Errorf("the resumed job: %+v, %v; want done with its model", j, err)
	}
}

// TestCheckpointUnreadable resumes jobs whose checkpoint cannot be read.
// One that exists but gives a read error (a folder in its place here, as a
// failing disk would) leaves the job interrupted with its checkpoint, and
// says so without the server's paths; once the file is back, the job
// resumes to its end. Before, the job failed, showing the read error with
// the checkpoint's path, and its checkpoint was removed. One whose file is
// missing fails with a reason (it was "internal error").
func TestCheckpointUnreadable(t *testing.T) {
	dir := t.TempDir()
	st, _, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	load := barLoad
	newRunner := func() *Runner {
		r := New(Config{Store: st, Load: load, Options: job.Options{SnapshotPoints: 12, SnapshotPairs: 6},
			CheckpointEvery: 10, ProgressEvery: time.Hour, Logger: log.New(io.Discard, "", 0)})
		if err := r.Start(); err != nil {
			t.Fatal(err)
		}
		return r
	}
	// wait returns job id once its row says ok, or fails the test.
	wait := func(id string, ok func(store.Job) bool) store.Job {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if j, err := st.Job(id); err == nil && ok(j) {
				return j
			}
		}
		j, _ := st.Job(id)
		t.Fatalf("job %s: %+v, not the state awaited", id, j)
		return j
	}
	ended := func(j store.Job) bool { return j.State != store.StateQueued && j.State != store.StateRunning }
	// Two jobs, each interrupted by a stop with a checkpoint (of 200 steps).
	req := barRequest(50)
	var ids []string
	for range 2 {
		r := newRunner()
		j, err := r.Submit("c", req, 0)
		if err != nil {
			t.Fatal(err)
		}
		wait(j.ID, func(j store.Job) bool { return j.CkptStep >= 20 || ended(j) })
		r.Close()
		if j = wait(j.ID, ended); j.State != store.StateInterrupted || j.Checkpoint == "" {
			t.Fatalf("job stopped: %+v, want interrupted with a checkpoint", j)
		}
		ids = append(ids, j.ID)
	}
	j, _ := st.Job(ids[0])
	path, _ := st.CheckpointPath(j)
	ckpt, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	j2, _ := st.Job(ids[1])
	path2, _ := st.CheckpointPath(j2)
	if err := os.Remove(path2); err != nil {
		t.Fatal(err)
	}

	r := newRunner()
	defer r.Close()
	for _, id := range ids {
		if _, err := r.Resume(id, "c", 0); err != nil {
			t.Fatal(err)
		}
	}
	j = wait(ids[0], ended)
	if j.State != store.StateInterrupted || j.Checkpoint == "" || !strings.Contains(j.Error, "the checkpoint could not be read") || strings.Contains(j.Error, dir) {
		t.Errorf("a checkpoint that cannot be read: the job is %s (checkpoint %q) with error %q; want interrupted with its checkpoint, and no path", j.State, j.Checkpoint, j.Error)
	}
	if j := wait(ids[1], ended); j.State != store.StateFailed || j.Error != "checkpoint: its file is missing (removed while the server ran)" {
		t.Errorf("a missing checkpoint: the job is %s with error %q; want failed, saying so", j.State, j.Error)
	}

	// The file back: the job goes on from it to its end.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, ckpt, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resume(ids[0], "c", 0); err != nil {
		t.Fatal(err)
	}
	if j := wait(ids[0], ended); j.State != store.StateDone || j.Step != j.Steps || j.ModelID == "" {
		t.Errorf("resumed with its checkpoint back: %s at step %d of %d (%q), want done with its model", j.State, j.Step, j.Steps, j.Error)
	}
}

// checkpointRunner starts a runner of st on load (and the CUDA engine
// cuda, nil for none) that writes a checkpoint every 10 steps.
func checkpointRunner(t *testing.T, st *store.Store, load Loader, cuda core.EngineFunc) *Runner {
	t.Helper()
	r := New(Config{Store: st, Load: load, Options: job.Options{SnapshotPoints: 12, SnapshotPairs: 6}, CUDA: cuda,
		CheckpointEvery: 10, ProgressEvery: time.Hour, Logger: log.New(io.Discard, "", 0)})
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	return r
}

// interruptAfterCheckpoint submits req to r, closes r once the job has a
// checkpoint of step 20 or later, and returns the job, interrupted with
// that checkpoint.
func interruptAfterCheckpoint(t *testing.T, st *store.Store, r *Runner, req msg.TrainRequest) store.Job {
	t.Helper()
	j, err := r.Submit("c", req, 0)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if j, _ = st.Job(j.ID); j.CkptStep >= 20 || (j.State != store.StateQueued && j.State != store.StateRunning) {
			break
		}
	}
	r.Close()
	if j = waitEnded(t, st, j.ID); j.State != store.StateInterrupted || j.Checkpoint == "" {
		t.Fatalf("job stopped: %+v, want interrupted with a checkpoint", j)
	}
	return j
}

// wantCheckpointKept checks that job j, once ended, is interrupted with
// its checkpoint of the step it had, its error one line that says want.
func wantCheckpointKept(t *testing.T, st *store.Store, j store.Job, want string) {
	t.Helper()
	got := waitEnded(t, st, j.ID)
	if got.State != store.StateInterrupted || got.Checkpoint == "" || got.CkptStep != j.CkptStep ||
		!strings.Contains(got.Error, want) || strings.Contains(got.Error, "\n") {
		t.Errorf("%s, checkpoint %q at step %d, error %q; want interrupted with its checkpoint of step %d, saying %q in one line",
			got.State, got.Checkpoint, got.CkptStep, got.Error, j.CkptStep, want)
	}
}

// wantResumedToDone resumes job id on r and checks that it ends done,
// with its model.
func wantResumedToDone(t *testing.T, st *store.Store, r *Runner, id string) {
	t.Helper()
	if _, err := r.Resume(id, "c", 0); err != nil {
		t.Fatal(err)
	}
	if got := waitEnded(t, st, id); got.State != store.StateDone || got.Step != got.Steps || got.ModelID == "" {
		t.Errorf("resumed: %s at step %d of %d (%q), want done with its model", got.State, got.Step, got.Steps, got.Error)
	}
}

// TestResumeChangedData resumes an interrupted job whose data set changed
// since its checkpoint (one pixel of the same number of images). The job
// is left interrupted with its checkpoint, saying why in one line and
// what to do: restore the images, or cancel it and train a new job (the
// advice was to restore the data set, which a data set grown by an
// upload cannot be: the API removes no sample); once the data set is
// restored, it resumes to its end. Before, it failed and its checkpoint
// was removed: the training done was lost.
func TestResumeChangedData(t *testing.T) {
	st, _, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var changed atomic.Bool
	load := func(string, core.Input, []string) (*data.Set, *data.Set, string, []string, error) {
		train := barSet(3, 8)
		if changed.Load() {
			train.X[0] += 0.5
		}
		return train, barSet(3, 4), "", nil, nil
	}
	j := interruptAfterCheckpoint(t, st, checkpointRunner(t, st, load, nil), barRequest(50))

	changed.Store(true)
	r := checkpointRunner(t, st, load, nil)
	defer r.Close()
	if _, err := r.Resume(j.ID, "c", 0); err != nil {
		t.Fatal(err)
	}
	// Advice a user can follow: the API removes no sample that grew it.
	wantCheckpointKept(t, st, j, "data set changed since it was written); its checkpoint is kept: "+
		"resume the job once the data set's images are as they were, or cancel it and train a new job on the data set as it is")

	changed.Store(false)
	wantResumedToDone(t, st, r, j.ID)
}

// TestResumeDataUnusable resumes an interrupted job whose data set cannot
// be loaded now (removed: an unknown name) or on which the job can no
// longer be set up (one identity left). The job is left interrupted with
// its checkpoint, saying why in one line; once the data set is restored,
// it resumes to its end. Before, it failed and its checkpoint was
// removed: the training done was lost. A fresh job on such a data set
// still fails.
func TestResumeDataUnusable(t *testing.T) {
	for _, tc := range []struct {
		name string
		load func() (*data.Set, *data.Set, string, []string, error)
		want string // in the job's error
	}{
		{"missing", func() (*data.Set, *data.Set, string, []string, error) {
			return nil, nil, "", nil, invalid("unknown data set %q", "bars")
		}, `unknown data set "bars"`},
		{"one identity", func() (*data.Set, *data.Set, string, []string, error) {
			return barSet(1, 8), barSet(1, 4), "", nil, nil
		}, "1 class"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, _, err := store.Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var gone atomic.Bool
			load := func(string, core.Input, []string) (*data.Set, *data.Set, string, []string, error) {
				if gone.Load() {
					return tc.load()
				}
				return barSet(3, 8), barSet(3, 4), "", nil, nil
			}
			j := interruptAfterCheckpoint(t, st, checkpointRunner(t, st, load, nil), barRequest(50))

			gone.Store(true)
			fresh, err := st.CreateJob("c", barRequest(50), j.Steps, 0)
			if err != nil {
				t.Fatal(err)
			}
			r := checkpointRunner(t, st, load, nil)
			defer r.Close()
			if got := waitEnded(t, st, fresh.ID); got.State != store.StateFailed || !strings.Contains(got.Error, tc.want) {
				t.Errorf("fresh job: %s, error %q; want failed, saying %q", got.State, got.Error, tc.want)
			}
			if _, err := r.Resume(j.ID, "c", 0); err != nil {
				t.Fatal(err)
			}
			wantCheckpointKept(t, st, j, tc.want)

			gone.Store(false)
			wantResumedToDone(t, st, r, j.ID)
		})
	}
}

// TestResumeCUDAWithoutDevice: an interrupted job of device cuda, resumed
// on a server without a CUDA device, is refused and stays interrupted,
// its checkpoint kept; before, it was queued, failed at its start, and
// its checkpoint was deleted with the job's failure.
func TestResumeCUDAWithoutDevice(t *testing.T) {
	st, _, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	req := barRequest(1)
	req.Device = "cuda"
	j, err := st.CreateJob("c", req, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := st.Transition(j.ID, []string{store.StateQueued}, store.StateInterrupted, ""); !ok || err != nil {
		t.Fatalf("interrupting the job: %v %v", ok, err)
	}
	r := New(Config{Store: st, Load: barLoad,
		ProgressEvery: time.Hour, Logger: log.New(io.Discard, "", 0)})
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = r.Resume(j.ID, "c", 0)
	if err == nil || !errors.Is(err, ErrState) || !strings.Contains(err.Error(), "no CUDA device") {
		t.Errorf("Resume: %v, want a state error saying there is no CUDA device", err)
	}
	time.Sleep(50 * time.Millisecond) // a queued job would have started and failed by now
	if j, _ := st.Job(j.ID); j.State != store.StateInterrupted {
		t.Errorf("the job is %s (%q), want interrupted", j.State, j.Error)
	}
}

// TestFailedJobErrorOneLine: a job whose data set fails to load with an
// error of several lines (one quoting a file's words) is failed with that
// error in one line, as the API's errors are. Before, the row and the
// event kept the line breaks.
func TestFailedJobErrorOneLine(t *testing.T) {
	st, _, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := New(Config{Store: st, Load: func(string, core.Input, []string) (*data.Set, *data.Set, string, []string, error) {
		return nil, nil, "", nil, fmt.Errorf("%w: a.png: bad\nsecond line\r\nthird", ErrInvalid)
	}, ProgressEvery: time.Hour, Logger: log.New(io.Discard, "", 0)})
	j, err := st.CreateJob("c", barRequest(1), 10, 0) // the data set changed since Submit checked it
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := waitEnded(t, st, j.ID)
	if got.State != store.StateFailed || !strings.Contains(got.Error, "third") || strings.ContainsAny(got.Error, "\r\n") {
		t.Errorf("job %s, error %q; want failed, the error in one line", got.State, got.Error)
	}
}

// TestPanicFailsJob: a panic while a job trains (a bug: a snapshot once
// indexed out of range on weights overflowed by the learning rate) fails
// that job with "internal error", the log saying where, and the runner
// goes on with the next job. Before, it took the whole server down.
func TestPanicFailsJob(t *testing.T) {
	st, _, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var logged strings.Builder
	var mu sync.Mutex
	r := New(Config{Store: st, Load: func(_ string, in core.Input, _ []string) (*data.Set, *data.Set, string, []string, error) {
		if in.Height == 9 {
			panic("a bug")
		}
		return barSet(3, 8), barSet(3, 4), "", nil, nil
	}, ProgressEvery: time.Hour, Logger: log.New(lockedWriter{&mu, &logged}, "", 0)})
	bad := barRequest(1)
	bad.Input = "1x9x9" // the loader's panic
	j, err := st.CreateJob("c", bad, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	next, err := r.Submit("c", barRequest(1), 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := waitEnded(t, st, j.ID); got.State != store.StateFailed || got.Error != "internal error" {
		t.Errorf("the job that panicked: %s, %q; want failed, internal error", got.State, got.Error)
	}
	if got := waitEnded(t, st, next.ID); got.State != store.StateDone {
		t.Errorf("the job after it: %s, %q; want done", got.State, got.Error)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logged.String(), "panic: a bug") || !strings.Contains(logged.String(), "runner_test.go") {
		t.Errorf("log %q; want the panic with its stack", logged.String())
	}
}

// TestPanicKeepsCheckpoint: a panic while a resumed job trains (a bug of
// the server's, not the job's) leaves it interrupted with its checkpoint,
// as a job that cannot start now is, and it resumes to its end once the
// bug is gone. Before, it failed, and its checkpoint was removed with the
// failure.
func TestPanicKeepsCheckpoint(t *testing.T) {
	st, _, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var bug atomic.Bool
	load := func(string, core.Input, []string) (*data.Set, *data.Set, string, []string, error) {
		if bug.Load() {
			panic("a bug")
		}
		return barSet(3, 8), barSet(3, 4), "", nil, nil
	}
	j := interruptAfterCheckpoint(t, st, checkpointRunner(t, st, load, nil), barRequest(50))

	bug.Store(true)
	r := checkpointRunner(t, st, load, nil)
	defer r.Close()
	if _, err := r.Resume(j.ID, "c", 0); err != nil {
		t.Fatal(err)
	}
	wantCheckpointKept(t, st, j, "an internal error stopped the job")

	bug.Store(false)
	wantResumedToDone(t, st, r, j.ID)
}

// lockedWriter is w under mu, for a log the test reads while the runner
// writes it.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestQueuedCUDAResumeWithoutDevice: a resumed job of device cuda that a
// server without a CUDA device finds queued (resumed before a restart
// onto another machine, say) is left interrupted with its checkpoint and
// the reason in one line, not failed; a server with the device then
// resumes it to its end. Before, it failed at its start and its
// checkpoint was removed with the failure.
func TestQueuedCUDAResumeWithoutDevice(t *testing.T) {
	st, _, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	load := barLoad
	req := barRequest(50)
	req.Device = "cuda"
	// The CPU's engine stands in for the GPU's.
	j := interruptAfterCheckpoint(t, st, checkpointRunner(t, st, load, core.NewGorgonia), req)
	if ok, err := st.Transition(j.ID, []string{store.StateInterrupted}, store.StateQueued, ""); !ok || err != nil {
		t.Fatalf("queueing the job again: %v %v", ok, err)
	}

	r := checkpointRunner(t, st, load, nil)
	wantCheckpointKept(t, st, j, "no CUDA device")
	r.Close()

	r = checkpointRunner(t, st, load, core.NewGorgonia)
	defer r.Close()
	wantResumedToDone(t, st, r, j.ID)
}

// TestResumeStaleCheckpointStep resumes a job whose row is behind its
// checkpoint file, as a crash leaves it: between the file's rename and
// the commit of its row, the row is a checkpoint behind (here step 10,
// the file being of the run's last step, its model not saved); between
// that commit and the progress's, the row has the file's step but an
// older step's loss and metrics. The job ends done at its last step, the
// checkpoint's own, with that step's loss and metrics, which the first
// run recorded. Before, the row's step won and the done job read 10 of
// 12 steps; then the row's loss still did (the file held none).
func TestResumeStaleCheckpointStep(t *testing.T) {
	// The older step's loss and metrics are made up: they only need to
	// differ from the last step's.
	for _, c := range []struct{ name, stale string }{
		{"a checkpoint behind", "UPDATE jobs SET step = 10, ckpt_step = 10, loss = loss + 1, metrics = '{\"accuracy\":0.25}' WHERE id = ?"},
		{"its progress behind", "UPDATE jobs SET step = 10, loss = loss + 1, metrics = '{\"accuracy\":0.25}' WHERE id = ?"},
	} {
		t.Run(c.name, func(t *testing.T) { resumeStale(t, c.stale) })
	}
}

// resumeStale runs a job whose model cannot be saved, makes its row stale
// by the statement stale (of the job's id), and resumes it.
func resumeStale(t *testing.T, stale string) {
	st, dir, models := storeWithoutModels(t)
	newRunner := func(st *store.Store) *Runner {
		r := barRunner(st)
		if err := r.Start(); err != nil {
			t.Fatal(err)
		}
		return r
	}
	req := barRequest(3)
	r := newRunner(st)
	j, err := r.Submit("c", req, 0)
	if err != nil {
		t.Fatal(err)
	}
	j = waitEnded(t, st, j.ID)
	r.Close()
	st.Close()
	if j.State != store.StateInterrupted || j.CkptStep != j.Steps || j.Steps <= 10 || j.Metrics == nil {
		t.Fatalf("the first run: %s with a checkpoint at step %d of %d, metrics %+v; want interrupted at its last step, with metrics",
			j.State, j.CkptStep, j.Steps, j.Metrics)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "metriclab.db"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(stale, j.ID)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(models); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(models, 0o755); err != nil {
		t.Fatal(err)
	}

	st, _, err = store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r = newRunner(st)
	defer r.Close()
	if _, err := r.Resume(j.ID, "c", 0); err != nil {
		t.Fatal(err)
	}
	done := waitEnded(t, st, j.ID)
	if done.State != store.StateDone || done.Step != done.Steps || done.ModelID == "" {
		t.Errorf("resumed: %s at step %d of %d (%q), want done at its last step, the checkpoint's", done.State, done.Step, done.Steps, done.Error)
	}
	if done.Loss != j.Loss || !reflect.DeepEqual(done.Metrics, j.Metrics) {
		t.Errorf("resumed: loss %g, metrics %+v; want the last step's, %g, %+v", done.Loss, done.Metrics, j.Loss, j.Metrics)
	}
}

// TestSubscribeStoreEnded subscribes to a job the store has recorded
// ended while its hub is still open, as between a run's FinishJob (or
// its last Transition) and its hub's finish. The subscriber gets the
// store's state and no channel: a client that had read the job done was
// told it was running, then done (TestJobLifecycle failed so in CI).
func TestSubscribeStoreEnded(t *testing.T) {
	st, _, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := New(Config{Store: st, Logger: log.New(io.Discard, "", 0),
		Load: barLoad})
	req := barRequest(1)
	j, err := r.Submit("c", req, 0) // not started: its hub stays open
	if err != nil {
		t.Fatal(err)
	}
	first, ch, unsubscribe, err := r.Subscribe(j.ID)
	if err != nil || ch == nil || len(first) != 1 || first[0].State != store.StateQueued {
		t.Fatalf("queued job: %+v, channel %v, %v; want its queued state and a channel", first, ch, err)
	}
	unsubscribe()
	for _, to := range []string{store.StateRunning, store.StateFailed} {
		if ok, err := st.Transition(j.ID, []string{store.StateQueued, store.StateRunning}, to, "it broke"); !ok || err != nil {
			t.Fatalf("transition to %s: %v, %v", to, ok, err)
		}
	}
	first, ch, unsubscribe, err = r.Subscribe(j.ID)
	defer unsubscribe()
	if err != nil || ch != nil || len(first) != 2 || first[0].State != store.StateFailed || first[1].Error != "it broke" {
		t.Errorf("job failed in the store, its hub open: %+v, channel %v, %v; want the store's state and error, no channel", first, ch, err)
	}
	if n := r.hubs[j.ID].subscribers(); n != 0 {
		t.Errorf("the open hub keeps %d subscribers, want 0", n)
	}
}

// TestSubscribeLiveProgress subscribes, again and again, to a running job
// whose progress is sent only at its epochs' ends (ProgressEvery an hour:
// a run that a loaded machine holds between two sends): the progress a
// new subscriber sees first is of the step that Job read just before, or
// a later one. Before, it was the last one sent, of an older step: a
// client that had read step 31 was streamed step 27 (TestCancelAndEvents
// could fail so).
func TestSubscribeLiveProgress(t *testing.T) {
	st, _, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := New(Config{Store: st, Options: job.Options{SnapshotPoints: 12, SnapshotPairs: 6},
		CheckpointEvery: 1 << 20, ProgressEvery: time.Hour, Logger: log.New(io.Discard, "", 0),
		Load: barLoad})
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	req := barRequest(10000)
	j, err := r.Submit("c", req, 0)
	if err != nil {
		t.Fatal(err)
	}
	for checked := 0; checked < 20; time.Sleep(time.Millisecond) {
		read, err := r.Job(j.ID)
		if err != nil || read.State != store.StateQueued && read.State != store.StateRunning {
			t.Fatalf("the job: %+v, %v; want it running", read, err)
		}
		if read.Step == 0 { // not yet started
			continue
		}
		first, _, unsubscribe, err := r.Subscribe(j.ID)
		if err != nil {
			t.Fatal(err)
		}
		unsubscribe()
		step := -1
		for _, m := range first {
			if m.Type == msg.TypeProgress {
				step = m.Progress.Step
			}
		}
		if step < read.Step {
			t.Fatalf("Job read step %d of %d, then a new subscriber's first progress was of step %d (-1: none); want %d or later",
				read.Step, read.Steps, step, read.Step)
		}
		checked++
	}
}

// TestUnusableModelFails resumes a job whose checkpoint, at its last
// step, holds a weight the store's check refuses (1e7, past ±1e6: a run
// that diverged, kept by an earlier version when its model was refused).
// The job fails, saying why in one line without the temporary file's
// name; it was interrupted, "the model could not be saved …: resume the
// job to save it", at every resume, as a full disk is.
func TestUnusableModelFails(t *testing.T) {
	// The run cannot save its model, keeps it as a checkpoint and ends
	// interrupted.
	st, _, models := storeWithoutModels(t)
	defer st.Close()
	r := barRunner(st)
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	req := barRequest(1)
	j, err := r.Submit("c", req, 0)
	if err != nil {
		t.Fatal(err)
	}
	if j = waitEnded(t, st, j.ID); j.State != store.StateInterrupted || j.Checkpoint == "" {
		t.Fatalf("the run without a models folder: %+v, want interrupted with a checkpoint", j)
	}
	if err := os.Remove(models); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(models, 0o755); err != nil {
		t.Fatal(err)
	}
	path, _ := st.CheckpointPath(j)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tensors, meta, err := safetensors.Decode(bytes.NewReader(b), 0)
	if err != nil {
		t.Fatal(err)
	}
	tensors["encoder.fc1.bias"].Data[0] = 1e7
	var out bytes.Buffer
	if err := safetensors.Encode(&out, tensors, meta); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Resume(j.ID, "c", 0); err != nil {
		t.Fatal(err)
	}
	want := "the trained model is not usable: encoder.fc1.bias holds 1e+07: want values in [-1e+06, 1e+06]"
	if j = waitEnded(t, st, j.ID); j.State != store.StateFailed || j.Error != want {
		t.Errorf("resumed with an unusable model: %s, %q; want failed, %q", j.State, j.Error, want)
	}
}

// TestCancelTwice: a cancel of a job already canceled answers as the
// first did, the job canceled, whenever it comes: while the run stops
// (here from ended, before the run lets go of the job), once it has
// stopped, or after the cancel of a queued job. Before, the second of
// two DELETEs back to back answered 200 or 409 ("only a queued, running
// or interrupted job can be canceled") by whether the run had let go.
func TestCancelTwice(t *testing.T) {
	st, _, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := barRunner(st)
	var (
		stopping    store.Job
		stoppingErr error
	)
	r.ended = func(id string) { stopping, stoppingErr = r.Cancel(id, 0) } // on the worker, the run still holds the job
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	req := barRequest(10000)
	long, err := r.Submit("c", req, 0)
	if err != nil {
		t.Fatal(err)
	}
	queued, err := r.Submit("c", req, 0)
	if err != nil {
		t.Fatal(err)
	}
	for j, _ := r.Job(long.ID); j.Step == 0; j, _ = r.Job(long.ID) {
		time.Sleep(time.Millisecond)
	}
	for _, c := range []struct {
		name string
		id   string
	}{{"queued", queued.ID}, {"queued, again", queued.ID}, {"running", long.ID}, {"running, once stopped", long.ID}} {
		if j, err := r.Cancel(c.id, 10*time.Second); err != nil || j.State != store.StateCanceled {
			t.Errorf("cancel %s: %s, %v; want it canceled", c.name, j.State, err)
		}
	}
	if stoppingErr != nil || stopping.State != store.StateCanceled {
		t.Errorf("cancel while the run stops: %s, %v; want it canceled", stopping.State, stoppingErr)
	}
}

// barRequest is the request of the runner tests: an mlp trained with
// arcface on the bar sets for epochs, on the CPU.
func barRequest(epochs int) msg.TrainRequest {
	return msg.TrainRequest{Data: "bars", Arch: "mlp", Loss: "arcface", Dim: 3, Epochs: epochs, Batch: 4, LR: 0.01,
		Opt: "adam", Seed: 1, Device: "cpu"}
}

// divergingEngine takes its engine's steps but step at, whose loss is
// NaN: training diverged there.
type divergingEngine struct {
	core.Engine
	at int
}

func (e divergingEngine) Step(x []float32, labels []int) (float64, error) {
	if e.Iter()+1 == e.at {
		return 0, core.Diverged(fmt.Sprintf("step %d: loss is NaN (lr too high?)", e.at))
	}
	return e.Engine.Step(x, labels)
}

// TestDivergedNote: a job that early stopping ended because training
// diverged after its best epoch is done with the best epoch's model, and
// says so where its users look: its row's error, which GET /api/jobs
// gives, and its events, the note after the state done, as a live
// watcher and a later one get them, after the loader's note on its data
// set. Before, the note went to the server's log only. A run that could not save its model and is resumed to save
// it says so too (its checkpoint keeps the note); the watcher of its
// first run gets the state interrupted, then why. Before, a live watcher
// got the note, or the reason, before the state, which the Jobs page
// took for a failure until the state came, and for good when its stream
// dropped between the two. The engine diverges in the first run only,
// as a CUDA one may not again: the resumed run ends as its checkpoint
// says, also when the step before the divergence wrote one (every at-1
// steps), which before was kept as it was, without the stop, and the
// resumed run trained on past the divergence to its end, without the note.
func TestDivergedNote(t *testing.T) {
	var plain msg.ModelCard // the model of the run that was not resumed
	for _, tc := range []struct {
		name       string
		resumed    bool // the first run cannot save its model, and is resumed
		ckptBefore bool // a checkpoint at the step before the divergence
	}{
		{"a run", false, false},
		{"a resumed run", true, false},
		{"a run resumed from a checkpoint at the step before", true, true},
	} {
		resumed, name := tc.resumed, tc.name
		var (
			st     *store.Store
			models string
			err    error
		)
		if resumed {
			st, _, models = storeWithoutModels(t)
		} else if st, _, err = store.Open(t.TempDir()); err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		// Each run waits at its loading for the test to let it go, once
		// it watches; the first load is Submit's check.
		var loads atomic.Int32
		proceed := make(chan struct{})
		const loaded = "data set bars: 36 images, 1 skipped: 1 under 8 pixels a side" // the loader's note, before the run's
		load := func(string, core.Input, []string) (*data.Set, *data.Set, string, []string, error) {
			if loads.Add(1) > 1 {
				<-proceed
			}
			return barSet(3, 8), barSet(3, 4), loaded, nil, nil
		}
		req := barRequest(3)
		req.EarlyStop = 2
		steps, err := barRunner(st).Validate(req)
		if err != nil {
			t.Fatal(err)
		}
		at := steps/req.Epochs + 2 // the step that diverges: the second of epoch 2
		every := 0                 // the checkpoints: DefaultCheckpointEvery
		if tc.ckptBefore {
			every = at - 1
		}
		var builds atomic.Int32
		diverging := func(spec core.Spec, loss core.Loss, cfg core.TrainConfig) (core.Engine, error) {
			e, err := core.NewGorgonia(spec, loss, cfg)
			if err != nil || builds.Add(1) > 1 {
				return e, err
			}
			return divergingEngine{e, at}, nil
		}
		r := New(Config{Store: st, Load: load, Options: job.Options{SnapshotPoints: 12, SnapshotPairs: 6, Engine: diverging},
			CheckpointEvery: every, ProgressEvery: time.Hour, Logger: log.New(io.Discard, "", 0)})
		if err := r.Start(); err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		j, err := r.Submit("c", req, 0)
		if err != nil {
			t.Fatal(err)
		}
		if resumed {
			_, live, unsubscribe, err := r.Subscribe(j.ID)
			if err != nil || live == nil {
				t.Fatalf("subscribing to the queued job: %v", err)
			}
			proceed <- struct{}{}
			// The notes of the data and of how it ended first (TestJobNoteKept).
			const why = "; the model could not be saved (the server's log says why); the run is kept: resume the job to save it"
			if got := finalEvents(live); len(got) != 2 || got[0] != "state interrupted" || !strings.HasPrefix(got[1], "error "+loaded+"; training diverged") || !strings.HasSuffix(got[1], why) {
				t.Errorf("the run without a models folder: its watcher's last events %q, want the state interrupted, then the notes and %q", got, why)
			}
			unsubscribe()
			if j = waitEnded(t, st, j.ID); j.State != store.StateInterrupted {
				t.Fatalf("the run without a models folder: %s, want interrupted", j.State)
			}
			if err := os.Remove(models); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(models, 0o755); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Resume(j.ID, "c", 0); err != nil {
				t.Fatal(err)
			}
		}
		_, live, unsubscribe, err := r.Subscribe(j.ID)
		if err != nil || live == nil {
			t.Fatalf("subscribing to the queued job: %v", err)
		}
		defer unsubscribe()
		proceed <- struct{}{}
		got := finalEvents(live)
		want := fmt.Sprintf(loaded+"; training diverged (step %d: loss is NaN (lr too high?)): early stopping ended the run at step %d with the model of the best epoch, ", at, at-1)
		if len(got) != 2 || got[0] != msg.TypeState+" "+store.StateDone || !strings.HasPrefix(got[1], msg.TypeError+" "+want) {
			t.Errorf("%s: its watcher's last events %q, want the state done, then the note %q…", name, got, want)
		}
		if j = waitEnded(t, st, j.ID); j.State != store.StateDone || j.ModelID == "" || !strings.HasPrefix(j.Error, want) {
			t.Errorf("%s: %s, model %q, error %q; want done with its model and the note %q…", name, j.State, j.ModelID, j.Error, want)
		}
		card, _, err := st.Model(j.ModelID)
		if !resumed {
			plain = card
		}
		if err != nil || card.Steps != at-1 || !reflect.DeepEqual(card.Metrics, plain.Metrics) {
			t.Errorf("%s: its model: %v, %d steps, metrics %+v; want the best epoch's, of %d steps, metrics %+v", name, err, card.Steps, card.Metrics, at-1, plain.Metrics)
		}
		first, _, unsub, err := r.Subscribe(j.ID)
		unsub()
		if err != nil || len(first) != 2 || first[0].State != store.StateDone || first[1].Error != j.Error {
			t.Errorf("%s: a later watcher got %+v, %v; want the state done, then the note", name, first, err)
		}
	}
}

// finalEvents reads live to its end and returns its last two state and
// error messages, each as its type, a space, and its state or error.
func finalEvents(live <-chan msg.Message) []string {
	var got []string
	for m := range live {
		if m.Type == msg.TypeError || m.Type == msg.TypeState {
			got = append(got, m.Type+" "+m.State+m.Error)
		}
	}
	return got[max(len(got)-2, 0):]
}

// TestStartKeepsWatchers: a watcher of a job queued before the runner
// started (Submit before Start) follows its run to its end. Before, Start
// gave every queued job a new hub, and the watcher, on the one it
// replaced, got nothing and was never closed.
func TestStartKeepsWatchers(t *testing.T) {
	st, _, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := barRunner(st)
	j, err := r.Submit("c", barRequest(1), 0)
	if err != nil {
		t.Fatal(err)
	}
	_, live, unsubscribe, err := r.Subscribe(j.ID)
	if err != nil || live == nil {
		t.Fatalf("subscribing to the queued job: %v", err)
	}
	defer unsubscribe()
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if j = waitEnded(t, st, j.ID); j.State != store.StateDone {
		t.Fatalf("the job is %s, want done", j.State)
	}
	var got []string
	timeout := time.After(5 * time.Second) // the run finishes its hub a moment after the store's done
	for open := true; open; {
		select {
		case m, ok := <-live:
			if open = ok; ok && m.Type == msg.TypeState {
				got = append(got, m.State)
			}
		case <-timeout:
			t.Fatalf("the watcher got the states %q and is still open 5 s after the job ended, want them to the state done", got)
		}
	}
	if want := []string{store.StateRunning, store.StateDone}; !slices.Equal(got, want) {
		t.Errorf("the watcher got the states %q, want %q", got, want)
	}
}

// TestStartCanceledMeanwhile cancels a job left queued (with no hub) as
// the runner starts, after the moment Start read the queue before it
// took its lock: the job gets no hub. Before, Start gave it one that
// nothing ever finished or removed. The cancel is the store's transition
// under the runner's lock, as Cancel makes it for a job with no hub; the
// pause lets the Start before the fix read the queue first (the fixed
// one reads it under the lock, so the test passes whatever the timing).
func TestStartCanceledMeanwhile(t *testing.T) {
	st, _, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	j, err := st.CreateJob("c", barRequest(1), 1, 0) // queued by a previous run: no hub
	if err != nil {
		t.Fatal(err)
	}
	r := barRunner(st)
	started := make(chan error, 1)
	r.mu.Lock()
	go func() { started <- r.Start() }()
	time.Sleep(100 * time.Millisecond)
	ok, err := st.Transition(j.ID, []string{store.StateQueued}, store.StateCanceled, "")
	r.mu.Unlock()
	if !ok || err != nil {
		t.Fatalf("canceling the queued job: %v, %v", ok, err)
	}
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.mu.Lock()
	h := r.hubs[j.ID]
	r.mu.Unlock()
	if h != nil {
		t.Errorf("the job canceled as the runner started has a hub, which nothing finishes or removes")
	}
}

// TestJobNoteKept: a job whose data's load skipped images keeps that
// note however it ends, its row's error and its events' last giving it
// first, then why it ended so: canceled (the note alone, as Cancel
// answers it), failed (the step's error), interrupted by the server's
// stop (how to resume it, which the page says when no reason is given)
// or by a model it could not save, and the last two canceled then (the
// note alone: store.Job.Note). Before, the note was a running or done
// job's only: the row of a job that ended otherwise gave the reason
// alone, or nothing; then an interrupted job canceled gave nothing.
func TestJobNoteKept(t *testing.T) {
	const note = "data set bars: 36 images, 1 skipped: 1 under 8 pixels a side"
	for _, tc := range []struct {
		name   string
		end    string // cancel, close, or "" to let it run
		reason string // the start of what follows the note, "" for none
		state  string
	}{
		{"canceled", "cancel", "", store.StateCanceled},
		{"failed", "", "step 3: loss is NaN (lr too high?)", store.StateFailed},
		{"interrupted by the stop", "close", "the server stopped", store.StateInterrupted},
		{"interrupted, its model unsaved", "", "the model could not be saved", store.StateInterrupted},
	} {
		var st *store.Store
		if tc.name == "interrupted, its model unsaved" {
			st, _, _ = storeWithoutModels(t)
		} else {
			var err error
			if st, _, err = store.Open(t.TempDir()); err != nil {
				t.Fatal(err)
			}
		}
		defer st.Close()
		load := func(string, core.Input, []string) (*data.Set, *data.Set, string, []string, error) {
			return barSet(3, 8), barSet(3, 4), note, nil, nil
		}
		engine := core.EngineFunc(nil)
		if tc.state == store.StateFailed {
			engine = func(spec core.Spec, loss core.Loss, cfg core.TrainConfig) (core.Engine, error) {
				e, err := core.NewGorgonia(spec, loss, cfg)
				return divergingEngine{e, 3}, err
			}
		}
		r := New(Config{Store: st, Load: load, Options: job.Options{SnapshotPoints: 12, SnapshotPairs: 6, Engine: engine},
			ProgressEvery: time.Hour, Logger: log.New(io.Discard, "", 0)})
		if err := r.Start(); err != nil {
			t.Fatal(err)
		}
		req := barRequest(1)
		if tc.end != "" {
			req = barRequest(10000)
		}
		j, err := r.Submit("c", req, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, live, unsubscribe, err := r.Subscribe(j.ID)
		if err != nil || live == nil {
			t.Fatalf("%s: subscribing to the queued job: %v", tc.name, err)
		}
		if tc.end != "" {
			for got, _ := r.Job(j.ID); got.Step == 0; got, _ = r.Job(j.ID) {
				time.Sleep(time.Millisecond)
			}
		}
		switch tc.end {
		case "cancel":
			if got, err := r.Cancel(j.ID, 10*time.Second); err != nil || got.Error != note {
				t.Errorf("%s: Cancel answered %v, error %q; want the note %q", tc.name, err, got.Error, note)
			}
		case "close":
			r.Close()
		}
		events := finalEvents(live)
		unsubscribe()
		got := waitEnded(t, st, j.ID)
		if tc.end != "close" {
			r.Close()
		}
		want := note
		if tc.reason != "" {
			want += "; " + tc.reason
		}
		if got.State != tc.state || !strings.HasPrefix(got.Error, want) {
			t.Errorf("%s: %s, error %q; want %s, %q…", tc.name, got.State, got.Error, tc.state, want)
		}
		if len(events) != 2 || events[0] != msg.TypeState+" "+tc.state || events[1] != msg.TypeError+" "+got.Error {
			t.Errorf("%s: its watcher's last events %q, want the state %s, then %q", tc.name, events, tc.state, got.Error)
		}
		if tc.state == store.StateInterrupted {
			// Canceled then (by the server started again): the note
			// alone, how to resume it no longer true.
			again := New(Config{Store: st, Load: load, Logger: log.New(io.Discard, "", 0)})
			if err := again.Start(); err != nil {
				t.Fatal(err)
			}
			if got, err := again.Cancel(j.ID, time.Second); err != nil || got.State != store.StateCanceled || got.Error != note {
				t.Errorf("%s, then canceled: %v, %s, error %q; want canceled, the note %q", tc.name, err, got.State, got.Error, note)
			}
			again.Close()
		}
	}
}

// TestCancelInterruptedMeanwhile: a job whose run is interrupted (the
// server stopping) as it is canceled keeps its note. The run's switch to
// interrupted is written by a second connection to the database, which
// holds its write lock until Cancel has begun: Cancel's update waits for
// it, then cancels the job interrupted. Before, Cancel read the job first
// for its note, saw it running, and canceled it with the error "" once
// the switch had landed (the switch does not take the runner's lock).
func TestCancelInterruptedMeanwhile(t *testing.T) {
	const note = "data set bars: 36 images, 1 skipped: 1 under 8 pixels a side"
	dir := t.TempDir()
	st, _, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := barRunner(st)
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	j, err := st.CreateJob("c", barRequest(1), 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	st.Transition(j.ID, []string{store.StateQueued}, store.StateRunning, "")
	if err := st.SetNote(j.ID, note); err != nil {
		t.Fatal(err)
	}

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "metriclab.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("UPDATE jobs SET state = ?, error = ? WHERE id = ?",
		store.StateInterrupted, store.Stopped(note, 0), j.ID); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		j   store.Job
		err error
	}
	canceled := make(chan answer)
	go func() {
		j, err := r.Cancel(j.ID, time.Second)
		canceled <- answer{j, err}
	}()
	time.Sleep(100 * time.Millisecond) // Cancel begun (the store waits 5 s for a lock)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	got := <-canceled
	if got.err != nil || got.j.State != store.StateCanceled || got.j.Error != note {
		t.Errorf("Cancel answered %v, %s, error %q; want canceled, the note %q", got.err, got.j.State, got.j.Error, note)
	}
	if j, _ := st.Job(j.ID); j.State != store.StateCanceled || j.Error != note {
		t.Errorf("the row: %s, error %q; want canceled, the note %q", j.State, j.Error, note)
	}
}

// TestJobNoteShortened: a note and a reason too long for one error line
// are each shortened to their share, so that each keeps its start and
// its end. Before, the line was shortened as one, which kept the note's
// start and the reason's end, and lost the reason's start.
func TestJobNoteShortened(t *testing.T) {
	note := "data set " + strings.Repeat("n", 200) + ": 36 images, 1 skipped: 1 under 8 pixels a side"
	reason := "training diverged (" + strings.Repeat("r", 200) + "): early stopping ended the run at step 9 with the model of the best epoch, 2"
	got := store.WithNote(note, reason)
	if n := utf8.RuneCountInString(got); n != msg.MaxErrorRunes {
		t.Errorf("%d characters, want %d", n, msg.MaxErrorRunes)
	}
	for _, part := range []string{"data set nnn", "1 under 8 pixels a side; training diverged (rrr", "the best epoch, 2"} {
		if !strings.Contains(got, part) {
			t.Errorf("%q lacks %q", got, part)
		}
	}
	if short := "step 12: loss is NaN"; store.WithNote(note, short) != msg.Shorten(note, msg.MaxErrorRunes-2-len(short))+"; "+short {
		t.Errorf("with a short reason: %q, want the reason whole", store.WithNote(note, short))
	}
	if store.WithNote(note, "") != note || store.WithNote("", reason) != reason {
		t.Errorf("one part alone is not that part")
	}
}

// interruptedOnRS returns a store holding data set rs, of alice, bob and
// carol, five images each, and a job on it interrupted after a
// checkpoint. The store is closed with the test.
func interruptedOnRS(t *testing.T) (*store.Store, store.Job) {
	t.Helper()
	st, _, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, id := range []string{"alice", "bob", "carol"} {
		if err := addBars(st, "rs", id, 5); err != nil {
			t.Fatal(err)
		}
	}
	req := barRequest(50)
	req.Data = "rs"
	return st, interruptAfterCheckpoint(t, st, checkpointRunner(t, st, StoreLoader(st), nil), req)
}

// TestResumeGrownDataSet resumes an interrupted job on an uploaded data
// set that has grown since it started (a sample of an identity, a new
// identity: a Verify page's "Send to server" into it): the job trains on
// the data set as it was when it first started, and ends done, its model
// of the original identities and steps; the samples added are for the
// next job. Before, it was left interrupted, "checkpoint: of other
// training images (the data set changed since it was written)", with
// advice to restore the data set, which the API cannot do (it removes no
// sample).
func TestResumeGrownDataSet(t *testing.T) {
	st, j := interruptedOnRS(t)
	if err := addBars(st, "rs", "alice", 1); err != nil {
		t.Fatal(err)
	}
	if err := addBars(st, "rs", "dave", 5); err != nil {
		t.Fatal(err)
	}
	r := checkpointRunner(t, st, StoreLoader(st), nil)
	defer r.Close()
	wantResumedToDone(t, st, r, j.ID)
	got, err := st.Job(j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Steps != j.Steps {
		t.Errorf("resumed: %d steps, want the %d of the data set as it started", got.Steps, j.Steps)
	}
	if want := "data set rs: 15 images, 6 skipped: 6 added since the first load"; got.Error != want {
		t.Errorf("resumed: note %q, want %q", got.Error, want)
	}
	if got.ModelID == "" {
		return
	}
	card, _, err := st.Model(got.ModelID)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"alice", "bob", "carol"}; !slices.Equal(card.Classes, want) || card.Steps != j.Steps {
		t.Errorf("model of classes %q, %d steps; want %q, %d steps", card.Classes, card.Steps, want, j.Steps)
	}
}

// TestResumeSampleGone resumes an interrupted job on an uploaded data set
// one of whose images the job trained on was removed by hand since: it is
// left interrupted with its checkpoint, naming the image; put back, the
// job resumes to its end. Before, it said "checkpoint: of other training
// images", naming none.
func TestResumeSampleGone(t *testing.T) {
	st, j := interruptedOnRS(t)
	dir, err := st.DatasetDir("rs")
	if err != nil {
		t.Fatal(err)
	}
	images, err := filepath.Glob(filepath.Join(dir, "bob", "*.png"))
	if err != nil || len(images) == 0 {
		t.Fatalf("bob's images: %q, %v", images, err)
	}
	gone := images[0] // a training image
	aside := filepath.Join(t.TempDir(), "aside.png")
	if err := os.Rename(gone, aside); err != nil {
		t.Fatal(err)
	}
	r := checkpointRunner(t, st, StoreLoader(st), nil)
	defer r.Close()
	if _, err := r.Resume(j.ID, "c", 0); err != nil {
		t.Fatal(err)
	}
	wantCheckpointKept(t, st, j, "rs/bob/"+filepath.Base(gone)+": "+data.ErrGone.Error())

	if err := os.Rename(aside, gone); err != nil {
		t.Fatal(err)
	}
	wantResumedToDone(t, st, r, j.ID)
}

// TestLoweredBatchNote: a job whose batch is a default (BatchDefault) of
// more images than it trains on (32 of 3 classes of 8 images, 6 held out,
// 18 trained on) trains with a batch of them, and says so where its
// watcher reads it: after the loader's note, in its events' last error
// and its row's, as the data's note is. Before, the job was refused.
func TestLoweredBatchNote(t *testing.T) {
	st, _, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const loaded = "data set bars: 24 images, 1 skipped: 1 under 8 pixels a side"
	load := func(string, core.Input, []string) (*data.Set, *data.Set, string, []string, error) {
		return barSet(3, 8), barSet(3, 4), loaded, nil, nil
	}
	r := New(Config{Store: st, Load: load, Options: job.Options{SnapshotPoints: 12, SnapshotPairs: 6},
		ProgressEvery: time.Hour, Logger: log.New(io.Discard, "", 0)})
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	req := barRequest(1)
	req.Batch, req.BatchDefault = 32, true
	j, err := r.Submit("c", req, 0)
	if err != nil {
		t.Fatalf("a default batch of 32 on 18 training images: %v", err)
	}
	_, live, unsubscribe, err := r.Subscribe(j.ID)
	if err != nil || live == nil {
		t.Fatalf("subscribing to the queued job: %v", err)
	}
	events := finalEvents(live)
	unsubscribe()
	got := waitEnded(t, st, j.ID)
	const want = loaded + "; batch 18: the 18 training images (the default batch is 32)"
	if got.State != store.StateDone || got.Error != want || got.Steps != 1 {
		t.Errorf("%s, %d steps, error %q; want done, 1 step, %q", got.State, got.Steps, got.Error, want)
	}
	if len(events) != 2 || events[0] != msg.TypeState+" "+store.StateDone || events[1] != msg.TypeError+" "+want {
		t.Errorf("its watcher's last events %q, want the state done, then %q", events, want)
	}
	req.BatchDefault = false
	if _, err := r.Submit("c", req, 0); err == nil || !strings.Contains(err.Error(), "18 training images, fewer than one batch of 32: give a batch of 18 or less") {
		t.Errorf("a batch of 32 given on 18 training images: %v; want it refused", err)
	}
}

// TestOldRecordResumes: a job stored before its record held what trained
// (no optimiser, learning rate, schedule or weight decay: their defaults)
// still trains and resumes as it did: interrupted after a checkpoint and
// resumed, it ends with the loss of the same request submitted now, whose
// record holds the values resolved, run without a break. Its record
// stays as it was stored.
func TestOldRecordResumes(t *testing.T) {
	st, _, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	load := barLoad
	old := barRequest(50)
	old.Opt, old.LR = "", 0
	r := checkpointRunner(t, st, load, nil)
	steps, err := r.Validate(old)
	if err != nil {
		t.Fatal(err)
	}
	now, err := r.Submit("c", old, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c := now.Config; c.Opt != "adam" || c.LR != 0.01 || c.Schedule != "cosine" || c.WeightDecay == nil {
		t.Fatalf("submitted now, the record is %+v, want adam at 0.01, cosine, its weight decay", c)
	}
	ref := waitEnded(t, st, now.ID)
	r.Close()

	j, err := st.CreateJob("c", old, steps, 0) // as Submit stored it before
	if err != nil {
		t.Fatal(err)
	}
	r = checkpointRunner(t, st, load, nil)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if j, _ = st.Job(j.ID); j.CkptStep >= 20 || (j.State != store.StateQueued && j.State != store.StateRunning) {
			break
		}
	}
	r.Close()
	if j = waitEnded(t, st, j.ID); j.State != store.StateInterrupted || j.Checkpoint == "" {
		t.Fatalf("old record stopped: %+v, want interrupted with a checkpoint", j)
	}
	r = checkpointRunner(t, st, load, nil)
	defer r.Close()
	wantResumedToDone(t, st, r, j.ID)
	got, _ := st.Job(j.ID)
	if ref.State != store.StateDone || got.Loss != ref.Loss || !reflect.DeepEqual(got.Config, old) {
		t.Errorf("old record resumed: loss %v, config %+v; want %v (%s, submitted now), and the record as stored", got.Loss, got.Config, ref.Loss, ref.State)
	}
}

// barLoad is a data set's load of three classes of bars, 8 training and
// 4 held-out images each, as most runner tests train on.
func barLoad(string, core.Input, []string) (*data.Set, *data.Set, string, []string, error) {
	return barSet(3, 8), barSet(3, 4), "", nil, nil
}
