package sqlshadow_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The dependency budget of the library, stated in docs/design.md, section Dependency budget:
// what each package may link, checked with go list.

const module = "github.com/sqlshadow/sqlshadow"

// budgets is the most third-party packages (neither standard library nor of
// this module) each library package may link, with slack on top. The figures
// are the counts when the budget was set; docs/design.md, section Dependency budget explains
// them. A package not listed gets defaultBudget.
var budgets = map[string]int{
	"hashing":               0,
	"compare":               0,
	"compare/plan":          0,
	"compare/stats":         0,
	"sink":                  182, // gocloud.dev/blob (171) and prometheus/client_golang
	"dataset":               182, // sink
	"compare/shadow":        240, // sink, sink/parquet (the report reads Parquet logs: parquet-go with klauspost/compress, lz4, brotli, go-geom: 58)
	"sink/parquet":          240, // sink, parquet-go (58): only programs that write or read Parquet link it
	"profile":               184, // sink, golang-lru/v2/simplelru
	"issues":                185, // sink, go-sql-driver/mysql (its error type)
	"compare/baseline":      187, // sink, go-sql-driver/mysql
	"scoring":               187, // sink, prometheus/client_golang/api (PrometheusSource)
	"mirror":                233, // sink, go-mysql client (the shadow side's login) with the TiDB parser and zap
	"replay":                233, // sink, go-mysql client, the TiDB parser, go-sql-driver/mysql
	"replay/replica":        46,  // the TiDB parser, go-sql-driver/mysql: no sink
	"issues/lark":           185, // issues
	"investigate":           243, // sink, issues (go-sql-driver/mysql), compare/shadow (sink/parquet: 58)
	"investigate/knowledge": 253, // modernc.org/sqlite (pure-Go SQLite with FTS5) and its libc, compare/shadow (sink/parquet: 58)
	"certify":               241, // mirror (go-mysql), replay, compare/shadow (sink/parquet)
}

// defaultBudget is the budget of a package not listed in budgets: what sink
// links.
const defaultBudget = 182

// slack is how far a package may grow past its budget before the test fails.
const slack = 5

// forbidden are import path prefixes that no library package may link, except
// the packages gocloud.dev/blob itself links (its error codes come from grpc,
// its metrics from OpenTelemetry, its retries from gax-go): cloud SDKs, their
// transports and their auth, blob drivers other than fileblob and memblob,
// and the testing package.
var forbidden = []string{
	"cloud.google.com/",
	"github.com/aws/",
	"github.com/Azure/",
	"github.com/googleapis/",
	"github.com/envoyproxy/",
	"github.com/cncf/",
	"google.golang.org/api/",
	"google.golang.org/grpc",
	"google.golang.org/genproto",
	"go.opentelemetry.io/",
	"go.opencensus.io",
	"golang.org/x/oauth2",
	"gocloud.dev/blob/s3blob",
	"gocloud.dev/blob/gcsblob",
	"gocloud.dev/blob/azureblob",
	"gocloud.dev/aws",
	"gocloud.dev/gcp",
	"gocloud.dev/azure",
	"testing",
}

// drivers are the library's driver packages: each wraps a heavy SDK, the
// budget does not apply to them, and a program links one only by importing
// it (TestDependencyBudget checks that no budgeted package imports one).
var drivers = map[string]string{
	"sink/drivers":          "the S3 and GCS blob drivers and the GCS write abort",
	"certify/kube":          "client-go, for the Kubernetes pod target",
	"investigate/anthropic": "Anthropic's Go SDK, for the model reasoner",
	"investigate/mcp":       "the Model Context Protocol Go SDK (it links golang.org/x/oauth2 for MCP's OAuth)",
}

// exempt reports the packages the budget does not apply to: the driver
// packages and test helpers.
func exempt(rel string) bool {
	last := rel[strings.LastIndexByte(rel, '/')+1:]
	_, driver := drivers[rel]
	return driver || rel == "internal/testdb" || strings.HasSuffix(last, "test")
}

// under reports whether path is prefix, or a package below it (any path
// starting with prefix when prefix ends in a slash).
func under(path, prefix string) bool {
	if strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(path, prefix)
	}
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// thirdParty reports a package neither of the standard library (whose
// paths have no dot in their first element) nor of this module.
func thirdParty(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return strings.Contains(first, ".") && path != module && !strings.HasPrefix(path, module+"/")
}

func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, ee.Stderr)
		}
		t.Fatalf("go list %s: %v", strings.Join(args, " "), err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// importChain returns a shortest chain of imports from pkg to dep.
func importChain(t *testing.T, pkg, dep string) []string {
	t.Helper()
	imports := map[string][]string{}
	for _, line := range goList(t, "-deps", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", pkg) {
		f := strings.Fields(line)
		imports[f[0]] = f[1:]
	}
	from := map[string]string{pkg: ""}
	for queue := []string{pkg}; len(queue) > 0; queue = queue[1:] {
		p := queue[0]
		if p == dep {
			chain := []string{dep}
			for p = from[p]; p != ""; p = from[p] {
				chain = append([]string{p}, chain...)
			}
			return chain
		}
		for _, i := range imports[p] {
			if _, seen := from[i]; !seen {
				from[i] = p
				queue = append(queue, i)
			}
		}
	}
	return []string{pkg, "...", dep}
}

func TestDependencyBudget(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH: cannot list the packages' dependencies")
	}
	core := map[string]bool{"gocloud.dev/blob": true}
	for _, p := range strings.Fields(goList(t, "-f", "{{join .Deps \" \"}}", "gocloud.dev/blob")[0]) {
		core[p] = true
	}
	checked := 0
	for _, line := range goList(t, "-f", "{{.ImportPath}} {{join .Deps \" \"}}", "./...") {
		fields := strings.Fields(line)
		pkg, deps := fields[0], fields[1:]
		rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
		if rel == "" || !strings.HasPrefix(pkg, module) || strings.HasPrefix(rel, "examples/") || exempt(rel) {
			continue
		}
		checked++
		var bad []string
		n := 0
		for _, d := range deps {
			if thirdParty(d) {
				n++
			}
			if _, driver := drivers[strings.TrimPrefix(d, module+"/")]; driver && strings.HasPrefix(d, module+"/") {
				t.Errorf("%s imports the driver package %s: only programs may", pkg, d)
			}
			if core[d] {
				continue
			}
			if slices.ContainsFunc(forbidden, func(f string) bool { return under(d, f) }) {
				bad = append(bad, d)
			}
		}
		if len(bad) > 0 {
			t.Errorf("%s links %d forbidden packages (see docs/design.md, section Dependency budget), first %s through\n\t%s",
				pkg, len(bad), bad[0], strings.Join(importChain(t, pkg, bad[0]), "\n\t-> "))
		}
		budget, ok := budgets[rel]
		if !ok {
			budget = defaultBudget
		}
		if n > budget+slack {
			t.Errorf("%s links %d third-party packages, over its budget of %d (+%d): state why in docs/design.md, section Dependency budget and raise it in deps_test.go, or link less",
				pkg, n, budget, slack)
		} else {
			t.Logf("%s: %d third-party packages (budget %d)", rel, n, budget)
		}
	}
	if checked == 0 {
		t.Fatal("no library package found: is the test run from the module root?")
	}
}
