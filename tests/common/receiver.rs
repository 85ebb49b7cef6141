//! A webhook receiver for tests: records every request and answers with a chosen status.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    /// Path and query as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

pub struct Receiver {
    pub port: u16,
    got: Arc<Mutex<Vec<Received>>>,
    secure: bool,
}

impl Receiver {
    /// Listens on a free port and answers every request with `status`.
    pub fn start(status: u16) -> Receiver {
        Receiver::listen(status, None, "")
    }

    /// Like [`Receiver::start`], answering 200 with `body` (an answer document) as XML.
    pub fn answering(body: &str) -> Receiver {
        Receiver::listen(200, None, body)
    }

    /// Like [`Receiver::start`], over TLS with a certificate for `localhost` from a CA of its
    /// own; also returns that CA (PEM), for `--callback-ca`.
    pub fn start_tls(status: u16) -> (Receiver, String) {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "test receiver CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert =
            rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap().signed_by(&key, &issuer).unwrap();
        let der = rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone()], der)
            .unwrap();
        (Receiver::listen(status, Some(Arc::new(config)), ""), ca_cert.pem())
    }

    fn listen(status: u16, tls: Option<Arc<rustls::ServerConfig>>, body: &str) -> Receiver {
        let body: Arc<str> = body.into();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let sink = got.clone();
        let secure = tls.is_some();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                match &tls {
                    None => serve_one(stream, status, &body, &sink),
                    Some(config) => {
                        let conn = rustls::ServerConnection::new(config.clone()).unwrap();
                        serve_one(rustls::StreamOwned::new(conn, stream), status, &body, &sink);
                    }
                }
            }
        });
        Receiver { port, got, secure }
    }

    /// A URL on this receiver.
    pub fn url(&self, path: &str) -> String {
        match self.secure {
            false => format!("http://127.0.0.1:{}{path}", self.port),
            true => format!("https://localhost:{}{path}", self.port),
        }
    }

    /// What arrived so far.
    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits up to 5 s until `n` requests arrived and returns them all; fails saying how many
    /// came when they do not.
    pub fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let got = self.got.lock().unwrap().clone();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} callback(s) at {} within 5 s, got {}: see the test's /_mock/callbacks",
                self.url(""),
                got.len()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// A URL where nothing listens.
pub fn dead_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/callback")
}

/// Reads one request from `stream`, records it in `sink`, and answers `status` with `body`.
fn serve_one<S: Read + Write>(stream: S, status: u16, body: &str, sink: &Mutex<Vec<Received>>) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or("").to_owned(), parts.next().unwrap_or("").to_owned());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let len = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut got = vec![0; len];
    let _ = reader.read_exact(&mut got);
    sink.lock().unwrap().push(Received { method, target, headers, body: String::from_utf8_lossy(&got).into_owned() });
    let kind = if body.is_empty() { "" } else { "Content-Type: application/xml\r\n" };
    let _ = write!(
        reader.get_mut(),
        "HTTP/1.1 {status} X\r\n{kind}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = reader.get_mut().flush();
}
