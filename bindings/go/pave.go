// Package pave is the Go binding of the Pave runtime: load a signed policy bundle (built by
// `pave build` in CI) and decide self-service requests in a Go enforcement point.
//
// It calls the runtime's C API (libpave.so.0) through cgo, found with pkg-config (`pave`):
// install the libpave-dev package, or `cmake --install` the project and point
// PKG_CONFIG_PATH (and, at run time, LD_LIBRARY_PATH) at that prefix.
//
// A Bundle is safe for concurrent use by any number of goroutines.
package pave

/*
#cgo pkg-config: pave
#include <stdlib.h>
#include <string.h>
#include "pave/vm.h"

// The C API's last error is per OS thread: read it in the same C call, and copy it.
static pave_bundle* pave_go_open_file(const char* path, const char* keys, char** err) {
  pave_bundle* b = pave_open_file(path, keys);
  if (!b) *err = strdup(pave_last_error());
  return b;
}
static pave_bundle* pave_go_open(const void* data, size_t n, const char* keys, char** err) {
  pave_bundle* b = pave_open((const uint8_t*)data, n, keys);
  if (!b) *err = strdup(pave_last_error());
  return b;
}
// One decision in one cgo call: the decision JSON is written into buf (Go memory, not kept)
// when it fits; the result is its length. On a failure err holds the runtime's message
// (malloc'd), read on the thread that failed.
typedef struct { size_t n; char* err; } pave_go_decision;
static pave_go_decision pave_go_decide(pave_bundle* b, const char* in, size_t n, int explain,
                                       char* buf, size_t cap) {
  pave_go_decision d = {pave_decide_into(b, in, n, explain, buf, cap), 0};
  if (d.n == PAVE_DECIDE_FAILED) d.err = strdup(pave_last_error());
  return d;
}
static char* pave_go_info(pave_bundle* b, char** err) {
  char* r = pave_bundle_info(b);
  if (!r) *err = strdup(pave_last_error());
  return r;
}
*/
import "C"

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"unsafe"
)

// ErrClosed is returned when a closed Bundle is used.
var ErrClosed = errors.New("pave: the bundle is closed")

// LoadError says why a bundle did not load (bad signature, wrong key, corrupt bytes, a file
// that cannot be read); Message is the runtime's message. A missing file also matches
// fs.ErrNotExist with errors.Is.
type LoadError struct {
	Path    string // empty when opened from bytes
	Message string
	err     error
}

func (e *LoadError) Error() string { return "pave: " + e.Message }
func (e *LoadError) Unwrap() error { return e.err }

type options struct {
	keys    []string
	checked bool
	err     error
}

// Option configures Open and OpenBytes.
type Option func(*options)

// WithPublicKey requires the bundle to be signed by a key of this PEM text (Ed25519; the
// text may hold several keys). Repeat it for key rotation: any of the keys may sign. A text
// holding no key is an error, never "unchecked". Without this option signatures are not
// checked.
func WithPublicKey(pem string) Option {
	return func(o *options) { o.checked = true; o.keys = append(o.keys, pem) }
}

// WithPublicKeyFile is WithPublicKey with the PEM text read from a file.
func WithPublicKeyFile(path string) Option {
	return func(o *options) {
		o.checked = true
		b, err := os.ReadFile(path)
		if err != nil && o.err == nil {
			o.err = err
		}
		o.keys = append(o.keys, string(b))
	}
}

func (o *options) cKeys() *C.char {
	if !o.checked {
		return nil
	}
	return C.CString(strings.Join(o.keys, "\n"))
}

// Bundle is a loaded, verified policy bundle.
type Bundle struct {
	mu sync.RWMutex
	h  *C.pave_bundle
}

// Open loads and verifies the bundle file at path.
func Open(path string, opts ...Option) (*Bundle, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	if o.err != nil {
		return nil, o.err
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	keys := o.cKeys()
	defer C.free(unsafe.Pointer(keys))
	var cerr *C.char
	h := C.pave_go_open_file(cpath, keys, &cerr)
	if h == nil {
		e := &LoadError{Path: path, Message: takeString(cerr)}
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			e.err = fs.ErrNotExist
		}
		return nil, e
	}
	return &Bundle{h: h}, nil
}

// OpenBytes loads and verifies a bundle from its bytes (copied: data may be reused).
func OpenBytes(data []byte, opts ...Option) (*Bundle, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	if o.err != nil {
		return nil, o.err
	}
	keys := o.cKeys()
	defer C.free(unsafe.Pointer(keys))
	var p unsafe.Pointer
	if len(data) > 0 {
		p = unsafe.Pointer(&data[0])
	}
	var cerr *C.char
	h := C.pave_go_open(p, C.size_t(len(data)), keys, &cerr)
	if h == nil {
		return nil, &LoadError{Message: takeString(cerr)}
	}
	return &Bundle{h: h}, nil
}

func takeString(p *C.char) string {
	if p == nil {
		return "unknown error"
	}
	s := C.GoString(p)
	C.free(unsafe.Pointer(p))
	return s
}

// Decide decides one input: a string, []byte or json.RawMessage holding the input JSON,
// or any value encoding/json turns into it (a map, a struct). Invalid input is not an
// error: it yields a deny whose Errors say why. An error means the bundle is closed, the
// context is done, the input cannot be encoded, or the runtime failed (treat it as deny).
func (b *Bundle) Decide(ctx context.Context, input any) (*Decision, error) {
	return b.decide(ctx, input, false)
}

// Explain is Decide with a trace of every rule evaluated (Decision.Trace).
func (b *Bundle) Explain(ctx context.Context, input any) (*Decision, error) {
	return b.decide(ctx, input, true)
}

func (b *Bundle) decide(ctx context.Context, input any, explain bool) (*Decision, error) {
	if ctx != nil {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	var text string
	switch v := input.(type) {
	case string:
		text = v
	case []byte:
		text = unsafe.String(unsafe.SliceData(v), len(v))
	case json.RawMessage:
		text = unsafe.String(unsafe.SliceData(v), len(v))
	default:
		j, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("pave: cannot encode the input: %w", err)
		}
		text = unsafe.String(unsafe.SliceData(j), len(j))
	}
	buf := scratch.Get().(*[scratchSize]byte)
	raw, err := b.decideInto(text, explain, buf[:])
	scratch.Put(buf)
	if err != nil {
		return nil, err
	}
	return newDecision(raw), nil
}

// decideInto decides with the decision JSON written into buf, in one cgo call, and copies
// it once into a string. A decision larger than buf (an explain trace, say) is decided
// again into a buffer of its size.
func (b *Bundle) decideInto(text string, explain bool, buf []byte) (string, error) {
	ex := C.int(0)
	if explain {
		ex = 1
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.h == nil {
		return "", ErrClosed
	}
	// The input's bytes and buf hold no Go pointers, so they may be passed to C as they are;
	// C keeps neither after the call.
	in := (*C.char)(unsafe.Pointer(unsafe.StringData(text)))
	r := C.pave_go_decide(b.h, in, C.size_t(len(text)), ex, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)))
	if r.err != nil {
		return "", errors.New("pave: " + takeString(r.err))
	}
	if int(r.n) <= len(buf) {
		return string(buf[:r.n]), nil
	}
	big := make([]byte, int(r.n))
	r = C.pave_go_decide(b.h, in, C.size_t(len(text)), ex, (*C.char)(unsafe.Pointer(&big[0])), C.size_t(len(big)))
	if r.err != nil {
		return "", errors.New("pave: " + takeString(r.err))
	}
	if int(r.n) != len(big) {
		return "", errors.New("pave: the decision changed size when decided again")
	}
	return unsafe.String(&big[0], len(big)), nil
}

// Decisions are written into a pooled scratch buffer, then copied once into the string
// Decision.Raw: one cgo call, no C allocation to free. They are a few hundred bytes.
const scratchSize = 4096

var scratch = sync.Pool{New: func() any { return new([scratchSize]byte) }}

// Info describes the bundle.
type Info struct {
	Digest          string   `json:"digest"` // "sha256:…", as in each decision's bundle.digest
	Signed          bool     `json:"signed"`
	SignerKey       *string  `json:"signer_key"` // SHA-256 of the verifying key; nil when not checked
	Name            *string  `json:"name"`
	Revision        *string  `json:"revision"`
	CompilerVersion *string  `json:"compiler_version"`
	SourcesDigest   *string  `json:"sources_digest"`
	Rules           int      `json:"rules"`
	RequestTypes    []string `json:"request_types"`
	PrincipalTypes  []string `json:"principal_types"`
}

// Info returns the bundle's identity and shape.
func (b *Bundle) Info() (*Info, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.h == nil {
		return nil, ErrClosed
	}
	var cerr *C.char
	r := C.pave_go_info(b.h, &cerr)
	if r == nil {
		return nil, errors.New("pave: " + takeString(cerr))
	}
	s := C.GoString(r)
	C.pave_free(unsafe.Pointer(r))
	var info Info
	if err := json.Unmarshal([]byte(s), &info); err != nil {
		return nil, err
	}
	return &info, nil
}

// Close frees the bundle once the decisions in progress have finished. Later calls return
// ErrClosed; closing twice is harmless.
func (b *Bundle) Close() error {
	b.mu.Lock()
	h := b.h
	b.h = nil
	b.mu.Unlock()
	if h != nil {
		C.pave_close(h)
	}
	return nil
}

// Version is the runtime library's version.
func Version() string { return C.GoString(C.pave_version()) }
