package scoring_test

import (
	"context"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/scoring"
	"github.com/sqlshadow/sqlshadow/scoring/scoringtest"
)

func TestMemoryStoreConformance(t *testing.T) {
	scoringtest.TestCooldownStore(t, func(*testing.T) scoring.CooldownStore { return scoring.NewMemoryStore() })
}

func newSQLStore(t *testing.T) *scoring.SQLStore {
	t.Helper()
	srv := rig.Server(t, 0)
	db := srv.Open(t, srv.NewDatabase(t))
	_, err := scoring.NewSQLStore(context.Background(), db, nil)
	require.NoError(t, err)
	s, err := scoring.NewSQLStore(context.Background(), db, nil)
	require.NoError(t, err, "a second store on the same table: creating it is idempotent")
	return s
}

func TestSQLStoreConformance(t *testing.T) {
	scoringtest.TestCooldownStore(t, func(t *testing.T) scoring.CooldownStore { return newSQLStore(t) })
}

// Cooldowns survive a restart: a new sentinel on the same database does not
// fire again within the cooldown.
func TestCooldownSurvivesRestart(t *testing.T) {
	srv := rig.Server(t, 0)
	name := srv.NewDatabase(t)
	open := func() *scoring.SQLStore {
		s, err := scoring.NewSQLStore(context.Background(), srv.Open(t, name), &scoring.SQLStoreOptions{Table: "cooldowns_v1"})
		require.NoError(t, err)
		return s
	}
	crit := snapshot("prod", "", 20, 0)

	s1, n1, clk := newSentinel(t, open(), nil)
	require.Equal(t, dataset.TriggerNewCritical, eval(t, s1, crit, nil))
	require.Len(t, n1.triggers(), 1)

	// "Restart": new store, new sentinel, no previous snapshot in memory.
	s2, err := scoring.NewSentinel(open(), n1, &scoring.SentinelOptions{Now: func() time.Time { return clk.Now().Add(3 * time.Hour) }})
	require.NoError(t, err)
	require.Equal(t, dataset.Trigger(""), eval(t, s2, crit, nil))
	s3, err := scoring.NewSentinel(open(), n1, &scoring.SentinelOptions{Now: func() time.Time { return clk.Now().Add(4 * time.Hour) }})
	require.NoError(t, err)
	require.Equal(t, dataset.TriggerNewCritical, eval(t, s3, crit, nil))
	require.Len(t, n1.triggers(), 2)
}

func TestSQLStoreBadArguments(t *testing.T) {
	_, err := scoring.NewSQLStore(context.Background(), nil, nil)
	require.ErrorContains(t, err, "nil db")
	srv := rig.Server(t, 0)
	db := srv.Open(t, srv.NewDatabase(t))
	_, err = scoring.NewSQLStore(context.Background(), db, &scoring.SQLStoreOptions{Table: "t; DROP TABLE x"})
	require.ErrorContains(t, err, "bad table name")
}
