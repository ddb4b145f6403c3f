package kernels

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// TopK selects the k largest elements of x, or the k largest in magnitude
// when byMagnitude is set. It uses idx, which must have len(idx) >= len(x),
// as working space and allocates nothing. It returns sel = idx[:k] holding
// the selected indices in unspecified order, and thresh, the k-th largest
// value (or magnitude): every selected element is >= thresh and every other
// element is <= thresh, which is the threshold a batch selector shares
// across samples.
//
// k == 0 returns an empty selection and thresh = +Inf. k >= len(x) selects
// every index and thresh is the minimum (the smallest magnitude), or +Inf
// when x is empty.
//
// NaN ranks below every number, −Inf included, so NaNs are selected only
// when k exceeds the number of non-NaN elements, and thresh is NaN exactly
// then. Among equal values the choice is unspecified; −0 and +0 are equal.
//
// For k <= len(x)/256, TopK makes one streaming pass over x with a running
// threshold (see streamTopK), so each element costs a comparison or two and
// only the few that beat the k best so far are kept. Otherwise selection is
// introselect: quickselect with a three-way partition (so runs of ties cost
// linear time) and a deterministic median-of-three or ninther pivot,
// falling back to sorting the remaining range when the recursion depth
// exceeds 2·log2(len(x)); for k <= len(x)/8 on long inputs a sampling pass
// (see sampleFilter) first discards all but O(k + n^(3/4)) candidates.
// Expected time is O(len(x)), worst case O(len(x)·log len(x)). It panics if
// k < 0 or len(idx) < len(x).
func TopK(idx []int32, x []float32, k int, byMagnitude bool) (sel []int32, thresh float32) {
	n := len(x)
	if k < 0 {
		panic(fmt.Sprintf("kernels: TopK negative k=%d", k))
	}
	if len(idx) < n {
		panic(fmt.Sprintf("kernels: TopK len(idx)=%d < len(x)=%d", len(idx), n))
	}
	if n > math.MaxInt32 {
		panic("kernels: TopK len(x) does not fit int32 indices")
	}
	if k == 0 || n == 0 {
		return idx[:0], float32(math.Inf(1))
	}
	idx = idx[:n]
	if k <= n/streamMinRatio {
		sel = streamTopK(idx, x, k, byMagnitude)
		return sel, keyValue(topKey(x[sel[k-1]], byMagnitude))
	}
	if n >= sampleMin && k <= n/8 {
		if c := sampleFilter(idx, x, k, byMagnitude); c > 0 {
			introselect(idx[:c], x, k-1, byMagnitude)
			return idx[:k], keyValue(topKey(x[idx[k-1]], byMagnitude))
		}
	}
	for i := range idx {
		idx[i] = int32(i)
	}
	if k >= n {
		m := topKey(x[0], byMagnitude)
		for _, v := range x[1:] {
			m = min(m, topKey(v, byMagnitude))
		}
		return idx, keyValue(m)
	}
	introselect(idx, x, k-1, byMagnitude)
	return idx[:k], keyValue(topKey(x[idx[k-1]], byMagnitude))
}

// topKey maps a float32 to a uint32 whose unsigned order is the order TopK
// ranks by: NaN -> 0, then −Inf < ... < −0 < +0 < ... < +Inf. With mag the
// sign is cleared first. Comparing keys avoids NaN-aware float comparisons
// in the partition loop.
func topKey(v float32, mag bool) uint32 {
	b := math.Float32bits(v)
	if mag {
		b &^= 1 << 31
	}
	switch {
	case b&^(1<<31) > 0x7f800000: // NaN
		return 0
	case b>>31 != 0:
		return ^b
	default:
		return b | 1<<31
	}
}

// keyValue inverts topKey (up to the sign of zero and NaN payloads).
func keyValue(k uint32) float32 {
	switch {
	case k == 0:
		return float32(math.NaN())
	case k>>31 != 0:
		return math.Float32frombits(k &^ (1 << 31))
	default:
		return math.Float32frombits(^k)
	}
}

// introselect permutes idx so that idx[t] has rank t in descending key
// order, everything before it ranks at or above it and everything after at
// or below.
func introselect(idx []int32, x []float32, t int, mag bool) {
	selectBudget(idx, x, t, mag, 2*bits.Len(uint(len(idx))))
}

// selectBudget is introselect with an explicit number of partition rounds
// allowed before it sorts the remaining range instead.
func selectBudget(idx []int32, x []float32, t int, mag bool, budget int) {
	lo, hi := 0, len(idx)
	for hi-lo > 16 {
		if budget == 0 {
			sub := idx[lo:hi]
			slices.SortFunc(sub, func(a, b int32) int {
				ka, kb := topKey(x[a], mag), topKey(x[b], mag)
				switch {
				case ka > kb:
					return -1
				case ka < kb:
					return 1
				}
				return 0
			})
			return
		}
		budget--
		p := topKey(x[idx[pivotIndex(idx, x, lo, hi, mag)]], mag)
		lt, gt := partition3(idx, x, lo, hi, t, p, mag)
		switch {
		case t < lt:
			hi = lt
		case t >= gt:
			lo = gt
		default:
			return // t falls among the keys equal to the pivot
		}
	}
	// Insertion sort the short remaining range.
	for i := lo + 1; i < hi; i++ {
		v := idx[i]
		kv := topKey(x[v], mag)
		j := i
		for ; j > lo && topKey(x[idx[j-1]], mag) < kv; j-- {
			idx[j] = idx[j-1]
		}
		idx[j] = v
	}
}

// streamMinRatio is the least len(x)/k for which TopK streams. The
// candidates that enter grow like k·log(n/k), and each compaction selects
// within 4k of them, so with k a larger share of n the sampling filter is
// faster: on the target, 1.5 times at k = n/100 and 2 to 3 times at
// k = n/16, while at k = n/1000 streaming is as fast or faster, and at
// k = n/4000 six to eight times faster.
const streamMinRatio = 256

// streamTopK selects the k largest keys of x, 0 < k <= len(x)/8, in one
// pass: it keeps candidate indices in a buffer within idx and a threshold,
// the k-th largest key among them. An element enters the buffer only if it
// beats the threshold; when the buffer is full, introselect keeps its best
// k and the threshold rises to the k-th of those. The threshold never
// exceeds the k-th largest key of x, so no element of the top k is ever
// refused or dropped, and on most inputs only O(k·log(n/k)) elements
// enter. The comparison is a float32 one against the threshold's value, so
// ±0 ties are refused like any other tie, and while the threshold is NaN,
// which ranks below everything, a separate loop admits every number. It
// returns idx[:k] with the k-th largest key at idx[k-1].
func streamTopK(idx []int32, x []float32, k int, mag bool) []int32 {
	// The buffer holds k kept candidates and room for 3k (at least 1024)
	// newcomers, so each compaction is paid for by many admissions.
	buf := idx[:min(len(idx), k+max(3*k, 1024))]
	for i := range k {
		buf[i] = int32(i)
	}
	tv, tnan := compactTopK(buf[:k], x, k, mag)
	m := k
	for i := k; i < len(x); {
		switch {
		case tnan:
			m, i = admitNumbers(buf, m, x, i)
		case mag:
			m, i = admitAbove(buf, m, x, i, tv, -tv)
		default:
			m, i = admitGreater(buf, m, x, i, tv)
		}
		if m == len(buf) {
			tv, tnan = compactTopK(buf, x, k, mag)
			m = k
		}
	}
	if m > k {
		compactTopK(buf[:m], x, k, mag)
	}
	return buf[:k]
}

// compactTopK moves the k best of the candidates buf to its front and
// returns the k-th key as a value (or magnitude), and whether it is NaN.
func compactTopK(buf []int32, x []float32, k int, mag bool) (tv float32, tnan bool) {
	introselect(buf, x, k-1, mag)
	tv = x[buf[k-1]]
	if mag {
		tv = abs32(tv)
	}
	return tv, tv != tv
}

// admitAbove appends to buf[m:] the indices i, i+1, ... of the elements of
// x above hi or below lo, until buf is full or x ends, and returns the new
// m and the next index to look at. It is the loop every element of a
// streaming TopK goes through, so it tests four elements with one branch,
// which is not taken for almost all of them.
func admitAbove(buf []int32, m int, x []float32, i int, hi, lo float32) (int, int) {
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		if b2i(v[0] > hi || v[0] < lo)|b2i(v[1] > hi || v[1] < lo)|b2i(v[2] > hi || v[2] < lo)|b2i(v[3] > hi || v[3] < lo) == 0 {
			continue
		}
		for j, vj := range v {
			if vj > hi || vj < lo {
				buf[m] = int32(i + j)
				m++
				if m == len(buf) {
					return m, i + j + 1
				}
			}
		}
	}
	for ; i < len(x); i++ {
		if v := x[i]; v > hi || v < lo {
			buf[m] = int32(i)
			m++
			if m == len(buf) {
				return m, i + 1
			}
		}
	}
	return m, i
}

// admitGreater is admitAbove with no lower bound.
func admitGreater(buf []int32, m int, x []float32, i int, hi float32) (int, int) {
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		if b2i(v[0] > hi)|b2i(v[1] > hi)|b2i(v[2] > hi)|b2i(v[3] > hi) == 0 {
			continue
		}
		for j, vj := range v {
			if vj > hi {
				buf[m] = int32(i + j)
				m++
				if m == len(buf) {
					return m, i + j + 1
				}
			}
		}
	}
	for ; i < len(x); i++ {
		if x[i] > hi {
			buf[m] = int32(i)
			m++
			if m == len(buf) {
				return m, i + 1
			}
		}
	}
	return m, i
}

// admitNumbers is admitAbove for a NaN threshold: every number beats it.
func admitNumbers(buf []int32, m int, x []float32, i int) (int, int) {
	for ; i < len(x); i++ {
		if v := x[i]; v == v {
			buf[m] = int32(i)
			m++
			if m == len(buf) {
				return m, i + 1
			}
		}
	}
	return m, i
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// sampleMin is the length from which TopK tries sampleFilter first.
const sampleMin = 2048

// sampleFilter is the first step of Floyd and Rivest's SELECT, for small k:
// it selects, within a strided sample of about 2·sqrt(n) elements, a key p
// ranked slightly below where the k-th largest should fall, then writes to
// idx, in one sequential pass over x, the indices of all elements with key
// >= p. If at least k were written, the top k are among them and it
// returns their count; otherwise it returns 0 and TopK starts over. The
// pass reads x in order and writes idx without reading it, and leaves
// O(k + n^(3/4)) candidates instead of the ~n/2 a first quickselect
// partition leaves. The sample positions are fixed, so the result is
// deterministic.
func sampleFilter(idx []int32, x []float32, k int, mag bool) int {
	n := len(x)
	m := 2 * isqrt(n)
	step := n / m
	for i := range m {
		idx[i] = int32(i * step)
	}
	r := min((k-1)*m/n+isqrt(m), m-1)
	introselect(idx[:m], x, r, mag)
	p := topKey(x[idx[r]], mag)
	c := 0
	for i, v := range x {
		idx[c] = int32(i)
		c += b2i(topKey(v, mag) >= p)
	}
	if c < k {
		return 0
	}
	return c
}

func isqrt(n int) int { return int(math.Sqrt(float64(n))) }

// pivotIndex picks a deterministic pivot in [lo, hi): the median of three
// for short ranges, Tukey's ninther otherwise.
func pivotIndex(idx []int32, x []float32, lo, hi int, mag bool) int {
	n := hi - lo
	a, b, c := lo, lo+n/2, hi-1
	if n >= 128 {
		s := n / 8
		a = median3(idx, x, a, a+s, a+2*s, mag)
		b = median3(idx, x, b-s, b, b+s, mag)
		c = median3(idx, x, c-2*s, c-s, c, mag)
	}
	return median3(idx, x, a, b, c, mag)
}

func median3(idx []int32, x []float32, a, b, c int, mag bool) int {
	ka, kb, kc := topKey(x[idx[a]], mag), topKey(x[idx[b]], mag), topKey(x[idx[c]], mag)
	if ka > kb {
		a, b, ka, kb = b, a, kb, ka
	}
	// Now ka <= kb.
	switch {
	case kc >= kb:
		return b
	case kc <= ka:
		return a
	}
	return c
}

// partition3 rearranges idx[lo:hi] into keys > p, keys == p, keys < p and
// returns the bounds [lt, gt) of the middle part. It makes two branch-free
// Lomuto passes, the second only over the part that may hold t, because a
// data-dependent branch per element mispredicts half the time on the first
// passes and costs more than the extra swaps.
func partition3(idx []int32, x []float32, lo, hi, t int, p uint32, mag bool) (lt, gt int) {
	lt = lo
	for i := lo; i < hi; i++ {
		v := idx[i]
		idx[i] = idx[lt]
		idx[lt] = v
		lt += b2i(topKey(x[v], mag) > p)
	}
	if t < lt {
		return lt, lt // the caller only needs to know t is left of lt
	}
	gt = lt
	for i := lt; i < hi; i++ {
		v := idx[i]
		idx[i] = idx[gt]
		idx[gt] = v
		gt += b2i(topKey(x[v], mag) == p)
	}
	return lt, gt
}

// TopKRows runs TopK on each row of the row-major rows×cols matrix x and
// writes the selected column indices of row r, in unspecified order, to
// dst[r*k:(r+1)*k]. work is scratch space of len >= cols. It panics unless
// 0 <= k <= cols, len(x) == rows*cols and len(dst) >= rows*k.
func TopKRows(dst []int32, x []float32, rows, cols, k int, byMagnitude bool, work []int32) {
	checkTopKRows("TopKRows", dst, x, rows, cols, k)
	if len(work) < cols {
		panic(fmt.Sprintf("kernels: TopKRows len(work)=%d < cols=%d", len(work), cols))
	}
	topKRows(dst, x, cols, k, byMagnitude, work, 0, rows)
}

// TopKRows is TopKRows split across the pool's workers by row. Each worker
// needs its own scratch, so work must have len >= Workers()*cols; a nil
// work makes the call allocate that much.
func (p *Pool) TopKRows(dst []int32, x []float32, rows, cols, k int, byMagnitude bool, work []int32) {
	checkTopKRows("Pool.TopKRows", dst, x, rows, cols, k)
	w := min(p.Workers(), rows)
	if w == 0 {
		return
	}
	if work == nil {
		work = make([]int32, w*cols)
	}
	if len(work) < w*cols {
		panic(fmt.Sprintf("kernels: Pool.TopKRows len(work)=%d < Workers()*cols=%d", len(work), p.Workers()*cols))
	}
	// Split rows into w slots of our own so that slot j can own
	// work[j*cols:(j+1)*cols] whichever goroutine runs it.
	p.For(w, 1, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			topKRows(dst, x, cols, k, byMagnitude, work[j*cols:(j+1)*cols], j*rows/w, (j+1)*rows/w)
		}
	})
}

func checkTopKRows(name string, dst []int32, x []float32, rows, cols, k int) {
	if rows < 0 || cols < 0 || k < 0 || k > cols {
		panic(fmt.Sprintf("kernels: %s bad shape rows=%d cols=%d k=%d", name, rows, cols, k))
	}
	if len(x) != rows*cols || len(dst) < rows*k {
		panic(fmt.Sprintf("kernels: %s len(x)=%d (want %d), len(dst)=%d (want >= %d)", name, len(x), rows*cols, len(dst), rows*k))
	}
}

func topKRows(dst []int32, x []float32, cols, k int, mag bool, work []int32, lo, hi int) {
	for r := lo; r < hi; r++ {
		sel, _ := TopK(work, x[r*cols:(r+1)*cols], k, mag)
		copy(dst[r*k:(r+1)*k], sel)
	}
}
