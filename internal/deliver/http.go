package deliver

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/render"
	"github.com/hookpoint/hookpoint/internal/safefile"
	"github.com/hookpoint/hookpoint/internal/sign"
)

// maxPEMFile bounds each of the TLS files (ca_file, cert_file, key_file).
const maxPEMFile = 1 << 20

// maxDrain is how much of a response body beyond the excerpt is read so that the
// connection can be reused.
const maxDrain = 256 << 10

// HTTP sends rendered requests. Redirects are never followed. It keeps one client per
// distinct TLS setting so connections are reused across deliveries.
type HTTP struct {
	// Dialer dials connections; replace it to check destinations at dial time.
	Dialer *net.Dialer
	// Now is the clock used for webhook-timestamp.
	Now func() time.Time
	// DialContext, when set, replaces Dialer and turns off proxies from the environment,
	// so that it sees every destination (the server's guard checks them there).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// WrapTransport, when set, wraps each transport (the guard reads the origin of each
	// request there).
	WrapTransport func(http.RoundTripper) http.RoundTripper

	mu         sync.Mutex
	clients    map[config.TLS]http.RoundTripper
	transports []*http.Transport
}

// NewHTTP returns a sender with a 10s connect timeout.
func NewHTTP() *HTTP {
	return &HTTP{Dialer: &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}, Now: time.Now}
}

func (h *HTTP) client(t *config.TLS) (http.RoundTripper, error) {
	var key config.TLS
	if t != nil {
		key = *t
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if c, ok := h.clients[key]; ok {
		return c, nil
	}
	tcfg, err := tlsConfig(key)
	if err != nil {
		return nil, err
	}
	proxy, dial := http.ProxyFromEnvironment, h.Dialer.DialContext
	if h.DialContext != nil {
		proxy, dial = nil, h.DialContext
	}
	tr := &http.Transport{
		Proxy:             proxy,
		DialContext:       dial,
		TLSClientConfig:   tcfg,
		ForceAttemptHTTP2: true,
		// A server delivers to few receivers, each from up to its workers (100) at
		// once: connections kept for each are not dialled again for every attempt.
		MaxIdleConns:           256,
		MaxIdleConnsPerHost:    100,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	// The transport is used directly: a RoundTripper never follows redirects, and it
	// avoids the per-request header copying http.Client does for them.
	var c http.RoundTripper = tr
	h.transports = append(h.transports, tr)
	if h.WrapTransport != nil {
		c = h.WrapTransport(tr)
	}
	if h.clients == nil {
		h.clients = map[config.TLS]http.RoundTripper{}
	}
	h.clients[key] = c
	return c, nil
}

func tlsConfig(t config.TLS) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // an explicit per-hook choice
	if t.CAFile != "" {
		pem, err := safefile.ReadFile(t.CAFile, maxPEMFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file %s: no PEM certificate found", t.CAFile)
		}
		c.RootCAs = pool
	}
	if t.CertFile != "" {
		certPEM, err := safefile.ReadFile(t.CertFile, maxPEMFile)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file: %w", err)
		}
		keyPEM, err := safefile.ReadFile(t.KeyFile, maxPEMFile)
		if err != nil {
			return nil, fmt.Errorf("tls.key_file: %w", err)
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file/key_file: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// Close closes idle connections.
func (h *HTTP) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, tr := range h.transports {
		tr.CloseIdleConnections()
	}
}

// Send makes one attempt at delivering r. deliveryID is the webhook-id, the same for
// every attempt of one delivery.
func (h *HTTP) Send(ctx context.Context, r *render.Request, deliveryID string) Result {
	start := time.Now()
	res := h.send(ctx, r, deliveryID)
	res.Duration = time.Since(start)
	return res
}

func (h *HTTP) send(parent context.Context, r *render.Request, deliveryID string) Result {
	c, err := h.client(r.TLS)
	if err != nil {
		return Result{Outcome: Failed, Error: err.Error()}
	}
	ctx, cancel := context.WithTimeout(parent, r.Timeout)
	defer cancel()
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, body)
	if err != nil {
		return Result{Outcome: Failed, Error: err.Error()}
	}
	// The rendered header belongs to this delivery alone (its attempts run one after
	// another), so it is sent as it is; the signature headers are set anew each attempt.
	// A Host entry is never written as a header by net/http: it becomes req.Host.
	req.Header = r.Header
	if host := r.Header.Get("Host"); host != "" {
		req.Host = host
	}
	if len(r.SigningKeys) > 0 {
		ts := h.Now().Unix()
		req.Header.Set(sign.HeaderID, deliveryID)
		req.Header.Set(sign.HeaderTimestamp, strconv.FormatInt(ts, 10))
		req.Header.Set(sign.HeaderSignature, sign.Header(r.SigningKeys, deliveryID, ts, r.Body))
	}
	resp, err := c.RoundTrip(req)
	if err != nil {
		switch {
		case errors.Is(parent.Err(), context.Canceled):
			return Result{Outcome: Failed, Error: "cancelled"}
		case parent.Err() != nil:
			return Result{Outcome: Timeout, Error: "no response before the caller's deadline"}
		case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
			return Result{Outcome: Timeout, Error: fmt.Sprintf("no response within %s", r.Timeout)}
		}
		// Transport errors name the dialled address, not the URL; secrets are masked
		// by the caller in any case.
		return Result{Outcome: Failed, Error: err.Error()}
	}
	defer resp.Body.Close()
	excerpt, cut, rerr := readExcerpt(resp.Body, r.Mask)
	res := Result{Status: resp.StatusCode, Excerpt: excerpt, ExcerptCut: cut}
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		res.Outcome = Failed
		res.Location = resp.Header.Get("Location")
		res.Error = fmt.Sprintf("redirect %d to %q not followed", resp.StatusCode, res.Location)
	case !expected(r.Expect, resp.StatusCode):
		res.Outcome = Failed
		res.Error = fmt.Sprintf("unexpected status %d", resp.StatusCode)
	default:
		res.Outcome = OK
	}
	if rerr != nil && res.Outcome == OK && !errors.Is(rerr, context.Canceled) {
		// The status is what counts; a body cut short is noted.
		res.Excerpt += "...(body read failed: " + rerr.Error() + ")"
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		res.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	res.Gone = resp.StatusCode == http.StatusGone
	return res
}

func expected(expect []int, code int) bool {
	if len(expect) == 0 {
		return code >= 200 && code < 300
	}
	for _, e := range expect {
		if e == code {
			return true
		}
	}
	return false
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
		d = time.Duration(min(n, int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil && t.After(now) {
		d = t.Sub(now)
	}
	return min(d, maxRetryAfter)
}

// maxRetryAfter caps the wait a receiver may ask for.
const maxRetryAfter = 24 * time.Hour

var excerptPool = sync.Pool{New: func() any { b := make([]byte, MaxExcerpt+maskSlack); return &b }}

// readExcerpt keeps the start of a body, masked and bounded to MaxExcerpt, and reads (up
// to maxDrain more) past it so that the connection can be reused.
func readExcerpt(body io.Reader, mask func(string) string) (string, bool, error) {
	bp := excerptPool.Get().(*[]byte)
	defer excerptPool.Put(bp)
	n, err := io.ReadFull(body, *bp)
	raw := (*bp)[:n]
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		ex, cut := excerpt(raw, false, mask)
		return ex, cut, nil
	}
	if err != nil {
		// Cut short at an arbitrary point, perhaps inside a secret.
		ex, cut := excerpt(raw, true, mask)
		return ex, cut, err
	}
	more, err := io.Copy(io.Discard, io.LimitReader(body, maxDrain))
	ex, cut := excerpt(raw, more > 0 || err != nil, mask)
	return ex, cut, err
}
