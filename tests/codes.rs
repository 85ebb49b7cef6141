//! The codes "sent": listing and filtering them, and `codes/latest` with and without a wait.

mod common;

use common::{AUTH_ID, TestServer};
use insta::assert_snapshot;
use serde_json::json;

#[test]
fn codes_filter_by_number_state_provider_and_account() {
    let s = TestServer::start();
    s.plivo_initiate_ok("+12025551234");
    s.plivo_initiate_ok("+14155552671");
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
fn latest_code_answers_at_once_when_one_exists() {
    let s = TestServer::start();
    s.plivo_initiate_ok("+12025551234");
    s.plivo_initiate_ok("+14155552671");
    let res = s.get("/_mock/codes/latest?number=%2B12025551234");
    assert_eq!((res.status, res.json()["phone_number"].as_str()), (200, Some("+12025551234")));
    assert_eq!(s.get("/_mock/codes/latest").json()["phone_number"], "+14155552671", "the newest of all");
    assert_eq!(s.get("/_mock/codes/latest?state=verified&wait=10ms").status, 404);
}

#[test]
fn a_waiter_is_woken_by_a_code_issued_while_it_waits() {
    let s = std::sync::Arc::new(TestServer::start());
    let issuer = {
        let s = s.clone();
        std::thread::spawn(move || {
            // Once the long-poll holds its slot, it waits: the code comes after.
            common::wait_until("the long-poll to wait", || s.get("/_mock/stats").json()["streams"] == 1);
            s.plivo_initiate_ok("+12025551234");
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
fn a_missing_code_says_what_was_looked_for_and_where_the_newest_codes_went() {
    let s = TestServer::start();
    s.plivo_initiate_ok("+12025551234");
    s.plivo_initiate_ok("+14155552671");
    let res = s.get("/_mock/codes/latest?number=%2B12025550000&account=MAOTHER");
    assert_eq!(res.status, 404);
    assert_eq!(
        res.json()["error"],
        "no code for number +12025550000, account MAOTHER; the newest codes went to +14155552671, +12025551234"
    );
}

#[test]
fn every_route_that_filters_by_provider_refuses_an_unknown_one_alike() {
    let s = TestServer::start();
    let expected = r#"unknown provider "plivoo"; one of ["plivo", "twilio", "seven", "telnyx", "signalwire"]"#;
    for path in ["/_mock/codes", "/_mock/codes/latest", "/_mock/caller-ids", "/_mock/requests", "/_mock/callbacks"] {
        let res = s.get(&format!("{path}?provider=plivoo"));
        assert_eq!((res.status, res.json()["error"].as_str()), (400, Some(expected)), "{path}");
    }
    let res = s.post_json("/_mock/faults", json!({ "provider": "plivoo", "action": "reset" }));
    assert_eq!((res.status, res.json()["error"].as_str()), (400, Some(expected)), "faults");
}
