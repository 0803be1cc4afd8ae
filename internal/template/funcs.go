package template

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
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

// pureFuncs are the functions that need no execution state.
var pureFuncs = ttemplate.FuncMap{
	"json": func(v any) (JSONText, error) {
		b, err := jsonwrite.Marshal(v)
		return JSONText(b), err
	},
	"xml":      func(v any) XMLText { return XMLText(xmlEscape(event.Stringify(v))) },
	"urlquery": func(v any) URLText { return URLText(url.QueryEscape(event.Stringify(v))) },
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
	"lower":   func(v any) string { return strings.ToLower(event.Stringify(v)) },
	"upper":   func(v any) string { return strings.ToUpper(event.Stringify(v)) },
	"trim":    func(v any) string { return strings.TrimSpace(event.Stringify(v)) },
	"replace": func(old, new string, v any) string { return strings.ReplaceAll(event.Stringify(v), old, new) },
	"b64enc":  func(v any) string { return base64.StdEncoding.EncodeToString([]byte(event.Stringify(v))) },
	"b64dec": func(v any) (string, error) {
		b, err := base64.StdEncoding.DecodeString(event.Stringify(v))
		return string(b), err
	},
}

// stubFuncs makes every name known at parse time; the stateful ones are bound per
// execution by boundFuncs.
func stubFuncs() ttemplate.FuncMap {
	m := ttemplate.FuncMap{}
	for k, v := range pureFuncs {
		m[k] = v
	}
	b := &binding{}
	for k, v := range boundFuncs(b) {
		m[k] = v
	}
	return m
}

func boundFuncs(b *binding) ttemplate.FuncMap {
	return ttemplate.FuncMap{
		escapeFunc: b.escape,
		// env reads a secret from the environment; an unset variable is an error.
		"env": func(name string) (string, error) {
			v, ok := b.scope.lookupEnv(name)
			if !ok {
				return "", fmt.Errorf("env %q: the variable is not set", name)
			}
			b.scope.AddSecret(v)
			b.tainted = true
			return v, nil
		},
		// file reads a secret from a file, without its trailing line break.
		"file": func(path string) (string, error) {
			raw, err := b.scope.readFile(path)
			if err != nil {
				return "", fmt.Errorf("file %q: %v", path, safefile.Reason(err))
			}
			v := strings.TrimRight(string(raw), "\r\n")
			b.scope.AddSecret(v)
			b.tainted = true
			return v, nil
		},
	}
}

// Data builds the root a hook's templates see: .event, .run, .hook and .data.
func Data(ev *event.Event, hookID string) map[string]any {
	data := ev.Data
	if data == nil {
		data = map[string]any{}
	}
	return map[string]any{
		"event": map[string]any{
			"id": ev.ID, "type": ev.Type, "time": ev.Time.UTC().Format("2006-01-02T15:04:05.999999999Z07:00"),
			"status": ev.Status, "source": ev.Source, "subject": ev.Subject, "gate": ev.Gate,
		},
		"run":  map[string]any{"id": ev.Run.ID, "job": ev.Run.Job, "kind": ev.Run.Kind},
		"hook": map[string]any{"id": hookID},
		"data": data,
	}
}
