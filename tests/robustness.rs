//! Bad input never gets a 5xx, and the server keeps serving.

mod common;

use common::{BASIC, TestServer};

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

/// Sends `head` and `body` on a fresh connection, then closes the sending side; the answer, if
/// any came.
fn send_cut(s: &TestServer, head: &str, body: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(s.addr).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

#[test]
fn a_body_cut_short_or_badly_chunked_changes_nothing() {
    let s = TestServer::start();
    let path = format!("/2010-04-01/Accounts/{}/OutgoingCallerIds.json", common::ACCOUNT_SID);
    let form = "PhoneNumber=%2B14158675309&StatusCallback=http%3A%2F%2F127.0.0.1%3A9%2Fa-long-callback-path-cut-here";
    let head = |framing: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n{framing}\r\n",
            common::TWILIO_BASIC
        )
    };
    // Fewer bytes than Content-Length, then the connection closes.
    let answer = send_cut(&s, &head(&format!("Content-Length: {}\r\n", form.len() + 40)), form.as_bytes());
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 400"), "{answer}");
    // A good chunk, then a malformed one.
    let chunked = format!("{:x}\r\n{form}\r\nZZ\r\nnot a chunk\r\n", form.len());
    let answer = send_cut(&s, &head("Transfer-Encoding: chunked\r\n"), chunked.as_bytes());
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 400"), "{answer}");
    // A good chunk and no last chunk.
    let unfinished = format!("{:x}\r\n{form}\r\n", form.len());
    let answer = send_cut(&s, &head("Transfer-Encoding: chunked\r\n"), unfinished.as_bytes());
    assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert_eq!(s.get("/_mock/codes").json()["codes"], serde_json::json!([]), "nothing of a cut body was applied");
    // The same request whole is applied.
    let whole = s.request(
        "POST",
        &path,
        &[("Authorization", common::TWILIO_BASIC), ("Content-Type", "application/x-www-form-urlencoded")],
        form,
    );
    assert_eq!(whole.status, 200, "{}", whole.body);
}

/// The process's resident memory, in KiB.
fn rss_kib(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn bodies_held_half_sent_give_their_memory_back_once_they_time_out() {
    use std::io::{Read, Write};
    let server = common::process::Process::start(&["--body-timeout", "3s"]);
    let pid = server.pid();
    let before = rss_kib(&pid);
    let head = format!(
        "POST /v1/Account/MAXXXXXXXXXXXXXXXXXX/VerifiedCallerId/Verification/ HTTP/1.1\r\nHost: localhost\r\n\
         Authorization: {BASIC}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 65536\r\n\r\n"
    );
    let part = vec![b'x'; 60_000];
    let held: Vec<std::net::TcpStream> = (0..400)
        .map(|_| {
            let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
            stream.write_all(head.as_bytes()).unwrap();
            stream.write_all(&part).unwrap();
            stream
        })
        .collect();
    common::wait_until("400 bodies of 60 KB to be held", || rss_kib(&pid).saturating_sub(before) > 16 << 10);
    // Every body was sent before the wait began: a moment more and the server holds them all.
    std::thread::sleep(std::time::Duration::from_millis(700));
    let holding = rss_kib(&pid);
    for mut stream in held {
        stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
    // What serving 400 connections leaves allocated for good stays; the bodies' memory goes.
    let grew = holding.saturating_sub(before);
    common::wait_until("the memory the bodies held to go back", || rss_kib(&pid).saturating_sub(before) < grew / 2);
}
