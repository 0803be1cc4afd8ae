package server

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/store"
)

// The server's hooks come from two places: the config file (read-only here, reloaded on
// SIGHUP) and the API (stored in the database with their secrets encrypted). Both are
// mirrored in the store's hooks table, which also holds what deliveries change — enabled
// or auto-disabled, failing since, last success — so that the API and the UI show one
// list. The engine fires the hooks of the current snapshot, swapped atomically.

// entry is one hook as the server knows it.
type entry struct {
	base      *config.Hook // validated and compiled, as defined
	hook      *config.Hook // base, disabled when the stored state says so
	version   int
	managedBy string // "file" or "api"
	file      string // the config file of a file hook
	secrets   map[string]string
	state     store.HookState
	created   time.Time
	updated   time.Time
	// def is the stored definition (secrets replaced by references), as JSON.
	def []byte
}

// snapshot is the set of hooks at one moment.
type snapshot struct {
	byID  map[string]*entry
	hooks []*config.Hook // for the engine, in id order
}

// hookSet holds the current snapshot; writers serialise on mu and publish a new one.
type hookSet struct {
	mu      sync.Mutex
	current atomic.Pointer[snapshot]
	// onChange is called with the engine's hooks after every change.
	onChange func([]*config.Hook)
}

func newHookSet(onChange func([]*config.Hook)) *hookSet {
	hs := &hookSet{onChange: onChange}
	hs.current.Store(&snapshot{byID: map[string]*entry{}})
	return hs
}

// Hook is the queue's view: the hook's current definition and version.
func (hs *hookSet) Hook(id string) (*config.Hook, int, bool) {
	e, ok := hs.current.Load().byID[id]
	if !ok {
		return nil, 0, false
	}
	return e.hook, e.version, true
}

func (hs *hookSet) get(id string) (*entry, bool) {
	e, ok := hs.current.Load().byID[id]
	return e, ok
}

func (hs *hookSet) all() []*entry {
	s := hs.current.Load()
	out := make([]*entry, 0, len(s.byID))
	for _, e := range s.byID {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].hook.ID < out[j].hook.ID })
	return out
}

// storedSecrets is the engine's StoredSecrets: hooks made through the API read their
// own secrets (and nothing of the server's); the config file's hooks are not such hooks.
func (hs *hookSet) storedSecrets(hookID string) (func(name string) (string, bool), bool) {
	e, ok := hs.current.Load().byID[hookID]
	if ok && e.managedBy == managedFile {
		return nil, false
	}
	var secrets map[string]string
	if ok {
		secrets = e.secrets
	} // a hook no longer in the set (deleted meanwhile) reads nothing
	return func(name string) (string, bool) {
		v, ok := secrets[name]
		return v, ok
	}, true
}

// publish replaces the snapshot with byID (under hs.mu).
func (hs *hookSet) publish(byID map[string]*entry) {
	s := &snapshot{byID: byID}
	for _, e := range byID {
		s.hooks = append(s.hooks, e.hook)
	}
	sort.Slice(s.hooks, func(i, j int) bool { return s.hooks[i].ID < s.hooks[j].ID })
	hs.current.Store(s)
	if hs.onChange != nil {
		hs.onChange(s.hooks)
	}
}

// withState returns the hook as the engine must see it: disabled when either its
// definition or the stored state says so.
func withState(h *config.Hook, st store.HookState) *config.Hook {
	if h.IsEnabled() && st.Enabled {
		return h
	}
	c := *h
	off := false
	c.Enabled = &off
	return &c
}

// load reads every hook from the store and publishes them; file hooks come from cfgHooks
// (the config file's, validated), API hooks are parsed from their stored definitions.
func (s *Server) loadHooks(ctx context.Context) error {
	hs := s.hooks
	hs.mu.Lock()
	defer hs.mu.Unlock()
	stored, err := s.store.ListHooks(ctx)
	if err != nil {
		return err
	}
	byID := map[string]*entry{}
	for _, sh := range stored {
		if sh.ManagedBy != managedAPI {
			continue // file hooks are taken from the file below
		}
		e, err := s.apiEntry(ctx, sh)
		if err != nil {
			// A stored hook that no longer validates (a newer server wrote it, or a rule
			// changed) is kept out of the engine, and said so.
			s.log.Error("stored hook not loaded", "hook", sh.ID, "err", err)
			continue
		}
		byID[e.hook.ID] = e
	}
	states := map[string]*store.Hook{}
	for _, sh := range stored {
		states[sh.ID] = sh
	}
	for _, h := range s.fileHooks() {
		if _, taken := byID[h.ID]; taken {
			s.log.Error("a hook of the config file has the id of a hook made through the API; the file's is not loaded", "hook", h.ID)
			continue
		}
		def, _ := json.Marshal(h)
		e := &entry{base: h, managedBy: managedFile, file: s.cfgFile(), def: def, state: store.HookState{Enabled: true}}
		if sh, ok := states[h.ID]; ok && sh.ManagedBy == managedFile {
			e.version, e.state, e.created, e.updated = sh.Version, stateOf(sh), sh.CreatedAt, sh.UpdatedAt
			if string(sh.Def) != string(def) {
				e.version = 0 // changed: stored again below
			}
		}
		if e.version == 0 {
			now := s.now()
			row := &store.Hook{ID: h.ID, Def: def, ManagedBy: managedFile, Enabled: e.state.Enabled,
				DisabledReason: e.state.DisabledReason, FailingSince: e.state.FailingSince, LastSuccessAt: e.state.LastSuccessAt,
				LastOutcome: e.state.LastOutcome, CreatedAt: now, UpdatedAt: now}
			if sh, ok := states[h.ID]; ok {
				row.CreatedAt = sh.CreatedAt
			}
			if err := s.store.PutHook(ctx, row); err != nil {
				return fmt.Errorf("hook %s of the config file: %w", h.ID, err)
			}
			e.version, e.created, e.updated = row.Version, row.CreatedAt, row.UpdatedAt
			s.queue.HookChanged(h.ID)
		}
		e.hook = withState(h, e.state)
		byID[h.ID] = e
	}
	// File hooks that left the file leave the store too.
	for _, sh := range stored {
		if _, ok := byID[sh.ID]; !ok && sh.ManagedBy == managedFile {
			if err := s.store.DeleteHook(ctx, sh.ID); err != nil {
				return err
			}
			s.queue.HookChanged(sh.ID)
		}
	}
	hs.publish(byID)
	return nil
}

const (
	managedAPI  = "api"
	managedFile = "file"
)

func stateOf(h *store.Hook) store.HookState {
	return store.HookState{Enabled: h.Enabled, DisabledReason: h.DisabledReason, FailingSince: h.FailingSince,
		LastSuccessAt: h.LastSuccessAt, LastOutcome: h.LastOutcome}
}

// apiEntry parses a stored API hook and decrypts its secrets.
func (s *Server) apiEntry(ctx context.Context, sh *store.Hook) (*entry, error) {
	stored, err := s.store.GetSecrets(ctx, sh.ID)
	if err != nil {
		return nil, err
	}
	secrets := map[string]string{}
	for _, sec := range stored {
		plain, err := s.box.Open(sec.Ciphertext, secretAD(sh.ID, sec.Name))
		if err != nil {
			return nil, fmt.Errorf("secret %s cannot be decrypted with the key in use: %w", sec.Name, err)
		}
		secrets[sec.Name] = string(plain)
	}
	h, issues := s.parseHook(sh.Def, secrets)
	if len(issues) > 0 {
		return nil, issueError{issues[0]}
	}
	st := stateOf(sh)
	return &entry{base: h, hook: withState(h, st), version: sh.Version, managedBy: managedAPI, secrets: secrets, state: st,
		created: sh.CreatedAt, updated: sh.UpdatedAt, def: sh.Def}, nil
}

// secretAD binds a ciphertext to its hook and name: it cannot be moved to another.
func secretAD(hookID, name string) []byte {
	return []byte("hookpoint hook secret\x00" + hookID + "\x00" + name)
}

// updateState applies a state change to the snapshot without reloading.
func (hs *hookSet) updateState(id string, st store.HookState) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	cur := hs.current.Load()
	e, ok := cur.byID[id]
	if !ok {
		return
	}
	next := maps.Clone(cur.byID)
	ne := *e
	ne.state = st
	ne.hook = withState(e.base, st)
	next[id] = &ne
	hs.publish(next)
}

// secretNames lists the names of a hook's stored secrets.
func (e *entry) secretNames() []string {
	names := slices.Collect(maps.Keys(e.secrets))
	sort.Strings(names)
	return names
}

// issueError is a config issue as an error with the field it names.
type issueError struct{ config.Issue }

func (e issueError) Error() string { return e.Message }

// fieldOf turns a config issue's field (hooks[0].http.url) into the API's (http.url).
func fieldOf(is config.Issue) string {
	f := is.Field
	if rest, ok := strings.CutPrefix(f, "hooks[0]"); ok {
		f = strings.TrimPrefix(rest, ".")
	}
	return f
}
