//go:build js && wasm

package main

import (
	"fmt"
	"math"
	"strconv"
	"syscall/js"
	"unsafe"

	"metriclab/core/job"
	"metriclab/core/msg"
)

// group is a data-parallel worker's link to the others: worker 0 has one
// port per other worker, the others one port to worker 0.
type group struct {
	index, count int
	ports        []js.Value
	in           []chan exchange // what arrived on each port
	funcs        []js.Func
	steps        int       // steps exchanged, the tag of the next one
	grad, sum    []float32 // this worker's gradient; worker 0's sum and mean
}

// exchange is one gradient (or mean) between workers.
type exchange struct {
	step int
	loss float64
	grad []float32
	err  error // why the message was not one (decodeExchange, deliver)
}

// newGroup links worker index of count through ports.
func newGroup(index, count int, ports []js.Value) (*group, error) {
	want := 1
	if index == 0 {
		want = count - 1
	}
	switch {
	case count > 64:
		return nil, fmt.Errorf("%d workers: at most 64", count)
	case index < 0 || index >= count:
		return nil, fmt.Errorf("worker %d of %d", index, count)
	case len(ports) != want:
		return nil, fmt.Errorf("worker %d of %d got %d message ports, wants %d", index, count, len(ports), want)
	}
	g := &group{index: index, count: count, ports: ports}
	for k, port := range ports {
		ch := make(chan exchange, 2)
		from := k + 1 // the worker at the port's other end
		if index > 0 {
			from = 0
		}
		f := js.FuncOf(func(_ js.Value, args []js.Value) any {
			e, err := decodeExchange(args[0].Get("data"))
			if err != nil {
				e.err = fmt.Errorf("worker %d: a bad message from worker %d: %v", index, from, err)
			}
			deliver(ch, e, index, from)
			return nil
		})
		port.Set("onmessage", f)
		g.in, g.funcs = append(g.in, ch), append(g.funcs, f)
	}
	return g, nil
}

// decodeExchange reads a message of another worker, {step, loss, grad}
// (grad: an ArrayBuffer of float32s), as send writes it; anything else is
// an error, which fails the run where it would have ended the program (a
// panic in a callback of syscall/js is not recovered).
func decodeExchange(d js.Value) (exchange, error) {
	if d.Type() != js.TypeObject {
		return exchange{}, fmt.Errorf("%s, not {step, loss, grad}", d.Type())
	}
	step, loss, grad := d.Get("step"), d.Get("loss"), d.Get("grad")
	if step.Type() != js.TypeNumber || step.Float() != math.Trunc(step.Float()) || step.Float() < 0 || step.Float() > math.MaxInt32 {
		return exchange{}, fmt.Errorf("step %s, not a step number", jsText(step))
	}
	// A loss that is not finite would be worker 0's progress, which JSON
	// cannot write: the run would go on without a word of its steps.
	if loss.Type() != js.TypeNumber || math.IsNaN(loss.Float()) || math.IsInf(loss.Float(), 0) {
		return exchange{}, fmt.Errorf("loss %s, not a finite number", jsText(loss))
	}
	if !grad.InstanceOf(js.Global().Get("ArrayBuffer")) {
		return exchange{}, fmt.Errorf("grad %s, not an ArrayBuffer", jsText(grad))
	}
	b := js.Global().Get("Uint8Array").New(grad)
	if b.Length()%4 != 0 {
		return exchange{}, fmt.Errorf("grad of %d bytes, not float32s", b.Length())
	}
	e := exchange{step: step.Int(), loss: loss.Float(), grad: make([]float32, b.Length()/4)}
	if len(e.grad) > 0 {
		js.CopyBytesToGo(unsafe.Slice((*byte)(unsafe.Pointer(&e.grad[0])), 4*len(e.grad)), b)
	}
	return e, nil
}

// jsText writes v for an error: its type, and a number's value.
func jsText(v js.Value) string {
	if v.Type() == js.TypeNumber {
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	}
	return v.Type().String()
}

// deliver queues e on ch without blocking: a callback that blocked would
// hold the event loop, and with it the whole worker. A peer is at most one
// message ahead (it waits for the answer to each), so a full queue means
// it broke the protocol: the queue is replaced by that error, which fails
// the run at its next receive.
func deliver(ch chan exchange, e exchange, index, from int) {
	select {
	case ch <- e:
		return
	default:
	}
	for len(ch) > 0 { // Go's wasm is single-threaded: nothing receives meanwhile
		<-ch
	}
	ch <- exchange{err: fmt.Errorf("worker %d: worker %d sent more messages than steps", index, from)}
}

// close unhooks the ports; a nil group does nothing.
func (g *group) close() {
	if g == nil {
		return
	}
	for i, p := range g.ports {
		p.Set("onmessage", js.Null())
		p.Call("close")
		g.funcs[i].Release()
	}
}

// step is one data-parallel step of j: this worker's gradient, the mean of
// all of them (worker 0 computes it and sends it back), the update.
func (g *group) step(j *job.Job) (msg.Progress, error) {
	tag := g.steps
	g.steps++
	loss, err := j.ShardGradients(g.grad)
	if err != nil {
		return msg.Progress{}, err
	}
	if g.index > 0 {
		g.send(g.ports[0], tag, loss, g.grad)
		e := <-g.in[0]
		if e.err != nil {
			return msg.Progress{}, e.err
		}
		if e.step != tag || len(e.grad) != len(g.grad) {
			return msg.Progress{}, fmt.Errorf("worker %d: worker 0 sent step %d (%d values), expected step %d (%d)", g.index, e.step, len(e.grad), tag, len(g.grad))
		}
		return j.ApplyShard(e.grad, e.loss)
	}
	copy(g.sum, g.grad)
	total := loss
	for k, ch := range g.in {
		e := <-ch
		if e.err != nil {
			return msg.Progress{}, e.err
		}
		if e.step != tag || len(e.grad) != len(g.sum) {
			return msg.Progress{}, fmt.Errorf("worker %d sent step %d (%d values), expected step %d (%d)", k+1, e.step, len(e.grad), tag, len(g.sum))
		}
		for i, v := range e.grad {
			g.sum[i] += v
		}
		total += e.loss
	}
	n := float32(g.count)
	for i := range g.sum {
		g.sum[i] /= n
	}
	mean := total / float64(g.count)
	for _, p := range g.ports {
		g.send(p, tag, mean, g.sum)
	}
	return j.ApplyShard(g.sum, mean)
}

// send posts {step, loss, grad} on port, grad's bytes in a transferred
// ArrayBuffer.
func (g *group) send(port js.Value, step int, loss float64, grad []float32) {
	b := js.Global().Get("Uint8Array").New(4 * len(grad))
	if len(grad) > 0 {
		js.CopyBytesToJS(b, unsafe.Slice((*byte)(unsafe.Pointer(&grad[0])), 4*len(grad)))
	}
	o := js.Global().Get("Object").New()
	o.Set("step", step)
	o.Set("loss", loss)
	o.Set("grad", b.Get("buffer"))
	port.Call("postMessage", o, []any{b.Get("buffer")})
}
