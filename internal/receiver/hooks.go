// Package receiver is `hookpoint listen`: it serves hooks files in adnanh/webhook's
// format (the same fields, rules and responses) and closes that tool's gaps: a command
// timeout that kills the process group, a concurrency limit with a bounded queue per
// hook, a request body limit, Standard Webhooks signatures as a rule, atomic hot reload
// and graceful shutdown.
package receiver

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/safefile"
	"os"
	"regexp"
	"strings"
	ttemplate "text/template"

	"go.yaml.in/yaml/v3"
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

	re *regexp.Regexp
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

// Load reads hooks files and returns all their hooks; ids must be unique across files.
func Load(paths []string, o LoadOptions) ([]*Hook, error) {
	var all []*Hook
	seen := map[string]string{}
	for _, p := range paths {
		hooks, err := LoadFile(p, o)
		if err != nil {
			return nil, err
		}
		for _, h := range hooks {
			if prev, dup := seen[h.ID]; dup {
				return nil, fmt.Errorf("%s: hook id %q is also defined in %s", p, h.ID, prev)
			}
			seen[h.ID] = p
			all = append(all, h)
		}
	}
	return all, nil
}

// maxHooksFile bounds a hooks file.
const maxHooksFile = 8 << 20

// LoadFile reads one hooks file (JSON or YAML: a list of hooks).
func LoadFile(path string, o LoadOptions) ([]*Hook, error) {
	data, err := safefile.ReadFile(path, maxHooksFile)
	if err != nil {
		return nil, fmt.Errorf("hooks file: %w", err)
	}
	if o.Template {
		getenv := o.Getenv
		if getenv == nil {
			getenv = os.Getenv
		}
		t, err := ttemplate.New(path).Funcs(ttemplate.FuncMap{"getenv": getenv}).Parse(string(data))
		if err != nil {
			return nil, fmt.Errorf("%s: template: %w", path, err)
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, nil); err != nil {
			return nil, fmt.Errorf("%s: template: %w", path, err)
		}
		data = buf.Bytes()
	}
	return Parse(path, data)
}

// Parse reads hooks from data (JSON or YAML); name is used in messages. Fields this
// package does not know are ignored, as webhook ignores them, so that every hooks file
// webhook accepts loads here too.
func Parse(name string, data []byte) ([]*Hook, error) {
	var hooks []*Hook
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&hooks); err != nil {
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var errs []error
	ids := map[string]bool{}
	for i, h := range hooks {
		where := fmt.Sprintf("%s: hook %d", name, i+1)
		if h == nil {
			errs = append(errs, fmt.Errorf("%s: empty", where))
			continue
		}
		if h.ID != "" {
			where = fmt.Sprintf("%s: hook %q", name, h.ID)
		}
		if err := h.validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
		if ids[h.ID] {
			errs = append(errs, fmt.Errorf("%s: duplicate id", where))
		}
		ids[h.ID] = true
	}
	return hooks, errors.Join(errs...)
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
		return errors.New("a trigger rule holds exactly one of and, or, not, match")
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
		switch m.Type {
		case MatchValue, MatchHMACSHA1, MatchHMACSHA256, MatchHMACSHA512, MatchHashSHA1, MatchHashSHA256, MatchHashSHA512:
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
	}
	return nil
}
