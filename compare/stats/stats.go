// Package stats holds the generic statistics of the comparisons: quantiles,
// the Wilcoxon signed-rank and Mann-Whitney U tests, the bootstrap and the
// Benjamini-Hochberg adjustment. Every function is pure and safe for
// concurrent use; none keeps state. Conventions follow R where R has the
// function (quantile type 7, wilcox.test, p.adjust(method = "BH")), so the
// results can be checked against it.
package stats

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"sort"
)

// Quantile returns the p-quantile (0 <= p <= 1) of sorted, which must be in
// ascending order, by linear interpolation between order statistics (R's
// default, type 7; numpy's "linear"). It returns NaN for an empty slice.
func Quantile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	if p <= 0 {
		return sorted[0]
	}
	if p >= 1 {
		return sorted[n-1]
	}
	h := p * float64(n-1)
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return sorted[n-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// Quantiles returns the quantiles ps of x (any order; x is not modified), as
// Quantile does.
func Quantiles(x []float64, ps ...float64) []float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	out := make([]float64, len(ps))
	for i, p := range ps {
		out[i] = Quantile(s, p)
	}
	return out
}

// SelectQuantile returns the same value as Quantile(sorted x, p) in linear
// time, by partial selection: it reorders x. It returns NaN for an empty slice.
func SelectQuantile(x []float64, p float64) float64 {
	n := len(x)
	if n == 0 {
		return math.NaN()
	}
	p = math.Min(math.Max(p, 0), 1)
	h := p * float64(n-1)
	lo := int(math.Floor(h))
	if lo >= n-1 {
		lo = n - 1
	}
	v := selectK(x, lo)
	if lo == n-1 || h == float64(lo) {
		return v
	}
	// The next order statistic is the minimum of the part right of lo.
	next := x[lo+1]
	for _, w := range x[lo+2:] {
		if w < next {
			next = w
		}
	}
	return v + (h-float64(lo))*(next-v)
}

// selectK reorders x so that x[k] is the k-th smallest, everything left of
// it is <= and everything right of it is >=, and returns x[k].
func selectK(x []float64, k int) float64 {
	lo, hi := 0, len(x)-1
	for lo < hi {
		// Median of three as pivot.
		mid := lo + (hi-lo)/2
		if x[mid] < x[lo] {
			x[mid], x[lo] = x[lo], x[mid]
		}
		if x[hi] < x[lo] {
			x[hi], x[lo] = x[lo], x[hi]
		}
		if x[hi] < x[mid] {
			x[hi], x[mid] = x[mid], x[hi]
		}
		pivot := x[mid]
		i, j := lo, hi
		for i <= j {
			for x[i] < pivot {
				i++
			}
			for x[j] > pivot {
				j--
			}
			if i <= j {
				x[i], x[j] = x[j], x[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return x[k]
		}
	}
	return x[k]
}

// NormalSF is the survival function of the standard normal distribution,
// P(Z > z).
func NormalSF(z float64) float64 { return 0.5 * math.Erfc(z/math.Sqrt2) }

// TestResult is the outcome of a two-sided test.
type TestResult struct {
	// Statistic is the test statistic: V (sum of positive ranks) for
	// Wilcoxon, U (W in R) of the first sample for Mann-Whitney.
	Statistic float64
	// Z is the normal score (with continuity correction) when the normal
	// approximation was used, 0 when the exact distribution was.
	Z float64
	// P is the two-sided p-value.
	P float64
	// N is the number of observations used (for Wilcoxon, without zeros).
	N int
	// Exact says whether P comes from the exact null distribution.
	Exact bool
}

// exactLimit: the exact distributions are used below this sample size when
// there are no ties (R's rule).
const exactLimit = 50

// rankObs is an observation to rank, and whether its rank counts.
type rankObs struct {
	v      float64
	counts bool
}

// rankSum ranks obs by value (it sorts them), ties taking the average of
// their ranks, and returns the sum of the ranks that count, the tie
// correction term (the sum of t³-t over groups of t tied values) and whether
// there were ties.
func rankSum(obs []rankObs) (sum, tieSum float64, ties bool) {
	sort.Slice(obs, func(i, j int) bool { return obs[i].v < obs[j].v })
	for i := 0; i < len(obs); {
		j := i
		for j+1 < len(obs) && obs[j+1].v == obs[i].v {
			j++
		}
		rank := float64(i+j+2) / 2 // average of ranks i+1..j+1
		if t := float64(j - i + 1); t > 1 {
			ties = true
			tieSum += t*t*t - t
		}
		for k := i; k <= j; k++ {
			if obs[k].counts {
				sum += rank
			}
		}
		i = j + 1
	}
	return sum, tieSum, ties
}

// WilcoxonSignedRank tests whether the differences d are symmetric about zero
// (two-sided), as R's wilcox.test(d) with its defaults: zero differences are
// dropped; the exact distribution is used when fewer than 50 remain and
// there are no ties, otherwise the normal approximation with tie and
// continuity correction. It returns P = 1 when no non-zero difference remains.
func WilcoxonSignedRank(d []float64) TestResult {
	xs := make([]rankObs, 0, len(d))
	for _, v := range d {
		if v != 0 && !math.IsNaN(v) {
			xs = append(xs, rankObs{math.Abs(v), v > 0})
		}
	}
	n := len(xs)
	if n == 0 {
		return TestResult{P: 1}
	}
	v, tieSum, ties := rankSum(xs)
	nf := float64(n)
	mean := nf * (nf + 1) / 4
	if n < exactLimit && !ties {
		dist := signRankDist(n)
		var p float64
		if v > mean {
			p = upperTail(dist, int(v)) // P(V >= v)
		} else {
			p = lowerTail(dist, int(v)) // P(V <= v)
		}
		return TestResult{Statistic: v, P: math.Min(1, 2*p), N: n, Exact: true}
	}
	variance := nf*(nf+1)*(2*nf+1)/24 - tieSum/48
	z := continuityZ(v, mean, variance)
	return TestResult{Statistic: v, Z: z, P: math.Min(1, 2*NormalSF(math.Abs(z))), N: n}
}

// continuityZ is (stat - mean - 0.5 sign(stat - mean)) / sd, R's correction.
func continuityZ(stat, mean, variance float64) float64 {
	if variance <= 0 {
		return 0
	}
	diff := stat - mean
	switch {
	case diff > 0:
		diff -= 0.5
	case diff < 0:
		diff += 0.5
	}
	return diff / math.Sqrt(variance)
}

// signRankDist returns the null probabilities P(V = k), k = 0..n(n+1)/2, of
// the signed-rank statistic for n observations.
func signRankDist(n int) []float64 {
	maxV := n * (n + 1) / 2
	c := make([]float64, maxV+1)
	c[0] = 1
	for r := 1; r <= n; r++ {
		for k := maxV; k >= r; k-- {
			c[k] += c[k-r]
		}
	}
	total := math.Ldexp(1, n)
	for k := range c {
		c[k] /= total
	}
	return c
}

func lowerTail(dist []float64, v int) float64 {
	var p float64
	for k := 0; k <= v && k < len(dist); k++ {
		p += dist[k]
	}
	return p
}

func upperTail(dist []float64, v int) float64 {
	var p float64
	for k := max(v, 0); k < len(dist); k++ {
		p += dist[k]
	}
	return p
}

// MannWhitneyU tests whether x and y come from the same distribution against
// a location shift (two-sided), as R's wilcox.test(x, y) with its defaults:
// the exact distribution when both samples have fewer than 50 observations
// and there are no ties, otherwise the normal approximation with tie and
// continuity correction. Statistic is U of x (W in R): the number of pairs
// (xi, yj) with xi > yj, ties counting one half.
func MannWhitneyU(x, y []float64) TestResult {
	m, n := len(x), len(y)
	if m == 0 || n == 0 {
		return TestResult{P: 1}
	}
	all := make([]rankObs, 0, m+n)
	for _, v := range x {
		all = append(all, rankObs{v, true})
	}
	for _, v := range y {
		all = append(all, rankObs{v, false})
	}
	N := len(all)
	rankSumX, tieSum, ties := rankSum(all)
	mf, nf := float64(m), float64(n)
	u := rankSumX - mf*(mf+1)/2
	mean := mf * nf / 2
	if m < exactLimit && n < exactLimit && !ties {
		dist := mannWhitneyDist(m, n)
		var p float64
		if u > mean {
			p = upperTail(dist, int(u))
		} else {
			p = lowerTail(dist, int(u))
		}
		return TestResult{Statistic: u, P: math.Min(1, 2*p), N: N, Exact: true}
	}
	Nf := float64(N)
	variance := mf * nf / 12 * ((Nf + 1) - tieSum/(Nf*(Nf-1)))
	z := continuityZ(u, mean, variance)
	return TestResult{Statistic: u, Z: z, P: math.Min(1, 2*NormalSF(math.Abs(z))), N: N}
}

// mannWhitneyDist returns the null probabilities P(U = k), k = 0..m*n, by the
// recursion f(i, j, k) = f(i-1, j, k-j) + f(i, j-1, k).
func mannWhitneyDist(m, n int) []float64 {
	size := m*n + 1
	prev := make([][]float64, n+1) // f(i-1, j, .)
	cur := make([][]float64, n+1)
	for j := range prev {
		prev[j] = make([]float64, size)
		cur[j] = make([]float64, size)
		prev[j][0] = 1 // f(0, j, 0) = 1
	}
	for i := 1; i <= m; i++ {
		for j := 0; j <= n; j++ {
			c := cur[j]
			clear(c)
			for k := range size {
				if k >= j {
					c[k] += prev[j][k-j]
				}
				if j > 0 {
					c[k] += cur[j-1][k]
				}
			}
		}
		prev, cur = cur, prev
	}
	dist := prev[n]
	var total float64
	for _, v := range dist {
		total += v
	}
	for k := range dist {
		dist[k] /= total
	}
	return dist
}

// BenjaminiHochberg returns the Benjamini-Hochberg adjusted p-values of p (in
// the same order), as R's p.adjust(p, method = "BH"). NaN inputs stay NaN
// and do not count as tests.
func BenjaminiHochberg(p []float64) []float64 {
	out := make([]float64, len(p))
	idx := make([]int, 0, len(p))
	for i, v := range p {
		if math.IsNaN(v) {
			out[i] = math.NaN()
			continue
		}
		idx = append(idx, i)
	}
	m := len(idx)
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	running := 1.0
	for r := m - 1; r >= 0; r-- {
		adj := p[idx[r]] * float64(m) / float64(r+1)
		running = math.Min(running, adj)
		out[idx[r]] = running
	}
	return out
}

// Bootstrap draws resamples of n indices (with replacement, from rng) and
// returns stat of each: the bootstrap replicates. stat receives the indices
// of one resample; the slice is reused between calls.
func Bootstrap(rng *rand.Rand, n, resamples int, stat func(idx []int) float64) []float64 {
	reps := make([]float64, resamples)
	if n == 0 {
		for i := range reps {
			reps[i] = math.NaN()
		}
		return reps
	}
	idx := make([]int, n)
	for b := range reps {
		for i := range idx {
			idx[i] = rng.IntN(n)
		}
		reps[b] = stat(idx)
	}
	return reps
}

// PercentileInterval returns the percentile confidence interval of level
// (e.g. 0.95) from bootstrap replicates: their (1-level)/2 and (1+level)/2
// quantiles. NaN replicates are ignored.
func PercentileInterval(reps []float64, level float64) (lo, hi float64) {
	s := make([]float64, 0, len(reps))
	for _, v := range reps {
		if !math.IsNaN(v) {
			s = append(s, v)
		}
	}
	slices.Sort(s)
	return Quantile(s, (1-level)/2), Quantile(s, (1+level)/2)
}

// BootstrapP returns the two-sided p-value of the hypothesis "the statistic
// is null" from replicates of a statistic whose null value is null (e.g. 0
// for a log ratio), by the normal approximation with the bootstrap standard
// error: z = (mean - null) / sd. Unlike counting replicates beyond null, the
// p-value is not floored at 1/resamples, so it survives a multiple-testing
// adjustment across many tests. It returns 1 when the standard error is 0 and
// the mean equals null, and 0 when the standard error is 0 and it does not.
func BootstrapP(reps []float64, null float64) float64 {
	var n, mean, m2 float64
	for _, v := range reps {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		n++
		d := v - mean
		mean += d / n
		m2 += d * (v - mean)
	}
	if n < 2 {
		return math.NaN()
	}
	sd := math.Sqrt(m2 / (n - 1))
	if sd == 0 {
		if mean == null {
			return 1
		}
		return 0
	}
	return math.Min(1, 2*NormalSF(math.Abs(mean-null)/sd))
}

// BootstrapPairedQuantileLogRatio returns resamples bootstrap replicates of
// log(Q_p(y*) / Q_p(x*)), where (x*, y*) is a resample of the pairs
// (x[i], y[i]) with replacement and Q_p is the type-7 quantile: the same
// distribution as Bootstrap with that statistic, much faster. Each resample
// is drawn as counts per pair. For an upper quantile only the pairs in the
// tail matter (the top of x and the top of y): the number of draws landing
// there is drawn from its binomial distribution, spread uniformly over
// those pairs, and the quantile is found by walking down from the top; only
// when the tail did not receive enough draws are the other draws made too.
// Values must be > 0; x and y must have the same length.
func BootstrapPairedQuantileLogRatio(rng *rand.Rand, x, y []float64, p float64, resamples int) []float64 {
	n := len(x)
	reps := make([]float64, resamples)
	if n == 0 || len(y) != n {
		for i := range reps {
			reps[i] = math.NaN()
		}
		return reps
	}
	ordX, ordY := descendingOrder(x), descendingOrder(y)
	counts := make([]int32, n)
	// The tail: the top m of each ordering, m about twice the positions the
	// quantile needs from the top.
	lo := int(math.Floor(p * float64(n-1)))
	m := min(n, 2*(n-lo)+32)
	inTail := make([]bool, n)
	var tail, rest []int
	for _, i := range ordX[:m] {
		inTail[i] = true
	}
	for _, i := range ordY[:m] {
		inTail[i] = true
	}
	for i := range n {
		if inTail[i] {
			tail = append(tail, i)
		} else {
			rest = append(rest, i)
		}
	}
	full := func() {
		clear(counts)
		for range n {
			counts[drawIndex(rng, n)]++
		}
	}
	if 2*len(tail) >= n {
		// No tail worth the name: draw everything.
		for b := range reps {
			full()
			reps[b] = math.Log(QuantileFromCounts(y, ordY, counts, n, p) / QuantileFromCounts(x, ordX, counts, n, p))
		}
		return reps
	}
	share := float64(len(tail)) / float64(n)
	for b := range reps {
		for _, i := range tail {
			counts[i] = 0
		}
		k := binomial(rng, n, share)
		for range k {
			counts[tail[drawIndex(rng, len(tail))]]++
		}
		qy, oky := quantileFromCounts(y, ordY[:m], counts, n, p)
		qx, okx := quantileFromCounts(x, ordX[:m], counts, n, p)
		if !oky || !okx {
			// Complete the resample: the other n-k draws land outside the
			// tail, uniformly.
			for _, i := range rest {
				counts[i] = 0
			}
			for range n - k {
				counts[rest[drawIndex(rng, len(rest))]]++
			}
			qy, qx = QuantileFromCounts(y, ordY, counts, n, p), QuantileFromCounts(x, ordX, counts, n, p)
			for _, i := range rest {
				counts[i] = 0
			}
		}
		reps[b] = math.Log(qy / qx)
	}
	return reps
}

// binomial draws from Binomial(n, p) by summing geometric gaps between
// successes: O(n p) expected work, exact.
func binomial(rng *rand.Rand, n int, p float64) int {
	switch {
	case p <= 0:
		return 0
	case p >= 1:
		return n
	}
	lq := math.Log1p(-p)
	k, pos := 0, 0
	for {
		u := rng.Float64()
		if u == 0 {
			continue
		}
		pos += int(math.Log(u)/lq) + 1
		if pos > n {
			return k
		}
		k++
	}
}

// drawIndex returns a uniform index in [0, n) by multiply-shift (Lemire),
// without the rejection step: the bias is below n/2^64.
func drawIndex(rng *rand.Rand, n int) int {
	hi, _ := bits.Mul64(rng.Uint64(), uint64(n))
	return int(hi)
}

func descendingOrder(v []float64) []int {
	ord := make([]int, len(v))
	for i := range ord {
		ord[i] = i
	}
	sort.SliceStable(ord, func(a, b int) bool { return v[ord[a]] > v[ord[b]] })
	return ord
}

// QuantileFromCounts returns the type-7 p-quantile of the multiset holding
// counts[i] copies of vals[i] (total copies: total), given ord, the indices
// of vals in descending order of value.
func QuantileFromCounts(vals []float64, ord []int, counts []int32, total int, p float64) float64 {
	v, _ := quantileFromCounts(vals, ord, counts, total, p)
	return v
}

// quantileFromCounts is QuantileFromCounts where ord may be only the top of
// the order: ok is false when it ends before the quantile is reached.
func quantileFromCounts(vals []float64, ord []int, counts []int32, total int, p float64) (float64, bool) {
	if total == 0 {
		return math.NaN(), true
	}
	h := p * float64(total-1)
	lo := int(math.Floor(h))
	frac := h - float64(lo)
	// Ascending position a is descending position total-1-a.
	dLo := total - 1 - lo // value at ascending lo
	dHi := dLo - 1        // value at ascending lo+1 (if any)
	var vLo, vHi float64
	haveHi, found := dHi < 0, false
	cum := 0
	for _, i := range ord {
		c := int(counts[i])
		if c == 0 {
			continue
		}
		next := cum + c
		if !haveHi && dHi < next {
			vHi, haveHi = vals[i], true
		}
		if dLo < next {
			vLo, found = vals[i], true
			break
		}
		cum = next
	}
	if !found {
		return math.NaN(), false
	}
	if dHi < 0 || frac == 0 {
		return vLo, true
	}
	return vLo + frac*(vHi-vLo), true
}
