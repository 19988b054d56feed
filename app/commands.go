package app

import (
	"encoding/json"
	"errors"
	"fmt"

	"metriclab/core/msg"
)

// The page's side of the trainer's protocol (core/msg; wasm/trainer
// documents each command): the commands it posts to a worker, as JSON
// strings, and the messages it reads back.

// Command returns the JSON of the command op to trainer id; a "start"
// carries cfg and the BroadcastChannel of the trainer's viewer.
func Command(id, op string, cfg *msg.TrainRequest, channel string) string {
	return marshalCommand(id, &msg.Command{Op: op, Config: cfg, Channel: channel})
}

// ParallelStart returns the JSON of the "start" of worker k of workers
// data-parallel workers of trainer id (msg.Command.Workers): worker 0 with
// the viewer's channel, the others without (only worker 0 reports).
func ParallelStart(id string, cfg *msg.TrainRequest, channel string, k, workers int) string {
	if k > 0 {
		channel = ""
	}
	return marshalCommand(id, &msg.Command{Op: msg.OpStart, Config: cfg, Channel: channel, Workers: workers, Worker: k})
}

// SamplesCommand returns the JSON of the command op to trainer with
// samples: msg.OpStart with cfg (and the viewer's channel) trains on them,
// msg.OpEmbed with embedID embeds them.
func SamplesCommand(trainer, op string, cfg *msg.TrainRequest, samples *msg.Samples, embedID, channel string) string {
	return marshalCommand(trainer, &msg.Command{Op: op, Config: cfg, Samples: samples, ID: embedID, Channel: channel})
}

// LoadCommand returns the JSON of the command that makes model (a
// .safetensors file) trainer's encoder and then embeds samples (nil:
// none) as the embed answered embedID: the samples are embedded only if
// the load took.
func LoadCommand(trainer string, model []byte, samples *msg.Samples, embedID string) string {
	return marshalCommand(trainer, &msg.Command{Op: msg.OpLoad, Model: model, Samples: samples, ID: embedID})
}

func marshalCommand(trainer string, c *msg.Command) string {
	b, err := json.Marshal(msg.Message{V: msg.SchemaVersion, Type: msg.TypeCommand, Trainer: trainer, Command: c})
	if err != nil {
		panic("app: " + err.Error()) // finite numbers and bytes always marshal
	}
	return string(b)
}

// PageMessage is a msg.Message as the page decodes it: its snapshot
// without the points and weights (the viewer draws those; the page only
// needs the histograms), so that a large snapshot costs the page little.
type PageMessage struct {
	msg.Message
	Snapshot *SnapshotHead `json:"snapshot,omitempty"` // in place of the Message's
}

// SnapshotHead is the part of a msg.Snapshot that the page reads (a test
// holds its fields to msg.Snapshot's).
type SnapshotHead struct {
	Dim          int     `json:"dim"`
	Threshold    float64 `json:"threshold"`
	HasThreshold bool    `json:"has_threshold,omitempty"`
	Genuine      []int   `json:"genuine"`
	Impostor     []int   `json:"impostor"`
}

// DecodeMessage reads one message of the schema. A message of another
// schema version is an error. Its Error is one line by the schema, but a
// trainer of another version may send any: it is made one
// (msg.ErrorLine), for the notes that show it; so is the error of a
// message JSON cannot read, which may quote a number of megabytes.
func DecodeMessage(data string) (*PageMessage, error) {
	var m PageMessage
	if err := json.Unmarshal([]byte(data), &m); err != nil {
		return nil, errors.New(msg.ErrorLine("app: bad message from the trainer: " + err.Error()))
	}
	if m.V != msg.SchemaVersion {
		return nil, fmt.Errorf("app: message of schema v%d, the page reads v%d (reload the page)", m.V, msg.SchemaVersion)
	}
	m.Error = msg.ErrorLine(m.Error)
	return &m, nil
}

// DecodeEmbeddings reads an "embeddings" message of the schema; ok is false
// for a message of another type.
func DecodeEmbeddings(data string) (e *msg.Embeddings, ok bool, err error) {
	m, err := DecodeMessage(data)
	switch {
	case err != nil:
		return nil, m != nil && m.Type == msg.TypeEmbeddings, err
	case m.Type != msg.TypeEmbeddings:
		return nil, false, nil
	}
	if m.Embeddings == nil || m.Embeddings.Dim < 1 || len(m.Embeddings.Values)%m.Embeddings.Dim != 0 {
		return nil, true, fmt.Errorf("app: embeddings message without whole N×D values")
	}
	return m.Embeddings, true, nil
}
