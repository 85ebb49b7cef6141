// The Go module (packages/go) against a real Docker engine: the official twilio-go SDK's flow
// with its base URL at the container, the StatusCallback delivered back to this process,
// zero-touch with production settings through the container's proxy (in a new process: Go reads
// the proxy and CA variables once), strict auth with fixtures copied in and an admin token. Run by
// tests/testcontainers/run.sh, which builds the image and exports CALLERID_MOCK_IMAGE,
// DOCKER_HOST and TESTCONTAINERS_RYUK_DISABLED.
package module

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	calleridmock "github.com/callerid-mock/callerid-mock/packages/go"
	"github.com/testcontainers/testcontainers-go"
	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

const (
	sid   = "AC44444444444444444444444444444444"
	token = "tokentestcontainersgo" // twilio-go refuses a password that is not alphanumeric
)

// toEmulator sends every request of the SDK to base (twilio-go takes no base URL).
type toEmulator struct{ base *url.URL }

func (t toEmulator) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host = t.base.Scheme, t.base.Host
	return http.DefaultTransport.RoundTrip(req)
}

func twilioAt(t *testing.T, base, user, password string) *twilio.RestClient {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	c := &client.Client{Credentials: client.NewCredentials(user, password), HTTPClient: &http.Client{Transport: toEmulator{u}}}
	c.SetAccountSid(user)
	return twilio.NewRestClientWithParams(twilio.ClientParams{Client: c})
}

func start(t *testing.T, opts ...calleridmock.Option) *calleridmock.Container {
	t.Helper()
	ctx := context.Background()
	mock, err := calleridmock.Run(ctx, "", opts...)
	t.Cleanup(func() { _ = testcontainers.TerminateContainer(mock) })
	if err != nil {
		t.Fatal(err)
	}
	return mock
}

func TestATwilioFlowAndItsStatusCallback(t *testing.T) {
	ctx := context.Background()
	// docs:begin go
	mock, err := calleridmock.Run(ctx, "", calleridmock.WithSeed(7), calleridmock.WithFrozenClock())
	defer testcontainers.TerminateContainer(mock)
	// docs:end go
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("testcontainers: go: ready in %.2f s\n", mock.Ready.Seconds())

	type webhook struct {
		form      url.Values
		signature string
	}
	got := make(chan webhook, 4)
	listener, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	server := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got <- webhook{r.PostForm, r.Header.Get("X-Twilio-Signature")}
	})}
	go server.Serve(listener)
	defer server.Close()

	base, err := mock.ProviderURL(ctx, "twilio")
	if err != nil {
		t.Fatal(err)
	}
	tw := twilioAt(t, base, sid, token)
	callback := calleridmock.HostURL(listener.Addr().(*net.TCPAddr).Port, "/status")
	params := (&api.CreateValidationRequestParams{}).SetPhoneNumber("+14158675309").SetStatusCallback(callback)
	vr, err := tw.Api.CreateValidationRequest(params)
	if err != nil {
		journal, _ := mock.Requests(ctx, nil)
		t.Fatalf("%v; the emulator's journal: %v", err, journal)
	}
	if _, err := mock.Answer(ctx, *vr.CallSid, *vr.ValidationCode, ""); err != nil {
		t.Fatal(err)
	}
	select {
	case hook := <-got:
		if hook.form.Get("VerificationStatus") != "success" {
			t.Fatalf("the StatusCallback says %v", hook.form)
		}
		params := map[string]string{}
		for name := range hook.form {
			params[name] = hook.form.Get(name)
		}
		validator := client.NewRequestValidator(token)
		if !validator.Validate(callback, params, hook.signature) {
			t.Fatal("the StatusCallback's signature does not validate")
		}
	case <-time.After(10 * time.Second):
		journal, _ := mock.Callbacks(ctx, nil)
		t.Fatalf("no StatusCallback came; the journal says %v", journal)
	}
	ids, err := tw.Api.ListOutgoingCallerId(nil)
	if err != nil || len(ids) != 1 || *ids[0].PhoneNumber != "+14158675309" {
		t.Fatalf("listed %v, %v", ids, err)
	}

	// The control plane as methods, with errors that say what happened.
	_, err = mock.LatestCode(ctx, "+12025550000", 100*time.Millisecond)
	var missing *calleridmock.ControlError
	if !errors.As(err, &missing) || missing.Status != 404 {
		t.Fatalf("a missing code: %v", err)
	}
	if _, err := mock.Advance(ctx, "1m"); err != nil {
		t.Fatal(err)
	}

	// Zero-touch: this test binary again, with only the container's environment.
	env, err := mock.ZeroTouchEnv(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	child := exec.Command(os.Args[0], "-test.run=^TestZeroTouchChild$", "-test.v")
	child.Env = append(os.Environ(), "ZERO_TOUCH_CHILD=1")
	for name, value := range env {
		child.Env = append(child.Env, name+"="+value)
	}
	out, err := child.CombinedOutput()
	if err != nil {
		t.Fatalf("zero-touch child: %v\n%s", err, out)
	}
}

// TestZeroTouchChild runs only as the child of the test above: twilio-go with production
// settings (api.twilio.com), the proxy and CA from the environment.
func TestZeroTouchChild(t *testing.T) {
	if os.Getenv("ZERO_TOUCH_CHILD") == "" {
		t.Skip("run by TestATwilioFlowAndItsStatusCallback")
	}
	production := twilio.NewRestClientWithParams(twilio.ClientParams{Username: "AC33333333333333333333333333333333", Password: "zero"})
	params := (&api.CreateCallParams{}).SetTo("+14155550100").SetFrom("+14158675309").SetTwiml("<Response/>")
	_, err := production.Api.CreateCall(params)
	var rest *client.TwilioRestError
	if !errors.As(err, &rest) || rest.Code != 21210 {
		t.Fatalf("an unverified From through the proxy: %v", err)
	}
}

func TestStrictAuthWithFixturesAndAnAdminToken(t *testing.T) {
	ctx := context.Background()
	fixtures := filepath.Join(t.TempDir(), "fixtures.json")
	state := fmt.Sprintf(`{"accounts":[{"provider":"twilio","account":%q,"auth_token":%q}]}`, sid, token)
	if err := os.WriteFile(fixtures, []byte(state), 0o644); err != nil {
		t.Fatal(err)
	}
	mock := start(t, calleridmock.WithStrictAuth(fixtures), calleridmock.WithAdminToken("s3cret"))
	base, _ := mock.ProviderURL(ctx, "twilio")
	if _, err := twilioAt(t, base, sid, token).Api.ListOutgoingCallerId(nil); err != nil {
		t.Fatalf("the declared token: %v", err)
	}
	if _, err := twilioAt(t, base, sid, "wrong").Api.ListOutgoingCallerId(nil); err == nil {
		t.Fatal("a wrong token was accepted")
	}
	if _, err := mock.Codes(ctx, nil); err != nil {
		t.Fatalf("the control methods send the admin token: %v", err)
	}
	plain, _ := mock.URL(ctx)
	res, err := http.Get(plain + "/_mock/codes")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != 401 {
		t.Fatalf("without the token: %d", res.StatusCode)
	}
}
