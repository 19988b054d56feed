//go:build unix

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"metriclab/server/api/store"
)

// TestServeDataDirInUse: serve refuses a data directory that another
// process has open (here this test's store) with one line naming it and
// the holder's process id.
func TestServeDataDirInUse(t *testing.T) {
	dir := t.TempDir()
	web, data := emptyWebDir(t, dir), filepath.Join(dir, "data")
	st, _, err := store.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// A server that starts stops after 5 seconds.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"serve", "--web", web, "--addr", "127.0.0.1:0", "--data-dir", data}, &stdout, &stderr)
	want := fmt.Sprintf("metriclab serve: data directory %s is in use by another metriclab serve (pid %d)\n", data, os.Getpid())
	if code != 1 || stdout.String() != "" || stderr.String() != want {
		t.Errorf("serve on a data directory in use: exit %d, stdout %q, stderr %q; want status 1 and %q", code, &stdout, &stderr, want)
	}
}
