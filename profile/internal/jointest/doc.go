// Package jointest holds the test that a statement run through the shadow
// proxy (package mirror) joins its profile record on the design's key:
// (server_conn_id, query_hash, time). It is a package of its own so that the
// profile package's tests do not depend on the proxy.
package jointest
