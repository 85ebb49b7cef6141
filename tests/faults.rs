//! Fault injection (errors in each provider's shape, latency, resets, drops, seeded
//! probabilities, webhook faults) and the request journal.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;

use common::receiver::Receiver;
use common::{AUTH_ID, BASIC, TestServer};
use insta::{assert_json_snapshot, assert_snapshot};
use serde_json::{Value, json};

fn add_fault(s: &TestServer, rule: Value) -> common::Resp {
    s.post_json("/_mock/faults", rule)
}

/// Sends a Plivo list request on a raw connection; returns what reading the answer gave.
fn raw_list(s: &TestServer) -> std::io::Result<usize> {
    let mut stream = TcpStream::connect(s.addr)?;
    let req = format!(
        "GET /v1/Account/{AUTH_ID}/VerifiedCallerId/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: {BASIC}\r\n\r\n"
    );
    stream.write_all(req.as_bytes())?;
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf)
}

#[test]
fn an_error_rule_answers_in_each_providers_shape_for_the_next_n_requests() {
    let s = TestServer::start();
    let rule = add_fault(
        &s,
        json!({ "provider": "plivo", "operation": "initiate", "action": "error", "status": 500,
        "message": "service unavailable", "times": 1 }),
    );
    assert_snapshot!("rule_created", rule.raw());
    assert_snapshot!("plivo_injected_error", s.plivo_initiate("+12025551234").raw());
    assert_eq!(s.plivo_initiate("+12025551234").status, 200, "only the next one");

    add_fault(
        &s,
        json!({ "provider": "twilio", "action": "error", "status": 429, "code": 20429, "message": "Too Many Requests" }),
    );
    let res = s.twilio("GET", "OutgoingCallerIds.json", "");
    assert!(res.header("twilio-request-id").is_some());
    assert_snapshot!("twilio_injected_error", res.raw());

    add_fault(&s, json!({ "provider": "seven", "action": "error", "status": 200, "code": 900 }));
    let res = s.request("POST", "/api/validate_for_voice?p=KEY&number=491632429751", &[], "");
    assert_eq!((res.status, res.body.as_str()), (200, "900"));

    let faults = s.get("/_mock/faults").json();
    let hits: Vec<_> = faults["faults"].as_array().unwrap().iter().map(|f| f["hits"].clone()).collect();
    assert_eq!(hits, [json!(1), json!(1), json!(1)]);
    assert_eq!(faults["faults"][0]["remaining"], 0);
    assert_eq!(s.request("DELETE", "/_mock/faults", &[], "").json()["cleared"], 3);
    assert_eq!(s.twilio("GET", "OutgoingCallerIds.json", "").status, 200);
}

#[test]
fn rules_match_on_account_and_number() {
    let s = TestServer::start();
    add_fault(&s, json!({ "number": "+14155552671", "action": "error", "status": 400, "message": "no" }));
    add_fault(
        &s,
        json!({ "account": "MAOTHERXXXXXXXXXXXXX", "action": "error", "status": 403, "message": "forbidden" }),
    );
    assert_eq!(s.plivo_initiate("+12025551234").status, 200);
    assert_eq!(s.plivo_initiate("+14155552671").status, 400);
    let res = s.plivo("GET", "VerifiedCallerId/+14155552671/", "");
    assert_eq!(res.status, 400, "a path number matches too");
    let other = "Basic TUFPVEhFUlhYWFhYWFhYWFhYWFg6eA==";
    let res = s.request("GET", "/v1/Account/MAOTHERXXXXXXXXXXXXX/VerifiedCallerId/", &[("Authorization", other)], "");
    assert_eq!(res.status, 403);
}

#[test]
fn latency_delays_the_answer() {
    let s = TestServer::start();
    add_fault(&s, json!({ "action": "latency", "latency_ms": 150, "times": 1 }));
    assert_eq!(s.plivo_initiate("+12025551234").status, 200);
    let journal = s.get("/_mock/requests").json();
    assert!(journal["requests"][0]["duration_us"].as_u64().unwrap() >= 150_000, "{journal}");
}

#[test]
fn reset_closes_the_connection_with_a_tcp_reset() {
    let s = TestServer::start();
    add_fault(&s, json!({ "action": "reset", "times": 1 }));
    let err = raw_list(&s).expect_err("no answer, a reset");
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
    assert_eq!(raw_list(&s).map(|n| n > 0).ok(), Some(true), "the next request is answered");
    assert_eq!(s.get("/_mock/requests?status=0").json()["requests"].as_array().unwrap().len(), 1);
}

#[test]
fn drop_holds_the_connection_then_closes_it_without_an_answer() {
    let s = TestServer::start();
    add_fault(&s, json!({ "action": "drop", "hold_ms": 300, "times": 1 }));
    let started = std::time::Instant::now();
    assert_eq!(raw_list(&s).ok(), Some(0), "closed with nothing written");
    assert!(started.elapsed() >= std::time::Duration::from_millis(300), "held for hold_ms first");
}

#[test]
fn a_rule_for_an_operation_that_does_not_exist_is_refused_naming_the_valid_ones() {
    let s = TestServer::start();
    let res = add_fault(&s, json!({ "provider": "plivo", "operation": "initate", "action": "reset" }));
    assert_eq!(res.status, 400);
    assert_eq!(
        res.json()["error"],
        "operation \"initate\" is not one of plivo's: cancel_call, create_call, delete, get, get_call, hangup_call, \
         initiate, list, list_calls, transfer_call, update, verify, callback (a fault rule for it would never fire)"
    );
    let res = add_fault(&s, json!({ "operation": "nope", "action": "reset" }));
    assert!(res.json()["error"].as_str().unwrap().starts_with("operation \"nope\" is not one of any provider's: "));
    assert_eq!(add_fault(&s, json!({ "operation": "callback", "action": "reset" })).status, 201);
    assert_eq!(add_fault(&s, json!({ "provider": "twilio", "operation": "create", "action": "reset" })).status, 201);
}

/// Which of 40 initiates a 30% rule hits on a fresh server with `seed`.
fn faulted_requests(seed: u64) -> Vec<usize> {
    let mut config = common::config();
    config.seed = Some(seed);
    let s = TestServer::with(config);
    add_fault(&s, json!({ "action": "error", "status": 503, "probability": 0.3 }));
    (0..40).filter(|i| s.plivo_initiate(&format!("+1415555{:04}", 2600 + i)).status == 503).collect()
}

#[test]
fn a_seeded_30_percent_rule_hits_the_same_requests_on_two_runs() {
    let (a, b) = (faulted_requests(42), faulted_requests(42));
    assert_eq!(a, b);
    assert!(!a.is_empty() && a.len() < 40, "{a:?}");
    assert_ne!(a, faulted_requests(7), "another seed, other hits");
}

#[test]
fn callback_faults_fail_the_next_webhooks_of_an_account() {
    let s = TestServer::start();
    let receiver = Receiver::start(200);
    let account = common::ACCOUNT_SID;
    add_fault(&s, json!({ "operation": "callback", "account": account, "action": "error", "status": 500, "times": 1 }));
    for number in ["+14158675309", "+12025551234"] {
        let form =
            serde_urlencoded::to_string([("PhoneNumber", number), ("StatusCallback", &receiver.url("/cb"))]).unwrap();
        let vr = s.twilio("POST", "OutgoingCallerIds.json", &form).json();
        let res = s.post_json(
            &format!("/_mock/calls/{}/answer", vr["call_sid"].as_str().unwrap()),
            json!({ "digits": vr["validation_code"] }),
        );
        assert_eq!(res.status, 200);
    }
    let journal = s.settled_callbacks();
    let states: Vec<_> = journal["callbacks"].as_array().unwrap().iter().map(|c| c["state"].clone()).collect();
    assert_eq!(states, [json!("delivered"), json!("failed")]);
    let injected = &journal["callbacks"][1]["attempts"][0];
    assert_eq!(
        (injected["status"].as_u64(), injected["error"].as_str()),
        (Some(500), Some("injected fault: error status"))
    );
    assert_eq!(receiver.wait_for(1).len(), 1, "the failed one never reached the receiver");
}

#[test]
fn bad_rules_are_refused() {
    let s = TestServer::start();
    assert_snapshot!("bad_rule", add_fault(&s, json!({ "action": "explode" })).raw());
    for rule in [
        json!({}),
        json!({ "action": "error", "status": 42 }),
        json!({ "action": "latency" }),
        json!({ "action": "latency", "latency_ms": [5, 1] }),
        json!({ "action": "reset", "probability": 2 }),
        json!({ "action": "reset", "times": 0 }),
        json!({ "action": "reset", "provider": "nope" }),
        json!({ "action": "reset", "colour": "red" }),
    ] {
        assert_eq!(add_fault(&s, rule.clone()).status, 400, "{rule}");
    }
    assert_eq!(s.get("/_mock/faults").json()["faults"], json!([]));
}

#[test]
fn the_request_journal_records_provider_requests_without_secrets() {
    let s = TestServer::start();
    s.plivo_initiate("+12025551234");
    s.twilio("GET", "OutgoingCallerIds.json?PageSize=5", "");
    s.request("POST", "/api/validate_for_voice?p=SECRETKEY&number=491632429751", &[], "");
    s.get("/_mock/codes");
    let mut journal = s.get("/_mock/requests").json();
    assert!(!journal.to_string().contains("token123"), "no credentials: {journal}");
    assert_eq!(journal["requests"][0]["query"], "p=[redacted]&number=491632429751");
    for r in journal["requests"].as_array_mut().unwrap() {
        assert!(r["duration_us"].is_u64());
        r["duration_us"] = json!("[duration]");
    }
    assert_json_snapshot!("requests", journal);
    let only = |q: &str| s.get(&format!("/_mock/requests?{q}")).json()["requests"].as_array().unwrap().len();
    assert_eq!(only("provider=plivo"), 1);
    assert_eq!(only("operation=list"), 1);
    assert_eq!(only(&format!("account={AUTH_ID}")), 1);
    assert_eq!(only("status=200"), 3);
    s.request("POST", &format!("/_mock/reset?account={AUTH_ID}"), &[], "");
    assert_eq!(only(""), 2, "a scoped reset drops that account's journal");
}

#[test]
fn journals_keep_max_journal_entries_per_account() {
    let mut config = common::config();
    config.max_journal = 3;
    let s = TestServer::with(config);
    for i in 0..5 {
        s.plivo_initiate(&format!("+1415555{:04}", 2600 + i));
    }
    s.twilio("GET", "OutgoingCallerIds.json", "");
    let journal = s.get("/_mock/requests").json();
    let paths: Vec<_> = journal["requests"].as_array().unwrap().iter().map(|r| r["provider"].clone()).collect();
    assert_eq!(paths, [json!("twilio"), json!("plivo"), json!("plivo"), json!("plivo")]);
}
