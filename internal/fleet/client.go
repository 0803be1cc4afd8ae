// Package fleet sends the events of a node to hookpoint serve, which runs the hooks and
// answers the verdict: the client of POST /v1/events (retries, timeouts, TLS), the spool
// that keeps notifications while the server cannot be reached, and the Node that decides
// what happens then.
package fleet

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookpoint/hookpoint"
	"github.com/hookpoint/hookpoint/internal/event"
	"github.com/hookpoint/hookpoint/internal/safefile"
	"github.com/hookpoint/hookpoint/internal/version"
)

// Request is the body of POST /v1/events: an event with its own id and time, so that
// a spooled event keeps them, and its id as the idempotency key, so that a POST sent
// again never runs the hooks twice.
type Request struct {
	Type           string            `json:"type"`
	Gate           bool              `json:"gate"`
	Status         string            `json:"status,omitempty"`
	Subject        string            `json:"subject,omitempty"`
	Source         string            `json:"source,omitempty"`
	RunID          string            `json:"run_id,omitempty"`
	Job            string            `json:"job,omitempty"`
	Kind           string            `json:"kind,omitempty"`
	ID             string            `json:"id"`
	Time           time.Time         `json:"time"`
	Data           map[string]any    `json:"data"`
	SourceEnv      map[string]string `json:"source_env,omitempty"`
	IdempotencyKey string            `json:"idempotency_key"`
}

// RequestFor returns the request that sends ev.
func RequestFor(ev *event.Event) Request {
	data := ev.Data
	if data == nil {
		data = map[string]any{}
	}
	return Request{
		Type: ev.Type, Gate: ev.Gate, Status: ev.Status, Subject: ev.Subject, Source: ev.Source,
		RunID: ev.Run.ID, Job: ev.Run.Job, Kind: ev.Run.Kind, ID: ev.ID, Time: ev.Time.UTC(),
		Data: data, SourceEnv: ev.SourceEnv, IdempotencyKey: ev.ID,
	}
}

// Answer is the server's answer to an event: its verdict and what each hook did, in
// the shape of the engine's results.
type Answer struct {
	EventID   string             `json:"event_id"`
	Verdict   hookpoint.Verdict  `json:"verdict"`
	Results   []hookpoint.Result `json:"results"`
	Duplicate bool               `json:"duplicate,omitempty"`
}

// ErrUnreachable is what an UnreachableError is: the server could not be reached, or
// did not answer, within the time allowed.
var ErrUnreachable = errors.New("server unreachable")

// UnreachableError says which server could not be reached, how hard it was tried and
// the last reason.
type UnreachableError struct {
	Server   string // the server's URL
	Attempts int
	Elapsed  time.Duration
	Err      error // the last attempt's error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("could not reach the server %s (%d attempt%s in %s): %v", e.Server, e.Attempts,
		plural(e.Attempts), e.Elapsed.Round(time.Millisecond), e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnreachable) true.
func (e *UnreachableError) Is(target error) bool { return target == ErrUnreachable }

// APIError is a refusal by the server: the event is wrong (400, 413) or the token is
// (401, 403). Sending the same request again would be refused again.
type APIError struct {
	Status  int
	Code    string
	Message string
	Field   string
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("%d %s", e.Status, e.Code)
	if e.Field != "" {
		s += " (" + e.Field + ")"
	}
	return s + ": " + e.Message
}

// Auth reports whether the server refused the token (401) or its scope (403).
func (e *APIError) Auth() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
}

// ErrBadAnswer is a 200 answer that is not an event answer (a URL that is not a
// hookpoint server), a redirect, or a certificate that does not verify: sending again
// would not help.
var ErrBadAnswer = errors.New("not an answer of hookpoint serve")

// transient is an attempt's failure that another attempt may not have.
type transient struct {
	err        error
	retryAfter time.Duration // the server's Retry-After, 0 when none
}

func (t *transient) Error() string { return t.err.Error() }
func (t *transient) Unwrap() error { return t.err }

// Options configure a Client.
type Options struct {
	// URL is the server's base URL (http or https; a path is a prefix, for a reverse
	// proxy); events go to URL/v1/events.
	URL string
	// Token is sent as Authorization: Bearer; it appears in no message.
	Token string
	// CAFile adds certificates that verify the server (PEM) to the system's.
	CAFile string
	// ConnectTimeout bounds each connection attempt, TLS handshake included: 5s when 0.
	ConnectTimeout time.Duration
	// Now and Sleep are the clock and the wait between attempts; time.Now and a timer
	// when nil. Tests replace Sleep to do something between two attempts.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter spreads the waits between attempts, so that a fleet does not come back all
	// at once; ±20% at random when nil.
	Jitter func(time.Duration) time.Duration
}

// Client sends events to one server. It is safe for concurrent use.
type Client struct {
	server   string // the URL as shown: no credentials, no trailing slash
	endpoint string
	token    string
	http     *http.Client
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error
	jitter   func(time.Duration) time.Duration
}

// Bounds of the client.
const (
	defaultConnectTimeout = 5 * time.Second
	maxAnswer             = 16 << 20 // an answer with every hook's bounded excerpts
	maxCAFile             = 1 << 20
	firstBackoff          = 250 * time.Millisecond
	maxBackoff            = 5 * time.Second
	maxRetryAfter         = 30 * time.Second
)

// ParseServerURL checks a server URL: http or https, a host, no credentials (the
// token is sent apart), no query or fragment. It returns the URL as shown in messages
// and journals.
func ParseServerURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("not a URL: %q", raw)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%s: use an http:// or https:// URL", u.Redacted())
	case u.Host == "":
		return nil, fmt.Errorf("%s: the URL has no host", u.Redacted())
	case u.User != nil:
		return nil, fmt.Errorf("%s: put no credentials in the URL; the token comes from HOOKPOINT_TOKEN or --token-file", u.Redacted())
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("%s: the URL may have a path but no query or fragment", u.Redacted())
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// New returns a client for the server at o.URL.
func New(o Options) (*Client, error) {
	u, err := ParseServerURL(o.URL)
	if err != nil {
		return nil, err
	}
	if o.Token == "" {
		return nil, errors.New("no token")
	}
	if strings.ContainsAny(o.Token, " \t\r\n") {
		return nil, errors.New("the server's token holds white space or a line break")
	}
	connect := o.ConnectTimeout
	if connect <= 0 {
		connect = defaultConnectTimeout
	}
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pem, err := safefile.ReadFile(o.CAFile, maxCAFile)
		if err != nil {
			return nil, fmt.Errorf("--server-ca: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--server-ca %s: no PEM certificate in it", o.CAFile)
		}
		tlsConf.RootCAs = pool
	}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: connect,
		TLSClientConfig:     tlsConf,
		MaxIdleConns:        4,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	c := &Client{
		server:   u.String(),
		endpoint: u.JoinPath("v1", "events").String(),
		token:    o.Token,
		http: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		now: o.Now, sleep: o.Sleep, jitter: o.Jitter,
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = sleep
	}
	if c.jitter == nil {
		c.jitter = jitter
	}
	return c, nil
}

// Server returns the server's URL as shown in messages and journals.
func (c *Client) Server() string { return c.server }

// Target is what the journal's target says of a request to the server.
func (c *Client) Target() string { return "POST " + c.endpoint }

// Close releases idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Sent is what sending one event took, whatever came of it.
type Sent struct {
	Answer   *Answer // nil unless the server answered the event
	Status   int     // the last HTTP status; 0 when no answer came
	Attempts int
	Elapsed  time.Duration
}

// Send posts req and returns the server's answer. The whole of it, every attempt
// included, is bounded by timeout (a gate waits for the server's sync hooks). A failure
// to connect, a connection lost before the answer, and answers 5xx, 429 and 409
// in_progress are tried again, with growing waits, for retryFor since the first attempt
// (the last one when it ends); then the error is an *UnreachableError. A refusal is an *APIError;
// an answer that is not one wraps ErrBadAnswer. When ctx itself ends, its error is
// returned.
func (c *Client) Send(ctx context.Context, req *Request, timeout, retryFor time.Duration) (Sent, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return Sent{}, fmt.Errorf("event %s: %w", req.ID, err)
	}
	parent := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	start := c.now()
	var s Sent
	for {
		s.Attempts++
		ans, status, err := c.once(ctx, body)
		s.Status, s.Elapsed = status, c.now().Sub(start)
		if err == nil {
			s.Answer = ans
			return s, nil
		}
		if parent.Err() != nil {
			return s, parent.Err()
		}
		var tr *transient
		if !errors.As(err, &tr) {
			return s, err
		}
		if ctx.Err() != nil {
			return s, &UnreachableError{Server: c.server, Attempts: s.Attempts, Elapsed: s.Elapsed,
				Err: fmt.Errorf("no answer within %s", timeout)}
		}
		wait := c.jitter(backoff(s.Attempts))
		if tr.retryAfter > 0 {
			wait = min(tr.retryAfter, maxRetryAfter)
		}
		// The last attempt is made when the window ends.
		if left := retryFor - s.Elapsed; wait > left {
			wait = left
		}
		if wait <= 0 {
			return s, &UnreachableError{Server: c.server, Attempts: s.Attempts, Elapsed: s.Elapsed, Err: tr.err}
		}
		if err := c.sleep(ctx, wait); err != nil {
			if parent.Err() != nil {
				return s, parent.Err()
			}
			s.Elapsed = c.now().Sub(start)
			return s, &UnreachableError{Server: c.server, Attempts: s.Attempts, Elapsed: s.Elapsed,
				Err: fmt.Errorf("no answer within %s (last: %v)", timeout, tr.err)}
		}
	}
}

// once makes one attempt. Its errors are *transient when another attempt may succeed.
func (c *Client) once(ctx context.Context, body []byte) (*Answer, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", version.UserAgent())
	resp, err := c.http.Do(req)
	if err != nil {
		if certErr(err) {
			return nil, 0, fmt.Errorf("%w: %s", ErrBadAnswer, c.mask(plainNetError(err)))
		}
		return nil, 0, &transient{err: errors.New(c.mask(plainNetError(err)))}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, resp.StatusCode, &transient{err: fmt.Errorf("the answer was cut off: %s", c.mask(plainNetError(err)))}
	}
	if len(raw) > maxAnswer {
		return nil, resp.StatusCode, fmt.Errorf("%w: the answer is larger than %d bytes", ErrBadAnswer, maxAnswer)
	}
	status := resp.StatusCode
	if status == http.StatusOK {
		ans, err := decodeAnswer(raw)
		if err != nil {
			return nil, status, fmt.Errorf("%w: %v", ErrBadAnswer, err)
		}
		return ans, status, nil
	}
	ae := c.apiError(status, raw)
	switch {
	case status >= 500, status == http.StatusTooManyRequests,
		status == http.StatusConflict && ae.Code == "in_progress":
		return nil, status, &transient{err: fmt.Errorf("the server answered %v", ae), retryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	case status >= 300 && status < 400:
		return nil, status, fmt.Errorf("%w: it answered %d, a redirect to %s; give --server the URL it redirects to",
			ErrBadAnswer, status, clipText(resp.Header.Get("Location"), 200))
	}
	return nil, status, ae
}

// apiError reads an error answer: {"error": {"code", "message", "field"}}, or whatever
// a proxy in front of the server wrote.
func (c *Client) apiError(status int, raw []byte) *APIError {
	var body struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"error"`
	}
	ae := &APIError{Status: status}
	if json.Unmarshal(raw, &body) == nil && body.Error.Message != "" {
		ae.Code, ae.Message, ae.Field = body.Error.Code, body.Error.Message, body.Error.Field
	} else {
		ae.Code = strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_"))
		ae.Message = strings.Join(strings.Fields(clipText(string(bytes.ToValidUTF8(raw, nil)), 200)), " ")
		if ae.Message == "" {
			ae.Message = "(no message)"
		}
	}
	ae.Code, ae.Message, ae.Field = clipText(ae.Code, 60), c.mask(clipText(ae.Message, 1000)), clipText(ae.Field, 100)
	return ae
}

// mask removes the token from a message, should anything ever echo it.
func (c *Client) mask(s string) string {
	return strings.ReplaceAll(s, c.token, "[token]")
}

func decodeAnswer(raw []byte) (*Answer, error) {
	var ans Answer
	if err := json.Unmarshal(raw, &ans); err != nil {
		return nil, fmt.Errorf("the answer is not an event answer: %v", err)
	}
	if ans.Verdict != hookpoint.Proceed && ans.Verdict != hookpoint.Abort {
		return nil, fmt.Errorf("the answer has no verdict")
	}
	for i := range ans.Results {
		r := &ans.Results[i]
		r.Duration = time.Duration(r.DurationMS * float64(time.Millisecond))
	}
	return &ans, nil
}

// certErr reports whether err is a certificate that does not verify.
func certErr(err error) bool {
	var ve *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &ve) || errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci)
}

// plainNetError is a transport error without Go's `Post "URL": ` prefix (the message
// names the server already).
func plainNetError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer in time"
	}
	return err.Error()
}

// backoff is the wait after attempt n: 250ms doubling up to 5s.
func backoff(n int) time.Duration {
	d := firstBackoff
	for i := 1; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// retryAfter reads a Retry-After of seconds; an HTTP date or nonsense is ignored.
func retryAfter(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "..."
}
