package cli

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"gocloud.dev/blob"

	"github.com/sqlshadow/sqlshadow/sink"
	"github.com/sqlshadow/sqlshadow/sink/drivers"
)

// NewWriter returns a sink.Writer of the dataset name in bucket, writing
// records of type T in the format named by a -log-format value (LogFormat;
// "" is the sink's default), with the binaries' metrics and logger, and
// drivers.AbortGCS so that an abandoned gs:// object commits nothing.
func NewWriter[T any](bucket *blob.Bucket, name, format string, reg prometheus.Registerer, log *slog.Logger) (*sink.Writer, error) {
	f, err := LogFormat[T](format)
	if err != nil {
		return nil, err
	}
	return sink.NewWriter(bucket, name, &sink.WriterOptions{Format: f, Registerer: reg, Logger: log, Aborter: drivers.AbortGCS})
}

// Background runs fn in a goroutine with a context derived from ctx. stop
// cancels that context, waits for fn to return and returns fn's error: for
// a part a binary runs beside its main loop (an MCP server, a chat reader),
// joined when the main loop ends.
func Background(ctx context.Context, fn func(context.Context) error) (stop func() error) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	return func() error {
		cancel()
		return <-done
	}
}
