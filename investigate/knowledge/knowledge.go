// Package knowledge is the investigator's knowledge search: runbooks,
// on-call notes, known bugs by version and proven resolutions, kept as
// Markdown files (see investigate.Document for their format), searched by
// full text with BM25 ranking and, when an Embedder is given, by vector
// similarity too, the two rankings fused by reciprocal rank.
//
// The full-text index is SQLite's FTS5 (the pure-Go modernc.org/sqlite, in
// memory), with the Porter stemmer: no model and no service is needed. A
// vector ranking needs an Embedder, which users plug in (a local model, an
// embedding API); none ships here.
//
// Use:
//
//	ix, err := knowledge.Open(ctx, os.DirFS("runbooks"), nil)
//	...
//	defer ix.Close()
//	hits, err := ix.Search(ctx, "disk full compaction score rising", 3)
//
// An Index is built once from the files and does not watch them; build a
// new one to pick up changes. It is safe for concurrent use. Close releases
// the in-memory database. Errors are wrapped with the package name; a
// query with no searchable word returns no hits and no error.
package knowledge

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"strings"
	"unicode"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite", with FTS5

	"github.com/sqlshadow/sqlshadow/investigate"
)

// Embedder turns texts into vectors of one dimension; similar texts get
// vectors with a high cosine similarity.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// EmbedderFunc adapts a function to Embedder.
type EmbedderFunc func(ctx context.Context, texts []string) ([][]float32, error)

// Embed implements Embedder.
func (f EmbedderFunc) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	return f(ctx, texts)
}

// Options configures an Index.
type Options struct {
	// Embedder, if set, adds a vector ranking fused with the full-text one.
	Embedder Embedder
	// RRFK is the constant k of reciprocal rank fusion, score = sum over
	// rankings of 1/(k + rank). Default 60.
	RRFK float64
	// Candidates is how many results each ranking contributes before
	// fusion. Default 50.
	Candidates int
}

// Index is a searchable knowledge base.
type Index struct {
	db   *sql.DB
	docs []*investigate.Document
	vecs [][]float32
	opts Options
}

var _ investigate.Knowledge = (*Index)(nil)

// Open loads every *.md file under fsys and indexes it.
func Open(ctx context.Context, fsys fs.FS, opts *Options) (*Index, error) {
	docs, err := investigate.LoadDocuments(fsys)
	if err != nil {
		return nil, err
	}
	return New(ctx, docs, opts)
}

// New indexes docs.
func New(ctx context.Context, docs []*investigate.Document, opts *Options) (*Index, error) {
	ix := &Index{docs: docs}
	if opts != nil {
		ix.opts = *opts
	}
	if ix.opts.RRFK <= 0 {
		ix.opts.RRFK = 60
	}
	if ix.opts.Candidates <= 0 {
		ix.opts.Candidates = 50
	}
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		return nil, fmt.Errorf("knowledge: open index: %w", err)
	}
	db.SetMaxOpenConns(1) // one in-memory database lives in one connection
	ix.db = db
	if err := ix.build(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return ix, nil
}

func (ix *Index) build(ctx context.Context) error {
	if _, err := ix.db.ExecContext(ctx, `CREATE VIRTUAL TABLE docs USING fts5(title, tags, body, tokenize = 'porter unicode61')`); err != nil {
		return fmt.Errorf("knowledge: create index: %w", err)
	}
	tx, err := ix.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("knowledge: index: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it does nothing
	for i, d := range ix.docs {
		tags := strings.Join(append(append(slices.Clone(d.Tags), d.Versions...), d.Kind, d.Meta["category"]), " ")
		if _, err := tx.ExecContext(ctx, `INSERT INTO docs (rowid, title, tags, body) VALUES (?, ?, ?, ?)`, i+1, d.Title, tags, d.Body); err != nil {
			return fmt.Errorf("knowledge: index %s: %w", d.Path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("knowledge: index: %w", err)
	}
	if ix.opts.Embedder != nil && len(ix.docs) > 0 {
		texts := make([]string, len(ix.docs))
		for i, d := range ix.docs {
			texts[i] = d.Title + "\n" + d.Body
		}
		vecs, err := ix.opts.Embedder.Embed(ctx, texts)
		if err != nil {
			return fmt.Errorf("knowledge: embed documents: %w", err)
		}
		if len(vecs) != len(texts) {
			return fmt.Errorf("knowledge: embedder gave %d vectors for %d documents", len(vecs), len(texts))
		}
		ix.vecs = vecs
	}
	return nil
}

// Close releases the index.
func (ix *Index) Close() error { return ix.db.Close() }

// Documents returns the indexed documents, in path order.
func (ix *Index) Documents() []*investigate.Document { return slices.Clone(ix.docs) }

// Search implements investigate.Knowledge: the limit best documents for
// query, best first. Score is the fused reciprocal-rank score.
func (ix *Index) Search(ctx context.Context, query string, limit int) ([]investigate.Hit, error) {
	if limit <= 0 {
		limit = 5
	}
	fused := map[int]float64{}
	snippets := map[int]string{}
	if match := matchExpr(query); match != "" {
		rows, err := ix.db.QueryContext(ctx, `SELECT rowid, snippet(docs, 2, '', '', ' ... ', 24) FROM docs WHERE docs MATCH ?
			ORDER BY bm25(docs, 8.0, 4.0, 1.0) LIMIT ?`, match, ix.opts.Candidates)
		if err != nil {
			return nil, fmt.Errorf("knowledge: search: %w", err)
		}
		rank := 0
		for rows.Next() {
			var id int
			var snip string
			if err := rows.Scan(&id, &snip); err != nil {
				rows.Close()
				return nil, fmt.Errorf("knowledge: search: %w", err)
			}
			rank++
			fused[id-1] += 1 / (ix.opts.RRFK + float64(rank))
			snippets[id-1] = strings.Join(strings.Fields(snip), " ")
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("knowledge: search: %w", err)
		}
	}
	if ix.vecs != nil && strings.TrimSpace(query) != "" {
		qv, err := ix.opts.Embedder.Embed(ctx, []string{query})
		if err != nil {
			return nil, fmt.Errorf("knowledge: embed query: %w", err)
		}
		if len(qv) != 1 {
			return nil, fmt.Errorf("knowledge: embedder gave %d vectors for 1 query", len(qv))
		}
		order := make([]int, len(ix.vecs))
		sims := make([]float64, len(ix.vecs))
		for i, v := range ix.vecs {
			order[i], sims[i] = i, cosine(qv[0], v)
		}
		slices.SortStableFunc(order, func(a, b int) int { return -cmpFloat(sims[a], sims[b]) })
		for rank, i := range order[:min(len(order), ix.opts.Candidates)] {
			fused[i] += 1 / (ix.opts.RRFK + float64(rank+1))
		}
	}
	ids := make([]int, 0, len(fused))
	for i := range fused {
		ids = append(ids, i)
	}
	slices.SortFunc(ids, func(a, b int) int {
		if c := -cmpFloat(fused[a], fused[b]); c != 0 {
			return c
		}
		return strings.Compare(ix.docs[a].Path, ix.docs[b].Path)
	})
	var hits []investigate.Hit
	for _, i := range ids[:min(len(ids), limit)] {
		d := ix.docs[i]
		snip := snippets[i]
		if snip == "" {
			snip = firstWords(d.Body, 24)
		}
		hits = append(hits, investigate.Hit{Path: d.Path, Title: d.Title, Score: fused[i], Snippet: snip, Document: d})
	}
	return hits, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cosine(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(-1)
	}
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

func firstWords(s string, n int) string {
	f := strings.Fields(s)
	if len(f) > n {
		f = append(f[:n], "...")
	}
	return strings.Join(f, " ")
}

// stopWords are dropped from queries: they match everything.
var stopWords = map[string]bool{
	"a": true, "an": true, "and": true, "are": true, "as": true, "at": true, "be": true, "by": true, "for": true,
	"from": true, "has": true, "in": true, "is": true, "it": true, "of": true, "on": true, "or": true, "the": true,
	"to": true, "was": true, "were": true, "with": true, "not": true, "no": true, "this": true, "that": true,
}

// matchExpr turns free text into an FTS5 query: its words, quoted, joined
// by OR (BM25 then ranks documents matching more and rarer words higher).
func matchExpr(query string) string {
	seen := map[string]bool{}
	var terms []string
	for _, w := range strings.FieldsFunc(strings.ToLower(query), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len(w) < 2 || stopWords[w] || seen[w] {
			continue
		}
		seen[w] = true
		terms = append(terms, `"`+w+`"`)
	}
	return strings.Join(terms, " OR ")
}
