package pave

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Decisions larger than the buffer they are written into (the scratch buffer holds 4,096
// bytes; an explained decision can be larger) are decided again into a buffer of their
// size: with buffers from 1 byte up, the result is the same as with a buffer large enough.
func TestDecisionLargerThanItsBuffer(t *testing.T) {
	dir := os.Getenv("PAVE_BINDINGS_FIXTURES")
	if dir == "" {
		t.Fatal("PAVE_BINDINGS_FIXTURES is not set: run bindings/testdata/prepare.py (scripts/bindings-test.sh does)")
	}
	var m struct {
		Signed struct {
			Bundle string   `json:"bundle"`
			Inputs []string `json:"inputs"`
		} `json:"signed"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	b, err := Open(m.Signed.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	large := 0
	for _, path := range m.Signed.Inputs {
		in, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, explain := range []bool{false, true} {
			want, err := b.decideInto(string(in), explain, make([]byte, 1<<20))
			if err != nil {
				t.Fatal(err)
			}
			for _, size := range []int{1, len(want) - 1, len(want), len(want) + 1} {
				got, err := b.decideInto(string(in), explain, make([]byte, max(size, 1)))
				if err != nil || got != want {
					t.Errorf("%s explain=%v, buffer of %d bytes: got %q (%v), want %q", path, explain, size, got, err, want)
				}
			}
			if explain && len(want) > scratchSize {
				large++
				d, err := b.Explain(context.Background(), string(in))
				if err != nil || d.Raw != want {
					t.Errorf("%s: Explain of a %d-byte decision: got %d bytes (%v)", path, len(want), len(d.Raw), err)
				}
			}
		}
	}
	if large == 0 {
		t.Errorf("no explained decision is larger than %d bytes: Decide's second call is not covered", scratchSize)
	}
}
