package msg

import (
	"strconv"
	"strings"
)

// ModelFileStem is the base name of a model's files as the playground
// exports them: metriclab-LOSS-dD, with D as V×D for an encoder of V
// views ("metriclab-arcface-d3", "metriclab-cosface-d4x128").
func ModelFileStem(loss string, dim, views int) string {
	d := strconv.Itoa(dim)
	if views > 0 {
		d = strconv.Itoa(views) + "x" + d
	}
	return "metriclab-" + loss + "-d" + d
}

// FileName is the name the model's file is downloaded as: its
// ModelFileStem, then its id, which tells apart two of one loss and D
// and finds the card again:
// "metriclab-arcface-d3-5f0c2a9e1b7d4c63.safetensors". A registered loss
// is named in lower-case letters and digits, and an id in hex digits, so
// the name needs no quoting in Content-Disposition; a card of a loss
// named otherwise has its id alone.
func (c ModelCard) FileName() string {
	if c.Loss == "" || strings.Trim(c.Loss, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
		return c.ID + ".safetensors"
	}
	return ModelFileStem(c.Loss, c.Dim, len(c.Views)) + "-" + c.ID + ".safetensors"
}
