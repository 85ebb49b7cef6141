//! Plivo VerifiedCallerId against a real server: every response shape is a snapshot taken
//! with seed 42 and a frozen clock, and every flow runs end to end.

mod common;

use common::{AUTH_ID, BASIC, PLIVO_HEADERS, TestServer, plivo_initiate_body, plivo_path, send};
use insta::{assert_json_snapshot, assert_snapshot};
use serde_json::json;

const NUMBER: &str = "+12025551234";

/// Initiates a verification for `number` and returns its `(verification_uuid, otp)`.
fn initiate(s: &TestServer, number: &str, extra: serde_json::Value) -> (String, String) {
    let res =
        send(s.addr, "POST", &plivo_path("VerifiedCallerId/"), &PLIVO_HEADERS, &plivo_initiate_body(number, extra));
    assert_eq!(res.status, 200, "{}", res.body);
    s.latest_code(number)
}

fn verify_number(s: &TestServer, number: &str, extra: serde_json::Value) {
    let (uuid, otp) = initiate(s, number, extra);
    let res = s.plivo("POST", &format!("VerifiedCallerId/Verification/{uuid}/"), &json!({ "otp": otp }).to_string());
    assert_eq!(res.status, 200, "{}", res.body);
}

#[test]
fn the_whole_flow_from_initiate_to_delete() {
    let s = TestServer::start();

    // Initiate: the SDK fixture's shape, and a pending 6-digit code valid 15 minutes.
    let res = s.plivo(
        "POST",
        "VerifiedCallerId/",
        r#"{"phone_number": "+12025551234", "alias": "Main Office", "channel": "call"}"#,
    );
    assert_snapshot!("initiate", res.raw());
    let codes = s.get("/_mock/codes?provider=plivo").json();
    assert_json_snapshot!("codes_after_initiate", codes);
    let (uuid, otp) = s.latest_code(NUMBER);
    assert_eq!(otp.len(), 6);

    // A wrong OTP is refused and counted.
    let wrong = if otp == "000000" { "111111" } else { "000000" };
    let res = s.plivo("POST", &format!("VerifiedCallerId/Verification/{uuid}/"), &json!({ "otp": wrong }).to_string());
    assert_snapshot!("verify_wrong_otp", res.raw());

    // The right one verifies; the response carries nanosecond created_at and the channel.
    s.advance("1500ms");
    let res = s.plivo("POST", &format!("VerifiedCallerId/Verification/{uuid}"), &json!({ "otp": otp }).to_string());
    assert_snapshot!("verify", res.raw());
    assert_eq!(res.json()["verification_uuid"], uuid.as_str());

    let res = s.plivo("GET", "VerifiedCallerId/+12025551234/", "");
    assert_snapshot!("get", res.raw());

    let res = s.plivo("GET", "VerifiedCallerId/?country=US&limit=20&offset=0", "");
    assert_snapshot!("list", res.raw());

    s.advance("1m");
    let res = s.plivo(
        "POST",
        "VerifiedCallerId/+12025551234/",
        r#"{"phone_number": "+12025551234", "alias": "New", "subaccount": "SAXXXXXXXXXXXXXXXXXX"}"#,
    );
    assert_snapshot!("update", res.raw());

    let res = s.plivo("DELETE", "VerifiedCallerId/+12025551234/", r#"{"phone_number": "+12025551234"}"#);
    assert_snapshot!("delete", res.raw());
    assert_eq!(res.body, "");

    let res = s.plivo("GET", "VerifiedCallerId/+12025551234/", "");
    assert_snapshot!("get_after_delete", res.raw());
}

#[test]
fn an_otp_expires_after_15_minutes() {
    let s = TestServer::start();
    let (uuid, otp) = initiate(&s, NUMBER, json!({}));
    let clock = s.advance("16m").json();
    assert_eq!(clock["now"], "2026-01-01T00:16:00Z");
    let res = s.plivo("POST", &format!("VerifiedCallerId/Verification/{uuid}/"), &json!({ "otp": otp }).to_string());
    assert_snapshot!("verify_expired", res.raw());
    let codes = s.get("/_mock/codes?state=expired").json();
    assert_eq!(codes["codes"][0]["id"], uuid.as_str());
    assert_eq!(s.plivo("GET", "VerifiedCallerId/+12025551234/", "").status, 404);
}

#[test]
fn an_otp_is_still_good_just_before_it_expires() {
    let s = TestServer::start();
    let (uuid, otp) = initiate(&s, NUMBER, json!({}));
    s.advance("14m59s");
    let res = s.plivo("POST", &format!("VerifiedCallerId/Verification/{uuid}/"), &json!({ "otp": otp }).to_string());
    assert_eq!(res.status, 200, "{}", res.body);
}

#[test]
fn verify_errors_have_plivo_shape() {
    let s = TestServer::start();
    let res =
        s.plivo("POST", "VerifiedCallerId/Verification/2e68eb73-4d54-4391-bc98-71cd380911a4/", r#"{"otp":"123456"}"#);
    assert_snapshot!("verify_unknown_uuid", res.raw());

    let (uuid, otp) = initiate(&s, NUMBER, json!({}));
    let res = s.plivo("POST", &format!("VerifiedCallerId/Verification/{uuid}/"), "{}");
    assert_snapshot!("verify_missing_otp", res.raw());

    let path = format!("VerifiedCallerId/Verification/{uuid}/");
    assert_eq!(s.plivo("POST", &path, &json!({ "otp": otp }).to_string()).status, 200);
    let res = s.plivo("POST", &path, &json!({ "otp": otp }).to_string());
    assert_snapshot!("verify_already_verified", res.raw());

    let res = s.plivo("POST", "VerifiedCallerId/", r#"{"phone_number":"+12025551234"}"#);
    assert_snapshot!("initiate_already_verified", res.raw());
}

#[test]
fn five_wrong_otps_fail_the_verification() {
    let s = TestServer::start();
    let (uuid, otp) = initiate(&s, NUMBER, json!({}));
    let wrong = if otp == "999999" { "999998" } else { "999999" };
    let path = format!("VerifiedCallerId/Verification/{uuid}/");
    for remaining in (1..5).rev() {
        let res = s.plivo("POST", &path, &json!({ "otp": wrong }).to_string());
        let s = if remaining == 1 { "" } else { "s" };
        assert_eq!(res.json()["error"], format!("invalid OTP; {remaining} attempt{s} remaining"));
    }
    let res = s.plivo("POST", &path, &json!({ "otp": wrong }).to_string());
    assert_snapshot!("verify_too_many_attempts", res.raw());
    // Even the right code is refused now.
    assert_eq!(s.plivo("POST", &path, &json!({ "otp": otp }).to_string()).status, 400);
    let codes = s.get("/_mock/codes").json();
    assert_eq!(codes["codes"][0]["state"], "failed");
    assert_eq!(codes["codes"][0]["attempts"], 5, "tries after failing are not counted");
}

#[test]
fn a_new_initiate_supersedes_the_pending_one() {
    let s = TestServer::start();
    let (first, first_otp) = initiate(&s, NUMBER, json!({}));
    let (second, second_otp) = initiate(&s, NUMBER, json!({}));
    assert_ne!(first, second);
    let res =
        s.plivo("POST", &format!("VerifiedCallerId/Verification/{first}/"), &json!({ "otp": first_otp }).to_string());
    assert_snapshot!("verify_superseded", res.raw());
    let res =
        s.plivo("POST", &format!("VerifiedCallerId/Verification/{second}/"), &json!({ "otp": second_otp }).to_string());
    assert_eq!(res.status, 200);
}

#[test]
fn initiate_validates_its_parameters() {
    let s = TestServer::start();
    for (name, body) in [
        ("initiate_missing_number", r#"{"alias":"x"}"#),
        ("initiate_invalid_number", r#"{"phone_number":"+1234"}"#),
        ("initiate_bad_channel", r#"{"phone_number":"+12025551234","channel":"fax"}"#),
        ("initiate_bad_json", r#"{"phone_number":"#),
    ] {
        assert_snapshot!(name, s.plivo("POST", "VerifiedCallerId/", body).raw());
    }
}

#[test]
fn initiate_accepts_what_each_sdk_sends() {
    let s = TestServer::start();
    // Go: every key, empty strings and a numeric account_id.
    let go = r#"{"phone_number":"+12025551234","alias":"Main Office","channel":"sms","country":"","subaccount":"","account_id":0,"auth_id":"","auth_token":""}"#;
    assert_eq!(s.plivo("POST", "VerifiedCallerId/", go).status, 200);
    // Ruby: nulls; PHP's capitalised channel; a number without +.
    let ruby = r#"{"phone_number":"919768368717","channel":"Call","alias":"Main Office","subaccount":null}"#;
    assert_eq!(s.plivo("POST", "VerifiedCallerId/", ruby).status, 200);
    let codes = s.get("/_mock/codes").json();
    assert_eq!(codes["codes"][0]["phone_number"], "+919768368717");
    assert_eq!(codes["codes"][0]["channel"], "call");
    assert_eq!(codes["codes"][1]["channel"], "sms");
    // Node's sub_account becomes the subaccount; no channel echoes as "".
    let (uuid, otp) = initiate(&s, "+14155552671", json!({ "sub_account": "SAYYYYYYYYYYYYYYYYYY" }));
    let res = s.plivo("POST", &format!("VerifiedCallerId/Verification/{uuid}"), &json!({ "otp": otp }).to_string());
    assert_eq!(res.json()["channel"], "");
    let got = s.plivo("GET", "VerifiedCallerId/14155552671", "\"\"").json();
    assert_eq!(got["subaccount"], "SAYYYYYYYYYYYYYYYYYY");
    assert_eq!(got["country"], "US");
}

#[test]
fn every_path_variant_reaches_the_same_caller_id() {
    let s = TestServer::start();
    verify_number(&s, NUMBER, json!({}));
    for path in [
        "VerifiedCallerId/+12025551234/",
        "VerifiedCallerId/+12025551234",
        "VerifiedCallerId/12025551234/",
        "VerifiedCallerId/12025551234",
        "VerifiedCallerId/%2B12025551234/",
    ] {
        let res = s.plivo("GET", path, "");
        assert_eq!((res.status, res.json()["phone_number"].as_str()), (200, Some(NUMBER)), "{path}");
    }
    assert_eq!(s.plivo("GET", "VerifiedCallerId", "").json()["meta"]["total_count"], 1);
    // Bodies on GET and DELETE are tolerated (Node sends "", PHP {}).
    assert_eq!(s.plivo("GET", "VerifiedCallerId/", "\"\"").status, 200);
    assert_eq!(s.plivo("DELETE", "VerifiedCallerId/12025551234", "{}").status, 204);
}

#[test]
fn list_filters_and_pages() {
    let s = TestServer::start();
    verify_number(&s, "+12025551234", json!({ "alias": "abhishek" }));
    s.advance("1s");
    verify_number(&s, "+919768368717", json!({ "alias": "abhishek", "subaccount": "SAMTU0Y2FKNGETYZDKNI" }));
    s.advance("1s");
    verify_number(&s, "+491632429751", json!({ "alias": "test" }));

    let all = s.plivo("GET", "VerifiedCallerId/", "").json();
    let numbers: Vec<_> = all["objects"].as_array().unwrap().iter().map(|o| o["phone_number"].clone()).collect();
    assert_eq!(numbers, [json!("+491632429751"), json!("+919768368717"), json!("+12025551234")], "newest first");

    let by = |q: &str| s.plivo("GET", &format!("VerifiedCallerId/?{q}"), "").json()["meta"]["total_count"].clone();
    assert_eq!(by("country=IN"), 1);
    assert_eq!(by("country=us"), 1);
    assert_eq!(by("alias=abhishek"), 2);
    assert_eq!(by("subaccount=SAMTU0Y2FKNGETYZDKNI"), 1);
    assert_eq!(by("alias=abhishek&country=DE"), 0);

    let page = s.plivo("GET", "VerifiedCallerId/?limit=1&offset=1&alias=abhishek", "");
    assert_snapshot!("list_second_page", page.raw());
    assert_snapshot!("list_limit_too_big", s.plivo("GET", "VerifiedCallerId/?limit=21", "").raw());
    assert_eq!(s.plivo("GET", "VerifiedCallerId/?limit=0", "").status, 400);
    assert_eq!(s.plivo("GET", "VerifiedCallerId/?offset=-1", "").status, 400);
    assert_eq!(s.plivo("GET", "VerifiedCallerId/?offset=9", "").json()["objects"], json!([]));
}

#[test]
fn update_changes_only_what_is_given() {
    let s = TestServer::start();
    verify_number(&s, NUMBER, json!({ "alias": "Office", "subaccount": "SA1" }));
    let res = s.plivo("POST", "VerifiedCallerId/+12025551234/", r#"{"subaccount":null,"alias":"New"}"#).json();
    assert_eq!((res["alias"].as_str(), res["subaccount"].as_str()), (Some("New"), Some("SA1")));
    let res = s.plivo("POST", "VerifiedCallerId/+12025551234/", r#"{"subaccount":"SA2"}"#).json();
    assert_eq!((res["alias"].as_str(), res["subaccount"].as_str()), (Some("New"), Some("SA2")));
    assert_snapshot!("update_unknown", s.plivo("POST", "VerifiedCallerId/+14155552671/", r#"{"alias":"x"}"#).raw());
    assert_eq!(s.plivo("DELETE", "VerifiedCallerId/+14155552671/", "").status, 404);
}

#[test]
fn authentication_follows_plivo() {
    let s = TestServer::start();
    let path = format!("/v1/Account/{AUTH_ID}/VerifiedCallerId/");
    assert_snapshot!("unauthorized", s.request("GET", &path, &[], "").raw());
    // Someone else's auth_id in the credentials.
    let other = "Basic U0FYWFhYWFhYWFhYWFhYWFhYWFg6dG9rZW4xMjM=";
    assert_eq!(s.request("GET", &path, &[("Authorization", other)], "").status, 401);
    assert_eq!(s.request("GET", &path, &[("Authorization", "Basic !!")], "").status, 401);
    assert_eq!(s.request("GET", &path, &[("Authorization", "Bearer x")], "").status, 401);
    assert_eq!(s.request("GET", &path, &[("Authorization", BASIC)], "").status, 200);
}

#[test]
fn wrong_routes_and_methods_get_plivo_errors() {
    let s = TestServer::start();
    assert_snapshot!("method_not_allowed", s.plivo("PUT", "VerifiedCallerId/", "{}").raw());
    assert_snapshot!("unknown_resource", s.plivo("GET", "Recording/", "").raw());
    assert_eq!(s.plivo("GET", "VerifiedCallerId/Verification/abc/", "").status, 405);
    assert_eq!(s.plivo("GET", "VerifiedCallerId/not-a-number/", "").status, 404);
    assert_eq!(s.request("GET", "/v1/", &[("Authorization", BASIC)], "").status, 404);
}

#[test]
fn accounts_are_separate_namespaces() {
    let s = TestServer::start();
    verify_number(&s, NUMBER, json!({}));
    let other = "SAXXXXXXXXXXXXXXXXXX";
    let auth = "Basic U0FYWFhYWFhYWFhYWFhYWFhYWFg6dG9rZW4xMjM=";
    let res = s.request("GET", &format!("/v1/Account/{other}/VerifiedCallerId/"), &[("Authorization", auth)], "");
    assert_eq!(res.json()["meta"]["total_count"], 0);
    let res = s.request(
        "GET",
        &format!("/v1/Account/{other}/VerifiedCallerId/+12025551234/"),
        &[("Authorization", auth)],
        "",
    );
    assert_eq!(res.status, 404);
}
