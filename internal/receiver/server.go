package receiver

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookpoint/hookpoint/internal/deliver"
	"github.com/hookpoint/hookpoint/internal/event"
	"github.com/hookpoint/hookpoint/internal/render"
)

// Options configure a Server.
type Options struct {
	URLPrefix       string        // "hooks": hooks are served at /hooks/{id}
	HTTPMethods     []string      // methods allowed for hooks that name none; all when empty
	Headers         []Header      // set on every response
	RequestIDHeader bool          // take the request id from X-Request-Id
	RequestIDLimit  int           // truncate it to this many characters; 0: no limit
	MaxBody         int64         // request body limit in bytes
	Timeout         time.Duration // command timeout for hooks that set none
	MaxConcurrency  int           // commands running at once per hook, for hooks that set none
	MaxQueue        int           // requests waiting for a slot per hook, for hooks that set none; -1: none
	MaxQueuedBytes  int64         // request bodies held by queued async requests, server-wide
	MaxBodyInFlight int64         // request bodies being read or held by requests, server-wide
	MaxOutput       int           // command output kept for a sync response
	MaxReplayIDs    int           // standard-webhooks message ids remembered per hook
	Logger          *slog.Logger
	Now             func() time.Time
}

// Defaults.
const (
	DefaultMaxBody        = 10 << 20
	DefaultTimeout        = 5 * time.Minute
	DefaultMaxConcurrency = 8
	DefaultMaxQueue       = 64
	DefaultMaxQueuedBytes = 256 << 20
	DefaultMaxOutput      = 4 << 20
)

// Messages webhook answers with, kept word for word.
const (
	msgNotFound      = "Hook not found."
	msgRulesNotMet   = "Hook rules were not satisfied."
	msgRuleError     = "Error occurred while evaluating hook rules."
	msgCommandFailed = "Error occurred while executing the hook's command. Please check your logs for more details."
)

// Server serves hooks. The hook set is swapped whole on reload.
type Server struct {
	opts        Options
	set         atomic.Pointer[hookSet]
	runs        runCount           // commands running (sync and async) or queued (async)
	ctx         context.Context    // cancelled when shutdown gives up waiting
	stop        context.CancelFunc // ends every running command
	queuedBytes atomic.Int64
	bodies      *budget // bytes of request bodies read or held by requests
	limMu       sync.Mutex
	lims        map[string]*limiter // by hook id, kept across reloads
	seen        map[string]*seenIDs // standard-webhooks ids by hook id, kept across reloads
}

type hookSet struct {
	byID map[string]*Hook
}

// New returns a server for hooks.
func New(hooks []*Hook, o Options) *Server {
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxConcurrency <= 0 {
		o.MaxConcurrency = DefaultMaxConcurrency
	}
	switch {
	case o.MaxQueue < 0:
		o.MaxQueue = 0 // no queue: busy means 503
	case o.MaxQueue == 0:
		o.MaxQueue = DefaultMaxQueue
	}
	if o.MaxQueuedBytes <= 0 {
		o.MaxQueuedBytes = DefaultMaxQueuedBytes
	}
	if o.MaxOutput <= 0 {
		o.MaxOutput = DefaultMaxOutput
	}
	if o.MaxBodyInFlight <= 0 {
		o.MaxBodyInFlight = DefaultMaxBodyInFlight
	}
	if o.MaxReplayIDs <= 0 {
		o.MaxReplayIDs = DefaultMaxReplayIDs
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{opts: o, ctx: ctx, stop: cancel, lims: map[string]*limiter{}, seen: map[string]*seenIDs{},
		bodies: &budget{max: o.MaxBodyInFlight}}
	s.Swap(hooks)
	return s
}

// Swap replaces the hook set at once: a request sees the old set or the new one.
func (s *Server) Swap(hooks []*Hook) {
	set := &hookSet{byID: make(map[string]*Hook, len(hooks))}
	for _, h := range hooks {
		set.byID[h.ID] = h
	}
	s.set.Store(set)
	// Forget the limiters of hooks that are gone. (A hook whose limits change gets a new
	// limiter; commands running under the old one finish under it, so for that moment
	// both limits apply side by side.)
	s.limMu.Lock()
	for id := range s.lims {
		if set.byID[id] == nil {
			delete(s.lims, id)
		}
	}
	for id := range s.seen {
		if set.byID[id] == nil {
			delete(s.seen, id)
		}
	}
	s.limMu.Unlock()
}

// Hooks returns how many hooks are loaded.
func (s *Server) Hooks() int { return len(s.set.Load().byID) }

// Wait waits for running commands until ctx is done, then kills those still running.
func (s *Server) Wait(ctx context.Context) {
	select {
	case <-s.runs.idle():
	case <-ctx.Done():
		s.stop()
		<-s.runs.idle()
	}
}

// runCount counts commands. Unlike a sync.WaitGroup it may be incremented from zero
// while someone waits (a request still in flight when shutdown gives up on it).
type runCount struct {
	mu   sync.Mutex
	n    int
	zero chan struct{} // closed when n drops to 0; nil while nobody waits
}

func (c *runCount) add() {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
}

func (c *runCount) done() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n--; c.n == 0 && c.zero != nil {
		close(c.zero)
		c.zero = nil
	}
}

// idle returns a channel closed once no command runs.
func (c *runCount) idle() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == 0 {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	if c.zero == nil {
		c.zero = make(chan struct{})
	}
	return c.zero
}

// limiter bounds the commands of one hook: n run at once, q more may wait.
type limiter struct {
	slots   chan struct{}
	waiting atomic.Int64
	queue   int64
}

// seenIDs returns the message ids a hook with a standard-webhooks rule remembers, nil
// for other hooks.
func (s *Server) seenIDs(h *Hook) *seenIDs {
	if h.TriggerRule == nil || !h.TriggerRule.uses(MatchStandardWebhooks) {
		return nil
	}
	s.limMu.Lock()
	defer s.limMu.Unlock()
	ids := s.seen[h.ID]
	if ids == nil {
		ids = newSeenIDs(s.opts.MaxReplayIDs)
		s.seen[h.ID] = ids
	}
	return ids
}

func (s *Server) limiter(h *Hook) *limiter {
	n, q := h.MaxConcurrency, h.MaxQueue
	if n <= 0 {
		n = s.opts.MaxConcurrency
	}
	switch {
	case q < 0:
		q = 0 // max-queue: -1 on a hook: no queue
	case q == 0:
		q = s.opts.MaxQueue
	}
	s.limMu.Lock()
	defer s.limMu.Unlock()
	l := s.lims[h.ID]
	if l == nil || cap(l.slots) != n || l.queue != int64(q) {
		l = &limiter{slots: make(chan struct{}, n), queue: int64(q)}
		s.lims[h.ID] = l
	}
	return l
}

// admit reserves a running slot, waiting in the queue for one if need be. It returns
// false when the queue is full too, or when ctx (the caller) is done while waiting.
func (l *limiter) admit(ctx context.Context) bool {
	select {
	case l.slots <- struct{}{}:
		return true
	default:
	}
	if l.waiting.Add(1) > l.queue {
		l.waiting.Add(-1)
		return false
	}
	defer l.waiting.Add(-1)
	select {
	case l.slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (l *limiter) release() { <-l.slots }

// tryQueue is admit for async hooks: it reports at once whether there is room, and the
// returned func waits for the slot.
func (l *limiter) tryQueue() (wait func(), ok bool) {
	select {
	case l.slots <- struct{}{}:
		return func() {}, true
	default:
	}
	if l.waiting.Add(1) > l.queue {
		l.waiting.Add(-1)
		return nil, false
	}
	return func() { l.slots <- struct{}{}; l.waiting.Add(-1) }, true
}

// ServeHTTP answers /{prefix}/{id} as webhook does.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/" {
		fmt.Fprint(w, "OK") // webhook's root answer, whatever the prefix
		return
	}
	rid := ""
	if s.opts.RequestIDHeader {
		rid = r.Header.Get("X-Request-Id")
		if n := s.opts.RequestIDLimit; n > 0 && len(rid) > n {
			rid = rid[:n]
		}
	}
	if rid == "" {
		rid = event.NewID("req")
	}
	log := s.opts.Logger.With("request_id", rid)

	id, ok := s.hookID(r.URL.Path)
	if !ok {
		http.NotFound(w, r) // outside the prefix
		return
	}
	h := s.set.Load().byID[id]
	if h == nil {
		if r.ContentLength != 0 {
			unread(w)
		}
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, msgNotFound)
		log.Info("hook not found", "hook", id)
		return
	}
	if !s.methodAllowed(h, r.Method) {
		if r.ContentLength != 0 {
			unread(w)
		}
		w.WriteHeader(http.StatusMethodNotAllowed)
		log.Info("method not allowed", "hook", id, "method", r.Method)
		return
	}
	// The -header headers go on every answer of a hook that was found and allowed.
	for _, gh := range s.opts.Headers {
		w.Header().Set(gh.Name, gh.Value)
	}
	req := newHeadRequest(r)
	req.SoftSignatureFailures = h.SignatureSoftFailures
	req.replay = s.seenIDs(h)
	parseJSONParametersOf(req, h.ParseParametersAsJSON, true)
	now := s.opts.Now()
	// What the headers already decide is answered without reading the body.
	if h.TriggerRule != nil {
		if o := h.TriggerRule.before(req, now); o&mayMatch == 0 {
			unread(w)
			if o&mayFail == 0 && !h.SignatureSoftFailures {
				w.WriteHeader(http.StatusInternalServerError)
				fmt.Fprint(w, msgRuleError)
				log.Warn("rule evaluation failed before the body", "hook", id)
				return
			}
			writeCode(w, h.MismatchCode)
			fmt.Fprint(w, msgRulesNotMet)
			log.Info("rules not satisfied before the body", "hook", id)
			return
		}
	}
	body, held, err := readBody(w, r, s.opts.MaxBody, s.bodies)
	defer s.bodies.give(held)
	if err != nil {
		unread(w)
	}
	switch {
	case errors.Is(err, errBodyTooLarge):
		http.Error(w, fmt.Sprintf("request body larger than %d bytes", s.opts.MaxBody), http.StatusRequestEntityTooLarge)
		return
	case errors.Is(err, errBodyBudget):
		http.Error(w, "too many request bodies being received; try again later", http.StatusServiceUnavailable)
		log.Warn("request bodies in flight over the server's budget", "hook", id, "budget", s.bodies.max)
		return
	case err != nil:
		http.Error(w, "cannot read the request body", http.StatusBadRequest)
		return
	}
	req.setBody(body, h.IncomingPayloadContentType)
	parseJSONParametersOf(req, h.ParseParametersAsJSON, false)

	matched := true
	if h.TriggerRule != nil {
		matched, err = h.TriggerRule.Evaluate(req, now)
		if errors.Is(err, errReplayFull) {
			req.turnedAway()
			http.Error(w, "too many recent messages for this hook", http.StatusServiceUnavailable)
			log.Warn("too many recent standard-webhooks messages to remember; refused", "hook", id, "kept", s.opts.MaxReplayIDs)
			return
		}
		if err != nil {
			if !(errors.Is(err, ErrSignature) && h.SignatureSoftFailures) {
				log.Warn("rule evaluation failed", "hook", id, "error", err)
				w.WriteHeader(http.StatusInternalServerError)
				fmt.Fprint(w, msgRuleError)
				return
			}
			matched = false
		}
	}
	if !matched {
		writeCode(w, h.MismatchCode)
		fmt.Fprint(w, msgRulesNotMet)
		log.Info("rules not satisfied", "hook", id)
		return
	}
	for _, rh := range h.ResponseHeaders {
		w.Header().Set(rh.Name, rh.Value)
	}
	lim := s.limiter(h)
	if h.CaptureOutput {
		if !lim.admit(r.Context()) {
			req.turnedAway()
			if r.Context().Err() != nil {
				log.Info("client left while waiting for a slot", "hook", id)
				return
			}
			http.Error(w, "too many requests for this hook", http.StatusServiceUnavailable)
			log.Warn("hook queue full", "hook", id)
			return
		}
		// Counted with the async runs and ended with them when shutdown gives up
		// waiting, so that no command outlives the process.
		s.runs.add()
		// Not tied to the client: as with webhook, a command that started finishes (its
		// timeout still bounds it) even when the caller hangs up.
		ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
		stopOnShutdown := context.AfterFunc(s.ctx, cancel)
		if s.ctx.Err() != nil {
			cancel() // now, not in AfterFunc's goroutine: nothing starts after shutdown
		}
		out, err := s.run(ctx, h, req, log)
		stopOnShutdown()
		cancel()
		s.runs.done()
		lim.release()
		plainText(w.Header())
		if err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			if h.CaptureOutputOnError {
				fmt.Fprint(w, out)
			} else {
				fmt.Fprint(w, msgCommandFailed)
			}
			return
		}
		writeCode(w, h.SuccessCode)
		fmt.Fprint(w, out)
		return
	}
	// Queued requests keep their body until their command ran: the bytes held that way
	// are bounded server-wide, beyond the per-hook queue.
	size := int64(len(body))
	if s.queuedBytes.Add(size) > s.opts.MaxQueuedBytes {
		s.queuedBytes.Add(-size)
		req.turnedAway()
		http.Error(w, "too many requests waiting", http.StatusServiceUnavailable)
		log.Warn("queued bodies over the server's budget", "hook", id, "budget", s.opts.MaxQueuedBytes)
		return
	}
	wait, ok := lim.tryQueue()
	if !ok {
		s.queuedBytes.Add(-size)
		req.turnedAway()
		http.Error(w, "too many requests for this hook", http.StatusServiceUnavailable)
		log.Warn("hook queue full", "hook", id)
		return
	}
	s.runs.add()
	go func() {
		defer s.runs.done()
		defer s.queuedBytes.Add(-size)
		wait()
		defer lim.release()
		_, _ = s.run(s.ctx, h, req, log)
	}()
	writeCode(w, h.SuccessCode)
	fmt.Fprint(w, h.ResponseMessage)
}

// unread marks an answer given before the body was read whole: the connection closes
// after it. Otherwise the HTTP server would first wait for (and discard) the rest of a
// small body, holding the answer back for as long as the client takes to send it.
func unread(w http.ResponseWriter) {
	w.Header().Set("Connection", "close")
}

// plainText marks an answer that carries a command's output: the output may echo what
// the request sent, so no browser may sniff it into HTML. A Content-Type the hook set
// in its response-headers stays.
func plainText(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "text/plain; charset=utf-8")
	}
}

// writeCode writes a configured status code; 0 and codes with no standard meaning are
// 200, as webhook falls back.
func writeCode(w http.ResponseWriter, code int) {
	if code < 100 || code > 999 || http.StatusText(code) == "" {
		code = http.StatusOK
	}
	w.WriteHeader(code)
}

func (s *Server) hookID(path string) (string, bool) {
	prefix := "/"
	if p := strings.Trim(s.opts.URLPrefix, "/"); p != "" {
		prefix = "/" + p + "/"
	}
	// Everything below the prefix is an id, "/" included (an unknown one is "Hook not
	// found.", as webhook answers).
	return strings.CutPrefix(path, prefix)
}

func (s *Server) methodAllowed(h *Hook, method string) bool {
	allowed := h.HTTPMethods
	if len(allowed) == 0 {
		allowed = s.opts.HTTPMethods
	}
	if len(allowed) == 0 {
		return true
	}
	for _, m := range allowed {
		if strings.EqualFold(strings.TrimSpace(m), method) {
			return true
		}
	}
	return false
}

// parseJSONParameters replaces string values named by parse-parameters-as-json with the
// JSON they hold.
func parseJSONParameters(req *Request, args []Argument) {
	parseJSONParametersOf(req, args, true)
	parseJSONParametersOf(req, args, false)
}

// parseJSONParametersOf does it for the arguments known before the body (head) or for
// the others; each argument is parsed once.
func parseJSONParametersOf(req *Request, args []Argument, head bool) {
	for _, a := range args {
		if bodyFree(a.Source) != head {
			continue
		}
		v, err := req.Get(a)
		if err != nil {
			continue
		}
		parsed, err := decodeJSON([]byte(v))
		if err != nil {
			continue
		}
		switch a.Source {
		case SourceHeader:
			req.Headers[textproto.CanonicalMIMEHeaderKey(a.Name)] = parsed
		case SourceQuery, SourceQueryAlias:
			req.Query[a.Name] = parsed
		case SourcePayload:
			if m, ok := req.Payload.(map[string]any); ok {
				m[a.Name] = parsed
			}
		}
	}
}

// run runs the hook's command: argv from pass-arguments-to-command, environment from
// pass-environment-to-command, temporary files from pass-file-to-command (removed after),
// in its own process group, killed at the timeout. It returns the combined output.
func (s *Server) run(ctx context.Context, h *Hook, req *Request, log *slog.Logger) (string, error) {
	path, err := commandPath(h)
	if err != nil {
		log.Error("command not found", "hook", h.ID, "command", h.ExecuteCommand, "error", err)
		return "", err
	}
	argv := []string{path}
	for _, a := range h.PassArguments {
		v, err := req.Get(a)
		if err != nil {
			log.Info("argument not found, passing an empty one", "hook", h.ID, "source", a.Source, "name", a.Name)
		}
		argv = append(argv, v)
	}
	var env []string
	for _, a := range h.PassEnvironment {
		v, err := req.Get(a)
		if err != nil {
			log.Info("environment value not found", "hook", h.ID, "source", a.Source, "name", a.Name)
			continue
		}
		env = append(env, envName(a)+"="+v)
	}
	var files []string
	defer func() {
		for _, f := range files {
			_ = os.Remove(f)
		}
	}()
	for _, a := range h.PassFiles {
		v, err := req.Get(a)
		if err != nil {
			log.Info("file value not found", "hook", h.ID, "source", a.Source, "name", a.Name)
			continue
		}
		data := []byte(v)
		if a.Base64Decode {
			if data, err = base64.StdEncoding.DecodeString(v); err != nil {
				log.Warn("base64 decoding failed", "hook", h.ID, "name", a.Name, "error", err)
				continue
			}
		}
		name := a.EnvName
		if name == "" {
			name = "HOOK_" + strings.ToUpper(a.Name) // webhook upper-cases the name of files only
		}
		f, err := os.CreateTemp(h.CommandWorkingDirectory, name)
		if err != nil {
			log.Error("cannot create a file for the command", "hook", h.ID, "error", err)
			return "", err
		}
		files = append(files, f.Name())
		_, werr := f.Write(data)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return "", werr
		}
		abs, _ := filepath.Abs(f.Name())
		env = append(env, name+"="+abs)
	}
	timeout := time.Duration(h.Timeout)
	if timeout <= 0 {
		timeout = s.opts.Timeout
	}
	cmd := &render.Command{Argv: argv, Env: append(os.Environ(), env...), Dir: h.CommandWorkingDirectory, Timeout: timeout, MaxOutput: s.opts.MaxOutput,
		KeepChildren: h.KeepChildren}
	start := time.Now()
	res := deliver.Run(ctx, cmd)
	attrs := []any{"hook", h.ID, "outcome", res.Outcome, "duration_ms", float64(time.Since(start).Microseconds()) / 1000}
	if res.ExitCode != nil {
		attrs = append(attrs, "exit_code", *res.ExitCode)
	}
	if res.OK() {
		log.Info("command finished", attrs...)
		return res.Output, nil
	}
	log.Warn("command failed", append(attrs, "error", res.Error)...)
	return res.Output, errors.New(res.Error)
}

// envName is the variable an argument is passed in: its envname, or HOOK_ and its name.
func envName(a Argument) string {
	if a.EnvName != "" {
		return a.EnvName
	}
	return "HOOK_" + a.Name
}

// commandPath finds the command as webhook does: a relative command with a working
// directory is taken in that directory only; otherwise PATH is searched (or, for a
// relative path with a slash, the server's working directory).
func commandPath(h *Hook) (string, error) {
	c := h.ExecuteCommand
	if h.CommandWorkingDirectory != "" && !filepath.IsAbs(c) {
		c = filepath.Join(h.CommandWorkingDirectory, c)
		if abs, err := filepath.Abs(c); err == nil {
			c = abs
		}
	}
	return exec.LookPath(c)
}
