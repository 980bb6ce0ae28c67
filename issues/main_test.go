package issues_test

import (
	"context"
	"database/sql"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sqlshadow/sqlshadow/internal/testdb"
	"github.com/sqlshadow/sqlshadow/issues"
	"github.com/sqlshadow/sqlshadow/issues/issuestest"
)

var rig = testdb.NewRig(1, nil)

func TestMain(m *testing.M) {
	code := rig.Run(m)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			os.Stderr.WriteString("goleak: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}

func TestMemoryStoreConformance(t *testing.T) {
	issuestest.TestStore(t, func(*testing.T) issues.Store { return issues.NewMemoryStore() },
		&issuestest.TestStoreOptions{Reopen: func(_ *testing.T, s issues.Store) issues.Store { return s }})
}

// newSQLStore returns an SQLStore on a fresh MariaDB database, and the
// database's name.
func newSQLStore(t testing.TB) (*issues.SQLStore, string) {
	srv := rig.Server(t, 0)
	name := srv.NewDatabase(t)
	s, err := issues.NewSQLStore(context.Background(), srv.Open(t, name), nil)
	require.NoError(t, err)
	return s, name
}

func TestSQLStoreConformance(t *testing.T) {
	names := map[issues.Store]string{}
	newStore := func(t *testing.T) issues.Store {
		s, name := newSQLStore(t)
		names[s] = name
		return s
	}
	issuestest.TestStore(t, newStore, &issuestest.TestStoreOptions{
		Reopen: func(t *testing.T, s issues.Store) issues.Store {
			srv := rig.Server(t, 0)
			db, err := sql.Open("mysql", srv.DSN(names[s])+"&parseTime=true")
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			other, err := issues.NewSQLStore(context.Background(), db, nil)
			require.NoError(t, err)
			return other
		},
	})
}
