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
// the selected indices in ascending order, and thresh, the k-th largest
// value (or magnitude): every selected element is >= thresh and every other
// element is <= thresh, which is the threshold a batch selector shares
// across samples.
//
// The selection is exact and depends only on x: elements rank by value (or
// magnitude), −0 and +0 equal, NaN below every number, −Inf included, and
// among equal elements the lower index ranks higher. So NaNs are selected
// only when k exceeds the number of non-NaN elements, and thresh is NaN
// exactly then.
//
// k == 0 returns an empty selection and thresh = +Inf. k >= len(x) selects
// every index and thresh is the minimum (the smallest magnitude), or +Inf
// when x is empty. It panics if k < 0 or len(idx) < len(x).
//
// How it selects depends on k/len(x), by measurement on the target:
//
//   - k <= len(x)/512: one streaming pass with a running threshold (see
//     streamTopK); each element costs a comparison or two.
//   - k <= len(x)/4: a sampled pivot filters x in one pass down to
//     O(k + len(x)^(3/4)) candidates, and radix selection over those finds
//     the k-th key (see sampleTopK).
//   - otherwise: radix selection over all of x in three passes (see
//     radixTopK), where a pivot would leave too many candidates.
func TopK(idx []int32, x []float32, k int, byMagnitude bool) (sel []int32, thresh float32) {
	n := checkTopKArgs("TopK", idx, x, k)
	if k == 0 || n == 0 {
		return idx[:0], float32(math.Inf(1))
	}
	sel, th := topK(idx[:n], x, k, byMagnitude)
	return sel, keyValue(th, byMagnitude)
}

// BottomK selects the k lowest-ranked elements of x in TopK's ranking: the
// complement of TopK(idx, x, len(x)−k, byMagnitude). So NaNs come first,
// then the smallest values (or magnitudes), and among equal elements the
// higher index is taken first. It returns the selected indices in
// ascending order in idx[:min(k, len(x))], allocates nothing, and panics
// like TopK.
func BottomK(idx []int32, x []float32, k int, byMagnitude bool) []int32 {
	n := checkTopKArgs("BottomK", idx, x, k)
	idx = idx[:n]
	switch {
	case k >= n:
		for i := range idx {
			idx[i] = int32(i)
		}
		return idx
	case k == 0:
		return idx[:0]
	}
	sel, _ := radixTopK(idx, x, n-k, byMagnitude, true)
	return sel
}

func checkTopKArgs(name string, idx []int32, x []float32, k int) int {
	n := len(x)
	if k < 0 {
		panic(fmt.Sprintf("kernels: %s negative k=%d", name, k))
	}
	if len(idx) < n {
		panic(fmt.Sprintf("kernels: %s len(idx)=%d < len(x)=%d", name, len(idx), n))
	}
	if n > math.MaxInt32 {
		panic(fmt.Sprintf("kernels: %s len(x) does not fit int32 indices", name))
	}
	return n
}

// topK is TopK for 0 < k and len(idx) == len(x) > 0; it returns the
// selection and the k-th key.
func topK(idx []int32, x []float32, k int, mag bool) ([]int32, uint32) {
	n := len(x)
	switch {
	case k >= n:
		lo := uint32(math.MaxUint32)
		for i, v := range x {
			idx[i] = int32(i)
			lo = min(lo, rankKey(v, mag))
		}
		return idx, lo
	case k <= n/streamMinRatio:
		return streamTopK(idx, x, k, mag)
	case k <= n/4 && n >= sampleMin:
		return sampleTopK(idx, x, k, mag)
	}
	return radixTopK(idx, x, k, mag, false)
}

// rankKey maps v to a key whose unsigned order is TopK's ranking: NaN -> 0,
// then −Inf up to +Inf, both zeros equal; with mag the sign is ignored. A
// magnitude's key is its bits shifted up by one (and the low bit set, so
// +0 stays above NaN), so that a key's top byte is the whole exponent.
// There is no branch on the sign: for signed data it would mispredict half
// the time.
func rankKey(v float32, mag bool) uint32 {
	b := math.Float32bits(v)
	if mag {
		a := b &^ (1 << 31)
		k := a<<1 | 1
		if a > 0x7f800000 {
			k = 0
		}
		return k
	}
	if b == 1<<31 {
		b = 0
	}
	// Negatives have all bits flipped, positives only the sign.
	k := b ^ (uint32(int32(b)>>31) | 1<<31)
	if b&^(1<<31) > 0x7f800000 {
		k = 0
	}
	return k
}

// keyValue inverts rankKey, up to the sign of zero and NaN payloads.
func keyValue(k uint32, mag bool) float32 {
	switch {
	case k == 0:
		return float32(math.NaN())
	case mag:
		return math.Float32frombits(k >> 1)
	case k>>31 != 0:
		return math.Float32frombits(k &^ (1 << 31))
	}
	return math.Float32frombits(^k)
}

// kthKey returns the top-th largest of keys (1 <= top <= len(keys)),
// rank keys stored as int32 bits, how many of the top largest equal it,
// and whether those are all the keys equal to it. lo and hi are the least
// and the greatest key. It is most-significant-digit radix selection: each
// level histograms the byte below the bits all remaining keys share, keeps
// the keys in the bucket holding the top-th largest and narrows top to a
// rank inside it. It overwrites keys. Working on keys rather than indices
// saves a gather from x and a rankKey per key and level.
func kthKey(keys []int32, top int, lo, hi uint32) (th uint32, ties int, all bool) {
	var h4 [4][256]int32
	for {
		switch {
		case len(keys) == top: // all are in: the minimum is the top-th
			for _, k := range keys {
				ties += b2i(uint32(k) == lo)
			}
			return lo, ties, true
		case lo == hi:
			return lo, top, top == len(keys)
		}
		shift := bits.Len32(lo ^ hi)
		w := min(8, shift)
		shift -= w
		mask := uint32(1)<<w - 1
		hist := digitHist(&h4, keys, shift, mask)
		b := int(mask)
		for int(hist[b]) < top {
			top -= int(hist[b])
			b--
		}
		// Keep the bucket, tracking the survivors' range without a
		// branch: a dropped key is masked to MaxUint32 for min, 0 for max.
		m := 0
		lo, hi = math.MaxUint32, 0
		for _, k := range keys {
			u := uint32(k)
			in := uint32(b2i(u>>shift&mask == uint32(b)))
			keys[m] = k
			m += int(in)
			lo, hi = min(lo, u|(in-1)), max(hi, u&-in)
		}
		keys = keys[:m]
	}
}

// digitHist returns the histogram of the digits key>>shift&mask of keys,
// in h4[0]. Long inputs are counted in four histograms, then summed: the
// first digit below the keys' common prefix often holds exponent bits,
// which many keys share, and with one histogram their increments would
// wait on each other. Short ones use one, as clearing four costs more.
func digitHist(h4 *[4][256]int32, keys []int32, shift int, mask uint32) *[256]int32 {
	h := &h4[0]
	clear(h[:mask+1])
	if len(keys) < 1024 {
		for _, k := range keys {
			h[uint32(k)>>shift&mask]++
		}
		return h
	}
	for j := 1; j < 4; j++ {
		clear(h4[j][:mask+1])
	}
	i := 0
	for ; i+4 <= len(keys); i += 4 {
		k := keys[i : i+4 : i+4]
		h4[0][uint32(k[0])>>shift&mask]++
		h4[1][uint32(k[1])>>shift&mask]++
		h4[2][uint32(k[2])>>shift&mask]++
		h4[3][uint32(k[3])>>shift&mask]++
	}
	for ; i < len(keys); i++ {
		h4[0][uint32(keys[i])>>shift&mask]++
	}
	for d := range mask + 1 {
		h[d] += h4[1][d] + h4[2][d] + h4[3][d]
	}
	return h
}

// kthKeyOf is kthKey on the keys of the elements of x indexed by cand,
// which it writes to keys, scratch of len(cand) that may be cand itself.
func kthKeyOf(keys, cand []int32, x []float32, mag bool, top int) (th uint32, ties int, all bool) {
	keys = keys[:len(cand)]
	lo, hi := uint32(math.MaxUint32), uint32(0)
	for j, i := range cand {
		k := rankKey(x[i], mag)
		keys[j] = int32(k)
		lo, hi = min(lo, k), max(hi, k)
	}
	return kthKey(keys, top, lo, hi)
}

// keepTop keeps, in order, the elements of sel whose key is above th and
// the first ties of those equal to it, all of them if all is set, and
// returns how many it kept. With sel ascending, the result is ascending
// and ties are split by index.
func keepTop(sel []int32, x []float32, th uint32, ties int, all, mag bool) int {
	j := 0
	if all {
		for _, i := range sel {
			sel[j] = i
			j += b2i(rankKey(x[i], mag) >= th)
		}
		return j
	}
	for _, i := range sel {
		k := rankKey(x[i], mag)
		eq := b2i(k == th)
		in := b2i(k > th) | eq&b2i(ties > 0)
		ties -= eq
		sel[j] = i
		j += in
	}
	return j
}

// emitTop writes to idx, ascending, the indices of the elements of x
// whose key is above th and of the first ties of those equal to it (all
// of them if all is set), or with complement of all the others, and
// returns them. It is the last pass of every selection that does not
// keep its candidates' indices.
func emitTop(idx []int32, x []float32, th uint32, ties int, all, mag, complement bool) []int32 {
	flip := b2i(complement)
	j := 0
	if all {
		// Without ties to count, each element is tested on its own.
		for i, v := range x {
			idx[j] = int32(i)
			j += b2i(rankKey(v, mag) >= th) ^ flip
		}
		return idx[:j]
	}
	for i, v := range x {
		k := rankKey(v, mag)
		eq := b2i(k == th)
		in := b2i(k > th) | eq&b2i(ties > 0)
		ties -= eq
		idx[j] = int32(i)
		j += in ^ flip
	}
	return idx[:j]
}

// radixTopK selects the k top-ranked elements of x, 0 < k < len(x), or,
// with complement, all the others, into idx in ascending order, and
// returns the k-th key. It makes three passes over x: a histogram of the
// keys' top bytes, which locates the byte of the k-th key; a pass
// collecting the keys in that bucket, which kthKey narrows down; and a
// pass writing out the selection. Four histograms, because consecutive
// elements often share a top byte and one counter would serialise their
// increments.
func radixTopK(idx []int32, x []float32, k int, mag, complement bool) ([]int32, uint32) {
	n := len(x)
	var h4 [4][256]int32
	i := 0
	for ; i+4 <= n; i += 4 {
		v := x[i : i+4 : i+4]
		h4[0][rankKey(v[0], mag)>>24]++
		h4[1][rankKey(v[1], mag)>>24]++
		h4[2][rankKey(v[2], mag)>>24]++
		h4[3][rankKey(v[3], mag)>>24]++
	}
	for ; i < n; i++ {
		h4[0][rankKey(x[i], mag)>>24]++
	}
	top, b := k, 255
	for {
		c := int(h4[0][b] + h4[1][b] + h4[2][b] + h4[3][b])
		if c >= top {
			break
		}
		top -= c
		b--
	}
	// Collect the keys in the bucket; the indices are not needed, as the
	// last pass finds the selected elements by their keys.
	m := 0
	for _, v := range x {
		k := rankKey(v, mag)
		idx[m] = int32(k)
		m += b2i(k>>24 == uint32(b))
	}
	keys := idx[:m]
	lo, hi := uint32(math.MaxUint32), uint32(0)
	for _, k := range keys {
		lo, hi = min(lo, uint32(k)), max(hi, uint32(k))
	}
	th, ties, all := kthKey(keys, top, lo, hi)
	return emitTop(idx, x, th, ties, all, mag, complement), th
}

// sampleMin is the length from which TopK tries sampleTopK: on the target
// it beats radixTopK for k <= n/5 from n = 600 (1.3 to 2 times at 1500)
// and breaks even around n = 300.
const sampleMin = 512

// sampleTopK is radixTopK for k <= len(x)/4 in one pass over x instead of
// three, after the first step of Floyd and Rivest's SELECT: it selects,
// within a strided sample of about 2·sqrt(n) elements, a pivot ranked
// slightly below where the k-th largest should fall, then collects the
// indices of all elements at or above the pivot, in order. If at least k
// were collected, the top k are among them, and kthKey and keepTop select
// them; O(k + n^(3/4)) candidates are expected. Otherwise, and for a NaN
// pivot, it falls back to radixTopK. The sample positions are fixed, so
// the result is deterministic.
func sampleTopK(idx []int32, x []float32, k int, mag bool) ([]int32, uint32) {
	n := len(x)
	m := 2 * isqrt(n)
	step := n / m
	for i := range m {
		idx[i] = int32(i * step)
	}
	r := min((k-1)*m/n+isqrt(m), m-1)
	p, _, _ := kthKeyOf(idx, idx[:m], x, mag, r+1)
	if p == 0 {
		return radixTopK(idx, x, k, mag, false)
	}
	c := collectAtLeast(idx, x, keyValue(p, mag), mag, 32*(r+1) > m)
	switch {
	case c < k:
		return radixTopK(idx, x, k, mag, false)
	case 2*c > n: // no room to keep the candidates: select, then rescan x
		th, ties, all := kthKeyOf(idx, idx[:c], x, mag, k)
		return emitTop(idx, x, th, ties, all, mag, false), th
	}
	th, ties, all := kthKeyOf(idx[c:], idx[:c], x, mag, k)
	return idx[:keepTop(idx[:c], x, th, ties, all, mag)], th
}

// collectAtLeast writes to idx, in order, the indices of the elements of x
// (magnitudes with mag) >= p, a number, and returns their count. NaN
// fails the comparison, as it ranks below every number. When few qualify,
// four elements share one branch, which skips the stores when none does;
// when many do (dense), that branch would mispredict, and every element
// is stored without one.
func collectAtLeast(idx []int32, x []float32, p float32, mag, dense bool) int {
	c, i := 0, 0
	if dense {
		for i, v := range x {
			if mag {
				v = abs32(v)
			}
			idx[c] = int32(i)
			c += b2i(v >= p)
		}
		return c
	}
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		v0, v1, v2, v3 := v[0], v[1], v[2], v[3]
		if mag {
			v0, v1, v2, v3 = abs32(v0), abs32(v1), abs32(v2), abs32(v3)
		}
		a0, a1, a2, a3 := b2i(v0 >= p), b2i(v1 >= p), b2i(v2 >= p), b2i(v3 >= p)
		if a0|a1|a2|a3 == 0 {
			continue
		}
		idx[c] = int32(i)
		c += a0
		idx[c] = int32(i + 1)
		c += a1
		idx[c] = int32(i + 2)
		c += a2
		idx[c] = int32(i + 3)
		c += a3
	}
	for ; i < len(x); i++ {
		v := x[i]
		if mag {
			v = abs32(v)
		}
		idx[c] = int32(i)
		c += b2i(v >= p)
	}
	return c
}

func isqrt(n int) int { return int(math.Sqrt(float64(n))) }

// streamMinRatio is the least len(x)/k for which TopK streams. The
// candidates that enter grow like k·log(n/k), and each compaction selects
// within 4k of them, so with k a larger share of n the sampled pivot is
// faster. On the target the two break even between n/1000 and n/300: at
// n = 117,659 streaming takes 0.8 the time at k = 128 and the same at
// k = 256; at n = 268,000, 0.8 the time at k = 256 and 1.6 times at
// k = 1024.
const streamMinRatio = 512

// streamTopK selects the k top-ranked elements of x, 0 < k <= len(x)/8,
// in one pass of a topKStream over idx, and returns idx[:k], ascending,
// and the k-th key.
func streamTopK(idx []int32, x []float32, k int, mag bool) ([]int32, uint32) {
	s := newTopKStream(idx, k, mag)
	s.push(x, 0, len(x))
	return s.finish(x), s.th
}

// topKStream selects the k top-ranked elements of a vector whose elements
// arrive in blocks, in index order. It keeps candidate indices in a buffer
// and a threshold, the k-th largest key among them. Until the buffer first
// fills every element enters; after that an element enters only if it
// beats the threshold, and whenever the buffer is full, kthKey and keepTop
// keep its best k and the threshold rises to the k-th of those. The
// threshold never exceeds the k-th largest key of the elements seen, so
// no element of their top k is ever refused or dropped, and on most inputs
// only O(k·log(n/k)) elements enter. The buffer stays in index order, as
// elements enter in order and keepTop keeps it, so an element equal to the
// threshold ranks below every element in the buffer and is rightly
// refused. The comparison is a float32 one against the threshold's value,
// which treats ±0 as equal as the keys do, and while the threshold is
// NaN, which ranks below everything, a separate loop admits every number.
type topKStream struct {
	buf, spare []int32
	k, m       int
	th         uint32 // valid once full
	full       bool
	mag        bool
}

// topKStreamLen returns the length of idx newTopKStream needs for k: the
// buffer holds k kept candidates and room for 3k (at least 1024)
// newcomers, so each compaction is paid for by many admissions; as much
// again is kthKey's scratch.
func topKStreamLen(k int) int { return 2 * (k + max(3*k, 1024)) }

// newTopKStream returns a stream selecting k > 0 elements that keeps its
// buffers in idx, of length at least topKStreamLen(k) or, shorter, at
// least 4k.
func newTopKStream(idx []int32, k int, mag bool) topKStream {
	size := min(len(idx)/2, topKStreamLen(k)/2)
	return topKStream{buf: idx[:size], spare: idx[size : 2*size], k: k, mag: mag}
}

// push offers the elements x[lo:hi], which follow those offered before.
// Indices are positions in x.
func (s *topKStream) push(x []float32, lo, hi int) {
	x = x[:hi]
	for i := lo; i < hi; {
		switch tv := keyValue(s.th, s.mag); {
		case !s.full:
			n := min(hi-i, len(s.buf)-s.m)
			for j := range n {
				s.buf[s.m+j] = int32(i + j)
			}
			s.m += n
			i += n
		case s.th == 0:
			s.m, i = admitNumbers(s.buf, s.m, x, i)
		case s.mag:
			s.m, i = admitAbove(s.buf, s.m, x, i, tv, -tv)
		default:
			s.m, i = admitGreater(s.buf, s.m, x, i, tv)
		}
		if s.m == len(s.buf) {
			s.th = compactTopK(s.buf, x, s.k, s.mag, s.spare)
			s.m, s.full = s.k, true
		}
	}
}

// finish returns the top k of the elements offered, ascending, or all of
// them if there were fewer; s.th is then the k-th key when k were offered.
func (s *topKStream) finish(x []float32) []int32 {
	if s.m > s.k || s.m == s.k && !s.full {
		s.th = compactTopK(s.buf[:s.m], x, s.k, s.mag, s.spare)
		s.m, s.full = s.k, true
	}
	return s.buf[:s.m]
}

// compactTopK moves the k best of the candidates buf to its front, in
// order, and returns the k-th key.
func compactTopK(buf []int32, x []float32, k int, mag bool, spare []int32) uint32 {
	th, ties, all := kthKeyOf(spare, buf, x, mag, k)
	keepTop(buf, x, th, ties, all, mag)
	return th
}

// admitAbove appends to buf[m:] the indices i, i+1, ... of the elements of
// x above hi or below lo, until buf is full or x ends, and returns the new
// m and the next index to look at. It is the loop every element of a
// streaming TopK goes through, so it tests eight elements at a time with
// short-circuit comparisons: branches that are almost never taken and so
// predict well, which on the target is 1.8 times faster than combining
// the comparisons' results without branches.
func admitAbove(buf []int32, m int, x []float32, i int, hi, lo float32) (int, int) {
	for ; i+8 <= len(x); i += 8 {
		v := x[i : i+8 : i+8]
		if !(v[0] > hi || v[0] < lo || v[1] > hi || v[1] < lo || v[2] > hi || v[2] < lo || v[3] > hi || v[3] < lo ||
			v[4] > hi || v[4] < lo || v[5] > hi || v[5] < lo || v[6] > hi || v[6] < lo || v[7] > hi || v[7] < lo) {
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
	for ; i+8 <= len(x); i += 8 {
		v := x[i : i+8 : i+8]
		if !(v[0] > hi || v[1] > hi || v[2] > hi || v[3] > hi || v[4] > hi || v[5] > hi || v[6] > hi || v[7] > hi) {
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

// TopK is TopK split across the pool's workers. The result is exactly
// TopK's, selection, order and threshold. It pays for long x and small k,
// the case of screening a large vocabulary; otherwise, and on one worker,
// it runs TopK on the calling goroutine. idx must have len(idx) >= len(x)
// and is shared by the workers; a call allocates only what it hands the
// pool.
func (p *Pool) TopK(idx []int32, x []float32, k int, byMagnitude bool) (sel []int32, thresh float32) {
	if p == nil {
		return TopK(idx, x, k, byMagnitude)
	}
	n := checkTopKArgs("Pool.TopK", idx, x, k)
	w := p.Workers()
	switch {
	case w <= 1 || n < poolTopKMin || k == 0 || k > n/(4*w):
		return TopK(idx, x, k, byMagnitude)
	case p.streams(n, k):
		return p.streamTopK(idx, x, k, byMagnitude, poolTopKGrain, nil)
	}
	// Part j, [j·n/w, (j+1)·n/w), is longer than 4k, selects its top k
	// into its own stretch of idx and leaves them at its start.
	p.For(w, 1, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			a, b := j*n/w, (j+1)*n/w
			sel, _ := topK(idx[a:b], x[a:b], k, byMagnitude)
			for i := range sel {
				sel[i] += int32(a)
			}
		}
	})
	// Gather the survivors; part j's start is at least j·k, so each copy
	// moves its block down or leaves it in place.
	for j := 1; j < w; j++ {
		copy(idx[j*k:(j+1)*k], idx[j*n/w:j*n/w+k])
	}
	c := w * k
	th := compactTopK(idx[:c], x, k, byMagnitude, idx[c:2*c])
	return idx[:k], keyValue(th, byMagnitude)
}

// poolTopKMin is the least len(x) for which Pool.TopK splits the work:
// below it, waking the workers costs more than the selection.
const poolTopKMin = 1 << 15

// poolTopKGrain is the least number of elements a Pool.TopK task streams.
const poolTopKGrain = 8192

// streams reports whether Pool.streamTopK takes k of n: k small enough for
// streaming and a stream's buffers for every worker within n.
func (p *Pool) streams(n, k int) bool {
	return k > 0 && k <= n/streamMinRatio && p.Workers()*topKStreamLen(k) <= n
}

// streamTopK selects the k top-ranked elements of x in chunks of at least
// grain elements, each worker streaming the chunks it claims through a
// topKStream of its own in idx; the at most Workers()·k survivors are then
// narrowed to the k best. If produce is not nil, it is called on each
// chunk first and must set x[lo:hi], which the selection then reads while
// it is still in cache. The chunks are fine, so that a worker that wakes
// late or is descheduled on a shared machine leaves little to wait for.
// p.streams(len(x), k) must hold, and len(idx) >= len(x).
func (p *Pool) streamTopK(idx []int32, x []float32, k int, mag bool, grain int, produce func(lo, hi int)) ([]int32, float32) {
	n, w := len(x), p.Workers()
	r := topKStreamLen(k)
	st := make([]topKStream, w)
	for j := range st {
		st[j] = newTopKStream(idx[j*r:(j+1)*r], k, mag)
	}
	p.forWorker(n, grain, streamChunksPerWorker, func(j, lo, hi int) {
		if produce != nil {
			produce(lo, hi)
		}
		st[j].push(x, lo, hi)
	})
	// Gather the survivors; worker j's buffer starts at j·r, past the at
	// most j·k survivors before it, so each copy moves down or stays.
	c := 0
	for j := range st {
		c += copy(idx[c:], st[j].finish(x))
	}
	// Each list is ascending; the merged one must be too for keepTop to
	// split ties by index.
	slices.Sort(idx[:c])
	th := compactTopK(idx[:c], x, k, mag, idx[c:2*c])
	return idx[:k], keyValue(th, mag)
}

// streamChunksPerWorker bounds the chunks of Pool.streamTopK: many, so
// that the tail a late worker leaves is short, but each at least a grain
// long, so the claims stay cheap.
const streamChunksPerWorker = 64

// TopKRows runs TopK on each row of the row-major rows×cols matrix x and
// writes the selected column indices of row r, ascending, to
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
	if p == nil {
		if work == nil {
			work = make([]int32, cols)
		}
		TopKRows(dst, x, rows, cols, k, byMagnitude, work)
		return
	}
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
