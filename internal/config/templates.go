package config

import (
	"fmt"
	"net/http"

	"github.com/hookpoint/hookpoint/internal/template"
)

// EachTemplate calls visit with every compiled template of h's action and the field it
// comes from, relative to the hook (http.url, http.headers.X-Name, exec.args[0], ...).
func EachTemplate(h *Hook, visit func(field string, t *template.Template)) {
	add := func(field string, t *template.Template) {
		if t != nil {
			visit(field, t)
		}
	}
	if a := h.HTTP; a != nil && a.Compiled != nil {
		c := a.Compiled
		add("http.url", c.URL)
		add("http.body", c.Body)
		add("http.auth.username", c.Username)
		add("http.auth.password", c.Password)
		add("http.auth.token", c.Token)
		for name := range a.Headers { // the name as written, which is where it is
			add("http.headers."+name, c.Headers[http.CanonicalHeaderKey(name)])
		}
		for i, t := range c.Secrets {
			add(fmt.Sprintf("http.sign.secret[%d]", i), t)
		}
		treeTemplates("http.body", c.Tree, add)
	}
	if a := h.Exec; a != nil && a.Compiled != nil {
		for i, t := range a.Compiled.Args {
			add(fmt.Sprintf("exec.args[%d]", i), t)
		}
		for _, n := range a.Compiled.EnvNames {
			add("exec.env."+n, a.Compiled.Env[n])
		}
	}
}

// treeTemplates calls add for every template leaf of a structured body.
func treeTemplates(path string, v any, add func(string, *template.Template)) {
	switch x := v.(type) {
	case *template.Template:
		add(path, x)
	case map[string]any:
		for k, c := range x {
			treeTemplates(path+"."+k, c, add)
		}
	case []any:
		for i, c := range x {
			treeTemplates(fmt.Sprintf("%s[%d]", path, i), c, add)
		}
	}
}
