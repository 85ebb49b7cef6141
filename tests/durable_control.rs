//! Every write of the control plane, and the fixtures a state file is seeded with, is in the
//! state file by the time it is answered (or the server listens): each is followed by a
//! `kill -9` and a restart that finds it.

mod common;

use std::net::SocketAddr;

use common::process::{Process, TempDir};
use common::{ACCOUNT_SID, START, TWILIO_BASIC, plivo_initiate_at as initiate, seen, send};
use serde_json::{Value, json};

const CALLER: &str = "+14158675309";

fn post(addr: SocketAddr, path: &str, body: Value) -> common::Resp {
    send(addr, "POST", path, &[("Content-Type", "application/json")], body.to_string().as_bytes())
}

fn get(addr: SocketAddr, path: &str) -> Value {
    send(addr, "GET", path, &[], b"").json()
}

#[test]
fn every_control_plane_write_answered_survives_a_kill_9_right_after() {
    let dir = TempDir::new("control-kill9");
    let path = dir.path("state");
    let args = ["--state", path.to_str().unwrap(), "--frozen-clock", "--start-time", START];
    let mut server = Process::start(&args);
    // Each step writes through the control plane; the process is killed right after its answer.
    type Step = Box<dyn Fn(SocketAddr) -> u16>;
    let owned = json!({"provider": "twilio", "account": ACCOUNT_SID, "number": CALLER});
    let steps: Vec<(&str, Step)> = vec![
        ("own a number", Box::new(move |a| post(a, "/_mock/numbers", owned.clone()).status)),
        ("move the clock", Box::new(|a| post(a, "/_mock/clock", json!({"advance": "1h"})).status)),
        ("place a call (provider API)", Box::new(|a| twilio_call(a).status)),
        ("answer the call", Box::new(|a| post(a, &format!("/_mock/calls/{}/answer", call_id(a)), json!({})).status)),
        ("hang it up", Box::new(|a| post(a, &format!("/_mock/calls/{}/hangup", call_id(a)), json!({})).status)),
        ("send a code (provider API)", Box::new(|a| initiate(a, "+12025551000").status)),
        ("reset", Box::new(|a| post(a, "/_mock/reset", json!({})).status)),
        (
            "own it again",
            Box::new(|a| {
                post(
                    a,
                    "/_mock/numbers",
                    json!({"provider": "plivo", "account": "MAXXXXXXXXXXXXXXXXXX", "number": CALLER}),
                )
                .status
            }),
        ),
        (
            "disown it",
            Box::new(|a| {
                let query =
                    format!("/_mock/numbers?provider=plivo&account=MAXXXXXXXXXXXXXXXXXX&number=%2B{}", &CALLER[1..]);
                send(a, "DELETE", &query, &[], b"").status
            }),
        ),
    ];
    for (what, step) in steps {
        let status = step(server.addr);
        assert!((200..300).contains(&status), "{what}: {status}");
        let answered = seen(server.addr);
        server.kill9();
        server = Process::start(&args);
        assert_eq!(seen(server.addr), answered, "{what}: everything answered is back after kill -9");
    }
}

fn twilio_call(addr: SocketAddr) -> common::Resp {
    let headers = [("Authorization", TWILIO_BASIC), ("Content-Type", "application/x-www-form-urlencoded")];
    let body =
        serde_urlencoded::to_string([("To", "+14155550100"), ("From", CALLER), ("Twiml", "<Response/>")]).unwrap();
    send(addr, "POST", &format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"), &headers, body.as_bytes())
}

fn call_id(addr: SocketAddr) -> String {
    get(addr, "/_mock/calls")["calls"][0]["id"].as_str().unwrap().to_owned()
}

#[test]
fn fixtures_that_seed_a_state_file_are_in_it_before_the_server_listens() {
    let dir = TempDir::new("fixtures-kill9");
    let (state, fixtures) = (dir.path("state"), dir.path("fixtures.json"));
    let callers: Vec<Value> =
        (0..20000).map(|i| json!({ "phone_number": format!("+1202{:07}", 5_000_000 + i) })).collect();
    let doc =
        json!({ "accounts": [{ "provider": "plivo", "account": "MAFIXTURESXXXXXXXXXX", "caller_ids": callers }] });
    std::fs::write(&fixtures, doc.to_string()).unwrap();
    let seeded = Process::start(&["--state", state.to_str().unwrap(), "--fixtures", fixtures.to_str().unwrap()]);
    seeded.kill9();
    let restarted = Process::start(&["--state", state.to_str().unwrap()]);
    let page = get(restarted.addr, "/_mock/caller-ids?limit=1");
    assert_eq!(page["caller_ids"].as_array().unwrap().len(), 1, "the fixtures are in the file: {page}");
    let stats = get(restarted.addr, "/_mock/stats");
    assert!(stats["state_bytes"].as_u64().unwrap() > 20000 * 100, "all 20,000 of them: {stats}");
}
