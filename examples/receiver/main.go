// Command receiver is a tiny webhook receiver for trying hookpoint: it prints every
// request it gets, checks Standard Webhooks signatures when given the secret, and answers
// with the status asked for.
//
//	go run ./examples/receiver -addr 127.0.0.1:9876 -secret whsec_...
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/hookpoint/hookpoint/internal/config"
	"github.com/hookpoint/hookpoint/internal/sign"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9876", "address to listen on")
	secret := flag.String("secret", os.Getenv("RECEIVER_SECRET"), "Standard Webhooks secret (whsec_...) to verify signatures with")
	fail := flag.String("fail", "", "answer 500 to requests whose path contains this text")
	flag.Parse()
	var keys [][]byte
	if *secret != "" {
		k, err := config.DecodeSigningSecret(*secret)
		if err != nil {
			log.Fatalf("-secret: %v", err)
		}
		keys = [][]byte{k}
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		var b strings.Builder
		fmt.Fprintf(&b, "--- %s %s\n", r.Method, r.URL.RequestURI())
		names := make([]string, 0, len(r.Header))
		for n := range r.Header {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			v := strings.Join(r.Header[n], ", ")
			if n == "Authorization" {
				v = "(hidden)"
			}
			fmt.Fprintf(&b, "%s: %s\n", n, v)
		}
		if len(body) > 0 {
			fmt.Fprintf(&b, "\n%s\n", body)
		}
		if keys != nil && r.Header.Get(sign.HeaderID) == "" {
			b.WriteString("signature: (unsigned)\n")
		} else if keys != nil {
			err := sign.Verify(keys, r.Header.Get(sign.HeaderID), r.Header.Get(sign.HeaderTimestamp), r.Header.Get(sign.HeaderSignature), body, time.Now(), 5*time.Minute)
			fmt.Fprintf(&b, "signature: %v\n", okOr(err))
		}
		fmt.Print(b.String())
		if *fail != "" && strings.Contains(r.URL.Path, *fail) {
			http.Error(w, "failing on purpose", http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	log.Printf("receiver listening on http://%s", *addr)
	log.Fatal(srv.ListenAndServe())
}

func okOr(err error) string {
	if err == nil {
		return "valid"
	}
	return "INVALID: " + err.Error()
}
