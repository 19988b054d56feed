//go:build !js

package cuda

import "fmt"

// Result is a CUDA driver API status (CUresult).
type Result int32

// Driver API statuses that callers test for.
const (
	Success           Result = 0
	ErrOutOfMemory    Result = 2
	ErrNoDevice       Result = 100
	ErrInvalidContext Result = 201
	ErrLaunchFailed   Result = 719
)

// resultNames are the names of cuda.h's CUresult values.
var resultNames = map[Result]string{
	0:   "CUDA_SUCCESS",
	1:   "CUDA_ERROR_INVALID_VALUE",
	2:   "CUDA_ERROR_OUT_OF_MEMORY",
	3:   "CUDA_ERROR_NOT_INITIALIZED",
	4:   "CUDA_ERROR_DEINITIALIZED",
	5:   "CUDA_ERROR_PROFILER_DISABLED",
	34:  "CUDA_ERROR_STUB_LIBRARY",
	35:  "CUDA_ERROR_INSUFFICIENT_DRIVER",
	36:  "CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER",
	46:  "CUDA_ERROR_DEVICE_UNAVAILABLE",
	100: "CUDA_ERROR_NO_DEVICE",
	101: "CUDA_ERROR_INVALID_DEVICE",
	102: "CUDA_ERROR_DEVICE_NOT_LICENSED",
	200: "CUDA_ERROR_INVALID_IMAGE",
	201: "CUDA_ERROR_INVALID_CONTEXT",
	202: "CUDA_ERROR_CONTEXT_ALREADY_CURRENT",
	205: "CUDA_ERROR_MAP_FAILED",
	206: "CUDA_ERROR_UNMAP_FAILED",
	209: "CUDA_ERROR_NO_BINARY_FOR_GPU",
	214: "CUDA_ERROR_ECC_UNCORRECTABLE",
	216: "CUDA_ERROR_CONTEXT_ALREADY_IN_USE",
	218: "CUDA_ERROR_INVALID_PTX",
	221: "CUDA_ERROR_JIT_COMPILER_NOT_FOUND",
	222: "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
	300: "CUDA_ERROR_INVALID_SOURCE",
	301: "CUDA_ERROR_FILE_NOT_FOUND",
	400: "CUDA_ERROR_INVALID_HANDLE",
	401: "CUDA_ERROR_ILLEGAL_STATE",
	500: "CUDA_ERROR_NOT_FOUND",
	600: "CUDA_ERROR_NOT_READY",
	700: "CUDA_ERROR_ILLEGAL_ADDRESS",
	701: "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
	702: "CUDA_ERROR_LAUNCH_TIMEOUT",
	709: "CUDA_ERROR_CONTEXT_IS_DESTROYED",
	710: "CUDA_ERROR_ASSERT",
	715: "CUDA_ERROR_ILLEGAL_INSTRUCTION",
	716: "CUDA_ERROR_MISALIGNED_ADDRESS",
	719: "CUDA_ERROR_LAUNCH_FAILED",
	800: "CUDA_ERROR_NOT_PERMITTED",
	801: "CUDA_ERROR_NOT_SUPPORTED",
	900: "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED",
	901: "CUDA_ERROR_STREAM_CAPTURE_INVALIDATED",
	999: "CUDA_ERROR_UNKNOWN",
}

// Error returns the code's name and number: "CUDA_ERROR_INVALID_CONTEXT (201)".
func (r Result) Error() string { return codeString(resultNames, r, "CUresult") }

// NVRTCResult is an NVRTC status (nvrtcResult).
type NVRTCResult int32

var nvrtcNames = map[NVRTCResult]string{
	0:  "NVRTC_SUCCESS",
	1:  "NVRTC_ERROR_OUT_OF_MEMORY",
	2:  "NVRTC_ERROR_PROGRAM_CREATION_FAILURE",
	3:  "NVRTC_ERROR_INVALID_INPUT",
	4:  "NVRTC_ERROR_INVALID_PROGRAM",
	5:  "NVRTC_ERROR_INVALID_OPTION",
	6:  "NVRTC_ERROR_COMPILATION",
	7:  "NVRTC_ERROR_BUILTIN_OPERATION_FAILURE",
	8:  "NVRTC_ERROR_NO_NAME_EXPRESSIONS_AFTER_COMPILATION",
	9:  "NVRTC_ERROR_NO_LOWERED_NAMES_BEFORE_COMPILATION",
	10: "NVRTC_ERROR_NAME_EXPRESSION_NOT_VALID",
	11: "NVRTC_ERROR_INTERNAL_ERROR",
	12: "NVRTC_ERROR_TIME_FILE_WRITE_FAILED",
}

// Error returns the code's name and number: "NVRTC_ERROR_COMPILATION (6)".
func (r NVRTCResult) Error() string { return codeString(nvrtcNames, r, "nvrtcResult") }

// CublasStatus is a cuBLAS status (cublasStatus_t).
type CublasStatus int32

var cublasNames = map[CublasStatus]string{
	0:  "CUBLAS_STATUS_SUCCESS",
	1:  "CUBLAS_STATUS_NOT_INITIALIZED",
	3:  "CUBLAS_STATUS_ALLOC_FAILED",
	7:  "CUBLAS_STATUS_INVALID_VALUE",
	8:  "CUBLAS_STATUS_ARCH_MISMATCH",
	11: "CUBLAS_STATUS_MAPPING_ERROR",
	13: "CUBLAS_STATUS_EXECUTION_FAILED",
	14: "CUBLAS_STATUS_INTERNAL_ERROR",
	15: "CUBLAS_STATUS_NOT_SUPPORTED",
	16: "CUBLAS_STATUS_LICENSE_ERROR",
}

// Error returns the code's name and number: "CUBLAS_STATUS_ALLOC_FAILED (3)".
func (s CublasStatus) Error() string { return codeString(cublasNames, s, "cublasStatus") }

// codeString names code from names, or says it is unknown.
func codeString[T ~int32](names map[T]string, code T, kind string) string {
	if n, ok := names[code]; ok {
		return fmt.Sprintf("%s (%d)", n, int32(code))
	}
	return fmt.Sprintf("unknown %s %d", kind, int32(code))
}

// check returns nil for a success code, and otherwise an error that names
// the call: "cuda: cuMemAlloc_v2: CUDA_ERROR_OUT_OF_MEMORY (2)". The code
// is wrapped, for errors.Is.
func check[T ~int32](call string, code T) error {
	if code == 0 {
		return nil
	}
	return &CallError{Call: call, Code: codeError(code)}
}

// codeError returns the code as its error type.
func codeError[T ~int32](code T) error {
	switch c := any(code).(type) {
	case Result:
		return c
	case NVRTCResult:
		return c
	case CublasStatus:
		return c
	}
	panic(fmt.Sprintf("cuda: status of unknown type %T", code))
}

// CallError is a failed library call and its status.
type CallError struct {
	Call string // the library function, "cuMemAlloc_v2"
	Code error  // a Result, NVRTCResult or CublasStatus
}

func (e *CallError) Error() string { return "cuda: " + e.Call + ": " + e.Code.Error() }
func (e *CallError) Unwrap() error { return e.Code }
