package hookpoint_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/hookpoint/hookpoint"
)

// Fire the hooks of a gate event: the first hook freezes the application, the second
// finds too little disk space and aborts the event, so the third never runs and the
// backup must not start.
func Example() {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.RequestURI()+" hook="+r.Header.Get("X-Hookpoint-Hook"))
		mu.Unlock()
		if r.URL.Path == "/space" {
			http.Error(w, "only 2 GiB free", http.StatusInsufficientStorage)
		}
	}))
	defer srv.Close()

	cfg, err := hookpoint.ParseConfig("hookpoint.yaml", []byte(`
hooks:
  - id: freeze-app
    order: 10
    on: ["backup.pre"]
    http:
      url: "`+srv.URL+`/freeze?vm={{ .data.vmid }}"
      body: {vm: "{{ .data.vmname }}"}
  - id: check-space
    order: 20
    on: ["*.pre"]
    http: {url: "`+srv.URL+`/space", method: GET}
  - id: dump-db
    order: 30
    on: ["backup.pre"]
    exec: {command: /usr/local/bin/dump-db.sh}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	eng := hookpoint.New(cfg, hookpoint.Options{})
	defer eng.Close()

	ev := hookpoint.NewEvent("backup.pre")
	ev.Gate = true
	ev.Data["vmid"] = "100"
	ev.Data["vmname"] = "db-1"
	out, err := eng.Fire(context.Background(), ev)
	if err != nil {
		fmt.Println(err)
		return
	}

	fmt.Println("verdict:", out.Verdict)
	if r := out.AbortedBy(); r != nil {
		fmt.Println("aborted by:", r.HookID, r.Error)
	}
	for _, r := range out.Results {
		fmt.Printf("%-12s %-4s %-7s %d\n", r.HookID, r.Action, r.Outcome, r.Status)
	}
	for _, g := range got {
		fmt.Println("received:", g)
	}
	// Output:
	// verdict: abort
	// aborted by: check-space unexpected status 507
	// freeze-app   http ok      200
	// check-space  http failed  507
	// dump-db      exec skipped 0
	// received: POST /freeze?vm=100 hook=freeze-app
	// received: GET /space hook=check-space
}
