package investigate_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/investigate"
	"github.com/sqlshadow/sqlshadow/sink"
)

func sentinel(cluster string) investigate.Task {
	return investigate.Task{Sentinel: &dataset.SentinelTask{TS: sink.Time(time.Now().UTC()), Cluster: cluster,
		Trigger: dataset.TriggerScoreCliff, Priority: 2, Reason: "score fell by 30"}}
}

// A model answer that is not a valid Finding is rejected with a clear
// error, and the deterministic finding is kept.
func TestModelAnswerRejected(t *testing.T) {
	ops := investigate.NewMemoryOperations([]investigate.Operation{{TS: time.Now().Add(-time.Hour), Cluster: "c1", Kind: investigate.OpUpdate, Detail: "set x=1"}})
	model := investigate.ReasonerFunc(func(ctx context.Context, c *investigate.Case) (*dataset.Finding, error) {
		// The model may call the same tools; the call is logged.
		out, err := c.Call(ctx, "model", investigate.ToolOperations, json.RawMessage(`{"cluster":"c1"}`))
		require.NoError(t, err)
		require.Contains(t, string(out), "set x=1")
		return &dataset.Finding{Subject: c.Subject, Severity: "urgent", Confidence: 0.9, Category: "x", Title: "t",
			RootCause: "r", Recommendations: []string{"a"}}, nil
	})
	inv := investigate.New(investigate.Tools{Operations: ops}, &investigate.Options{Model: model})
	f, err := inv.Investigate(context.Background(), sentinel("c1"))
	require.ErrorIs(t, err, investigate.ErrBadModelAnswer)
	var se *dataset.SchemaError
	require.ErrorAs(t, err, &se)
	require.Equal(t, "severity", se.Field)
	require.Contains(t, err.Error(), `"urgent" is not info, warning or critical`)
	require.NotNil(t, f)
	require.Equal(t, "rules", f.Reasoner)
	require.NoError(t, f.Validate())
	require.Contains(t, f.Notes[len(f.Notes)-1], "model reasoner rejected")
	var byModel int
	for _, c := range f.ToolCalls {
		if c.By == "model" {
			byModel++
			require.Equal(t, investigate.ToolOperations, c.Tool)
		}
	}
	require.Equal(t, 1, byModel)

	// A model error is returned the same way.
	boom := errors.New("overloaded")
	inv = investigate.New(investigate.Tools{}, &investigate.Options{Model: investigate.ReasonerFunc(
		func(context.Context, *investigate.Case) (*dataset.Finding, error) { return nil, boom })})
	f, err = inv.Investigate(context.Background(), sentinel("c1"))
	require.ErrorIs(t, err, boom)
	require.NotNil(t, f)
}

func TestInvalidTask(t *testing.T) {
	_, err := investigate.New(investigate.Tools{}, nil).Investigate(context.Background(), investigate.Task{})
	require.Error(t, err)
}

func TestMaskText(t *testing.T) {
	for in, want := range map[string]string{
		`WHERE email = 'ann@example.com' AND card = 4111111111111111`: `WHERE email = '?' AND card = <number>`,
		`login failed for password=hunter2 from 10.0.0.1`:             `login failed for password=*** from 10.0.0.1`,
		`dsn mysql://app:s3cret@db:3306/x`:                            `dsn mysql://app:***@db:3306/x`,
		`mail bob@corp.io about disk_used_pct 93`:                     `mail <email> about disk_used_pct 93`,
	} {
		require.Equal(t, want, investigate.MaskText(in), in)
	}
	require.Equal(t, "select * from t where a = ?", investigate.MaskSQL("SELECT * FROM t WHERE a = 'secret'"))
}

func TestCheckReadOnly(t *testing.T) {
	for _, q := range []string{"SELECT 1", "SHOW TABLES", "EXPLAIN SELECT * FROM t"} {
		require.NoError(t, investigate.CheckReadOnly(q), q)
	}
	for _, q := range []string{"DELETE FROM t", "SELECT 1; DROP TABLE t", "SELECT * FROM t FOR UPDATE", "SET @a = 1", "SELECT 1 INTO OUTFILE '/tmp/x'"} {
		require.ErrorIs(t, investigate.CheckReadOnly(q), investigate.ErrNotReadOnly, q)
	}
}
