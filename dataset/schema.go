package dataset

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/sqlshadow/sqlshadow/sink"
)

// Record returns a zero record of the named dataset (a pointer to a
// QueryLog, Profile, HealthScore, SentinelTask, Issue or Finding), or false when the
// name is not one of Names.
func Record(name string) (any, bool) {
	switch name {
	case QueryLogs:
		return &QueryLog{}, true
	case Profiles:
		return &Profile{}, true
	case HealthScores:
		return &HealthScore{}, true
	case SentinelTasks:
		return &SentinelTask{}, true
	case Issues:
		return &Issue{}, true
	case Findings:
		return &Finding{}, true
	}
	return nil, false
}

// SchemaID is the $id prefix of the datasets' JSON Schemas.
const SchemaID = "https://github.com/sqlshadow/sqlshadow/docs/schema/"

// Schema returns the JSON Schema (draft 2020-12) of one record of the named
// dataset, generated from its Go type: one property per JSON field; fields
// that are never omitted are required; unsigned integers have a minimum of
// 0; timestamps are strings of format date-time (written in
// sink.TimeFormat). docs/schema holds the same schemas as files.
func Schema(name string) ([]byte, error) {
	rec, ok := Record(name)
	if !ok {
		return nil, fmt.Errorf("dataset: no dataset %q", name)
	}
	s := schemaOf(reflect.TypeOf(rec).Elem())
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	s["$id"] = SchemaID + name + ".schema.json"
	s["title"] = name
	return json.MarshalIndent(s, "", "  ")
}

var (
	timeType = reflect.TypeFor[sink.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

func schemaOf(t reflect.Type) map[string]any {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		return map[string]any{"type": "string", "format": "date-time"}
	}
	if t == rawType {
		return map[string]any{} // any JSON value
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem())}
	case reflect.Struct:
		props := map[string]any{}
		var required []string
		for _, f := range Fields(t) {
			props[f.Name] = schemaOf(f.Type)
			if !f.Optional {
				required = append(required, f.Name)
			}
		}
		s := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			s["required"] = required
		}
		return s
	}
	panic(fmt.Sprintf("dataset: no JSON Schema for %s", t))
}

// A Field is one JSON field of a record type.
type Field struct {
	// Name is the JSON name.
	Name string
	// Type is the Go type.
	Type reflect.Type
	// Optional is true when the field is omitted if empty (omitempty).
	Optional bool
}

// Fields returns the JSON fields of a record struct type, in order.
func Fields(t reflect.Type) []Field {
	var out []Field
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, ok := sf.Tag.Lookup("json")
		if !ok || tag == "-" || !sf.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		out = append(out, Field{Name: name, Type: sf.Type, Optional: strings.Contains(opts, "omitempty")})
	}
	return out
}
