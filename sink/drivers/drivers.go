// Package drivers registers the gocloud.dev blob drivers that sqlshadow
// supports (file://, mem://, s3://, gs://) with gocloud's default URL mux, so
// that sink.OpenBucket can open their URLs, and provides AbortGCS, the
// sink.WriterOptions.Aborter that gs:// buckets need.
//
// Binaries import it, for its side effect and for AbortGCS:
//
//	import "github.com/sqlshadow/sqlshadow/sink/drivers"
//
//	bucket, err := sink.OpenBucket(ctx, url)
//	w, err := sink.NewWriter(bucket, dataset, &sink.WriterOptions{Aborter: drivers.AbortGCS})
//
// The library packages (sink and everything above it) import no driver and
// no cloud SDK: this package is where the AWS and Google Cloud SDKs enter a
// program. A program that needs only one driver may import that gocloud
// driver instead (gocloud.dev/blob/fileblob, say) and link nothing else.
package drivers

import (
	"cloud.google.com/go/storage"

	_ "gocloud.dev/blob/fileblob" // file://
	_ "gocloud.dev/blob/gcsblob"  // gs://
	_ "gocloud.dev/blob/memblob"  // mem://
	_ "gocloud.dev/blob/s3blob"   // s3://
)

// AbortGCS is a sink.WriterOptions.Aborter for gs:// buckets, harmless on
// the others (it returns nil when the driver is not GCS). The GCS client
// notices a cancelled ctx in a goroutine, so closing a writer right after
// cancelling its ctx can still commit what was written (seen with
// fake-gcs-server); the function AbortGCS returns aborts the upload at once
// with the storage writer's CloseWithError.
func AbortGCS(as func(any) bool) func(error) {
	var sw *storage.Writer
	if !as(&sw) {
		return nil
	}
	return func(err error) {
		_ = sw.CloseWithError(err) //nolint:staticcheck // SA1019: the only synchronous abort.
	}
}
