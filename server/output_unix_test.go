//go:build unix

package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOutNotRegularFile: a named pipe or a device given as --out is
// refused before training and left as it was (the model's rename replaced
// a FIFO by a regular file, and, run as root, would have replaced
// /dev/null).
func TestOutNotRegularFile(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	wantBadInput(t, "--out "+fifo+" is not a regular file (a named pipe)", "train", "--out", fifo)
	if st, err := os.Stat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the named pipe is gone or replaced: %v", err)
	}
	wantBadInput(t, "--out "+os.DevNull+" is not a regular file (a character device)", "train", "--out", os.DevNull)
	if st, err := os.Stat(os.DevNull); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		t.Errorf("%s is no longer a device: %v", os.DevNull, err)
	}
}

// TestOutImage: an --out named as an image is refused before training:
// one of the training images, which the model replaced (the data set then
// failed to load: "cannot decode"), a link to one, and a new name in an
// identity's folder, which would be read as an image that does not decode,
// and a link named as an image to a model file, which a folder reads as
// an image too (before, only the link's target's name was checked, and
// the model was written through it).
func TestOutImage(t *testing.T) {
	dir := t.TempDir()
	writePatterns(t, dir) // 3 identities of 8 images
	image := filepath.Join(dir, "a", "0.png")
	was, err := os.ReadFile(image)
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "m.safetensors")
	if err := os.Symlink(image, link); err != nil {
		t.Fatal(err)
	}
	train := []string{"train", "--data", dir, "--split", "all", "--input", "1x16x16", "--arch", "mlp", "--batch", "4", "--val", "0", "--epochs", "1", "--out"}
	wantBadInput(t, "--out "+image+" names an image (.png), not a model file", append(train, image)...)
	wantBadInput(t, "--out "+link+" (a link to "+image+") names an image (.png)", append(train, link)...)
	wantBadInput(t, "names an image (.JPG)", append(train, filepath.Join(dir, "b", "model.JPG"))...)
	model := filepath.Join(t.TempDir(), "m.safetensors")
	imageLink := filepath.Join(t.TempDir(), "x.png")
	if err := os.Symlink(model, imageLink); err != nil {
		t.Fatal(err)
	}
	wantBadInput(t, "--out "+imageLink+" (a link to "+model+") names an image (.png)", append(train, imageLink)...)
	if _, err := os.Stat(model); !os.IsNotExist(err) {
		t.Errorf("the model was written through the link named x.png: %v", err)
	}
	if now, err := os.ReadFile(image); err != nil || !bytes.Equal(now, was) {
		t.Errorf("the training image %s was changed: %v", image, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "b", "model.JPG")); !os.IsNotExist(err) {
		t.Errorf("model.JPG written: %v", err)
	}
}

// TestOutReadOnly: an --out that is a read-only file is refused before
// training and kept (the model's rename replaced it, whatever its mode,
// and whoever ran it); a writable one is replaced.
func TestOutReadOnly(t *testing.T) {
	dir := t.TempDir()
	writePatterns(t, dir) // 3 identities of 8 images
	out := filepath.Join(t.TempDir(), "kept.safetensors")
	if err := os.WriteFile(out, []byte("a model kept"), 0o444); err != nil {
		t.Fatal(err)
	}
	train := []string{"train", "--data", dir, "--split", "all", "--input", "1x16x16", "--arch", "mlp", "--batch", "4", "--val", "0", "--epochs", "1", "--out", out}
	wantBadInput(t, "--out "+out+" is read-only (-r--r--r--)", train...)
	if b, err := os.ReadFile(out); err != nil || string(b) != "a model kept" {
		t.Errorf("the read-only %s was replaced: %v", out, err)
	}
	if err := os.Chmod(out, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, train...); code != 0 {
		t.Errorf("a writable --out: exit %d, %s", code, stderr)
	}
}

// TestOutLongName: a --out of 250 bytes, a name the file system takes,
// gets its model (its temporary file's name, the name and 16 bytes more,
// did not fit in 255, and train refused it before training: "cannot
// write in the output folder"); one of 300 bytes is refused before
// training, saying its name is too long.
func TestOutLongName(t *testing.T) {
	dir, _, train := shapesTrainer(t)
	long := strings.Repeat("m", 238) + ".safetensors"
	if _, err := os.Stat(train(long)); err != nil {
		t.Errorf("the model of a 250-byte name: %v", err)
	}
	tooLong := filepath.Join(dir, strings.Repeat("m", 288)+".safetensors")
	wantBadInput(t, "--out "+tooLong+": file name too long", "train", "--out", tooLong)
}

// TestPrecompressKeepsPrivate: serve --precompress of a file that only
// its owner and group read writes copies that only they read (they were
// 0644 whatever the file: run as root on /etc/shadow, copies every user
// could read), and a named pipe (or a device) is refused before anything
// is written (a pipe waited for a writer; /dev/null, read as empty, gave
// /dev/null.gz and /dev/null.br).
func TestPrecompressKeepsPrivate(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "secret.txt")
	if err := os.WriteFile(p, []byte(strings.Repeat("secret\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o640); err != nil { // whatever the umask
		t.Fatal(err)
	}
	if code, stdout, stderr := runCLI(t, "serve", "--precompress", p); code != 0 {
		t.Fatalf("serve --precompress %s: status %d, stdout %q, stderr %q", p, code, stdout, stderr)
	}
	for _, ext := range []string{".gz", ".br"} {
		if st, err := os.Stat(p + ext); err != nil || st.Mode().Perm() != 0o640 {
			t.Errorf("%s: %v, %v; want mode 0640, the file's", p+ext, st.Mode(), err)
		}
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- precompressFile(context.Background(), fifo) }()
	select {
	case err := <-done:
		var bad inputError
		if want := "precompress: " + fifo + " is not a regular file (a named pipe)"; err == nil || err.Error() != want || !errors.As(err, &bad) {
			t.Errorf("precompress %s: %v, want bad input %q", fifo, err, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("precompress %s still waits on the pipe after 10 s", fifo)
	}
	if _, err := os.Stat(fifo + ".gz"); err == nil {
		t.Errorf("%s.gz written", fifo)
	}
}

// TestTableInterrupted: openset stopped by SIGTERM after its baselines'
// rows ends its table with a line that says so, after 3 of its 4 rows, a
// paragraph of its own below the table, and ends as SIGTERM ends it
// (before: the rows written and nothing after them).
func TestTableInterrupted(t *testing.T) {
	ids := sixIdentities(t)
	cmd, stdout, stderr := startMain(t, t.TempDir(), "openset", "--data", ids, "--epochs", "10000", "--batch", "8")
	for start := time.Now(); strings.Count(stdout.String(), "| raw pixels |") < 3; time.Sleep(50 * time.Millisecond) {
		if time.Since(start) > time.Minute {
			cmd.Process.Kill()
			t.Fatalf("openset wrote no 3 baseline rows in a minute: %q, %q", stdout, stderr)
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if !waitFor(cmd, 30*time.Second) {
		t.Fatal("openset still running 30 s after SIGTERM")
	}
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if got := stdout.String(); !ws.Signaled() || ws.Signal() != syscall.SIGTERM || !strings.HasSuffix(got, "|\n\n*The table is incomplete: interrupted after 3 of 4 rows.*\n") {
		t.Errorf("openset after SIGTERM: %v, stdout %q, stderr %q; want it ended by SIGTERM, its table ended by a line that says it was interrupted after 3 of 4 rows", cmd.ProcessState, got, stderr)
	}
	if !strings.HasSuffix(stderr.String(), "metriclab openset: interrupted after 3 of 4 rows\n") {
		t.Errorf("openset's stderr after SIGTERM: %q", stderr)
	}
}

// TestSIGTERMStatus: bench, train and join stopped by SIGTERM end with
// status 143 (128 + 15), as a process that SIGTERM ends, and say what they
// wrote; Ctrl-C gives 130 (128 + 2), the shell's status for each (before,
// SIGTERM gave 130 too: the signal that stopped them was not kept).
func TestSIGTERMStatus(t *testing.T) {
	for _, c := range []struct {
		sig  syscall.Signal
		want int
	}{{syscall.SIGTERM, 143}, {syscall.SIGINT, 130}} {
		cmd, stdout, stderr := startMain(t, t.TempDir(), "bench", "--arch", "mlp", "--batch", "2", "--threads", "1", "--warmup", "1000", "--seconds", "3600")
		for start := time.Now(); !strings.Contains(stderr.String(), "warming up"); time.Sleep(20 * time.Millisecond) {
			if time.Since(start) > time.Minute {
				cmd.Process.Kill()
				t.Fatalf("bench did not start in a minute: %q", stderr)
			}
		}
		cmd.Process.Signal(c.sig)
		if !waitFor(cmd, 30*time.Second) {
			t.Fatalf("bench still running 30 s after %v", c.sig)
		}
		if code := cmd.ProcessState.ExitCode(); code != c.want || stdout.String() != "" || !strings.HasSuffix(stderr.String(), "metriclab bench: interrupted, nothing written\n") {
			t.Errorf("bench after %v: status %d, stdout %q, stderr %q: want %d and that nothing was written", c.sig, code, stdout, stderr, c.want)
		}
	}
}
