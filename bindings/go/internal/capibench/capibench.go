// Package capibench is the C API baseline of the Go benchmarks (bench_test.go): pave_decide
// called from C in a loop, in the same process as the binding's loop, so that the two can be
// measured alternately and the binding's overhead is the difference of two figures taken
// under the same load. Not part of the binding's API.
package capibench

/*
#cgo pkg-config: pave
#include <stdlib.h>
#include "pave/vm.h"

// Decides inputs[i % n] for i in [0, iters); returns a checksum so that nothing is elided.
static size_t pave_capibench_loop(pave_bundle* b, char** inputs, size_t* sizes, size_t n, long iters) {
  size_t sink = 0;
  for (long i = 0; i < iters; ++i) {
    char* d = pave_decide(b, inputs[i % n], sizes[i % n], 0);
    if (!d) return 0;
    sink += (unsigned char)d[13];
    pave_free(d);
  }
  return sink;
}
*/
import "C"

import (
	"errors"
	"unsafe"
)

// Loop holds a bundle opened through the C API and the inputs copied into C memory.
type Loop struct {
	b      *C.pave_bundle
	inputs **C.char
	sizes  *C.size_t
	n      int
}

// New opens bundlePath (signatures not checked) and copies the inputs.
func New(bundlePath string, inputs []string) (*Loop, error) {
	if len(inputs) == 0 {
		return nil, errors.New("capibench: no inputs")
	}
	p := C.CString(bundlePath)
	defer C.free(unsafe.Pointer(p))
	b := C.pave_open_file(p, nil)
	if b == nil {
		return nil, errors.New(C.GoString(C.pave_last_error()))
	}
	l := &Loop{b: b, n: len(inputs)}
	l.inputs = (**C.char)(C.malloc(C.size_t(len(inputs)) * C.size_t(unsafe.Sizeof(uintptr(0)))))
	l.sizes = (*C.size_t)(C.malloc(C.size_t(len(inputs)) * C.size_t(unsafe.Sizeof(C.size_t(0)))))
	ins := unsafe.Slice(l.inputs, len(inputs))
	sizes := unsafe.Slice(l.sizes, len(inputs))
	for i, s := range inputs {
		ins[i] = C.CString(s)
		sizes[i] = C.size_t(len(s))
	}
	return l, nil
}

// Run decides iters inputs in one C loop; false if a decision failed.
func (l *Loop) Run(iters int) bool {
	return C.pave_capibench_loop(l.b, l.inputs, l.sizes, C.size_t(l.n), C.long(iters)) != 0
}

// Close frees everything.
func (l *Loop) Close() {
	for _, p := range unsafe.Slice(l.inputs, l.n) {
		C.free(unsafe.Pointer(p))
	}
	C.free(unsafe.Pointer(l.inputs))
	C.free(unsafe.Pointer(l.sizes))
	C.pave_close(l.b)
}
