package main

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/compare"
	"github.com/sqlshadow/sqlshadow/compare/shadow"
	"github.com/sqlshadow/sqlshadow/internal/mariadb"
	"github.com/sqlshadow/sqlshadow/internal/testdb"
)

// TestDemoFindsExactlyThePlantedDifferences runs the whole loop (smaller than
// the default) and checks what the issue promises: the report names the
// three planted differences and nothing else, in every format; then the
// DuckDB DDL of examples/deploy reads the demo's logs in place.
func TestDemoFindsExactlyThePlantedDifferences(t *testing.T) {
	out := t.TempDir()
	var progress bytes.Buffer
	res, err := runDemo(context.Background(), config{statements: 1200, clients: 4, out: out}, &progress)
	require.NoError(t, err, progress.String())
	defer res.close()
	require.Zero(t, res.clientErrors, "the proxy must answer every client statement from the primary")

	var summary bytes.Buffer
	printSummary(&summary, res)
	t.Log(summary.String())
	for _, p := range planted {
		require.NotNil(t, res.found(p.kind, p.route), "planted %s on route %s not found:\n%s", p.kind, p.route, summary.String())
	}
	require.Len(t, res.report.Findings, len(planted), "findings beyond the planted ones:\n%s", summary.String())
	require.True(t, res.foundAll())
	require.Equal(t, compare.VerdictFail, res.report.Outcome)

	html, err := os.ReadFile(filepath.Join(out, "report.html"))
	require.NoError(t, err)
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	require.NoError(t, err)
	for _, route := range []string{"audit-trail", "loyalty", "fx-convert"} {
		require.Contains(t, string(html), route)
		require.Contains(t, string(md), route)
	}
	require.Contains(t, string(html), "<svg")

	// The request-id route's UUID() differs on every call: noise, reported
	// but not flagged.
	noise := false
	for _, n := range res.report.Noise {
		if strings.Contains(n.Group, "request-id") && n.Kind == shadow.NoiseNonDeterministic {
			noise = true
		}
	}
	require.True(t, noise, "UUID() must be reported as noise")

	t.Run("DuckDB reads the logs in place", func(t *testing.T) {
		ddl, err := os.ReadFile("../deploy/sql/duckdb.sql")
		require.NoError(t, err)
		db, err := sql.Open("duckdb", "")
		require.NoError(t, err)
		defer db.Close()
		stmts := strings.Split(strings.ReplaceAll(string(ddl), "{{ROOT}}", filepath.ToSlash(res.logsDir)), ";\n")
		var ranComparison bool
		for _, s := range stmts {
			s = strings.TrimSpace(stripComments(s))
			if s == "" {
				continue
			}
			if strings.HasPrefix(s, "SELECT") {
				rows, err := db.Query(s)
				require.NoError(t, err, s)
				groups := map[string]int64{}
				for rows.Next() {
					var grp string
					var pairs, failures, mismatches int64
					var p50p, p50s, p99p, p99s, ratio sql.NullFloat64
					require.NoError(t, rows.Scan(&grp, &pairs, &p50p, &p50s, &p99p, &p99s, &ratio, &failures, &mismatches))
					groups[grp] = pairs
					if grp == "loyalty" {
						require.Equal(t, pairs, failures)
					}
					if grp == "fx-convert" {
						require.Positive(t, mismatches)
					}
				}
				require.NoError(t, rows.Err())
				require.Contains(t, groups, "audit-trail")
				ranComparison = true
				continue
			}
			_, err := db.Exec(s)
			if strings.Contains(s, "profiles") {
				// The demo's engine has no profiles: the view has no files.
				continue
			}
			require.NoError(t, err, s)
		}
		require.True(t, ranComparison)
	})
}

func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// TestDemoWithMariaDBJoinsProfiles runs the -mariadb mode: real MariaDB
// servers, performance_schema profiles collected from both and joined to the
// slow shape, whose profiles show the shadow examining far more rows.
func TestDemoWithMariaDBJoinsProfiles(t *testing.T) {
	if err := mariadb.Available(); err != nil {
		testdb.SkipOrFail(t, err)
	}
	var progress bytes.Buffer
	res, err := runDemo(context.Background(), config{statements: 1200, clients: 4, out: t.TempDir(), mariadb: true}, &progress)
	require.NoError(t, err, progress.String())
	defer res.close()
	require.Zero(t, res.clientErrors)
	require.True(t, res.foundAll())
	var summary bytes.Buffer
	printSummary(&summary, res)
	require.Contains(t, summary.String(), "Where the time went in route:audit-trail")
	for _, g := range res.report.Groups {
		if g.Label != "route:audit-trail" {
			continue
		}
		require.NotNil(t, g.Profiles, summary.String())
		p, s := g.Profiles.Primary, g.Profiles.Shadow
		require.Positive(t, p.Count)
		require.Positive(t, s.Count)
		require.NotNil(t, p.MeanScanRows)
		require.NotNil(t, s.MeanScanRows)
		require.Greater(t, *s.MeanScanRows, 100**p.MeanScanRows, "the shadow scans, the primary uses its index")
	}
}
