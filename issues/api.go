package issues

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// APIHandlerOptions configures NewAPIHandler. The zero value (or nil) gives
// the defaults documented on each field.
type APIHandlerOptions struct {
	// Token, if set, is the bearer token every request must carry
	// ("Authorization: Bearer <token>"); others get 401.
	Token string
}

// MessageLister is a Store that also lists the alert messages of an issue,
// as MemoryStore and SQLStore do. The API's alerts endpoint needs it.
type MessageLister interface {
	// Messages returns the stored messages of issue issueID, oldest
	// startsAt first.
	Messages(ctx context.Context, issueID string) ([]Message, error)
}

var (
	_ MessageLister = (*MemoryStore)(nil)
	_ MessageLister = (*SQLStore)(nil)
)

// NewAPIHandler returns the issue API of t:
//
//	GET  /api/issues?cluster=C&status=Ongoing&triage=New&id=I&limit=N
//	     -> {"issues": [Issue...]}, newest first
//	POST /api/issues/{id}/triage  {"triage_status": "...", "disposition_status": "..."}
//	     -> the Issue; 404 unknown id, 409 rejected transition, 400 bad body
//	GET  /api/issues/{id}/alerts  -> {"alerts": [Message...]}, oldest first, when
//	     the store is a MessageLister (MemoryStore and SQLStore are; else 404)
func NewAPIHandler(t *Tracker, opts *APIHandlerOptions) http.Handler {
	var o APIHandlerOptions
	if opts != nil {
		o = *opts
	}
	token := o.Token
	mux := http.NewServeMux()
	auth := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if !bearerOK(r, token) {
				apiError(t, w, http.StatusUnauthorized, "missing or wrong bearer token")
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("GET /api/issues", auth(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f := Filter{Cluster: q.Get("cluster"), Status: IssueStatus(q.Get("status")), Triage: TriageStatus(q.Get("triage"))}
		if id := q.Get("id"); id != "" {
			f.IDs = []string{id}
		}
		if l := q.Get("limit"); l != "" {
			n, err := strconv.Atoi(l)
			if err != nil || n < 0 {
				apiError(t, w, http.StatusBadRequest, "limit: want a non-negative integer")
				return
			}
			f.Limit = n
		}
		list, err := t.Issues(r.Context(), f)
		if err != nil {
			apiError(t, w, http.StatusServiceUnavailable, "store: "+err.Error())
			return
		}
		if list == nil {
			list = []Issue{}
		}
		t.m.requests.WithLabelValues("200").Inc()
		writeJSON(w, http.StatusOK, map[string]any{"issues": list})
	}))
	mux.HandleFunc("POST /api/issues/{id}/triage", auth(func(w http.ResponseWriter, r *http.Request) {
		var c TriageChange
		dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			apiError(t, w, http.StatusBadRequest, fmt.Sprintf("body: %v (want {\"triage_status\": ..., \"disposition_status\": ...})", err))
			return
		}
		is, err := t.Triage(r.Context(), r.PathValue("id"), c)
		switch {
		case errors.Is(err, ErrNotFound):
			apiError(t, w, http.StatusNotFound, err.Error())
		case errors.Is(err, ErrInvalidTransition):
			apiError(t, w, http.StatusConflict, err.Error())
		case err != nil:
			apiError(t, w, http.StatusServiceUnavailable, "store: "+err.Error())
		default:
			t.m.requests.WithLabelValues("200").Inc()
			writeJSON(w, http.StatusOK, is)
		}
	}))
	mux.HandleFunc("GET /api/issues/{id}/alerts", auth(func(w http.ResponseWriter, r *http.Request) {
		ms, ok := t.store.(MessageLister)
		if !ok {
			apiError(t, w, http.StatusNotFound, "this store does not list alerts")
			return
		}
		list, err := ms.Messages(r.Context(), r.PathValue("id"))
		if err != nil {
			apiError(t, w, http.StatusServiceUnavailable, "store: "+err.Error())
			return
		}
		if list == nil {
			list = []Message{}
		}
		t.m.requests.WithLabelValues("200").Inc()
		writeJSON(w, http.StatusOK, map[string]any{"alerts": list})
	}))
	return mux
}

func apiError(t *Tracker, w http.ResponseWriter, code int, msg string) {
	t.m.requests.WithLabelValues(strconv.Itoa(code)).Inc()
	writeJSON(w, code, map[string]string{"error": msg})
}
