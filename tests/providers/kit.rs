//! What the contract checks, for any row.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};

use crate::common::{self, Resp, TestServer};

/// A request a row builds: the kit sends it directly or through the proxy.
pub struct Req {
    pub method: &'static str,
    pub path: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Req {
    pub fn new(method: &'static str, path: impl Into<String>) -> Req {
        Req { method, path: path.into(), headers: Vec::new(), body: String::new() }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Req {
        self.headers.push((name, value.into()));
        self
    }

    pub fn json(self, body: Value) -> Req {
        Req { body: body.to_string(), ..self.header("Content-Type", "application/json") }
    }

    pub fn form(self, body: &str) -> Req {
        Req { body: body.to_owned(), ..self.header("Content-Type", "application/x-www-form-urlencoded") }
    }

    /// The same request without its credentials.
    fn anonymous(&self) -> Req {
        let secret = |k: &str| k.eq_ignore_ascii_case("authorization") || k.eq_ignore_ascii_case("x-api-key");
        let headers = self.headers.iter().filter(|(k, _)| !secret(k)).cloned();
        Req { method: self.method, path: self.path.clone(), headers: headers.collect(), body: self.body.clone() }
    }
}

/// How a provider enters a code: the application submits it, or the person keys it in during
/// the validation call (the control plane plays them).
pub enum Entry {
    Api(Req),
    Keypad,
}

/// One provider's row: the requests of its operations and how to read its answers.
pub trait Row {
    fn name(&self) -> &'static str;
    /// The account every request of the row authenticates as (the state namespace).
    fn account(&self) -> &'static str;
    /// The hosts its SDKs call (a `*` label given a value).
    fn hosts(&self) -> &'static [&'static str];
    fn create(&self, number: &str) -> Req;
    /// How `code` is entered for `number`, whose create answered `created`.
    fn enter(&self, number: &str, created: &Value, code: &str) -> Entry;
    /// Reads one caller ID; `id` is its id in the control plane.
    fn get(&self, number: &str, id: &str) -> Option<Req>;
    /// One list page of `size`, from `cursor` (what `page` read from the previous page).
    fn list(&self, size: usize, cursor: Option<&str>) -> Option<Req>;
    /// The numbers of a page, newest first, and the cursor of the next page if there is one.
    fn page(&self, body: &Value) -> (Vec<String>, Option<String>);
    fn rename(&self, number: &str, id: &str, label: &str) -> Option<Req>;
    fn delete(&self, number: &str, id: &str) -> Option<Req>;
    /// Whether an answer is a refusal in the provider's own shape.
    fn is_refusal(&self, res: &Resp) -> bool;
    /// An unknown path and a known path with a method it lacks (both under its prefix).
    fn no_route(&self) -> Req;
    fn wrong_method(&self) -> Req;
    /// A request for each operation the provider declares (`Provider::operations`).
    fn operations(&self) -> Vec<(&'static str, Req)>;
}

/// Where requests go.
#[derive(Clone, Copy, Debug)]
pub enum Via {
    Direct,
    /// Through the proxy, to the row's first host, over TLS from the emulator's CA.
    Proxy,
}

/// Sends `req` to the server, directly or through a tunnel to `host`.
pub fn send(s: &TestServer, via: Via, host: &str, req: &Req) -> Resp {
    let headers: Vec<(&str, &str)> = req.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    match via {
        Via::Direct => s.request(req.method, &req.path, &headers, &req.body),
        Via::Proxy => tunneled(s, host, req),
    }
}

/// One request through a CONNECT tunnel to `host`, as an SDK with production settings sends it.
fn tunneled(s: &TestServer, host: &str, req: &Req) -> Resp {
    let mut stream = TcpStream::connect(s.addr).unwrap();
    write!(stream, "CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n").unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert_eq!(line, "HTTP/1.1 200 Connection established\r\n", "the tunnel to {host} opens");
    reader.read_line(&mut line).unwrap();
    let pem = s.get("/_mock/ca.pem").body;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let conn = rustls::ClientConnection::new(Arc::new(config), ServerName::try_from(host.to_owned()).unwrap()).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, reader.into_inner());
    let mut head = format!("{} {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n", req.method, req.path);
    for (k, v) in &req.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", req.body.len()));
    tls.write_all(head.as_bytes()).unwrap();
    tls.write_all(req.body.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = tls.read_to_end(&mut raw);
    common::parse_response(&raw)
}

/// A server with a CA of its own (a CA kept from an older release would lack newer domains).
fn server(row: &dyn Row, part: &str) -> TestServer {
    let dir = std::env::temp_dir().join(format!("callerid-mock-kit-{}-{}-{part}", std::process::id(), row.name()));
    let _ = std::fs::remove_dir_all(&dir);
    TestServer::with(callerid_mock::Config { ca_dir: Some(dir), ..common::config() })
}

/// The control plane's view of the row's account.
fn control(s: &TestServer, row: &dyn Row, path: &str) -> Value {
    let sep = if path.contains('?') { '&' } else { '?' };
    s.get(&format!("{path}{sep}provider={}&account={}", row.name(), row.account())).json()
}

/// The newest code sent to `number`: the verification's id and the code.
fn latest_code(s: &TestServer, row: &dyn Row, number: &str) -> (String, String) {
    let c = control(s, row, &format!("/_mock/codes/latest?number={}", common::encode(number)));
    (c["id"].as_str().expect("a code was sent").to_owned(), c["code"].as_str().unwrap().to_owned())
}

/// The caller IDs of the account, as the control plane lists them.
fn caller_ids(s: &TestServer, row: &dyn Row) -> Vec<Value> {
    control(s, row, "/_mock/caller-ids")["caller_ids"].as_array().unwrap().clone()
}

/// Enters `code` for `number`; whether the number is now a verified caller ID.
fn enter(s: &TestServer, row: &dyn Row, via: Via, number: &str, created: &Value, code: &str) -> Resp {
    match row.enter(number, created, code) {
        Entry::Api(req) => send(s, via, row.hosts()[0], &req),
        Entry::Keypad => {
            let (call, _) = latest_code(s, row, number);
            s.answer(&call, json!({ "digits": code }))
        }
    }
}

fn verified(s: &TestServer, row: &dyn Row, number: &str) -> Option<Value> {
    caller_ids(s, row).into_iter().find(|c| c["phone_number"] == number && c["verified"] != false)
}

/// Creates `number` and enters its code; its caller ID as the control plane shows it.
fn create_verified(s: &TestServer, row: &dyn Row, via: Via, number: &str) -> Value {
    let res = send(s, via, row.hosts()[0], &row.create(number));
    assert!(res.status < 300, "{} create {number}: {}", row.name(), res.raw());
    let (_, code) = latest_code(s, row, number);
    let entered = enter(s, row, via, number, &body(&res), &code);
    assert!(entered.status < 300, "{} the right code: {}", row.name(), entered.raw());
    verified(s, row, number).unwrap_or_else(|| panic!("{}: {number} is verified", row.name()))
}

fn body(res: &Resp) -> Value {
    serde_json::from_str(&res.body).unwrap_or(Value::Null)
}

fn wrong(code: &str) -> String {
    if code.starts_with('0') { "9".repeat(code.len()) } else { "0".repeat(code.len()) }
}

/// The whole lifecycle, directly or through the proxy.
pub fn lifecycle(row: &dyn Row, via: Via) {
    let s = server(row, &format!("{via:?}"));
    let host = row.hosts()[0];
    let name = row.name();
    let (one, two, three) = ("+12025550141", "+12025550142", "+12025550143");

    // Create → the code → a wrong code → the right one.
    let res = send(&s, via, host, &row.create(one));
    assert!(res.status < 300, "{name} create: {}", res.raw());
    let created = body(&res);
    let (_, code) = latest_code(&s, row, one);
    let refused = enter(&s, row, via, one, &created, &wrong(&code));
    assert!(verified(&s, row, one).is_none(), "{name}: a wrong code verifies nothing");
    let (created, code) = match row.enter(one, &created, &code) {
        Entry::Api(_) => {
            assert!(row.is_refusal(&refused), "{name}: a wrong code is refused in its shape: {}", refused.raw());
            (created, code)
        }
        Entry::Keypad => {
            // Wrong digits end the call: the application asks again.
            assert_eq!(refused.json()["state"], "failed", "{name}: {}", refused.raw());
            let res = send(&s, via, host, &row.create(one));
            assert!(res.status < 300, "{name} create again: {}", res.raw());
            (body(&res), latest_code(&s, row, one).1)
        }
    };
    let entered = enter(&s, row, via, one, &created, &code);
    assert!(entered.status < 300, "{name} the right code: {}", entered.raw());
    let caller = verified(&s, row, one).unwrap_or_else(|| panic!("{name}: verified by the right code"));
    let id = caller["id"].as_str().unwrap().to_owned();

    // Get.
    if let Some(req) = row.get(one, &id) {
        let res = send(&s, via, host, &req);
        assert_eq!(res.status, 200, "{name} get: {}", res.raw());
        assert!(res.body.contains(one), "{name} get names the number: {}", res.body);
    }

    // List across pages: three caller IDs, two a page, newest first, each once.
    s.advance("1s");
    create_verified(&s, row, via, two);
    s.advance("1s");
    create_verified(&s, row, via, three);
    if row.list(2, None).is_some() {
        let (mut seen, mut cursor, mut pages) = (Vec::new(), None::<String>, 0);
        loop {
            let res = send(&s, via, host, &row.list(2, cursor.as_deref()).unwrap());
            assert_eq!(res.status, 200, "{name} list: {}", res.raw());
            let (numbers, next) = row.page(&res.json());
            assert!(numbers.len() <= 2, "{name}: a page holds at most its size");
            seen.extend(numbers);
            pages += 1;
            match next {
                Some(next) if pages < 5 => cursor = Some(next),
                _ => break,
            }
        }
        assert_eq!(seen, [three, two, one], "{name}: the list, newest first, across {pages} pages");
        assert_eq!(pages, 2, "{name}: three caller IDs in pages of two");
    }

    // Update.
    if let Some(req) = row.rename(one, &id, "Renamed") {
        let res = send(&s, via, host, &req);
        assert!(res.status < 300, "{name} update: {}", res.raw());
        assert_eq!(verified(&s, row, one).unwrap()["label"], "Renamed", "{name}: the update is kept");
    }

    // Delete → not found.
    if let Some(req) = row.delete(one, &id) {
        let res = send(&s, via, host, &req);
        assert!(res.status < 300, "{name} delete: {}", res.raw());
        assert!(verified(&s, row, one).is_none(), "{name}: deleted");
        if let Some(req) = row.get(one, &id) {
            let res = send(&s, via, host, &req);
            assert_eq!(res.status, 404, "{name} get after delete: {}", res.raw());
            assert!(row.is_refusal(&res), "{name}: not found in its shape: {}", res.raw());
        }
        let res = send(&s, via, host, &row.delete(one, &id).unwrap());
        assert_eq!(res.status, 404, "{name} delete again: {}", res.raw());
    }
}

/// Auth errors, 404 and 405, each in the provider's shape.
pub fn refusals(row: &dyn Row) {
    let s = server(row, "refusals");
    let name = row.name();
    for req in [row.create("+12025550141"), row.list(2, None).unwrap_or_else(|| row.create("+12025550141"))] {
        let res = send(&s, Via::Direct, "", &req.anonymous());
        assert!(row.is_refusal(&res), "{name} {} {} without credentials: {}", req.method, req.path, res.raw());
        assert!(res.status == 401 || res.status == 200, "{name}: 401 (seven: 200 with 900): {}", res.raw());
    }
    assert!(
        caller_ids(&s, row).is_empty() && control(&s, row, "/_mock/codes")["codes"] == json!([]),
        "{name}: nothing was done"
    );
    let res = send(&s, Via::Direct, "", &row.no_route());
    assert_eq!(res.status, 404, "{name} an unknown path: {}", res.raw());
    assert!(row.is_refusal(&res), "{name}: 404 in its shape: {}", res.raw());
    let res = send(&s, Via::Direct, "", &row.wrong_method());
    assert_eq!(res.status, 405, "{name} a method the path lacks: {}", res.raw());
    assert!(row.is_refusal(&res), "{name}: 405 in its shape: {}", res.raw());
}

/// A fault rule answering 500 for each operation the server declares for the provider: each
/// answers it in the provider's shape, and the row covers every operation.
pub fn sweep(row: &dyn Row) {
    let s = server(row, "sweep");
    let name = row.name();
    let doc = s.get("/_mock/openapi.json").json();
    let declared = doc["components"]["schemas"]["Operation"]["description"].as_str().unwrap().to_owned();
    let mine = declared
        .split("; ")
        .find_map(|part| part.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("{name} declares operations: {declared}"));
    let mut covered: Vec<&str> = row.operations().iter().map(|(op, _)| *op).collect();
    covered.sort();
    let mut want: Vec<&str> = mine.split(", ").collect();
    want.sort();
    assert_eq!(covered, want, "{name}: the sweep covers every declared operation");
    for (op, req) in row.operations() {
        let rule = json!({ "provider": name, "operation": op, "action": "error", "status": 500,
            "message": "injected", "times": 1 });
        assert_eq!(s.post_json("/_mock/faults", rule).status, 201);
        let res = send(&s, Via::Direct, "", &req);
        assert_eq!(res.status, 500, "{name} {op}: {}", res.raw());
        assert!(row.is_refusal(&res), "{name} {op}: the 500 in its shape: {}", res.raw());
        let faults = s.get("/_mock/faults").json();
        assert!(
            faults["faults"].as_array().unwrap().iter().all(|f| f["remaining"] == 0),
            "{name} {op} matched its rule"
        );
        s.request("DELETE", "/_mock/faults", &[], "");
    }
}

/// A list (or create) through the proxy to each host answers as the provider.
pub fn hosts(row: &dyn Row) {
    let s = server(row, "hosts");
    for host in row.hosts() {
        let req = row.list(1, None).unwrap_or_else(|| row.create("+12025550141"));
        let res = send(&s, Via::Proxy, host, &req);
        assert!(res.status < 300, "{} through {host}: {}", row.name(), res.raw());
    }
}

/// At a small `--max-state-bytes`: every create the server acknowledges becomes a caller ID when
/// its code is entered (its room was held from the create), and the creates past the room are
/// refused in the provider's own shape.
pub fn at_the_cap(row: &dyn Row) {
    let dir = std::env::temp_dir().join(format!("callerid-mock-kit-{}-{}-cap", std::process::id(), row.name()));
    let _ = std::fs::remove_dir_all(&dir);
    let s =
        TestServer::with(callerid_mock::Config { ca_dir: Some(dir), max_state_bytes: 96 << 10, ..common::config() });
    let (name, host) = (row.name(), row.hosts()[0]);
    let mut acknowledged = Vec::new();
    let mut refused = 0;
    for i in 0..300 {
        let number = format!("+1202556{:04}", 1000 + i);
        let res = send(&s, Via::Direct, host, &row.create(&number));
        if row.is_refusal(&res) {
            refused += 1;
        } else {
            assert!(res.status < 300, "{name}: acknowledged or refused in the provider's shape: {}", res.raw());
            acknowledged.push((number, body(&res)));
        }
    }
    assert!(acknowledged.len() > 5 && refused > 0, "{name}: the cap was reached ({} acknowledged)", acknowledged.len());
    for (number, created) in &acknowledged {
        let (_, code) = latest_code(&s, row, number);
        let entered = enter(&s, row, Via::Direct, number, created, &code);
        assert!(entered.status < 300, "{name} {number}: the right code is never refused for room: {}", entered.raw());
        assert!(verified(&s, row, number).is_some(), "{name}: {number} became a caller ID");
    }
}
