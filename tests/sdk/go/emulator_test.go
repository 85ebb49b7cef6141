// What every SDK test shares: the emulator's URL, its control plane, an HTTP client that sends
// a provider's requests to the emulator, and a webhook receiver.
package sdk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"
)

// base is the emulator's URL, from tests/sdk/run.sh.
func base(t *testing.T) string {
	t.Helper()
	u := os.Getenv("CALLERID_MOCK_URL")
	if u == "" {
		t.Fatal("CALLERID_MOCK_URL is not set: run tests/sdk/run.sh")
	}
	return u
}

// control GETs a control-plane route, or POSTs body to it as JSON, and decodes the answer.
func control(t *testing.T, path string, body any) map[string]any {
	t.Helper()
	var res *http.Response
	var err error
	if body == nil {
		res, err = http.Get(base(t) + path)
	} else {
		data, _ := json.Marshal(body)
		res, err = http.Post(base(t)+path, "application/json", bytes.NewReader(data))
	}
	if err != nil {
		t.Fatalf("control %s: %v", path, err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("control %s: %v", path, err)
	}
	return out
}

// docs:begin go-transport
// toEmulator is a RoundTripper that sends every request to the emulator instead of the host
// the SDK names: the documented way to give a Go SDK its own http.Client.
type toEmulator struct{ target *url.URL }

func (e toEmulator) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host, req.Host = e.target.Scheme, e.target.Host, ""
	return http.DefaultTransport.RoundTrip(req)
}

// emulatorClient is an http.Client whose every request reaches the emulator.
func emulatorClient(t *testing.T) *http.Client {
	target, err := url.Parse(base(t))
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: toEmulator{target}, Timeout: 10 * time.Second}
}

// docs:end go-transport

// received is one request a receiver got.
type received struct {
	Method, Path string
	Header       http.Header
	Body         string
}

// receiver records every request and answers 200.
type receiver struct {
	server *httptest.Server
	mu     sync.Mutex
	got    []received
}

func newReceiver(t *testing.T) *receiver { return newAnswering(t, "") }

// newAnswering is a receiver that answers with document (XML) when it is not empty.
func newAnswering(t *testing.T, document string) *receiver {
	r := &receiver{}
	r.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{req.Method, req.URL.RequestURI(), req.Header, string(body)})
		r.mu.Unlock()
		if document != "" {
			w.Header().Set("Content-Type", "application/xml")
			_, _ = io.WriteString(w, document)
		}
	}))
	t.Cleanup(r.server.Close)
	return r
}

func (r *receiver) url(path string) string { return r.server.URL + path }

// waitFor waits up to 5 s for n requests and returns them; fails saying what came.
func (r *receiver) waitFor(t *testing.T, n int) []received {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		r.mu.Lock()
		got := append([]received(nil), r.got...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
	}
	t.Fatalf("expected %d callback(s) at %s within 5 s, got %d; the journal says %v",
		n, r.server.URL, len(r.got), control(t, "/_mock/callbacks?limit=3", nil)["callbacks"])
	return nil
}

// ok(f())(t) is f's value, or fails the test with f's error.
func ok[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%v", err)
		}
		return v
	}
}

func equal[T comparable](t *testing.T, got, want T, what string) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

func str(v any) string { return fmt.Sprint(v) }
