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

// devices lists the CPU (the gorgonia engine, one job at a time) and the
// CUDA device. It probes CUDA at every request (cuda.Open, then Close), so
// the reason is current: the library's error when the driver or toolkit is
// missing ("cuda: libcuda.so.1 not found: no NVIDIA driver on this
// machine"), or, with a GPU, that the CUDA training engine is not built yet.
// Either way "auto" means the CPU.
func (s *Server) devices(w http.ResponseWriter, r *http.Request) {
	gpu := device{ID: "cuda", Kind: "cuda", Name: "CUDA"}
	if d, err := cuda.Open(); err != nil {
		gpu.Reason = err.Error() + "; device auto trains on the CPU"
	} else {
		gpu.Name = d.Name()
		d.Close()
		gpu.Reason = "the CUDA training engine is not built yet; device auto trains on the CPU"
	}
	writeJSON(w, http.StatusOK, map[string]any{"devices": []device{
		{ID: "cpu", Kind: "cpu", Name: "CPU (gorgonia engine)", Cores: runtime.NumCPU(), Available: true},
		gpu,
	}})
}
