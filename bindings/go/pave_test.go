package pave_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"pave.internal/pave"
)

type fixtureCase struct {
	Name     string `json:"name"`
	Case     string `json:"case"`
	Bundle   string `json:"bundle"`
	Explain  bool   `json:"explain"`
	Expected string `json:"expected"`
}

type manifest struct {
	Cases  []fixtureCase `json:"cases"`
	Signed struct {
		Bundle, Tampered, Key, Rotation, Expected string
		OtherKey                                  string   `json:"other_key"`
		Inputs                                    []string `json:"inputs"`
	} `json:"signed"`
}

func loadManifest(t *testing.T) *manifest {
	t.Helper()
	dir := os.Getenv("PAVE_BINDINGS_FIXTURES")
	if dir == "" {
		t.Fatal("PAVE_BINDINGS_FIXTURES is not set: run bindings/testdata/prepare.py (scripts/bindings-test.sh does)")
	}
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

type decisionCase struct {
	Name  string          `json:"name"`
	Input json.RawMessage `json:"input"`
}

// work is every decision of every case: its bundle, input, explain flag and pave eval's output.
type work struct {
	label, expected string
	bundle          *pave.Bundle
	input           json.RawMessage
	explain         bool
}

func loadWork(t *testing.T, m *manifest) ([]work, func()) {
	t.Helper()
	var all []work
	var bundles []*pave.Bundle
	for _, c := range m.Cases {
		data, err := os.ReadFile(c.Case)
		if err != nil {
			t.Fatal(err)
		}
		var spec struct {
			Decisions []decisionCase `json:"decisions"`
		}
		if err := json.Unmarshal(data, &spec); err != nil {
			t.Fatal(err)
		}
		exp, err := os.ReadFile(c.Expected)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimRight(string(exp), "\n"), "\n")
		if len(lines) != len(spec.Decisions) {
			t.Fatalf("%s: %d expected lines for %d decisions", c.Name, len(lines), len(spec.Decisions))
		}
		b, err := pave.Open(c.Bundle)
		if err != nil {
			t.Fatal(err)
		}
		bundles = append(bundles, b)
		for i, d := range spec.Decisions {
			all = append(all, work{c.Name + ": " + d.Name, lines[i], b, d.Input, c.Explain})
		}
	}
	return all, func() {
		for _, b := range bundles {
			b.Close()
		}
	}
}

func decide(b *pave.Bundle, input any, explain bool) (*pave.Decision, error) {
	if explain {
		return b.Explain(context.Background(), input)
	}
	return b.Decide(context.Background(), input)
}

// The shared driver: every decision case of the conformance suite gives byte for byte
// what `pave eval` printed, from JSON text and from a native value.
func TestConformanceCasesMatchPaveEval(t *testing.T) {
	all, done := loadWork(t, loadManifest(t))
	defer done()
	if len(all) < 50 {
		t.Fatalf("only %d decisions", len(all))
	}
	for _, w := range all {
		var native map[string]any
		if err := json.Unmarshal(w.input, &native); err != nil {
			t.Fatal(err)
		}
		for _, in := range []any{string(w.input), []byte(w.input), w.input, native} {
			d, err := decide(w.bundle, in, w.explain)
			if err != nil {
				t.Fatalf("%s: %v", w.label, err)
			}
			if d.Raw != w.expected {
				t.Errorf("%s (%T):\n got  %s\n want %s", w.label, in, d.Raw, w.expected)
				continue
			}
			var want pave.Details
			if err := json.Unmarshal([]byte(w.expected), &want); err != nil {
				t.Fatal(err)
			}
			got, err := d.Details()
			if err != nil || !reflect.DeepEqual(*got, want) || d.Outcome != want.Decision {
				t.Errorf("%s: details differ: %v", w.label, err)
			}
		}
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSignedBundleLoadsWithTheRightKey(t *testing.T) {
	m := loadManifest(t)
	s := m.Signed
	expected := strings.Split(strings.TrimRight(readFile(t, s.Expected), "\n"), "\n")
	for _, opts := range [][]pave.Option{
		{pave.WithPublicKey(readFile(t, s.Key))},
		{pave.WithPublicKeyFile(s.Key)},
		{pave.WithPublicKey(readFile(t, s.Rotation))},
		{pave.WithPublicKey(readFile(t, s.OtherKey)), pave.WithPublicKey(readFile(t, s.Key))},
	} {
		b, err := pave.Open(s.Bundle, opts...)
		if err != nil {
			t.Fatal(err)
		}
		for i, in := range s.Inputs {
			d, err := b.Decide(context.Background(), readFile(t, in))
			if err != nil || d.Raw != expected[i] {
				t.Fatalf("%s: %v\n got  %s\n want %s", in, err, d.Raw, expected[i])
			}
		}
		info, err := b.Info()
		if err != nil || !info.Signed || info.SignerKey == nil || info.Rules == 0 {
			t.Fatalf("info: %+v %v", info, err)
		}
		b.Close()
	}
	data := []byte(readFile(t, s.Bundle))
	b, err := pave.OpenBytes(data, pave.WithPublicKey(readFile(t, s.Key)))
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
}

func TestLoadErrors(t *testing.T) {
	m := loadManifest(t)
	s := m.Signed
	var le *pave.LoadError
	_, err := pave.Open(s.Bundle, pave.WithPublicKey(readFile(t, s.OtherKey)))
	if !errors.As(err, &le) || !strings.Contains(le.Message, "signature verification failed") {
		t.Errorf("wrong key: %v", err)
	}
	_, err = pave.Open(s.Tampered, pave.WithPublicKey(readFile(t, s.Key)))
	if !errors.As(err, &le) || !strings.Contains(le.Message, "digest mismatch") {
		t.Errorf("tampered: %v", err)
	}
	_, err = pave.OpenBytes([]byte(readFile(t, s.Tampered)), pave.WithPublicKey(readFile(t, s.Key)))
	if !errors.As(err, &le) || !strings.Contains(le.Message, "digest mismatch") {
		t.Errorf("tampered bytes: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "missing.pvb")
	_, err = pave.Open(missing)
	if !errors.As(err, &le) || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(le.Message, "cannot open") {
		t.Errorf("missing file: %v", err)
	}
	_, err = pave.Open(s.Bundle, pave.WithPublicKey(""))
	if !errors.As(err, &le) {
		t.Errorf("empty key text must fail the open: %v", err)
	}
	if _, err := pave.OpenBytes(nil); !errors.As(err, &le) {
		t.Errorf("no bytes: %v", err)
	}
}

func TestInvalidInputIsADeny(t *testing.T) {
	m := loadManifest(t)
	b, err := pave.Open(m.Signed.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	d, err := b.Decide(context.Background(), "{not json")
	if err != nil || d.Outcome != pave.Deny || len(d.Errors()) == 0 || d.Errors()[0].Code != "malformed-json" {
		t.Fatalf("%v %v", d, err)
	}
	if _, err := b.Decide(context.Background(), make(chan int)); err == nil {
		t.Fatal("an input that cannot be encoded must be an error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Decide(ctx, "{}"); !errors.Is(err, context.Canceled) {
		t.Fatalf("done context: %v", err)
	}
}

func TestEightGoroutinesGiveTheSameResultsAsOne(t *testing.T) {
	all, done := loadWork(t, loadManifest(t))
	defer done()
	single := make([]string, len(all))
	for i, w := range all {
		d, err := decide(w.bundle, w.input, w.explain)
		if err != nil {
			t.Fatal(err)
		}
		single[i] = d.Raw
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rep := 0; rep < 20; rep++ {
				for i, w := range all {
					d, err := decide(w.bundle, w.input, w.explain)
					if err != nil || d.Raw != single[i] {
						errs <- w.label
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("differs under concurrency: %s", e)
	}
}

func TestClose(t *testing.T) {
	m := loadManifest(t)
	in := readFile(t, m.Signed.Inputs[0])
	b, err := pave.Open(m.Signed.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Decide(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	b.Close()
	b.Close() // twice: harmless
	if _, err := b.Decide(context.Background(), in); !errors.Is(err, pave.ErrClosed) {
		t.Fatalf("closed bundle: %v", err)
	}
	if _, err := b.Info(); !errors.Is(err, pave.ErrClosed) {
		t.Fatalf("closed bundle info: %v", err)
	}

	// Closing while goroutines decide: each sees results, then ErrClosed; nothing crashes.
	b, err = pave.Open(m.Signed.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := b.Decide(context.Background(), in)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				d, err := b.Decide(context.Background(), in)
				if errors.Is(err, pave.ErrClosed) {
					return
				}
				if err != nil || d.Raw != want.Raw {
					t.Errorf("during close: %v", err)
					return
				}
			}
		}()
	}
	b.Close()
	wg.Wait()
}

func TestVersion(t *testing.T) {
	if pave.Version() == "" {
		t.Fatal("no version")
	}
}
