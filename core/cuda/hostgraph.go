//go:build !js

package cuda

// hostGraphs gives the host backends (Null, Emu) CUDA's stream capture:
// while a stream records, the work queued on it is kept, not run, and a
// graph replays it in order. Calls that CUDA refuses during a capture
// (copies and synchronisation on the recording stream, allocations while
// any stream records) are errors here too, so that an engine tested on a
// host backend captures what a GPU would accept. Its methods run on the
// backend's executor.
type hostGraphs struct {
	recording map[Stream][]func() error
	graphs    map[Graph][]func() error
	next      Graph
}

// errCapture is CUDA's answer to a call a capture does not allow.
func errCapture(call string) error {
	return &CallError{Call: call, Code: Result(900)} // CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED
}

// queue runs f now, or records it when s records.
func (h *hostGraphs) queue(s Stream, f func() error) error {
	if rec, ok := h.recording[s]; ok {
		h.recording[s] = append(rec, f)
		return nil
	}
	return f()
}

// anyStream, passed to refuse, stands for every stream (an allocation).
const anyStream = ^Stream(0)

// refuse returns an error when call may not run: s records, or, for
// anyStream, some stream records.
func (h *hostGraphs) refuse(call string, s Stream) error {
	if _, ok := h.recording[s]; ok || (s == anyStream && len(h.recording) > 0) {
		return errCapture(call)
	}
	return nil
}

func (h *hostGraphs) begin(s Stream) error {
	if _, ok := h.recording[s]; ok {
		return &CallError{Call: "cuStreamBeginCapture_v2", Code: Result(401)} // CUDA_ERROR_ILLEGAL_STATE
	}
	if h.recording == nil {
		h.recording = map[Stream][]func() error{}
		h.graphs = map[Graph][]func() error{}
	}
	h.recording[s] = []func() error{}
	return nil
}

func (h *hostGraphs) end(s Stream) (Graph, error) {
	rec, ok := h.recording[s]
	if !ok {
		return 0, &CallError{Call: "cuStreamEndCapture", Code: Result(401)}
	}
	delete(h.recording, s)
	h.next++
	h.graphs[h.next] = rec
	return h.next, nil
}

func (h *hostGraphs) launch(g Graph, s Stream) error {
	work, ok := h.graphs[g]
	if !ok {
		return &CallError{Call: "cuGraphLaunch", Code: Result(400)} // CUDA_ERROR_INVALID_HANDLE
	}
	return h.queue(s, func() error {
		for _, f := range work {
			if err := f(); err != nil {
				return err
			}
		}
		return nil
	})
}

func (h *hostGraphs) destroy(g Graph) error {
	if _, ok := h.graphs[g]; !ok {
		return &CallError{Call: "cuGraphExecDestroy", Code: Result(400)}
	}
	delete(h.graphs, g)
	return nil
}

// gemmTo computes g on float32 slices (a, b, c the whole buffers of g.A,
// g.B, g.C), accumulating each product in float32 in k order: the plain
// reference of the backends' Gemm.
func gemmTo(g Gemm, a, b, c []float32) {
	at := func(i, k int) float32 {
		if g.TransA {
			return a[k*g.LDA+i]
		}
		return a[i*g.LDA+k]
	}
	bt := func(k, j int) float32 {
		if g.TransB {
			return b[j*g.LDB+k]
		}
		return b[k*g.LDB+j]
	}
	for i := 0; i < g.M; i++ {
		for j := 0; j < g.N; j++ {
			var s float32
			for k := 0; k < g.K; k++ {
				s += at(i, k) * bt(k, j)
			}
			if g.Beta == 0 {
				c[i*g.LDC+j] = g.Alpha * s
			} else {
				c[i*g.LDC+j] = g.Alpha*s + g.Beta*c[i*g.LDC+j]
			}
		}
	}
}
