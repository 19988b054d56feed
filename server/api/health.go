//go:build !js

package api

import (
	"net/http"
	"runtime"
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

// devices lists the CPU (the gorgonia engine) and the CUDA device. CUDA is
// probed once, at the first request (cuda.Open, then Close: on a GPU
// machine that starts the driver), and the answer kept: the library's error
// when the driver or toolkit is missing ("cuda: libcuda.so.1 not found: no
// NVIDIA driver on this machine"), or whether the server runs the CUDA
// engine. Without it "auto" means the CPU. One job trains at a time,
// whichever the device.
func (s *Server) devices(w http.ResponseWriter, r *http.Request) {
	s.devicesOnce.Do(func() {
		s.gpu = device{ID: "cuda", Kind: "cuda", Name: "CUDA"}
		name, err := s.cfg.ProbeCUDA()
		switch {
		case err != nil:
			s.gpu.Reason = err.Error() + "; device auto trains on the CPU"
		case s.cfg.CUDA == nil:
			s.gpu.Name = name
			s.gpu.Reason = "the server runs without the CUDA engine; device auto trains on the CPU"
		default:
			s.gpu.Name = name + " (CUDA engine)"
			s.gpu.Available = true
		}
	})
	writeJSON(w, http.StatusOK, map[string]any{"devices": []device{
		{ID: "cpu", Kind: "cpu", Name: "CPU (gorgonia engine)", Cores: runtime.NumCPU(), Available: true},
		s.gpu,
	}})
}
