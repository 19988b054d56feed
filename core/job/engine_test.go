package job

import (
	"testing"

	"metriclab/core"
)

// countingEngine wraps the gorgonia engine, counting steps and Close.
type countingEngine struct {
	core.Engine
	steps, closed int
}

func (e *countingEngine) Step(x []float32, labels []int) (float64, error) {
	e.steps++
	return e.Engine.Step(x, labels)
}

func (e *countingEngine) Close() error { e.closed++; return nil }

// TestEngineOption checks that a job trains on the engine Options.Engine
// makes (with the job's spec, batch and classes) and that Close releases
// an engine that holds a device.
func TestEngineOption(t *testing.T) {
	var made *countingEngine
	var cfgSeen core.TrainConfig
	opts := Options{Engine: func(spec core.Spec, loss core.Loss, cfg core.TrainConfig) (core.Engine, error) {
		cfgSeen = cfg
		tr, err := core.NewGorgonia(spec, loss, cfg)
		if err != nil {
			return nil, err
		}
		made = &countingEngine{Engine: tr}
		return made, nil
	}}
	req := barsRequest()
	j, err := New(req, bars(30, 1), nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	if made == nil || cfgSeen.Batch != req.Batch || cfgSeen.Classes != 4 {
		t.Fatalf("engine made with %+v, want batch %d and 4 classes", cfgSeen, req.Batch)
	}
	for i := 0; i < 3; i++ {
		if _, err := j.Step(); err != nil {
			t.Fatal(err)
		}
	}
	if made.steps != 3 {
		t.Errorf("the engine ran %d steps, want 3", made.steps)
	}
	if err := j.Close(); err != nil || made.closed != 1 {
		t.Errorf("Close: %v, engine closed %d times", err, made.closed)
	}
}
