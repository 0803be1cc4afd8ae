package web

import (
	"errors"
	"net/http"
	"time"
)

type testData struct {
	Hook       *Hook
	Target     string
	Sample     SampleEvent
	SampleData string
	Groups     []eventGroup
	Statuses   []string
	Errors     []string
	Result     *TestResult
	SentAt     time.Time
}

// testPage shows the "send test event" form; sendTest sends one attempt of the hook for
// the event and shows, on the same page, the request as rendered (secrets masked) and
// the response: status, latency, the start of the body.
func (u *UI) testPage(w http.ResponseWriter, r *http.Request) error {
	h, err := u.svc.Hook(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	s := sampleFor(h.Def)
	u.render(w, r, http.StatusOK, "test", "Send a test event to "+h.ID, "hooks",
		&testData{Hook: h, Target: target(h.Def), Sample: s, SampleData: formatData(s.Data), Groups: eventGroups, Statuses: allStatuses})
	return nil
}

func (u *UI) sendTest(w http.ResponseWriter, r *http.Request) error {
	h, err := u.svc.Hook(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	d := &testData{Hook: h, Target: target(h.Def), Groups: eventGroups, Statuses: allStatuses, SampleData: r.PostFormValue("sample.data")}
	sample, ferrs := sampleOf(r.PostForm, h.Def)
	d.Sample = sample
	for _, e := range ferrs {
		d.Errors = append(d.Errors, fieldLabels[e.Field]+": "+e.Message)
	}
	status := http.StatusOK
	if len(d.Errors) == 0 {
		d.SentAt = u.now()
		d.Result, err = u.svc.TestHook(r.Context(), h.ID, sample)
		var e *Error
		switch {
		case errors.As(err, &e):
			status = e.Status
			d.Errors = append(d.Errors, e.Error())
		case err != nil:
			return err
		}
	}
	u.render(w, r, status, "test", "Send a test event to "+h.ID, "hooks", d)
	return nil
}
