package core

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"metriclab/core/safetensors"
)

// FuzzModelMetadata checks that a model file whose metadata is any JSON,
// with the parameters its spec asks for, either is refused with an error or
// builds an encoder that embeds an image into EmbedDim values, without a
// panic on the way.
func FuzzModelMetadata(f *testing.F) {
	for _, spec := range []string{
		`{"arch":"mlp","input":{"channels":1,"height":8,"width":8,"mean":0.5,"std":0.5},"dim":3}`,
		`{"arch":"mlp","input":{"channels":3,"height":6,"width":5,"mean":0,"std":1},"dim":2,"embed_bn":true,"flip_test":true}`,
		`{"arch":"lenetpp","input":{"channels":1,"height":8,"width":9,"mean":0.5,"std":0.5},"dim":4,"crop":[0,0,1,0.5]}`,
		`{"arch":"lenet-s","input":{"channels":1,"height":16,"width":16,"mean":0.5,"std":0.5},"dim":2,"views":[[0,0,0,0],[0,0,1,0.55]]}`,
		`{"arch":"mlp","input":{"channels":1,"height":4,"width":4,"mean":0.5,"std":0.5},"dim":2,"views":[[0,0,1,0.5],[0,0.5,1,1],[0.25,0.25,0.75,0.75]]}`,
	} {
		f.Add(`{"format":"metriclab/1","spec":` + spec + `,"loss":"arcface","classes":["a","b"],"threshold":0.3,"far":0.01}`)
	}
	f.Fuzz(func(t *testing.T, meta string) {
		var m Metadata
		if json.Unmarshal([]byte(meta), &m) != nil || m.Spec.Validate() != nil {
			return
		}
		shapes := m.Spec.ParamShapes()
		total := 0
		for _, s := range shapes {
			n := 1
			for _, d := range s {
				n *= d
			}
			total += n
		}
		if total > 1<<20 {
			return
		}
		params := make(map[string]safetensors.Tensor, len(shapes))
		for name, s := range shapes {
			n := 1
			for _, d := range s {
				n *= d
			}
			data := make([]float32, n)
			for i := range data {
				data[i] = float32(i%7-3) / 16
			}
			params[name] = safetensors.Tensor{Shape: s, Data: data}
		}
		var buf bytes.Buffer
		if err := safetensors.Encode(&buf, params, map[string]string{modelMetadataKey: meta}); err != nil {
			return
		}
		model, err := DecodeModel(&buf)
		if err != nil {
			return
		}
		if err := model.Validate(nil); err != nil {
			return
		}
		enc, err := NewEncoder(model.Meta.Spec, model.Params, 1)
		if err != nil {
			t.Fatalf("a valid model builds no encoder: %v", err)
		}
		in := model.Meta.Spec.Input
		x := make([]float32, in.Channels*in.Height*in.Width)
		for i := range x {
			x[i] = float32(i%5) / 4
		}
		emb, err := enc.Embed(nil, x, 1)
		if err != nil {
			t.Fatalf("a valid model does not embed: %v", err)
		}
		if len(emb) != model.Meta.Spec.EmbedDim() {
			t.Fatalf("%d values embedded, want %d", len(emb), model.Meta.Spec.EmbedDim())
		}
		for _, v := range emb {
			if math.IsNaN(float64(v)) {
				t.Fatalf("embedding %v of a small model holds NaN", emb)
			}
		}
	})
}
