//! The web inbox: one self-contained page, and its event stream.

mod common;

use common::TestServer;

#[test]
fn the_inbox_is_one_self_contained_html_page() {
    let s = TestServer::start();
    for path in ["/_mock/", "/_mock"] {
        let res = s.get(path);
        assert_eq!((res.status, res.header("content-type")), (200, Some("text/html; charset=utf-8")), "{path}");
        assert!(res.body.contains("<title>callerid-mock inbox</title>"));
        assert!(res.body.contains("EventSource"));
        assert!(!res.body.contains("http://") && !res.body.contains("https://"), "no external assets");
    }
}

#[test]
fn the_event_stream_announces_every_change() {
    use std::io::{Read, Write};
    let s = TestServer::start();
    let mut stream = std::net::TcpStream::connect(s.addr).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
    stream.write_all(b"GET /_mock/events HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut seen = String::new();
    let mut read_until = |needle: &str, count: usize| -> String {
        let mut buf = [0u8; 4096];
        while seen.matches(needle).count() < count {
            let n = stream.read(&mut buf).expect("the stream stays open");
            assert!(n > 0, "closed early: {seen}");
            seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        seen.clone()
    };
    let head = read_until("event: change", 1);
    assert!(head.contains("content-type: text/event-stream"), "{head}");
    s.plivo_initiate_ok("+12025551234");
    read_until("event: change", 2);
    s.advance("1m");
    read_until("event: change", 3);
}
