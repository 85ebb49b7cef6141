//! Zero-touch routing: the main port is a proxy that answers for the providers' hosts (CONNECT
//! tunnels with TLS from the emulator's CA, absolute-form requests) and refuses every other.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use common::process::TempDir;
use common::{ACCOUNT_SID, TWILIO_BASIC, TestServer};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

fn server(dir: &TempDir) -> TestServer {
    TestServer::with(callerid_mock::Config { ca_dir: Some(dir.path("ca")), ..common::config() })
}

/// Opens a CONNECT tunnel to `target`; the proxy's status line and the socket.
fn connect(addr: SocketAddr, target: &str) -> (String, BufReader<TcpStream>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").unwrap();
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        head.push_str(&line);
    }
    (head, reader)
}

/// A TLS client that trusts only the emulator's CA (from `GET /_mock/ca.pem`).
fn client_config(s: &TestServer) -> Arc<rustls::ClientConfig> {
    let pem = s.get("/_mock/ca.pem");
    assert_eq!(pem.status, 200, "{}", pem.body);
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(pem.body.as_bytes()).unwrap()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// One HTTP/1.1 request over TLS to `host` through a tunnel: the whole answer, or the TLS error.
fn through_tunnel(s: &TestServer, host: &str, sni: &str, request: &str) -> Result<String, std::io::Error> {
    let (head, reader) = connect(s.addr, &format!("{host}:443"));
    assert!(head.starts_with("HTTP/1.1 200"), "the tunnel opens: {head}");
    let name = ServerName::try_from(sni.to_owned()).unwrap();
    let conn = rustls::ClientConnection::new(client_config(s), name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, reader.into_inner());
    tls.write_all(request.as_bytes())?;
    let mut answer = String::new();
    tls.read_to_string(&mut answer)?;
    Ok(answer)
}

#[test]
fn a_tunnel_to_a_provider_host_is_served_over_tls_from_the_emulators_ca() {
    let dir = TempDir::new("proxy-tunnel");
    let s = server(&dir);
    for host in ["api.twilio.com", "api.dublin.ie1.twilio.com"] {
        let request = format!(
            "GET /2010-04-01/Accounts/{ACCOUNT_SID}/OutgoingCallerIds.json HTTP/1.1\r\nHost: {host}\r\n\
             Authorization: {TWILIO_BASIC}\r\nConnection: close\r\n\r\n"
        );
        let answer = through_tunnel(&s, host, host, &request).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains(r#""outgoing_caller_ids":[]"#), "Twilio's answer: {answer}");
    }
    let journal = s.get("/_mock/requests?provider=twilio").json();
    assert_eq!(journal["requests"].as_array().unwrap().len(), 2, "journaled like any request: {journal}");
    let kept = std::fs::read_to_string(dir.path("ca").join("ca.pem")).unwrap();
    assert_eq!(kept, s.get("/_mock/ca.pem").body, "the CA is kept in --ca-dir");
}

#[test]
fn a_tunnel_opens_with_exactly_the_line_proxies_send_and_no_header() {
    // twilio-php skips a proxy's answer only when it reads `HTTP/1.x 200 Connection established`
    // followed by the blank line: no `date`, no `content-length`.
    let dir = TempDir::new("connect-line");
    let s = server(&dir);
    let (head, _tunnel) = connect(s.addr, "api.twilio.com:443");
    assert_eq!(head, "HTTP/1.1 200 Connection established\r\n");
    // A refusal is an ordinary answer, with its Date.
    let (head, _) = connect(s.addr, "www.example.com:443");
    assert!(
        head.starts_with("HTTP/1.1 403 Forbidden\r\n") && head.to_ascii_lowercase().contains("\r\ndate: "),
        "{head}"
    );
}

#[test]
fn a_tunnel_to_another_host_is_refused_naming_it_and_the_flag() {
    let dir = TempDir::new("proxy-refused");
    let s = server(&dir);
    let (head, mut reader) = connect(s.addr, "www.example.com:443");
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    let mut body = vec![0; 400];
    let n = reader.read(&mut body).unwrap();
    let body = String::from_utf8_lossy(&body[..n]);
    assert!(body.contains("www.example.com") && body.contains("--proxy-passthrough"), "{body}");
}

#[test]
fn no_certificate_is_minted_for_a_name_no_provider_serves() {
    let dir = TempDir::new("proxy-sni");
    let s = server(&dir);
    let request = "GET / HTTP/1.1\r\nHost: www.example.com\r\nConnection: close\r\n\r\n";
    let refused = through_tunnel(&s, "api.twilio.com", "www.example.com", request).unwrap_err();
    assert!(refused.to_string().contains("alert") || refused.to_string().contains("handshake"), "{refused}");
}

#[test]
fn absolute_form_requests_are_routed_for_provider_hosts_and_refused_for_others() {
    let dir = TempDir::new("proxy-absolute");
    let s = server(&dir);
    let plivo = format!("http://api.plivo.com/v1/Account/{}/VerifiedCallerId/", common::AUTH_ID);
    let res = s.request("GET", &plivo, &[("Authorization", common::BASIC), ("Host", "api.plivo.com")], "");
    assert_eq!(res.status, 200, "{}", res.body);
    assert!(res.json()["meta"]["total_count"].is_number(), "Plivo's answer: {}", res.body);
    // Some clients send https:// targets to a plain proxy; they are served the same way.
    let twilio = format!("https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/OutgoingCallerIds.json");
    let res = s.request("GET", &twilio, &[("Authorization", TWILIO_BASIC), ("Host", "api.twilio.com")], "");
    assert_eq!(res.status, 200, "{}", res.body);
    let res = s.request("GET", "http://www.example.com/", &[("Host", "www.example.com")], "");
    assert_eq!(res.status, 403, "{}", res.body);
    assert!(res.body.contains("www.example.com"), "{}", res.body);
    let res = s.request("GET", &format!("http://{}/_mock/health", s.addr), &[], "");
    assert_eq!(res.status, 200, "the server itself, named in absolute form: {}", res.body);
}

#[test]
fn with_passthrough_other_hosts_are_relayed_not_intercepted() {
    let dir = TempDir::new("proxy-passthrough");
    let s = TestServer::with(callerid_mock::Config {
        ca_dir: Some(dir.path("ca")),
        proxy_passthrough: true,
        ..common::config()
    });
    // Another local server stands in for "another host": it is not this server nor a provider.
    let other = common::receiver::Receiver::start(200);
    let res = s.request("POST", &other.url("/relayed?x=1"), &[], "hello");
    assert_eq!(res.status, 200, "{}", res.body);
    let got = other.wait_for(1);
    assert_eq!((got[0].target.as_str(), got[0].body.as_str()), ("/relayed?x=1", "hello"), "forwarded as sent");
    // A tunnel to it is relayed byte for byte: what goes in comes out at the other end.
    let port = other.url("").rsplit(':').next().unwrap().to_owned();
    let (head, mut reader) = connect(s.addr, &format!("127.0.0.1:{port}"));
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    write!(reader.get_mut(), "GET /tunnelled HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    reader.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(other.wait_for(2)[1].target, "/tunnelled");
}

#[test]
fn a_relayed_tunnel_idle_for_the_idle_timeout_is_closed() {
    let dir = TempDir::new("proxy-passthrough-idle");
    let s = TestServer::with(callerid_mock::Config {
        ca_dir: Some(dir.path("ca")),
        proxy_passthrough: true,
        idle_timeout: std::time::Duration::from_millis(500),
        ..common::config()
    });
    // "Another host" that echoes, then stays silent.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut peer, _)) = listener.accept() {
            let mut buf = [0u8; 64];
            if let Ok(n) = peer.read(&mut buf) {
                let _ = peer.write_all(&buf[..n]);
            }
            std::thread::sleep(std::time::Duration::from_secs(30));
        }
    });
    let (head, mut reader) = connect(s.addr, &format!("127.0.0.1:{port}"));
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    reader.get_mut().write_all(b"ping").unwrap();
    let mut echoed = [0u8; 4];
    reader.read_exact(&mut echoed).unwrap();
    assert_eq!(&echoed, b"ping", "relayed both ways");
    let started = std::time::Instant::now();
    reader.get_mut().set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    let mut rest = Vec::new();
    let _ = reader.read_to_end(&mut rest);
    let waited = started.elapsed();
    assert!(waited < std::time::Duration::from_secs(5), "closed after --idle-timeout, not held open: {waited:?}");
}

#[test]
fn tls_bind_serves_the_providers_hosts_by_sni_for_dns_alias_setups() {
    let dir = TempDir::new("tls-bind");
    let s = TestServer::with(callerid_mock::Config {
        ca_dir: Some(dir.path("ca")),
        tls_bind: Some("127.0.0.1:0".parse().unwrap()),
        ..common::config()
    });
    let tls_addr = s.tls_addr().expect("--tls-bind listens");
    let get = |sni: &str, request: &str| -> Result<String, std::io::Error> {
        let name = ServerName::try_from(sni.to_owned()).unwrap();
        let conn = rustls::ClientConnection::new(client_config(&s), name).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, TcpStream::connect(tls_addr).unwrap());
        tls.write_all(request.as_bytes())?;
        let mut answer = String::new();
        tls.read_to_string(&mut answer)?;
        Ok(answer)
    };
    // As a client whose DNS says api.telnyx.com is the emulator (a compose network alias).
    let answer = get(
        "api.telnyx.com",
        "GET /v2/verified_numbers HTTP/1.1\r\nHost: api.telnyx.com\r\nAuthorization: Bearer KEY\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200") && answer.contains(r#""total_results":0"#), "{answer}");
    let refused = get("www.example.com", "GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n").unwrap_err();
    assert!(!refused.to_string().is_empty(), "no certificate for another name");
}

/// "Another host" for a forwarded request: reads the request head, then writes `head`, then
/// whatever `rest` writes.
fn upstream(head: &'static str, rest: impl FnOnce(&mut TcpStream) + Send + 'static) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut peer, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(peer.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap() > 2 {
            line.clear();
        }
        peer.write_all(head.as_bytes()).unwrap();
        rest(&mut peer);
    });
    port
}

/// Sends an absolute-form GET for `port` through the proxy; the socket, after the answer's head.
fn forwarded(s: &TestServer, port: u16) -> (String, BufReader<TcpStream>) {
    let mut stream = TcpStream::connect(s.addr).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    write!(stream, "GET http://127.0.0.1:{port}/x HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    while reader.read_line(&mut head).unwrap() > 2 && !head.ends_with("\r\n\r\n") {}
    (head, reader)
}

fn passthrough(dir: &TempDir) -> TestServer {
    TestServer::with(callerid_mock::Config {
        ca_dir: Some(dir.path("ca")),
        proxy_passthrough: true,
        ..common::config()
    })
}

#[test]
fn a_forwarded_answer_is_streamed_as_it_arrives_however_large() {
    const BIG: usize = 24 << 20;
    let dir = TempDir::new("proxy-stream");
    let s = passthrough(&dir);
    let (go, wait) = std::sync::mpsc::channel::<()>();
    let head = Box::leak(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\nfirst", BIG + 5).into_boxed_str());
    let port = upstream(head, move |peer| {
        // The rest only once the client has the first bytes: an answer held whole never gets them.
        if wait.recv_timeout(std::time::Duration::from_secs(10)).is_ok() {
            let piece = vec![b'x'; 64 << 10];
            for _ in 0..BIG / piece.len() {
                peer.write_all(&piece).unwrap();
            }
        }
    });
    let (head, mut reader) = forwarded(&s, port);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let mut first = [0u8; 5];
    reader.read_exact(&mut first).expect("the first bytes arrive before the upstream sent the rest");
    assert_eq!(&first, b"first");
    go.send(()).unwrap();
    let rest = std::io::copy(&mut reader, &mut std::io::sink()).unwrap();
    assert_eq!(rest as usize, BIG, "larger than any buffer, and whole");
}

#[test]
fn a_forwarded_answer_cut_upstream_is_cut_for_its_client_too() {
    let dir = TempDir::new("proxy-cut");
    let s = passthrough(&dir);
    // Declared 1000 bytes, sent 10: the client gets 10 and the end of the connection.
    let port = upstream("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789", |_| {});
    let (head, mut reader) = forwarded(&s, port);
    assert!(head.contains("content-length: 1000"), "{head}");
    let mut body = Vec::new();
    let _ = reader.read_to_end(&mut body);
    assert!(body.len() < 1000, "short of what it declares, as upstream was");
    // Chunked and cut before its last chunk: no last chunk reaches the client either.
    let port = upstream("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", |_| {});
    let (head, mut reader) = forwarded(&s, port);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let mut body = Vec::new();
    let _ = reader.read_to_end(&mut body);
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains("hello") && !body.ends_with("0\r\n\r\n"), "not ended as if whole: {body:?}");
}

#[test]
fn relayed_tunnels_count_against_max_connections() {
    let dir = TempDir::new("proxy-passthrough-cap");
    let s = TestServer::with(callerid_mock::Config {
        ca_dir: Some(dir.path("ca")),
        proxy_passthrough: true,
        max_connections: Some(2),
        ..common::config()
    });
    // "Another host" that stays silent until its peer closes.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let (mut peer, _) = listener.accept().unwrap();
        let _ = peer.read_to_end(&mut Vec::new());
    });
    // One tunnel and one idle connection: two of two slots, if the tunnel counts.
    let (head, tunnel) = connect(s.addr, &format!("127.0.0.1:{port}"));
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let _idle = TcpStream::connect(s.addr).unwrap();
    let health = |s: &TestServer| {
        let mut stream = TcpStream::connect(s.addr).unwrap();
        stream.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
        stream.write_all(b"GET /_mock/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    };
    common::wait_until("the tunnel and the idle connection to hold both slots", || {
        health(&s).starts_with("HTTP/1.1 503")
    });
    drop(tunnel);
    common::wait_until("room again once they close", || health(&s).starts_with("HTTP/1.1 200"));
}
