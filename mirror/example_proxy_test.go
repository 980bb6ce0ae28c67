package mirror_test

import (
	"context"
	"fmt"
	"net"

	"github.com/sqlshadow/sqlshadow/mirror"
	"github.com/sqlshadow/sqlshadow/sink/sinktest"
)

// A proxy in front of a primary, logging every command to a sink. Clients
// connect to the listener's address as they would to the primary.
func ExampleProxy() {
	logs := &sinktest.Recorder{} // in production: sink.NewWriter(bucket, dataset.QueryLogs, ...)
	proxy, err := mirror.New("127.0.0.1:3306", &mirror.Options{Sink: logs})
	if err != nil {
		panic(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	served := make(chan error, 1)
	go func() { served <- proxy.Serve(l) }()

	// ... clients run their queries through l.Addr() ...

	// Shutdown lets commands in flight finish, closes the connections and
	// flushes the query log.
	if err := proxy.Shutdown(context.Background()); err != nil {
		panic(err)
	}
	fmt.Println(<-served)
	// Output: mirror: proxy closed
}
