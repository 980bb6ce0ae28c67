// Package sink writes records as durable, Hive-partitioned JSON Lines to any
// gocloud.dev/blob bucket (local disk, S3, GCS, memory), and reads them back
// over a time range.
package sink
