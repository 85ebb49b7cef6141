//! The server itself through the control plane: health, the clock, resets, unknown routes, the OpenAPI document.

mod common;

use common::{AUTH_ID, TestServer};
use insta::assert_snapshot;
use serde_json::json;

#[test]
fn health_reports_ok_and_server_clock_uptime() {
    let s = TestServer::start();
    let health = s.get("/_mock/health");
    assert_eq!(health.json()["version"], env!("CARGO_PKG_VERSION"));
    assert_snapshot!("health", health.raw().replace(env!("CARGO_PKG_VERSION"), "[version]"));
    s.advance("90s");
    let health = s.get("/_mock/health");
    assert_eq!(health.json()["uptime_s"], 90);
    assert_eq!(health.header("date"), Some("Thu, 01 Jan 2026 00:01:30 GMT"), "the Date header reads the server clock");
}

#[test]
fn the_clock_advances_sets_and_never_runs_backwards() {
    let s = TestServer::start();
    assert_snapshot!("clock", s.get("/_mock/clock").raw());
    assert_eq!(s.advance("1h30m").json()["now"], "2026-01-01T01:30:00Z");
    let res = s.post_json("/_mock/clock", json!({ "set": "2026-02-01T00:00:00Z" }));
    assert_eq!(res.json()["now"], "2026-02-01T00:00:00Z");
    let res = s.post_json("/_mock/clock", json!({ "set": "2026-01-01T00:00:00Z" }));
    assert_snapshot!("clock_backwards", res.raw());
    for body in [json!({}), json!({ "advance": "soon" }), json!({ "advance": "1m", "set": "x" }), json!({ "set": 5 })] {
        assert_eq!(s.post_json("/_mock/clock", body.clone()).status, 400, "{body}");
    }
    assert_eq!(s.request("POST", "/_mock/clock", &[("Content-Type", "application/json")], "not json").status, 400);
}

#[test]
fn setting_the_clock_runs_expiries_in_order() {
    let s = TestServer::start();
    s.plivo_initiate_ok("+12025551234");
    s.advance("5m");
    s.plivo_initiate_ok("+14155552671");
    assert_eq!(s.get("/_mock/clock").json()["pending_events"], 2);
    // 00:17 passes the first expiry (00:15) but not the second (00:20).
    s.post_json("/_mock/clock", json!({ "set": "2026-01-01T00:17:00Z" }));
    let states: Vec<_> = s.get("/_mock/codes").json()["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["state"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(states, ["pending", "expired"]);
    assert_eq!(s.get("/_mock/clock").json()["pending_events"], 1);
}

#[test]
fn reset_wipes_everything_or_one_account() {
    let s = TestServer::start();
    s.plivo_initiate_ok("+12025551234");
    let other = "SAXXXXXXXXXXXXXXXXXX";
    let auth = "Basic U0FYWFhYWFhYWFhYWFhYWFhYWFg6dG9rZW4xMjM=";
    let res = s.request(
        "POST",
        &format!("/v1/Account/{other}/VerifiedCallerId/"),
        &[("Authorization", auth)],
        r#"{"phone_number":"+14155552671"}"#,
    );
    assert_eq!(res.status, 200);

    let res = s.request("POST", &format!("/_mock/reset?account={other}"), &[], "");
    assert_snapshot!("reset_account", res.raw());
    let codes = s.get("/_mock/codes").json();
    assert_eq!(codes["codes"].as_array().unwrap().len(), 1);
    assert_eq!(codes["codes"][0]["account"], AUTH_ID);
    assert_eq!(s.get("/_mock/clock").json()["pending_events"], 1, "the other account's timer went too");

    let res = s.request("POST", "/_mock/reset", &[], "");
    assert_snapshot!("reset_all", res.raw());
    assert_eq!(s.get("/_mock/codes").json()["codes"], json!([]));
}

#[test]
fn resetting_one_account_mid_flow_leaves_another_accounts_flow_intact() {
    let s = TestServer::start();
    // Account A (Twilio) is mid-call; account B (Plivo) has an OTP out.
    let vr = s.twilio("POST", "OutgoingCallerIds.json", "PhoneNumber=%2B14158675309&CallDelay=30").json();
    s.plivo_initiate_ok("+12025551234");
    let (uuid, otp) = s.latest_code("+12025551234");

    s.request("POST", &format!("/_mock/reset?account={}", common::ACCOUNT_SID), &[], "");
    assert_eq!(s.get("/_mock/clock").json()["pending_events"], 1, "only B's expiry is left");
    s.advance("30s");
    let answer =
        s.post_json(&format!("/_mock/calls/{}/answer", vr["call_sid"].as_str().unwrap()), json!({ "digits": "1" }));
    assert_eq!(answer.status, 404, "A's call is gone");

    let res = s.plivo("POST", &format!("VerifiedCallerId/Verification/{uuid}/"), &json!({ "otp": otp }).to_string());
    assert_eq!(res.status, 200, "B finishes its flow: {}", res.body);
    assert_eq!(s.plivo("GET", "VerifiedCallerId/+12025551234/", "").status, 200);
}

#[test]
fn unknown_control_routes_and_methods_are_json_errors() {
    let s = TestServer::start();
    assert_snapshot!("control_not_found", s.get("/_mock/nope").raw());
    assert_eq!(s.request("DELETE", "/_mock/codes", &[], "").status, 405);
    assert_eq!(s.get("/nowhere").status, 404);
}

#[test]
fn the_openapi_document_is_served() {
    let s = TestServer::start();
    let doc = s.get("/_mock/openapi.json").json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/_mock/codes/latest"]["get"].is_object());
}
