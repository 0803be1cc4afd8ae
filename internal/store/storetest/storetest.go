// Package storetest is the conformance suite of the store drivers: Exercise runs the
// same subtests against any store.Store, so that SQLite and PostgreSQL keep the same
// contracts (River's riverdrivertest.Exercise is the model).
//
// The suite knows nothing of the driver: it uses only the store package's interfaces,
// and open gives it a fresh, empty, migrated database for each subtest.
package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/store"
)

// Exercise runs the conformance suite. open must return a fresh, empty, migrated store
// that it closes in t.Cleanup; subtests run in parallel, each with its own store.
func Exercise(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	groups := []struct {
		name  string
		tests map[string]func(t *testing.T, s store.Store)
	}{
		{"Event", eventTests},
		{"Hook", hookTests},
		{"Secret", secretTests},
		{"Delivery", deliveryTests},
		{"Attempt", attemptTests},
		{"Token", tokenTests},
		{"InTx", txTests},
		{"Counts", countTests},
		{"Activity", activityTests},
		{"Prune", pruneTests},
		{"Store", storeTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			names := make([]string, 0, len(g.tests))
			for name := range g.tests {
				names = append(names, name)
			}
			slices.Sort(names)
			for _, name := range names {
				test := g.tests[name]
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					test(t, open(t))
				})
			}
		})
	}
}

// t0 has nanoseconds, which every time the suite stores keeps.
var t0 = time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.UTC)

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// elsewhere is a zone a driver must convert from: times come back in UTC.
var elsewhere = time.FixedZone("UTC+05:30", 5*3600+1800)

func ptr[T any](v T) *T { return &v }

var errBoom = errors.New("boom")

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

// equal fails the test when got and want differ: times compare as instants and must
// come back in UTC; byte slices compare as bytes (nil equals empty).
func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	var diffs []string
	diff(reflect.ValueOf(got), reflect.ValueOf(want), what, &diffs)
	if len(diffs) > 0 {
		if len(diffs) > 10 {
			diffs = append(diffs[:10], fmt.Sprintf("... and %d more", len(diffs)-10))
		}
		t.Fatalf("differences:\n  %s", strings.Join(diffs, "\n  "))
	}
}

var timeType = reflect.TypeFor[time.Time]()

func diff(got, want reflect.Value, path string, out *[]string) {
	if !got.IsValid() || !want.IsValid() {
		if got.IsValid() != want.IsValid() {
			*out = append(*out, fmt.Sprintf("%s: got %v, want %v", path, got, want))
		}
		return
	}
	if got.Type() != want.Type() {
		*out = append(*out, fmt.Sprintf("%s: got %s %#v, want %s %#v", path, got.Type(), got, want.Type(), want))
		return
	}
	if got.Type() == timeType {
		g, w := got.Interface().(time.Time), want.Interface().(time.Time)
		switch {
		case !g.Equal(w):
			*out = append(*out, fmt.Sprintf("%s: got %s, want %s", path, g.Format(time.RFC3339Nano), w.Format(time.RFC3339Nano)))
		case g.Location() != time.UTC:
			*out = append(*out, fmt.Sprintf("%s: got location %s, want UTC", path, g.Location()))
		}
		return
	}
	switch got.Kind() {
	case reflect.Pointer, reflect.Interface:
		if got.IsNil() || want.IsNil() {
			if got.IsNil() != want.IsNil() {
				*out = append(*out, fmt.Sprintf("%s: got %s, want %s", path, show(got), show(want)))
			}
			return
		}
		diff(got.Elem(), want.Elem(), path, out)
	case reflect.Struct:
		for i := range got.NumField() {
			diff(got.Field(i), want.Field(i), path+"."+got.Type().Field(i).Name, out)
		}
	case reflect.Slice:
		if got.Type().Elem().Kind() == reflect.Uint8 {
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				*out = append(*out, fmt.Sprintf("%s: got %d bytes %.80q, want %d bytes %.80q", path, got.Len(), got.Bytes(), want.Len(), want.Bytes()))
			}
			return
		}
		if got.Len() != want.Len() {
			*out = append(*out, fmt.Sprintf("%s: got %d elements, want %d", path, got.Len(), want.Len()))
			return
		}
		for i := range got.Len() {
			diff(got.Index(i), want.Index(i), fmt.Sprintf("%s[%d]", path, i), out)
		}
	case reflect.Map:
		if got.IsNil() != want.IsNil() {
			*out = append(*out, fmt.Sprintf("%s: got %s, want %s", path, show(got), show(want)))
			return
		}
		for _, k := range want.MapKeys() {
			g := got.MapIndex(k)
			if !g.IsValid() {
				*out = append(*out, fmt.Sprintf("%s[%v]: missing", path, k))
				continue
			}
			diff(g, want.MapIndex(k), fmt.Sprintf("%s[%v]", path, k), out)
		}
		for _, k := range got.MapKeys() {
			if !want.MapIndex(k).IsValid() {
				*out = append(*out, fmt.Sprintf("%s[%v]: not wanted", path, k))
			}
		}
	default:
		if !reflect.DeepEqual(got.Interface(), want.Interface()) {
			*out = append(*out, fmt.Sprintf("%s: got %.200v, want %.200v", path, got, want))
		}
	}
}

func show(v reflect.Value) string {
	if v.IsNil() {
		return "nil"
	}
	return fmt.Sprintf("%.200v", v.Elem())
}

// asStored returns data as a driver gives it back: decoded JSON with json.Number.
func asStored(t *testing.T, data map[string]any) map[string]any {
	t.Helper()
	if data == nil {
		return nil
	}
	b, err := json.Marshal(data)
	must(t, err)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	must(t, dec.Decode(&m))
	return m
}

// ids returns the ids of deliveries, in order.
func ids(ds []*store.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}
