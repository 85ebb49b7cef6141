//! SignalWire's Compatibility API calls against a real server: a call's `From` must be a caller
//! ID verified through the Space API (or a number the project owns), in Twilio's dialect with
//! SignalWire's URIs, errors and signature header; the SDK's bare `/2010-04-01` paths on a
//! Space's host; refusals of the server in the dialect's envelope.

mod common;

use common::receiver::Receiver;
use common::{SIGNALWIRE_PROJECT, SIGNALWIRE_TOKEN, TestServer, basic, signature_with};
use insta::assert_snapshot;
use serde_json::json;

const CALLER: &str = "+14158675309";
const CALLEE: &str = "+14155550100";

fn laml(s: &TestServer, method: &str, rest: &str, form: &str) -> common::Resp {
    let auth = basic(SIGNALWIRE_PROJECT, SIGNALWIRE_TOKEN);
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/x-www-form-urlencoded")];
    s.request(method, &format!("/api/laml/2010-04-01/Accounts/{SIGNALWIRE_PROJECT}/{rest}"), &headers, form)
}

fn place(s: &TestServer, from: &str, extra: &str) -> common::Resp {
    let form = serde_urlencoded::to_string([("To", CALLEE), ("From", from), ("Twiml", "<Response/>")]).unwrap();
    laml(s, "POST", "Calls.json", &format!("{form}{extra}"))
}

/// Creates `number` through the Space API; its id, once its code is submitted if `verify`.
fn caller_id(s: &TestServer, number: &str, verify: bool) -> String {
    let id = s.signalwire("POST", "verified_caller_ids", Some(json!({ "number": number }))).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    if verify {
        let (_, code) = s.latest_code(number);
        let path = format!("verified_caller_ids/{id}/verification");
        assert_eq!(s.signalwire("PUT", &path, Some(json!({ "verification_code": code }))).status, 200);
    }
    id
}

#[test]
fn a_call_needs_a_caller_id_verified_through_the_space_api() {
    let s = TestServer::start();
    assert_snapshot!("laml_unverified_from", place(&s, CALLER, "").raw());
    let id = caller_id(&s, CALLER, false);
    assert_eq!(place(&s, CALLER, "").json()["code"], 21210, "a record awaiting its code is not a caller ID yet");

    let (_, code) = s.latest_code(CALLER);
    let path = format!("verified_caller_ids/{id}/verification");
    assert_eq!(s.signalwire("PUT", &path, Some(json!({ "verification_code": code }))).status, 200);
    let res = place(&s, CALLER, "");
    assert_snapshot!("laml_call_created", res.raw());
    let sid = res.json()["sid"].as_str().unwrap().to_owned();
    let got = laml(&s, "GET", &format!("Calls/{sid}.json"), "").json();
    assert_eq!(got["uri"], format!("/api/laml/2010-04-01/Accounts/{SIGNALWIRE_PROJECT}/Calls/{sid}.json"));
    assert_eq!(laml(&s, "GET", &format!("Calls/{sid}"), "").json()["sid"], sid.as_str(), ".json is optional");
    let listed = laml(&s, "GET", "Calls.json", "").json();
    assert_eq!(listed["calls"][0]["sid"], sid.as_str());
    let hung = laml(&s, "POST", &format!("Calls/{sid}.json"), "Status=canceled").json();
    assert_eq!(hung["status"], "canceled");
    assert_eq!(laml(&s, "DELETE", &format!("Calls/{sid}.json"), "").status, 204);

    // Deleted through the Space API: refused again.
    assert_eq!(s.signalwire("DELETE", &format!("verified_caller_ids/{id}"), None).status, 204);
    assert_eq!(place(&s, CALLER, "").json()["code"], 21210);
}

#[test]
fn status_callbacks_are_signed_with_the_api_token_in_signalwires_header() {
    let s = TestServer::start();
    caller_id(&s, CALLER, true);
    let hooks = Receiver::start(200);
    let url = hooks.url("/status");
    let extra = format!("&{}", serde_urlencoded::to_string([("StatusCallback", url.as_str())]).unwrap());
    assert_eq!(place(&s, CALLER, &extra).status, 201);
    s.advance("5m");
    let got = hooks.wait_for(1);
    let completed = &got[0];
    let params: Vec<(String, String)> = serde_urlencoded::from_str(&completed.body).unwrap();
    let signature = completed.header("X-SignalWire-Signature").expect("signed in SignalWire's header");
    assert_eq!(signature, signature_with(SIGNALWIRE_TOKEN, &url, &params));
    assert!(params.iter().any(|(k, v)| k == "AccountSid" && v == SIGNALWIRE_PROJECT), "{params:?}");
}

#[test]
fn the_sdks_bare_paths_are_served_on_a_space_and_twilios_elsewhere() {
    let s = TestServer::start();
    caller_id(&s, CALLER, true);
    let auth = basic(SIGNALWIRE_PROJECT, SIGNALWIRE_TOKEN);
    let form = serde_urlencoded::to_string([("To", CALLEE), ("From", CALLER), ("Twiml", "<Response/>")]).unwrap();
    let path = format!("/2010-04-01/Accounts/{SIGNALWIRE_PROJECT}/Calls.json");
    let on_space = [
        ("Authorization", auth.as_str()),
        ("Host", "example.signalwire.com"),
        ("Content-Type", "application/x-www-form-urlencoded"),
    ];
    let res = s.request("POST", &path, &on_space, &form);
    assert_eq!(res.status, 201, "{}", res.body);
    assert!(res.json()["uri"].as_str().unwrap().starts_with("/api/laml/2010-04-01/"));
    // The same request on the emulator's own address is Twilio's (another namespace).
    let direct = [("Authorization", auth.as_str()), ("Content-Type", "application/x-www-form-urlencoded")];
    let res = s.request("POST", &path, &direct, &form);
    assert_eq!((res.status, res.json()["code"].clone()), (400, json!(21210)), "{}", res.body);
}

#[test]
fn refusals_are_in_the_dialects_envelope() {
    let s = TestServer::start();
    assert_snapshot!("laml_outgoing_caller_ids", laml(&s, "GET", "OutgoingCallerIds.json", "").raw());
    let anonymous =
        s.request("GET", &format!("/api/laml/2010-04-01/Accounts/{SIGNALWIRE_PROJECT}/Calls.json"), &[], "");
    assert_snapshot!("laml_unauthorized", anonymous.raw());
    assert_eq!(anonymous.header("www-authenticate"), Some("Basic realm=\"SignalWire\""));
    assert_eq!(laml(&s, "PUT", "Calls.json", "").status, 405);
    let rule = json!({ "provider": "signalwire", "operation": "create_call", "action": "error", "status": 503, "message": "busy", "times": 1 });
    assert_eq!(s.post_json("/_mock/faults", rule).status, 201);
    assert_snapshot!("laml_injected", place(&s, CALLER, "").raw());
}
