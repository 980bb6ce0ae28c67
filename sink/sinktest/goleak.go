package sinktest

import "go.uber.org/goleak"

// IgnoreGoroutines returns the goleak options that tolerate the goroutines
// the bucket drivers linked by package sink leave running: opencensus's
// global view worker (started at init by the GCS client) and idle HTTP
// keep-alive connections of the SDKs' shared transports. Use it in TestMain:
//
//	goleak.VerifyTestMain(m, sinktest.IgnoreGoroutines()...)
func IgnoreGoroutines() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	}
}
