//! The control plane closed to strangers, and connections bounded in time and number.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::process::{BIN, Process};
use common::receiver::Receiver;
use common::{TestServer, config, send};
use serde_json::json;

fn with_token() -> TestServer {
    TestServer::with(callerid_mock::Config { admin_token: Some("s3cret".into()), ..config() })
}

#[test]
fn with_an_admin_token_every_control_route_needs_it_and_provider_routes_do_not() {
    let s = with_token();
    let res = s.get("/_mock/codes");
    assert_eq!(res.status, 401);
    assert_eq!(res.header("www-authenticate"), Some("Bearer realm=\"callerid-mock\""));
    assert_eq!(s.request("GET", "/_mock/health", &[], "").status, 401);
    assert_eq!(s.request("GET", "/_mock/codes", &[("Authorization", "Bearer wrong")], "").status, 401);
    assert_eq!(s.request("GET", "/_mock/codes", &[("Authorization", "Bearer s3cret")], "").status, 200);
    assert_eq!(s.plivo("POST", "VerifiedCallerId/", r#"{"phone_number":"+12025551234"}"#).status, 200);
}

#[test]
fn the_inbox_logs_in_once_with_the_token_and_keeps_a_strict_cookie() {
    let s = with_token();
    let res = s.get("/_mock/?token=s3cret");
    assert_eq!(res.status, 303);
    assert_eq!(res.header("location"), Some("/_mock/"));
    let cookie = res.header("set-cookie").unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/_mock"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().unwrap();
    assert_eq!(s.request("GET", "/_mock/", &[("Cookie", pair)], "").status, 200);
    assert_eq!(s.request("GET", "/_mock/events", &[("Cookie", "other=1; callerid_mock_token=nope")], "").status, 401);
    assert_eq!(s.get("/_mock/?token=wrong").status, 401);
}

#[test]
fn an_empty_admin_token_is_no_token_and_says_so() {
    let s = TestServer::with(callerid_mock::Config { admin_token: Some(" ".into()), ..config() });
    // Not a token that an empty cookie or query matches: no token at all.
    assert_eq!(s.get("/_mock/codes").status, 200);
    assert_eq!(s.request("GET", "/_mock/codes", &[("Cookie", "callerid_mock_token=")], "").status, 200);
    // And on a network bind, the open control plane is warned about.
    let out = std::process::Command::new("bash")
        .args(["-c", "CALLERID_MOCK_ADMIN_TOKEN= \"$0\" --bind 0.0.0.0:0 --log-level warn & pid=$!; sleep 1; kill $pid; wait $pid", BIN])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("the admin token is empty") && said.contains("open to the network"), "{said}");
}

#[test]
fn a_token_with_cookie_unsafe_characters_logs_in_to_the_inbox() {
    let token = "a;b c,d=e\"f";
    let s = TestServer::with(callerid_mock::Config { admin_token: Some(token.into()), ..config() });
    let res = s.get(&format!("/_mock/?token={}", common::encode(token)));
    assert_eq!(res.status, 303, "{}", res.body);
    let pair = res.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
    assert_eq!(s.request("GET", "/_mock/codes", &[("Cookie", &pair)], "").status, 200, "{pair}");
    assert_eq!(s.request("GET", "/_mock/codes", &[("Cookie", "callerid_mock_token=a")], "").status, 401);
}

#[test]
fn a_foreign_host_name_is_refused_on_a_loopback_bind_unless_allowed() {
    let s = TestServer::start();
    let res = s.request("GET", "/_mock/codes", &[("Host", "attacker.example:8484")], "");
    assert_eq!(res.status, 403);
    assert!(res.json()["error"].as_str().unwrap().contains("--allow-host attacker.example"), "{}", res.body);
    for host in ["localhost:8484", "app.localhost", "127.0.0.1", "[::1]:9"] {
        assert_eq!(s.request("GET", "/_mock/codes", &[("Host", host)], "").status, 200, "{host}");
    }
    let allowed = TestServer::with(callerid_mock::Config { allow_hosts: vec!["mock.internal".into()], ..config() });
    assert_eq!(allowed.request("GET", "/_mock/codes", &[("Host", "mock.internal:8484")], "").status, 200);
}

#[test]
fn a_page_on_another_origin_cannot_change_state() {
    let s = TestServer::start();
    let json = ("Content-Type", "application/json");
    let other = s.request("POST", "/_mock/reset", &[("Origin", "http://attacker.example"), json], "{}");
    assert_eq!(other.status, 403);
    let cross = s.request("POST", "/_mock/clock", &[("Sec-Fetch-Site", "cross-site"), json], r#"{"advance":"1m"}"#);
    assert_eq!(cross.status, 403);
    let plain = s.request("POST", "/_mock/faults", &[("Content-Type", "text/plain")], r#"{"action":"reset"}"#);
    assert_eq!(plain.status, 415, "a simple cross-origin request cannot carry JSON");
    assert!(s.get("/_mock/faults").json()["faults"].as_array().unwrap().is_empty());
    let own = format!("http://{}", s.addr);
    assert_eq!(s.request("POST", "/_mock/reset", &[("Origin", &own), json], "{}").status, 200);
    assert_eq!(s.request("POST", "/_mock/reset", &[("Sec-Fetch-Site", "same-origin")], "").status, 200);
}

#[test]
fn the_healthcheck_command_sends_the_token_from_the_environment() {
    let server = Process::start(&["--admin-token", "s3cret"]);
    let url = server.url();
    let without =
        Command::new(BIN).args(["healthcheck", "--url", &url]).env_remove("CALLERID_MOCK_ADMIN_TOKEN").output();
    assert_eq!(without.unwrap().status.code(), Some(1));
    let with =
        Command::new(BIN).args(["healthcheck", "--url", &url]).env("CALLERID_MOCK_ADMIN_TOKEN", "s3cret").output();
    assert!(with.unwrap().status.success());
}

#[test]
fn a_network_bind_without_a_token_warns_once_that_the_control_plane_is_open() {
    let out = std::process::Command::new("bash")
        .args(["-c", "\"$0\" --bind 0.0.0.0:0 --log-level warn & pid=$!; sleep 1; kill $pid; wait $pid", BIN])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(said.matches("open to the network").count(), 1, "{said}");
    assert!(said.contains("--admin-token"), "{said}");
}

#[test]
fn request_input_cannot_forge_log_lines() {
    let mut command = Command::new(BIN);
    command.stderr(Stdio::piped());
    let mut server = Process::start_with(command, &["--log-level", "debug"]);
    let mut stderr = server.child.stderr.take().unwrap();
    let evil = "/v1/Account/MA%0D%0AFAKE%20ERROR%1B%5B31m/VerifiedCallerId/";
    send(server.addr, "GET", evil, &[], b"");
    send(server.addr, "POST", "/_mock/reset?account=x%0AFAKE%20LINE%1B%5B2J", &[], b"");
    // A graceful stop: every line is written before the process exits and stderr ends.
    server.term();
    assert!(server.wait(Duration::from_secs(10)).success());
    drop(server);
    let mut log = String::new();
    stderr.read_to_string(&mut log).unwrap();
    assert!(log.contains("reset"), "{log}");
    assert!(!log.lines().any(|l| l.starts_with("FAKE")), "a line was forged: {log}");
    assert!(!log.contains('\u{1b}'), "an escape sequence reached the log: {log:?}");
}

#[test]
fn webhooks_go_only_where_callback_allow_says() {
    let receiver = Receiver::start(200);
    let allowed = ["192.0.2.0/24", "receiver.test"].map(|a| callerid_mock::parse_allowed(a).unwrap());
    let s = TestServer::with(callerid_mock::Config { callback_allow: allowed.to_vec(), ..config() });
    let url = receiver.url("/status").replace(':', "%3A").replace('/', "%2F");
    let form = format!("PhoneNumber=%2B14158675309&StatusCallback={url}");
    let vr = s.twilio("POST", "OutgoingCallerIds.json", &form).json();
    s.post_json(&format!("/_mock/calls/{}/answer", vr["call_sid"].as_str().unwrap()), json!({ "outcome": "busy" }));
    let journal = s.settled_callbacks();
    let attempt = &journal["callbacks"][0]["attempts"][0];
    assert_eq!(journal["callbacks"][0]["state"], "failed");
    assert!(attempt["error"].as_str().unwrap().contains("--callback-allow"), "{attempt}");
    // Refused before any attempt was made: nothing can reach the receiver later.
    assert!(receiver.received().is_empty(), "the receiver was not contacted");
}

/// A server whose connection timeouts are short enough to watch.
fn impatient(max_connections: Option<usize>) -> TestServer {
    TestServer::with(callerid_mock::Config {
        header_timeout: Duration::from_millis(400),
        idle_timeout: Duration::from_millis(600),
        body_timeout: Duration::from_millis(400),
        max_connections,
        ..config()
    })
}

/// Reads until the server closes; what it sent, and how long that took.
fn until_closed(mut stream: TcpStream) -> (String, Duration) {
    let started = Instant::now();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the server kept the connection open: {e}"),
        }
    }
    (String::from_utf8_lossy(&got).into_owned(), started.elapsed())
}

fn connect(addr: SocketAddr, first: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(first).unwrap();
    stream
}

#[test]
fn silent_and_half_open_connections_are_closed() {
    let s = impatient(None);
    for (what, first) in [
        ("a socket that sends nothing", &b""[..]),
        ("half an HTTP/2 preface", b"PRI * HTTP/2.0\r\n"),
        (
            "an HTTP/2 connection with no stream",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00",
        ),
        ("a request head sent slowly", b"GET /_mock/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: "),
    ] {
        let (_, took) = until_closed(connect(s.addr, first));
        assert!(took < Duration::from_secs(3), "{what}: closed after {took:?}");
    }
}

#[test]
fn a_body_that_stops_arriving_gets_the_providers_408() {
    let s = impatient(None);
    let head = format!(
        "POST /v1/Account/{}/VerifiedCallerId/ HTTP/1.1\r\nHost: localhost\r\nAuthorization: {}\r\nContent-Length: 100\r\n\r\n{{\"phone",
        common::AUTH_ID,
        common::BASIC
    );
    let (answer, took) = until_closed(connect(s.addr, head.as_bytes()));
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"api_id\""), "in Plivo's shape: {answer}");
    assert!(took < Duration::from_secs(3));
}

#[test]
fn a_body_over_the_limit_gets_its_413_however_large_it_is() {
    let s = TestServer::start();
    let body = vec![b'x'; 2 << 20];
    let res = send(s.addr, "POST", &format!("/v1/Account/{}/VerifiedCallerId/", common::AUTH_ID), &[], &body);
    assert_eq!(res.status, 413, "the client reads the answer, not a broken pipe");
    assert!(res.json()["error"].as_str().unwrap().contains("larger than"), "{}", res.body);
    let res = send(s.addr, "POST", "/2010-04-01/Accounts/ACx/OutgoingCallerIds.json", &[], &body);
    assert_eq!((res.status, res.json()["code"].as_u64()), (413, Some(413)), "in Twilio's shape: {}", res.body);
}

#[test]
fn past_max_connections_a_new_connection_gets_503_at_once() {
    let s = TestServer::with(callerid_mock::Config { max_connections: Some(3), ..config() });
    let held: Vec<TcpStream> = (0..3).map(|_| connect(s.addr, b"")).collect();
    // Once the server has taken the three, a fourth is refused.
    let mut refused = None;
    common::wait_until("a fourth connection to be refused", || {
        let health = b"GET /_mock/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
        let (answer, took) = until_closed(connect(s.addr, health));
        let done = answer.starts_with("HTTP/1.1 503");
        refused = Some((answer, took));
        done
    });
    let (answer, took) = refused.unwrap();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("--max-connections 3"), "{answer}");
    assert!(took < Duration::from_secs(2));
    drop(held);
    common::wait_until("room again once they close", || {
        let health = b"GET /_mock/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
        let (answer, _) = until_closed(connect(s.addr, health));
        answer.starts_with("HTTP/1.1 200")
    });
}

#[test]
fn long_polls_and_event_streams_have_a_cap() {
    let s = TestServer::with(callerid_mock::Config { max_waiters: 1, ..config() });
    let stream = connect(s.addr, b"GET /_mock/events HTTP/1.1\r\nHost: localhost\r\n\r\n");
    common::wait_until("the event stream to hold the slot", || s.get("/_mock/stats").json()["streams"] == 1);
    let res = s.get("/_mock/codes/latest?number=%2B12025551234&wait=5s");
    assert_eq!(res.status, 503);
    assert!(res.json()["error"].as_str().unwrap().contains("--max-waiters"));
    assert_eq!(s.get("/_mock/events").status, 503);
    drop(stream);
    common::wait_until("the slot to be free again", || s.get("/_mock/stats").json()["streams"] == 0);
    assert_eq!(s.get("/_mock/codes/latest?number=%2B12025551234&wait=10ms").status, 404, "the slot is free again");
}

#[test]
fn a_huge_declared_body_gets_its_413_at_once_and_no_100_continue() {
    let s = TestServer::start();
    let head = format!(
        "POST /2010-04-01/Accounts/{}/OutgoingCallerIds.json HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000000000\r\nExpect: 100-continue\r\n\r\n",
        common::ACCOUNT_SID,
        common::TWILIO_BASIC
    );
    let (answer, took) = until_closed(connect(s.addr, head.as_bytes()));
    assert!(answer.starts_with("HTTP/1.1 413"), "the first line is the 413, not a 100 Continue: {answer}");
    assert!(answer.contains("\"code\":413"), "in Twilio's shape: {answer}");
    assert!(took < Duration::from_secs(2), "at once, not after --body-timeout: {took:?}");
}

#[test]
fn a_request_must_name_its_host_once() {
    let s = TestServer::start();
    let twice = b"GET /_mock/health HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\n\r\n";
    let (answer, _) = until_closed(connect(s.addr, twice));
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    let none = b"GET /_mock/health HTTP/1.1\r\n\r\n";
    let (answer, _) = until_closed(connect(s.addr, none));
    assert!(answer.starts_with("HTTP/1.1 400") && answer.contains("needs a Host"), "{answer}");
    let fine = b"GET /_mock/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    assert!(until_closed(connect(s.addr, fine)).0.starts_with("HTTP/1.1 200"));
}

#[test]
fn failed_tls_handshakes_are_a_rate_limited_summary_not_a_line_each() {
    let mut command = Command::new(BIN);
    command.stderr(Stdio::piped());
    let mut server = Process::start_with(command, &["--log-level", "info"]);
    let mut stderr = server.child.stderr.take().unwrap();
    for _ in 0..30 {
        // A tunnel to a provider host, then bytes that are not a TLS ClientHello.
        let mut stream =
            connect(server.addr, b"CONNECT api.twilio.com:443 HTTP/1.1\r\nHost: api.twilio.com:443\r\n\r\n");
        let mut head = [0u8; 64];
        let _ = stream.read(&mut head);
        stream.write_all(b"GET / HTTP/1.1\r\n\r\n garbage, not TLS").unwrap();
        let _ = until_closed(stream);
    }
    server.term();
    assert!(server.wait(Duration::from_secs(10)).success());
    drop(server);
    let mut log = String::new();
    stderr.read_to_string(&mut log).unwrap();
    let lines = log.lines().filter(|l| l.contains("TLS handshake failed")).count();
    assert_eq!(lines, 1, "30 failed handshakes within seconds are one line: {log}");
}
