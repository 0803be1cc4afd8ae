package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hookpoint/hookpoint/internal/render"
	"github.com/hookpoint/hookpoint/internal/store"
)

const deliveriesPerPage = 50

type deliveriesData struct {
	HookID, EventID, EventType, Status, Since, Until, TZ, Cursor string
	Hooks                                                        []*Hook
	Statuses                                                     []string
	Rows                                                         []*store.Delivery
	Next                                                         string // the cursor of the next (older) page
	Query                                                        string // the filters, for the live rows and the pager
	Errors                                                       []string
	Live                                                         bool
	Now                                                          time.Time
}

var deliveryStatuses = []string{store.DeliveryQueued, store.DeliveryRetrying, store.DeliverySucceeded, store.DeliveryFailed, store.DeliveryCancelled}

// deliveriesQuery reads the filters and lists a page.
func (u *UI) deliveriesQuery(r *http.Request) (*deliveriesData, error) {
	q := r.URL.Query()
	d := &deliveriesData{HookID: q.Get("hook_id"), EventID: q.Get("event_id"), EventType: strings.TrimSpace(q.Get("event_type")), Status: q.Get("status"),
		Since: q.Get("since"), Until: q.Get("until"), TZ: q.Get("tz"), Cursor: q.Get("cursor"), Statuses: deliveryStatuses, Now: u.now()}
	f := store.DeliveryFilter{HookID: d.HookID, EventID: d.EventID, EventType: d.EventType, Cursor: d.Cursor, Limit: deliveriesPerPage}
	if d.Status != "" {
		for _, s := range strings.Split(d.Status, ",") {
			if !contains(deliveryStatuses, s) {
				d.Errors = append(d.Errors, "Outcome: "+s+" is not a delivery status")
				continue
			}
			f.Status = append(f.Status, s)
		}
	}
	var err error
	if f.Since, err = parseLocalTime(d.Since, d.TZ, d.Now); err != nil {
		d.Errors = append(d.Errors, "Since: "+err.Error())
	}
	if f.Until, err = parseLocalTime(d.Until, d.TZ, d.Now); err != nil {
		d.Errors = append(d.Errors, "Until: "+err.Error())
	}
	filters := url.Values{}
	for k, v := range map[string]string{"hook_id": d.HookID, "event_id": d.EventID, "event_type": d.EventType, "status": d.Status, "since": d.Since, "until": d.Until, "tz": d.TZ} {
		if v != "" {
			filters.Set(k, v)
		}
	}
	d.Query = filters.Encode()
	d.Live = d.Cursor == ""
	if len(d.Errors) > 0 {
		return d, nil
	}
	d.Rows, err = u.svc.Deliveries(r.Context(), f)
	var e *Error
	if errors.As(err, &e) {
		d.Errors = append(d.Errors, e.Error())
		return d, nil
	}
	if err != nil {
		return nil, err
	}
	if len(d.Rows) == deliveriesPerPage {
		d.Next = d.Rows[len(d.Rows)-1].ID
	}
	return d, nil
}

func (u *UI) deliveriesPage(w http.ResponseWriter, r *http.Request) error {
	d, err := u.deliveriesQuery(r)
	if err != nil {
		return err
	}
	if d.Hooks, err = u.svc.Hooks(r.Context()); err != nil {
		return err
	}
	status := http.StatusOK
	if len(d.Errors) > 0 {
		status = http.StatusBadRequest
	}
	u.render(w, r, status, "deliveries", "Deliveries", "deliveries", d)
	return nil
}

// deliveryRows is the table's body, which the page's script fetches every few seconds
// so that new deliveries appear (and statuses change) without a reload.
func (u *UI) deliveryRows(w http.ResponseWriter, r *http.Request) error {
	d, err := u.deliveriesQuery(r)
	if err != nil {
		return err
	}
	u.fragment(w, r, "deliveries", "rows", d)
	return nil
}

type attemptView struct {
	*store.Attempt
	Request *render.Preview
}

type deliveryData struct {
	Delivery  *store.Delivery
	Event     *store.Event
	EventData string
	Attempts  []attemptView
	Hook      *Hook // nil when it was deleted
	Pending   bool
	Now       time.Time
}

func (u *UI) deliveryData(r *http.Request) (*deliveryData, error) {
	ctx := r.Context()
	dl, as, err := u.svc.Delivery(ctx, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	d := &deliveryData{Delivery: dl, Now: u.now(),
		Pending: dl.Status == store.DeliveryQueued || dl.Status == store.DeliveryRetrying}
	for _, a := range as {
		v := attemptView{Attempt: a}
		if len(a.Request) > 0 {
			var p render.Preview
			if json.Unmarshal(a.Request, &p) == nil {
				v.Request = &p
			}
		}
		d.Attempts = append(d.Attempts, v)
	}
	// Newest attempt first: the one people look for.
	for i, j := 0, len(d.Attempts)-1; i < j; i, j = i+1, j-1 {
		d.Attempts[i], d.Attempts[j] = d.Attempts[j], d.Attempts[i]
	}
	if d.Event, err = u.svc.Event(ctx, dl.EventID); err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	if d.Event != nil && len(d.Event.Data) > 0 {
		b, _ := json.MarshalIndent(d.Event.Data, "", "  ")
		d.EventData = string(b)
	}
	if h, err := u.svc.Hook(ctx, dl.HookID); err == nil {
		d.Hook = h
	}
	return d, nil
}

func (u *UI) deliveryPage(w http.ResponseWriter, r *http.Request) error {
	d, err := u.deliveryData(r)
	if err != nil {
		return err
	}
	u.render(w, r, http.StatusOK, "delivery", "Delivery "+d.Delivery.ID, "deliveries", d)
	return nil
}

// deliveryLive is the delivery's status and attempts, fetched again while the page is
// open.
func (u *UI) deliveryLive(w http.ResponseWriter, r *http.Request) error {
	d, err := u.deliveryData(r)
	if err != nil {
		return err
	}
	u.fragment(w, r, "delivery", "live", d)
	return nil
}

func (u *UI) retryDelivery(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	err := u.svc.RetryDelivery(r.Context(), id)
	var e *Error
	if errors.As(err, &e) {
		u.redirect(w, r, "/ui/deliveries/"+url.PathEscape(id), "error", e.Error())
		return nil
	}
	if err != nil {
		return err
	}
	u.redirect(w, r, "/ui/deliveries/"+url.PathEscape(id), "ok", "Delivery "+id+" is queued for another attempt, with the same webhook id.")
	return nil
}
