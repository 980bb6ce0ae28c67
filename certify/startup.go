package certify

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/sqlshadow/sqlshadow/compare"
	"github.com/sqlshadow/sqlshadow/compare/stats"
)

// StartupResult is the start-up times of each version.
type StartupResult struct {
	// Versions in the recipe's order (the first is the baseline), and the
	// thresholds used.
	Versions  []StartupTimes `json:"versions"`
	MinEffect float64        `json:"min_effect"`
	Alpha     float64        `json:"alpha"`
}

// StartupTimes are one version's times from start to ready, and its
// comparison with the first version (the baseline): the Mann-Whitney U
// test's p-value and the ratio of the medians.
type StartupTimes struct {
	// Name is the version's; Seconds the times to ready, with their
	// Median, Min and Max; P and Ratio the comparison with the baseline
	// (empty for the baseline); Errors the start-ups that failed; Status and
	// Message the verdict.
	Name    string          `json:"name"`
	Seconds []float64       `json:"seconds"`
	Median  float64         `json:"median"`
	Min     float64         `json:"min"`
	Max     float64         `json:"max"`
	P       float64         `json:"p,omitempty"`
	Ratio   float64         `json:"ratio,omitempty"`
	Errors  []string        `json:"errors,omitempty"`
	Status  compare.Verdict `json:"status,omitempty"`
	Message string          `json:"message,omitempty"`
}

// startup starts each version Runs times, alternately, and compares each
// version's times to ready with the first's.
func (rn *run) startup(ctx context.Context) *StartupResult {
	s := rn.r.Startup
	runs, minEffect, alpha, timeout := s.Runs, s.MinEffect, s.Alpha, s.Timeout
	if runs <= 0 {
		runs = 5
	}
	if minEffect <= 0 {
		minEffect = 0.2
	}
	if alpha <= 0 {
		alpha = 0.05
	}
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	res := &StartupResult{MinEffect: minEffect, Alpha: alpha}
	targets := make([]Target, len(s.Versions))
	for i, v := range s.Versions {
		res.Versions = append(res.Versions, StartupTimes{Name: v.Name})
		if v.Target != nil {
			targets[i] = v.Target
			continue
		}
		p, err := NewCommand(v.Start, &ProcessOptions{Stop: v.Stop, Ready: MySQLPing(v.Addr, rn.r.User, rn.o.Password)})
		if err != nil {
			res.Versions[i].Errors = append(res.Versions[i].Errors, err.Error())
			continue
		}
		targets[i] = p
	}
	for r := range runs {
		for k := range targets {
			i := k
			if r%2 == 1 { // ABBA: alternate the order, so drift hits both
				i = len(targets) - 1 - k
			}
			t := targets[i]
			if t == nil || ctx.Err() != nil {
				continue
			}
			v := &res.Versions[i]
			rctx, cancel := context.WithTimeout(ctx, timeout)
			start := time.Now()
			err := t.Start(rctx)
			if err == nil {
				err = t.Ready(rctx)
			}
			took := time.Since(start)
			cancel()
			if err == nil {
				v.Seconds = append(v.Seconds, took.Seconds())
			} else {
				v.Errors = append(v.Errors, err.Error())
			}
			if err := t.Stop(ctx); err != nil {
				v.Errors = append(v.Errors, "stop: "+err.Error())
			}
			rn.printf("start-up %s run %d: %.3fs %v", v.Name, r+1, took.Seconds(), err)
		}
	}
	for i := range res.Versions {
		v := &res.Versions[i]
		if len(v.Seconds) > 0 {
			sorted := slices.Sorted(slices.Values(v.Seconds))
			v.Median, v.Min, v.Max = stats.Quantile(sorted, 0.5), sorted[0], sorted[len(sorted)-1]
		}
	}
	base := res.Versions[0]
	for i := 1; i < len(res.Versions); i++ {
		v := &res.Versions[i]
		switch {
		case len(v.Errors) > 0 || len(base.Errors) > 0:
			v.Status = StatusFail
			v.Message = fmt.Sprintf("%d start-ups failed (%s: %d): %v", len(v.Errors), base.Name, len(base.Errors), append(v.Errors, base.Errors...)[0])
		case len(v.Seconds) < 3 || len(base.Seconds) < 3:
			v.Status = StatusInconclusive
			v.Message = "fewer than 3 start-ups of a version"
		default:
			t := stats.MannWhitneyU(v.Seconds, base.Seconds)
			v.P, v.Ratio = t.P, v.Median/base.Median
			desc := fmt.Sprintf("median %.3fs against %s's %.3fs (ratio %.2f, Mann-Whitney p = %.3g, %d and %d runs)",
				v.Median, base.Name, base.Median, v.Ratio, t.P, len(v.Seconds), len(base.Seconds))
			switch {
			case t.P < alpha && v.Ratio > 1+minEffect:
				v.Status, v.Message = StatusFail, desc+": slower beyond the minimum effect"
			case t.P < alpha && v.Ratio < 1:
				v.Status, v.Message = StatusPass, desc+": faster"
			case v.Ratio > 1+minEffect:
				v.Status, v.Message = StatusInconclusive, desc+": slower beyond the minimum effect, but not significantly: more runs would tell"
			default:
				v.Status, v.Message = StatusPass, desc+": no slow-down beyond the minimum effect"
			}
		}
	}
	return res
}
