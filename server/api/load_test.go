//go:build !js

package api

import (
	"crypto/sha256"
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestLoad runs, at once on loopback, 50 model downloads, 20 event streams
// on a running job and 30 job submissions from one client: every download
// is byte-exact, every stream starts with the state and ends with the final
// one, every accepted job ends done, and the only errors are the limits'
// 429s (8 jobs per client; the streams are within their limit).
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	cfg := testConfig(t)
	cfg.MaxJobsPerClient = 8
	cfg.MaxSSE = 20
	cfg.MaxSSEPerClient = 20 // the twenty streams all come from 127.0.0.1 here
	cfg.CheckpointEvery = 1000
	// Progress at most every 20 ms, not testConfig's every step: twenty
	// streams on a busy machine must keep up with the job, or the hub
	// drops them by design (a slow client never slows training).
	cfg.ProgressEvery = 20 * time.Millisecond
	_, ts := newTestServer(t, cfg)
	model := modelBytes(t, 3, 2, 0.02)
	modelID := uploadModel(t, ts.URL, model)
	// The job the streams watch: long enough to outlast their connecting.
	_, b := postJSON(t, ts.URL+"/api/jobs", tinyJob(60))
	var watched struct{ ID string }
	decode(t, b, &watched)

	var (
		wg          sync.WaitGroup
		mu          sync.Mutex
		accepted    []string
		limited     int
		badDownload int
	)
	want := sha256.Sum256(model)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, b := call(t, "GET", ts.URL+"/api/models/"+modelID+"/file", "", nil)
			if code != 200 || sha256.Sum256(b) != want {
				mu.Lock()
				badDownload++
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(ts.URL + "/api/jobs/" + watched.ID + "/events")
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("stream: %d", resp.StatusCode)
				return
			}
			evs := sseEvents(t, resp.Body, 0)
			if len(evs) < 2 || evs[0].Type != "state" || evs[len(evs)-1].State != "done" {
				t.Errorf("stream of %d events, first %+v, last %+v", len(evs), evs[0], evs[len(evs)-1])
			}
		}()
	}
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, b := postJSON(t, ts.URL+"/api/jobs", tinyJob(1))
			mu.Lock()
			defer mu.Unlock()
			switch code {
			case 201:
				var c struct{ ID string }
				decode(t, b, &c)
				accepted = append(accepted, c.ID)
			case 429:
				limited++
			default:
				t.Errorf("submission: %d %s", code, b)
			}
		}()
	}
	wg.Wait()
	if badDownload != 0 {
		t.Errorf("%d of 50 downloads failed or differed", badDownload)
	}
	// The watched job counts against the limit of 8, so 7 more fit at
	// most; fewer than 7 only if jobs ended during the submissions.
	if len(accepted)+limited != 30 || len(accepted) < 7 || limited == 0 {
		t.Errorf("%d accepted, %d limited, want 30 in all with both", len(accepted), limited)
	}
	for _, id := range accepted {
		if j := waitJob(t, ts.URL, id, 60*time.Second, ended); j.State != "done" || j.ModelID == "" {
			t.Errorf("job %s ended as %+v", id, j)
		}
	}
}
