//go:build unix || windows

package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"metriclab/core/msg"
)

// TestLock: a data directory open in one Store is refused to a second one
// (as to a second server: the lock is per open file, not per process), with
// one line naming the directory and the holder's process id, and the
// refused Open changes nothing: the first store's running job stays
// running. Once the first is closed, the directory opens again.
func TestLock(t *testing.T) {
	dir := t.TempDir()
	s, _, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	j, _ := s.CreateJob("1.2.3.4", msg.TrainRequest{Data: "tiny"}, 10, 0)
	s.Transition(j.ID, []string{StateQueued}, StateRunning, "")
	if err := s.SaveCheckpoint(j.ID, 5, 10, 0.5, nil, writeString("ckpt")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, lockName)); err != nil || string(b) != strconv.Itoa(os.Getpid())+"\n" {
		t.Errorf("the lock file holds %q (%v), want this process's id", b, err)
	}

	second, _, err := Open(dir)
	want := fmt.Sprintf("data directory %s is in use by another metriclab serve (pid %d)", dir, os.Getpid())
	if err == nil || err.Error() != want {
		if err == nil {
			second.Close()
		}
		t.Fatalf("a second Open: %v, want %q", err, want)
	}
	if j, _ := s.Job(j.ID); j.State != StateRunning || j.Checkpoint == "" || !exists(filepath.Join(dir, j.Checkpoint)) {
		t.Errorf("the first store's job after a refused Open: %+v", j)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, rec, err := Open(dir)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	defer s.Close()
	if rec.Interrupted != 1 {
		t.Errorf("recovery %+v, want the running job interrupted", rec)
	}
}
