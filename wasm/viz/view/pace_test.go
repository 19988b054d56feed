package view

import (
	"testing"
	"time"
)

func TestPacer(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }

	p := NewPacer(15, 4) // Min = 1 s / 15 ≈ 66.7 ms
	if p.Min != time.Second/15 || p.Max != time.Second {
		t.Fatalf("bounds [%v, %v], want [%v, 1s]", p.Min, p.Max, time.Second/15)
	}
	if !p.Due(t0) {
		t.Error("the first repaint is not due")
	}
	p.Painted(t0)
	for _, tc := range []struct {
		after time.Duration
		want  bool
	}{
		{ms(0), false}, {ms(16), false}, {ms(66), false}, {ms(67), true}, {ms(500), true},
	} {
		if got := p.Due(t0.Add(tc.after)); got != tc.want {
			t.Errorf("no cost reported: Due(+%v) = %v, want %v", tc.after, got, tc.want)
		}
	}

	// Cheap repaints (a 16 ms frame, ×4 = 64 ms) leave the interval at Min.
	p.Cost(ms(16))
	if got := p.Interval(); got != p.Min {
		t.Errorf("cost 16 ms: interval %v, want Min %v", got, p.Min)
	}
	// A 100 ms frame after a repaint: the average moves a quarter of the
	// way, 16 + (100 − 16)/4 = 37 ms, and the interval is 4 × 37 = 148 ms.
	p.Cost(ms(100))
	if got, want := p.Interval(), ms(148); got != want {
		t.Errorf("after a 100 ms frame: interval %v, want %v", got, want)
	}
	if p.Due(t0.Add(ms(100))) || !p.Due(t0.Add(ms(148))) {
		t.Errorf("after a 100 ms frame: due at +100 ms %v (want false), at +148 ms %v (want true)", p.Due(t0.Add(ms(100))), p.Due(t0.Add(ms(148))))
	}
	// Very slow frames: the interval stops at Max.
	for range 20 {
		p.Cost(2 * time.Second)
	}
	if got := p.Interval(); got != time.Second {
		t.Errorf("2 s frames: interval %v, want Max 1s", got)
	}
	// Fast again: it comes back down to Min.
	for range 40 {
		p.Cost(ms(5))
	}
	if got := p.Interval(); got != p.Min {
		t.Errorf("5 ms frames again: interval %v, want Min %v", got, p.Min)
	}
	if got := p.Since(t0.Add(ms(250))); got != ms(250) {
		t.Errorf("Since = %v, want 250ms", got)
	}
}

func TestNewPacerPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewPacer(0, 4) did not panic")
		}
	}()
	NewPacer(0, 4)
}
