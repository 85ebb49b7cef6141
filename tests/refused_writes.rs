//! A write refused with a 503 because the state file cannot be written leaves no trace: it is
//! not in memory (listings, `/_mock/codes`, the clock), it sends no webhook, and it is not in
//! the file once the file can be written again.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::process::{Process, TempDir, set_file_size_limit, under_a_size_limit};
use common::receiver::Receiver;
use common::{ACCOUNT_SID, START, TWILIO_BASIC, plivo_initiate_at as initiate, seen, send};
use serde_json::{Value, json};

const CALLER: &str = "+14158675309";

fn post(addr: SocketAddr, path: &str, body: Value) -> common::Resp {
    send(addr, "POST", path, &[("Content-Type", "application/json")], body.to_string().as_bytes())
}

/// A Twilio call from the owned [`CALLER`] to `to` whose every status goes to `callback`.
fn call(addr: SocketAddr, to: &str, callback: &str) -> common::Resp {
    let headers = [("Authorization", TWILIO_BASIC), ("Content-Type", "application/x-www-form-urlencoded")];
    let body = serde_urlencoded::to_string([
        ("To", to),
        ("From", CALLER),
        ("Twiml", "<Response/>"),
        ("StatusCallback", callback),
        ("StatusCallbackEvent", "initiated ringing answered completed"),
    ])
    .unwrap();
    send(addr, "POST", &format!("/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"), &headers, body.as_bytes())
}

fn wait_healthy(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while send(addr, "GET", "/_mock/health", &[], b"").status != 200 {
        assert!(Instant::now() < deadline, "health recovers once the file can be written");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_write_refused_because_the_file_cannot_be_written_leaves_no_trace() {
    let receiver = Receiver::start(200);
    let dir = TempDir::new("refused");
    let path = dir.path("state");
    let args = ["--state", path.to_str().unwrap(), "--frozen-clock", "--start-time", START];
    let (server, _log) = under_a_size_limit(&args);
    let addr = server.addr;
    let owned = post(addr, "/_mock/numbers", json!({"provider": "twilio", "account": ACCOUNT_SID, "number": CALLER}));
    assert_eq!(owned.status, 201, "{}", owned.body);
    assert_eq!(initiate(addr, "+12025551000").status, 200);
    let before = seen(addr);

    // The first write after the file stops growing is applied, then its sync fails: it is
    // undone before its 503 is sent, and its webhook is never sent.
    set_file_size_limit(&server, &format!("{}:unlimited", std::fs::metadata(&path).unwrap().len()));
    let refused = call(addr, "+14155550100", &receiver.url("/status"));
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(seen(addr), before, "the refused call left nothing behind");
    // A clock move is made before it is logged: undone as well.
    assert_eq!(post(addr, "/_mock/clock", json!({"advance": "1h"})).status, 503);
    assert_eq!(seen(addr), before, "the refused clock move is undone");

    // Once the file can be written, the first write of a code is refused the same way.
    set_file_size_limit(&server, "unlimited:unlimited");
    wait_healthy(addr);
    set_file_size_limit(&server, &format!("{}:unlimited", std::fs::metadata(&path).unwrap().len()));
    assert_eq!(initiate(addr, "+12025551001").status, 503);
    assert_eq!(seen(addr), before, "the refused code is not in /_mock/codes");
    // A webhook is journaled before it is sent: none was, so none is on its way.
    let callbacks = send(addr, "GET", "/_mock/callbacks", &[], b"").json();
    assert_eq!(callbacks["callbacks"], serde_json::json!([]), "no webhook of a refused call");
    assert!(receiver.received().is_empty());

    set_file_size_limit(&server, "unlimited:unlimited");
    wait_healthy(addr);
    drop(server);
    let restarted = Process::start(&args);
    assert_eq!(seen(restarted.addr), before, "nothing refused is in the file");
    let file = std::fs::read_to_string(&path).unwrap();
    assert!(!file.contains("+14155550100") && !file.contains("+12025551001"), "{file}");
}
