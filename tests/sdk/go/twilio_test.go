// The official twilio-go SDK, unmodified, against callerid-mock: the documented custom
// http.Client sends its requests to the emulator.
package sdk

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

const (
	twilioSid   = "AC3333333333333333333333333333333a"
	twilioToken = "gotoken"
)

func twilioClient(t *testing.T) *twilio.RestClient {
	t.Helper()
	t.Setenv("TWILIO_REGION", "")
	t.Setenv("TWILIO_EDGE", "")
	control(t, "/_mock/reset?account="+twilioSid, map[string]any{})
	// docs:begin twilio-go
	c := &client.Client{Credentials: client.NewCredentials(twilioSid, twilioToken), HTTPClient: emulatorClient(t)}
	c.SetAccountSid(twilioSid)
	return twilio.NewRestClientWithParams(twilio.ClientParams{Client: c})
	// docs:end twilio-go
}

func answer(t *testing.T, callSid string, body map[string]any) map[string]any {
	return control(t, "/_mock/calls/"+callSid+"/answer", body)
}

func twilioVerify(t *testing.T, c *twilio.RestClient, number string) string {
	t.Helper()
	vr := ok(c.Api.CreateValidationRequest((&api.CreateValidationRequestParams{}).SetPhoneNumber(number)))(t)
	return str(answer(t, *vr.CallSid, map[string]any{"digits": *vr.ValidationCode})["caller_id"])
}

func TestTwilioTheWholeValidationFlowWithASignedCallback(t *testing.T) {
	c := twilioClient(t)
	rx := newReceiver(t)
	params := (&api.CreateValidationRequestParams{}).SetPhoneNumber("+14158675309").
		SetFriendlyName("My Home Phone").SetStatusCallback(rx.url("/status"))
	vr := ok(c.Api.CreateValidationRequest(params))(t)
	equal(t, *vr.AccountSid, twilioSid, "account_sid")
	equal(t, strings.HasPrefix(*vr.CallSid, "CA") && len(*vr.CallSid) == 34, true, "call_sid "+*vr.CallSid)
	equal(t, *vr.PhoneNumber, "+14158675309", "phone_number")
	equal(t, len(*vr.ValidationCode), 6, "validation_code length")

	ended := answer(t, *vr.CallSid, map[string]any{"digits": *vr.ValidationCode})
	equal(t, str(ended["state"]), "verified", "state")
	pn := str(ended["caller_id"])

	cb := rx.waitFor(t, 1)[0]
	form := ok(url.ParseQuery(cb.Body))(t)
	equal(t, form.Get("VerificationStatus"), "success", "VerificationStatus")
	equal(t, form.Get("OutgoingCallerIdSid"), pn, "OutgoingCallerIdSid")
	flat := map[string]string{}
	for k := range form {
		flat[k] = form.Get(k)
	}
	validator := client.NewRequestValidator(twilioToken)
	equal(t, validator.Validate(rx.url("/status"), flat, cb.Header.Get("X-Twilio-Signature")), true, "the SDK's validator accepts the signature")
	wrong := client.NewRequestValidator("wrong")
	equal(t, wrong.Validate(rx.url("/status"), flat, cb.Header.Get("X-Twilio-Signature")), false, "another token's validator refuses it")

	got := ok(c.Api.FetchOutgoingCallerId(pn, &api.FetchOutgoingCallerIdParams{}))(t)
	equal(t, *got.FriendlyName, "My Home Phone", "friendly_name")
	created := ok(time.Parse(time.RFC1123Z, *got.DateCreated))(t)
	equal(t, created.Year(), 2026, "date_created is RFC 2822 "+*got.DateCreated)

	for _, n := range []string{"+14158675301", "+14158675302", "+14158675303", "+14158675304"} {
		twilioVerify(t, c, n)
	}
	all := ok(c.Api.ListOutgoingCallerId((&api.ListOutgoingCallerIdParams{}).SetPageSize(2)))(t)
	equal(t, len(all), 5, "every caller ID across pages of 2")
	seen := map[string]bool{}
	for _, id := range all {
		seen[*id.Sid] = true
	}
	equal(t, len(seen), 5, "distinct sids")
	page := ok(c.Api.PageOutgoingCallerId((&api.ListOutgoingCallerIdParams{}).SetPageSize(2), "", ""))(t)
	equal(t, len(page.OutgoingCallerIds), 2, "one page")
	equal(t, page.NextPageUri != nil && strings.Contains(*page.NextPageUri, "PageToken=PA"), true, "next_page_uri")
	byNumber := ok(c.Api.ListOutgoingCallerId((&api.ListOutgoingCallerIdParams{}).SetPhoneNumber("+14158675309")))(t)
	equal(t, len(byNumber) == 1 && *byNumber[0].Sid == pn, true, "filter by PhoneNumber")
	limited := ok(c.Api.ListOutgoingCallerId((&api.ListOutgoingCallerIdParams{}).SetPageSize(2).SetLimit(3)))(t)
	equal(t, len(limited), 3, "Limit")

	control(t, "/_mock/clock", map[string]any{"advance": "1h"})
	updated := ok(c.Api.UpdateOutgoingCallerId(pn, (&api.UpdateOutgoingCallerIdParams{}).SetFriendlyName("Renamed")))(t)
	equal(t, *updated.FriendlyName, "Renamed", "friendly_name after update")
	changed := ok(time.Parse(time.RFC1123Z, *updated.DateUpdated))(t)
	equal(t, changed.After(created), true, "date_updated moved")

	if err := c.Api.DeleteOutgoingCallerId(pn, &api.DeleteOutgoingCallerIdParams{}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Api.FetchOutgoingCallerId(pn, &api.FetchOutgoingCallerIdParams{})
	var rest *client.TwilioRestError
	equal(t, errors.As(err, &rest), true, "a TwilioRestError, not "+str(err))
	equal(t, rest.Status*100000+rest.Code, 404*100000+20404, "404 code 20404")
}

func TestTwilioWrongDigitsAndABusyLineFailWithoutACallerId(t *testing.T) {
	c := twilioClient(t)
	rx := newReceiver(t)
	vr := ok(c.Api.CreateValidationRequest((&api.CreateValidationRequestParams{}).
		SetPhoneNumber("+14158675309").SetStatusCallback(rx.url("/status"))))(t)
	wrong := "000000"
	if *vr.ValidationCode == wrong {
		wrong = "111111"
	}
	equal(t, str(answer(t, *vr.CallSid, map[string]any{"digits": wrong})["state"]), "failed", "wrong digits")
	busy := ok(c.Api.CreateValidationRequest((&api.CreateValidationRequestParams{}).
		SetPhoneNumber("+12025551234").SetStatusCallback(rx.url("/status")).SetStatusCallbackMethod("GET")))(t)
	equal(t, str(answer(t, *busy.CallSid, map[string]any{"outcome": "busy"})["call_status"]), "busy", "busy")

	// Each callback is delivered on its own: they may arrive in either order.
	got := rx.waitFor(t, 2)
	post, get := got[0], got[1]
	if post.Method == "GET" {
		post, get = get, post
	}
	failed := ok(url.ParseQuery(post.Body))(t)
	equal(t, failed.Get("VerificationStatus"), "failed", "VerificationStatus")
	equal(t, get.Method, "GET", "StatusCallbackMethod")
	validator := client.NewRequestValidator(twilioToken)
	equal(t, validator.Validate(rx.server.URL+get.Path, map[string]string{}, get.Header.Get("X-Twilio-Signature")), true, "GET signature")
	equal(t, len(ok(c.Api.ListOutgoingCallerId(&api.ListOutgoingCallerIdParams{}))(t)), 0, "no caller ID")
}

func TestTwilioErrorsAreTwilioRestErrors(t *testing.T) {
	c := twilioClient(t)
	twilioVerify(t, c, "+14158675309")
	for _, tc := range []struct {
		params *api.CreateValidationRequestParams
		code   int
	}{
		{(&api.CreateValidationRequestParams{}).SetPhoneNumber("+14158675309"), 21450},
		{(&api.CreateValidationRequestParams{}).SetPhoneNumber("+12025551234").SetCallDelay(61), 21454},
		{(&api.CreateValidationRequestParams{}).SetPhoneNumber("+15005550001"), 21401},
	} {
		_, err := c.Api.CreateValidationRequest(tc.params)
		var rest *client.TwilioRestError
		equal(t, errors.As(err, &rest), true, "a TwilioRestError, not "+str(err))
		equal(t, rest.Status*100000+rest.Code, 400*100000+tc.code, "status and code")
	}
}

// restCode is the status and code of a TwilioRestError, or fails the test.
func restCode(t *testing.T, err error) int {
	t.Helper()
	var rest *client.TwilioRestError
	equal(t, errors.As(err, &rest), true, "a TwilioRestError, not "+str(err))
	return rest.Status*100000 + rest.Code
}

func flatForm(t *testing.T, body string) map[string]string {
	form := ok(url.ParseQuery(body))(t)
	flat := map[string]string{}
	for k := range form {
		flat[k] = form.Get(k)
	}
	return flat
}

func TestTwilioACallIsRefusedUntilVerifiedAndAgainAfterDeletion(t *testing.T) {
	c := twilioClient(t)
	const caller, callee = "+14158675309", "+14155550100"
	twiml := "<Response><Say>Hello</Say></Response>"
	call := func(from string) (*api.ApiV2010Call, error) {
		return c.Api.CreateCall((&api.CreateCallParams{}).SetTo(callee).SetFrom(from).SetTwiml(twiml))
	}
	_, err := call(caller)
	equal(t, restCode(t, err), 400*100000+21210, "unverified From")

	pn := twilioVerify(t, c, caller)
	status := newReceiver(t)
	app := newAnswering(t, `<Response><Dial callerId="+14158675309">+14155550123</Dial></Response>`)
	params := (&api.CreateCallParams{}).SetTo(callee).SetFrom(caller).SetUrl(app.url("/voice")).
		SetStatusCallback(status.url("/status")).SetStatusCallbackEvent([]string{"initiated", "ringing", "answered", "completed"})
	placed := ok(c.Api.CreateCall(params))(t)
	equal(t, *placed.Status, "queued", "status")
	equal(t, *ok(c.Api.FetchCall(*placed.Sid, &api.FetchCallParams{}))(t).Status, "ringing", "status once it rings")

	equal(t, str(answer(t, *placed.Sid, map[string]any{})["state"]), "in-progress", "picked up")
	doc := app.waitFor(t, 1)[0]
	validator := client.NewRequestValidator(twilioToken)
	equal(t, validator.Validate(app.url("/voice"), flatForm(t, doc.Body), doc.Header.Get("X-Twilio-Signature")), true, "the TwiML request's signature")

	control(t, "/_mock/clock", map[string]any{"advance": "60s"})
	ended := ok(c.Api.FetchCall(*placed.Sid, &api.FetchCallParams{}))(t)
	equal(t, *ended.Status+" "+*ended.Duration, "completed 60", "status and duration")
	byStatus := map[string]bool{}
	for _, r := range status.waitFor(t, 4) {
		form := flatForm(t, r.Body)
		equal(t, validator.Validate(status.url("/status"), form, r.Header.Get("X-Twilio-Signature")), true, "a status callback's signature")
		byStatus[form["CallStatus"]] = true
	}
	equal(t, len(byStatus), 4, "initiated, ringing, in-progress, completed")
	listed := ok(c.Api.ListCall((&api.ListCallParams{}).SetStatus("completed").SetFrom(caller)))(t)
	equal(t, len(listed) == 1 && *listed[0].Sid == *placed.Sid, true, "listed by Status and From")

	if err := c.Api.DeleteOutgoingCallerId(pn, &api.DeleteOutgoingCallerIdParams{}); err != nil {
		t.Fatal(err)
	}
	_, err = call(caller)
	equal(t, restCode(t, err), 400*100000+21210, "refused again after deletion")

	control(t, "/_mock/numbers", map[string]any{"provider": "twilio", "account": twilioSid, "number": "+14155550199"})
	owned := ok(call("+14155550199"))(t)
	canceled := ok(c.Api.UpdateCall(*owned.Sid, (&api.UpdateCallParams{}).SetStatus("canceled")))(t)
	equal(t, *canceled.Status, "canceled", "an owned number calls; cancel")
}
