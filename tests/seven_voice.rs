//! seven's Voice API against a real server (seed 42, frozen clock): a call from a caller ID is
//! refused with the gateway's `306` until `validate_for_voice` saved it, and again once it is
//! deleted from the state; several recipients, the journal's status on the clock, hang-up.

mod common;

use common::{SEVEN_KEY, TestServer};
use insta::assert_snapshot;
use serde_json::json;

const SENDER: &str = "491632429751";

/// A `POST /api/voice` with `X-Api-Key` and a form body.
fn voice(s: &TestServer, form: &str) -> common::Resp {
    let headers = [("X-Api-Key", SEVEN_KEY), ("Content-Type", "application/x-www-form-urlencoded")];
    s.request("POST", "/api/voice", &headers, form)
}

fn journal(s: &TestServer, query: &str) -> serde_json::Value {
    s.request("GET", &format!("/api/journal/voice?{query}"), &[("X-Api-Key", SEVEN_KEY)], "").json()
}

/// Validates [`SENDER`] through `validate_for_voice` and the DTMF entry.
fn validated(s: &TestServer) {
    let code = s.seven(SEVEN_KEY, &format!("number={SENDER}")).json()["code"].as_str().unwrap().to_owned();
    let pending = &s.get("/_mock/codes?provider=seven").json()["codes"][0];
    assert_eq!(s.answer(pending["id"].as_str().unwrap(), json!({ "digits": code })).json()["state"], "verified");
}

#[test]
fn a_call_is_refused_until_the_sender_is_validated() {
    let s = TestServer::start();
    let form = format!("to=4915112345678&text=Hallo+Welt&from={SENDER}");
    assert_snapshot!("voice_sender_not_validated", voice(&s, &form).raw());
    validated(&s);
    let res = voice(&s, &form);
    assert_snapshot!("voice_sent", res.raw());
    let id = res.json()["messages"][0]["id"].as_u64().unwrap().to_string();
    let call = &s.get("/_mock/calls?provider=seven").json()["calls"][0];
    assert_eq!((call["id"].as_str(), call["from"].as_str()), (Some(id.as_str()), Some("+491632429751")));

    // The journal follows the call on the clock.
    assert_eq!(journal(&s, &format!("id={id}"))[0]["status"], "ringing");
    assert_eq!(s.answer(&id, json!({})).status, 200);
    s.advance("20s");
    let hang_up = s.request("POST", &format!("/api/voice/{id}/hangup"), &[("X-Api-Key", SEVEN_KEY)], "");
    assert_eq!(hang_up.body, r#"{"success":true,"error":null}"#);
    assert_snapshot!("journal", serde_json::to_string_pretty(&journal(&s, "")).unwrap());
    let again = s.request("POST", &format!("/api/voice/{id}/hangup"), &[("X-Api-Key", SEVEN_KEY)], "");
    assert_eq!(again.json()["success"], false);

    // Another account's validated sender is not this one's.
    let other = [("X-Api-Key", "OTHERKEY"), ("Content-Type", "application/x-www-form-urlencoded")];
    assert_eq!(s.request("POST", "/api/voice", &other, &form).body, "306");
}

#[test]
fn several_recipients_each_get_a_message_and_a_bad_one_fails_alone() {
    let s = TestServer::start();
    validated(&s);
    let res = voice(&s, &format!("to=4915112345678,12,+4915112345679&text=Hi&from={SENDER}&ringtime=10"));
    let body = res.json();
    assert_eq!(body["success"], "101");
    let ok: Vec<bool> = body["messages"].as_array().unwrap().iter().map(|m| m["success"].as_bool().unwrap()).collect();
    assert_eq!(ok, [true, false, true]);
    assert_eq!(
        (body["messages"][1]["error"].as_str(), body["messages"][1]["recipient"].as_str()),
        (Some("202"), Some("12"))
    );
    s.advance("10s");
    let states: Vec<String> = journal(&s, "").as_array().unwrap().iter().map(|e| e["status"].to_string()).collect();
    assert_eq!(states, ["\"no-answer\"", "\"no-answer\""], "ringtime is the ring timeout");
    assert_eq!(journal(&s, "to=4915112345679").as_array().unwrap().len(), 1);
    assert_eq!(journal(&s, "limit=1").as_array().unwrap().len(), 1);
}

#[test]
fn request_errors_are_the_gateways_bare_codes() {
    let s = TestServer::start();
    validated(&s);
    for (form, code) in [
        ("text=Hi&from=491632429751", "301"),
        ("to=4915112345678&from=491632429751", "305"),
        ("to=4915112345678&text=Hi", "306"),
        ("to=4915112345678&text=Hi&from=491632429751&ringtime=61", "202"),
    ] {
        assert_eq!(voice(&s, form).body, code, "{form}");
    }
    assert_eq!(s.request("POST", "/api/voice", &[], "to=1&text=x").body, "900");
}
