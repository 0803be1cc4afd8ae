package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookpoint/hookpoint/internal/store"
)

// attemptView is an attempt with its request as JSON.
type attemptView struct {
	*store.Attempt
	Request json.RawMessage `json:"request,omitempty"`
}

var deliveryStatuses = []string{store.DeliveryQueued, store.DeliveryRetrying, store.DeliverySucceeded, store.DeliveryFailed, store.DeliveryCancelled}

// listDeliveries: GET /v1/deliveries?hook_id=&status=&event_type=&event_id=&since=&until=&cursor=&limit=,
// newest first; next_cursor is set when there may be more.
func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	for name := range q {
		switch name {
		case "hook_id", "status", "event_type", "event_id", "since", "until", "cursor", "limit":
		default:
			return badRequest(name, "unknown parameter %q; the filters are hook_id, status, event_type, event_id, since, until, cursor and limit", clipText(name, 60))
		}
	}
	f := store.DeliveryFilter{HookID: q.Get("hook_id"), EventID: q.Get("event_id"), EventType: q.Get("event_type"), Cursor: q.Get("cursor"), Limit: 50}
	if st := q.Get("status"); st != "" {
		for _, v := range strings.Split(st, ",") {
			if !contains(deliveryStatuses, v) {
				return badRequest("status", "%q is not a delivery status: use %s", clipText(v, 40), strings.Join(deliveryStatuses, ", "))
			}
			f.Status = append(f.Status, v)
		}
	}
	var err error
	if f.Since, err = timeParam(q.Get("since"), s.now()); err != nil {
		return badRequest("since", "%s", err.Error())
	}
	if f.Until, err = timeParam(q.Get("until"), s.now()); err != nil {
		return badRequest("until", "%s", err.Error())
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			return badRequest("limit", "limit is a whole number from 1 to 500")
		}
		f.Limit = n
	}
	ds, err := s.store.ListDeliveries(r.Context(), f)
	if err != nil {
		return errors.Join(errUnavailable, err)
	}
	if ds == nil {
		ds = []*store.Delivery{}
	}
	ans := map[string]any{"deliveries": ds}
	if len(ds) == f.Limit {
		ans["next_cursor"] = ds[len(ds)-1].ID
	}
	writeJSON(w, http.StatusOK, ans)
	return nil
}

// timeParam reads RFC 3339 or a duration before now (2h, 30m).
func timeParam(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		if y := t.Year(); y < 1970 || y > 2200 {
			return time.Time{}, errors.New("a time must be between the years 1970 and 2200")
		}
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, errors.New("write a time as RFC 3339 (2026-11-30T02:00:00Z) or a duration before now (2h)")
}

func (s *Server) getDelivery(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	d, err := s.store.GetDelivery(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("delivery", id)
	}
	if err != nil {
		return errors.Join(errUnavailable, err)
	}
	as, err := s.store.Attempts(r.Context(), id)
	if err != nil {
		return errors.Join(errUnavailable, err)
	}
	views := make([]attemptView, len(as))
	for i, a := range as {
		views[i] = attemptView{Attempt: a, Request: json.RawMessage(a.Request)}
		if len(a.Request) == 0 {
			views[i].Request = nil
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"delivery": d, "attempts": views})
	return nil
}

// retryDelivery queues one more attempt of a delivery that has ended (failed, or
// succeeded and wanted again); one that is still queued or retrying is answered 409.
func (s *Server) retryDelivery(w http.ResponseWriter, r *http.Request) error {
	d, err := s.retry(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"delivery": d})
	return nil
}

// retry queues one more attempt of a delivery that has ended.
func (s *Server) retry(ctx context.Context, id string) (*store.Delivery, error) {
	d, err := s.store.GetDelivery(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("delivery", id)
	}
	if err != nil {
		return nil, errors.Join(errUnavailable, err)
	}
	if d.Status == store.DeliveryQueued || d.Status == store.DeliveryRetrying {
		return nil, errorf(http.StatusConflict, "pending", "", "delivery %s is %s already; its next attempt is planned", id, d.Status)
	}
	if e, ok := s.hooks.get(d.HookID); !ok || d.CreatedAt.Before(e.created) {
		return nil, errorf(http.StatusConflict, "hook_deleted", "", "the hook %q of this delivery no longer exists", d.HookID)
	}
	if err := s.requeue(ctx, []*store.Delivery{d}); err != nil {
		return nil, err
	}
	d, err = s.store.GetDelivery(ctx, id)
	if err != nil {
		return nil, errors.Join(errUnavailable, err)
	}
	return d, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
