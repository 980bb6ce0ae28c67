package profile

import (
	"errors"
	"fmt"
	"net/http"
)

var (
	// ErrUnauthorized reports that an FE refused the credentials (HTTP 401).
	ErrUnauthorized = errors.New("profile: FE refused the credentials")
	// ErrForbidden reports that the FE user lacks a privilege (HTTP 403).
	ErrForbidden = errors.New("profile: FE user lacks a privilege")
	// ErrBodyTooLarge reports a response larger than the configured limit.
	// The collector never truncates silently: raise the limit or poll more
	// often.
	ErrBodyTooLarge = errors.New("profile: response body over the limit")
	// ErrNotReady reports an FE whose /api/bootstrap says it is not ready.
	ErrNotReady = errors.New("profile: FE not ready")
	// ErrBadResponse reports a response that cannot be decoded.
	ErrBadResponse = errors.New("profile: malformed response")
	// ErrServerConfig reports a MySQL/MariaDB server without the
	// performance_schema options or consumers the source needs.
	ErrServerConfig = errors.New("profile: server not configured for performance_schema collection")
)

// HTTPError is an unexpected HTTP status from an FE. It matches
// ErrUnauthorized (401) and ErrForbidden (403) with errors.Is; Hint says what
// to change.
type HTTPError struct {
	// URL is the request URL (it never carries credentials).
	URL        string
	StatusCode int
	// Body is the start of the response body.
	Body string
	// Hint says what is probably wrong, for 401 and 403.
	Hint string
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("profile: GET %s: HTTP %d %s", e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Body != "" {
		s += ": " + e.Body
	}
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// Is matches ErrUnauthorized and ErrForbidden.
func (e *HTTPError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	}
	return false
}

const (
	hint401 = "check the FE user and password: StarRocks 3.3+ requires HTTP Basic auth on /api/query_detail and /api/profile; " +
		"with FE config enable_http_auth=true the user also needs GRANT OPERATE ON SYSTEM TO USER <user>"
	hint403 = "the FE user lacks SYSTEM OPERATE: GRANT OPERATE ON SYSTEM TO USER <user> " +
		"(needed with FE config enable_http_auth=true, and to read other users' profiles with authorization_enable_query_profile_access_check=true)"
)
