package view

import "time"

// Pacer spaces the viewer's repaints so that a sphere that turns by itself
// or a caption that changes with every progress report does not take the
// page's main thread: the viewer lives in an iframe of the page, and on a
// machine without a GPU (WebGL in software) every repaint of a few
// thousand points costs tens of milliseconds that the page and its other
// viewers wait for.
//
// A repaint is due when Interval has passed since the last one. Interval
// is Share times the recent cost of a repaint, within [Min, Max]; the cost
// of a repaint is what the caller reports with Cost (the viewer reports
// how late the frame after a repaint came, so a busy page backs it off
// too), averaged as cost ← cost + (d − cost)/4.
type Pacer struct {
	Min, Max time.Duration // bounds of the interval between repaints
	Share    float64       // interval ≥ Share·cost: repaints take at most 1/Share of the time

	last time.Time     // the last repaint; zero before the first
	cost time.Duration // moving average of the reported costs; 0 before the first
}

// NewPacer returns a pacer of at most perSecond repaints a second, backing
// off to one a second when repaints take more than 1/share of the time.
func NewPacer(perSecond, share float64) *Pacer {
	if perSecond <= 0 || share <= 0 {
		panic("view: NewPacer needs a positive rate and share")
	}
	return &Pacer{Min: time.Duration(float64(time.Second) / perSecond), Max: time.Second, Share: share}
}

// Interval returns the time to leave between two repaints now.
func (p *Pacer) Interval() time.Duration {
	d := time.Duration(p.Share * float64(p.cost))
	return max(p.Min, min(p.Max, d))
}

// Due reports whether a repaint at now is due.
func (p *Pacer) Due(now time.Time) bool {
	return p.last.IsZero() || now.Sub(p.last) >= p.Interval()
}

// Since returns the time from the last repaint to now (0 before the first).
func (p *Pacer) Since(now time.Time) time.Duration {
	if p.last.IsZero() {
		return 0
	}
	return now.Sub(p.last)
}

// Painted records a repaint at now.
func (p *Pacer) Painted(now time.Time) { p.last = now }

// Cost reports what a repaint cost.
func (p *Pacer) Cost(d time.Duration) {
	if d < 0 {
		d = 0
	}
	if p.cost == 0 {
		p.cost = d
		return
	}
	p.cost += (d - p.cost) / 4
}
