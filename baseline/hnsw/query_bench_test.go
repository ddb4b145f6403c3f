package hnsw

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/elasticml/elastic/kernels"
	"github.com/elasticml/elastic/screen/synth"
)

// BenchmarkQueryEf is issue 16's per-query comparison: a 100,000 × 512
// classifier from screen/synth (seed 1), 1,000 sampled inputs, an
// inner-product and an IPPT graph (M 16, efConstruction 100, seed 1), and
// per ef the median ms per query (one thread, warm) and the top-1
// agreement with the full classifier. It builds two 100K-row graphs
// (minutes) and caches them, with the rows and queries in the float32
// files a C++ HNSW driver reads (bias folded as the last coordinate, the
// query's last coordinate 1), in $ELASTIC_HNSW_DIR; it is skipped unless
// that is set:
//
//	ELASTIC_HNSW_DIR=/tmp/hnsw go test -run '^$' -bench QueryEf -benchtime 1x ./baseline/hnsw
func BenchmarkQueryEf(b *testing.B) {
	dir := os.Getenv("ELASTIC_HNSW_DIR")
	if dir == "" {
		b.Skip("ELASTIC_HNSW_DIR not set")
	}
	const l, d, queries = 100000, 512, 1000
	m, err := synth.New(synth.Default(l, d))
	if err != nil {
		b.Fatal(err)
	}
	hs, _ := m.Sample(queries, 7)
	p := kernels.NewPool(0)
	defer p.Close()
	best := make([]int32, queries)
	y := make([]float32, l)
	for i := range best {
		p.Gemv(y, m.W, d, hs[i*d:(i+1)*d], m.B)
		for j := range y {
			if y[j] > y[best[i]] {
				best[i] = int32(j)
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	rows := make([]float32, 0, l*(d+1))
	for i := range l {
		rows = append(append(rows, m.W[i*d:(i+1)*d]...), m.B[i])
	}
	qs := make([]float32, 0, queries*(d+1))
	for i := range queries {
		qs = append(append(qs, hs[i*d:(i+1)*d]...), 1)
	}
	writeF32(b, filepath.Join(dir, "rows.f32"), rows)
	writeF32(b, filepath.Join(dir, "queries.f32"), qs)
	bestF := make([]float32, queries)
	for i, v := range best {
		bestF[i] = float32(v)
	}
	writeF32(b, filepath.Join(dir, "best.f32"), bestF)
	for _, ippt := range []bool{false, true} {
		name := map[bool]string{false: "ip", true: "ippt"}[ippt]
		cfg := Config{Seed: 1, M: 16, EfConstruction: 100, IPPT: ippt}
		path := filepath.Join(dir, name+".hnsw")
		x, err := loadOrBuild(p, path, m.W, m.B, l, d, cfg)
		if err != nil {
			b.Fatal(err)
		}
		s := x.Searcher()
		for _, ef := range []int{16, 32, 64, 128, 256, 512} {
			b.Run(fmt.Sprintf("%s/ef=%d", name, ef), func(b *testing.B) {
				for b.Loop() {
					times := make([]float64, 0, 3*queries)
					hit := 0
					for round := range 3 {
						for i := range queries {
							t0 := time.Now()
							ids, _, err := s.Search(hs[i*d:(i+1)*d], 1, ef)
							times = append(times, float64(time.Since(t0).Nanoseconds())/1e6)
							if err != nil {
								b.Fatal(err)
							}
							if round == 0 && ids[0] == best[i] {
								hit++
							}
						}
					}
					b.ReportMetric(median(times), "ms/query")
					b.ReportMetric(float64(hit)/queries, "top1")
				}
			})
		}
	}
}

func loadOrBuild(p *kernels.Pool, path string, w, bias []float32, l, d int, cfg Config) (*Index, error) {
	if f, err := os.Open(path); err == nil {
		defer f.Close()
		return Load(f, w, bias, l, d)
	}
	x, err := Build(p, w, bias, l, d, cfg)
	if err != nil {
		return nil, err
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return x, x.Save(f)
}

func writeF32(b *testing.B, path string, v []float32) {
	buf := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		b.Fatal(err)
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
