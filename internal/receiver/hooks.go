// Package receiver is `hookpoint listen`: it serves hooks files in adnanh/webhook's
// format (the same fields, rules and responses) and closes that tool's gaps: a command
// timeout that kills the process group, a concurrency limit with a bounded queue per
// hook, a request body limit, Standard Webhooks signatures as a rule, atomic hot reload
// and graceful shutdown.
package receiver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/hookpoint/hookpoint/internal/safefile"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/hookpoint/hookpoint/internal/config"
)

// Hook is one entry of a hooks file.
type Hook struct {
	ID                         string     `yaml:"id" json:"id"`
	ExecuteCommand             string     `yaml:"execute-command" json:"execute-command"`
	CommandWorkingDirectory    string     `yaml:"command-working-directory" json:"command-working-directory"`
	ResponseMessage            string     `yaml:"response-message" json:"response-message"`
	ResponseHeaders            []Header   `yaml:"response-headers" json:"response-headers"`
	CaptureOutput              bool       `yaml:"include-command-output-in-response" json:"include-command-output-in-response"`
	CaptureOutputOnError       bool       `yaml:"include-command-output-in-response-on-error" json:"include-command-output-in-response-on-error"`
	StreamOutput               bool       `yaml:"stream-command-output" json:"stream-command-output"` // not streamed: answered whole
	PassEnvironment            []Argument `yaml:"pass-environment-to-command" json:"pass-environment-to-command"`
	PassArguments              []Argument `yaml:"pass-arguments-to-command" json:"pass-arguments-to-command"`
	PassFiles                  []Argument `yaml:"pass-file-to-command" json:"pass-file-to-command"`
	ParseParametersAsJSON      []Argument `yaml:"parse-parameters-as-json" json:"parse-parameters-as-json"`
	TriggerRule                *Rules     `yaml:"trigger-rule" json:"trigger-rule"`
	MismatchCode               int        `yaml:"trigger-rule-mismatch-http-response-code" json:"trigger-rule-mismatch-http-response-code"`
	SignatureSoftFailures      bool       `yaml:"trigger-signature-soft-failures" json:"trigger-signature-soft-failures"`
	IncomingPayloadContentType string     `yaml:"incoming-payload-content-type" json:"incoming-payload-content-type"`
	SuccessCode                int        `yaml:"success-http-response-code" json:"success-http-response-code"`
	HTTPMethods                []string   `yaml:"http-methods" json:"http-methods"`
	// hookpoint's additions.
	Timeout        Duration `yaml:"timeout" json:"timeout"`
	MaxConcurrency int      `yaml:"max-concurrency" json:"max-concurrency"`
	MaxQueue       int      `yaml:"max-queue" json:"max-queue"`
	// KeepChildren leaves what the command started in the background running after it
	// ends; by default its process group is killed then.
	KeepChildren bool `yaml:"keep-children" json:"keep-children"`

	line int // where the hook starts in its file
}

// Header is a response header.
type Header struct {
	Name  string `yaml:"name" json:"name"`
	Value string `yaml:"value" json:"value"`
}

// Argument names where a value comes from.
type Argument struct {
	Source       string `yaml:"source" json:"source"`
	Name         string `yaml:"name" json:"name"`
	EnvName      string `yaml:"envname" json:"envname"`
	Base64Decode bool   `yaml:"base64decode" json:"base64decode"`
}

// Rules is a trigger rule: exactly one of And, Or, Not, Match.
type Rules struct {
	And   []Rules    `yaml:"and" json:"and"`
	Or    []Rules    `yaml:"or" json:"or"`
	Not   *Rules     `yaml:"not" json:"not"`
	Match *MatchRule `yaml:"match" json:"match"`

	line int
}

// MatchRule is one condition.
type MatchRule struct {
	Type      string   `yaml:"type" json:"type"`
	Regex     string   `yaml:"regex" json:"regex"`
	Secret    string   `yaml:"secret" json:"secret"`
	Value     string   `yaml:"value" json:"value"`
	Parameter Argument `yaml:"parameter" json:"parameter"`
	IPRange   string   `yaml:"ip-range" json:"ip-range"`
	// Tolerance is the replay window of standard-webhooks (default 5m).
	Tolerance Duration `yaml:"tolerance" json:"tolerance"`

	re   *regexp.Regexp
	line int
	// templated: the value came (at least in part) from the template's getenv.
	templated bool
}

// Duration is written "30s" or as a number of seconds, as in hookpoint's own config.
type Duration = config.Duration

// Match types.
const (
	MatchValue            = "value"
	MatchRegex            = "regex"
	MatchHMACSHA1         = "payload-hmac-sha1"
	MatchHMACSHA256       = "payload-hmac-sha256"
	MatchHMACSHA512       = "payload-hmac-sha512"
	MatchHashSHA1         = "payload-hash-sha1" // older names of the hmac types
	MatchHashSHA256       = "payload-hash-sha256"
	MatchHashSHA512       = "payload-hash-sha512"
	MatchIPWhitelist      = "ip-whitelist"
	MatchStandardWebhooks = "standard-webhooks"
)

// Sources of arguments.
const (
	SourceHeader        = "header"
	SourceQuery         = "url"
	SourceQueryAlias    = "query"
	SourcePayload       = "payload"
	SourceRequest       = "request"
	SourceString        = "string"
	SourceEntirePayload = "entire-payload"
	SourceEntireHeaders = "entire-headers"
	SourceEntireQuery   = "entire-query"
	SourceRawBody       = "raw-request-body"
)

var sources = []string{SourceHeader, SourceQuery, SourceQueryAlias, SourcePayload, SourceRequest, SourceString,
	SourceEntirePayload, SourceEntireHeaders, SourceEntireQuery, SourceRawBody}

// LoadOptions tune loading.
type LoadOptions struct {
	// Template parses each file as a Go template first, with getenv, as webhook's
	// -template does.
	Template bool
	// Getenv is what getenv reads; os.Getenv when nil.
	Getenv func(string) string
}

// Load reads hooks files and returns all their hooks and the warnings about them; ids
// must be unique across files.
func Load(paths []string, o LoadOptions) ([]*Hook, []Warning, error) {
	var all []*Hook
	var warnings []Warning
	seen := map[string]string{}
	for _, p := range paths {
		hooks, w, err := LoadFile(p, o)
		warnings = append(warnings, w...)
		if err != nil {
			return nil, warnings, err
		}
		for _, h := range hooks {
			if prev, dup := seen[h.ID]; dup {
				return nil, warnings, fmt.Errorf("%s: %shook id %q is also defined in %s", p, lineOf(h.line), h.ID, prev)
			}
			seen[h.ID] = p
			all = append(all, h)
		}
	}
	return all, warnings, nil
}

// maxHooksFile bounds a hooks file.
const maxHooksFile = 8 << 20

// LoadFile reads one hooks file (JSON or YAML: a list of hooks).
func LoadFile(path string, o LoadOptions) ([]*Hook, []Warning, error) {
	data, err := safefile.ReadFile(path, maxHooksFile)
	if err != nil {
		return nil, nil, fmt.Errorf("hooks file: %w", err)
	}
	if !o.Template {
		return parse(path, data, nil)
	}
	return parseTemplate(path, data, o)
}

// Parse reads hooks from data (JSON or YAML); name is used in messages. Keys are
// matched as webhook matches them (see canonicalize); keys that match no field are
// ignored, as webhook ignores them, and reported as warnings.
func Parse(name string, data []byte) ([]*Hook, []Warning, error) {
	return parse(name, data, nil)
}

// parse is Parse; prepare, when set, sees the hooks before they are validated.
func parse(name string, data []byte, prepare func([]*Hook)) ([]*Hook, []Warning, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		if jerr := jsonSyntaxError(data); jerr != "" {
			return nil, nil, fmt.Errorf("%s: %s", name, jerr)
		}
		return nil, nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	warnings := canonicalizeHooks(name, &doc)
	var hooks []*Hook
	if err := doc.Decode(&hooks); err != nil {
		return nil, warnings, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if prepare != nil {
		prepare(hooks)
	}
	var errs []error
	ids := map[string]bool{}
	for i, h := range hooks {
		if h == nil {
			errs = append(errs, fmt.Errorf("%s: hook %d: empty", name, i+1))
			continue
		}
		where := fmt.Sprintf("hook %d", i+1)
		if h.ID != "" {
			where = fmt.Sprintf("hook %q", h.ID)
		}
		if err := h.validate(); err != nil {
			line := h.line
			var le *lineError
			if errors.As(err, &le) && le.line > 0 {
				line = le.line
			}
			errs = append(errs, fmt.Errorf("%s: %s%s: %w", name, lineOf(line), where, err))
		}
		if ids[h.ID] {
			errs = append(errs, fmt.Errorf("%s: %s%s: duplicate id", name, lineOf(h.line), where))
		}
		ids[h.ID] = true
	}
	return hooks, warnings, errors.Join(errs...)
}

// jsonSyntaxError describes the syntax error of a JSON hooks file with the line it is
// on (the YAML parser names the line where a JSON list or object starts); "" when data
// is not JSON.
func jsonSyntaxError(data []byte) string {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || (trimmed[0] != '[' && trimmed[0] != '{') {
		return ""
	}
	var v any
	var se *json.SyntaxError
	if err := json.Unmarshal(data, &v); errors.As(err, &se) {
		line := bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n")) + 1
		return fmt.Sprintf("line %d: %s", line, se.Error())
	}
	return ""
}

func lineOf(line int) string {
	if line <= 0 {
		return ""
	}
	return fmt.Sprintf("line %d: ", line)
}

// lineError is an error about the part of a hook that starts on line.
type lineError struct {
	line int
	err  error
}

func (e *lineError) Error() string { return e.err.Error() }
func (e *lineError) Unwrap() error { return e.err }

func atLine(line int, err error) error {
	if err == nil {
		return nil
	}
	var le *lineError
	if errors.As(err, &le) {
		return err // the innermost line counts
	}
	return &lineError{line: line, err: err}
}

// UnmarshalYAML decodes a hook and keeps its line for messages.
func (h *Hook) UnmarshalYAML(n *yaml.Node) error {
	type plain Hook
	h.line = n.Line
	return n.Decode((*plain)(h))
}

// UnmarshalYAML decodes a rule and keeps its line for messages.
func (r *Rules) UnmarshalYAML(n *yaml.Node) error {
	type plain Rules
	r.line = n.Line
	return n.Decode((*plain)(r))
}

// UnmarshalYAML decodes a match and keeps its line for messages.
func (m *MatchRule) UnmarshalYAML(n *yaml.Node) error {
	type plain MatchRule
	m.line = n.Line
	return n.Decode((*plain)(m))
}

func (h *Hook) validate() error {
	if h.ID == "" {
		return errors.New("id is required")
	}
	if strings.ContainsAny(h.ID, "?#") {
		return errors.New("id cannot contain '?' or '#'")
	}
	if h.MaxConcurrency < 0 || h.MaxQueue < -1 || h.Timeout < 0 {
		return errors.New("timeout and max-concurrency cannot be negative; max-queue is -1 (no queue), 0 (the default) or more")
	}
	if h.StreamOutput {
		// Not streamed here: the output comes whole when the command ends.
		h.CaptureOutput = true
	}
	for _, group := range [][]Argument{h.PassArguments, h.PassEnvironment, h.PassFiles, h.ParseParametersAsJSON} {
		for _, a := range group {
			if err := a.validate(); err != nil {
				return err
			}
		}
	}
	if h.TriggerRule != nil {
		return h.TriggerRule.compile()
	}
	return nil
}

func (a Argument) validate() error {
	for _, s := range sources {
		if a.Source == s {
			return nil
		}
	}
	return fmt.Errorf("argument source %q is not one of %s", a.Source, strings.Join(sources, ", "))
}

func (r *Rules) compile() error {
	n := 0
	if r.And != nil {
		n++
	}
	if r.Or != nil {
		n++
	}
	if r.Not != nil {
		n++
	}
	if r.Match != nil {
		n++
	}
	if n != 1 {
		return atLine(r.line, errors.New("a trigger rule holds exactly one of and, or, not, match"))
	}
	for i := range r.And {
		if err := r.And[i].compile(); err != nil {
			return err
		}
	}
	for i := range r.Or {
		if err := r.Or[i].compile(); err != nil {
			return err
		}
	}
	if r.Not != nil {
		return r.Not.compile()
	}
	if m := r.Match; m != nil {
		return atLine(m.line, m.compile())
	}
	return nil
}

func (m *MatchRule) compile() error {
	switch m.Type {
	case MatchValue:
		if m.Value == "" && m.templated {
			return errors.New("match value comes from the template and is empty (getenv of an unset or empty variable?): " +
				"the rule would let through any request whose parameter is empty, so the hook is refused")
		}
	case MatchHMACSHA1, MatchHMACSHA256, MatchHMACSHA512, MatchHashSHA1, MatchHashSHA256, MatchHashSHA512:
		if m.Secret == "" {
			return fmt.Errorf("%s rule has an empty secret: no request could pass it, so the hook is refused", m.Type)
		}
	case MatchRegex:
		re, err := regexp.Compile(m.Regex)
		if err != nil {
			return fmt.Errorf("match regex: %w", err)
		}
		m.re = re
	case MatchIPWhitelist:
		if _, err := parseIPRanges(m.IPRange); err != nil {
			return err
		}
	case MatchStandardWebhooks:
		if _, err := standardKeys(m.Secret); err != nil {
			return err
		}
	default:
		return fmt.Errorf("match type %q is not supported", m.Type)
	}
	if m.Type != MatchIPWhitelist && m.Type != MatchStandardWebhooks {
		if err := m.Parameter.validate(); err != nil {
			return err
		}
	}
	return nil
}
