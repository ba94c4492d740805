package pave_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"runtime"
	"sort"
	"syscall"
	"testing"

	"pave.internal/pave"
	"pave.internal/pave/internal/capibench"
)

// Benchmarks for bench/bindings_bench.sh, on PAVE_BENCH_BUNDLE with the inputs (JSON lines)
// of PAVE_BENCH_INPUTS. Run: go test -run '^$' -bench .
func benchSetup(b *testing.B) (*pave.Bundle, []string, []map[string]any) {
	bundlePath, inputsPath := os.Getenv("PAVE_BENCH_BUNDLE"), os.Getenv("PAVE_BENCH_INPUTS")
	if bundlePath == "" || inputsPath == "" {
		b.Skip("PAVE_BENCH_BUNDLE and PAVE_BENCH_INPUTS are not set (bench/bindings_bench.sh sets them)")
	}
	bundle, err := pave.Open(bundlePath)
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(inputsPath)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var texts []string
	var maps []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		texts = append(texts, sc.Text())
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			b.Fatal(err)
		}
		maps = append(maps, m)
	}
	return bundle, texts, maps
}

// cpuNanos is the CPU time of the whole process (every thread: the Go runtime's own work,
// such as the garbage collector and the scheduler, counts): on a loaded machine it does not
// grow with the time the process waits for a core, as the wall-clock ns/op does.
func cpuNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// cpuTimer reports the process CPU time per operation as the metric cpu-ns/op.
type cpuTimer struct {
	b     *testing.B
	start int64
}

func startCPU(b *testing.B) *cpuTimer { b.ResetTimer(); return &cpuTimer{b, cpuNanos()} }
func (t *cpuTimer) stop() {
	t.b.StopTimer()
	t.b.ReportMetric(float64(cpuNanos()-t.start)/float64(t.b.N), "cpu-ns/op")
}

func BenchmarkDecideJSONString(b *testing.B) {
	bundle, texts, _ := benchSetup(b)
	defer bundle.Close()
	ctx := context.Background()
	t := startCPU(b)
	defer t.stop()
	for i := 0; i < b.N; i++ {
		if _, err := bundle.Decide(ctx, texts[i%len(texts)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecideNativeMap(b *testing.B) {
	bundle, _, maps := benchSetup(b)
	defer bundle.Close()
	ctx := context.Background()
	t := startCPU(b)
	defer t.stop()
	for i := 0; i < b.N; i++ {
		if _, err := bundle.Decide(ctx, maps[i%len(maps)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecideJSONStringParsed(b *testing.B) {
	bundle, texts, _ := benchSetup(b)
	defer bundle.Close()
	ctx := context.Background()
	t := startCPU(b)
	defer t.stop()
	for i := 0; i < b.N; i++ {
		d, err := bundle.Decide(ctx, texts[i%len(texts)])
		if err != nil {
			b.Fatal(err)
		}
		_ = d.Grants()
	}
}

func BenchmarkDecideParallel8(b *testing.B) {
	bundle, texts, _ := benchSetup(b)
	defer bundle.Close()
	ctx := context.Background()
	b.SetParallelism(8)
	t := startCPU(b)
	defer t.stop()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := bundle.Decide(ctx, texts[i%len(texts)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkOverhead measures the binding beside the C API in the same process, one form per
// sub-benchmark (Decide from a JSON string, from a map, and from a JSON string with the
// decision parsed): rounds of a C loop of pave_decide and of the form on the same inputs,
// alternately, each timed in process CPU time. It reports both figures (the medians of the
// rounds) and the overhead per decision, the median of the per-round differences, which the
// machine's load (the same in both halves of a round) mostly cancels out.
// bench/bindings_bench.sh runs it.
func BenchmarkOverhead(b *testing.B) {
	bundle, texts, _ := benchSetup(b)
	defer bundle.Close()
	// Only the native form keeps the parsed maps alive (about 1,000 maps of nested maps):
	// as garbage-collected heap they would make every collection during the other forms
	// slower, a cost of this harness and not of the binding.
	var maps []map[string]any
	loop, err := capibench.New(os.Getenv("PAVE_BENCH_BUNDLE"), texts)
	if err != nil {
		b.Fatal(err)
	}
	defer loop.Close()
	ctx := context.Background()
	forms := []struct {
		name string
		run  func(i int) error
	}{
		{"json-string", func(i int) error { _, err := bundle.Decide(ctx, texts[i%len(texts)]); return err }},
		{"native", func(i int) error { _, err := bundle.Decide(ctx, maps[i%len(maps)]); return err }},
		{"json-string+parsed", func(i int) error {
			d, err := bundle.Decide(ctx, texts[i%len(texts)])
			if err == nil {
				_, err = d.Details()
			}
			return err
		}},
	}
	for _, form := range forms {
		b.Run(form.name, func(b *testing.B) {
			if form.name == "native" {
				maps = parseMaps(b, texts)
				defer func() { maps = nil }()
			}
			runtime.GC() // start from a clean heap: no collection left over from the setup or another form
			const round = 2000
			var cs, gs, diffs []float64
			b.ResetTimer()
			for done := 0; done < b.N; done += round {
				k := min(round, b.N-done)
				t0 := cpuNanos()
				if !loop.Run(k) {
					b.Fatal("pave_decide failed")
				}
				t1 := cpuNanos()
				for i := 0; i < k; i++ {
					if err := form.run(done + i); err != nil {
						b.Fatal(err)
					}
				}
				t2 := cpuNanos()
				c, g := float64(t1-t0)/float64(k), float64(t2-t1)/float64(k)
				cs, gs, diffs = append(cs, c), append(gs, g), append(diffs, g-c)
			}
			b.StopTimer()
			b.ReportMetric(median(cs), "c-cpu-ns/op")
			b.ReportMetric(median(gs), "go-cpu-ns/op")
			b.ReportMetric(median(diffs), "overhead-ns/op")
		})
	}
}

func parseMaps(b *testing.B, texts []string) []map[string]any {
	maps := make([]map[string]any, len(texts))
	for i, t := range texts {
		if err := json.Unmarshal([]byte(t), &maps[i]); err != nil {
			b.Fatal(err)
		}
	}
	return maps
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	sort.Float64s(v)
	return v[len(v)/2]
}
