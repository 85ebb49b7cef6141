// Package calleridmock runs callerid-mock in a container with Testcontainers for Go and drives
// its control plane:
//
//	mock, err := calleridmock.Run(ctx, "", calleridmock.WithSeed(1), calleridmock.WithFrozenClock())
//	defer testcontainers.TerminateContainer(mock)
//	client := twilio.NewRestClientWithParams(twilio.ClientParams{...})   // base URL: mock.ProviderURL(ctx, "twilio")
//	code, err := mock.LatestCode(ctx, "+14158675309", 5*time.Second)
//
// The image is callerid-mock:VERSION (Version below; `docker build -t callerid-mock:VERSION .` in
// the repository makes it), or $CALLERID_MOCK_IMAGE, or Run's argument. The container is ready
// when GET /_mock/health answers 200. Webhooks reach the test process at host.docker.internal
// (the host's gateway): listen on 0.0.0.0 and give HostURL(port, path) as the callback URL.
package calleridmock

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Version is the release whose image Run starts by default.
const Version = "0.1.0"

// Port is the port the server listens on inside the container.
const Port = "8484/tcp"

// providerPaths: where each provider's API is, below the server's URL.
var providerPaths = map[string]string{"plivo": "", "twilio": "", "seven": "/api", "telnyx": "/v2", "signalwire": "/api/relay/rest"}

// DefaultImage is $CALLERID_MOCK_IMAGE, else callerid-mock:Version.
func DefaultImage() string {
	if image := os.Getenv("CALLERID_MOCK_IMAGE"); image != "" {
		return image
	}
	return "callerid-mock:" + Version
}

// Container is a started callerid-mock.
type Container struct {
	testcontainers.Container
	adminToken string
	// Ready is how long Run took from its call to a healthy server.
	Ready time.Duration
}

// settings collects what the options ask for.
type settings struct {
	args       []string
	adminToken string
	fixtures   string
}

// Option is a server flag or a setting of the container.
type Option func(*settings)

// WithFlag adds a command-line flag as it is: WithFlag("--ring-time", "3s").
func WithFlag(words ...string) Option { return func(s *settings) { s.args = append(s.args, words...) } }

// WithSeed makes ids and codes deterministic.
func WithSeed(seed int64) Option { return WithFlag("--seed", fmt.Sprint(seed)) }

// WithFrozenClock stops the clock: it moves only when a test advances it.
func WithFrozenClock() Option { return WithFlag("--frozen-clock") }

// WithStartTime sets the clock's start (RFC 3339).
func WithStartTime(t string) Option { return WithFlag("--start-time", t) }

// WithAutoAnswer makes every validation and outbound call answer itself.
func WithAutoAnswer() Option { return WithFlag("--auto-answer") }

// WithStrictAuth accepts only the accounts and tokens of fixtures, a state file on the host
// copied into the container.
func WithStrictAuth(fixtures string) Option {
	return func(s *settings) {
		s.fixtures = fixtures
		s.args = append(s.args, "--strict-auth", "--fixtures", "/fixtures.json")
	}
}

// WithAdminToken closes the control plane to requests without the token; the methods send it.
func WithAdminToken(token string) Option { return func(s *settings) { s.adminToken = token } }

// Run starts callerid-mock from image ("" for DefaultImage) and waits until it is healthy.
func Run(ctx context.Context, image string, opts ...Option) (*Container, error) {
	if image == "" {
		image = DefaultImage()
	}
	var s settings
	for _, opt := range opts {
		opt(&s)
	}
	env := map[string]string{}
	if s.adminToken != "" {
		env["CALLERID_MOCK_ADMIN_TOKEN"] = s.adminToken
	}
	req := testcontainers.ContainerRequest{
		Image:        image,
		ExposedPorts: []string{Port},
		Cmd:          s.args,
		Env:          env,
		// The banner, then /_mock/health below (through the control client: the admin token).
		WaitingFor: wait.ForLog("listening on").WithStartupTimeout(60 * time.Second),
		HostConfigModifier: func(hc *container.HostConfig) {
			hc.ExtraHosts = append(hc.ExtraHosts, "host.docker.internal:host-gateway")
		},
	}
	if s.fixtures != "" {
		req.Files = []testcontainers.ContainerFile{{HostFilePath: s.fixtures, ContainerFilePath: "/fixtures.json", FileMode: 0o644}}
	}
	started := time.Now()
	c, err := testcontainers.GenericContainer(ctx, testcontainers.GenericContainerRequest{ContainerRequest: req, Started: true})
	var mock *Container
	if c != nil {
		mock = &Container{Container: c, adminToken: s.adminToken, Ready: time.Since(started)}
	}
	if err != nil {
		return mock, fmt.Errorf("callerid-mock in %s did not start (build it with `docker build -t %s .` or set CALLERID_MOCK_IMAGE): %w", image, image, err)
	}
	for deadline := time.Now().Add(60 * time.Second); ; {
		err := mock.call(ctx, "GET", "/_mock/health", nil, nil, nil)
		if err == nil {
			mock.Ready = time.Since(started)
			return mock, nil
		}
		if time.Now().After(deadline) {
			return mock, fmt.Errorf("callerid-mock in %s is not healthy: %w", image, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// URL is http://HOST:PORT, the mapped port: the base of every provider's API and of /_mock/.
func (c *Container) URL(ctx context.Context) (string, error) {
	return c.PortEndpoint(ctx, Port, "http")
}

// ProviderURL is the base URL an SDK of provider is pointed at ("telnyx": URL + "/v2").
func (c *Container) ProviderURL(ctx context.Context, provider string) (string, error) {
	path, ok := providerPaths[provider]
	if !ok {
		return "", fmt.Errorf("unknown provider %q: one of plivo, twilio, seven, telnyx, signalwire", provider)
	}
	base, err := c.URL(ctx)
	return base + path, err
}

// HostURL is a URL of the test process as the container reaches it (for webhooks).
func HostURL(port int, path string) string {
	return fmt.Sprintf("http://host.docker.internal:%d%s", port, path)
}

// ControlError is an error answer of the control plane: its status and body.
type ControlError struct {
	Status int
	Path   string
	Body   map[string]any
}

func (e *ControlError) Error() string {
	return fmt.Sprintf("%s: %d %v", e.Path, e.Status, e.Body["error"])
}

// call sends a control-plane request; out (if not nil) receives the JSON answer.
func (c *Container) call(ctx context.Context, method, path string, query url.Values, body, out any) error {
	base, err := c.URL(ctx)
	if err != nil {
		return err
	}
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		reader = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, reader)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.adminToken != "" {
		req.Header.Set("Authorization", "Bearer "+c.adminToken)
	}
	// The control plane is local: never through a proxy the environment names.
	res, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode >= 300 {
		e := &ControlError{Status: res.StatusCode, Path: path}
		_ = json.Unmarshal(data, &e.Body)
		return e
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	return json.Unmarshal(data, out)
}

// Codes lists every code sent, newest first (filters: "number", "provider", "account", "state").
func (c *Container) Codes(ctx context.Context, filters url.Values) ([]map[string]any, error) {
	var out struct {
		Codes []map[string]any `json:"codes"`
	}
	err := c.call(ctx, "GET", "/_mock/codes", filters, nil, &out)
	return out.Codes, err
}

// LatestCode is the newest code sent to number; a wait above 0 waits that long for one.
func (c *Container) LatestCode(ctx context.Context, number string, wait time.Duration) (string, error) {
	query := url.Values{"number": {number}}
	if wait > 0 {
		query.Set("wait", fmt.Sprintf("%dms", wait.Milliseconds()))
	}
	var out struct {
		Code string `json:"code"`
	}
	err := c.call(ctx, "GET", "/_mock/codes/latest", query, nil, &out)
	return out.Code, err
}

// Answer plays the person on the phone: keys in digits, or ends the call with outcome ("busy",
// "no-answer", "failed") when digits is "".
func (c *Container) Answer(ctx context.Context, callID, digits, outcome string) (map[string]any, error) {
	body := map[string]string{}
	if digits != "" {
		body["digits"] = digits
	}
	if outcome != "" {
		body["outcome"] = outcome
	}
	var out map[string]any
	err := c.call(ctx, "POST", "/_mock/calls/"+url.PathEscape(callID)+"/answer", nil, body, &out)
	return out, err
}

// Advance moves the server clock ("16m", "1h").
func (c *Container) Advance(ctx context.Context, by string) (map[string]any, error) {
	var out map[string]any
	err := c.call(ctx, "POST", "/_mock/clock", nil, map[string]string{"advance": by}, &out)
	return out, err
}

// Reset wipes all state, or one account's ("" for all).
func (c *Container) Reset(ctx context.Context, account string) error {
	query := url.Values{}
	if account != "" {
		query.Set("account", account)
	}
	return c.call(ctx, "POST", "/_mock/reset", query, map[string]string{}, nil)
}

// AddFault adds a fault rule: {"provider": "twilio", "operation": "list", "action": "error", "status": 503}.
func (c *Container) AddFault(ctx context.Context, rule map[string]any) (map[string]any, error) {
	var out map[string]any
	err := c.call(ctx, "POST", "/_mock/faults", nil, rule, &out)
	return out, err
}

// Callbacks is the webhook journal, newest first.
func (c *Container) Callbacks(ctx context.Context, filters url.Values) ([]map[string]any, error) {
	var out struct {
		Callbacks []map[string]any `json:"callbacks"`
	}
	err := c.call(ctx, "GET", "/_mock/callbacks", filters, nil, &out)
	return out.Callbacks, err
}

// Requests is the request journal, newest first.
func (c *Container) Requests(ctx context.Context, filters url.Values) ([]map[string]any, error) {
	var out struct {
		Requests []map[string]any `json:"requests"`
	}
	err := c.call(ctx, "GET", "/_mock/requests", filters, nil, &out)
	return out.Requests, err
}

// systemBundles: where the system's own roots are, on the common Linux distributions and macOS.
var systemBundles = []string{"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/ca-bundle.pem", "/etc/ssl/cert.pem"}

// ZeroTouchEnv is the environment that routes unmodified SDKs to this container through its proxy:
// the proxy variables, and the container's CA (from /_mock/ca.pem) kept in dir, alone (ca.pem, for
// NODE_EXTRA_CA_CERTS) and after the system's roots (bundle.pem, for SSL_CERT_FILE and the rest).
// Go's net/http reads these when it first makes a request: give them to a new process.
func (c *Container) ZeroTouchEnv(ctx context.Context, dir string) (map[string]string, error) {
	base, err := c.URL(ctx)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/_mock/ca.pem", nil)
	if err != nil {
		return nil, err
	}
	if c.adminToken != "" {
		req.Header.Set("Authorization", "Bearer "+c.adminToken)
	}
	res, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	pem, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK || !bytes.Contains(pem, []byte("BEGIN CERTIFICATE")) {
		return nil, errors.Join(err, fmt.Errorf("%s/_mock/ca.pem answered %d: %s", base, res.StatusCode, pem))
	}
	var system []byte
	for _, path := range systemBundles {
		if system, err = os.ReadFile(path); err == nil {
			break
		}
	}
	ca, bundle := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "bundle.pem")
	if err := os.WriteFile(ca, pem, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(bundle, append(append(system, '\n'), pem...), 0o644); err != nil {
		return nil, err
	}
	host := strings.TrimPrefix(base, "http://")
	host = host[:strings.LastIndex(host, ":")]
	direct := "localhost,127.0.0.1,::1"
	if !strings.Contains(direct, host) {
		direct += "," + host
	}
	return map[string]string{
		"HTTPS_PROXY": base, "https_proxy": base, "HTTP_PROXY": base, "http_proxy": base,
		"NO_PROXY": direct, "no_proxy": direct,
		"SSL_CERT_FILE": bundle, "REQUESTS_CA_BUNDLE": bundle, "CURL_CA_BUNDLE": bundle,
		"NODE_EXTRA_CA_CERTS": ca,
	}, nil
}
