//! Calls and owned numbers are state like the rest: kept by `--state` across kill -9 (a live
//! call's timers go on after the restart), exported and imported, swept after `--retention`
//! once they end, and counted against `--max-state-bytes` (a full state evicts finished calls
//! first and then refuses with the provider's own limit error; a live call is never evicted).

mod common;

use std::time::Duration;

use common::process::{Process, TempDir};
use common::{ACCOUNT_SID, TWILIO_BASIC, TestServer, send};
use serde_json::{Value, json};

const CALLER: &str = "+14158675309";

fn form(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

/// A Twilio call from [`CALLER`] (which the account owns) to `to`.
fn call_at(addr: std::net::SocketAddr, to: &str) -> common::Resp {
    let headers = [("Authorization", TWILIO_BASIC), ("Content-Type", "application/x-www-form-urlencoded")];
    let body = form(&[("To", to), ("From", CALLER), ("Twiml", "<Response/>")]);
    send(addr, "POST", &format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"), &headers, body.as_bytes())
}

fn post(addr: std::net::SocketAddr, path: &str, body: Value) -> common::Resp {
    send(addr, "POST", path, &[("Content-Type", "application/json")], body.to_string().as_bytes())
}

fn own(addr: std::net::SocketAddr) {
    let res = post(addr, "/_mock/numbers", json!({ "provider": "twilio", "account": ACCOUNT_SID, "number": CALLER }));
    assert_eq!(res.status, 201, "{}", res.body);
}

fn calls(addr: std::net::SocketAddr) -> Vec<Value> {
    send(addr, "GET", "/_mock/calls", &[], b"").json()["calls"].as_array().unwrap().clone()
}

#[test]
fn calls_and_owned_numbers_survive_a_kill_9_and_live_calls_go_on() {
    let dir = TempDir::new("calls-state");
    let state = dir.path("state");
    let args = ["--state", state.to_str().unwrap(), "--frozen-clock", "--start-time", common::START];
    let server = Process::start(&args);
    own(server.addr);
    let ended = call_at(server.addr, "+15005550003").json()["sid"].as_str().unwrap().to_owned();
    let live = call_at(server.addr, "+14155550100").json()["sid"].as_str().unwrap().to_owned();
    let before = calls(server.addr);
    assert_eq!(before.len(), 2);
    server.kill9();

    let server = Process::start(&args);
    assert_eq!(calls(server.addr), before, "every call as it was, timeline and who ended it included");
    let owned = send(server.addr, "GET", "/_mock/numbers", &[], b"").json();
    assert_eq!(owned["numbers"][0]["number"], CALLER);
    assert_eq!(call_at(server.addr, "+14155550101").status, 201, "the owned number is still a caller ID");
    // The live call's ring timeout (60 s) runs on after the restart.
    post(server.addr, "/_mock/clock", json!({ "advance": "61s" }));
    let now = calls(server.addr);
    let state_of = |sid: &str| now.iter().find(|c| c["id"] == sid).unwrap()["state"].clone();
    assert_eq!((state_of(&ended), state_of(&live)), (json!("busy"), json!("no-answer")));
}

#[test]
fn an_exported_state_with_calls_imports_into_another_server() {
    let a = TestServer::start();
    own(a.addr);
    let sid = call_at(a.addr, "+14155550100").json()["sid"].as_str().unwrap().to_owned();
    a.answer(&sid, json!({}));
    let exported = a.get("/_mock/state").body;
    let state: Value = serde_json::from_str(&exported).unwrap();
    let account = state["accounts"].as_array().unwrap().iter().find(|x| x["account"] == ACCOUNT_SID).unwrap();
    assert_eq!(account["owned_numbers"], json!([CALLER]));
    assert_eq!(account["calls"][0]["state"], "in-progress");

    let b = TestServer::start();
    let res = b.request("PUT", "/_mock/state", &[("Content-Type", "application/json")], &exported);
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(calls(b.addr), calls(a.addr));
    b.advance("60s");
    assert_eq!(calls(b.addr)[0]["state"], "completed", "the imported live call ends on the clock");
}

#[test]
fn finished_calls_are_swept_after_the_retention_window_and_live_ones_stay() {
    let s = TestServer::with(callerid_mock::Config { retention: Duration::from_secs(600), ..common::config() });
    own(s.addr);
    call_at(s.addr, "+15005550003");
    let live = call_at(s.addr, "+15005550006").json()["sid"].as_str().unwrap().to_owned();
    s.advance("9m");
    assert_eq!(calls(s.addr).len(), 2, "kept within --retention");
    s.advance("2m");
    let left = calls(s.addr);
    assert_eq!(left.len(), 1, "the busy call is swept 10 minutes after it ended");
    assert_eq!(left[0]["id"], live.as_str());
    let res = s.twilio("GET", &format!("Calls/{live}.json"), "");
    assert_eq!(res.json()["status"], "completed");
    s.advance("11m");
    assert!(calls(s.addr).is_empty());
    assert_eq!(s.get("/_mock/stats").json()["calls"], 0);
}

#[test]
fn a_full_state_evicts_finished_calls_first_then_refuses_and_never_drops_a_live_one() {
    let s = TestServer::with(callerid_mock::Config { max_state_bytes: 64 << 10, ..common::config() });
    own(s.addr);
    let mut placed = Vec::new();
    let mut refused = None;
    for i in 0..200 {
        // Every other call ends at once (busy); the rest ring on.
        let to = if i % 2 == 0 { "+15005550003".to_owned() } else { format!("+1415555{:04}", 1000 + i) };
        let res = call_at(s.addr, &to);
        if res.status != 201 {
            refused = Some(res);
            break;
        }
        placed.push((res.json()["sid"].as_str().unwrap().to_owned(), i % 2 == 1));
    }
    let refused = refused.expect("a 64 KiB state fills up");
    assert_eq!((refused.status, refused.json()["code"].as_u64()), (429, Some(20429)), "{}", refused.body);
    let held = calls(s.addr);
    let live: Vec<&String> = placed.iter().filter(|(_, live)| *live).map(|(sid, _)| sid).collect();
    for sid in &live {
        assert!(held.iter().any(|c| &c["id"] == *sid), "live call {sid} is never evicted");
    }
    assert!(held.iter().all(|c| c["state"] == "ringing"), "every finished call went before the refusal");
    assert!(s.get("/_mock/stats").json()["state_bytes"].as_u64().unwrap() <= 64 << 10);
}
