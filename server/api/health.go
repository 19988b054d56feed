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

// devices lists the CPU (the gorgonia engine, one job at a time) and says
// that this build has no CUDA engine, so "auto" means the CPU.
func (s *Server) devices(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"devices": []device{
		{ID: "cpu", Kind: "cpu", Name: "CPU (gorgonia engine)", Cores: runtime.NumCPU(), Available: true},
		{ID: "cuda", Kind: "cuda", Name: "CUDA", Reason: "this build has no CUDA engine; device auto trains on the CPU"},
	}})
}
