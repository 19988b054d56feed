//go:build !js

package api

import (
	"net/http"
	"runtime"

	"metriclab/core/cuda"
)

// device is one entry of GET /api/devices.
type device struct {
	ID        string `json:"id"`   // the TrainRequest's device
	Kind      string `json:"kind"` // "cpu" or "cuda"
	Name      string `json:"name"`
	Cores     int    `json:"cores,omitempty"`
	Available bool   `json:"available"`
	Reason    string `json:"reason,omitempty"` // why it is not available
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "version": s.cfg.Version})
}

// devices lists the CPU (the gorgonia engine) and the CUDA device. It
// probes CUDA at every request (cuda.Open, then Close), so the reason is
// current: the library's error when the driver or toolkit is missing
// ("cuda: libcuda.so.1 not found: no NVIDIA driver on this machine"), or
// that the server runs without the CUDA engine. Without it "auto" means
// the CPU. One job trains at a time, whichever the device.
func (s *Server) devices(w http.ResponseWriter, r *http.Request) {
	gpu := device{ID: "cuda", Kind: "cuda", Name: "CUDA"}
	d, err := cuda.Open()
	switch {
	case err != nil:
		gpu.Reason = err.Error() + "; device auto trains on the CPU"
	case s.cfg.CUDA == nil:
		gpu.Name = d.Name()
		gpu.Reason = "the server runs without the CUDA engine; device auto trains on the CPU"
	default:
		gpu.Name = d.Name() + " (CUDA engine)"
		gpu.Available = true
	}
	if err == nil {
		d.Close()
	}
	writeJSON(w, http.StatusOK, map[string]any{"devices": []device{
		{ID: "cpu", Kind: "cpu", Name: "CPU (gorgonia engine)", Cores: runtime.NumCPU(), Available: true},
		gpu,
	}})
}
