package config_test

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/template"
)

// TestFullConfig loads the config that uses every field, in YAML and in JSON, and checks
// what was decoded and that every template was compiled.
func TestFullConfig(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"full.yaml", "full.json"} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Load(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			checkFullConfig(t, cfg)
		})
	}
}

func checkFullConfig(t *testing.T, cfg *config.Config) {
	t.Helper()
	byID := map[string]*config.Hook{}
	for _, h := range cfg.Hooks {
		byID[h.ID] = h
		checkCompiled(t, h)
	}
	if len(byID) != 7 {
		t.Fatalf("%d hooks", len(byID))
	}

	freeze := byID["freeze-app"]
	if freeze.Description == "" || !freeze.IsEnabled() || freeze.Order != 10 || len(freeze.On) != 2 ||
		!reflect.DeepEqual([]string(freeze.Status), []string{"any"}) || freeze.OnFailure != "abort" || freeze.Mode != "sync" {
		t.Errorf("freeze-app hook fields: %+v", freeze)
	}
	fh := freeze.HTTP
	if fh.Method != "POST" || fh.BodyType != "json" || !fh.Body.IsStructured() || fh.Timeout.D() != 10*time.Second ||
		!reflect.DeepEqual([]int(fh.Expect), []int{200, 202, 204}) || len(fh.Headers) != 2 {
		t.Errorf("freeze-app http: %+v", fh)
	}
	if fh.Auth.Type != "bearer" || !fh.Auth.Base64 || fh.Auth.Token == "" {
		t.Errorf("freeze-app auth: %+v", fh.Auth)
	}
	if *fh.TLS != (config.TLS{CAFile: "/etc/hookpoint/ca.pem", CertFile: "/etc/hookpoint/client.pem", KeyFile: "/etc/hookpoint/client-key.pem"}) {
		t.Errorf("freeze-app tls: %+v", fh.TLS)
	}
	c := fh.Compiled
	if c.URL == nil || c.Tree == nil || c.Body != nil || c.Token == nil || len(c.Secrets) != 2 || len(c.Headers) != 2 ||
		!reflect.DeepEqual(c.HeaderNames, []string{"X-Request-Source", "X-Vm"}) {
		t.Errorf("freeze-app compiled: %+v", c)
	}
	if refs := c.Token.Refs(); len(refs) != 1 || refs[0] != (template.Ref{Func: "env", Arg: "FREEZE_TOKEN"}) {
		t.Errorf("token refs %v", refs)
	}
	if c.Secrets[1].Constant() != true || c.Secrets[0].Constant() {
		t.Error("the constant secret should be the second")
	}
	tree := c.Tree.(map[string]any)
	if _, ok := tree["vm"].(*template.Template); !ok {
		t.Errorf("tree leaf vm is %T", tree["vm"])
	}
	if tags := tree["tags"].([]any); len(tags) != 2 {
		t.Errorf("tree tags %v", tags)
	} else if _, ok := tags[0].(*template.Template); !ok {
		t.Errorf("tree tags[0] is %T", tags[0])
	}
	if tree["dry"] != false {
		t.Errorf("tree dry is %#v", tree["dry"])
	}
	if url := c.URL.Kind(); url != template.URL {
		t.Errorf("url kind %v", url)
	}
	if k := c.Headers["X-Vm"].Kind(); k != template.Header {
		t.Errorf("header kind %v", k)
	}

	mon := byID["notify-monitoring"]
	if mon.IsEnabled() || mon.Order != -5 || !mon.IsAsync() || mon.FailurePolicy(true) != "warn" ||
		mon.Retry.MaxAttempts != 8 || len(mon.Retry.Schedule) != 5 || mon.Retry.Schedule[4].D() != 90*time.Second {
		t.Errorf("notify-monitoring: %+v %+v", mon, mon.Retry)
	}
	if mon.HTTP.Method != "GET" || mon.HTTP.BodyType != "none" || mon.HTTP.Compiled.Username == nil || mon.HTTP.Compiled.Password == nil ||
		!reflect.DeepEqual([]int(mon.HTTP.Expect), []int{200}) {
		t.Errorf("notify-monitoring http: %+v", mon.HTTP)
	}

	chat := byID["chat"].HTTP
	if chat.BodyType != "xml" || chat.Compiled.Body == nil || chat.Compiled.Body.Kind() != template.XML || chat.Auth.Header != "X-Api-Key" || chat.Compiled.Token == nil {
		t.Errorf("chat http: %+v", chat)
	}
	if byID["chat"].FailurePolicy(true) != "ignore" {
		t.Error("chat on_failure")
	}
	audit := byID["audit"].HTTP
	if audit.Method != "PATCH" || audit.BodyType != "form" || audit.Compiled.Tree == nil || audit.Auth.Query != "api_key" {
		t.Errorf("audit http: %+v", audit)
	}
	note := byID["text-note"].HTTP
	if note.Method != "DELETE" || note.BodyType != "text" || note.Compiled.Body == nil || note.Compiled.Body.Kind() != template.Text {
		t.Errorf("text-note http: %+v", note)
	}

	dump := byID["dump-db"].Exec
	if dump.Command != "/usr/local/bin/dump-db.sh" || len(dump.Args) != 3 || dump.Stdin != "json" || dump.Workdir != "/var/tmp" ||
		dump.Timeout.D() != 10*time.Minute || dump.Shell {
		t.Errorf("dump-db exec: %+v", dump)
	}
	if len(dump.Compiled.Args) != 3 || !reflect.DeepEqual(dump.Compiled.EnvNames, []string{"DB_PASSWORD", "VMNAME"}) ||
		dump.Compiled.Args[1].Kind() != template.Arg || dump.Compiled.Env["VMNAME"] == nil {
		t.Errorf("dump-db compiled: %+v", dump.Compiled)
	}
	thaw := byID["thaw"].Exec
	if !thaw.Shell || thaw.Stdin != "none" || thaw.Timeout.D() != 90*time.Second || len(thaw.Compiled.Env) != 1 || len(thaw.Compiled.Args) != 0 {
		t.Errorf("thaw exec: %+v %+v", thaw, thaw.Compiled)
	}

	srv := cfg.Server
	if srv == nil || srv.Compiled == nil || len(srv.Compiled.Ingest) != 3 {
		t.Fatalf("server %+v", srv)
	}
	for _, src := range []string{"xo", "virtfusion", "zerobyte"} {
		if srv.Compiled.Ingest[src] == nil || len(srv.Compiled.Ingest[src].Refs()) != 1 {
			t.Errorf("ingest %s not compiled: %+v", src, srv.Compiled.Ingest[src])
		}
	}
	got := *srv
	got.Compiled = nil
	want := config.Server{Listen: "127.0.0.1:8080", DB: "sqlite://hookpoint.db", AllowedOrigins: []string{"http://host.docker.internal:9000", "10.0.0.0/8"}, TokenFile: "/etc/hookpoint/token",
		SecretKeyFile: "/var/lib/hookpoint/secret.key", Retention: config.Duration(720 * time.Hour), AutoDisableAfter: config.Duration(120 * time.Hour), LogFormat: "json",
		Ingest: &config.Ingest{
			XO:         &config.IngestXO{Secret: `{{ env "XO_INGEST_SECRET" }}`},
			VirtFusion: &config.IngestVirtFusion{Token: `{{ env "VIRTFUSION_TOKEN" }}`},
			Zerobyte:   &config.IngestZerobyte{Header: "X-Zerobyte-Hook-Secret", Secret: `{{ file "/etc/hookpoint/zerobyte" }}`},
		}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("server %+v", got)
	}
	for _, h := range cfg.Hooks {
		if h.ID == "notify-monitoring" && (h.MaxInFlight != 4 || h.Rate == nil || h.Rate.String() != "50/s" || h.Rate.PerSecond() != 50) {
			t.Errorf("notify-monitoring limits: %d %+v", h.MaxInFlight, h.Rate)
		}
	}
}

// checkCompiled asserts that every template a hook's action has was compiled.
func checkCompiled(t *testing.T, h *config.Hook) {
	t.Helper()
	if a := h.HTTP; a != nil {
		c := a.Compiled
		if c == nil || c.URL == nil {
			t.Fatalf("%s: http not compiled", h.ID)
		}
		if a.Body != nil && c.Body == nil && c.Tree == nil {
			t.Errorf("%s: body not compiled", h.ID)
		}
		if len(c.Headers) != len(a.Headers) || len(c.HeaderNames) != len(a.Headers) {
			t.Errorf("%s: %d headers compiled of %d", h.ID, len(c.Headers), len(a.Headers))
		}
		if a.Sign != nil && len(c.Secrets) != len(a.Sign.Secret) {
			t.Errorf("%s: %d secrets compiled of %d", h.ID, len(c.Secrets), len(a.Sign.Secret))
		}
		if au := a.Auth; au != nil {
			switch au.Type {
			case config.AuthBasic:
				if c.Username == nil || c.Password == nil {
					t.Errorf("%s: basic auth not compiled", h.ID)
				}
			case config.AuthBearer, config.AuthAPIKey:
				if c.Token == nil {
					t.Errorf("%s: token not compiled", h.ID)
				}
			}
		}
	}
	if a := h.Exec; a != nil {
		c := a.Compiled
		if c == nil {
			t.Fatalf("%s: exec not compiled", h.ID)
		}
		if !a.Shell && len(c.Args) != len(a.Args) || len(c.Env) != len(a.Env) || len(c.EnvNames) != len(a.Env) {
			t.Errorf("%s: %d args and %d env compiled of %d and %d", h.ID, len(c.Args), len(c.Env), len(a.Args), len(a.Env))
		}
	}
}

// TestSpecExample: the example config (testdata/spec.yaml, the one at the top of
// docs/configuration.md with every field it shows) loads as it is written.
func TestSpecExample(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load(filepath.Join("testdata", "spec.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Hooks) != 3 || cfg.Server == nil || len(cfg.Server.AllowedOrigins) != 2 {
		t.Fatalf("%+v", cfg)
	}
	for _, h := range cfg.Hooks {
		checkCompiled(t, h)
	}
	if h := cfg.Hooks[1]; !h.IsAsync() || h.Retry.MaxAttempts != 8 || h.HTTP.Method != "POST" || h.HTTP.BodyType != "json" {
		t.Errorf("notify-monitoring: %+v %+v", h, h.HTTP)
	}
}
