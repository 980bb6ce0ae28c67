package main

// The bucket kinds -bucket-url accepts: file://, mem://, s3://, gs://.
import _ "github.com/sqlshadow/sqlshadow/sink/drivers"
