package certify

import "strings"

// ParseMetricsForTest exposes parseMetrics to the package's tests.
func ParseMetricsForTest(page string) (map[string]float64, error) {
	return parseMetrics(strings.NewReader(page))
}
