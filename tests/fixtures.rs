//! Fixtures files: what they load, and a start they refuse.

mod common;

use common::TestServer;
use insta::assert_snapshot;
use serde_json::json;

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
    // An owned number is a caller ID for the account's calls.
    let call = [("To", "+14155550100"), ("From", "+14155550199"), ("Twiml", "<Response/>")];
    let res = s.twilio("POST", "Calls.json", &serde_urlencoded::to_string(call).unwrap());
    assert_eq!(res.status, 201, "{}", res.body);
    let owned = s.get("/_mock/numbers").json();
    assert_eq!(
        owned["numbers"],
        json!([{ "provider": "twilio", "account": common::ACCOUNT_SID, "number": "+14155550199" }])
    );
    let bad = r#"{"accounts":[{"provider":"twilio","account":"ACx","owned_numbers":["12"]}]}"#;
    assert!(start_with(bad).unwrap_err().contains("not a valid phone number"));
}

fn start_with(fixtures: &str) -> Result<(), String> {
    let path = std::env::temp_dir().join(format!("callerid-mock-owned-{}.json", std::process::id()));
    std::fs::write(&path, fixtures).unwrap();
    let mut config = common::config();
    config.fixtures = Some(path);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(callerid_mock::start(config)).map(|_| ())
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
