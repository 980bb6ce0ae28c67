package stats_test

import (
	"fmt"
	"math"

	"github.com/sqlshadow/sqlshadow/compare/stats"
)

// Quantiles of a sample, as R's quantile(x, type = 7) computes them.
func ExampleQuantiles() {
	x := []float64{3, 1, 4, 1, 5, 9, 2, 6}
	fmt.Printf("%.2f\n", stats.Quantiles(x, 0.5, 0.9))
	// Output:
	// [3.50 6.90]
}

// A paired comparison: the Wilcoxon signed-rank test on the log ratios of
// twelve pairs where the second side is about 30% slower (two ratios tie,
// so, as in R's wilcox.test, the p-value comes from the normal
// approximation), and the Benjamini-Hochberg adjustment of that p-value with
// two others.
func ExampleWilcoxonSignedRank() {
	primary := []float64{10, 12, 9, 11, 10, 13, 12, 10, 11, 9, 10, 12}
	shadow := []float64{13, 15.5, 12, 14.5, 13, 17, 15.5, 13.2, 14, 11.8, 13.1, 15.4}
	d := make([]float64, len(primary))
	for i := range d {
		d[i] = math.Log(shadow[i] / primary[i])
	}
	r := stats.WilcoxonSignedRank(d)
	fmt.Printf("V = %v, exact %v, p = %.5f\n", r.Statistic, r.Exact, r.P)
	fmt.Printf("adjusted: %.4f\n", stats.BenjaminiHochberg([]float64{r.P, 0.04, 0.5}))
	// Output:
	// V = 78, exact false, p = 0.00251
	// adjusted: [0.0075 0.0600 0.5000]
}
