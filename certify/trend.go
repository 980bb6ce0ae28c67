package certify

import (
	"errors"
	"math"
)

// Trend is a least-squares line through a series, with the confidence
// interval of its slope (Student's t with n-2 degrees of freedom). Samples
// of a soak are autocorrelated, which makes the interval somewhat too
// narrow; the minimum effect (the growth bound) guards against calling a
// tiny significant slope a leak.
type Trend struct {
	// Slope is the least-squares slope (units of y per unit of x);
	// Intercept the line's value at x = 0.
	Slope, Intercept float64
	// Low and High bound the slope's confidence interval.
	Low, High float64
	// N is the number of points.
	N int
}

// ErrTooFewPoints is returned by FitTrend for fewer than three points, or
// points whose x are all equal.
var ErrTooFewPoints = errors.New("certify: a trend needs three points with distinct x at least")

// FitTrend fits y = Intercept + Slope·x by least squares and returns the
// slope's two-sided confidence interval at level (0.95 for 95%).
func FitTrend(x, y []float64, level float64) (Trend, error) {
	n := len(x)
	if n < 3 || len(y) != n {
		return Trend{}, ErrTooFewPoints
	}
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= float64(n)
	my /= float64(n)
	var sxx, sxy float64
	for i := range x {
		sxx += (x[i] - mx) * (x[i] - mx)
		sxy += (x[i] - mx) * (y[i] - my)
	}
	if sxx == 0 {
		return Trend{}, ErrTooFewPoints
	}
	b := sxy / sxx
	a := my - b*mx
	var sse float64
	for i := range x {
		e := y[i] - a - b*x[i]
		sse += e * e
	}
	df := float64(n - 2)
	se := math.Sqrt(sse / df / sxx)
	t := studentTQuantile(1-(1-level)/2, df)
	return Trend{Slope: b, Intercept: a, Low: b - t*se, High: b + t*se, N: n}, nil
}

// studentTCDF is the distribution function of Student's t with df degrees
// of freedom.
func studentTCDF(t, df float64) float64 {
	p := 0.5 * regIncBeta(df/2, 0.5, df/(df+t*t))
	if t > 0 {
		return 1 - p
	}
	return p
}

// studentTQuantile is the p-quantile (p > 0.5) of Student's t, by
// bisection on its distribution function.
func studentTQuantile(p, df float64) float64 {
	lo, hi := 0.0, 1.0
	for studentTCDF(hi, df) < p && hi < 1e12 {
		lo, hi = hi, hi*2
	}
	for range 200 {
		mid := (lo + hi) / 2
		if studentTCDF(mid, df) < p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// regIncBeta is the regularised incomplete beta function I_x(a, b), by its
// continued fraction (modified Lentz).
func regIncBeta(a, b, x float64) float64 {
	if x <= 0 {
		return 0
	}
	if x >= 1 {
		return 1
	}
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	front := math.Exp(lab - la - lb + a*math.Log(x) + b*math.Log(1-x))
	if x < (a+1)/(a+b+2) {
		return front * betaCF(a, b, x) / a
	}
	return 1 - front*betaCF(b, a, 1-x)/b
}

func betaCF(a, b, x float64) float64 {
	const tiny = 1e-300
	c, d := 1.0, 1-(a+b)*x/(a+1)
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m <= 300; m++ {
		fm := float64(m)
		num := fm * (b - fm) * x / ((a + 2*fm - 1) * (a + 2*fm))
		d = 1 + num*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + num/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		h *= d * c
		num = -(a + fm) * (a + b + fm) * x / ((a + 2*fm) * (a + 2*fm + 1))
		d = 1 + num*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + num/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-14 {
			break
		}
	}
	return h
}
