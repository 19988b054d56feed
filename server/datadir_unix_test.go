//go:build unix

package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"metriclab/server/api/store"
)

// TestServeDataDirInUse: serve refuses a data directory that another
// process has open (here this test's store) with one line naming it and
// the holder's process id, and status 2, as an address in use: what a
// flag names cannot be used (before, 1, the status of a failure at run
// time).
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
	if code != 2 || stdout.String() != "" || stderr.String() != want {
		t.Errorf("serve on a data directory in use: exit %d, stdout %q, stderr %q; want status 2 and %q", code, &stdout, &stderr, want)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	stderr.Reset()
	other := filepath.Join(dir, "other")
	if code := run(ctx, []string{"serve", "--web", web, "--addr", ln.Addr().String(), "--data-dir", other}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "listen on") {
		t.Errorf("serve on an address in use: exit %d, stderr %q; want status 2, as a data directory in use", code, &stderr)
	}
}

// TestServeDataDirNewer: serve refuses a data directory that a newer
// metriclab wrote (its schema version past this one's) with one line and
// status 2, as a data directory in use (before, 1, the status of a
// failure at run time).
func TestServeDataDirNewer(t *testing.T) {
	dir := t.TempDir()
	web, data := emptyWebDir(t, dir), filepath.Join(dir, "data")
	st, _, err := store.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "metriclab.db"))
	if err != nil {
		t.Fatal(err)
	}
	var known int // the version this metriclab writes: the store just opened's
	if err := db.QueryRow("PRAGMA user_version").Scan(&known); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"serve", "--web", web, "--addr", "127.0.0.1:0", "--data-dir", data}, &stdout, &stderr)
	want := fmt.Sprintf("metriclab serve: data directory %s has schema version 99; this metriclab knows up to %d: use a newer metriclab\n", data, known)
	if code != 2 || stdout.String() != "" || stderr.String() != want {
		t.Errorf("serve on a newer data directory: exit %d, stdout %q, stderr %q; want status 2 and %q", code, &stdout, &stderr, want)
	}
}
