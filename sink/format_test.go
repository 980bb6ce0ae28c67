package sink

import (
	"math/rand/v2"
	"testing"
	"time"
)

// Time's fast formatting gives what the layout gives, for any instant and
// zone, including years the fast path leaves to time.Format.
func TestTimeAppendTextMatchesLayout(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("ahead", 13*3600+45*60), time.FixedZone("behind", -11*3600)}
	times := []time.Time{
		{},
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_000, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 6, 1, 12, 0, 0, 1000, time.UTC),
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		times = append(times, time.Unix(r.Int64N(1<<37)-1<<36, r.Int64N(1e9)))
	}
	for _, tm := range times {
		for _, z := range zones {
			in := tm.In(z)
			want := in.UTC().Format(TimeFormat)
			got, err := Time(in).AppendText([]byte("x"))
			if err != nil || string(got) != "x"+want {
				t.Fatalf("%v: got %q, %v; want %q", in, got, err, want)
			}
		}
	}
}

// needsEscape8 agrees with the byte table for every byte at every position,
// among safe and unsafe neighbours.
func TestNeedsEscape8(t *testing.T) {
	for _, fill := range []byte{'a', ' ', '~', 0x7f, '"', 0x00, 0xff} {
		for pos := 0; pos < 8; pos++ {
			for c := 0; c < 256; c++ {
				var x uint64
				want := !safeASCII[fill]
				for i := 0; i < 8; i++ {
					b := fill
					if i == pos {
						b = byte(c)
					}
					x |= uint64(b) << (8 * i)
				}
				want = want || !safeASCII[c]
				if got := needsEscape8(x); got != want {
					t.Fatalf("fill %#x, byte %#x at %d: got %v, want %v", fill, c, pos, got, want)
				}
			}
		}
	}
}
