package issues

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Status is the state of one alert as its source reports it.
type Status string

// Alert statuses, as Alertmanager spells them.
const (
	StatusFiring   Status = "firing"
	StatusResolved Status = "resolved"
)

// Alert is one alert occurrence as a source delivers it: an Alertmanager
// webhook alert, or anything a user passes to Tracker.Ingest.
type Alert struct {
	// Source prefixes the message id ("wh" for Alertmanager webhooks). It
	// must be non-empty and made of [a-z0-9] so that ids of different
	// sources never collide.
	Source string `json:"source"`
	// ID, if set, is the occurrence's id of the source's own (a Lark
	// message id and the alert's place in it, "om_...#2"), used instead of
	// the IDScheme's hash: the firing's message id is ID as-is, the
	// resolution's ID + "/resolved" (see ResolvedSuffix), so a resolution
	// finds its firing as a webhook resolution does, and a re-delivery is
	// a no-op. At most 80 bytes, no spaces or control characters, and not
	// of the form of a hashed id ([a-z0-9]+ "_" 64 hex digits), so the two
	// kinds never collide; the source keeps its ids distinct from other
	// sources' (Lark's start with "om_").
	ID string `json:"id,omitempty"`
	// Status is firing or resolved.
	Status Status `json:"status"`
	// Labels identify the alert; "alertname" names its rule and a cluster
	// label (see TrackerOptions.ClusterLabels) its cluster.
	Labels map[string]string `json:"labels"`
	// Annotations are informative (summary, description, ...).
	Annotations map[string]string `json:"annotations,omitempty"`
	// StartsAt is when the occurrence started firing. A firing and its
	// resolution share it; a new occurrence of the same alert has a new one.
	StartsAt time.Time `json:"startsAt"`
	// EndsAt is when it ended (resolved alerts), or zero.
	EndsAt time.Time `json:"endsAt,omitzero"`
	// Fingerprint is Alertmanager's hash of the label set, if any.
	Fingerprint string `json:"fingerprint,omitempty"`
	// GeneratorURL links back to the rule, if any.
	GeneratorURL string `json:"generatorURL,omitempty"`
}

// Name is the alert's "alertname" label.
func (a *Alert) Name() string { return a.Labels["alertname"] }

// ErrInvalidAlert is wrapped by the errors of alerts that cannot be ingested.
var ErrInvalidAlert = errors.New("issues: invalid alert")

// AlertError reports why alert Index of a batch cannot be ingested. It wraps
// ErrInvalidAlert.
type AlertError struct {
	Index  int
	Reason string
}

func (e *AlertError) Error() string {
	return fmt.Sprintf("issues: alert %d: %s", e.Index, e.Reason)
}

// Unwrap returns ErrInvalidAlert.
func (e *AlertError) Unwrap() error { return ErrInvalidAlert }

// maxName is the longest alert name, cluster or group name (bytes) that the
// stores keep.
const maxName = 255

func (a *Alert) validate(i int) error {
	bad := func(format string, args ...any) error {
		return &AlertError{Index: i, Reason: fmt.Sprintf(format, args...)}
	}
	if a.Source == "" || strings.IndexFunc(a.Source, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < '0' || r > '9')
	}) >= 0 || len(a.Source) > 16 {
		return bad("source %q: want 1-16 characters of [a-z0-9]", a.Source)
	}
	if a.Status != StatusFiring && a.Status != StatusResolved {
		return bad("status %q: want firing or resolved", a.Status)
	}
	if len(a.Labels) == 0 {
		return bad("no labels")
	}
	if a.StartsAt.IsZero() {
		return bad("startsAt is missing")
	}
	if len(a.Name()) > maxName || len(a.Fingerprint) > 64 {
		return bad("alertname over %d bytes or fingerprint over 64", maxName)
	}
	if a.ID != "" && (len(a.ID) > maxID || strings.IndexFunc(a.ID, func(r rune) bool {
		return r <= ' ' || r == 0x7f || r == utf8.RuneError
	}) >= 0 || hashedID.MatchString(a.ID)) {
		return bad("id %q: want 1-%d bytes without spaces, not of the form of a hashed id", a.ID, maxID)
	}
	return nil
}

// maxID is the longest Alert.ID: with ResolvedSuffix it fits the stores'
// 96-byte message ids.
const maxID = 80

// hashedID matches the message ids an IDScheme makes.
var hashedID = regexp.MustCompile(`^[a-z0-9]+_[0-9a-f]{64}$`)

// ResolvedSuffix ends the message id of the resolution of an alert with an
// explicit Alert.ID.
const ResolvedSuffix = "/resolved"

// IDScheme chooses which fields make an alert's message id, unless the
// alert has its own Alert.ID. The id of a
// message is its Source, "_", and the hex SHA-256 of the chosen fields, each
// length-prefixed (8-byte big-endian length, then the bytes), so that no two
// different field lists hash the same bytes.
type IDScheme int

const (
	// IDFingerprint hashes the alert's identity (its Fingerprint when it has
	// one, else its label set sorted by name), its status and its startsAt
	// (RFC 3339 with nanoseconds, UTC). Re-delivering an alert is a no-op;
	// two instances of one rule on one cluster (different labels) stay two
	// alerts; a firing and its resolution are two messages. The default.
	IDFingerprint IDScheme = iota
	// IDLabels is IDFingerprint that always hashes the sorted label set,
	// ignoring Fingerprint: ids then agree between senders that do and do
	// not send fingerprints.
	IDLabels
	// IDLegacy is the formula of the tables this package replaces: the
	// SHA-256 of alertname, cluster, status and startsAt (RFC 3339 with
	// nanoseconds, UTC) concatenated without separators. Two instances of
	// one rule on one cluster with the same startsAt share an id with it.
	// Use it only to keep existing tables.
	IDLegacy
)

// messageID returns the id of alert a as status st (the twin of a firing is
// its resolution, and the other way round).
func (s IDScheme) messageID(a *Alert, cluster string, st Status) string {
	if a.ID != "" {
		if st == StatusResolved {
			return a.ID + ResolvedSuffix
		}
		return a.ID
	}
	h := sha256.New()
	starts := a.StartsAt.UTC().Format(time.RFC3339Nano)
	switch s {
	case IDLegacy:
		h.Write([]byte(a.Name() + cluster + string(st) + starts))
	default:
		if s == IDFingerprint && a.Fingerprint != "" {
			writeField(h, "fp:"+a.Fingerprint)
		} else {
			writeField(h, string(labelSetBytes(a.Labels)))
		}
		writeField(h, string(st))
		writeField(h, starts)
	}
	var sum [sha256.Size]byte
	return a.Source + "_" + hex.EncodeToString(h.Sum(sum[:0]))
}

func writeField(h hash.Hash, s string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}

// labelSetBytes encodes labels sorted by name, each name and value
// length-prefixed.
func labelSetBytes(labels map[string]string) []byte {
	names := make([]string, 0, len(labels))
	for k := range labels {
		names = append(names, k)
	}
	slices.Sort(names)
	var b []byte
	var n [8]byte
	for _, k := range names {
		for _, s := range []string{k, labels[k]} {
			binary.BigEndian.PutUint64(n[:], uint64(len(s)))
			b = append(b, n[:]...)
			b = append(b, s...)
		}
	}
	return b
}

func other(st Status) Status {
	if st == StatusFiring {
		return StatusResolved
	}
	return StatusFiring
}

// Message is one stored alert message: an alert occurrence in one status,
// stored once whatever the number of deliveries.
type Message struct {
	// ID is the message id (see IDScheme and Alert.ID).
	ID string `json:"id"`
	// Cluster is the alert's cluster.
	Cluster string `json:"cluster"`
	// IssueID is the issue the alert joined.
	IssueID string `json:"issue_id"`
	// Alert is the alert as first delivered.
	Alert Alert `json:"alert"`
	// Received is when the tracker first accepted it.
	Received time.Time `json:"received"`
}
