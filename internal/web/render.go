package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hookpoint/hookpoint/internal/token"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages holds one template set per page: the layout, the shared partials and the page.
type pages struct {
	byName map[string]*template.Template
	// assetVersion changes with the static files, so that browsers fetch new ones.
	assetVersion string
}

func loadPages() *pages {
	p := &pages{byName: map[string]*template.Template{}}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, name := range names {
		base := strings.TrimSuffix(path.Base(name), ".html")
		if base == "layout" || base == "partials" {
			continue
		}
		t := template.New(base).Funcs(funcs)
		p.byName[base] = template.Must(t.ParseFS(templateFS, "templates/layout.html", "templates/partials.html", name))
	}
	h := sha256.New()
	_ = fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := staticFS.ReadFile(p)
			h.Write(b)
		}
		return nil
	})
	p.assetVersion = hex.EncodeToString(h.Sum(nil))[:12]
	return p
}

// view is what every page's template gets.
type view struct {
	Title    string
	Nav      string
	Signed   bool
	Scope    string
	CanWrite bool
	CSRF     string
	Flash    []flash
	Asset    string
	Poll     int // milliseconds
	Data     any
}

// render writes a whole page (the layout around the page's "content").
func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, page, title, nav string, data any) {
	v := view{Title: title, Nav: nav, Asset: u.pages.assetVersion, Poll: int(u.poll / time.Millisecond), Data: data}
	if s := sessionOf(r); s != nil {
		v.Signed, v.Scope, v.CanWrite, v.CSRF = true, string(s.principal.Scope), s.principal.Scope == token.Admin, s.csrf
		v.Flash = s.takeFlash()
	}
	u.execute(w, status, page, "layout", v)
}

// fragment writes one named template of a page (the rows of a live list), for the
// UI's own fetches.
func (u *UI) fragment(w http.ResponseWriter, r *http.Request, page, name string, data any) {
	v := view{Asset: u.pages.assetVersion, Data: data}
	if s := sessionOf(r); s != nil {
		v.Signed, v.Scope, v.CanWrite, v.CSRF = true, string(s.principal.Scope), s.principal.Scope == token.Admin, s.csrf
	}
	u.execute(w, http.StatusOK, page, name, v)
}

func (u *UI) execute(w http.ResponseWriter, status int, page, name string, v view) {
	t, ok := u.pages.byName[page]
	if !ok {
		panic("web: no page " + page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, v); err != nil {
		u.log.Error("web: template failed", "page", page, "template", name, "err", err)
		http.Error(w, "the page could not be shown; the server's log says why", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// static serves the embedded CSS and JavaScript.
func (u *UI) static(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("file")
	b, err := staticFS.ReadFile("static/" + name)
	if err != nil || strings.Contains(name, "/") {
		return errNotFoundPage
	}
	switch path.Ext(name) {
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case ".js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case ".svg":
		w.Header().Set("Content-Type", "image/svg+xml")
	}
	if r.URL.Query().Get("v") == u.pages.assetVersion {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	_, _ = w.Write(b)
	return nil
}

// Template functions.
var funcs = template.FuncMap{
	// when writes a time as <time>: UTC in the page, the browser's zone once the
	// script has run.
	"when": func(t any) template.HTML {
		var tm time.Time
		switch v := t.(type) {
		case time.Time:
			tm = v
		case *time.Time:
			if v == nil {
				return ""
			}
			tm = *v
		default:
			return ""
		}
		if tm.IsZero() {
			return ""
		}
		u := tm.UTC()
		return template.HTML(fmt.Sprintf(`<time datetime="%s">%s</time>`, u.Format(time.RFC3339Nano), u.Format("2006-01-02 15:04:05 UTC")))
	},
	"ago": func(now time.Time, t *time.Time) string {
		if t == nil {
			return ""
		}
		return humanDuration(now.Sub(*t))
	},
	"status":  statusLabel,
	"outcome": outcomeLabel,
	"join":    strings.Join,
	"ms":      func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) + " ms" },
	"jsonIndent": func(v any) string {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return ""
		}
		return string(b)
	},
	"sortedKeys": func(m map[string]string) []string {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return keys
	},
	"header": func(name, value string) string { return maskHeader(name, value) },
	"fld":    fld,
	"clip":   clip,
	"slice2": func(a, b *chart) []*chart { return []*chart{a, b} },
	"concat": func(a, b []sourceEvents) []sourceEvents { return append(append([]sourceEvents{}, a...), b...) },
}

// statusLabel is a delivery status with a sign, so that it reads without colour.
func statusLabel(s string) template.HTML {
	sign := map[string]string{"succeeded": "✓", "failed": "✗", "retrying": "↻", "queued": "…", "cancelled": "–"}[s]
	if sign == "" {
		sign = "•"
	}
	return template.HTML(fmt.Sprintf(`<span class="badge s-%s"><span aria-hidden="true">%s</span> %s</span>`,
		template.HTMLEscapeString(s), sign, template.HTMLEscapeString(s)))
}

// outcomeLabel is an attempt's outcome (ok, failed, timeout, skipped, queued).
func outcomeLabel(s string) template.HTML {
	cls := map[string]string{"ok": "succeeded", "failed": "failed", "timeout": "failed", "skipped": "cancelled", "queued": "queued"}[s]
	sign := map[string]string{"ok": "✓", "failed": "✗", "timeout": "⏱", "skipped": "–", "queued": "…"}[s]
	if s == "" {
		return ""
	}
	if sign == "" {
		sign, cls = "•", "other"
	}
	return template.HTML(fmt.Sprintf(`<span class="badge s-%s"><span aria-hidden="true">%s</span> %s</span>`,
		cls, sign, template.HTMLEscapeString(s)))
}

func humanDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm %ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// maskHeader hides the value of a header that usually carries a credential (an
// Authorization header written literally in headers:), unless it is masked already.
func maskHeader(name, value string) string {
	if !sensitiveHeader(name) || value == "" || strings.Contains(value, "****") {
		return value
	}
	if scheme, _, ok := strings.Cut(value, " "); ok && len(scheme) < 20 && !strings.ContainsAny(scheme, "=:") {
		return scheme + " ****"
	}
	return "****"
}

func sensitiveHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "proxy-authorization", "cookie", "set-cookie":
		return true
	}
	for _, w := range []string{"token", "secret", "password", "passwd", "apikey", "api-key", "credential"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}
