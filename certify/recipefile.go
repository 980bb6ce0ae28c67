package certify

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// RecipeError is a mistake in a recipe: where it is (file, line and field,
// when known) and what is wrong.
type RecipeError struct {
	File  string // the file name given to ParseRecipe
	Line  int    // 1-based; 0 when not known (a recipe built in Go)
	Field string // the field's path, such as "steps[2].chaos.target"
	Msg   string
}

// Error returns "certify: FILE:LINE: FIELD: message" (the parts known).
func (e *RecipeError) Error() string {
	var b strings.Builder
	b.WriteString("certify: ")
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Line)
	}
	if b.Len() > len("certify: ") {
		b.WriteString(" ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// LoadRecipe reads a recipe file (YAML, or JSON, which is YAML) with
// ParseRecipe.
func LoadRecipe(path string, params map[string]string) (*Recipe, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("certify: %w", err)
	}
	return ParseRecipe(data, path, params)
}

var paramRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// ParseRecipe parses a recipe from YAML or JSON. Every ${KEY} in the text is
// replaced by params[KEY] first (${KEY:-default} gives a default); a KEY
// that is not set and has no default is an error, as is a value holding a
// newline. Unknown fields, values of the wrong kind and steps that do not
// validate are errors too: each is a *RecipeError naming the line and the
// field. name is the file name used in errors.
func ParseRecipe(data []byte, name string, params map[string]string) (*Recipe, error) {
	lines := bytes.Split(data, []byte("\n"))
	for i, line := range lines {
		var perr error
		lines[i] = paramRE.ReplaceAllFunc(line, func(m []byte) []byte {
			sub := paramRE.FindSubmatch(m)
			key := string(sub[1])
			v, ok := params[key]
			if !ok {
				if len(sub[2]) == 0 {
					if perr == nil {
						perr = &RecipeError{File: name, Line: i + 1, Msg: fmt.Sprintf("${%s} is not set (set it with -set %s=VALUE)", key, key)}
					}
					return m
				}
				v = string(sub[3])
			}
			if strings.ContainsAny(v, "\r\n") && perr == nil {
				perr = &RecipeError{File: name, Line: i + 1, Msg: fmt.Sprintf("the value of ${%s} holds a newline", key)}
			}
			return []byte(v)
		})
		if perr != nil {
			return nil, perr
		}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(bytes.Join(lines, []byte("\n")), &doc); err != nil {
		return nil, &RecipeError{File: name, Msg: err.Error()}
	}
	r := &Recipe{}
	if len(doc.Content) == 0 {
		return nil, &RecipeError{File: name, Line: 1, Msg: "empty recipe"}
	}
	d := decoder{file: name, lines: map[string]int{}}
	if err := d.decode(doc.Content[0], reflect.ValueOf(r).Elem(), ""); err != nil {
		return nil, err
	}
	if err := r.validate(); err != nil {
		var re *RecipeError
		if errors.As(err, &re) {
			re.File = name
			re.Line = d.line(re.Field)
		}
		return nil, err
	}
	return r, nil
}

// decoder decodes a yaml.Node into Go values strictly, remembering the line
// of every field path.
type decoder struct {
	file  string
	lines map[string]int
}

// line returns the line of path, or of its closest parent.
func (d *decoder) line(path string) int {
	for path != "" {
		if l, ok := d.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) error {
	return &RecipeError{File: d.file, Line: n.Line, Field: path, Msg: fmt.Sprintf(format, args...)}
}

var durationType = reflect.TypeOf(time.Duration(0))

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) error {
	if path != "" {
		d.lines[path] = n.Line
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return d.decode(n, v.Elem(), path)
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return d.errorf(n, path, "want a mapping of fields, got %s", describe(n))
		}
		fields := map[string]int{}
		var known []string
		for i := 0; i < v.NumField(); i++ {
			tag := v.Type().Field(i).Tag.Get("yaml")
			if tag != "" && tag != "-" {
				fields[tag] = i
				known = append(known, tag)
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			fp := join(path, k.Value)
			fi, ok := fields[k.Value]
			if !ok {
				return &RecipeError{File: d.file, Line: k.Line, Field: fp, Msg: fmt.Sprintf("unknown field %q (known: %s)", k.Value, strings.Join(known, ", "))}
			}
			if err := d.decode(val, v.Field(fi), fp); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return d.errorf(n, path, "want a list, got %s", describe(n))
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			if err := d.decode(c, s.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return d.errorf(n, path, "want a mapping, got %s", describe(n))
		}
		m := reflect.MakeMap(v.Type())
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			ev := reflect.New(v.Type().Elem()).Elem()
			if err := d.decode(val, ev, join(path, k.Value)); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(k.Value), ev)
		}
		v.Set(m)
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return d.errorf(n, path, "want a single value, got %s", describe(n))
	}
	s := n.Value
	if v.Type() == durationType {
		dur, err := time.ParseDuration(s)
		if err != nil {
			return d.errorf(n, path, "%q is not a duration (such as 500ms, 30s, 2m)", s)
		}
		v.SetInt(int64(dur))
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return d.errorf(n, path, "%q is not true or false", s)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Int32:
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return d.errorf(n, path, "%q is not an integer", s)
		}
		v.SetInt(i)
	case reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return d.errorf(n, path, "%q is not a number", s)
		}
		v.SetFloat(f)
	default:
		return d.errorf(n, path, "cannot hold a %s", v.Kind())
	}
	return nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return fmt.Sprintf("%q", n.Value)
	}
}
