// Package drivers registers the gocloud.dev blob drivers that sqlshadow
// supports (file://, mem://, s3://, gs://) with gocloud's default URL mux, so
// that sink.OpenBucket can open their URLs.
//
// Import it for its side effect in binaries and tests:
//
//	import _ "github.com/sqlshadow/sqlshadow/sink/drivers"
//
// The sink package itself imports no driver, so a library user who needs only
// one (say fileblob) links only that one and not the AWS and GCS SDKs.
package drivers

import (
	_ "gocloud.dev/blob/fileblob" // file://
	_ "gocloud.dev/blob/gcsblob"  // gs://
	_ "gocloud.dev/blob/memblob"  // mem://
	_ "gocloud.dev/blob/s3blob"   // s3://
)
