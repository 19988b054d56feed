//go:build !js

package api

import (
	"strings"
	"testing"

	"metriclab/core/cuda"
)

// TestDevicesReportsCUDAReason checks that GET /api/devices gives
// cuda.Open's error as the CUDA device's reason on a machine without CUDA.
func TestDevicesReportsCUDAReason(t *testing.T) {
	d, err := cuda.Open()
	if err == nil {
		d.Close()
		t.Skip("CUDA is present on this machine")
	}
	_, ts := newTestServer(t, testConfig(t))
	code, b := call(t, "GET", ts.URL+"/api/devices", "", nil)
	var got struct {
		Devices []device `json:"devices"`
	}
	decode(t, b, &got)
	if code != 200 || len(got.Devices) != 2 {
		t.Fatalf("devices: %d %s", code, b)
	}
	c := got.Devices[1]
	if c.ID != "cuda" || c.Available || !strings.HasPrefix(c.Reason, err.Error()) || !strings.Contains(c.Reason, "auto trains on the CPU") {
		t.Errorf("cuda device %+v: want unavailable with reason %q", c, err)
	}
}
