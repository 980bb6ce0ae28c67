package profile_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sqlshadow/sqlshadow/profile"
	"github.com/sqlshadow/sqlshadow/profile/profiletest"
)

const mb = 1 << 20

func TestParseProfile(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(t, err)
		return string(b)
	}
	for _, tc := range []struct {
		name string
		text string
		want profile.ProfileStats
		hit  float64
	}{{
		name: "3.5 merged, shared-nothing page cache",
		text: profiletest.SampleProfile("f68172bd-8a0a-11f0-94e0-00163e341b96", "select 1\nfrom t"),
		want: profile.ProfileStats{QueryID: "f68172bd-8a0a-11f0-94e0-00163e341b96", State: "Finished",
			Total: 92 * time.Millisecond, CPUTime: 251340 * time.Microsecond, ScanTime: 190113 * time.Microsecond,
			NetworkTime: 827861 * time.Nanosecond, OperatorTime: 310492 * time.Microsecond, ExecutionWallTime: 85664 * time.Microsecond,
			PeakMemoryBytes: 6638535, SpillBytes: 0, ScanBytes: 19652411, ScanRows: 2880404,
			DataCacheReadBytes: -1, FSIOBytesRead: -1, CompressedBytesReadLocal: -1, CompressedBytesReadRemote: -1,
			ReadPages: 1204, CachedPages: 903, ConnectorBytesRead: -1, ScanOperators: 1},
		hit: 903.0 / 1204.0,
	}, {
		name: "3.4 external catalog with data cache, multi-line SQL",
		text: read("profile_hive_datacache.txt"),
		want: profile.ProfileStats{QueryID: "7a1c2b3d-9e0f-11f0-8a2b-00163e0a0b0c", State: "Finished",
			Total: 4120 * time.Millisecond, CPUTime: 123 * time.Second, ScanTime: 1155 * time.Second,
			NetworkTime: 1727 * time.Millisecond, OperatorTime: 90 * time.Minute, ExecutionWallTime: 4098 * time.Millisecond,
			PeakMemoryBytes: 1095216660, SpillBytes: 88, ScanBytes: 1095216660, ScanRows: 6001215,
			DataCacheReadBytes: 900 * mb, FSIOBytesRead: 120 * mb, CompressedBytesReadLocal: -1, CompressedBytesReadRemote: -1,
			ReadPages: -1, CachedPages: -1, ConnectorBytesRead: 1095216660, ScanOperators: 1},
		hit: 900.0 / (1.020 * 1024),
	}, {
		name: "3.3 shared-data",
		text: read("profile_shared_data.txt"),
		want: profile.ProfileStats{QueryID: "0b0c0d0e-1111-11f0-8a2b-00163e0a0b0c", State: "Finished",
			Total: 1054 * time.Millisecond, CPUTime: 357924 * time.Microsecond, ScanTime: -1, NetworkTime: -1, OperatorTime: -1,
			ExecutionWallTime: -1, PeakMemoryBytes: 163718365, SpillBytes: 0, ScanBytes: 1024 * mb, ScanRows: 1000024,
			DataCacheReadBytes: -1, FSIOBytesRead: -1, CompressedBytesReadLocal: 96 * mb, CompressedBytesReadRemote: 32 * mb,
			ReadPages: -1, CachedPages: -1, ConnectorBytesRead: -1, ScanOperators: 2},
		hit: 0.75,
	}, {
		name: "2.5 per-instance layout, Summary counters",
		text: read("profile_v25_instances.txt"),
		want: profile.ProfileStats{QueryID: "7de16a85-761c-11ed-917d-00163e14d435", State: "EOF",
			Total: 1727 * time.Millisecond, CPUTime: 820125 * time.Microsecond, ScanTime: -1, NetworkTime: -1, OperatorTime: -1,
			ExecutionWallTime: -1, PeakMemoryBytes: 88 * mb, SpillBytes: -1, ScanBytes: 40 * mb, ScanRows: 2000,
			DataCacheReadBytes: -1, FSIOBytesRead: -1, CompressedBytesReadLocal: -1, CompressedBytesReadRemote: -1,
			ReadPages: 200, CachedPages: 100, ConnectorBytesRead: -1, ScanOperators: 2},
		hit: 0.5,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := profile.ParseProfile(tc.text)
			require.NoError(t, err)
			require.Equal(t, tc.want, *got)
			require.InDelta(t, tc.hit, got.CacheHitRatio(), 1e-9)
		})
	}
}

func TestParseProfileRejectsOtherText(t *testing.T) {
	for _, s := range []string{"", "query id 123 not found.", "<html><pre id='profile'>", `{"code":"0"}`} {
		_, err := profile.ParseProfile(s)
		require.ErrorIs(t, err, profile.ErrNotProfile, s)
	}
}

func FuzzParseProfile(f *testing.F) {
	f.Add(profiletest.SampleProfile("id", "select 1"))
	for _, name := range []string{"profile_hive_datacache.txt", "profile_shared_data.txt", "profile_v25_instances.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("Query:\n  Summary:\n     - Total: 99999999999999999999h\n  Execution:\n     - QuerySpillBytes: 1e400 TB\n    OLAP_SCAN:\n     - BytesRead: NaN B\n     - RawRowsRead: 1 (")
	f.Fuzz(func(t *testing.T, text string) {
		s, err := profile.ParseProfile(text)
		if err != nil {
			return
		}
		for _, v := range []int64{s.PeakMemoryBytes, s.SpillBytes, s.ScanBytes, s.ScanRows, s.ReadPages, s.CachedPages} {
			if v < -1 {
				t.Fatalf("negative figure %d", v)
			}
		}
		for _, d := range []time.Duration{s.Total, s.CPUTime, s.ScanTime} {
			if d < -1 {
				t.Fatalf("negative time %d", d)
			}
		}
		if h := s.CacheHitRatio(); h != -1 && (h < 0 || h > 1) {
			t.Fatalf("hit ratio %v", h)
		}
	})
}
