//! `--state FILE`: a write answered 2xx survives SIGTERM, kill -9 and a restart; a state file
//! that cannot be written is loud; the file is only ever the state file, written in place.

mod common;

use std::net::SocketAddr;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::process::{BIN, Process, TempDir, set_file_size_limit, under_a_size_limit};
use common::{AUTH_ID, BASIC, Resp, plivo_initiate_at as initiate, send};
use serde_json::{Value, json};

/// Every code the server knows, by id.
fn code_ids(addr: SocketAddr) -> Vec<String> {
    let mut ids = Vec::new();
    let mut path = "/_mock/codes?limit=1000".to_owned();
    loop {
        let page = send(addr, "GET", &path, &[], b"").json();
        ids.extend(page["codes"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()));
        match page["next"].as_str() {
            Some(next) => path = next.to_owned(),
            None => return ids,
        }
    }
}

fn control(addr: SocketAddr, method: &str, path: &str, body: Value) -> Resp {
    send(addr, method, path, &[("Content-Type", "application/json")], body.to_string().as_bytes())
}

/// How many requests the fault rules held or failed so far.
fn fault_hits(addr: SocketAddr) -> u64 {
    let faults = send(addr, "GET", "/_mock/faults", &[], b"").json();
    faults["faults"].as_array().unwrap().iter().map(|f| f["hits"].as_u64().unwrap()).sum()
}

fn state_args(path: &std::path::Path) -> Vec<String> {
    vec!["--state".into(), path.to_str().unwrap().into()]
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn every_write_answered_200_survives_a_kill_9_under_load() {
    let dir = TempDir::new("kill9");
    let state = state_args(&dir.path("state"));
    let server = Process::start(&args(&state));
    let addr = server.addr;
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let acknowledged = acknowledged.clone();
            std::thread::spawn(move || {
                for i in 0..400 {
                    let number = format!("+1202555{:04}", 1000 + t * 400 + i);
                    let Ok(res) = std::panic::catch_unwind(|| initiate(addr, &number)) else { return };
                    if res.status == 200 {
                        acknowledged.lock().unwrap().push(res.json()["verification_uuid"].as_str().unwrap().to_owned());
                    }
                }
            })
        })
        .collect();
    // Kill it mid-load, once some writes have been answered.
    common::wait_until("40 writes to be answered", || acknowledged.lock().unwrap().len() >= 40);
    server.kill9();
    for w in writers {
        let _ = w.join();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() > 10, "some writes were answered before the kill: {}", acknowledged.len());

    let restarted = Process::start(&args(&state));
    let known = code_ids(restarted.addr);
    let lost: Vec<_> = acknowledged.iter().filter(|id| !known.contains(id)).collect();
    assert!(lost.is_empty(), "{} of {} acknowledged writes lost: {lost:?}", lost.len(), acknowledged.len());
}

#[test]
fn sigterm_finishes_the_requests_in_flight_then_saves_them() {
    let dir = TempDir::new("sigterm");
    let state = state_args(&dir.path("state"));
    let mut server = Process::start(&args(&state));
    let addr = server.addr;
    let rule = json!({"provider": "plivo", "operation": "initiate", "action": "latency", "latency_ms": 700});
    assert_eq!(control(addr, "POST", "/_mock/faults", rule).status, 201);
    let clients: Vec<_> =
        (0..8).map(|i| std::thread::spawn(move || initiate(addr, &format!("+1415555{:04}", 2600 + i)))).collect();
    common::wait_until("8 requests to be held by the latency rule", || fault_hits(addr) == 8);
    server.term();
    let answered: Vec<String> = clients
        .into_iter()
        .map(|c| {
            let res = c.join().unwrap();
            assert_eq!(res.status, 200, "a request in flight at SIGTERM is answered: {}", res.body);
            res.json()["verification_uuid"].as_str().unwrap().to_owned()
        })
        .collect();
    assert!(server.wait(Duration::from_secs(10)).success());

    let restarted = Process::start(&args(&state));
    let known = code_ids(restarted.addr);
    for id in &answered {
        assert!(known.contains(id), "{id} answered during the drain is kept");
    }
}

#[test]
fn a_held_long_poll_ends_promptly_at_shutdown() {
    let mut server = Process::start(&[]);
    let addr = server.addr;
    let poll =
        std::thread::spawn(move || send(addr, "GET", "/_mock/codes/latest?number=%2B12025550100&wait=60s", &[], b""));
    common::wait_until("the long-poll to wait", || send(addr, "GET", "/_mock/stats", &[], b"").json()["streams"] == 1);
    let asked = Instant::now();
    server.term();
    assert!(server.wait(Duration::from_secs(5)).success());
    assert!(asked.elapsed() < Duration::from_secs(3), "shutdown took {:?}", asked.elapsed());
    assert_eq!(poll.join().unwrap().status, 503);
}

#[test]
fn a_second_signal_exits_at_once() {
    let mut server = Process::start(&["--log-level", "info"]);
    let addr = server.addr;
    let rule = json!({"provider": "plivo", "action": "latency", "latency_ms": 30000});
    assert_eq!(control(addr, "POST", "/_mock/faults", rule).status, 201);
    let _slow = std::thread::spawn(move || std::panic::catch_unwind(|| initiate(addr, "+12025551234")));
    common::wait_until("the request to be held by the latency rule", || fault_hits(addr) == 1);
    server.term();
    // Nothing to wait on for "not exited": give it time it would need to exit, then look.
    std::thread::sleep(Duration::from_millis(300));
    assert!(server.child.try_wait().unwrap().is_none(), "the first signal waits for the request in flight");
    let asked = Instant::now();
    server.term();
    let status = server.wait(Duration::from_secs(3));
    assert!(asked.elapsed() < Duration::from_secs(2));
    assert_eq!(status.code(), Some(130));
}

fn health(addr: SocketAddr) -> Resp {
    send(addr, "GET", "/_mock/health", &[], b"")
}

#[test]
fn a_state_file_that_cannot_be_written_refuses_writes_fails_health_and_recovers() {
    let dir = TempDir::new("full");
    let path = dir.path("state");
    let mut state = state_args(&path);
    state.extend(["--log-level".into(), "info".into()]);
    let (server, log) = under_a_size_limit(&args(&state));
    let addr = server.addr;
    assert_eq!(initiate(addr, "+12025551000").status, 200);

    let size = std::fs::metadata(&path).unwrap().len();
    set_file_size_limit(&server, &format!("{size}:unlimited"));
    let refused = initiate(addr, "+12025551001");
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert!(refused.json()["error"].as_str().unwrap().contains("state file"), "{}", refused.body);
    let h = health(addr);
    assert_eq!(h.status, 503);
    assert!(h.json()["reason"].as_str().unwrap().contains("File too large"), "{}", h.body);
    assert_eq!(initiate(addr, "+12025551002").status, 503, "writes are refused while the file cannot be written");
    let read = send(addr, "GET", &format!("/v1/Account/{AUTH_ID}/VerifiedCallerId/"), &[("Authorization", BASIC)], b"");
    assert_eq!(read.status, 200, "reads go on");
    // The writer retries every second: let it fail twice more, so the log shows it said so once.
    std::thread::sleep(Duration::from_millis(2500));

    set_file_size_limit(&server, "unlimited:unlimited");
    let deadline = Instant::now() + Duration::from_secs(5);
    while health(addr).status != 200 {
        assert!(Instant::now() < deadline, "health recovers once the file can be written");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(initiate(addr, "+12025551003").status, 200);
    drop(server);
    let said = log.lock().unwrap().clone();
    assert_eq!(said.matches("cannot be written").count(), 1, "said once, not once per retry: {said}");
    assert!(said.contains("written again"), "{said}");
}

#[test]
fn the_exit_is_non_zero_when_the_last_changes_cannot_be_written() {
    let dir = TempDir::new("final");
    let path = dir.path("state");
    let state = state_args(&path);
    let (mut server, _log) = under_a_size_limit(&args(&state));
    assert_eq!(initiate(server.addr, "+12025551000").status, 200);
    let size = std::fs::metadata(&path).unwrap().len();
    set_file_size_limit(&server, &format!("{size}:unlimited"));
    assert_eq!(initiate(server.addr, "+12025551001").status, 503);
    server.term();
    assert_eq!(server.wait(Duration::from_secs(15)).code(), Some(1));
}

#[test]
fn a_file_that_is_not_a_state_file_is_refused_and_left_alone() {
    let dir = TempDir::new("notstate");
    for (name, content, says) in [
        ("package.json", r#"{"name": "my-app", "version": "1.0.0"}"#, "not a callerid-mock state file"),
        ("export.json", r#"{"clock": {"now": "2026-01-01T00:00:00Z"}, "accounts": []}"#, "--fixtures"),
    ] {
        let path = dir.path(name);
        std::fs::write(&path, content).unwrap();
        let out =
            Command::new(BIN).args(["--bind", "127.0.0.1:0", "--state", path.to_str().unwrap()]).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}");
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(said.contains(says), "{name}: {said}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), content, "{name} is left as it was");
    }
}

#[test]
fn a_symlinked_state_file_is_written_through_with_mode_0600_and_nothing_else_appears() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("symlink");
    let (link, target) = (dir.path("link.state"), dir.path("real.state"));
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let state = state_args(&link);
    let mut server = Process::start(&args(&state));
    assert_eq!(initiate(server.addr, "+12025551234").status, 200);
    server.term();
    assert!(server.wait(Duration::from_secs(10)).success());
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link is still a link");
    let meta = std::fs::metadata(&target).unwrap();
    assert!(meta.len() > 64, "the target holds the state");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(dir.files(), ["link.state", "real.state"], "no temporary file is left behind");
    let restarted = Process::start(&args(&state));
    assert_eq!(code_ids(restarted.addr).len(), 1);
}

#[test]
fn ids_never_repeat_after_a_restart_with_the_same_seed() {
    let dir = TempDir::new("seed");
    let mut state = state_args(&dir.path("state"));
    state.extend(["--seed".into(), "7".into()]);
    let mut first = Process::start(&args(&state));
    let a = initiate(first.addr, "+12025551234").json()["verification_uuid"].clone();
    first.term();
    assert!(first.wait(Duration::from_secs(10)).success());
    let second = Process::start(&args(&state));
    let b = initiate(second.addr, "+14155552671").json()["verification_uuid"].clone();
    assert_ne!(a, b, "the generator goes on where it stopped");
    drop(second);

    let fresh_dir = TempDir::new("seed-fresh");
    let mut fresh = state_args(&fresh_dir.path("state"));
    fresh.extend(["--seed".into(), "7".into()]);
    let fresh = Process::start(&args(&fresh));
    assert_eq!(initiate(fresh.addr, "+12025551234").json()["verification_uuid"], a, "the same seed starts the same");
}

#[test]
fn many_changes_are_compacted_and_read_back() {
    let dir = TempDir::new("compact");
    let path = dir.path("state");
    let state = state_args(&path);
    let mut server = Process::start(&args(&state));
    let addr = server.addr;
    let uuid = initiate(addr, "+12025551234").json()["verification_uuid"].as_str().unwrap().to_owned();
    let otp = send(addr, "GET", "/_mock/codes?number=%2B12025551234", &[], b"").json()["codes"][0]["code"].clone();
    let verified = send(
        addr,
        "POST",
        &format!("/v1/Account/{AUTH_ID}/VerifiedCallerId/Verification/{uuid}/"),
        &[("Authorization", BASIC)],
        json!({ "otp": otp }).to_string().as_bytes(),
    );
    assert_eq!(verified.status, 200);
    let updates: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..1000 {
                    let body = json!({ "alias": format!("{t}-{i}-{}", "x".repeat(1000)) }).to_string();
                    let path = format!("/v1/Account/{AUTH_ID}/VerifiedCallerId/+12025551234/");
                    assert_eq!(send(addr, "POST", &path, &[("Authorization", BASIC)], body.as_bytes()).status, 200);
                }
            })
        })
        .collect();
    for u in updates {
        u.join().unwrap();
    }
    let last = send(
        addr,
        "GET",
        &format!("/v1/Account/{AUTH_ID}/VerifiedCallerId/+12025551234/"),
        &[("Authorization", BASIC)],
        b"",
    )
    .json()["alias"]
        .clone();
    server.term();
    assert!(server.wait(Duration::from_secs(10)).success());
    // Each update wrote a line of more than 1 KiB: about 4 MiB in all.
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size < 2 << 20, "the file ({size} bytes) was compacted");

    let restarted = Process::start(&args(&state));
    let read = send(
        restarted.addr,
        "GET",
        &format!("/v1/Account/{AUTH_ID}/VerifiedCallerId/+12025551234/"),
        &[("Authorization", BASIC)],
        b"",
    );
    assert_eq!(read.json()["alias"], last);
}

#[test]
fn fixtures_seed_a_new_state_file_and_nothing_else() {
    let dir = TempDir::new("seedfix");
    let path = dir.path("state");
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/example.json");
    let mut first = Process::start(&["--state", path.to_str().unwrap(), "--fixtures", fixtures]);
    let twilio = "/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/OutgoingCallerIds.json";
    let auth = [("Authorization", common::TWILIO_BASIC)];
    assert_eq!(send(first.addr, "GET", twilio, &auth, b"").json()["outgoing_caller_ids"].as_array().unwrap().len(), 1);
    first.term();
    assert!(first.wait(Duration::from_secs(10)).success());
    // Once the file holds a state, it is the state: fixtures no longer apply.
    let strict = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/strict-auth.json");
    let second = Process::start(&["--state", path.to_str().unwrap(), "--fixtures", strict]);
    assert_eq!(send(second.addr, "GET", twilio, &auth, b"").json()["outgoing_caller_ids"].as_array().unwrap().len(), 1);
}

/// How many caller IDs the server knows.
fn caller_count(addr: SocketAddr) -> usize {
    let mut count = 0;
    let mut path = "/_mock/caller-ids?limit=1000".to_owned();
    loop {
        let page = send(addr, "GET", &path, &[], b"").json();
        count += page["caller_ids"].as_array().unwrap().len();
        match page["next"].as_str() {
            Some(next) => path = next.to_owned(),
            None => return count,
        }
    }
}

#[test]
fn an_import_answered_200_survives_a_kill_9_right_after() {
    let dir = TempDir::new("import-kill9");
    let state = state_args(&dir.path("state"));
    let callers: Vec<Value> =
        (0..20000).map(|i| json!({ "phone_number": format!("+1202{:07}", 5_000_000 + i) })).collect();
    for round in 0..2 {
        let server = Process::start(&args(&state));
        let doc = json!({ "accounts": [{ "provider": "plivo", "account": format!("MAIMPORT{round}XXXXXXXXXXX"), "caller_ids": callers }] });
        let res = send(
            server.addr,
            "PUT",
            "/_mock/state",
            &[("Content-Type", "application/json")],
            doc.to_string().as_bytes(),
        );
        assert_eq!(res.status, 200, "{}", res.body);
        server.kill9();
        let restarted = Process::start(&args(&state));
        assert_eq!(caller_count(restarted.addr), 20000, "round {round}: the acknowledged import survived");
        restarted.kill9();
    }
}

#[test]
fn a_state_file_cut_mid_line_or_with_a_tail_of_zeros_starts_with_what_is_whole_and_keeps_every_byte() {
    let dir = TempDir::new("tails");
    let path = dir.path("state");
    let mut state = state_args(&path);
    let server = Process::start(&args(&state));
    assert_eq!(initiate(server.addr, "+12025551000").status, 200);
    assert_eq!(initiate(server.addr, "+12025551001").status, 200);
    let ids = code_ids(server.addr);
    server.kill9();
    let whole = std::fs::read(&path).unwrap();
    state.extend(["--log-level".into(), "info".into()]);
    let cut = br#"{"t":"ver","provider":"plivo","account":"MA"#.to_vec();
    for (name, tail) in [("cut mid-line", cut), ("a tail of zeros", vec![0; 4096])] {
        let mut file = whole.clone();
        file.extend_from_slice(&tail);
        std::fs::write(&path, &file).unwrap();
        let (server, log) = under_a_size_limit(&args(&state));
        assert_eq!(code_ids(server.addr), ids, "{name}: what is whole is back");
        assert_eq!(initiate(server.addr, "+12025551002").status, 200, "{name}: and written after");
        drop(server);
        assert!(
            std::fs::read(&path).unwrap().starts_with(&file),
            "{name}: not a byte of the file was cut or overwritten"
        );
        let said = log.lock().unwrap().clone();
        assert!(said.contains("unfinished line") && said.contains(&format!("bytes={}", tail.len())), "{name}: {said}");

        let (server, log) = under_a_size_limit(&args(&state));
        assert_eq!(code_ids(server.addr).len(), 3, "{name}: the skipped line stays skipped");
        drop(server);
        assert!(!log.lock().unwrap().contains("unfinished line"), "{name}: said once");
    }
}
