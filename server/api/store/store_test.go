//go:build !js

package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"unicode/utf8"

	"metriclab/core"
	"metriclab/core/data"
	"metriclab/core/msg"
)

// fakeCheck accepts any file.
func fakeCheck(string) (Card, error) { return Card{Arch: "mlp", Dim: 2}, nil }

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

// exists reports whether path is a regular file that present can see.
func exists(path string) bool {
	ok, err := present(path)
	return ok && err == nil
}

// TestRecovery leaves what a crash may leave (temporary files, a file
// without a row, rows whose files are gone, a running job) and checks that
// Open repairs each and keeps the rest: files without a row are put aside
// in lost+found, not removed.
func TestRecovery(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	kept, err := s.AddModel("kept", writeString("model"), fakeCheck)
	if err != nil {
		t.Fatal(err)
	}
	lost, _ := s.AddModel("lost", writeString("model"), fakeCheck)
	running := runningJob(t, s)
	if err := s.SaveCheckpoint(running.ID, 5, 10, 0.5, nil, writeString("ckpt")); err != nil {
		t.Fatal(err)
	}
	noCkpt := runningJob(t, s)
	s.SaveCheckpoint(noCkpt.ID, 5, 10, 0.5, nil, writeString("ckpt"))
	queued, _ := s.CreateJob("1.2.3.4", msg.TrainRequest{Data: "tiny"}, 10, 0)
	// A canceled job that kept its checkpoint, as versions before
	// Transition removed it left one.
	oldCanceled := runningJob(t, s)
	s.SaveCheckpoint(oldCanceled.ID, 5, 10, 0.5, nil, writeString("ckpt"))
	if _, err := s.db.Exec("UPDATE jobs SET state = ? WHERE id = ?", StateCanceled, oldCanceled.ID); err != nil {
		t.Fatal(err)
	}
	smp, err := s.AddSample("faces", "alice", ".png", writeString("png"))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	// The crash's leftovers.
	os.Remove(filepath.Join(dir, modelsDir, lost.ID+modelExt))
	os.Remove(filepath.Join(dir, checkpointsDir, noCkpt.ID+modelExt))
	for _, p := range []string{
		filepath.Join(dir, modelsDir, ".x.safetensors.tmp-123"),
		filepath.Join(dir, datasetsDir, "faces", "alice", ".y.png.tmp-9"),
		filepath.Join(dir, modelsDir, "0123456789abcdef.safetensors"), // no row
		filepath.Join(dir, datasetsDir, "faces", "alice", "stray.png"),
	} {
		os.WriteFile(p, []byte("x"), 0o644)
	}

	s, rec, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if want := (Recovery{TempFiles: 2, StrayFiles: 3, MissingRows: 2, Interrupted: 2}); rec != want {
		t.Errorf("recovery %+v, want %+v", rec, want)
	}
	if _, path, err := s.Model(kept.ID); err != nil || !exists(path) {
		t.Errorf("kept model: %v", err)
	}
	if _, _, err := s.Model(lost.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("model without file: %v, want ErrNotFound", err)
	}
	j, _ := s.Job(running.ID)
	if path, step := s.CheckpointPath(j); j.State != StateInterrupted || step != 5 || !exists(path) {
		t.Errorf("running job after restart: %+v", j)
	}
	j, _ = s.Job(noCkpt.ID)
	if j.State != StateInterrupted || j.CkptStep != 0 || j.Checkpoint != "" {
		t.Errorf("job whose checkpoint vanished: %+v", j)
	}
	if j, _ := s.Job(oldCanceled.ID); j.State != StateCanceled || j.Checkpoint != "" || exists(filepath.Join(dir, checkpointsDir, oldCanceled.ID+modelExt)) {
		t.Errorf("canceled job with a checkpoint after restart: %+v", j)
	}
	if j, _ := s.Job(queued.ID); j.State != StateQueued {
		t.Errorf("queued job: %+v", j)
	}
	sets, _ := s.Datasets()
	if len(sets) != 1 || sets[0].Samples != 1 || !exists(filepath.Join(dir, datasetsDir, "faces", "alice", smp.ID+".png")) {
		t.Errorf("datasets %+v", sets)
	}
	wantFiles(t, dir, map[string]string{
		filepath.Join(modelsDir, kept.ID+modelExt):                              "model",
		filepath.Join(checkpointsDir, running.ID+modelExt):                      "ckpt",
		filepath.Join(datasetsDir, "faces", "alice", smp.ID+".png"):             "png",
		filepath.Join(lostFoundDir, modelsDir, "0123456789abcdef"+modelExt):     "x",
		filepath.Join(lostFoundDir, checkpointsDir, oldCanceled.ID+modelExt):    "ckpt",
		filepath.Join(lostFoundDir, datasetsDir, "faces", "alice", "stray.png"): "x",
	})
}

// TestRecoveryWithoutDatabase: a data directory whose database is gone
// (deleted, or a backup copied without its -wal file) has no row for any
// file. Open starts an empty store and puts every model, checkpoint and
// sample aside in lost+found, under its path in the data directory; a name
// already taken there (by an earlier recovery) gets a suffix, and the file
// that had it is kept.
func TestRecoveryWithoutDatabase(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := s.AddModel("a", writeString("model a"), fakeCheck)
	b, _ := s.AddModel("b", writeString("model b"), fakeCheck)
	j := checkpointedJob(t, s)
	smp := aliceSample(t, s)
	s.Close()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(filepath.Join(dir, dbName+suffix)); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}
	taken := filepath.Join(dir, lostFoundDir, modelsDir, a.ID+modelExt)
	os.MkdirAll(filepath.Dir(taken), 0o755)
	if err := os.WriteFile(taken, []byte("older a"), 0o644); err != nil {
		t.Fatal(err)
	}

	s, rec, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if want := (Recovery{StrayFiles: 4}); rec != want {
		t.Errorf("recovery %+v, want %+v", rec, want)
	}
	if cards, _, _ := s.Models(); len(cards) != 0 {
		t.Errorf("%d models in a new database", len(cards))
	}
	wantFiles(t, dir, map[string]string{
		filepath.Join(lostFoundDir, modelsDir, a.ID+modelExt):                     "older a",
		filepath.Join(lostFoundDir, modelsDir, a.ID+"-1"+modelExt):                "model a",
		filepath.Join(lostFoundDir, modelsDir, b.ID+modelExt):                     "model b",
		filepath.Join(lostFoundDir, checkpointsDir, j.ID+modelExt):                "ckpt",
		filepath.Join(lostFoundDir, datasetsDir, "faces", "alice", smp.ID+".png"): "png",
	})
}

// TestRecoveryStatError: a row's file that cannot be looked at (here a
// symbolic link to itself, which stat refuses to the superuser too, as it
// refuses a folder without permission to others) is not missing: Open fails
// naming the file, and keeps the row, so that the model, checkpoint or
// sample is there again once the file can be read.
func TestRecoveryStatError(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := s.AddModel("m", writeString("model"), fakeCheck)
	j := checkpointedJob(t, s)
	smp := aliceSample(t, s)
	s.Close()
	for _, rel := range []string{
		filepath.Join(modelsDir, m.ID+modelExt),
		filepath.Join(checkpointsDir, j.ID+modelExt),
		filepath.Join(datasetsDir, "faces", "alice", smp.ID+".png"),
	} {
		path := filepath.Join(dir, rel)
		aside := filepath.Join(t.TempDir(), "aside") // out of Open's way
		if err := os.Rename(path, aside); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(filepath.Base(path), path); err != nil {
			t.Fatal(err)
		}
		if s, _, err := Open(dir); err == nil || !strings.Contains(err.Error(), path) {
			if err == nil {
				s.Close()
			}
			t.Errorf("%s unreadable: Open: %v, want an error naming it", rel, err)
		}
		os.Remove(path)
		if err := os.Rename(aside, path); err != nil {
			t.Fatal(err)
		}
	}
	s, rec, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if want := (Recovery{Interrupted: 1}); rec != want {
		t.Errorf("recovery %+v, want %+v", rec, want)
	}
	if _, path, err := s.Model(m.ID); err != nil || !exists(path) {
		t.Errorf("model: %v", err)
	}
	if j, _ := s.Job(j.ID); j.Checkpoint == "" || j.CkptStep != 5 {
		t.Errorf("job: %+v, want its checkpoint at step 5", j)
	}
	if sets, _ := s.Datasets(); len(sets) != 1 || sets[0].Samples != 1 {
		t.Errorf("datasets %+v, want the sample", sets)
	}
}

// wantFiles checks that the regular files in the folders of dir (not the
// database's and the lock, beside them) are those of want (path relative to

// TestRecoveryWrongSize truncates one model's file: Open removes its row
// and moves the file to lost+found (never deleting it), counting it, and
// keeps the model whose file has its recorded size.
func TestRecoveryWrongSize(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	kept, _ := s.AddModel("kept", writeString("model kept"), fakeCheck)
	cut, err := s.AddModel("cut", writeString("model cut"), fakeCheck)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.Truncate(filepath.Join(dir, modelsDir, cut.ID+modelExt), 5); err != nil {
		t.Fatal(err)
	}

	s, rec, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if want := (Recovery{StrayFiles: 1, WrongSize: 1}); rec != want {
		t.Errorf("recovery %+v, want %+v", rec, want)
	}
	if _, _, err := s.Model(cut.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("truncated model: %v, want ErrNotFound", err)
	}
	if cards, _, _ := s.Models(); len(cards) != 1 || cards[0].ID != kept.ID {
		t.Errorf("models %+v, want the kept one alone", cards)
	}
	wantFiles(t, dir, map[string]string{
		filepath.Join(modelsDir, kept.ID+modelExt):              "model kept",
		filepath.Join(lostFoundDir, modelsDir, cut.ID+modelExt): "model",
	})
}

// TestRecoveryUnreadableCard damages one model's card in the database:
// until the next Open the list of models leaves it out, with its error, and lists
// the readable model (before, that row failed the whole list); Open
// removes its row and moves its file to lost+found (never deleting it),
// counting it.
func TestRecoveryUnreadableCard(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	kept, _ := s.AddModel("kept", writeString("model kept"), fakeCheck)
	bad, err := s.AddModel("bad", writeString("model bad"), fakeCheck)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec("UPDATE models SET card = '{bad' WHERE id = ?", bad.ID); err != nil {
		t.Fatal(err)
	}
	cards, unreadable, err := s.Models()
	if err != nil || len(cards) != 1 || cards[0].ID != kept.ID {
		t.Errorf("models with a damaged card: %+v, %v; want the kept one alone", cards, err)
	}
	if len(unreadable) != 1 || !strings.Contains(unreadable[0].Error(), bad.ID) {
		t.Errorf("unreadable %q, want one error naming %s", unreadable, bad.ID)
	}
	if _, _, err := s.Model(bad.ID); err == nil {
		t.Error("the model of the damaged card read without an error")
	}
	s.Close()

	s, rec, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if want := (Recovery{StrayFiles: 1, UnreadableCards: 1}); rec != want {
		t.Errorf("recovery %+v, want %+v", rec, want)
	}
	if cards, unreadable, err := s.Models(); err != nil || len(unreadable) != 0 || len(cards) != 1 || cards[0].ID != kept.ID {
		t.Errorf("models %+v, %v; want the kept one alone", cards, err)
	}
	wantFiles(t, dir, map[string]string{
		filepath.Join(modelsDir, kept.ID+modelExt):              "model kept",
		filepath.Join(lostFoundDir, modelsDir, bad.ID+modelExt): "model bad",
	})
}

// TestUnreadableJobs damages the config of jobs in every state that Open
// looks at, and the metrics of a done one: each reads as failed with the
// error Unreadable, beside the readable job, instead of failing the list;
// Open fails the queued, running and interrupted ones (the running one's
// checkpoint put aside, as an ended job's) and counts them; Queued offers
// only the readable job.
func TestUnreadableJobs(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	req := msg.TrainRequest{Data: "tiny"}
	good, _ := s.CreateJob("1.2.3.4", req, 10, 0)
	queued, _ := s.CreateJob("1.2.3.4", req, 10, 0)
	running, _ := s.CreateJob("1.2.3.4", req, 10, 0)
	s.Transition(running.ID, []string{StateQueued}, StateRunning, "")
	if err := s.SaveCheckpoint(running.ID, 5, 10, 0.5, nil, writeString("ckpt")); err != nil {
		t.Fatal(err)
	}
	interrupted, _ := s.CreateJob("1.2.3.4", req, 10, 0)
	done, _ := s.CreateJob("1.2.3.4", req, 10, 0)
	badMetrics, _ := s.CreateJob("1.2.3.4", req, 10, 0)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"UPDATE jobs SET state = ? WHERE id = ?", []any{StateInterrupted, interrupted.ID}},
		{"UPDATE jobs SET state = ? WHERE id IN (?, ?)", []any{StateDone, done.ID, badMetrics.ID}},
		{"UPDATE jobs SET config = '{bad' WHERE id IN (?, ?, ?, ?)", []any{queued.ID, running.ID, interrupted.ID, done.ID}},
		{"UPDATE jobs SET metrics = '{bad' WHERE id = ?", []any{badMetrics.ID}},
	} {
		if _, err := s.db.Exec(q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	if js, err := s.Jobs(); err != nil || len(js) != 6 {
		t.Errorf("Jobs while open: %d jobs, %v; want 6", len(js), err)
	}
	if js, err := s.Queued(); err != nil || len(js) != 1 || js[0].ID != good.ID {
		t.Errorf("Queued while open: %+v, %v; want the readable job alone", js, err)
	}
	s.Close()

	s, rec, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if want := (Recovery{StrayFiles: 1, UnreadableJobs: 3}); rec != want {
		t.Errorf("recovery %+v, want %+v", rec, want)
	}
	js, err := s.Jobs()
	if err != nil || len(js) != 6 {
		t.Fatalf("Jobs: %d jobs, %v; want 6", len(js), err)
	}
	if j := js[0]; j.ID != good.ID || j.State != StateQueued || j.Config.Data != "tiny" || j.Error != "" {
		t.Errorf("readable job: %+v", j)
	}
	for _, j := range js[1:] {
		if j.State != StateFailed || j.Error != Unreadable || j.Checkpoint != "" {
			t.Errorf("job %s: state %s, error %q, checkpoint %q; want failed, %q, none", j.ID, j.State, j.Error, j.Checkpoint, Unreadable)
		}
	}
	if j, err := s.Job(interrupted.ID); err != nil || j.State != StateFailed || j.Error != Unreadable {
		t.Errorf("Job(interrupted): %+v, %v", j, err)
	}
	if js, err := s.Queued(); err != nil || len(js) != 1 || js[0].ID != good.ID {
		t.Errorf("Queued: %+v, %v; want the readable job alone", js, err)
	}
	var states []string
	rows, _ := s.db.Query("SELECT state FROM jobs WHERE id IN (?, ?) ORDER BY rowid", done.ID, badMetrics.ID)
	for rows.Next() {
		var st string
		rows.Scan(&st)
		states = append(states, st)
	}
	rows.Close()
	if len(states) != 2 || states[0] != StateDone || states[1] != StateDone {
		t.Errorf("ended jobs' rows: states %v, want done as stored (only unfinished jobs are changed)", states)
	}
	wantFiles(t, dir, map[string]string{
		filepath.Join(lostFoundDir, checkpointsDir, running.ID+modelExt): "ckpt",
	})
}

// dir → content).
func wantFiles(t *testing.T, dir string, want map[string]string) {
	t.Helper()
	got := make(map[string]string)
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Dir(path) == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		b, err := os.ReadFile(path)
		got[rel] = string(b)
		return err
	})
	for rel, content := range want {
		if c, ok := got[rel]; !ok || c != content {
			t.Errorf("%s: %q (present %v), want %q", rel, c, ok, content)
		}
	}
	for rel := range got {
		if _, ok := want[rel]; !ok {
			t.Errorf("%s: left, not expected", rel)
		}
	}
}

func TestJobLimitAndTransitions(t *testing.T) {
	s, _, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, _ := s.CreateJob("a", msg.TrainRequest{}, 1, 2)
	s.CreateJob("a", msg.TrainRequest{}, 1, 2)
	if _, err := s.CreateJob("a", msg.TrainRequest{}, 1, 2); !errors.Is(err, ErrLimit) {
		t.Errorf("third job of a: %v, want ErrLimit", err)
	}
	if err := s.CheckLimit("a", 2); !errors.Is(err, ErrLimit) {
		t.Errorf("CheckLimit of a at 2 jobs: %v, want ErrLimit", err)
	}
	if err := s.CheckLimit("a", 3); err != nil {
		t.Errorf("CheckLimit of a below its limit: %v", err)
	}
	if _, err := s.CreateJob("b", msg.TrainRequest{}, 1, 2); err != nil {
		t.Errorf("job of b: %v", err)
	}
	if ok, _ := s.Transition(a.ID, []string{StateQueued}, StateCanceled, ""); !ok {
		t.Error("queued → canceled refused")
	}
	if ok, _ := s.Transition(a.ID, []string{StateQueued, StateRunning}, StateDone, ""); ok {
		t.Error("canceled → done allowed")
	}
	if _, err := s.CreateJob("a", msg.TrainRequest{}, 1, 2); err != nil {
		t.Errorf("a canceled job still counts: %v", err)
	}
}

// TestJobNote: a job's note (SetNote) is kept apart from its error, and
// ResumeJob clears it with the error; a data directory from before the
// note column opens with it added, its jobs read with no note. Before,
// the note was only in the error, whose reason a cancel drops.
func TestJobNote(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := s.CreateJob("a", msg.TrainRequest{}, 1, 0)
	// As a metriclab from before the column and schema versions left it.
	for _, stmt := range []string{"ALTER TABLE jobs DROP COLUMN note", "PRAGMA user_version = 0"} {
		if _, err := s.db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if s, _, err = Open(dir); err != nil {
		t.Fatalf("opening a data directory without the jobs' note column: %v", err)
	}
	defer s.Close()
	if j, err := s.Job(old.ID); err != nil || j.Note != "" || j.State != StateQueued {
		t.Errorf("the job from before the note column: %+v, %v; want it queued, no note", j, err)
	}
	const note = "data set bars: 36 images, 1 skipped: 1 under 8 pixels a side"
	s.Transition(old.ID, []string{StateQueued}, StateRunning, "")
	if err := s.SetNote(old.ID, note); err != nil {
		t.Fatal(err)
	}
	s.Transition(old.ID, []string{StateRunning}, StateInterrupted, note+"; the server stopped")
	if j, _ := s.Job(old.ID); j.Note != note || j.Error != note+"; the server stopped" {
		t.Errorf("interrupted: note %q, error %q; want the note %q apart", j.Note, j.Error, note)
	}
	if ok, err := s.ResumeJob(old.ID, "a", 0); !ok || err != nil {
		t.Fatalf("resume: %v, %v", ok, err)
	}
	if j, _ := s.Job(old.ID); j.Note != "" || j.Error != "" {
		t.Errorf("resumed: note %q, error %q; want both cleared", j.Note, j.Error)
	}
}

// TestRecoveryStoppedNote: a job left running by a server that died
// comes back interrupted with the error the server's graceful stop gives
// it (Stopped): its note, then how to resume it, from its checkpoint's
// step or from the start; one without a note with none, as there. Before,
// the recovery left its error "": the note lost, nothing said of how to
// resume it.
func TestRecoveryStoppedNote(t *testing.T) {
	const note = "data set bars: 36 images, 1 skipped: 1 under 8 pixels a side"
	dir := t.TempDir()
	s, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	saved, fresh, bare := runningJob(t, s), runningJob(t, s), runningJob(t, s)
	for _, j := range []Job{saved, fresh} {
		if err := s.SetNote(j.ID, note); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SaveCheckpoint(saved.ID, 5, 10, 0.5, nil, writeString("ckpt")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, rec, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if rec.Interrupted != 3 {
		t.Errorf("recovery %+v, want the 3 running jobs interrupted", rec)
	}
	for _, c := range []struct {
		name string
		id   string
		want string
	}{
		{"checkpointed", saved.ID, note + "; the server stopped: resume the job to go on from its checkpoint at step 5"},
		{"before its first checkpoint", fresh.ID, note + "; the server stopped before the job's first checkpoint: resume it to train again from the start"},
		{"without a note", bare.ID, ""},
	} {
		if j, err := s.Job(c.id); err != nil || j.State != StateInterrupted || j.Error != c.want {
			t.Errorf("%s: %+v, %v; want interrupted, error %q", c.name, j, err, c.want)
		}
	}
}

// TestCancelWaiting: a cancel of a waiting job gives an interrupted one
// its note as its error, a queued one "", and refuses a running one, from
// the row alone, nothing read before; the interrupted one's checkpoint
// goes. Before, its caller (the runner's Cancel) read the job first for
// its note, and a run interrupted between that read and the cancel lost
// it.
func TestCancelWaiting(t *testing.T) {
	s, _, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const note = "data set bars: 36 images, 1 skipped: 1 under 8 pixels a side"
	job := func(state string) Job {
		t.Helper()
		j, err := s.CreateJob("a", msg.TrainRequest{Data: "tiny"}, 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		// A note on each, the queued one's too: the state alone says
		// whether the cancel keeps it.
		if err := s.SetNote(j.ID, note); err != nil {
			t.Fatal(err)
		}
		if state == StateQueued {
			return j
		}
		s.Transition(j.ID, []string{StateQueued}, StateRunning, "")
		if err := s.SaveCheckpoint(j.ID, 5, 10, 0.5, nil, writeString("ckpt")); err != nil {
			t.Fatal(err)
		}
		if state == StateInterrupted {
			s.Transition(j.ID, []string{StateRunning}, StateInterrupted, Stopped(note, 5))
		}
		return j
	}
	for _, tc := range []struct {
		state         string
		ok            bool
		state2, error string // after the cancel
		ckpt          bool   // its checkpoint kept
	}{
		{StateInterrupted, true, StateCanceled, note, false},
		{StateQueued, true, StateCanceled, "", false},
		{StateRunning, false, StateRunning, "", true},
	} {
		j := job(tc.state)
		ok, err := s.CancelWaiting(j.ID)
		if err != nil || ok != tc.ok {
			t.Errorf("%s: canceled %v, %v; want %v", tc.state, ok, err, tc.ok)
		}
		got, _ := s.Job(j.ID)
		if got.State != tc.state2 || got.Error != tc.error {
			t.Errorf("%s, then CancelWaiting: %s, error %q; want %s, %q", tc.state, got.State, got.Error, tc.state2, tc.error)
		}
		if ckpt := got.Checkpoint != "" || exists(filepath.Join(s.dir, checkpointsDir, j.ID+modelExt)); ckpt != tc.ckpt {
			t.Errorf("%s, then CancelWaiting: checkpoint kept %v, want %v", tc.state, ckpt, tc.ckpt)
		}
	}
	if ok, err := s.CancelWaiting("nosuchjob"); ok || err != nil {
		t.Errorf("no such job: canceled %v, %v; want false, nil", ok, err)
	}
}

// TestEndedJobsDropCheckpoints: a job that becomes canceled or failed
// cannot be resumed, so its checkpoint goes; an interrupted one keeps it,
// and so does a job whose transition is refused.
func TestEndedJobsDropCheckpoints(t *testing.T) {
	s, _, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	running := func() Job {
		t.Helper()
		j, err := s.CreateJob("a", msg.TrainRequest{Data: "tiny"}, 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		s.Transition(j.ID, []string{StateQueued}, StateRunning, "")
		if err := s.SaveCheckpoint(j.ID, 5, 10, 0.5, nil, writeString("ckpt")); err != nil {
			t.Fatal(err)
		}
		j, _ = s.Job(j.ID)
		return j
	}
	has := func(j Job) bool {
		t.Helper()
		j, _ = s.Job(j.ID)
		path, step := s.CheckpointPath(j)
		if file := exists(filepath.Join(s.dir, checkpointsDir, j.ID+modelExt)); (path != "") != file {
			t.Errorf("job %s: the row names checkpoint %q, the file exists: %v", j.ID, path, file)
		}
		return path != "" && step == 5
	}
	canceled, failed, interrupted := running(), running(), running()
	if ok, _ := s.Transition(canceled.ID, []string{StateQueued}, StateCanceled, ""); ok || !has(canceled) {
		t.Errorf("a refused transition (running is not queued): moved %v, checkpoint kept %v", ok, has(canceled))
	}
	if ok, _ := s.Transition(canceled.ID, []string{StateRunning}, StateCanceled, ""); !ok || has(canceled) {
		t.Errorf("running → canceled: moved %v, checkpoint kept %v", ok, has(canceled))
	}
	if ok, _ := s.Transition(failed.ID, []string{StateRunning}, StateFailed, "boom"); !ok || has(failed) {
		t.Errorf("running → failed: moved %v, checkpoint kept %v", ok, has(failed))
	}
	if ok, _ := s.Transition(interrupted.ID, []string{StateRunning}, StateInterrupted, ""); !ok || !has(interrupted) {
		t.Errorf("running → interrupted: moved %v, checkpoint kept %v (want kept)", ok, has(interrupted))
	}
	if ok, _ := s.Transition(interrupted.ID, []string{StateInterrupted}, StateCanceled, ""); !ok || has(interrupted) {
		t.Errorf("interrupted → canceled: moved %v, checkpoint kept %v", ok, has(interrupted))
	}
}

// TestCheckpointOfStoppedJob: a checkpoint saved for a job that is no
// longer running is dropped, and the checkpoint its row names, if any, is
// neither removed nor replaced: an interrupted job resumes from the step
// its row says (before, the file was removed and the row still named it,
// so the job started over), a canceled one keeps none.
func TestCheckpointOfStoppedJob(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	interrupted, _ := s.CreateJob("a", msg.TrainRequest{Data: "tiny"}, 10, 0)
	s.Transition(interrupted.ID, []string{StateQueued}, StateRunning, "")
	if err := s.SaveCheckpoint(interrupted.ID, 5, 10, 0.5, nil, writeString("step 5")); err != nil {
		t.Fatal(err)
	}
	s.Transition(interrupted.ID, []string{StateRunning}, StateInterrupted, "")
	canceled, _ := s.CreateJob("a", msg.TrainRequest{Data: "tiny"}, 10, 0)
	s.Transition(canceled.ID, []string{StateQueued}, StateRunning, "")
	s.Transition(canceled.ID, []string{StateRunning}, StateCanceled, "")
	for _, j := range []Job{interrupted, canceled} {
		if err := s.SaveCheckpoint(j.ID, 8, 10, 0.4, nil, writeString("step 8")); err != nil {
			t.Errorf("job %s: %v", j.ID, err)
		}
	}
	j, _ := s.Job(interrupted.ID)
	if path, step := s.CheckpointPath(j); step != 5 || path != filepath.Join(dir, checkpointsDir, j.ID+modelExt) || j.Step != 5 {
		t.Errorf("interrupted job: checkpoint %q at step %d, step %d; want its own at step 5", path, step, j.Step)
	}
	if j, _ := s.Job(canceled.ID); j.Checkpoint != "" {
		t.Errorf("canceled job: checkpoint %q, want none", j.Checkpoint)
	}
	wantFiles(t, dir, map[string]string{filepath.Join(checkpointsDir, interrupted.ID+modelExt): "step 5"})
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{
		"alice": true, "Bob_2": true, "a-b": true, "": false, "..": false, "a/b": false, `a\b`: false,
		".hidden": false, "a b": false, "é": false, string(make([]byte, 65)): false, "x\x00": false, "mnist": false,
	} {
		if ValidName(name) != want {
			t.Errorf("ValidName(%q) = %v", name, !want)
		}
	}
}

// TestSampleNames stores samples of people named as people are, each in a
// folder of its name, and refuses names that are no folder name.
func TestSampleNames(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	write := func(w io.Writer) error { _, err := w.Write([]byte("png")); return err }
	for _, name := range []string{"Ann Smith", "José", "Zoë O'Neil", "李雷"} {
		smp, err := s.AddSample("faces", name, ".png", write)
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "datasets", "faces", name, smp.ID+".png")); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
	for _, name := range []string{"", "../x", "a/b", ".hidden", "train", " Ann", "a\x00b"} {
		if _, err := s.AddSample("faces", name, ".png", write); !errors.Is(err, ErrInvalidName) {
			t.Errorf("identity %q: %v, want ErrInvalidName", name, err)
		}
	}
	if _, err := s.AddSample("my faces", "ann", ".png", write); !errors.Is(err, ErrInvalidName) {
		t.Errorf("data set \"my faces\": %v, want ErrInvalidName", err)
	}
	sets, err := s.Datasets()
	if err != nil || len(sets) != 1 || sets[0].Identities != 4 || sets[0].Samples != 4 {
		t.Errorf("datasets %+v, %v", sets, err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "datasets", "faces"))
	if len(entries) != 4 {
		t.Errorf("%d folders in the data set, want the 4 identities", len(entries))
	}
}

// TestSampleNamesStoredBefore: a data set and an identity named before
// the rules for Windows' device names and a final "." ("aux", "Smith
// Jr.", rows as an earlier version stored them) are still found and take
// more samples; new ones of such names are refused, also one that differs
// from a stored name in case alone ("AUX", "Faces", "BOB": on a file system
// that ignores case they would share its folder).
func TestSampleNamesStoredBefore(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.db.Exec("INSERT INTO datasets (name, created) VALUES (?, ?)", "aux", now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec("INSERT INTO samples (id, dataset, identity, file, created) VALUES (?, ?, ?, ?, ?)",
		newID(), "aux", "Smith Jr.", filepath.Join("datasets", "aux", "Smith Jr.", "old.png"), now()); err != nil {
		t.Fatal(err)
	}
	if d, err := s.DatasetDir("aux"); err != nil || d != filepath.Join(dir, "datasets", "aux") {
		t.Errorf("DatasetDir(aux) = %q, %v; want its folder", d, err)
	}
	write := func(w io.Writer) error { _, err := w.Write([]byte("png")); return err }
	if _, err := s.AddSample("aux", "Smith Jr.", ".png", write); err != nil {
		t.Errorf("a sample of the stored identity \"Smith Jr.\" in the stored data set aux: %v", err)
	}
	if _, err := s.AddSample("aux", "Bob", ".png", write); err != nil {
		t.Errorf("a sample of a new identity Bob: %v", err)
	}
	if _, err := s.AddSample("faces", "Ann", ".png", write); err != nil {
		t.Errorf("a sample of a new data set faces: %v", err)
	}
	for _, c := range []struct{ dataset, identity, says string }{
		{"aux", "con", `identity "con": a name Windows keeps for a device`},
		{"aux", "Ann Jr.", `identity "Ann Jr.": a name cannot end with "."`},
		{"nul", "Ann", `data set "nul": a name Windows keeps for a device`},
		{"AUX", "Ann", `data set "AUX"`},
		// A new name that a stored one is but for case.
		{"Faces", "Ann", `data set "Faces": the data set "faces" exists: names that differ only in case would share a folder`},
		{"aux", "BOB", `identity "BOB": the identity "Bob" exists: names that differ only in case would share a folder`},
		{"aux", "bob", `identity "bob": the identity "Bob" exists`},
		// Or but for the form of a character, in Unicode's form KC
		// (R22): fullwidth letters read as the ASCII ones.
		{"aux", "ＢＯＢ", `identity "ＢＯＢ": the identity "Bob" exists: names that differ only in the form of a character (ａ for a, ﬁ for fi), or in case, read as one person`},
		{"aux", "ｂｏｂ", `identity "ｂｏｂ": the identity "Bob" exists`},
		{"aux", "ｔｒａｉｎ", `identity "ｔｒａｉｎ": "train" and "test" are not names, in any case or form`},
		{"aux", "ｔｅｓｔ", `"train" and "test" are not names`},
	} {
		if _, err := s.AddSample(c.dataset, c.identity, ".png", write); !errors.Is(err, ErrInvalidName) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("new %s/%s: %v, want ErrInvalidName saying %q", c.dataset, c.identity, err, c.says)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "datasets", "nul")); !os.IsNotExist(err) {
		t.Errorf("the refused data set nul left a folder (%v)", err)
	}
}

// TestSampleNamesNFC: an identity's name is taken in Unicode normal form
// C, so that "José" sent with é (NFC, as the page sends a typed name) and
// as e and a combining accent (NFD, as macOS names files) is one person,
// in one folder; a name that differs from a stored one in case alone is
// refused whichever the forms ("JOSÉ" in NFD). An identity stored in
// another form before names were normalised (a row and folder "Zoë" in
// NFD) takes the samples of its name in either form. Before, the two
// forms of José were two identities of the data set, two classes of one
// person, in two folders side by side (which macOS's file systems would
// merge), and "JOSÉ" in NFD a third.
func TestSampleNamesNFC(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const nfc, nfd = "Jos\u00e9", "Jose\u0301"
	for _, name := range []string{nfd, nfc} { // two images: one image of one person is stored once
		smp, err := s.AddSample("faces", name, ".png", writeString("png of "+name))
		if err != nil || smp.Identity != nfc {
			t.Errorf("a sample of %+q: identity %+q, %v; want %+q", name, smp.Identity, err, nfc)
		}
	}
	if _, err := s.AddSample("faces", "JOSE\u0301", ".png", writeString("png")); !errors.Is(err, ErrInvalidName) || !strings.Contains(err.Error(), "differ only in case") {
		t.Errorf(`"JOSÉ" in NFD beside "José": %v, want ErrInvalidName saying the names differ only in case`, err)
	}
	// Zoë as stored before: its row and folder in NFD.
	const zoeNFC, zoeNFD = "Zo\u00eb", "Zoe\u0308"
	old := filepath.Join("datasets", "faces", zoeNFD, "old.png")
	if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(old)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, old), []byte("png"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec("INSERT INTO samples (id, dataset, identity, file, created) VALUES (?, ?, ?, ?, ?)",
		newID(), "faces", zoeNFD, old, now()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{zoeNFC, zoeNFD} {
		smp, err := s.AddSample("faces", name, ".png", writeString("png of "+name))
		if err != nil || smp.Identity != zoeNFD {
			t.Errorf("a sample of %+q beside the stored %+q: identity %+q, %v; want the stored one", name, zoeNFD, smp.Identity, err)
		}
	}

	sets, err := s.Datasets()
	if err != nil || len(sets) != 1 || sets[0].Identities != 2 || sets[0].Samples != 5 {
		t.Errorf("datasets %+v, %v; want faces with 2 identities, 5 samples", sets, err)
	}
	d, err := s.DatasetDir("faces")
	if err != nil {
		t.Fatal(err)
	}
	if classes, err := data.ClassNames(d, "all"); err != nil || !slices.Equal(classes, []string{nfc, zoeNFD}) {
		t.Errorf("the data set's identities on disk: %+q (%v), want %+q", classes, err, []string{nfc, zoeNFD})
	}

	// A name is compared in form KC but stored in form C, as typed: the
	// ligature ﬁ stays, and "Fiona" beside it is one person (R22).
	if smp, err := s.AddSample("lig", "\ufb01ona", ".png", writeString("png of fiona")); err != nil || smp.Identity != "\ufb01ona" {
		t.Errorf(`a sample of "ﬁona": identity %+q, %v; want "ﬁona" as sent`, smp.Identity, err)
	}
	if _, err := s.AddSample("lig", "Fiona", ".png", writeString("png")); !errors.Is(err, ErrInvalidName) || !strings.Contains(err.Error(), `the identity "ﬁona" exists: names that differ only in the form of a character`) {
		t.Errorf(`"Fiona" beside "ﬁona": %v, want ErrInvalidName saying the names differ only in a character's form`, err)
	}
}

// TestSampleNamesAtOnce: two first samples whose names differ only in
// case, of a data set or of an identity, stored at once: exactly one is
// stored, the other refused as it would be after it, and it leaves no
// folder. Each write waits for the other's to start, so both have passed
// the look at the stored names before either is stored.
func TestSampleNamesAtOnce(t *testing.T) {
	for _, c := range []struct {
		name     string
		a, b     [2]string // data set, identity
		stored   string    // a data set stored before, or ""
		says     string
		identity bool // the names are the identities' (else the data sets')
	}{
		{"data sets", [2]string{"faces", "Ann"}, [2]string{"Faces", "Ann"}, "", "names that differ only in case would share a folder", false},
		{"identities", [2]string{"faces", "Ann"}, [2]string{"faces", "ann"}, "faces", "names that differ only in case would share a folder", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			s, _, err := Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if c.stored != "" {
				if _, err := s.AddSample(c.stored, "Bob", ".png", writeString("png")); err != nil {
					t.Fatal(err)
				}
			}
			var started sync.WaitGroup
			started.Add(2)
			write := func(w io.Writer) error {
				started.Done()
				started.Wait()
				_, err := io.WriteString(w, "png")
				return err
			}
			var errs [2]error
			var done sync.WaitGroup
			for i, ds := range [][2]string{c.a, c.b} {
				done.Add(1)
				go func() {
					defer done.Done()
					_, errs[i] = s.AddSample(ds[0], ds[1], ".png", write)
				}()
			}
			done.Wait()
			var refused []error
			lost, kept := c.a, c.b
			for i, err := range errs {
				if err != nil {
					refused = append(refused, err)
					if i == 1 {
						lost, kept = c.b, c.a
					}
				}
			}
			if len(refused) != 1 || !errors.Is(refused[0], ErrInvalidName) || !strings.Contains(refused[0].Error(), c.says) {
				t.Fatalf("errors %v, want exactly one, ErrInvalidName saying %q", errs, c.says)
			}
			sets, err := s.Datasets()
			want := 1
			if c.stored != "" {
				want = 2 // Bob's and the one stored
			}
			if err != nil || len(sets) != 1 || sets[0].Samples != want {
				t.Errorf("data sets %+v (%v), want one of %d samples", sets, err, want)
			}
			// The refused name's folder is not made (unless the file
			// system ignores case: then it is the stored one's).
			folder := func(ds [2]string) string {
				if c.identity {
					return filepath.Join(dir, "datasets", ds[0], ds[1])
				}
				return filepath.Join(dir, "datasets", ds[0])
			}
			st, err := os.Lstat(folder(lost))
			if keptSt, keptErr := os.Lstat(folder(kept)); keptErr != nil || err == nil && !os.SameFile(st, keptSt) {
				t.Errorf("the refused %v left its folder %s (the stored one's: %v)", lost, folder(lost), keptErr)
			}
			if names := tempFiles(t, filepath.Join(dir, "datasets")); len(names) > 0 {
				t.Errorf("temporary files left: %v", names)
			}
		})
	}
}

// tempFiles lists the temporary files of writeTemp under root.
func tempFiles(t *testing.T, root string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err == nil && isTemp(d.Name()) {
			names = append(names, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// TestFailedWritesLeaveNothing: a model, checkpoint or sample whose write
// fails midway (an upload cut off) leaves no file behind, temporary or
// not, and no row.
func TestFailedWritesLeaveNothing(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cut := func(w io.Writer) error {
		io.WriteString(w, "half a file")
		return io.ErrUnexpectedEOF
	}
	if _, err := s.AddModel("cut", cut, fakeCheck); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("AddModel: %v, want the write's error", err)
	}
	j, _ := s.CreateJob("1.2.3.4", msg.TrainRequest{Data: "tiny"}, 10, 0)
	if err := s.SaveCheckpoint(j.ID, 5, 10, 0.5, nil, cut); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("SaveCheckpoint: %v, want the write's error", err)
	}
	if _, err := s.AddSample("faces", "alice", ".png", cut); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("AddSample: %v, want the write's error", err)
	}
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Dir(path) != dir {
			t.Errorf("a failed write left %s", path)
		}
		return nil
	})
	if cards, _, _ := s.Models(); len(cards) != 0 {
		t.Errorf("a failed write registered %d models", len(cards))
	}
}

// runningJob creates a job of s and starts it.
func runningJob(t *testing.T, s *Store) Job {
	t.Helper()
	j, err := s.CreateJob("1.2.3.4", msg.TrainRequest{Data: "tiny"}, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Transition(j.ID, []string{StateQueued}, StateRunning, ""); !ok || err != nil {
		t.Fatalf("starting job %s: %v %v", j.ID, ok, err)
	}
	return j
}

// checkpointedJob starts a job of s and saves its checkpoint "ckpt" at
// step 5.
func checkpointedJob(t *testing.T, s *Store) Job {
	t.Helper()
	j := runningJob(t, s)
	if err := s.SaveCheckpoint(j.ID, 5, 10, 0.5, nil, writeString("ckpt")); err != nil {
		t.Fatal(err)
	}
	return j
}

// aliceSample adds the sample "png" of alice to the data set faces.
func aliceSample(t *testing.T, s *Store) Sample {
	t.Helper()
	smp, err := s.AddSample("faces", "alice", ".png", writeString("png"))
	if err != nil {
		t.Fatal(err)
	}
	return smp
}

// TestDeleteModelFileLeft puts a folder in a model's file's place, which
// os.Remove refuses: DeleteModel deletes the model all the same (its row
// gone, a second delete ErrNotFound) and says why the file is left, and
// Open keeps no row for it. Before, it returned the error, although the
// model was deleted.
func TestDeleteModelFileLeft(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.AddModel("m", writeString("model"), fakeCheck)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, modelsDir, m.ID+modelExt)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(path, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	left, err := s.DeleteModel(m.ID)
	if err != nil || left == nil || !strings.Contains(left.Error(), path) {
		t.Errorf("DeleteModel with its file unremovable: %v, left %v; want nil, and an error naming %s", err, left, path)
	}
	if _, _, err := s.Model(m.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("the deleted model: %v, want ErrNotFound", err)
	}
	if _, err := s.DeleteModel(m.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted again: %v, want ErrNotFound", err)
	}
	s.Close()
	s, _, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if cards, _, err := s.Models(); err != nil || len(cards) != 0 {
		t.Errorf("models after a restart: %+v, %v; want none", cards, err)
	}
}

// TestRecoveryDescribe: the repair log names only what was repaired, each
// count with its noun in the right number ("1 files" before).
func TestRecoveryDescribe(t *testing.T) {
	for _, tc := range []struct {
		r    Recovery
		want string
	}{
		{Recovery{}, ""},
		{Recovery{TempFiles: 1}, "1 temporary file removed"},
		{Recovery{StrayFiles: 1, WrongSize: 1, Interrupted: 2}, "1 file without a row (a model whose file had another size than its row's) moved to LF, 2 jobs interrupted"},
		{Recovery{StrayFiles: 2, WrongSize: 2}, "2 files without rows (models whose files had another size than their rows') moved to LF"},
		{Recovery{TempFiles: 2, StrayFiles: 3, WrongSize: 1, MissingRows: 1, UnreadableJobs: 1},
			"2 temporary files removed, 3 files without rows (1 of them models whose files had another size than their rows') moved to LF, 1 row without a file removed, 1 job failed as " + Unreadable},
		{Recovery{StrayFiles: 1, UnreadableCards: 1}, "1 file without a row (a model whose row could not be read) moved to LF"},
		{Recovery{StrayFiles: 4, WrongSize: 1, UnreadableCards: 2},
			"4 files without rows (1 of them models whose files had another size than their rows'; 2 of them models whose rows could not be read) moved to LF"},
	} {
		if got := tc.r.Describe("LF"); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.r, got, tc.want)
		}
	}
}

// TestNewFoldersSynced: the folders of a new data set and of a new
// identity are synced in the folder they are made in, so that after a
// power cut the sample whose row was committed is still found in them;
// before, only the identity's folder (the file's) was synced.
func TestNewFoldersSynced(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var synced []string
	s.syncDir = func(d string) {
		rel, _ := filepath.Rel(dir, d)
		synced = append(synced, filepath.ToSlash(rel))
	}
	for _, tc := range []struct {
		dataset, identity string
		want              []string
	}{
		{"faces", "ann", []string{"datasets", "datasets/faces"}}, // both folders new
		{"faces", "bob", []string{"datasets/faces"}},             // a new identity
		{"faces", "ann", nil},                                    // nothing new
	} {
		synced = nil
		if _, err := s.AddSample(tc.dataset, tc.identity, ".png", writeString("png")); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(synced, tc.want) {
			t.Errorf("a sample of %s/%s synced %q, want %q", tc.dataset, tc.identity, synced, tc.want)
		}
	}
}

// TestNoEmptyIdentityFolders: a sample whose row is not written leaves no
// empty folder of its identity (or data set), neither when the insert
// fails (a full disk, here a trigger) nor when a crash left the file
// without its row and Open puts it aside. The image-folder loader refuses
// a data set with an empty identity folder ("identity "bob" has no
// images"): before, one failed first sample of a new identity made its
// whole data set untrainable until the folder was removed by hand.
func TestNoEmptyIdentityFolders(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddSample("faces", "ann", ".png", writeString("png")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`CREATE TEMP TRIGGER full BEFORE INSERT ON samples BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`); err != nil {
		t.Fatal(err)
	}
	for _, ds := range []string{"faces", "birds"} {
		if _, err := s.AddSample(ds, "bob", ".png", writeString("png")); err == nil {
			t.Fatalf("%s/bob: the insert did not fail", ds)
		}
	}
	if _, err := s.db.Exec("DROP TRIGGER full"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"faces/bob", "birds"} {
		if _, err := os.Stat(filepath.Join(dir, datasetsDir, p)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a failed first sample left datasets/%s (%v)", p, err)
		}
	}
	s.Close()

	// A crash between a new identity's first sample's rename and its row.
	stray := filepath.Join(dir, datasetsDir, "faces", "cy", "0123456789abcdef.png")
	if err := os.MkdirAll(filepath.Dir(stray), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stray, []byte("png"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, rec, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if rec.StrayFiles != 1 || !exists(filepath.Join(s.LostFound(), datasetsDir, "faces", "cy", "0123456789abcdef.png")) {
		t.Fatalf("recovery %+v, want the sample without a row put aside", rec)
	}
	if _, err := os.Stat(filepath.Dir(stray)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the folder of the sample put aside is still there (%v)", err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, datasetsDir, "faces"))
	if err != nil || len(entries) != 1 || entries[0].Name() != "ann" {
		t.Errorf("datasets/faces holds %v (%v), want ann alone", entries, err)
	}
}

// TestRecoveryStrayFolders: folders in models and checkpoints, which hold
// files alone (one left where a deleted model's file was, which DELETE
// could not remove), are gone after Open, the files in them put aside in
// lost+found under the path they had, as a stray file's. Before, the
// files were put aside and their folders stayed, every start.
func TestRecoveryStrayFolders(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, p := range []string{
		filepath.Join(modelsDir, "0123456789abcdef"+modelExt, "in"),
		filepath.Join(modelsDir, "notes", "old"),
		filepath.Join(checkpointsDir, "0123456789abcdef"+modelExt),
	} {
		if err := os.MkdirAll(filepath.Join(dir, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, modelsDir, "notes", "old", "a.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, rec, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if want := (Recovery{StrayFiles: 1}); rec != want {
		t.Errorf("recovery %+v, want %+v", rec, want)
	}
	for _, d := range []string{modelsDir, checkpointsDir} {
		if entries, err := os.ReadDir(filepath.Join(dir, d)); err != nil || len(entries) != 0 {
			t.Errorf("%s holds %v (%v), want nothing", d, entries, err)
		}
	}
	wantFiles(t, dir, map[string]string{filepath.Join(lostFoundDir, modelsDir, "notes", "old", "a.txt"): "x"})
}

// TestOpenNotADatabase: a metriclab.db that is not SQLite (another
// program's file, or one damaged in its header) is named in one line that
// says what to do; before, "store: creating tables: file is not a
// database (26)". The file is left as it was.
func TestOpenNotADatabase(t *testing.T) {
	for name, data := range map[string][]byte{
		"text":   []byte("these are not the tables you are looking for\n"),
		"random": bytes.Repeat([]byte{0x5a, 0x17, 0xc3, 0x08}, 1024),
	} {
		dir := t.TempDir()
		db := filepath.Join(dir, dbName)
		if err := os.WriteFile(db, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s, _, err := Open(dir)
		if err == nil {
			s.Close()
			t.Fatalf("%s: Open accepted a %s file as its database", name, name)
		}
		if msg := err.Error(); !strings.Contains(msg, db+" is not a SQLite database") || !strings.Contains(msg, "move it aside") || strings.Contains(msg, "\n") {
			t.Errorf("%s: %q, want one line naming %s and what to do", name, msg, db)
		}
		if got, _ := os.ReadFile(db); !bytes.Equal(got, data) {
			t.Errorf("%s: the file was changed", name)
		}
	}
}

// TestDiskFull: a sample that SQLite has no room for (its pages capped at
// those the database holds, as a full disk would) is refused with an
// error DiskFull knows, and nothing of it stays: no row, no file, no
// folder. DiskFull knows the file system's ENOSPC and EDQUOT too, wrapped
// as os wraps them, and nothing else.
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.AddSample("faces", "alice", ".png", writeString("png")); err != nil {
		t.Fatal(err)
	}
	var pages int
	if err := s.db.QueryRow("PRAGMA page_count").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(fmt.Sprintf("PRAGMA max_page_count = %d", pages)); err != nil {
		t.Fatal(err)
	}
	var full error
	var name string
	for i := 0; i < 1000 && full == nil; i++ {
		name = fmt.Sprintf("person %d %s", i, strings.Repeat("x", 40))
		_, full = s.AddSample("faces", name, ".png", writeString("png"))
	}
	if !DiskFull(full) {
		t.Fatalf("a database with no page to spare: %v, want an error DiskFull knows", full)
	}
	var rows int
	if err := s.db.QueryRow("SELECT COUNT(*) FROM samples WHERE identity = ?", name).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("the refused sample has %d rows (%v), want none", rows, err)
	}
	if _, err := os.Stat(filepath.Join(dir, datasetsDir, "faces", name)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the refused sample's folder: %v, want none", err)
	}
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}, true},
		{fmt.Errorf("store: %w", &os.LinkError{Op: "rename", Old: "a", New: "b", Err: syscall.EDQUOT}), true},
		{&os.PathError{Op: "write", Path: "x", Err: syscall.EIO}, false},
		{ErrConflict, false},
		{nil, false},
	} {
		if got := DiskFull(c.err); got != c.want {
			t.Errorf("DiskFull(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// TestStoredCardBounded: a card stored before cards were bounded (its
// model's classes whole, no num_classes) is read bounded, as CheckModel
// bounds a new one: GET /api/models sent it whole, and num_classes 0.
func TestStoredCardBounded(t *testing.T) {
	s, _, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	old := Card{ID: "old", Name: "old", Arch: "mlp", Dim: 2, Data: strings.Repeat("d", 1000)}
	for i := range 300 {
		old.Classes = append(old.Classes, fmt.Sprintf("%03d", i)+strings.Repeat("x", 1000))
	}
	raw, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	raw = bytes.Replace(raw, []byte(`"num_classes":0,`), nil, 1) // as stored before the field
	if _, err := s.db.Exec("INSERT INTO models (id, name, card, file, size, created) VALUES (?, ?, ?, ?, ?, ?)",
		"old", "old", string(raw), "models/old.safetensors", 1, "2025-01-01T00:00:00Z"); err != nil {
		t.Fatal(err)
	}
	cards, _, err := s.Models()
	if err != nil || len(cards) != 1 {
		t.Fatalf("%d cards, %v", len(cards), err)
	}
	one, _, err := s.Model("old")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []Card{cards[0], one} {
		if c.NumClasses != 300 || len(c.Classes) != msg.MaxCardClasses || !strings.HasPrefix(c.Classes[1], "001x") {
			t.Errorf("stored card read with num_classes %d, %d classes; want 300, the first %d", c.NumClasses, len(c.Classes), msg.MaxCardClasses)
		}
		for _, text := range append([]string{c.Data}, c.Classes...) {
			if n := utf8.RuneCountInString(text); n > msg.MaxCardText {
				t.Fatalf("a text of %d characters in the stored card, want at most %d", n, msg.MaxCardText)
			}
		}
	}
}

// TestNoIdentityTheLoadPassesOver: a new identity may not be named as a
// folder Windows keeps at a drive's root ($RECYCLE.BIN, System Volume
// Information, in any case), which the folder loader passes over: its
// samples would be stored, listed and left out of every job on the data
// set unseen. Before, the name was taken, and the data set's loader did
// not see the identity.
func TestNoIdentityTheLoadPassesOver(t *testing.T) {
	s, _, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.AddSample("faces", "ann", ".png", writeString("png")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"$RECYCLE.BIN", "$Recycle.Bin", "System Volume Information", "system volume information"} {
		_, err := s.AddSample("faces", name, ".png", writeString("png"))
		if !errors.Is(err, ErrInvalidName) {
			dir, _ := s.DatasetDir("faces")
			classes, _ := data.ClassNames(dir, "all")
			t.Errorf("identity %q: %v; want the name refused (the data set's loader reads the identities %q)", name, err, classes)
		}
	}
	dir, err := s.DatasetDir("faces")
	if err != nil {
		t.Fatal(err)
	}
	if classes, err := data.ClassNames(dir, "all"); err != nil || !slices.Equal(classes, []string{"ann"}) {
		t.Errorf("identities loaded %q (%v), want ann", classes, err)
	}
}

// TestWriteTempPanic: a write that panics goes on panicking, and its
// temporary file is closed and removed (it was left, and open).
func TestWriteTempPanic(t *testing.T) {
	dir := t.TempDir()
	var tmp io.Writer
	func() {
		defer func() {
			if p := recover(); p != "encoder panicked" {
				t.Errorf("recovered %v, want the write's panic", p)
			}
		}()
		writeTemp(dir, "m.safetensors", func(w io.Writer) error {
			tmp = w
			io.WriteString(w, "half")
			panic("encoder panicked")
		})
	}()
	if _, err := tmp.Write([]byte("more")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("the temporary file after the panic: a write gave %v, want it closed", err)
	}
	if names, err := os.ReadDir(dir); err != nil || len(names) != 0 {
		t.Errorf("folder holds %v (%v) after a write that panicked, want nothing", names, err)
	}
}

// TestOpenDirNameOfURI: a data directory whose path has a character that
// SQLite's URI filenames read as other than the path ('#' a fragment, '?'
// the query, '%' an escape) keeps its database in it: before, "C#/data"
// opened a database "C" beside the folder C#, one that another such
// directory ("C#2/data") shared, and "100%41/data" failed to open.
func TestOpenDirNameOfURI(t *testing.T) {
	base := t.TempDir()
	for _, name := range []string{"C#", "a?b", "100%41"} {
		dir := filepath.Join(base, name, "data")
		s, _, err := Open(dir)
		if err != nil {
			t.Errorf("%s: %v", dir, err)
			continue
		}
		s.Close()
		if _, err := os.Stat(filepath.Join(dir, dbName)); err != nil {
			t.Errorf("%s: no database in it: %v", dir, err)
		}
	}
	if es, err := os.ReadDir(base); err == nil {
		for _, e := range es {
			if !e.IsDir() {
				t.Errorf("%s: a file beside the data directories", filepath.Join(base, e.Name()))
			}
		}
	}
}

// TestOpenVersionUnread: a database whose schema version cannot be read
// (here a folder in its place) is named in Open's error, with what was
// being done. Before, the error was SQLite's alone: "unable to open
// database file (14)".
func TestOpenVersionUnread(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, dbName)
	if err := os.Mkdir(db, 0o755); err != nil {
		t.Fatal(err)
	}
	_, _, err := Open(dir)
	if err == nil || !strings.Contains(err.Error(), "reading the schema version of "+db) {
		t.Errorf("Open with a folder for its database: %v, want it to say the version of %s could not be read", err, db)
	}
}

// TestJobFiles: a job's files (SetJobFiles) read back as recorded, kept
// apart from its row, nil when none were, and dropped with the
// checkpoint when the job ends.
func TestJobFiles(t *testing.T) {
	s, _, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	j, _ := s.CreateJob("a", msg.TrainRequest{}, 1, 0)
	if files, err := s.JobFiles(j.ID); files != nil || err != nil {
		t.Errorf("a new job's files: %q, %v; want none", files, err)
	}
	want := []string{"ann/1.png", "bob/2.jpg"}
	if err := s.SetJobFiles(j.ID, want); err != nil {
		t.Fatal(err)
	}
	if files, err := s.JobFiles(j.ID); !slices.Equal(files, want) || err != nil {
		t.Errorf("files %q, %v; want %q", files, err, want)
	}
	s.Transition(j.ID, []string{StateQueued}, StateCanceled, "")
	if files, err := s.JobFiles(j.ID); files != nil || err != nil {
		t.Errorf("a canceled job's files: %q, %v; want none", files, err)
	}
	if _, err := s.JobFiles("0123456789abcdef"); !errors.Is(err, ErrNotFound) {
		t.Errorf("no such job: %v, want ErrNotFound", err)
	}
}

// TestRenameModel: RenameModel changes a model's name and its card's,
// and nothing else: the job that made it still names it by id, its file
// stays, a field of its card this version does not know stays, and the
// name is there after the store is opened again. A name another model
// has is ErrNameTaken (its own is no change), as AddNamedModel's is,
// which keeps no file; AddModel's names may repeat.
func TestRenameModel(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	j := runningJob(t, s)
	made, err := s.FinishJob(j.ID, "mlp arcface D=2 on tiny", 10, 0.5, nil, "", writeString("model"), fakeCheck)
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.AddNamedModel("other", writeString("other"), fakeCheck)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`UPDATE models SET card = json_set(card, '$.future', 7) WHERE id = ?`, made.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RenameModel(made.ID, "other"); !errors.Is(err, ErrNameTaken) || !strings.Contains(err.Error(), other.ID) {
		t.Errorf("rename to another model's name: %v, want ErrNameTaken naming %s", err, other.ID)
	}
	if _, err := s.AddNamedModel("other", writeString("third"), fakeCheck); !errors.Is(err, ErrNameTaken) {
		t.Errorf("AddNamedModel of a name taken: %v, want ErrNameTaken", err)
	}
	// A name of the same key (msg.NameKey: case, a character's form) is
	// the other's too, as an identity's is.
	for _, alike := range []string{"Other", "ＯＴＨＥＲ", "ｏｔｈｅｒ"} {
		if _, err := s.RenameModel(made.ID, alike); !errors.Is(err, ErrNameTaken) || !strings.Contains(err.Error(), other.ID) || !strings.Contains(err.Error(), `named "other"`) {
			t.Errorf("rename to %q beside %q: %v, want ErrNameTaken naming %s and its name", alike, "other", err, other.ID)
		}
		if _, err := s.AddNamedModel(alike, writeString("third"), fakeCheck); !errors.Is(err, ErrNameTaken) {
			t.Errorf("AddNamedModel of %q beside %q: %v, want ErrNameTaken", alike, "other", err)
		}
	}
	if _, err := s.RenameModel("nope", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("rename of no model: %v, want ErrNotFound", err)
	}
	c, err := s.RenameModel(made.ID, "mine")
	if err != nil || c.Name != "mine" || c.ID != made.ID || c.JobID != j.ID || c.Size != made.Size {
		t.Errorf("rename: %+v %v, want the card of %s named mine", c, err, made.ID)
	}
	if _, err := s.RenameModel(made.ID, "mine"); err != nil {
		t.Errorf("rename to its own name: %v", err)
	}
	if c, err := s.RenameModel(made.ID, "Ｍine"); err != nil || c.Name != "Ｍine" {
		t.Errorf("rename to its own name's key: %+v %v, want it named %q as sent", c, err, "Ｍine")
	}
	if _, err := s.RenameModel(made.ID, "mine"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddModel("mine", writeString("a job's"), fakeCheck); err != nil {
		t.Errorf("AddModel of a name taken: %v, want it added (the server's names may repeat)", err)
	}
	s.Close()

	s, _, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, path, err := s.Model(made.ID)
	if b, _ := os.ReadFile(path); err != nil || c.Name != "mine" || string(b) != "model" {
		t.Errorf("reopened: %+v, file %q, %v; want it named mine, its file as it was", c, b, err)
	}
	var name, future string
	if err := s.db.QueryRow(`SELECT name, json_extract(card, '$.future') FROM models WHERE id = ?`, made.ID).Scan(&name, &future); err != nil || name != "mine" || future != "7" {
		t.Errorf("the row: name %q, the card's future %q (%v); want mine, 7", name, future, err)
	}
	if got, err := s.Job(j.ID); err != nil || got.ModelID != made.ID {
		t.Errorf("the job: model %q (%v), want %s", got.ModelID, err, made.ID)
	}
	if n := len(tempFiles(t, dir)); n != 0 {
		t.Errorf("%d temporary files left", n)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, modelsDir))
	if len(entries) != 3 {
		t.Errorf("models folder holds %d files, want 3 (the refused model's removed)", len(entries))
	}
}

// TestDeleteDataset: DeleteDataset removes a data set's rows and its
// folder, refuses one that a queued, running or interrupted job trains on
// (an InUseError naming the job, which matches ErrConflict), and takes
// one whose jobs have ended; a second delete is ErrNotFound, and a sample
// sent after it makes the data set anew. (There was no way to delete a
// data set: R20's finding 4.)
func TestDeleteDataset(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	aliceSample(t, s)
	if _, err := s.AddSample("faces", "bob", ".png", writeString("bob")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddSample("other", "carol", ".png", writeString("c")); err != nil {
		t.Fatal(err)
	}
	j, err := s.CreateJob("1.2.3.4", msg.TrainRequest{Data: "faces"}, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateJob("1.2.3.4", msg.TrainRequest{Data: "mnist"}, 10, 0); err != nil {
		t.Fatal(err)
	}
	for _, state := range []string{StateQueued, StateRunning, StateInterrupted} {
		if _, err := s.db.Exec("UPDATE jobs SET state = ? WHERE id = ?", state, j.ID); err != nil {
			t.Fatal(err)
		}
		var iu InUseError
		_, err := s.DeleteDataset("faces")
		if !errors.As(err, &iu) || !errors.Is(err, ErrConflict) || iu.JobID != j.ID || !strings.Contains(err.Error(), "job "+j.ID+" ("+state+") trains on it") {
			t.Errorf("delete of faces with a job %s on it: %v, want an InUseError naming job %s", state, err, j.ID)
		}
		if _, err := s.DeleteSample("faces", aliceSample(t, s).ID); !errors.As(err, &iu) {
			t.Errorf("delete of a sample of faces with a job %s on it: %v, want an InUseError", state, err)
		}
	}
	if sets, _ := s.Datasets(); len(sets) != 2 || sets[0].Samples != 2 {
		t.Fatalf("data sets after refused deletes: %+v, want faces' 2 samples kept", sets)
	}
	if _, err := s.db.Exec("UPDATE jobs SET state = ? WHERE id = ?", StateDone, j.ID); err != nil {
		t.Fatal(err)
	}
	if left, err := s.DeleteDataset("faces"); left != nil || err != nil {
		t.Fatalf("delete of faces: %v, %v", left, err)
	}
	if sets, _ := s.Datasets(); len(sets) != 1 || sets[0].Name != "other" {
		t.Errorf("data sets after the delete: %+v, want other alone", sets)
	}
	if exists(filepath.Join(dir, datasetsDir, "faces")) {
		t.Errorf("faces' folder is left")
	}
	var n int
	if s.db.QueryRow("SELECT COUNT(*) FROM samples WHERE dataset = 'faces'").Scan(&n); n != 0 {
		t.Errorf("%d rows of faces' samples left", n)
	}
	if _, err := s.DeleteDataset("faces"); !errors.Is(err, ErrNotFound) {
		t.Errorf("faces deleted again: %v, want ErrNotFound", err)
	}
	if _, err := s.DeleteDataset("../other"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a name that is a path: %v, want ErrNotFound", err)
	}
	if smp := aliceSample(t, s); smp.Existed {
		t.Errorf("alice's sample after the delete: %+v, want it stored anew", smp)
	}
	s.Close()
	s, rec, err := Open(dir) // nothing for the recovery to repair
	if err != nil || rec != (Recovery{}) {
		t.Errorf("open after the deletes: %v, repaired %+v", err, rec)
	}
}

// TestSamplesAndDeleteSample: Samples pages a data set's samples by ID;
// DeleteSample removes one (row, file, its identity's folder once empty),
// the data set staying; ErrNotFound for a sample of another data set, or
// one gone.
func TestSamplesAndDeleteSample(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ids []string
	for i, who := range []string{"alice", "alice", "bob"} {
		smp, err := s.AddSample("faces", who, ".png", writeString(fmt.Sprint("img", i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, smp.ID)
	}
	other, err := s.AddSample("other", "bob", ".png", writeString("img2"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	page, more, err := s.Samples("faces", "", 2)
	if err != nil || !more || len(page) != 2 || page[0].ID != ids[0] || page[1].ID != ids[1] {
		t.Fatalf("first page: %+v, more %v, %v; want %v and more", page, more, err, ids[:2])
	}
	page, more, err = s.Samples("faces", page[1].ID, 2)
	if err != nil || more || len(page) != 1 || page[0].ID != ids[2] {
		t.Fatalf("second page: %+v, more %v, %v; want %v alone", page, more, err, ids[2:])
	}
	if _, _, err := s.Samples("none", "", 2); !errors.Is(err, ErrNotFound) {
		t.Errorf("samples of no data set: %v, want ErrNotFound", err)
	}
	var bob string
	all, _, _ := s.Samples("faces", "", 10)
	for _, r := range all {
		if r.Identity == "bob" {
			bob = r.ID
		}
	}
	if _, err := s.DeleteSample("faces", other.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete of another data set's sample: %v, want ErrNotFound", err)
	}
	if left, err := s.DeleteSample("faces", bob); left != nil || err != nil {
		t.Fatalf("delete of bob's sample: %v, %v", left, err)
	}
	if exists(filepath.Join(dir, datasetsDir, "faces", "bob")) {
		t.Errorf("bob's folder is left, empty")
	}
	if _, err := s.DeleteSample("faces", bob); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob's sample deleted again: %v, want ErrNotFound", err)
	}
	if sets, _ := s.Datasets(); len(sets) != 2 || sets[0].Identities != 1 || sets[0].Samples != 2 {
		t.Errorf("data sets: %+v, want faces with alice's 2 samples", sets)
	}
	if !exists(filepath.Join(dir, datasetsDir, "other", "bob", other.ID+".png")) {
		t.Errorf("the other data set's bob lost his sample")
	}
}

// TestDeleteJob: DeleteJob removes the row of a job that has ended and
// keeps its model; one queued, running or interrupted is not removed
// (false); ErrNotFound for none. (An ended job's record stayed for good:
// R20's finding 4.)
func TestDeleteJob(t *testing.T) {
	s, _, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	j := runningJob(t, s)
	if ok, err := s.DeleteJob(j.ID); ok || err != nil {
		t.Errorf("delete of a running job: %v, %v; want false", ok, err)
	}
	card, err := s.FinishJob(j.ID, "m", 10, 0.5, nil, "", writeString("model"), fakeCheck)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := s.DeleteJob(j.ID); !ok || err != nil {
		t.Errorf("delete of a done job: %v, %v; want true", ok, err)
	}
	if _, err := s.Job(j.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("the deleted job: %v, want ErrNotFound", err)
	}
	if c, _, err := s.Model(card.ID); err != nil || c.JobID != j.ID {
		t.Errorf("its model: %+v, %v; want it kept, naming its job", c, err)
	}
	if _, err := s.DeleteJob(j.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted again: %v, want ErrNotFound", err)
	}
}

// TestAddUploadSameBytes: an upload of the bytes a model has is that
// model (existed), without a name or under its name, and refused under
// another (ErrSameBytes, naming it); other bytes of the same size are a
// new model. (Before, every upload was a model: the same file twice made
// two, R20's finding 11.)
func TestAddUploadSameBytes(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	first, existed, err := s.AddUpload("mine", true, writeString("model A"), fakeCheck)
	if err != nil || existed {
		t.Fatalf("first upload: %v, existed %v", err, existed)
	}
	again, existed, err := s.AddUpload("uploaded model", false, writeString("model A"), fakeCheck)
	if err != nil || !existed || again.ID != first.ID || again.Name != "mine" {
		t.Errorf("the same bytes without a name: %+v, existed %v, %v; want model %s", again, existed, err, first.ID)
	}
	if again, existed, err := s.AddUpload("mine", true, writeString("model A"), fakeCheck); err != nil || !existed || again.ID != first.ID {
		t.Errorf("the same bytes under its name: %+v, existed %v, %v; want model %s", again, existed, err, first.ID)
	}
	_, _, err = s.AddUpload("yours", true, writeString("model A"), fakeCheck)
	if !errors.Is(err, ErrSameBytes) || !strings.Contains(err.Error(), "model "+first.ID+`, named "mine"`) {
		t.Errorf("the same bytes under another name: %v, want ErrSameBytes naming %s", err, first.ID)
	}
	other, existed, err := s.AddUpload("uploaded model", false, writeString("model B"), fakeCheck)
	if err != nil || existed || other.ID == first.ID {
		t.Errorf("other bytes of the same size: %+v, existed %v, %v; want a new model", other, existed, err)
	}
	if cards, _, _ := s.Models(); len(cards) != 2 {
		t.Errorf("%d models, want 2", len(cards))
	}
	if files, _ := os.ReadDir(filepath.Join(dir, modelsDir)); len(files) != 2 {
		t.Errorf("%d files in models, want 2", len(files))
	}
}

// TestCheckModelPresetChanges: a model's card lists the fields of the
// recipe its file records that differ from its preset's, as a job's
// record does: none for the digits recipe as the preset has it, the arch and dimension of one trained with others beside it, and a
// folder's input shape; none for a model of no preset. Before, a card
// named the preset alone, whatever was changed.
func TestCheckModelPresetChanges(t *testing.T) {
	digits, _ := msg.PresetByName("digits")
	d := digits.Request
	model := func(arch string, dim int, data string, in core.Input, preset string) core.Metadata {
		return core.Metadata{Spec: core.Spec{Arch: arch, Input: in, Dim: dim}, Loss: d.Loss, LossParams: d.LossParams, Classes: []string{"0", "1"},
			Provenance: core.Provenance{Data: data, Epochs: d.Epochs, Batch: d.Batch, LR: d.LR, Optimizer: d.Opt, Seed: 7, Steps: 10,
				Preset: preset, Schedule: d.Schedule, WeightDecay: *d.WeightDecay, Augment: d.Augment, Compose: d.Compose, Glyphs: d.Glyphs}}
	}
	mnist := core.Input{Channels: 1, Height: 28, Width: 28, Mean: 0.5, Std: 0.5}
	for _, c := range []struct {
		name string
		meta core.Metadata
		want []string
	}{
		{"the digits recipe", model(d.Arch, d.Dim, "mnist", mnist, "digits"), nil},
		{"digits with mlp, D = 3", model("mlp", 3, "mnist", mnist, "digits"), []string{"arch", "dim"}},
		{"digits on a folder of 1x32x32", model(d.Arch, d.Dim, "glyphs", core.Input{Channels: 1, Height: 32, Width: 32, Mean: 0.5, Std: 0.5}, "digits"), []string{"input"}},
		{"no preset, mlp", model("mlp", 3, "mnist", mnist, ""), nil},
	} {
		m := &core.Model{Meta: c.meta, Params: map[string]core.Tensor{}}
		for name, shape := range c.meta.Spec.ParamShapes() {
			n := 1
			for _, s := range shape {
				n *= s
			}
			m.Params[name] = core.Tensor{Shape: shape, Data: make([]float32, n)}
		}
		m.Params["head.weight"] = core.Tensor{Shape: []int{2, c.meta.Spec.Dim}, Data: make([]float32, 2*c.meta.Spec.Dim)}
		path := filepath.Join(t.TempDir(), "m.safetensors")
		if err := core.WriteModel(path, m); err != nil {
			t.Fatal(err)
		}
		card, err := CheckModel(path)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !slices.Equal(card.PresetChanges, c.want) || card.Preset != c.meta.Provenance.Preset {
			t.Errorf("%s: preset %q, changes %q; want %q, %q", c.name, card.Preset, card.PresetChanges, c.meta.Provenance.Preset, c.want)
		}
	}
}
