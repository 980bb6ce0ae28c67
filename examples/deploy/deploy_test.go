package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"gocloud.dev/blob/memblob"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/sqlshadow/sqlshadow/internal/testdb"
	"github.com/sqlshadow/sqlshadow/mirror"
	"github.com/sqlshadow/sqlshadow/profile"
	"github.com/sqlshadow/sqlshadow/sink"
	"github.com/sqlshadow/sqlshadow/sink/sinktest"
)

func TestKubernetesManifestsDecodeStrictly(t *testing.T) {
	files, err := filepath.Glob("kubernetes/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	kinds := map[string]int{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for i, doc := range bytes.Split(b, []byte("\n---\n")) {
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			var meta struct {
				Kind string `json:"kind"`
			}
			require.NoError(t, yaml.Unmarshal(doc, &meta), "%s doc %d", f, i)
			var obj any
			switch meta.Kind {
			case "Deployment":
				obj = &appsv1.Deployment{}
			case "Service":
				obj = &corev1.Service{}
			case "Secret":
				obj = &corev1.Secret{}
			case "Job":
				obj = &batchv1.Job{}
			default:
				t.Fatalf("%s doc %d: unexpected kind %q", f, i, meta.Kind)
			}
			require.NoError(t, yaml.UnmarshalStrict(doc, obj), "%s doc %d (%s)", f, i, meta.Kind)
			kinds[meta.Kind]++
			if d, ok := obj.(*appsv1.Deployment); ok {
				for _, c := range d.Spec.Template.Spec.Containers {
					require.NotNil(t, c.ReadinessProbe, "%s: %s needs a readiness probe", f, c.Name)
					require.NotNil(t, c.LivenessProbe, "%s: %s needs a liveness probe", f, c.Name)
					require.NotNil(t, c.Resources.Limits.Memory(), "%s: %s needs a memory limit", f, c.Name)
					for _, a := range c.Args {
						require.NotContains(t, strings.ToLower(a), "password=", "%s: passwords come from secrets, never flags", f)
					}
				}
			}
		}
	}
	require.Positive(t, kinds["Deployment"])
	require.Positive(t, kinds["Service"])
}

func TestPrometheusRulesPassPromtool(t *testing.T) {
	promtool := testdb.RequireBinary(t, "promtool")
	out, err := exec.Command(promtool, "check", "rules", "prometheus/sqlshadow-rules.yml").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "SUCCESS")
}

func TestAlertmanagerConfigPassesAmtool(t *testing.T) {
	amtool := testdb.RequireBinary(t, "amtool")
	out, err := exec.Command(amtool, "check-config", "alertmanager/alertmanager.yml").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Contains(t, string(out), "SUCCESS")
}

// recorder is a prometheus.Registerer that keeps the name and variable
// labels of every metric registered on it.
type recorder struct{ metrics map[string][]string }

var (
	fqNameRe = regexp.MustCompile(`fqName: "([^"]+)"`)
	labelsRe = regexp.MustCompile(`variableLabels: \{([^}]*)\}`)
)

func (r *recorder) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc, 64)
	go func() { c.Describe(ch); close(ch) }()
	for d := range ch {
		s := d.String()
		m := fqNameRe.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		var labels []string
		if l := labelsRe.FindStringSubmatch(s); l != nil && l[1] != "" {
			for _, x := range strings.Split(l[1], ",") {
				labels = append(labels, strings.TrimSpace(x))
			}
		}
		r.metrics[m[1]] = labels
	}
	return nil
}

func (r *recorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		_ = r.Register(c)
	}
}

func (r *recorder) Unregister(prometheus.Collector) bool { return true }

// binaryMetrics builds the components the binaries run, on a recorder.
func binaryMetrics(t *testing.T) map[string][]string {
	rec := &recorder{metrics: map[string][]string{}}
	p, err := mirror.New("127.0.0.1:1", &mirror.Options{Registerer: rec})
	require.NoError(t, err)
	defer p.Close()
	sh, err := mirror.NewShadow("127.0.0.1:1", &mirror.ShadowOptions{Registerer: rec})
	require.NoError(t, err)
	defer sh.Close()
	bucket := memblob.OpenBucket(nil)
	defer bucket.Close()
	w, err := sink.NewWriter(bucket, "query-logs", &sink.WriterOptions{Registerer: rec})
	require.NoError(t, err)
	defer w.Close(context.Background())
	c, err := profile.NewCollector(&sinktest.Recorder{}, profile.StaticDiscovery("127.0.0.1:1"), &profile.Options{Registerer: rec})
	require.NoError(t, err)
	_ = c
	return rec.metrics
}

var metricRe = regexp.MustCompile(`\bsqlshadow_[a-z_]+`)

func TestEveryMetricNamedExists(t *testing.T) {
	metrics := binaryMetrics(t)
	var names []string
	for n := range metrics {
		names = append(names, n)
	}
	sort.Strings(names)
	exists := func(name string) bool {
		if _, ok := metrics[name]; ok {
			return true
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if _, ok := metrics[strings.TrimSuffix(name, suffix)]; ok && strings.HasSuffix(name, suffix) {
				return true
			}
		}
		return false
	}
	check := func(source, text string) {
		found := metricRe.FindAllString(text, -1)
		require.NotEmpty(t, found, source)
		for _, n := range found {
			require.True(t, exists(n), "%s names %s, which no binary registers; registered: %v", source, n, names)
		}
	}
	rules, err := os.ReadFile("prometheus/sqlshadow-rules.yml")
	require.NoError(t, err)
	check("alert rules", string(rules))

	b, err := os.ReadFile("grafana/sqlshadow-dashboard.json")
	require.NoError(t, err)
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(b, &dash))
	require.NotEmpty(t, dash.Panels)
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			check(fmt.Sprintf("dashboard panel %q", p.Title), tg.Expr)
		}
	}
}
