package sink_test

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/sqlshadow/sqlshadow/sink"
)

func Example() {
	ctx := context.Background()
	// Binaries pass their -bucket-url: file:///var/lib/sqlshadow, s3://..., gs://...
	bucket, err := sink.OpenBucket(ctx, "mem://")
	if err != nil {
		panic(err)
	}
	defer bucket.Close()

	type event struct {
		TS   sink.Time `json:"ts"`
		Kind string    `json:"kind"`
	}
	w, err := sink.NewWriter(bucket, "events", &sink.WriterOptions{Gzip: true})
	if err != nil {
		panic(err)
	}
	t0 := time.Date(2026, 11, 22, 9, 59, 59, 0, time.UTC)
	for i, kind := range []string{"start", "tick", "stop"} {
		ts := t0.Add(time.Duration(i) * time.Second)
		if err := w.Write(ctx, ts, event{TS: sink.Time(ts), Kind: kind}); err != nil {
			panic(err)
		}
	}
	if err := w.Close(ctx); err != nil { // flushes: every record is in the bucket
		panic(err)
	}

	objs, err := sink.Objects(ctx, bucket, "events", t0, t0.Add(time.Hour))
	if err != nil {
		panic(err)
	}
	for _, o := range objs {
		fmt.Println(o.Key[:len("events/year=2026/month=11/day=22/hour=09")], o.Gzip)
	}

	r := sink.NewReader(bucket, "events", t0.Add(time.Second), t0.Add(time.Hour), nil)
	defer r.Close()
	for {
		rec, err := r.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		fmt.Println(string(rec))
	}
	fmt.Printf("%+v\n", r.Stats())
	// Output:
	// events/year=2026/month=11/day=22/hour=09 true
	// events/year=2026/month=11/day=22/hour=10 true
	// {"ts":"2026-11-22T10:00:00.000000Z","kind":"tick"}
	// {"ts":"2026-11-22T10:00:01.000000Z","kind":"stop"}
	// {Objects:1 Records:2 Malformed:0 OutOfRange:0 Missing:0 Corrupt:0 Unsupported:0}
}
