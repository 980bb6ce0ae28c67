// Package compare holds every comparison of sqlshadow: the shadow report over
// query logs, and the baseline harness that verifies one SQL change against its
// baseline.
package compare
