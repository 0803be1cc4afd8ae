package web

import (
	"strings"
	"unicode/utf8"
)

// field is one input of the hook form, as its partial template draws it: a label, the
// value, the help and the errors beside it.
type field struct {
	Name, Label, Type, Help, Value string
	Errors                         []string
	Options                        []option
	// Set says, for a secret, that a value is stored (never which).
	Set    string
	Locked bool
}

type option struct{ Value, Label string }

// fld is the template function that makes a field of the form: fld FORM NAME LABEL
// TYPE HELP [VALUE LABEL]...
func fld(f *hookForm, name, label, typ, help string, opts ...string) field {
	fd := field{Name: name, Label: label, Type: typ, Help: help, Value: f.V(name), Errors: f.Err(name), Locked: !f.New}
	for i := 0; i+1 < len(opts); i += 2 {
		fd.Options = append(fd.Options, option{opts[i], opts[i+1]})
	}
	if strings.HasPrefix(name, "http.auth.password") || strings.HasPrefix(name, "http.auth.token") || name == "http.sign.secret" {
		fd.Value = "" // never shown back
		fd.Set = f.Set(name)
	}
	return fd
}

// sampleView is what the sample event partial draws.
type sampleView struct {
	Type, Status, Subject, Data string
	Groups                      []eventGroup
	Statuses                    []string
	Err                         map[string][]string
	// Other is set when Type is none of the known types.
	Other bool
}

func newSampleView(ev SampleEvent, data string, errs map[string][]string) sampleView {
	v := sampleView{Type: ev.Type, Status: ev.Status, Subject: ev.Subject, Data: data, Groups: eventGroups, Statuses: allStatuses, Err: errs}
	v.Other = knownStatuses(ev.Type) == nil && !knownType(ev.Type)
	if v.Err == nil {
		v.Err = map[string][]string{}
	}
	return v
}

func knownType(typ string) bool {
	for _, g := range eventGroups {
		for _, t := range g.Types {
			if t.Type == typ {
				return true
			}
		}
	}
	return false
}

// SampleView draws the form's sample event.
func (f *hookForm) SampleView() sampleView {
	ev := SampleEvent{Type: f.V("sample.type"), Status: f.V("sample.status"), Subject: f.V("sample.subject")}
	if o := strings.TrimSpace(f.V("sample.type_other")); o != "" {
		ev.Type = o
	}
	return newSampleView(ev, f.V("sample.data"), f.Errors)
}

// SampleView draws the hook page's sample event.
func (d hookData) SampleView() sampleView { return newSampleView(d.Sample, d.SampleData, nil) }

// SampleView draws the test page's sample event.
func (d *testData) SampleView() sampleView { return newSampleView(d.Sample, d.SampleData, nil) }

// clip cuts text for a table cell.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
