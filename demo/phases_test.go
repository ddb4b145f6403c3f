package demo

import (
	"testing"
	"time"

	"github.com/elasticml/elastic/bench"
	"github.com/elasticml/elastic/kernels"
)

// BenchmarkColdPhases is the diagnostic behind docs/results/demo.md's
// account of where a cold elastic step goes: at ratio 0.5 and m = 256 on
// two threads it empties the caches as Run's default cold pass does (the
// weights flushed, EvictFlush; twice the last-level cache read on every
// core where the build cannot flush), then times each phase of one
// elastic step (per layer: little module, big module; decoder: screener,
// top-m, exact rows), and then, evicted again, the dense step's layers
// and decoder; it reports the median of each over 200 tokens in µs.
//
//	go test -run '^$' -bench ColdPhases -benchtime 1x ./demo
func BenchmarkColdPhases(b *testing.B) {
	a := loadAssets(b)
	pool := kernels.NewPool(2)
	defer pool.Close()
	e, err := a.newElastic(pool, DefaultM)
	if err != nil {
		b.Fatal(err)
	}
	if err := e.lm.SetRatio(0.5); err != nil {
		b.Fatal(err)
	}
	evictBytes := 2 * bench.LastLevelCache()
	if kernels.CanFlush() {
		evictBytes = 0
	}
	p := newPass(a, e, a.Sample, pool, evictBytes)
	names := []string{"L0-little", "L0-big", "L1-little", "L1-big", "dec-screen", "dec-select", "dec-exact", "dense-L0", "dense-L1", "dense-dec"}
	for b.Loop() {
		times := make([][]float64, len(names))
		ls := e.lm.Layers()
		st, dst := a.Model.NewState(1), a.Model.NewState(1)
		z := make([]float32, a.Model.Config().Vocab)
		e0 := a.Model.Config().Emb
		for i := range 200 {
			tok := a.Sample[i]
			x := a.Model.Encoder.Weight.Data[int(tok)*e0 : (int(tok)+1)*e0]
			p.flush()
			t := []time.Time{time.Now()}
			for l, L := range ls {
				L.Speculate(st.H[l], x)
				t = append(t, time.Now())
				L.Execute(st.H[l], st.C[l], x)
				t = append(t, time.Now())
				x = st.H[l]
			}
			e.dec.Screen(z, x)
			t = append(t, time.Now())
			cand := e.dec.Select(z)
			t = append(t, time.Now())
			e.dec.ExactRows(z, x, cand)
			t = append(t, time.Now())
			p.flush()
			x = a.Model.Encoder.Weight.Data[int(tok)*e0 : (int(tok)+1)*e0]
			t = append(t, time.Now())
			for l, L := range ls {
				L.Dense(dst.H[l], dst.C[l], x)
				x = dst.H[l]
				t = append(t, time.Now())
			}
			pool.Gemv(z, a.Model.Decoder.Weight.Data, a.Model.Config().Hidden, x, a.Model.Decoder.Bias.Data)
			t = append(t, time.Now())
			// t[7]→t[8] is the second eviction, timed by neither.
			for k := range names {
				lo := k + min(k/7, 1)
				times[k] = append(times[k], float64(t[lo+1].Sub(t[lo]).Nanoseconds())/1e3)
			}
		}
		for k, n := range names {
			b.ReportMetric(median(times[k]), n+"-µs")
		}
	}
}
