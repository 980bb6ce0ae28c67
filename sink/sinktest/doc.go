// Package sinktest helps test code that writes through a sink.Sink:
//
//   - Recorder, an in-memory sink.Sink that keeps every record, for unit tests
//     of code that logs (safe for concurrent use);
//   - TestBucket, the suite every bucket kind passes with sink.Writer and
//     sink.Reader (partitions from record timestamps, only *.jsonl[.gz] in
//     partitions, objects whole or not at all, a cancelled write leaves
//     nothing, outages survived with nothing lost, drop and block modes).
//     Package sink runs it on mem://, file://, s3:// (a real versitygw on
//     loopback, stopped and restarted mid-test) and gs:// (fake-gcs-server,
//     likewise);
//   - FaultyBucket, a bucket wrapper whose writes fail or hang on demand.
package sinktest
