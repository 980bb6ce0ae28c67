package investigate

import (
	"bufio"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// Document is one Markdown file of the knowledge base: a runbook, an
// on-call note, a known bug or a proven resolution.
//
// A document may start with front matter between two "---" lines, of
// "key: value" lines; the keys read are kind (runbook, note, bug,
// resolution), versions (comma-separated engine versions a bug affects) and
// tags (comma-separated). The title is the first "# " heading (else the
// file name). Sections are split at "## " headings.
type Document struct {
	// Path is the file's path in the knowledge directory (slash-separated).
	Path     string            `json:"path"`
	Title    string            `json:"title"`
	Kind     string            `json:"kind,omitempty"`
	Versions []string          `json:"versions,omitempty"`
	Tags     []string          `json:"tags,omitempty"`
	Meta     map[string]string `json:"meta,omitempty"`
	// Body is the Markdown without the front matter.
	Body     string    `json:"body"`
	Sections []Section `json:"sections,omitempty"`
}

// Section is one "## " section of a Document.
type Section struct {
	Heading string `json:"heading"`
	Text    string `json:"text"`
}

// ParseDocument parses the Markdown text of the file at p.
func ParseDocument(p, text string) *Document {
	d := &Document{Path: p, Meta: map[string]string{}}
	text = strings.ReplaceAll(text, "\r\n", "\n")
	if rest, ok := strings.CutPrefix(text, "---\n"); ok {
		if fm, body, ok := strings.Cut(rest, "\n---\n"); ok {
			for line := range strings.SplitSeq(fm, "\n") {
				k, v, ok := strings.Cut(line, ":")
				if ok {
					d.Meta[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
				}
			}
			text = body
		}
	}
	d.Body = strings.TrimSpace(text)
	d.Kind = d.Meta["kind"]
	d.Versions = splitList(d.Meta["versions"])
	d.Tags = splitList(d.Meta["tags"])
	var cur *Section
	var intro strings.Builder
	sc := bufio.NewScanner(strings.NewReader(d.Body))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# ") && d.Title == "":
			d.Title = strings.TrimSpace(line[2:])
		case strings.HasPrefix(line, "## "):
			d.Sections = append(d.Sections, Section{Heading: strings.TrimSpace(line[3:])})
			cur = &d.Sections[len(d.Sections)-1]
		case cur != nil:
			cur.Text += line + "\n"
		default:
			intro.WriteString(line + "\n")
		}
	}
	for i := range d.Sections {
		d.Sections[i].Text = strings.TrimSpace(d.Sections[i].Text)
	}
	if d.Title == "" {
		d.Title = strings.TrimSuffix(path.Base(p), path.Ext(p))
	}
	return d
}

func splitList(s string) []string {
	var out []string
	for f := range strings.SplitSeq(strings.Trim(s, "[]"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Section returns the text of the first section whose heading starts with
// one of names (case-insensitive), or "".
func (d *Document) Section(names ...string) string {
	for _, s := range d.Sections {
		h := strings.ToLower(s.Heading)
		for _, n := range names {
			if strings.HasPrefix(h, strings.ToLower(n)) {
				return s.Text
			}
		}
	}
	return ""
}

// Recommendations returns the list items of the document's
// "Recommendations", "Resolution", "Mitigation" or "Fix" section, in order.
func (d *Document) Recommendations() []string {
	var out []string
	for line := range strings.SplitSeq(d.Section("Recommendation", "Resolution", "Mitigation", "Fix"), "\n") {
		line = strings.TrimSpace(line)
		item := strings.TrimLeft(line, "-*+ ")
		if item != line || numbered(line) {
			if numbered(line) {
				_, item, _ = strings.Cut(line, " ")
			}
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

func numbered(line string) bool {
	i := 0
	for i < len(line) && line[i] >= '0' && line[i] <= '9' {
		i++
	}
	return i > 0 && i < len(line) && (line[i] == '.' || line[i] == ')')
}

// LoadDocuments parses every *.md file under fsys, in path order.
func LoadDocuments(fsys fs.FS) ([]*Document, error) {
	var docs []*Document
	err := fs.WalkDir(fsys, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() || !strings.EqualFold(path.Ext(p), ".md") {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		docs = append(docs, ParseDocument(p, string(b)))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("investigate: load knowledge: %w", err)
	}
	slices.SortFunc(docs, func(a, b *Document) int { return strings.Compare(a.Path, b.Path) })
	return docs, nil
}
