package investigate

import (
	"time"

	"github.com/sqlshadow/sqlshadow/sink"
)

// possible is the prefix of an unconfirmed root cause.
const possible = "Possible root cause: "

func rootCause(cause string, confirmed bool) string {
	if confirmed {
		return cause
	}
	return possible + cause
}

func ptime(t time.Time) *sink.Time {
	if t.IsZero() {
		return nil
	}
	st := sink.Time(t.UTC())
	return &st
}
