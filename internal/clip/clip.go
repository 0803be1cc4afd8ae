// Package clip bounds the values hookpoint writes where people read them (journal
// records, log lines, -o json output): a value longer than its bound is cut on a UTF-8
// boundary and ends with a visible "…[cut N bytes]".
package clip

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"unicode/utf8"
)

// String returns s when it is at most limit bytes long. Otherwise it returns the start of
// s, cut on a UTF-8 boundary, followed by "…[cut N bytes]" (N the bytes left out), the
// whole at most limit bytes (for a limit of at least 32, which every bound here is); and
// true. Cutting what String returned changes nothing.
func String(s string, limit int) (string, bool) {
	if len(s) <= limit {
		return s, false
	}
	// No marker is longer than the one for cutting all of s.
	keep := min(len(s), max(0, limit-len(marker(len(s)))))
	for keep > 0 && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + marker(len(s)-keep), true
}

func marker(n int) string { return "…[cut " + strconv.Itoa(n) + " bytes]" }

// Handler is a slog.Handler that cuts the message and every attribute value (strings,
// errors, and anything else whose text is too long) to at most Max bytes before handing
// the record on, so that no value makes a log line unbounded.
type Handler struct {
	next slog.Handler
	max  int
}

// NewHandler wraps next, cutting values to max bytes.
func NewHandler(next slog.Handler, max int) *Handler { return &Handler{next: next, max: max} }

// Enabled reports whether next handles level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle cuts r's message and attributes and passes it on.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	msg, _ := String(r.Message, h.max)
	out := slog.NewRecord(r.Time, r.Level, msg, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

// WithAttrs cuts attrs and passes them on.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	cut := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		cut[i] = h.attr(a)
	}
	return &Handler{next: h.next.WithAttrs(cut), max: h.max}
}

// WithGroup passes the group on.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), max: h.max}
}

func (h *Handler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		if s, cut := String(v.String(), h.max); cut {
			return slog.String(a.Key, s)
		}
	case slog.KindGroup:
		group := v.Group()
		cut := make([]any, len(group))
		for i, g := range group {
			cut[i] = h.attr(g)
		}
		return slog.Group(a.Key, cut...)
	case slog.KindAny:
		var text string
		switch x := v.Any().(type) {
		case error:
			text = x.Error()
		case []byte:
			text = string(x)
		default:
			text = fmt.Sprintf("%+v", x)
		}
		if s, cut := String(text, h.max); cut {
			return slog.String(a.Key, s)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
