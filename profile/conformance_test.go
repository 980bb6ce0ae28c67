package profile_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/profile"
	"github.com/sqlshadow/sqlshadow/profile/profiletest"
)

func TestFESourceConformance(t *testing.T) {
	profiletest.TestProfileSource(t, func(t *testing.T) profiletest.SourceHarness {
		clock := profiletest.NewClock(t0)
		fe := profiletest.NewFE(&profiletest.Options{Now: clock.Now})
		t.Cleanup(fe.Close)
		src := profile.NewFESource(fe.Addr(), &profile.FEOptions{Now: clock.Now, NoProfiles: true})
		t.Cleanup(func() { _ = src.Close() })
		return profiletest.SourceHarness{
			Source: src,
			Exec: func(_ context.Context, sql string) error {
				fe.Run(profiletest.Query{SQL: sql})
				return nil
			},
			Settle: func() { clock.Advance(time.Second) },
		}
	})
}

func TestPerfSchemaSourceConformance(t *testing.T) {
	profiletest.TestProfileSource(t, func(t *testing.T) profiletest.SourceHarness {
		srv := rig.Server(t, 0)
		name := srv.NewDatabase(t)
		db := srv.Open(t, name)
		src := profile.NewPerfSchemaSource(db, srv.Addr(), nil)
		require.NoError(t, src.EnableConsumers(context.Background()))
		return profiletest.SourceHarness{
			Source: src,
			Exec: func(ctx context.Context, sql string) error {
				_, err := db.ExecContext(ctx, sql)
				return err
			},
		}
	})
}
