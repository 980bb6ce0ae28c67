package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestQuantileType7(t *testing.T) {
	// R: quantile(1:10, c(0, .25, .5, .9, .99, 1))
	x := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	want := map[float64]float64{0: 1, 0.25: 3.25, 0.5: 5.5, 0.9: 9.1, 0.99: 9.91, 1: 10}
	for p, w := range want {
		require.InDelta(t, w, Quantile(x, p), 1e-12, "p=%v", p)
		y := slices.Clone(x)
		rand.New(rand.NewPCG(1, 2)).Shuffle(len(y), func(i, j int) { y[i], y[j] = y[j], y[i] })
		require.InDelta(t, w, SelectQuantile(y, p), 1e-12, "select p=%v", p)
	}
	require.True(t, math.IsNaN(Quantile(nil, 0.5)))
	require.True(t, math.IsNaN(SelectQuantile(nil, 0.5)))
	require.Equal(t, []float64{4}, Quantiles([]float64{7, 1, 5, 3}, 0.5))
}

func TestSelectQuantileMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 200 {
		n := 1 + rng.IntN(300)
		x := make([]float64, n)
		for i := range x {
			x[i] = float64(rng.IntN(20)) // many ties
		}
		s := slices.Clone(x)
		slices.Sort(s)
		for _, p := range []float64{0, 0.01, 0.5, 0.9, 0.95, 0.99, 1} {
			require.InDelta(t, Quantile(s, p), SelectQuantile(slices.Clone(x), p), 1e-9, "trial %d p %v", trial, p)
		}
	}
}

func TestNormalSF(t *testing.T) {
	require.InDelta(t, 0.025, NormalSF(1.959963984540054), 1e-12)
	require.InDelta(t, 0.5, NormalSF(0), 1e-15)
	require.InDelta(t, 0.15865525393145707, NormalSF(1), 1e-12)
}

func TestWilcoxonExactKnownValues(t *testing.T) {
	// R, ?wilcox.test (Hollander & Wolfe, depression scale):
	// wilcox.test(x, y, paired = TRUE, alternative = "greater")
	// V = 40, p-value = 0.01953; two-sided 0.03906.
	x := []float64{1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30}
	y := []float64{0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29}
	d := make([]float64, len(x))
	for i := range x {
		d[i] = x[i] - y[i]
	}
	r := WilcoxonSignedRank(d)
	require.True(t, r.Exact)
	require.Equal(t, 40.0, r.Statistic)
	require.InDelta(t, 0.0390625, r.P, 1e-9)

	// scipy.stats.wilcoxon docs (Darwin's plants via Fisher):
	// statistic 24 (= W-), exact two-sided p = 0.041259765625.
	darwin := []float64{6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75}
	r = WilcoxonSignedRank(darwin)
	require.True(t, r.Exact)
	require.Equal(t, 96.0, r.Statistic) // W+ = 120 - 24
	require.InDelta(t, 0.041259765625, r.P, 1e-12)
}

func TestWilcoxonNormalApproximation(t *testing.T) {
	// Ties force the normal approximation. Darwin's data plus a copy of it:
	// n = 30, every |d| tied twice. By hand: mean = 30*31/4 = 232.5,
	// var = 30*31*61/24 - 15*(8-2)/48 = 2363.75 - 1.875.
	darwin := []float64{6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75}
	d := append(slices.Clone(darwin), darwin...)
	r := WilcoxonSignedRank(d)
	require.False(t, r.Exact)
	// Distinct |d| number k (1..15) has rank 2k-0.5 twice; the negative ones
	// are k = 10 and 14: V = 2 * (232.5 - 19.5 - 27.5) = 371.
	require.Equal(t, 371.0, r.Statistic)
	variance := 30.0*31*61/24 - 15*(8-2)/48.0
	z := (371 - 232.5 - 0.5) / math.Sqrt(variance)
	require.InDelta(t, z, r.Z, 1e-12)
	require.InDelta(t, 2*NormalSF(math.Abs(z)), r.P, 1e-12)

	// The same formula as scipy's method="approx" without continuity
	// correction gives 0.04088813291185591 on the untied data.
	require.InDelta(t, 0.04088813291185591, 2*NormalSF(36/math.Sqrt(310)), 1e-12)

	// All zeros: nothing to test.
	require.Equal(t, 1.0, WilcoxonSignedRank([]float64{0, 0, 0}).P)
}

func TestWilcoxonDetectsShift(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	null := make([]float64, 2000)
	shift := make([]float64, 2000)
	for i := range null {
		null[i] = rng.NormFloat64()
		shift[i] = rng.NormFloat64() + 0.3
	}
	require.Greater(t, WilcoxonSignedRank(null).P, 0.001)
	require.Less(t, WilcoxonSignedRank(shift).P, 1e-10)
}

func TestMannWhitneyKnownValues(t *testing.T) {
	// R, ?wilcox.test (Hollander & Wolfe, permeability constants):
	// wilcox.test(x, y, alternative = "g") gives W = 35, p-value = 0.1272;
	// the two-sided exact p-value is twice that.
	x := []float64{0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46}
	y := []float64{1.15, 0.88, 0.90, 0.74, 1.21}
	r := MannWhitneyU(x, y)
	require.True(t, r.Exact)
	require.Equal(t, 35.0, r.Statistic)
	require.InDelta(t, 0.2544, r.P, 5e-5)

	// Complete separation, 3 vs 3: P(U = 9) = 1/20, two-sided 0.1.
	r = MannWhitneyU([]float64{4, 5, 6}, []float64{1, 2, 3})
	require.Equal(t, 9.0, r.Statistic)
	require.InDelta(t, 0.1, r.P, 1e-12)
}

func TestMannWhitneyNormalApproximation(t *testing.T) {
	// With ties: x = {1, 2, 2}, y = {2, 3, 3}. Ranks: 1 -> 1, 2 -> 3 (x3),
	// 3 -> 5.5 (x2). Rank sum of x = 1+3+3 = 7, U = 7 - 6 = 1. mean 4.5,
	// var = 9/12 * (7 - (24 + 6)/30) = 0.75 * 6 = 4.5.
	r := MannWhitneyU([]float64{1, 2, 2}, []float64{2, 3, 3})
	require.False(t, r.Exact)
	require.Equal(t, 1.0, r.Statistic)
	z := (1 - 4.5 + 0.5) / math.Sqrt(4.5)
	require.InDelta(t, z, r.Z, 1e-12)
	require.InDelta(t, 2*NormalSF(math.Abs(z)), r.P, 1e-12)

	rng := rand.New(rand.NewPCG(7, 8))
	a := make([]float64, 3000)
	b := make([]float64, 3000)
	for i := range a {
		a[i] = rng.ExpFloat64()
		b[i] = rng.ExpFloat64() * 1.3
	}
	require.Less(t, MannWhitneyU(a, b).P, 1e-6)
	require.Equal(t, 1.0, MannWhitneyU(nil, b).P)
}

func TestBenjaminiHochberg(t *testing.T) {
	// By hand (= R p.adjust(c(0.01, 0.04, 0.03, 0.005), "BH")):
	// sorted 0.005, 0.01, 0.03, 0.04 -> 0.02, 0.02, 0.04, 0.04.
	got := BenjaminiHochberg([]float64{0.01, 0.04, 0.03, 0.005})
	want := []float64{0.02, 0.04, 0.04, 0.02}
	for i := range want {
		require.InDelta(t, want[i], got[i], 1e-12)
	}
	// R: p.adjust(c(0.01, 0.02, 0.03, 0.04, 0.05), "BH") is all 0.05.
	for _, v := range BenjaminiHochberg([]float64{0.01, 0.02, 0.03, 0.04, 0.05}) {
		require.InDelta(t, 0.05, v, 1e-12)
	}
	got = BenjaminiHochberg([]float64{math.NaN(), 0.5})
	require.True(t, math.IsNaN(got[0]))
	require.InDelta(t, 0.5, got[1], 1e-12)
	// Never above 1.
	require.Equal(t, 1.0, BenjaminiHochberg([]float64{0.9, 0.95, 1})[0])
}

func TestBootstrap(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	x := make([]float64, 1000)
	for i := range x {
		x[i] = 10 + rng.NormFloat64()
	}
	buf := make([]float64, len(x))
	mean := func(idx []int) float64 {
		var s float64
		for i, j := range idx {
			buf[i] = x[j]
			s += x[j]
		}
		return s / float64(len(idx))
	}
	reps := Bootstrap(rand.New(rand.NewPCG(1, 1)), len(x), 2000, mean)
	lo, hi := PercentileInterval(reps, 0.95)
	// The standard error of the mean is ~1/sqrt(1000) = 0.0316: the 95%
	// interval is about +-0.062 around the sample mean.
	require.Less(t, lo, 10.0+0.01)
	require.Greater(t, hi, 10.0-0.01)
	require.InDelta(t, 0.124, hi-lo, 0.02)
	// Seeded: the same replicates again.
	require.Equal(t, reps, Bootstrap(rand.New(rand.NewPCG(1, 1)), len(x), 2000, mean))

	// BootstrapP: replicates centred far from 0 give a tiny p, around 0 a
	// large one.
	require.Less(t, BootstrapP(reps, 0), 1e-50)
	require.Greater(t, BootstrapP(reps, 10), 0.05)
	require.Equal(t, 1.0, BootstrapP([]float64{2, 2, 2}, 2))
	require.Equal(t, 0.0, BootstrapP([]float64{2, 2, 2}, 1))
	require.True(t, math.IsNaN(BootstrapP(nil, 0)))
	require.True(t, math.IsNaN(Bootstrap(rng, 0, 1, mean)[0]))
}

func TestQuantileFromCountsMatchesQuantile(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for trial := range 300 {
		n := 1 + rng.IntN(60)
		vals := make([]float64, n)
		for i := range vals {
			vals[i] = float64(1 + rng.IntN(15)) // ties
		}
		ord := descendingOrder(vals)
		counts := make([]int32, n)
		var multiset []float64
		total := rng.IntN(3 * n)
		for range total {
			j := rng.IntN(n)
			counts[j]++
			multiset = append(multiset, vals[j])
		}
		slices.Sort(multiset)
		for _, p := range []float64{0, 0.5, 0.9, 0.99, 1} {
			want := Quantile(multiset, p)
			got := QuantileFromCounts(vals, ord, counts, total, p)
			if total == 0 {
				require.True(t, math.IsNaN(got))
				continue
			}
			require.InDelta(t, want, got, 1e-9, "trial %d p %v", trial, p)
		}
	}
}

func TestBootstrapPairedQuantileLogRatio(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	x := make([]float64, 3000)
	y := make([]float64, 3000)
	for i := range x {
		x[i] = math.Exp(rng.NormFloat64())
		y[i] = 2 * x[i] * math.Exp(0.1*rng.NormFloat64())
	}
	reps := BootstrapPairedQuantileLogRatio(rand.New(rand.NewPCG(1, 2)), x, y, 0.99, 500)
	lo, hi := PercentileInterval(reps, 0.99)
	// The true P99 ratio is about 2 (slightly more from the extra noise).
	require.Less(t, lo, math.Log(2.15))
	require.Greater(t, hi, math.Log(1.95))
	require.Less(t, BootstrapP(reps, 0), 1e-10)
	// The same seed gives the same replicates.
	require.Equal(t, reps, BootstrapPairedQuantileLogRatio(rand.New(rand.NewPCG(1, 2)), x, y, 0.99, 500))
	require.True(t, math.IsNaN(BootstrapPairedQuantileLogRatio(rng, nil, nil, 0.99, 1)[0]))
}

func TestBootstrapPairedQuantileMatchesGeneric(t *testing.T) {
	// The tail shortcut draws from the same distribution as resampling
	// indices: compare the replicates' mean and spread.
	rng := rand.New(rand.NewPCG(15, 16))
	for _, n := range []int{500, 4000} {
		x := make([]float64, n)
		y := make([]float64, n)
		for i := range x {
			x[i] = math.Exp(rng.NormFloat64())
			y[i] = 1.3 * x[i] * math.Exp(0.3*rng.NormFloat64())
		}
		fast := BootstrapPairedQuantileLogRatio(rand.New(rand.NewPCG(1, uint64(n))), x, y, 0.99, 2000)
		bx, by := make([]float64, n), make([]float64, n)
		slow := Bootstrap(rand.New(rand.NewPCG(2, uint64(n))), n, 2000, func(idx []int) float64 {
			for i, j := range idx {
				bx[i], by[i] = x[j], y[j]
			}
			return math.Log(SelectQuantile(by, 0.99) / SelectQuantile(bx, 0.99))
		})
		mf, sf := meanSD(fast)
		ms, ss := meanSD(slow)
		require.InDelta(t, ms, mf, 0.15*ss+0.005, "n=%d mean", n)
		require.InDelta(t, ss, sf, 0.1*ss, "n=%d sd", n)
	}
}

func meanSD(v []float64) (float64, float64) {
	var m, m2 float64
	for i, x := range v {
		d := x - m
		m += d / float64(i+1)
		m2 += d * (x - m)
	}
	return m, math.Sqrt(m2 / float64(len(v)-1))
}

func TestBinomial(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	var sum, sum2 float64
	const trials = 20000
	for range trials {
		k := float64(binomial(rng, 1000, 0.03))
		sum += k
		sum2 += k * k
	}
	mean := sum / trials
	variance := sum2/trials - mean*mean
	require.InDelta(t, 30, mean, 0.2)
	require.InDelta(t, 1000*0.03*0.97, variance, 1.5)
	require.Equal(t, 0, binomial(rng, 10, 0))
	require.Equal(t, 10, binomial(rng, 10, 1))
}
