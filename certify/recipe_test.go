package certify_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/certify"
)

const recipeText = `name: restart-shadow
primary: ${primary}
shadow: ${shadow}
user: ${user}
targets:
  shadow:
    start: "${shadow_start}"
    stop: "${shadow_stop}"
steps:
  - workload: {duration: "${duration:-45s}", clients: 3, rate: 20}
  - at: 5s
    window: 10s
    chaos: {action: restart, target: shadow}
  - at: 30s
    fault:
      link: primary
      duration: 2s
      fault: {mode: blackhole, latency: 10ms}
assert:
  client_errors: 0
  recovery: 20s
`

func params() map[string]string {
	return map[string]string{"primary": "127.0.0.1:3306", "shadow": "127.0.0.1:3307", "user": "u",
		"shadow_start": "mariadbd --port=3307 &", "shadow_stop": "mariadb-admin -P 3307 shutdown"}
}

func TestParseRecipe(t *testing.T) {
	r, err := certify.ParseRecipe([]byte(recipeText), "r.yaml", params())
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:3307", r.Shadow)
	assert.Equal(t, "mariadbd --port=3307 &", r.Targets["shadow"].Start)
	require.Len(t, r.Steps, 3)
	assert.Equal(t, 45*time.Second, r.Steps[0].Workload.Duration, "the default of ${duration:-45s}")
	assert.Equal(t, 10*time.Second, r.Steps[1].Window)
	assert.Equal(t, certify.ModeBlackHole, r.Steps[2].Fault.Fault.Mode)
	assert.Equal(t, 10*time.Millisecond, r.Steps[2].Fault.Fault.Latency)
	require.NotNil(t, r.Assert.ClientErrors)
	assert.Equal(t, 20*time.Second, r.Assert.Recovery)

	p := params()
	p["duration"] = "2m"
	r, err = certify.ParseRecipe([]byte(recipeText), "r.yaml", p)
	require.NoError(t, err)
	assert.Equal(t, 2*time.Minute, r.Steps[0].Workload.Duration)

	// JSON is read the same way.
	r, err = certify.ParseRecipe([]byte(`{"name": "j", "primary": "h:1", "steps": [{"at": "1s", "sql": {"statements": ["SELECT 1"]}}]}`), "r.json", nil)
	require.NoError(t, err)
	assert.Equal(t, "SELECT 1", r.Steps[0].SQL.Statements[0])
}

// TestRecipeMistakes: every mistake names its line and field.
func TestRecipeMistakes(t *testing.T) {
	for _, tc := range []struct {
		name, edit, with string
		params           map[string]string
		line             int
		field, msg       string
	}{
		{name: "unknown field", edit: "chaos: {action: restart, target: shadow}", with: "chaos: {action: restart, targt: shadow}",
			line: 13, field: "steps[1].chaos.targt", msg: "unknown field"},
		{name: "bad duration", edit: "at: 30s", with: "at: 30 seconds", line: 14, field: "steps[2].at", msg: "not a duration"},
		{name: "bad number", edit: "clients: 3", with: "clients: three", line: 10, field: "steps[0].workload.clients", msg: "not an integer"},
		{name: "unknown target", edit: "target: shadow}", with: "target: replica}", line: 13, field: "steps[1].chaos.target", msg: `"replica" is not one of`},
		{name: "unknown action", edit: "action: restart", with: "action: reboot", line: 13, field: "steps[1].chaos.action", msg: "not restart or kill"},
		{name: "bad fault mode", edit: "mode: blackhole", with: "mode: blackout", line: 18, field: "steps[2].fault.fault.mode", msg: "not reset, blackhole or down"},
		{name: "missing parameter", params: map[string]string{"primary": "h:1"}, line: 3, msg: "${shadow} is not set"},
		{name: "list expected", edit: "steps:", with: "steps: 3\nx:", line: 9, field: "steps", msg: "want a list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := recipeText
			if tc.edit != "" {
				text = replaceOnce(t, text, tc.edit, tc.with)
			}
			p := tc.params
			if p == nil {
				p = params()
			}
			_, err := certify.ParseRecipe([]byte(text), "r.yaml", p)
			require.Error(t, err)
			var re *certify.RecipeError
			require.True(t, errors.As(err, &re), "%T %v", err, err)
			assert.Equal(t, "r.yaml", re.File)
			assert.Equal(t, tc.line, re.Line, err.Error())
			assert.Equal(t, tc.field, re.Field, err.Error())
			assert.Contains(t, err.Error(), tc.msg)
			t.Log(err)
		})
	}
}

func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	i := indexOf(s, old)
	require.GreaterOrEqual(t, i, 0, "%q not in the recipe", old)
	return s[:i] + new + s[i+len(old):]
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestValidateGoRecipe(t *testing.T) {
	r := &certify.Recipe{Primary: "h:1", Steps: []certify.Step{{Chaos: &certify.Chaos{Action: "restart", Target: "x"}, SQL: &certify.SQLStep{}}}}
	err := r.Validate()
	var re *certify.RecipeError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "steps[0]", re.Field)
	assert.Contains(t, re.Msg, "exactly one")
}
