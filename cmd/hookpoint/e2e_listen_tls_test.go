package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// -secure serves HTTPS with -cert and -key, as webhook does.
func TestListenTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile, der := testCert(t, dir)
	hooks := filepath.Join(dir, "hooks.json")
	if err := os.WriteFile(hooks, []byte(hooksJSON(t, listenHook{id: "hello", script: "echo secure", sync: true})), 0o600); err != nil {
		t.Fatal(err)
	}
	l := startListen(t, "-hooks", hooks, "-secure", "-cert", certFile, "-key", keyFile)
	pool := x509.NewCertPool()
	pool.AddCert(mustParse(t, der))
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Post(strings.Replace(l.base, "http://", "https://", 1)+"/hooks/hello", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatalf("HTTPS request: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "secure\n" {
		t.Fatalf("HTTPS: %d %q, want 200 %q", resp.StatusCode, body, "secure\n")
	}
	// Plain HTTP on the TLS port does not run the hook.
	if resp, err := http.Post(l.base+"/hooks/hello", "application/json", strings.NewReader("{}")); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP reached the hook on a -secure listener")
		}
	}
}

func mustParse(t *testing.T, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// webhook's other flags are accepted (so unit files keep working), except -setuid and
// -setgid, which are refused rather than silently ignored.
func TestListenCompatFlags(t *testing.T) {
	t.Parallel()
	p := runHP(t, childEnv(t), "listen", "-list-cipher-suites")
	wantExit(t, p, 0)
	if !strings.Contains(p.stdout, "TLS_") {
		t.Errorf("-list-cipher-suites printed no suite:\n%s", p.stdout)
	}
	p = runHP(t, childEnv(t), "listen", "-hooks", "x.json", "-setuid", "33")
	wantExit(t, p, 2)
	if !strings.Contains(p.stderr, "not supported") {
		t.Errorf("-setuid: %s", p.stderr)
	}
	p = runHP(t, childEnv(t), "listen", "-hooks", "x.json", "-tls-min-version", "0.9")
	wantExit(t, p, 2)
}

// testCert writes a self-signed certificate for 127.0.0.1 and its key into dir.
func testCert(t *testing.T, dir string) (certFile, keyFile string, der []byte) {
	t.Helper()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, der
}
