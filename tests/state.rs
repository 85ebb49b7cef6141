//! State export and import: `GET`/`PUT /_mock/state`, the format `--fixtures` and `--state` read.

mod common;

use common::TestServer;
use insta::assert_json_snapshot;
use serde_json::{Value, json};

/// A flow touching every provider: verified and pending entries, a call with a callback.
fn populate(s: &TestServer) {
    let res =
        s.plivo("POST", "VerifiedCallerId/", r#"{"phone_number":"+12025551234","alias":"Office","channel":"call"}"#);
    assert_eq!(res.status, 200);
    let (uuid, otp) = s.latest_code("+12025551234");
    s.plivo("POST", &format!("VerifiedCallerId/Verification/{uuid}/"), &json!({ "otp": otp }).to_string());
    s.plivo("POST", "VerifiedCallerId/", r#"{"phone_number":"+14155552671"}"#);
    let vr = s
        .twilio(
            "POST",
            "OutgoingCallerIds.json",
            "PhoneNumber=%2B14158675309&CallDelay=10&StatusCallback=http%3A%2F%2F127.0.0.1%3A9%2Fcb",
        )
        .json();
    s.advance("10s");
    s.post_json(
        &format!("/_mock/calls/{}/answer", vr["call_sid"].as_str().unwrap()),
        json!({ "digits": vr["validation_code"] }),
    );
    s.twilio("POST", "OutgoingCallerIds.json", "PhoneNumber=%2B12025550123");
    s.request("POST", "/api/validate_for_voice?p=KEY&number=491632429751", &[], "");
}

/// Provider read answers without their random `api_id`s.
fn reads(s: &TestServer) -> Vec<Value> {
    let mut out = vec![
        s.plivo("GET", "VerifiedCallerId/", "").json(),
        s.plivo("GET", "VerifiedCallerId/+12025551234/", "").json(),
        s.twilio("GET", "OutgoingCallerIds.json", "").json(),
        s.get("/_mock/codes").json(),
    ];
    for v in &mut out {
        if let Some(o) = v.as_object_mut() {
            o.remove("api_id");
        }
    }
    out
}

#[test]
fn the_export_holds_every_account_caller_id_and_verification() {
    let s = TestServer::start();
    populate(&s);
    assert_json_snapshot!("export", s.get("/_mock/state").json());
}

#[test]
fn export_reset_import_gives_identical_answers() {
    let s = TestServer::start();
    populate(&s);
    let exported = s.get("/_mock/state");
    let before = reads(&s);
    s.request("POST", "/_mock/reset", &[], "");
    assert_eq!(s.get("/_mock/codes").json()["codes"], json!([]));
    let res = s.request("PUT", "/_mock/state", &[("Content-Type", "application/json")], &exported.body);
    assert_eq!(res.status, 200);
    assert_eq!(res.json(), exported.json(), "PUT answers the state as GET does");
    assert_eq!(reads(&s), before);
    assert_eq!(s.get("/_mock/state").body, exported.body);
}

#[test]
fn an_import_schedules_what_is_pending() {
    let s = TestServer::start();
    populate(&s);
    let exported = s.get("/_mock/state").body;
    s.request("POST", "/_mock/reset", &[], "");
    s.request("PUT", "/_mock/state", &[("Content-Type", "application/json")], &exported);
    // The Plivo OTP still expires 15 minutes after it was issued; the Twilio call still rings out.
    s.advance("16m");
    let states: Vec<_> = s.get("/_mock/codes?state=pending").json()["codes"].as_array().unwrap().to_vec();
    assert_eq!(states, Vec::<Value>::new(), "nothing pending after 16 minutes");
    let expired = s.get("/_mock/codes?number=%2B14155552671").json();
    assert_eq!(expired["codes"][0]["state"], "expired");
    let unanswered = s.get("/_mock/codes?number=%2B12025550123").json();
    assert_eq!(unanswered["codes"][0]["call_status"], "no-answer");
}

#[test]
fn a_bad_import_changes_nothing() {
    let s = TestServer::start();
    populate(&s);
    let before = s.get("/_mock/state").body;
    for body in [
        "{",
        r#"{"accounts":[{"provider":"nope","account":"x"}]}"#,
        r#"{"accounts":[{"provider":"plivo","account":"x","verifications":[{"id":"v","phone_number":"+12025551234","code":"1","state":"bogus"}]}]}"#,
        r#"{"accounts":[{"provider":"plivo","account":"x","caller_ids":[{"phone_number":"12"}]}]}"#,
    ] {
        let res = s.request("PUT", "/_mock/state", &[("Content-Type", "application/json")], body);
        assert_eq!(res.status, 400, "{body}: {}", res.body);
    }
    assert_eq!(s.get("/_mock/state").body, before);
}

#[test]
fn a_frozen_clock_takes_the_imported_reading() {
    let s = TestServer::start();
    let res = s.request(
        "PUT",
        "/_mock/state",
        &[("Content-Type", "application/json")],
        r#"{"clock":{"now":"2030-05-05T10:00:00Z","frozen":true},"accounts":[]}"#,
    );
    assert_eq!(res.json()["clock"]["now"], "2030-05-05T10:00:00Z");
    assert_eq!(s.get("/_mock/clock").json()["now"], "2030-05-05T10:00:00Z");
}

#[test]
fn an_export_far_larger_than_a_request_body_imports_again() {
    let s = TestServer::start();
    let callers: Vec<Value> = (0..600)
        .map(|i| json!({ "phone_number": format!("+1202555{:04}", 1000 + i), "label": "x".repeat(100) }))
        .collect();
    let fixture = json!({ "accounts": [{ "provider": "plivo", "account": common::AUTH_ID, "caller_ids": callers }] });
    let res = s.request("PUT", "/_mock/state", &[("Content-Type", "application/json")], &fixture.to_string());
    assert_eq!(res.status, 200, "{}", &res.body[..res.body.len().min(300)]);
    let exported = s.get("/_mock/state").body;
    assert!(exported.len() > 100 << 10, "the export is {} bytes", exported.len());
    let res = s.request("PUT", "/_mock/state", &[("Content-Type", "application/json")], &exported);
    assert_eq!(res.status, 200);
    assert_eq!(s.get("/_mock/state").body, exported, "an export imports as itself");
    let listed = s.plivo("GET", "VerifiedCallerId/?limit=1", "").json();
    assert_eq!(listed["meta"]["total_count"], 600);
}

#[test]
fn an_empty_object_is_not_a_state_and_wipes_nothing() {
    let s = TestServer::start();
    populate(&s);
    let before = s.get("/_mock/state").body;
    let res = s.request("PUT", "/_mock/state", &[("Content-Type", "application/json")], "{}");
    assert_eq!(res.status, 400);
    assert!(res.json()["error"].as_str().unwrap().contains("accounts"), "{}", res.body);
    assert_eq!(s.get("/_mock/state").body, before);
}

/// Every key of `objects`, and every property `schema` documents, as two sorted lists.
fn keys_and_properties(objects: &[&Value], schema: &Value) -> (Vec<String>, Vec<String>) {
    let mut keys: Vec<String> = objects.iter().flat_map(|o| o.as_object().unwrap().keys().cloned()).collect();
    keys.sort();
    keys.dedup();
    let mut documented: Vec<String> = schema["properties"].as_object().unwrap().keys().cloned().collect();
    documented.sort();
    (keys, documented)
}

#[test]
fn the_openapi_state_schema_names_exactly_what_an_export_holds() {
    // Arrange: a state with every kind of entry, each field of them in use.
    let s = TestServer::start();
    populate(&s);
    // A caller ID awaiting its verification, and one verified after it was asked for.
    for number in ["+12025557001", "+12025557002"] {
        let res = s.signalwire("POST", "verified_caller_ids", Some(json!({ "number": number })));
        assert_eq!(res.status, 201, "{}", res.body);
    }
    s.advance("1m");
    let id = s.signalwire("GET", "verified_caller_ids", None).json()["data"][0]["id"].as_str().unwrap().to_owned();
    let (_, code) = s.latest_code("+12025557002");
    let verified = json!({ "verification_code": code });
    assert_eq!(s.signalwire("PUT", &format!("verified_caller_ids/{id}/verification"), Some(verified)).status, 200);
    s.advance("20m"); // a verification that expired has its finished_at
    let export = s.get("/_mock/state").json();
    let doc = s.get("/_mock/openapi.json").json();
    let state = &doc["components"]["schemas"]["State"];
    let account = &state["properties"]["accounts"]["items"];
    let accounts: Vec<&Value> = export["accounts"].as_array().unwrap().iter().collect();
    let entries = |name: &str| -> Vec<&Value> { accounts.iter().flat_map(|a| a[name].as_array().unwrap()).collect() };
    let (callers, verifications) = (entries("caller_ids"), entries("verifications"));
    let callbacks: Vec<&Value> = verifications.iter().map(|v| &v["callback"]).filter(|c| c.is_object()).collect();
    // Assert: each level documents exactly the keys the export writes.
    for (what, objects, schema) in [
        ("the state", vec![&export], state),
        ("the clock", vec![&export["clock"]], &state["properties"]["clock"]),
        ("an account", accounts.clone(), account),
        ("a caller ID", callers, &account["properties"]["caller_ids"]["items"]),
        ("a verification", verifications.clone(), &account["properties"]["verifications"]["items"]),
        ("a callback", callbacks, &account["properties"]["verifications"]["items"]["properties"]["callback"]),
    ] {
        let (keys, documented) = keys_and_properties(&objects, schema);
        assert_eq!(keys, documented, "{what}: the export's keys and the schema's properties");
    }
}

#[test]
fn a_clock_that_is_not_a_time_is_refused_whether_or_not_it_applies() {
    for frozen in [true, false] {
        let s = TestServer::with(callerid_mock::Config { frozen_clock: frozen, ..common::config() });
        for now in ["garbage", "2026-13-45T99:00:00Z", ""] {
            let doc = json!({ "clock": { "now": now, "frozen": true }, "accounts": [] });
            let res = s.request("PUT", "/_mock/state", &[("Content-Type", "application/json")], &doc.to_string());
            assert_eq!(res.status, 400, "frozen {frozen}, now {now:?}: {}", res.body);
            assert!(res.json()["error"].as_str().unwrap().contains("clock.now"), "{}", res.body);
        }
    }
}
