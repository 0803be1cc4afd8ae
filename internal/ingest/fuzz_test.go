package ingest

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// addSeeds adds every testdata payload of a source to the fuzz corpus.
func addSeeds(f *testing.F, dir string, add func(body []byte)) {
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata/%s: %v", dir, err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		add(b)
	}
	for _, s := range []string{"", "{}", "[]", "null", `{"a":1,"a":2}`, "{\"type\":\"pre\"\n", `{"data":[]}`} {
		add([]byte(s))
	}
}

// checkParsed holds for whatever a source makes of any input: an event that validates,
// from that source, whose type has the source's prefix, that marshals, and whose answer
// is JSON; or a *FieldError in words, or ErrTooLarge.
func checkParsed(t *testing.T, s Source, r *Request, prefix string) {
	ev, err := s.Parse(r)
	if err != nil {
		var fe *FieldError
		if !errors.As(err, &fe) && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("error %v (%T) is neither a *FieldError nor ErrTooLarge", err, err)
		}
		noInternals(t, err.Error())
		if !utf8.ValidString(err.Error()) {
			t.Fatalf("error %q is not valid UTF-8", err)
		}
		return
	}
	if err := ev.Validate(); err != nil {
		t.Fatalf("event does not validate: %v", err)
	}
	if ev.Source != s.Name() || !strings.HasPrefix(ev.Type, prefix) {
		t.Fatalf("source %q type %q", ev.Source, ev.Type)
	}
	if len(ev.Run.ID) > maxID || len(ev.Subject) > maxID {
		t.Fatalf("run id of %d bytes, subject of %d", len(ev.Run.ID), len(ev.Subject))
	}
	if _, err := json.Marshal(ev); err != nil {
		t.Fatalf("event does not marshal: %v", err)
	}
	for _, o := range []Outcome{{Verdict: Proceed}, {Verdict: Abort, AbortedBy: "h"}} {
		if a := s.Answer(ev, o); a.Status < 200 || a.Status > 499 || !json.Valid(a.Body) {
			t.Fatalf("answer %d %s", a.Status, a.Body)
		}
	}
}

func FuzzXOParse(f *testing.F) {
	addSeeds(f, "xo", func(b []byte) { f.Add(b) })
	f.Fuzz(func(t *testing.T, body []byte) {
		checkParsed(t, XO{}, &Request{Header: xoHeader(), Body: body}, "xo.")
	})
}

func FuzzVirtFusionParse(f *testing.F) {
	addSeeds(f, "virtfusion", func(b []byte) { f.Add(b, "", "", "") })
	f.Add(payload(f, "virtfusion/server-create-success.json"), "server.create", "success", "1841")
	f.Add(payload(f, "virtfusion/server-create-success.json"), "server.boot", "fail", "1")
	f.Fuzz(func(t *testing.T, body []byte, evName, status, hookEvent string) {
		h := http.Header{}
		for k, v := range map[string]string{vfHeaderEvent: evName, vfHeaderEventStatus: status, vfHeaderHookEvent: hookEvent} {
			if v != "" {
				h.Set(k, v)
			}
		}
		checkParsed(t, VirtFusion{}, &Request{Header: h, Body: body}, "virtfusion.")
	})
}

func FuzzZerobyteParse(f *testing.F) {
	addSeeds(f, "zerobyte", func(b []byte) { f.Add(b) })
	f.Fuzz(func(t *testing.T, body []byte) {
		checkParsed(t, Zerobyte{}, &Request{Header: zbHeader(), Body: body}, "zerobyte.backup.")
	})
}

func FuzzGenericParse(f *testing.F) {
	addSeeds(f, "generic", func(b []byte) { f.Add(b) })
	f.Fuzz(func(t *testing.T, body []byte) {
		checkParsed(t, Generic{}, &Request{Body: body}, "")
	})
}

// FuzzAuthenticate: nothing gets in with no secret configured, XO and Zerobyte let in
// only the configured secret, and no failure quotes the configured secret or what was
// presented (both marked with a NUL byte, which no reason holds, for that check).
func FuzzAuthenticate(f *testing.F) {
	f.Add("s3cret-value", "s3cret-value")
	f.Add("s3cret-value", "czNjcmV0LXZhbHVl")
	f.Add("", "")
	f.Add("tok", "Bearer dG9r")
	requests := func(presented string) []struct {
		s Source
		r *Request
	} {
		return []struct {
			s Source
			r *Request
		}{
			{XO{}, &Request{PathSecret: presented}},
			{Zerobyte{}, &Request{Header: http.Header{"X-Zerobyte-Hook-Secret": {presented}}}},
			{VirtFusion{}, &Request{Header: http.Header{"Authorization": {presented}}}},
			{VirtFusion{}, &Request{Header: http.Header{"Authorization": {"Bearer " + presented}}}},
		}
	}
	f.Fuzz(func(t *testing.T, configured, presented string) {
		cfg := Config{Secret: configured, Token: configured}
		for _, tc := range requests(presented) {
			err := tc.s.Authenticate(tc.r, cfg)
			if err != nil && !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("%s: %v", tc.s.Name(), err)
			}
			if err == nil && (configured == "" || tc.s.Name() != "virtfusion" && presented != configured) {
				t.Fatalf("%s: %q accepted with %q configured", tc.s.Name(), presented, configured)
			}
		}
		cfg = Config{Secret: "\x00" + configured, Token: "\x00" + configured}
		for _, tc := range requests("\x00" + presented) {
			if err := tc.s.Authenticate(tc.r, cfg); err != nil && strings.ContainsAny(err.Error(), "\x00\\") {
				t.Fatalf("%s: %q quotes a credential", tc.s.Name(), err)
			}
		}
	})
}
