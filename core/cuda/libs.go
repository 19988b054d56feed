//go:build !js

package cuda

import (
	"fmt"
	"strings"
)

// library is one shared library Open looks for: the file names tried in
// order, whether it is required, and what its absence means.
type library struct {
	names    []string
	required bool
	missing  string // why it matters, for the error
}

// libraries are the libraries of Open, in load order.
func libraries() [4]library {
	return [4]library{
		{[]string{"libcuda.so.1"}, true, "no NVIDIA driver on this machine"},
		{[]string{"libnvrtc.so.13", "libnvrtc.so.12"}, true, "the CUDA runtime compiler (NVRTC, CUDA 12 or 13) is not installed"},
		{[]string{"libcublas.so.13", "libcublas.so.12"}, true, "cuBLAS (CUDA 12 or 13) is not installed"},
		{[]string{"libcudnn.so.9"}, false, ""},
	}
}

// loader opens a shared library by file name (dlopen).
type loader func(name string) (uintptr, error)

// handles are the opened libraries; cudnn is 0 when cuDNN is absent.
type handles struct {
	cuda, nvrtc, cublas, cudnn uintptr
	names                      [4]string // the file names that were opened
}

// openLibraries opens the libraries with load. The error names the first
// required library that is missing and why it matters, on one line:
//
//	cuda: libcuda.so.1 not found: no NVIDIA driver on this machine
//
// A library that exists but fails to load is reported with the loader's
// message.
func openLibraries(load loader) (handles, error) {
	var h handles
	ptrs := [4]*uintptr{&h.cuda, &h.nvrtc, &h.cublas, &h.cudnn}
	for i, lib := range libraries() {
		var notFound []string
		for _, name := range lib.names {
			p, err := load(name)
			if err == nil {
				*ptrs[i], h.names[i] = p, name
				break
			}
			if !isNotFound(err) {
				return h, fmt.Errorf("cuda: loading %s: %s", name, oneLine(err.Error()))
			}
			notFound = append(notFound, name)
		}
		if *ptrs[i] == 0 && lib.required {
			return h, fmt.Errorf("cuda: %s not found: %s", strings.Join(notFound, " or "), lib.missing)
		}
	}
	return h, nil
}

// isNotFound reports whether a dlopen error says the file does not exist.
func isNotFound(err error) bool {
	s := err.Error()
	return strings.Contains(s, "No such file") || strings.Contains(s, "cannot open shared object file") ||
		strings.Contains(s, "not found")
}

// oneLine joins the lines of s.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
