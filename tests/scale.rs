//! Cost that does not grow with what is stored, and caps that answer instead of losing data.
//! Nothing here is timed: page cost is counted in index entries visited (`/_mock/stats`),
//! memory in bytes the kernel reports.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::process::Process;
use common::{AUTH_ID, BASIC, Conn, TWILIO_BASIC, TestServer};
use serde_json::{Value, json};

/// The i-th of 8 million valid, distinct US numbers.
fn number(i: usize) -> String {
    format!("+1202{:07}", 2_000_000 + i)
}

fn stats(s: &TestServer) -> Value {
    s.get("/_mock/stats").json()
}

fn visited(s: &TestServer) -> u64 {
    stats(s)["entries_visited"].as_u64().unwrap()
}

/// Loads `count` Plivo caller IDs into `account` and, to the Twilio account, as many again.
fn load(s: &TestServer, plivo: &str, count: usize) {
    let callers: Vec<Value> = (0..count).map(|i| json!({ "phone_number": number(i) })).collect();
    let doc = json!({ "accounts": [
        { "provider": "plivo", "account": plivo, "caller_ids": callers },
        { "provider": "twilio", "account": common::ACCOUNT_SID, "caller_ids": callers },
    ]});
    let res = s.request("PUT", "/_mock/state", &[("Content-Type", "application/json")], &doc.to_string());
    assert_eq!(res.status, 200, "{}", res.body);
}

/// Entries visited by a Plivo first page, a Twilio first page and the Twilio page after it.
fn page_costs(s: &TestServer) -> [u64; 3] {
    let before = visited(s);
    let res = s.plivo("GET", "VerifiedCallerId/?limit=20", "");
    assert_eq!(res.json()["objects"].as_array().unwrap().len(), 20);
    let plivo = visited(s) - before;

    let before = visited(s);
    let first = s.twilio("GET", "OutgoingCallerIds.json?PageSize=20", "").json();
    assert_eq!(first["outgoing_caller_ids"].as_array().unwrap().len(), 20);
    let twilio = visited(s) - before;

    let next = first["next_page_uri"].as_str().expect("a next page").to_owned();
    let before = visited(s);
    let second = s.request("GET", &next, &[("Authorization", TWILIO_BASIC)], "").json();
    assert_eq!(second["outgoing_caller_ids"].as_array().unwrap().len(), 20);
    assert_ne!(second["outgoing_caller_ids"][0], first["outgoing_caller_ids"][0]);
    (plivo, twilio, visited(s) - before).into()
}

#[test]
fn a_page_costs_the_same_with_100_or_100000_caller_ids() {
    let small = TestServer::start();
    load(&small, AUTH_ID, 100);
    let big = TestServer::with(callerid_mock::Config { max_state_bytes: 256 << 20, ..common::config() });
    load(&big, AUTH_ID, 100_000);
    let (small, big) = (page_costs(&small), page_costs(&big));
    assert_eq!(small, big, "entries visited per page (Plivo first, Twilio first, Twilio next)");
    assert!(big.iter().all(|&n| n <= 21), "a page of 20 visits at most 21 entries: {big:?}");
}

#[test]
fn a_verification_takes_its_timer_with_it() {
    let s = TestServer::start();
    let mut conn = Conn::open(s.addr);
    let headers = [("Authorization", BASIC), ("Content-Type", "application/json")];
    let path = format!("/v1/Account/{AUTH_ID}/VerifiedCallerId/");
    let mut uuid = String::new();
    for _ in 0..2_000 {
        let res = conn.send("POST", &path, &headers, r#"{"phone_number":"+12025550100"}"#);
        assert_eq!(res.status, 200, "{}", res.body);
        uuid = res.json()["verification_uuid"].as_str().unwrap().to_owned();
    }
    let st = stats(&s);
    assert_eq!((st["pending"].as_u64(), st["timers"].as_u64()), (Some(1), Some(1)), "superseded ones left: {st}");

    let (_, code) = s.latest_code("+12025550100");
    let res = s.plivo("POST", &format!("VerifiedCallerId/Verification/{uuid}/"), &json!({ "otp": code }).to_string());
    assert_eq!(res.status, 200, "{}", res.body);
    let st = stats(&s);
    assert_eq!((st["pending"].as_u64(), st["timers"].as_u64()), (Some(0), Some(0)), "{st}");
}

#[test]
fn one_account_holds_1001_pending_verifications_and_each_still_verifies() {
    let s = TestServer::start();
    let mut conn = Conn::open(s.addr);
    let headers = [("Authorization", BASIC), ("Content-Type", "application/json")];
    let path = format!("/v1/Account/{AUTH_ID}/VerifiedCallerId/");
    let started: Vec<(String, String)> = (0..1_001)
        .map(|i| {
            let res = conn.send("POST", &path, &headers, &json!({ "phone_number": number(i) }).to_string());
            assert_eq!(res.status, 200, "initiate {i}: {}", res.body);
            (number(i), res.json()["verification_uuid"].as_str().unwrap().to_owned())
        })
        .collect();
    let codes = s.get("/_mock/codes?limit=1000").json();
    assert_eq!(codes["codes"].as_array().unwrap().len(), 1000);
    let next = codes["next"].as_str().expect("a second page of codes");
    let rest = s.get(next).json();
    assert_eq!(rest["codes"].as_array().unwrap().len(), 1);
    assert!(rest.get("next").is_none_or(Value::is_null), "{rest}");

    let code_of: std::collections::HashMap<String, String> = codes["codes"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["codes"].as_array().unwrap())
        .map(|c| (c["phone_number"].as_str().unwrap().to_owned(), c["code"].as_str().unwrap().to_owned()))
        .collect();
    for (number, uuid) in &started {
        let body = json!({ "otp": code_of[number] }).to_string();
        let res = conn.send("POST", &format!("{path}Verification/{uuid}/"), &headers, &body);
        assert_eq!(res.status, 200, "{number}: {}", res.body);
    }
    let list = s.plivo("GET", "VerifiedCallerId/?limit=1", "").json();
    assert_eq!(list["meta"]["total_count"], 1001);
}

#[test]
fn a_verified_caller_id_outlives_10000_other_accounts() {
    let s = TestServer::start();
    s.plivo_verified("+12025550199");

    let mut conn = Conn::open(s.addr);
    for a in 0..10_001 {
        let account = format!("MA{a:018}");
        let auth = common::basic(&account, "token");
        let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
        let res = conn.send(
            "POST",
            &format!("/v1/Account/{account}/VerifiedCallerId/"),
            &headers,
            r#"{"phone_number":"+12025550100"}"#,
        );
        assert_eq!(res.status, 200, "{account}: {}", res.body);
    }
    let res = s.plivo("GET", "VerifiedCallerId/+12025550199/", "");
    assert_eq!(res.status, 200, "the verified caller ID is still there: {}", res.body);
}

#[test]
fn at_the_pending_cap_each_provider_answers_with_its_own_limit_error() {
    let s = TestServer::with(callerid_mock::Config { max_pending: 2, ..common::config() });
    let first = s.plivo("POST", "VerifiedCallerId/", r#"{"phone_number":"+12025550101"}"#);
    assert_eq!(first.status, 200);
    assert_eq!(s.plivo("POST", "VerifiedCallerId/", r#"{"phone_number":"+12025550102"}"#).status, 200);

    let plivo = s.plivo("POST", "VerifiedCallerId/", r#"{"phone_number":"+12025550103"}"#);
    assert_eq!(plivo.status, 429, "{}", plivo.body);
    assert!(plivo.json()["error"].as_str().unwrap().contains("cap is reached"), "{}", plivo.body);
    assert!(plivo.json()["api_id"].is_string(), "Plivo's error shape: {}", plivo.body);

    let twilio = s.twilio("POST", "OutgoingCallerIds.json", "PhoneNumber=%2B14158675309");
    assert_eq!(twilio.status, 429, "{}", twilio.body);
    assert_eq!(twilio.json()["code"], 20429);
    assert_eq!(twilio.json()["status"], 429);

    let seven = s.request(
        "POST",
        "/api/validate_for_voice",
        &[("X-Api-Key", "KEY"), ("Content-Type", "application/x-www-form-urlencoded")],
        "number=491632429751",
    );
    assert_eq!(seven.status, 200, "seven answers errors in a success:false record: {}", seven.body);
    assert_eq!(seven.json()["success"], false);
    assert!(seven.json()["error"].as_str().unwrap().contains("--max-pending"), "{}", seven.body);

    // A number already pending may start over: it replaces itself and adds nothing.
    assert_eq!(s.plivo("POST", "VerifiedCallerId/", r#"{"phone_number":"+12025550101"}"#).status, 200);
    // The ones accepted still verify, and that makes room.
    let (id, code) = s.latest_code("+12025550102");
    let res = s.plivo("POST", &format!("VerifiedCallerId/Verification/{id}/"), &json!({ "otp": code }).to_string());
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(s.plivo("POST", "VerifiedCallerId/", r#"{"phone_number":"+12025550103"}"#).status, 200);
}

#[test]
fn a_full_state_evicts_finished_verifications_oldest_first_and_never_a_caller_id() {
    let s = TestServer::with(callerid_mock::Config { max_state_bytes: 256 << 10, ..common::config() });
    let mut conn = Conn::open(s.addr);
    let headers = [("Authorization", BASIC), ("Content-Type", "application/json")];
    let path = format!("/v1/Account/{AUTH_ID}/VerifiedCallerId/");
    // Verified caller IDs: kept whatever comes after.
    for i in 0..20 {
        let uuid = conn.send("POST", &path, &headers, &json!({ "phone_number": number(i) }).to_string()).json()
            ["verification_uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        let (_, code) = s.latest_code(&number(i));
        let res =
            conn.send("POST", &format!("{path}Verification/{uuid}/"), &headers, &json!({ "otp": code }).to_string());
        assert_eq!(res.status, 200);
    }
    // Then many verifications that fail (a wrong code five times): finished, so evictable.
    let mut i = 1_000;
    let mut oldest_failed = None;
    // Full: within what one more pending verification holds (itself and the room reserved for
    // the caller ID it may become) of the 256 KiB cap.
    while stats(&s)["state_bytes"].as_u64().unwrap() < 252 << 10 || i < 1_400 {
        let uuid = conn.send("POST", &path, &headers, &json!({ "phone_number": number(i) }).to_string()).json()
            ["verification_uuid"]
            .as_str()
            .unwrap()
            .to_owned();
        oldest_failed.get_or_insert(uuid.clone());
        for _ in 0..5 {
            conn.send("POST", &format!("{path}Verification/{uuid}/"), &headers, r#"{"otp":"000000"}"#);
        }
        i += 1;
        assert!(i < 20_000, "the state never filled: {}", stats(&s));
    }
    let codes = s.get("/_mock/codes?limit=1000").json();
    let kept: Vec<&str> = codes["codes"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert!(!kept.contains(&oldest_failed.as_deref().unwrap()), "the oldest failed verification went first");
    assert!(kept.contains(&s.latest_code(&number(i - 1)).0.as_str()), "the newest stays");
    assert!(stats(&s)["state_bytes"].as_u64().unwrap() <= 256 << 10);
    for n in 0..20 {
        assert_eq!(conn.send("GET", &format!("{path}{}/", number(n)), &headers, "").status, 200, "caller ID {n}");
    }

    // Pending verifications are never evicted: once they fill the cap, writes are refused.
    let mut refused = None;
    for j in 0..5_000 {
        let res = conn.send("POST", &path, &headers, &json!({ "phone_number": number(50_000 + j) }).to_string());
        if res.status != 200 {
            refused = Some(res);
            break;
        }
    }
    let refused = refused.expect("the cap refuses once only pending verifications and caller IDs are left");
    assert_eq!(refused.status, 429);
    assert!(refused.json()["error"].as_str().unwrap().contains("--max-state-bytes"), "{}", refused.body);
    assert_eq!(conn.send("GET", &format!("{path}{}/", number(0)), &headers, "").status, 200);
}

#[test]
fn a_cap_reached_is_logged_once_per_episode() {
    let mut command = Command::new(common::process::BIN);
    command.stderr(Stdio::piped());
    let mut p = Process::start_with(command, &["--max-pending", "1", "--log-level", "info", "--frozen-clock"]);
    let mut conn = Conn::open(p.addr);
    let headers = [("Authorization", BASIC), ("Content-Type", "application/json")];
    let path = format!("/v1/Account/{AUTH_ID}/VerifiedCallerId/");
    assert_eq!(conn.send("POST", &path, &headers, &json!({ "phone_number": number(0) }).to_string()).status, 200);
    for i in 1..=50 {
        let res = conn.send("POST", &path, &headers, &json!({ "phone_number": number(i) }).to_string());
        assert_eq!(res.status, 429);
    }
    p.term();
    p.wait(Duration::from_secs(10));
    let mut log = String::new();
    std::io::Read::read_to_string(p.child.stderr.as_mut().unwrap(), &mut log).unwrap();
    assert_eq!(log.matches("a cap is reached").count(), 1, "{log}");
    assert!(log.contains("--max-pending"), "the line names the flag: {log}");
}

#[test]
fn memory_stays_bounded_by_the_caps_through_many_initiates() {
    let p = Process::start(&["--max-state-bytes", "8MiB", "--max-journal-bytes", "1MiB", "--frozen-clock"]);
    let rss = |field: &str| -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", p.pid())).unwrap();
        let line = status.lines().find(|l| l.starts_with(field)).unwrap().to_owned();
        line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
    };
    let mut conn = Conn::open(p.addr);
    // The phone metadata loads in the background at start: a request that reads a number waits
    // for it, so after one the server is settled.
    let headers = [("Authorization", common::BASIC), ("Content-Type", "application/json")];
    let path = format!("/v1/Account/{}/VerifiedCallerId/", common::AUTH_ID);
    assert_eq!(conn.send("POST", &path, &headers, r#"{"phone_number":"+12025550100"}"#).status, 200);
    let idle = rss("VmRSS:");
    let (mut accepted, mut refused) = (0, 0);
    for i in 0..14_000 {
        let account = format!("MA{:018}", i % 1_000);
        let auth = common::basic(&account, "token");
        let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
        let body = json!({ "phone_number": number(i) }).to_string();
        match conn.send("POST", &format!("/v1/Account/{account}/VerifiedCallerId/"), &headers, &body).status {
            200 => accepted += 1,
            429 => refused += 1,
            other => panic!("initiate {i}: {other}"),
        }
    }
    // Each pending verification holds room for the caller ID it may become, so fewer fit than
    // their own size alone would allow.
    assert!(refused > 0 && accepted > 3_500, "the cap was reached: {accepted} accepted, {refused} refused");
    // What the caps allow (8 MiB of state, 1 MiB each of request and callback journal), plus
    // allocator slack; without the caps, 14,000 initiates grow RSS by over 16 MiB.
    let grown = rss("VmHWM:") - idle;
    let stats = conn.send("GET", "/_mock/stats", &[], "").body;
    assert!(grown < 16 << 20, "peak RSS grew {} KiB over idle {} KiB: {stats}", grown >> 10, idle >> 10);
}

#[test]
fn finished_verifications_are_swept_after_the_retention_window() {
    let s = TestServer::start();
    s.plivo_verified("+12025550199");
    s.advance("59m");
    assert_eq!(s.get("/_mock/codes").json()["codes"][0]["state"], "verified", "kept within --retention (1h)");
    s.advance("2m");
    assert_eq!(s.get("/_mock/codes").json()["codes"], json!([]), "swept after it");
    assert_eq!(stats(&s)["verifications"], 0);
    assert_eq!(s.plivo("GET", "VerifiedCallerId/+12025550199/", "").status, 200, "the caller ID stays");
}

/// Follows `next` from `path` to the end; the items under `key`, page by page.
fn pages(s: &TestServer, path: &str, key: &str) -> Vec<Vec<Value>> {
    let mut out = Vec::new();
    let mut next = Some(path.to_owned());
    while let Some(path) = next {
        let page = s.get(&path).json();
        out.push(page[key].as_array().unwrap().clone());
        next = page["next"].as_str().map(str::to_owned);
        assert!(out.len() < 100, "paging never ends: {page}");
    }
    out
}

#[test]
fn the_journals_and_codes_page_with_a_cursor() {
    let s = TestServer::start();
    let receiver = common::receiver::Receiver::start(200);
    let callback = receiver.url("/cb");
    for i in 0..5 {
        let form = format!("number=4916324297{i:02}&callback={}", callback.replace(':', "%3A").replace('/', "%2F"));
        let res = s.request(
            "POST",
            "/api/validate_for_voice",
            &[("X-Api-Key", "KEY"), ("Content-Type", "application/x-www-form-urlencoded")],
            &form,
        );
        let code = res.json()["code"].as_str().unwrap().to_owned();
        let id = s.get("/_mock/codes?limit=1").json()["codes"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(s.post_json(&format!("/_mock/calls/{id}/answer"), json!({ "digits": code })).status, 200);
    }
    receiver.wait_for(5);
    s.settled_callbacks();

    for (path, key) in [
        ("/_mock/codes?limit=2", "codes"),
        ("/_mock/requests?limit=2", "requests"),
        ("/_mock/callbacks?limit=2", "callbacks"),
    ] {
        let pages = pages(&s, path, key);
        assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1], "{path}");
        let ids: std::collections::HashSet<String> = pages.iter().flatten().map(|e| e["id"].to_string()).collect();
        assert_eq!(ids.len(), 5, "{path}: every entry once");
    }
}
