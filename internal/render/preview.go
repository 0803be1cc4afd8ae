package render

import (
	"github.com/hookpoint/hookpoint/internal/clip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hookpoint/hookpoint/internal/template"
)

// Preview is a rendered hook as shown to people: everything that would be sent or run,
// with secrets masked.
type Preview struct {
	Hook    string      `json:"hook"`
	Action  string      `json:"action"`
	Mode    string      `json:"mode"`
	Method  string      `json:"method,omitempty"`
	URL     string      `json:"url,omitempty"`
	Headers [][2]string `json:"headers,omitempty"`
	Body    string      `json:"body,omitempty"`
	Argv    []string    `json:"argv,omitempty"`
	Env     []string    `json:"env,omitempty"`
	Stdin   string      `json:"stdin,omitempty"`
	Workdir string      `json:"workdir,omitempty"`
	Timeout string      `json:"timeout"`
}

// Preview returns what r would send or run, masked. Signed requests show the signature
// headers as they would be for an attempt made now.
func (r *Rendered) Preview(now time.Time) Preview {
	p := Preview{Hook: r.Hook.ID, Action: r.Hook.Action(), Mode: "sync"}
	if r.Hook.IsAsync() {
		p.Mode = "async"
	}
	switch {
	case r.HTTP != nil:
		q := r.HTTP
		p.Method, p.URL, p.Body, p.Timeout = q.Method, r.view.url, r.view.body, q.Timeout.String()
		for name, vals := range r.view.header {
			for _, v := range vals {
				p.Headers = append(p.Headers, [2]string{name, v})
			}
		}
		if n := len(q.SigningKeys); n > 0 {
			// The real signature is computed per attempt; a valid one printed here could
			// be replayed, so only its shape is shown.
			sig := strings.TrimSuffix(strings.Repeat("v1,"+template.Mask+" ", n), " ")
			p.Headers = append(p.Headers,
				[2]string{"Webhook-Id", r.DeliveryID},
				[2]string{"Webhook-Timestamp", strconv.FormatInt(now.Unix(), 10)},
				[2]string{"Webhook-Signature", sig})
		}
		sort.SliceStable(p.Headers, func(i, j int) bool { return p.Headers[i][0] < p.Headers[j][0] })
	case r.Exec != nil:
		c := r.Exec
		p.Argv = slices.Clone(r.view.argv)
		p.Env = slices.Clone(r.view.extra)
		// The event on stdin came from outside: it is searched for secrets.
		p.Stdin, p.Workdir, p.Timeout = r.Mask(string(c.Stdin)), c.Dir, c.Timeout.String()
	}
	return p
}

// Bounded returns p with its body (and stdin) cut to max bytes, for what is stored with
// every attempt: the whole body was sent, its start is enough to see what it was.
func (p Preview) Bounded(max int) Preview {
	p.Body, _ = clip.String(p.Body, max)
	p.Stdin, _ = clip.String(p.Stdin, max)
	return p
}
