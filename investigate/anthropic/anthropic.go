// Package anthropic is a model reasoner for package investigate on the
// Anthropic Messages API with tool use, through the official Go SDK
// (github.com/anthropics/anthropic-sdk-go/v2).
//
// The model gets the case (the task and every evidence item gathered, with
// their ids), the investigation's tools (Case.ToolSpecs; every call goes
// through Case.Call, so it is logged in the finding's tool-call log and its
// result is masked) and one more tool, submit_finding, whose input schema
// is the part of the Finding a reasoner writes. It must answer by calling
// submit_finding; each answer is checked with Finding.Validate, and an
// invalid one is sent back once per remaining turn with the reason, so the
// model can correct it. Everything sent is masked first (investigate's
// MaskText): the task's text, the evidence and the tool results.
//
// Use:
//
//	r, err := anthropic.New(&anthropic.Options{APIKey: os.Getenv("ANTHROPIC_API_KEY")})
//	inv := investigate.New(tools, &investigate.Options{Model: r})
//
// # Lifecycle
//
// A Reasoner holds an HTTP client and no goroutine; it is safe for
// concurrent use and has nothing to close. Each Reason is bounded by its
// context (the investigation's budget) and by Options.MaxTurns requests.
//
// # Errors
//
// Reason returns an error matching investigate.ErrBadModelAnswer (an
// *investigate.ModelError) when the model gives no valid finding: an
// answer in text instead of submit_finding, arguments that are not the
// schema's, a finding Finding.Validate rejects, or no finding within
// MaxTurns. API failures wrap the SDK's *Error and match ErrRateLimited
// (HTTP 429), ErrOverloaded (529), ErrAuth (401, 403) or ErrMaxTokens (an
// answer cut at max_tokens); 429, 529 and 5xx are retried first, MaxRetries
// times, after the retry-after the API asks for. In every case the
// investigator keeps the deterministic finding.
package anthropic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/sqlshadow/sqlshadow/dataset"
	"github.com/sqlshadow/sqlshadow/investigate"
)

// Name is the reasoner's name in Finding.Reasoner and in the tool-call
// log's By.
const Name = "anthropic"

// SubmitTool is the name of the tool the model answers with.
const SubmitTool = "submit_finding"

// DefaultModel is the model asked when Options.Model is empty.
const DefaultModel = string(sdk.ModelClaudeSonnet4_6)

// Errors of the API, matched with errors.Is; the SDK's *Error is wrapped
// too (errors.As).
var (
	ErrRateLimited = errors.New("anthropic: rate limited (HTTP 429)")
	ErrOverloaded  = errors.New("anthropic: overloaded (HTTP 529)")
	ErrAuth        = errors.New("anthropic: authentication failed")
	ErrMaxTokens   = errors.New("anthropic: the answer was cut at max_tokens")
)

// Options configures a Reasoner.
type Options struct {
	// APIKey is the API key (required).
	APIKey string
	// BaseURL is the API's base URL; empty means the SDK's default
	// (https://api.anthropic.com).
	BaseURL string
	// Model is the model asked. Default DefaultModel.
	Model string
	// MaxTokens caps each answer. Default 4096.
	MaxTokens int64
	// MaxTurns caps the requests of one investigation (tool calls and
	// corrections included). Default 8.
	MaxTurns int
	// MaxRetries is how often a request failing with 429, 529, another
	// 5xx or a connection error is retried. Default 2; negative means
	// never.
	MaxRetries int
	// HTTPClient sends the requests; nil means the SDK's default.
	HTTPClient *http.Client
}

// Reasoner is the model reasoner: it implements investigate.Reasoner.
type Reasoner struct {
	client sdk.Client
	opts   Options
}

// New returns a Reasoner. It fails only without an API key.
func New(opts *Options) (*Reasoner, error) {
	r := &Reasoner{}
	if opts != nil {
		r.opts = *opts
	}
	o := &r.opts
	if o.APIKey == "" {
		return nil, errors.New("anthropic: an API key is required")
	}
	if o.Model == "" {
		o.Model = DefaultModel
	}
	if o.MaxTokens <= 0 {
		o.MaxTokens = 4096
	}
	if o.MaxTurns <= 0 {
		o.MaxTurns = 8
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 2
	}
	ro := []option.RequestOption{option.WithAPIKey(o.APIKey), option.WithMaxRetries(max(o.MaxRetries, 0))}
	if o.BaseURL != "" {
		ro = append(ro, option.WithBaseURL(o.BaseURL))
	}
	if o.HTTPClient != nil {
		ro = append(ro, option.WithHTTPClient(o.HTTPClient))
	}
	r.client = sdk.NewClient(ro...)
	return r, nil
}

const system = `You investigate incidents of database clusters and regressions of a shadow database.
You get a task and the evidence already gathered, each item with an id (e1, e2, ...).
Call the tools for more evidence when it helps; each tool result carries the evidence id of what it returned.
Then call submit_finding exactly once with the finding. Rules:
- Rest the root cause on the evidence: cite evidence ids in the hypotheses' evidence_for and evidence_against, and only ids you were given.
- Unless the evidence establishes the cause, set confirmed to false and start root_cause with "Possible root cause: ".
- confidence is in [0, 1]; severity is info, warning or critical; recommendations are concrete steps, first things first.
- Prefer the categories disk_compaction, fe_heap_after_update, account_wide_failure, shadow_scan_growth, shadow_failure, result_mismatch, undetermined.`

// answerSchema is the JSON Schema of submit_finding's input: the fields of
// a Finding a reasoner writes.
const answerSchema = `{"type":"object","additionalProperties":false,
"required":["severity","confidence","category","title","root_cause","confirmed","explanation","hypotheses","recommendations"],
"properties":{
"severity":{"type":"string","enum":["info","warning","critical"]},
"confidence":{"type":"number","minimum":0,"maximum":1},
"category":{"type":"string","description":"the root cause's kind"},
"title":{"type":"string","description":"one line for people"},
"root_cause":{"type":"string","description":"starts with \"Possible root cause: \" unless confirmed"},
"confirmed":{"type":"boolean"},
"explanation":{"type":"string","description":"how the evidence leads to the root cause"},
"hypotheses":{"type":"array","items":{"type":"object","additionalProperties":false,"required":["category","statement","status"],"properties":{
 "category":{"type":"string"},"statement":{"type":"string"},"status":{"type":"string","enum":["pending","confirmed","refuted"]},
 "evidence_for":{"type":"array","items":{"type":"string"},"description":"evidence ids"},
 "evidence_against":{"type":"array","items":{"type":"string"},"description":"evidence ids"}}}},
"recommendations":{"type":"array","minItems":1,"items":{"type":"string"}},
"links":{"type":"array","items":{"type":"string"}}}}`

// answer is submit_finding's input.
type answer struct {
	Severity        dataset.Severity     `json:"severity"`
	Confidence      *float64             `json:"confidence"`
	Category        string               `json:"category"`
	Title           string               `json:"title"`
	RootCause       string               `json:"root_cause"`
	Confirmed       bool                 `json:"confirmed"`
	Explanation     string               `json:"explanation"`
	Hypotheses      []dataset.Hypothesis `json:"hypotheses"`
	Recommendations []string             `json:"recommendations"`
	Links           []string             `json:"links"`
}

// Reason implements investigate.Reasoner.
func (r *Reasoner) Reason(ctx context.Context, c *investigate.Case) (*dataset.Finding, error) {
	tools, err := r.tools(c)
	if err != nil {
		return nil, err
	}
	params := sdk.MessageNewParams{
		Model:      sdk.Model(r.opts.Model),
		MaxTokens:  r.opts.MaxTokens,
		System:     []sdk.TextBlockParam{{Text: system}},
		Tools:      tools,
		ToolChoice: sdk.ToolChoiceUnionParam{OfAny: &sdk.ToolChoiceAnyParam{}},
		Messages:   []sdk.MessageParam{sdk.NewUserMessage(sdk.NewTextBlock(caseText(c)))},
	}
	var rejected error
	for turn := 1; turn <= r.opts.MaxTurns; turn++ {
		msg, err := r.client.Messages.New(ctx, params)
		if err != nil {
			return nil, apiError(err)
		}
		if msg.StopReason == sdk.StopReasonMaxTokens {
			return nil, fmt.Errorf("%w (%d tokens, turn %d)", ErrMaxTokens, r.opts.MaxTokens, turn)
		}
		params.Messages = append(params.Messages, msg.ToParam())
		var results []sdk.ContentBlockParamUnion
		for _, b := range msg.Content {
			if b.Type != "tool_use" {
				continue
			}
			if b.Name == SubmitTool {
				f, err := finding(c, b.Input)
				if err == nil {
					return f, nil
				}
				rejected = err
				results = append(results, sdk.NewToolResultBlock(b.ID, "rejected: "+err.Error()+"; call submit_finding again with a corrected finding", true))
				continue
			}
			results = append(results, r.call(ctx, c, b.ID, b.Name, b.Input))
		}
		if len(results) == 0 {
			return nil, &investigate.ModelError{Err: fmt.Errorf("turn %d: the model answered without calling %s (stop reason %s)", turn, SubmitTool, msg.StopReason)}
		}
		params.Messages = append(params.Messages, sdk.NewUserMessage(results...))
	}
	if rejected != nil {
		return nil, &investigate.ModelError{Err: fmt.Errorf("after %d turns: %w", r.opts.MaxTurns, rejected)}
	}
	return nil, &investigate.ModelError{Err: fmt.Errorf("no finding after %d turns", r.opts.MaxTurns)}
}

// tools returns the case's tools and submit_finding as the API's tools.
func (r *Reasoner) tools(c *investigate.Case) ([]sdk.ToolUnionParam, error) {
	specs := append(c.ToolSpecs(), investigate.ToolSpec{Name: SubmitTool,
		Description: "Submit the finding of the investigation. Call it once, last.", InputSchema: json.RawMessage(answerSchema)})
	out := make([]sdk.ToolUnionParam, 0, len(specs))
	for _, s := range specs {
		var schema sdk.ToolInputSchemaParam
		if err := json.Unmarshal(s.InputSchema, &schema.ExtraFields); err != nil {
			return nil, fmt.Errorf("anthropic: tool %s: input schema: %w", s.Name, err)
		}
		delete(schema.ExtraFields, "type") // the SDK writes "type":"object"
		t := sdk.ToolParam{Name: s.Name, Description: sdk.String(s.Description), InputSchema: schema}
		out = append(out, sdk.ToolUnionParam{OfTool: &t})
	}
	return out, nil
}

// call runs one tool for the model and returns its tool_result block: the
// masked result with the id of the evidence item it became, or the error.
func (r *Reasoner) call(ctx context.Context, c *investigate.Case, id, name string, input json.RawMessage) sdk.ContentBlockParamUnion {
	out, err := c.Call(ctx, Name, name, input)
	if err != nil {
		return sdk.NewToolResultBlock(id, investigate.MaskText(err.Error()), true)
	}
	excerpt := flatten(out)
	if len(excerpt) > 600 {
		excerpt = excerpt[:600] + "..."
	}
	eid := c.AddEvidence(dataset.Evidence{Tool: name, Query: investigate.MaskText(flatten(input)), Excerpt: excerpt,
		Verify: "call the " + name + " tool with the same input"})
	b, err := json.Marshal(map[string]any{"evidence_id": eid, "result": out})
	if err != nil {
		return sdk.NewToolResultBlock(id, "encoding the result: "+err.Error(), true)
	}
	return sdk.NewToolResultBlock(id, string(b), false)
}

// flatten writes a JSON result as text without JSON's quotes, so that the
// masking of quoted literals an evidence excerpt gets leaves it readable:
// {key: value, ...} and [a, b].
func flatten(raw json.RawMessage) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	var b strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			b.WriteByte('{')
			for i, k := range slices.Sorted(maps.Keys(x)) {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(k + ": ")
				walk(x[k])
			}
			b.WriteByte('}')
		case []any:
			b.WriteByte('[')
			for i, e := range x {
				if i > 0 {
					b.WriteString(", ")
				}
				walk(e)
			}
			b.WriteByte(']')
		case nil:
			b.WriteString("null")
		case float64:
			b.WriteString(strconv.FormatFloat(x, 'g', 6, 64))
		default:
			fmt.Fprint(&b, x)
		}
	}
	walk(v)
	return b.String()
}

// finding decodes and checks submit_finding's input.
func finding(c *investigate.Case, input json.RawMessage) (*dataset.Finding, error) {
	dec := json.NewDecoder(bytes.NewReader(input))
	dec.DisallowUnknownFields()
	var a answer
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("%s arguments: %w", SubmitTool, err)
	}
	if a.Confidence == nil {
		return nil, &dataset.SchemaError{Field: "confidence", Reason: "missing"}
	}
	f := &dataset.Finding{Subject: c.Subject, Severity: a.Severity, Confidence: *a.Confidence, Category: a.Category,
		Title: a.Title, RootCause: a.RootCause, Confirmed: a.Confirmed, Explanation: a.Explanation,
		Hypotheses: a.Hypotheses, Recommendations: a.Recommendations, Links: a.Links, Reasoner: Name}
	// The finding carries the evidence its hypotheses cite, in gathering
	// order; Validate rejects an id that is not there.
	cited := map[string]bool{}
	for _, h := range f.Hypotheses {
		for _, id := range append(append([]string(nil), h.For...), h.Against...) {
			cited[id] = true
		}
	}
	for _, e := range c.Evidence() {
		if cited[e.ID] {
			f.Evidence = append(f.Evidence, e)
		}
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if !f.Confirmed && !strings.HasPrefix(f.RootCause, "Possible root cause: ") {
		f.RootCause = "Possible root cause: " + f.RootCause
	}
	return f, nil
}

// apiError classifies an API failure.
func apiError(err error) error {
	var ae *sdk.Error
	if !errors.As(err, &ae) {
		return fmt.Errorf("anthropic: %w", err)
	}
	switch {
	case ae.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("%w: %w", ErrRateLimited, err)
	case ae.StatusCode == 529:
		return fmt.Errorf("%w: %w", ErrOverloaded, err)
	case ae.StatusCode == http.StatusUnauthorized || ae.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%w: %w", ErrAuth, err)
	}
	return fmt.Errorf("anthropic: %w", err)
}

// caseText is the first message: the task and the evidence, masked.
func caseText(c *investigate.Case) string {
	var b strings.Builder
	const ts = "2006-01-02T15:04:05Z07:00"
	if t := c.Task.Sentinel; t != nil {
		fmt.Fprintf(&b, "Task: sentinel trigger %s for cluster %s at %s (priority %d): %s\n",
			t.Trigger, t.Cluster, c.TaskTime.UTC().Format(ts), t.Priority, t.Reason)
	}
	if t := c.Task.Shadow; t != nil {
		fmt.Fprintf(&b, "Task: shadow report finding %s of %s at %s: %s. %s\n",
			t.Finding.Kind, t.Finding.Group, c.TaskTime.UTC().Format(ts), t.Finding.Title, t.Finding.Evidence)
	}
	fmt.Fprintf(&b, "Subject: %s\nWindow: %s to %s\n", c.Subject, c.From.UTC().Format(ts), c.To.UTC().Format(ts))
	if cl := c.Cluster; cl != nil {
		fmt.Fprintf(&b, "Cluster: %s, tier %s, account %s, version %s\n", cl.Name, cl.Tier, cl.Account, cl.Version)
	}
	b.WriteString("\nEvidence gathered:\n")
	for _, e := range c.Evidence() {
		fmt.Fprintf(&b, "- %s [%s]", e.ID, e.Tool)
		if e.Query != "" {
			fmt.Fprintf(&b, " query %s:", e.Query)
		}
		fmt.Fprintf(&b, " %s\n", e.Excerpt)
	}
	if notes := c.Notes(); len(notes) > 0 {
		b.WriteString("\nNotes:\n")
		for _, n := range notes {
			b.WriteString("- " + n + "\n")
		}
	}
	return investigate.MaskText(b.String())
}
