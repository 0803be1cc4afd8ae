package template

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"strings"
	ttemplate "text/template"

	"github.com/hookpoint/hookpoint/internal/event"
	"github.com/hookpoint/hookpoint/internal/jsonwrite"
	"github.com/hookpoint/hookpoint/internal/safefile"
)

// MaxSecretFile bounds what the file function reads.
const MaxSecretFile = 64 << 10

func defaultLookupEnv(name string) (string, bool) { return os.LookupEnv(name) }

// defaultReadFile reads a secret file: a regular file only (a FIFO is not waited on, a
// device not read), of at most MaxSecretFile bytes.
func defaultReadFile(path string) ([]byte, error) { return safefile.ReadFile(path, MaxSecretFile) }

// stubFuncs makes every name known at parse time; the functions are bound to one
// execution at a time by boundFuncs.
func stubFuncs() ttemplate.FuncMap { return boundFuncs(&binding{}) }

// boundFuncs are the template functions of one execution. Every function that can
// return text made from its arguments reports that text to derive, so that whatever is
// computed from a secret — through any function, a variable, or several steps — is a
// secret too. The text/template builtins that do the same (print, printf, println,
// html, js, slice, index) are replaced for that reason.
func boundFuncs(b *binding) ttemplate.FuncMap {
	str := func(f func(string) string) func(any) string {
		return func(v any) string { return b.derive(f(event.Stringify(v)), v) }
	}
	return ttemplate.FuncMap{
		escapeFunc: b.escape,
		// env reads a secret from the environment; an unset variable is an error.
		"env": func(name string) (string, error) {
			if b.scope.noEnvFile {
				return "", errors.New("env: hooks managed through the API cannot read the server's environment; use secret")
			}
			v, ok := b.scope.lookupEnv(name)
			if !ok {
				return "", fmt.Errorf("env %q: the variable is not set", name)
			}
			b.scope.AddSecret(v)
			return v, nil
		},
		// file reads a secret from a file, without its trailing line break.
		"file": func(path string) (string, error) {
			if b.scope.noEnvFile {
				return "", errors.New("file: hooks managed through the API cannot read the server's files; use secret")
			}
			raw, err := b.scope.readFile(path)
			if err != nil {
				return "", fmt.Errorf("file %q: %v", path, safefile.Reason(err))
			}
			v := strings.TrimRight(string(raw), "\r\n")
			b.scope.AddSecret(v)
			return v, nil
		},
		// secret reads a secret of the hook set through the server's API (stored
		// encrypted); config-file hooks use env and file instead.
		"secret": func(name string) (string, error) {
			if b.scope.lookupSecret == nil {
				return "", fmt.Errorf("secret %q: only hooks managed through the server's API have stored secrets; use env or file in a config file", name)
			}
			v, ok := b.scope.lookupSecret(name)
			if !ok {
				return "", fmt.Errorf("secret %q: the hook has no secret of that name", name)
			}
			b.scope.AddSecret(v)
			return v, nil
		},
		"json": func(v any) (JSONText, error) {
			out, err := jsonwrite.Marshal(v)
			return JSONText(b.derive(string(out), v)), err
		},
		"xml":      func(v any) XMLText { return XMLText(b.derive(xmlEscape(event.Stringify(v)), v)) },
		"urlquery": func(v any) URLText { return URLText(b.derive(url.QueryEscape(event.Stringify(v)), v)) },
		// default returns v unless it is missing or empty, in which case it returns def.
		"default": func(def, v any) any {
			if v == nil {
				return def
			}
			if s, ok := v.(string); ok && s == "" {
				return def
			}
			return v
		},
		"lower": str(strings.ToLower),
		"upper": str(strings.ToUpper),
		"trim":  str(strings.TrimSpace),
		"replace": func(old, new string, v any) string {
			return b.derive(strings.ReplaceAll(event.Stringify(v), old, new), old, new, v)
		},
		"b64enc": str(func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }),
		"b64dec": func(v any) (string, error) {
			out, err := base64.StdEncoding.DecodeString(event.Stringify(v))
			return b.derive(string(out), v), err
		},
		"print":   func(args ...any) string { return b.derive(fmt.Sprint(args...), args...) },
		"printf":  func(f string, args ...any) string { return b.derive(fmt.Sprintf(f, args...), append(args, f)...) },
		"println": func(args ...any) string { return b.derive(fmt.Sprintln(args...), args...) },
		"html":    func(args ...any) string { return b.derive(ttemplate.HTMLEscaper(args...), args...) },
		"js":      func(args ...any) string { return b.derive(ttemplate.JSEscaper(args...), args...) },
		"slice":   b.slice,
		"index":   b.index,
	}
}

// derive returns out, first making it a secret when any of args is one.
func (b *binding) derive(out string, args ...any) string {
	s := b.scope
	if s == nil || len(s.secrets) == 0 || out == "" {
		return out
	}
	for _, a := range args {
		if s.isSecret(a) {
			s.AddSecret(out)
			break
		}
	}
	return out
}

// slice is text/template's slice builtin, with results cut from a secret kept secret.
func (b *binding) slice(item any, indexes ...int) (any, error) {
	v := reflect.ValueOf(item)
	if !v.IsValid() {
		return nil, errors.New("slice of a missing value")
	}
	if len(indexes) > 3 {
		return nil, fmt.Errorf("slice takes at most 3 indexes, got %d", len(indexes))
	}
	bound := 0
	switch v.Kind() {
	case reflect.String:
		if len(indexes) == 3 {
			return nil, errors.New("a string cannot be sliced with 3 indexes")
		}
		bound = v.Len()
	case reflect.Slice, reflect.Array:
		bound = v.Cap()
	default:
		return nil, fmt.Errorf("cannot slice a value of type %s", typeName(v))
	}
	lo, hi := 0, v.Len()
	if len(indexes) > 0 {
		lo = indexes[0]
	}
	if len(indexes) > 1 {
		hi = indexes[1]
	}
	if lo < 0 || hi < lo || hi > bound {
		return nil, fmt.Errorf("slice indexes %d and %d are out of range", lo, hi)
	}
	if v.Kind() == reflect.String {
		return b.derive(v.String()[lo:hi], item), nil
	}
	if v.Kind() == reflect.Array && !v.CanAddr() {
		c := reflect.New(v.Type()).Elem()
		c.Set(v)
		v = c
	}
	if len(indexes) == 3 {
		if indexes[2] < hi || indexes[2] > bound {
			return nil, fmt.Errorf("slice capacity %d is out of range", indexes[2])
		}
		return v.Slice3(lo, hi, indexes[2]).Interface(), nil
	}
	return v.Slice(lo, hi).Interface(), nil
}

// index is text/template's index builtin for maps, slices and arrays. A byte of a
// secret is not a value a template can use: it is refused.
func (b *binding) index(item any, keys ...any) (any, error) {
	v := reflect.ValueOf(item)
	for _, k := range keys {
		for v.IsValid() && v.Kind() == reflect.Interface {
			v = v.Elem()
		}
		if !v.IsValid() {
			return nil, errors.New("index of a missing value")
		}
		switch v.Kind() {
		case reflect.Map:
			kv := reflect.ValueOf(k)
			if !kv.IsValid() || !kv.Type().AssignableTo(v.Type().Key()) {
				if kv.IsValid() && kv.Type().ConvertibleTo(v.Type().Key()) && kv.Kind() == v.Type().Key().Kind() {
					kv = kv.Convert(v.Type().Key())
				} else {
					return nil, fmt.Errorf("a map with keys of type %s cannot be indexed by %s", typeName(reflect.Zero(v.Type().Key())), typeName(kv))
				}
			}
			x := v.MapIndex(kv)
			if !x.IsValid() {
				x = reflect.Zero(v.Type().Elem())
			}
			v = x
		case reflect.Slice, reflect.Array, reflect.String:
			if v.Kind() == reflect.String && b.scope != nil && b.scope.isSecret(v.String()) {
				return nil, errors.New("a secret cannot be indexed")
			}
			i, ok := toInt(k)
			if !ok {
				return nil, fmt.Errorf("cannot index a list with %s", typeName(reflect.ValueOf(k)))
			}
			if i < 0 || i >= v.Len() {
				return nil, fmt.Errorf("index %d is out of range", i)
			}
			v = v.Index(i)
		default:
			return nil, fmt.Errorf("cannot index a value of type %s", typeName(v))
		}
	}
	if !v.IsValid() {
		return nil, nil
	}
	return v.Interface(), nil
}

func toInt(k any) (int, bool) {
	v := reflect.ValueOf(k)
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return int(v.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return int(v.Uint()), true
	case reflect.Float64, reflect.Float32:
		f := v.Float()
		if f == float64(int(f)) {
			return int(f), true
		}
	}
	return 0, false
}

// typeName names a value's type as a template author knows it (no Go type syntax).
func typeName(v reflect.Value) string {
	if !v.IsValid() {
		return "nothing"
	}
	switch v.Kind() {
	case reflect.String:
		return "text"
	case reflect.Map:
		return "object"
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Bool:
		return "boolean"
	case reflect.Float32, reflect.Float64, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "number"
	}
	return "value"
}

// Data builds the root a hook's templates see: .event, .run, .hook and .data.
func Data(ev *event.Event, hookID string) map[string]any {
	return EventData(ev).ForHook(hookID)
}

// EventRoot is the part of the templates' root that is the same for every hook of one
// event: built once per event, not once per hook. Templates only read it.
type EventRoot struct {
	event, run map[string]any
	data       map[string]any
}

// EventData builds the event's part of the root.
func EventData(ev *event.Event) *EventRoot {
	data := ev.Data
	if data == nil {
		data = map[string]any{}
	}
	return &EventRoot{
		event: map[string]any{
			"id": ev.ID, "type": ev.Type, "time": ev.Time.UTC().Format("2006-01-02T15:04:05.999999999Z07:00"),
			"status": ev.Status, "source": ev.Source, "subject": ev.Subject, "gate": ev.Gate,
		},
		run:  map[string]any{"id": ev.Run.ID, "job": ev.Run.Job, "kind": ev.Run.Kind},
		data: data,
	}
}

// ForHook returns the whole root for one hook.
func (r *EventRoot) ForHook(hookID string) map[string]any {
	return map[string]any{"event": r.event, "run": r.run, "hook": map[string]any{"id": hookID}, "data": r.data}
}
