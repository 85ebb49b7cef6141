//! The control plane's first slice, determinism, fixtures, and robustness against bad input.

mod common;

use common::{AUTH_ID, BASIC, TestServer};
use insta::assert_snapshot;
use serde_json::json;

fn initiate(s: &TestServer, number: &str) {
    let res = s.plivo_initiate(number);
    assert_eq!(res.status, 200, "{}", res.body);
}

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
    initiate(&s, "+12025551234");
    s.advance("5m");
    initiate(&s, "+14155552671");
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
fn codes_filter_by_number_state_provider_and_account() {
    let s = TestServer::start();
    initiate(&s, "+12025551234");
    initiate(&s, "+14155552671");
    let n = |q: &str| s.get(&format!("/_mock/codes?{q}")).json()["codes"].as_array().unwrap().len();
    assert_eq!(n(""), 2);
    assert_eq!(n("number=%2B12025551234"), 1);
    assert_eq!(n("number=14155552671"), 1);
    assert_eq!(n("state=pending"), 2);
    assert_eq!(n("state=verified"), 0);
    assert_eq!(n("provider=plivo"), 2);
    assert_eq!(n(&format!("account={AUTH_ID}")), 2);
    assert_eq!(n("account=MAOTHER"), 0);
    assert_snapshot!("codes_bad_provider", s.get("/_mock/codes?provider=nope").raw());
    assert_eq!(s.get("/_mock/codes?state=nope").status, 400);
    assert_eq!(s.get("/_mock/codes?number=abc").status, 400);
}

#[test]
fn reset_wipes_everything_or_one_account() {
    let s = TestServer::start();
    initiate(&s, "+12025551234");
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
fn unknown_control_routes_and_methods_are_json_errors() {
    let s = TestServer::start();
    assert_snapshot!("control_not_found", s.get("/_mock/nope").raw());
    assert_eq!(s.request("DELETE", "/_mock/codes", &[], "").status, 405);
    assert_eq!(s.get("/nowhere").status, 404);
}

/// The requests of a small flow; returns every response body.
fn scripted_flow(s: &TestServer) -> Vec<String> {
    let mut bodies = Vec::new();
    let mut push = |r: common::Resp| bodies.push(format!("{} {}", r.status, r.body));
    push(s.plivo("POST", "VerifiedCallerId/", r#"{"phone_number":"+12025551234","alias":"a"}"#));
    let (uuid, otp) = s.latest_code("+12025551234");
    push(s.get("/_mock/codes"));
    push(s.plivo("POST", &format!("VerifiedCallerId/Verification/{uuid}/"), r#"{"otp":"x"}"#));
    s.advance("3s");
    push(s.plivo("POST", &format!("VerifiedCallerId/Verification/{uuid}/"), &json!({ "otp": otp }).to_string()));
    push(s.plivo("GET", "VerifiedCallerId/", ""));
    push(s.plivo("POST", "VerifiedCallerId/+12025551234/", r#"{"alias":"b"}"#));
    push(s.plivo("GET", "VerifiedCallerId/+12025551234/", ""));
    bodies
}

#[test]
fn same_seed_and_start_time_give_byte_identical_responses() {
    let (a, b) = (TestServer::start(), TestServer::start());
    assert_eq!(scripted_flow(&a), scripted_flow(&b));
    let mut other = common::config();
    other.seed = Some(43);
    let c = TestServer::with(other);
    assert_ne!(scripted_flow(&a), scripted_flow(&c), "another seed gives other ids");
}

#[test]
fn keys_come_in_the_sdk_fixtures_order() {
    let s = TestServer::start();
    let body = scripted_flow(&s).pop().unwrap();
    let keys =
        ["alias", "api_id", "country", "created_at", "modified_at", "phone_number", "subaccount", "verification_uuid"];
    let positions: Vec<usize> = keys.iter().map(|k| body.find(&format!("\"{k}\"")).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{body}");
}

#[test]
fn fixtures_load_accounts_and_caller_ids() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/example.json");
    let mut config = common::config();
    config.fixtures = Some(path.into());
    let s = TestServer::with(config);
    let res = s.plivo("GET", "VerifiedCallerId/", "");
    assert_snapshot!("fixtures_list", res.raw());
    let res = s.plivo("POST", "VerifiedCallerId/", r#"{"phone_number":"+12025551234"}"#);
    assert_eq!(res.status, 400, "a fixture number is already verified");
    let res = s.twilio("GET", "OutgoingCallerIds/PNe905d7e6b410746a0fb08c57e5a186f3.json", "");
    assert_eq!((res.status, res.json()["date_created"].as_str()), (200, Some("Sun, 27 Jul 2025 20:21:11 +0000")));
    let res = s.request("POST", "/api/validate_for_voice?p=TESTKEY&number=491632429751", &[], "");
    assert_eq!((res.json()["id"].as_u64(), res.json()["voice"].as_bool()), (Some(12345), Some(true)));
}

#[test]
fn bad_fixtures_stop_the_start_with_a_reason() {
    let dir = std::env::temp_dir().join(format!("callerid-mock-fixtures-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text, expected) in [
        ("syntax.json", "{", "not a state file"),
        ("provider.json", r#"{"accounts":[{"provider":"nope","account":"x"}]}"#, "unknown provider"),
        (
            "number.json",
            r#"{"accounts":[{"provider":"plivo","account":"x","caller_ids":[{"phone_number":"123"}]}]}"#,
            "not a valid phone number",
        ),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let mut config = common::config();
        config.fixtures = Some(path);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let err = rt.block_on(callerid_mock::start(config)).err().expect("refuses to start");
        assert!(err.contains(expected), "{err}");
    }
}

#[test]
fn garbage_never_gets_a_5xx_and_the_server_keeps_serving() {
    let s = TestServer::start();
    let paths = [
        "/",
        "/v1",
        "/v1/Account",
        "/v1/Account//VerifiedCallerId/",
        "/v1/Account/MA/VerifiedCallerId/%ZZ/",
        "/v1/Account/MAXXXXXXXXXXXXXXXXXX/VerifiedCallerId/Verification/",
        "/_mock/codes?number=%FF",
        "/_mock/clock",
        "/v1/Account/MAXXXXXXXXXXXXXXXXXX/VerifiedCallerId/?limit=abc&offset=%%",
        "/%00",
        "/2010-04-01/Accounts/MAXXXXXXXXXXXXXXXXXX/OutgoingCallerIds.json",
        "/2010-04-01/Accounts/MAXXXXXXXXXXXXXXXXXX/OutgoingCallerIds/..json",
        "/2010-04-01/Accounts/MAXXXXXXXXXXXXXXXXXX/OutgoingCallerIds.json?PageSize=%FF&PageToken=PA",
        "/2010-04-01/Accounts",
        "/api/validate_for_voice?p=K&number=%00",
        "/api/validate_for_voice?p=K&callback=ftp://x&number=491632429751",
        "/_mock/calls/x/answer",
        "/_mock/faults",
        "/_mock/state",
        "/_mock/codes/latest?wait=%FF",
    ];
    let bodies = [
        "",
        "{",
        "[1,2]",
        "\"\"",
        "null",
        "{\"phone_number\":{\"a\":1}}",
        "{\"otp\":123456}",
        "\u{0}\u{1}",
        "PhoneNumber=%2B1&CallDelay=-1&StatusCallback=x",
        "{\"accounts\":[{}]}",
        "{\"action\":\"error\",\"status\":700}",
    ];
    for path in paths {
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            for body in bodies {
                let res = s.request(method, path, &[("Authorization", BASIC)], body);
                assert!(res.status < 500, "{method} {path} {body:?} -> {}", res.status);
            }
        }
    }
    let big = "x".repeat(100 * 1024);
    assert_eq!(
        s.request("POST", "/v1/Account/MAXXXXXXXXXXXXXXXXXX/VerifiedCallerId/", &[("Authorization", BASIC)], &big)
            .status,
        413
    );
    assert_eq!(s.get("/_mock/health").status, 200);
}

#[test]
fn latest_code_answers_at_once_when_one_exists() {
    let s = TestServer::start();
    initiate(&s, "+12025551234");
    initiate(&s, "+14155552671");
    let res = s.get("/_mock/codes/latest?number=%2B12025551234");
    assert_eq!((res.status, res.json()["phone_number"].as_str()), (200, Some("+12025551234")));
    assert_eq!(s.get("/_mock/codes/latest").json()["phone_number"], "+14155552671", "the newest of all");
    assert_eq!(s.get("/_mock/codes/latest?state=verified&wait=10ms").status, 404);
}

#[test]
fn a_waiter_is_woken_by_a_code_issued_200ms_later() {
    let s = std::sync::Arc::new(TestServer::start());
    let issuer = {
        let s = s.clone();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(200));
            initiate(&s, "+12025551234");
        })
    };
    let res = s.get("/_mock/codes/latest?number=%2B12025551234&wait=10s");
    issuer.join().unwrap();
    assert_eq!((res.status, res.json()["state"].as_str()), (200, Some("pending")));
    assert_eq!(res.json()["phone_number"], "+12025551234");
}

#[test]
fn latest_code_gives_up_after_wait_with_404() {
    let s = TestServer::start();
    let res = s.get("/_mock/codes/latest?number=%2B12025551234&wait=100ms");
    assert_snapshot!("latest_timeout", res.raw());
    assert_eq!(s.get("/_mock/codes/latest?wait=soon").status, 400);
}

#[test]
fn the_openapi_document_is_served() {
    let s = TestServer::start();
    let doc = s.get("/_mock/openapi.json").json();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/_mock/codes/latest"]["get"].is_object());
}

#[test]
fn resetting_one_account_mid_flow_leaves_another_accounts_flow_intact() {
    let s = TestServer::start();
    // Account A (Twilio) is mid-call; account B (Plivo) has an OTP out.
    let vr = s.twilio("POST", "OutgoingCallerIds.json", "PhoneNumber=%2B14158675309&CallDelay=30").json();
    initiate(&s, "+12025551234");
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
fn every_shipped_fixture_file_loads() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
    let mut loaded = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let mut config = common::config();
        config.start_time = callerid_mock::Timestamp::parse_rfc3339("2026-01-01T00:05:00Z");
        config.fixtures = Some(path.clone());
        let s = TestServer::with(config);
        let state = s.get("/_mock/state").json();
        assert!(!state["accounts"].as_array().unwrap().is_empty(), "{}", path.display());
        loaded += 1;
    }
    assert_eq!(loaded, 3);
    // The pending example: its OTP still verifies, its call can be answered.
    let mut config = common::config();
    config.start_time = callerid_mock::Timestamp::parse_rfc3339("2026-01-01T00:05:00Z");
    config.fixtures = Some(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/pending.json").into());
    let s = TestServer::with(config);
    let res =
        s.plivo("POST", "VerifiedCallerId/Verification/2e68eb73-4d54-4391-bc98-71cd380911a4/", r#"{"otp":"123456"}"#);
    assert_eq!((res.status, res.json()["alias"].as_str()), (200, Some("abhishek")));
    let res = s.post_json("/_mock/calls/CA378358ccf6a2c88abc67859aa2e0bffa/answer", json!({ "outcome": "busy" }));
    assert_eq!(res.json()["call_status"], "busy");
}

#[test]
fn the_inbox_is_one_self_contained_html_page() {
    let s = TestServer::start();
    for path in ["/_mock/", "/_mock"] {
        let res = s.get(path);
        assert_eq!((res.status, res.header("content-type")), (200, Some("text/html; charset=utf-8")), "{path}");
        assert!(res.body.contains("<title>callerid-mock inbox</title>"));
        assert!(res.body.contains("EventSource"));
        assert!(!res.body.contains("http://") && !res.body.contains("https://"), "no external assets");
    }
}

#[test]
fn the_event_stream_announces_every_change() {
    use std::io::{Read, Write};
    let s = TestServer::start();
    let mut stream = std::net::TcpStream::connect(s.addr).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
    stream.write_all(b"GET /_mock/events HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut seen = String::new();
    let mut read_until = |needle: &str, count: usize| -> String {
        let mut buf = [0u8; 4096];
        while seen.matches(needle).count() < count {
            let n = stream.read(&mut buf).expect("the stream stays open");
            assert!(n > 0, "closed early: {seen}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        seen.clone()
    };
    let head = read_until("event: change", 1);
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    initiate(&s, "+12025551234");
    read_until("event: change", 2);
    s.advance("1m");
    read_until("event: change", 3);
}
