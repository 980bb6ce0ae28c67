// Package sinktest helps test code that writes through a sink.Sink: Recorder,
// an in-memory sink that keeps every record, and the conformance suite that
// every bucket kind passes.
package sinktest
