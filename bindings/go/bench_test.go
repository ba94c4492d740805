package pave_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"testing"

	"pave.local/pave"
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

func BenchmarkDecideJSONString(b *testing.B) {
	bundle, texts, _ := benchSetup(b)
	defer bundle.Close()
	ctx := context.Background()
	b.ResetTimer()
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
	b.ResetTimer()
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
	b.ResetTimer()
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
	b.ResetTimer()
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
