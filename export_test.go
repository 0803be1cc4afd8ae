package hookpoint

// DrainStarted reports whether Drain has begun on e, for tests that must order their
// steps after it.
func DrainStarted(e *Engine) bool {
	e.async.mu.Lock()
	defer e.async.mu.Unlock()
	return e.async.draining
}
