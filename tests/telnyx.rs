//! Telnyx Verified Numbers against a real server: every answer byte for byte (raw snapshots),
//! the whole lifecycle, paging, and every error in Telnyx's envelope.

mod common;

use common::{Resp, TestServer};
use insta::assert_snapshot;
use serde_json::json;

const KEY: &str = common::TELNYX_KEY;
const BEARER: &str = "Bearer KEY0123456789ABCDEF";

fn create(s: &TestServer, number: &str, method: &str) -> Resp {
    s.telnyx("POST", "verified_numbers", Some(json!({ "phone_number": number, "verification_method": method })))
}

fn submit(s: &TestServer, number: &str, code: &str) -> Resp {
    let path = format!("verified_numbers/{}/actions/verify", common::encode(number));
    s.telnyx("POST", &path, Some(json!({ "verification_code": code })))
}

fn verified(s: &TestServer, number: &str) {
    assert_eq!(create(s, number, "sms").status, 200);
    let (_, code) = s.latest_code(number);
    assert_eq!(submit(s, number, &code).status, 200);
}

#[test]
fn a_number_is_verified_by_sms_listed_in_pages_and_deleted() {
    let s = TestServer::start();
    let res = create(&s, "+12025551234", "sms");
    assert_eq!(res.body, r#"{"phone_number":"+12025551234","verification_method":"sms"}"#);
    assert_snapshot!("created", res.raw());

    let sent = &s.get("/_mock/codes?provider=telnyx").json()["codes"][0];
    assert_eq!((sent["channel"].as_str(), sent["state"].as_str()), (Some("sms"), Some("pending")));
    assert_eq!(sent["account"], "KEY0…CDEF", "the API key is the account, shown masked");
    assert_eq!(sent["expires_at"], "2026-01-01T00:10:00Z", "a code lasts 10 minutes");
    let code = sent["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 6);

    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_snapshot!("wrong_code", submit(&s, "+12025551234", wrong).raw());
    let res = submit(&s, "+12025551234", &code);
    assert_snapshot!("verified", res.raw());
    assert_eq!(
        res.body,
        r#"{"data":{"phone_number":"+12025551234","record_type":"verified_number","verified_at":"2026-01-01T00:00:00.000000"}}"#
    );
    assert_eq!(s.get("/_mock/codes?provider=telnyx").json()["codes"][0]["state"], "verified");

    // The number in a path: +digits, %2Bdigits or digits.
    for path in ["verified_numbers/+12025551234", "verified_numbers/%2B12025551234", "verified_numbers/12025551234"] {
        assert_eq!(s.telnyx("GET", path, None).body, res.body, "{path}");
    }
    assert_snapshot!("got", s.telnyx("GET", "verified_numbers/%2B12025551234", None).raw());

    s.advance("1s");
    verified(&s, "+12025551235");
    s.advance("1s");
    verified(&s, "+12025551236");
    let first = s.telnyx("GET", "verified_numbers?page%5Bsize%5D=2", None);
    assert_snapshot!("list_page_1", first.raw());
    let second = s.telnyx("GET", "verified_numbers?page[size]=2&page[number]=2", None).json();
    assert_eq!(second["meta"], json!({ "page_number": 2, "page_size": 2, "total_pages": 2, "total_results": 3 }));
    assert_eq!(second["data"][0]["phone_number"], "+12025551234", "newest first: the oldest is last");
    let past = s.telnyx("GET", "verified_numbers?page[size]=2&page[number]=3", None).json();
    assert_eq!(past["data"], json!([]));
    assert_eq!(s.telnyx("GET", "verified_numbers", None).json()["meta"]["page_size"], 25, "the default page size");

    let res = s.telnyx("DELETE", "verified_numbers/+12025551234", None);
    assert_snapshot!("deleted", res.raw());
    assert_snapshot!("not_found", s.telnyx("GET", "verified_numbers/+12025551234", None).raw());
    assert_eq!(s.telnyx("DELETE", "verified_numbers/+12025551234", None).status, 404);
}

#[test]
fn a_code_by_call_is_read_out_at_once_and_submitted_by_the_application() {
    let s = TestServer::start();
    let body = json!({ "phone_number": "+12025551234", "verification_method": "call", "extension": "ww243w1" });
    let res = s.telnyx("POST", "verified_numbers", Some(body));
    assert_eq!(res.body, r#"{"phone_number":"+12025551234","verification_method":"call"}"#);
    let sent = &s.get("/_mock/codes?provider=telnyx").json()["codes"][0];
    assert_eq!((sent["channel"].as_str(), sent["call_status"].as_str()), (Some("call"), Some("completed")));
    // The person on the phone only hears it: the application submits the code.
    let answer =
        s.post_json(&format!("/_mock/calls/{}/answer", sent["id"].as_str().unwrap()), json!({ "digits": "1" }));
    assert_eq!(answer.status, 409, "{}", answer.body);
    assert_eq!(submit(&s, "+12025551234", sent["code"].as_str().unwrap()).status, 200);

    // A magic number whose call is busy fails the verification.
    create(&s, "+15005550003", "call");
    let res = submit(&s, "+15005550003", &s.latest_code("+15005550003").1);
    assert_eq!(res.status, 400);
    assert!(res.body.contains("its call was not answered"), "{}", res.body);
    assert_eq!(s.get("/_mock/codes?number=%2B15005550003").json()["codes"][0]["call_status"], "busy");
}

#[test]
fn codes_expire_fail_after_five_wrong_and_a_new_request_replaces_the_old() {
    let s = TestServer::start();
    create(&s, "+12025551234", "sms");
    let (_, code) = s.latest_code("+12025551234");
    s.advance("10m");
    assert_snapshot!("expired", submit(&s, "+12025551234", &code).raw());

    create(&s, "+12025551234", "sms");
    for remaining in (1..=4).rev() {
        let res = submit(&s, "+12025551234", "000000x");
        let s_ = if remaining == 1 { "" } else { "s" };
        assert!(res.body.contains(&format!("{remaining} attempt{s_} remaining")), "{}", res.body);
    }
    assert_snapshot!("failed", submit(&s, "+12025551234", "000000x").raw());

    create(&s, "+12025551234", "sms");
    let (_, old) = s.latest_code("+12025551234");
    create(&s, "+12025551234", "sms");
    let (_, new) = s.latest_code("+12025551234");
    if old != new {
        assert_eq!(submit(&s, "+12025551234", &old).status, 400, "the newest request's code counts");
    }
    assert_eq!(submit(&s, "+12025551234", &new).status, 200);
    assert_snapshot!("already_verified", create(&s, "+12025551234", "sms").raw());
    assert_eq!(submit(&s, "+19995550000", "123456").status, 404, "no verification for the number");
}

#[test]
fn every_refusal_is_in_telnyxs_envelope() {
    let s = TestServer::start();
    let post = |body: &str| {
        s.request(
            "POST",
            "/v2/verified_numbers",
            &[("Authorization", BEARER), ("Content-Type", "application/json")],
            body,
        )
    };
    assert_snapshot!("missing_phone_number", post(r#"{"verification_method":"sms"}"#).raw());
    assert_snapshot!("not_e164", post(r#"{"phone_number":"12025551234","verification_method":"sms"}"#).raw());
    assert_snapshot!("invalid_number", post(r#"{"phone_number":"+1202","verification_method":"sms"}"#).raw());
    assert_snapshot!("missing_method", post(r#"{"phone_number":"+12025551234"}"#).raw());
    assert_snapshot!("bad_method", post(r#"{"phone_number":"+12025551234","verification_method":"fax"}"#).raw());
    assert_snapshot!(
        "extension_with_sms",
        post(r#"{"phone_number":"+12025551234","verification_method":"sms","extension":"12"}"#).raw()
    );
    let long = "1".repeat(51);
    let res = post(&format!(r#"{{"phone_number":"+12025551234","verification_method":"call","extension":"{long}"}}"#));
    assert_eq!(res.status, 422);
    let res = post(r#"{"phone_number":"+12025551234","verification_method":"call","extension":"12x"}"#);
    assert_eq!(res.status, 422);
    assert_snapshot!("invalid_json", post("{nope").raw());
    assert_snapshot!("bad_page_size", s.telnyx("GET", "verified_numbers?page[size]=0", None).raw());
    assert_eq!(s.telnyx("GET", "verified_numbers?page[size]=251", None).status, 422);
    assert_eq!(s.telnyx("GET", "verified_numbers?page[number]=0", None).status, 422);
    assert_snapshot!("unauthorized", s.request("GET", "/v2/verified_numbers", &[], "").raw());
    let basic = s.request("GET", "/v2/verified_numbers", &[("Authorization", "Basic a2V5OnNlY3JldA==")], "");
    assert_eq!(basic.status, 401, "Bearer only");
    assert_snapshot!("no_route", s.telnyx("GET", "messages", None).raw());
    assert_snapshot!("method_not_allowed", s.telnyx("PUT", "verified_numbers/+12025551234", None).raw());
    assert_eq!(
        submit(&s, "+12025551234", "").status,
        404,
        "an empty code for a number with no verification is not found"
    );
    let res = s.telnyx("POST", "verified_numbers/+12025551234/actions/verify", Some(json!({})));
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(res.body.contains(r#""pointer":"/verification_code""#));
    // Nothing was created by any of these.
    assert_eq!(s.get("/_mock/codes?provider=telnyx").json()["codes"], json!([]));
}

#[test]
fn telnyx_joins_the_control_plane_faults_caps_and_strict_auth() {
    let s = TestServer::with(callerid_mock::Config { max_pending: 1, ..common::config() });
    let rule = json!({ "provider": "telnyx", "operation": "create", "action": "error", "status": 503, "times": 1 });
    assert_eq!(s.post_json("/_mock/faults", rule).status, 201);
    assert_snapshot!("injected_error", create(&s, "+12025551234", "sms").raw());
    assert_eq!(create(&s, "+12025551234", "sms").status, 200);

    let capped = create(&s, "+12025551235", "sms");
    assert_snapshot!("cap_reached", capped.raw());
    assert_eq!(capped.header("retry-after"), Some("1"));

    let requests = s.get("/_mock/requests?provider=telnyx").json();
    assert_eq!(requests["requests"][0]["operation"], "create");
    assert_eq!(requests["requests"][0]["account"], "KEY0…CDEF");
    assert_eq!(
        s.get(&format!("/_mock/codes?provider=telnyx&account={KEY}")).json()["codes"].as_array().unwrap().len(),
        1
    );
    assert!(s.get("/_mock/openapi.json").body.contains("\"telnyx\""));

    let dir = std::env::temp_dir().join(format!("callerid-mock-telnyx-{}.json", std::process::id()));
    std::fs::write(&dir, format!(r#"{{"accounts":[{{"provider":"telnyx","account":"{KEY}"}}]}}"#)).unwrap();
    let strict =
        TestServer::with(callerid_mock::Config { strict_auth: true, fixtures: Some(dir.clone()), ..common::config() });
    assert_eq!(create(&strict, "+12025551234", "sms").status, 200, "a declared key");
    let other = strict.request("GET", "/v2/verified_numbers", &[("Authorization", "Bearer OTHERKEY")], "");
    assert_eq!(other.status, 401, "an undeclared key");
    std::fs::remove_file(dir).unwrap();
}
