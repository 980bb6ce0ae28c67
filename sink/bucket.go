package sink

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strconv"

	"gocloud.dev/blob"
)

// ProbeError is returned by OpenBucket when a file:// bucket cannot hold
// objects: writing a file and renaming it into the bucket directory failed.
type ProbeError struct {
	// URL is the bucket URL as OpenBucket used it.
	URL string
	// TempDir is where the driver creates temporary files ("" when the URL
	// asks for them next to the objects with no_tmp_dir).
	TempDir string
	// Err is the driver's error.
	Err error
}

func (e *ProbeError) Error() string {
	if e.TempDir == "" {
		return fmt.Sprintf("sink: bucket %s: cannot write an object there: %v (check that the directory exists and is writable)", e.URL, e.Err)
	}
	return fmt.Sprintf("sink: bucket %s: cannot write an object there: %v; "+
		"objects are written in the temporary directory %s (TMPDIR), then renamed into the bucket directory, "+
		"so both must be on the same filesystem and writable: set TMPDIR to a directory on the bucket's filesystem, "+
		"or add no_tmp_dir=1 to the URL (temporary *.tmp files then appear next to the objects while they are written)",
		e.URL, e.Err, e.TempDir)
}

func (e *ProbeError) Unwrap() error { return e.Err }

// OpenBucket opens a gocloud.dev blob URL with the project's rules. The
// driver of the URL's scheme must be registered: binaries and tests import
// github.com/sqlshadow/sqlshadow/sink/drivers for its side effect (all the
// kinds below), or only the gocloud driver they need:
//
//	file:///var/lib/sqlshadow          local or mounted disk
//	s3://bucket?region=eu-west-1       S3 and S3-compatible stores (endpoint=, use_path_style=true)
//	gs://bucket                        Google Cloud Storage (writers need WriterOptions.Aborter: drivers.AbortGCS)
//	mem://                             memory, for tests (each call opens a new, empty bucket)
//
// Every kind takes gocloud's prefix= parameter to put the datasets under a
// folder. For file:// OpenBucket adds metadata=skip (so partitions hold no
// ".attrs" side files) and create_dir=1 unless the URL sets them, then
// checks that it can write an object there: fileblob writes a temporary file
// (in TMPDIR by default) and renames it into place, which fails across
// filesystems. That failure is a *ProbeError that says how to fix it.
// Other kinds are opened without a probe, so read-only credentials work.
func OpenBucket(ctx context.Context, rawURL string) (*blob.Bucket, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("sink: bucket URL: %w", err)
	}
	isFile := u.Scheme == "file"
	if isFile {
		q := u.Query()
		if v := q.Get("metadata"); v != "" && v != "skip" {
			return nil, fmt.Errorf("sink: bucket %s: metadata=%s would write side files into partitions: use metadata=skip or leave it out", rawURL, v)
		}
		q.Set("metadata", "skip")
		if !q.Has("create_dir") {
			q.Set("create_dir", "1")
		}
		u.RawQuery = q.Encode()
	}
	b, err := blob.OpenBucket(ctx, u.String())
	if err != nil {
		return nil, fmt.Errorf("sink: open bucket %s: %w", rawURL, err)
	}
	if isFile {
		if err := probe(ctx, b); err != nil {
			_ = b.Close()
			tmp := os.TempDir()
			if u.Query().Get("no_tmp_dir") != "" {
				tmp = ""
			}
			return nil, &ProbeError{URL: u.String(), TempDir: tmp, Err: err}
		}
	}
	return b, nil
}

// probe writes, reads back and deletes a small object at the bucket's root.
func probe(ctx context.Context, b *blob.Bucket) error {
	key := "_sqlshadow_probe_" + strconv.FormatUint(rand.Uint64(), 16)
	want := []byte("probe\n")
	if err := b.WriteAll(ctx, key, want, &blob.WriterOptions{ContentType: "text/plain"}); err != nil {
		return err
	}
	got, err := b.ReadAll(ctx, key)
	if err == nil && string(got) != string(want) {
		err = errors.New("probe object read back differs")
	}
	if derr := b.Delete(ctx, key); err == nil {
		err = derr
	}
	return err
}
