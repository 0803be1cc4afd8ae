package postgres

import (
	"bytes"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hookpoint/hookpoint/internal/store"
)

// Times are stored as bigint nanoseconds since the Unix epoch: exact to the nanosecond,
// in UTC, and ordered as numbers. int64 nanoseconds reach from 1678 to 2262; the zero
// time.Time is stored as math.MinInt64 so that it reads back as zero. (The SQLite driver
// stores them the same way.)
const zeroTimeNanos = math.MinInt64

var (
	minTime = time.Unix(0, math.MinInt64+1)
	maxTime = time.Unix(0, math.MaxInt64)
)

func nanos(t time.Time) (int64, error) {
	if t.IsZero() {
		return zeroTimeNanos, nil
	}
	if t.Before(minTime) || t.After(maxTime) {
		return 0, fmt.Errorf("time %s is outside what the database stores (years 1678 to 2262)", t.Format(time.RFC3339Nano))
	}
	return t.UnixNano(), nil
}

func fromNanos(n int64) time.Time {
	if n == zeroTimeNanos {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// tm is a time.Time argument.
type tm time.Time

func (t tm) Value() (driver.Value, error) { return nanos(time.Time(t)) }

// ntm is a *time.Time argument: nil is NULL.
type ntm struct{ t *time.Time }

func (t ntm) Value() (driver.Value, error) {
	if t.t == nil {
		return nil, nil
	}
	return nanos(*t.t)
}

// scanTime scans a bigint column into a time.Time.
type scanTime struct{ t *time.Time }

func (s scanTime) Scan(src any) error {
	n, ok := src.(int64)
	if !ok {
		return fmt.Errorf("time column holds %T, not an integer", src)
	}
	*s.t = fromNanos(n)
	return nil
}

// scanNullTime scans a nullable bigint column into a *time.Time.
type scanNullTime struct{ t **time.Time }

func (s scanNullTime) Scan(src any) error {
	if src == nil {
		*s.t = nil
		return nil
	}
	n, ok := src.(int64)
	if !ok {
		return fmt.Errorf("time column holds %T, not an integer", src)
	}
	t := fromNanos(n)
	*s.t = &t
	return nil
}

// jsonObject is a JSON column's argument: the object as JSON text, NULL for nil.
type jsonObject[M ~map[string]V, V any] struct {
	m    M
	what string
}

func (o jsonObject[M, V]) Value() (driver.Value, error) {
	if o.m == nil {
		return nil, nil
	}
	b, err := json.Marshal(o.m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.what, err)
	}
	return string(b), nil
}

// jsonData is Event.Data as an argument.
func jsonData(m map[string]any) jsonObject[map[string]any, any] {
	return jsonObject[map[string]any, any]{m, "event data"}
}

// jsonEnv is Event.SourceEnv as an argument.
func jsonEnv(m map[string]string) jsonObject[map[string]string, string] {
	return jsonObject[map[string]string, string]{m, "event source_env"}
}

// scanObject scans a JSON column into a map, keeping numbers as written (json.Number);
// NULL is nil.
type scanObject[V any] struct {
	m    *map[string]V
	what string
}

func (s scanObject[V]) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*s.m = nil
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("%s column holds %T", s.what, src)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]V
	if err := dec.Decode(&m); err != nil {
		return fmt.Errorf("%s: %w", s.what, err)
	}
	*s.m = m
	return nil
}

// scanData scans Event.Data; scanEnv Event.SourceEnv.
func scanData(m *map[string]any) scanObject[any] { return scanObject[any]{m, "event data"} }
func scanEnv(m *map[string]string) scanObject[string] {
	return scanObject[string]{m, "event source_env"}
}

// blob is a []byte argument for a NOT NULL bytea column: nil is stored as empty.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// nullBlob is a []byte argument for a nullable bytea column: nil is NULL.
func nullBlob(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// nullText is a string argument for a nullable text column: empty is NULL.
func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// limit turns "zero or less means no limit" into LIMIT NULL.
func limit(n int) any {
	if n <= 0 {
		return nil
	}
	return n
}

// text returns s as PostgreSQL's text can hold it: text refuses the NUL character and
// invalid UTF-8, which a Go string may hold (a receiver's answer, an error, a subject sent
// as "\u0000"); both become U+FFFD. Every string argument goes through it, so that a
// lookup finds what an insert stored.
func text(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// textArgs applies text to the string arguments.
func textArgs(args []any) []any {
	for i, a := range args {
		switch v := a.(type) {
		case string:
			args[i] = text(v)
		case []string:
			c := make([]string, len(v))
			for j, s := range v {
				c[j] = text(s)
			}
			args[i] = c
		}
	}
	return args
}

// mapErr turns PostgreSQL's constraint errors into the store's errors; what names the
// row first in the message ("event evt_1: already exists").
func mapErr(err error, what string) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%s: %w", what, store.ErrConflict)
		case "23503": // foreign_key_violation
			return fmt.Errorf("%s: refers to a row that does not exist: %w", what, store.ErrNotFound)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// notFound maps pgx.ErrNoRows to store.ErrNotFound.
func notFound(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return mapErr(err, what)
}

// affected returns store.ErrNotFound when an UPDATE or DELETE touched no row.
func affected(tag pgconn.CommandTag, err error, what string) error {
	if err != nil {
		return mapErr(err, what)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return nil
}

// collect scans every row and closes rows. No rows give an empty slice, not nil.
func collect[T any](rows pgx.Rows, err error, scan func(row pgx.Row) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// likePattern turns a hook's `on` pattern into a LIKE pattern (escape character \): *
// becomes %, and LIKE's own special characters (%, _ and \) match only themselves. LIKE
// is case-sensitive, and on COLLATE "C" columns compares bytes, as match.Pattern does.
func likePattern(p string) string {
	var b strings.Builder
	for _, r := range p {
		switch r {
		case '*':
			b.WriteByte('%')
		case '%', '_', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
