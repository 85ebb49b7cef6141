//! Test helpers: a real server on port 0 in its own runtime, and a small blocking HTTP/1.1
//! client, so tests read as plain sequences of requests.
#![allow(dead_code)]

pub mod process;
pub mod receiver;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use serde_json::{Value, json};

pub const START: &str = "2026-01-01T00:00:00Z";
pub const AUTH_ID: &str = "MAXXXXXXXXXXXXXXXXXX";
/// `MAXXXXXXXXXXXXXXXXXX:token123`
pub const BASIC: &str = "Basic TUFYWFhYWFhYWFhYWFhYWFhYWFg6dG9rZW4xMjM=";

pub const ACCOUNT_SID: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
pub const AUTH_TOKEN: &str = "authtoken";
/// `ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:authtoken`
pub const TWILIO_BASIC: &str = "Basic QUNhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYTphdXRodG9rZW4=";

/// The seven API key of most tests.
pub const SEVEN_KEY: &str = "TESTKEY";
/// The Telnyx API key of most tests.
pub const TELNYX_KEY: &str = "KEY0123456789ABCDEF";

/// The SignalWire project id and API token of most tests.
pub const SIGNALWIRE_PROJECT: &str = "b3877c40-da60-4a47-8bd6-05a3d7a22b8c";
pub const SIGNALWIRE_TOKEN: &str = "PTtoken";

/// `Authorization: Basic` for `user` and `password`.
pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

/// `value` percent-encoded for a query string or a path segment (`+1202…` → `%2B1202…`).
pub fn encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The headers of a Plivo request of [`AUTH_ID`].
pub const PLIVO_HEADERS: [(&str, &str); 2] = [("Authorization", BASIC), ("Content-Type", "application/json")];

/// `path` under [`AUTH_ID`]'s Plivo account.
pub fn plivo_path(path: &str) -> String {
    format!("/v1/Account/{AUTH_ID}/{path}")
}

/// The body of a Plivo initiate for `number`, with `extra`'s keys added.
pub fn plivo_initiate_body(number: &str, extra: Value) -> Vec<u8> {
    let mut body = json!({ "phone_number": number });
    body.as_object_mut().unwrap().extend(extra.as_object().expect("extra is an object").clone());
    body.to_string().into_bytes()
}

/// A Plivo initiate for `number` to the server at `addr` (a [`process::Process`] too).
pub fn plivo_initiate_at(addr: SocketAddr, number: &str) -> Resp {
    send(addr, "POST", &plivo_path("VerifiedCallerId/"), &PLIVO_HEADERS, &plivo_initiate_body(number, json!({})))
}

/// Waits (up to 10 s, polling) until `done` holds; panics naming `what` if it never does.
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// A running server; dropped, it shuts down.
pub struct TestServer {
    pub addr: SocketAddr,
    server: Option<callerid_mock::Server>,
    runtime: Option<tokio::runtime::Runtime>,
}

/// The configuration every snapshot test uses: seed 42, a frozen clock at [`START`].
pub fn config() -> callerid_mock::Config {
    callerid_mock::Config {
        bind: "127.0.0.1:0".parse().unwrap(),
        seed: Some(42),
        start_time: callerid_mock::Timestamp::parse_rfc3339(START),
        frozen_clock: true,
        ..Default::default()
    }
}

impl TestServer {
    pub fn start() -> TestServer {
        TestServer::with(config())
    }

    pub fn with(config: callerid_mock::Config) -> TestServer {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let server = runtime.block_on(callerid_mock::start(config)).expect("server starts");
        TestServer { addr: server.addr(), server: Some(server), runtime: Some(runtime) }
    }

    /// Where `--tls-bind` listens, if it was given.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.server.as_ref().and_then(|s| s.tls_addr())
    }

    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
        send(self.addr, method, path, headers, body.as_bytes())
    }

    /// A Plivo request with valid Basic auth; `path` is relative to `/v1/Account/{AUTH_ID}/`.
    pub fn plivo(&self, method: &str, path: &str, body: &str) -> Resp {
        send(self.addr, method, &plivo_path(path), &PLIVO_HEADERS, body.as_bytes())
    }

    /// A Plivo initiate for `number`, the default channel.
    pub fn plivo_initiate(&self, number: &str) -> Resp {
        plivo_initiate_at(self.addr, number)
    }

    /// A Plivo initiate for `number` that must succeed.
    pub fn plivo_initiate_ok(&self, number: &str) {
        let res = self.plivo_initiate(number);
        assert_eq!(res.status, 200, "{}", res.body);
    }

    /// Initiates and verifies `number` in [`AUTH_ID`]'s Plivo account.
    pub fn plivo_verified(&self, number: &str) {
        let res = self.plivo_initiate(number);
        assert_eq!(res.status, 200, "{}", res.body);
        let (uuid, otp) = self.latest_code(number);
        let res =
            self.plivo("POST", &format!("VerifiedCallerId/Verification/{uuid}/"), &json!({ "otp": otp }).to_string());
        assert_eq!(res.status, 200, "{}", res.body);
    }

    /// A Twilio ValidationRequest with these form fields.
    pub fn twilio_create(&self, pairs: &[(&str, &str)]) -> Resp {
        self.twilio("POST", "OutgoingCallerIds.json", &serde_urlencoded::to_string(pairs).unwrap())
    }

    /// Verifies `number` in [`ACCOUNT_SID`]'s Twilio account through a correctly answered
    /// validation call (`pairs` added to the request); returns the caller ID's sid.
    pub fn twilio_verified(&self, number: &str, pairs: &[(&str, &str)]) -> String {
        let mut all = vec![("PhoneNumber", number)];
        all.extend_from_slice(pairs);
        let res = self.twilio_create(&all);
        assert_eq!(res.status, 200, "{}", res.body);
        let vr = res.json();
        let res = self.answer(vr["call_sid"].as_str().unwrap(), json!({ "digits": vr["validation_code"] }));
        assert_eq!(res.status, 200, "{}", res.body);
        res.json()["caller_id"].as_str().unwrap().to_owned()
    }

    /// A seven `validate_for_voice` POST with `key` in the query and `params` after it.
    pub fn seven(&self, key: &str, params: &str) -> Resp {
        self.request("POST", &format!("/api/validate_for_voice?p={key}&{params}"), &[], "")
    }

    /// A Telnyx request with [`TELNYX_KEY`]; `path` is below `/v2/`.
    pub fn telnyx(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let auth = format!("Bearer {TELNYX_KEY}");
        let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
        self.request(method, &format!("/v2/{path}"), &headers, &body)
    }

    /// A SignalWire request with [`SIGNALWIRE_PROJECT`]'s Basic auth; `path` is below
    /// `/api/relay/rest/`.
    pub fn signalwire(&self, method: &str, path: &str, body: Option<Value>) -> Resp {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let auth = basic(SIGNALWIRE_PROJECT, SIGNALWIRE_TOKEN);
        let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
        self.request(method, &format!("/api/relay/rest/{path}"), &headers, &body)
    }

    /// Plays the person on the phone: `{"digits": …}` or `{"outcome": …}` for call `id`.
    pub fn answer(&self, id: &str, body: Value) -> Resp {
        self.post_json(&format!("/_mock/calls/{id}/answer"), body)
    }

    pub fn get(&self, path: &str) -> Resp {
        self.request("GET", path, &[], "")
    }

    pub fn post_json(&self, path: &str, body: Value) -> Resp {
        self.request("POST", path, &[("Content-Type", "application/json")], &body.to_string())
    }

    /// A Twilio request with valid Basic auth; `path` is relative to the account.
    pub fn twilio(&self, method: &str, path: &str, form: &str) -> Resp {
        let full = format!("/2010-04-01/Accounts/{ACCOUNT_SID}/{path}");
        let headers = [("Authorization", TWILIO_BASIC), ("Content-Type", "application/x-www-form-urlencoded")];
        self.request(method, &full, &headers, form)
    }

    /// The newest code sent to `number`, from the control plane.
    pub fn latest_code(&self, number: &str) -> (String, String) {
        let codes = self.get(&format!("/_mock/codes?number={}", encode(number))).json();
        let c = &codes["codes"][0];
        (c["id"].as_str().unwrap().to_owned(), c["code"].as_str().unwrap().to_owned())
    }

    /// The callback journal once no delivery is pending (waits up to 5 s).
    pub fn settled_callbacks(&self) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let journal = self.get("/_mock/callbacks").json();
            let pending = journal["callbacks"].as_array().unwrap().iter().any(|c| c["state"] == "pending");
            if !pending || std::time::Instant::now() > deadline {
                return journal;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    pub fn advance(&self, by: &str) -> Resp {
        self.post_json("/_mock/clock", json!({ "advance": by }))
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let (Some(server), Some(runtime)) = (self.server.take(), self.runtime.take()) {
            runtime.block_on(server.shutdown()).expect("the server shuts down cleanly");
        }
    }
}

/// What Twilio's RequestValidator computes for a request to `url` with form `params`, signed
/// with [`AUTH_TOKEN`].
pub fn twilio_signature(url: &str, params: &[(String, String)]) -> String {
    signature_with(AUTH_TOKEN, url, params)
}

/// The 2010 dialect's webhook signature (Twilio's, SignalWire's Compatibility API's) with `token`.
pub fn signature_with(token: &str, url: &str, params: &[(String, String)]) -> String {
    use base64::Engine as _;
    use hmac::{Hmac, KeyInit, Mac};
    let mut sorted = params.to_vec();
    sorted.sort();
    let data: String = std::iter::once(url.to_owned()).chain(sorted.iter().map(|(k, v)| format!("{k}{v}"))).collect();
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A response read whole.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// What a raw snapshot records: the status line, the content type and the body byte for
    /// byte (key order is part of the wire).
    pub fn raw(&self) -> String {
        format!("{}\ncontent-type: {}\n\n{}", self.status, self.header("content-type").unwrap_or("-"), self.body)
    }
}

/// One HTTP/1.1 request on a fresh connection.
pub fn send(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut stream = TcpStream::connect(addr).expect("connects");
    let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("reads the response");
    parse_response(&raw)
}

/// One kept-alive HTTP/1.1 connection, for tests that send thousands of requests (a fresh
/// connection each would exhaust the ephemeral ports). Answers must carry Content-Length.
pub struct Conn {
    addr: SocketAddr,
    reader: std::io::BufReader<TcpStream>,
}

impl Conn {
    pub fn open(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).expect("connects");
        Conn { addr, reader: std::io::BufReader::new(stream) }
    }

    pub fn send(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
        use std::io::BufRead;
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        self.reader.get_mut().write_all(head.as_bytes()).unwrap();
        let mut raw = Vec::new();
        loop {
            let n = self.reader.read_until(b'\n', &mut raw).expect("reads the response head");
            assert!(n > 0, "the connection closed mid-answer");
            if raw.ends_with(b"\r\n\r\n") {
                break;
            }
        }
        let mut resp = parse_response(&raw);
        let length: usize = resp.header("content-length").expect("a Content-Length").parse().unwrap();
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).expect("reads the body");
        resp.body = String::from_utf8(body).expect("a UTF-8 body");
        resp
    }
}

pub fn parse_response(raw: &[u8]) -> Resp {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete response head");
    let head = String::from_utf8_lossy(&raw[..split]);
    let body = &raw[split + 4..];
    let mut lines = head.lines();
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked { dechunk(body) } else { body.to_vec() };
    Resp { status, headers, body: String::from_utf8_lossy(&body).into_owned() }
}

/// The body of a `Transfer-Encoding: chunked` response.
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n").expect("a chunk size line");
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..line_end]).unwrap().trim(), 16).unwrap();
        raw = &raw[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

/// What the control plane shows of the whole state (the clock without the events pending on
/// it): to compare a server with itself before and after.
pub fn seen(addr: SocketAddr) -> Value {
    let get = |path: &str| send(addr, "GET", path, &[], b"").json();
    let mut clock = get("/_mock/clock");
    clock.as_object_mut().unwrap().remove("pending_events");
    json!({
        "numbers": get("/_mock/numbers")["numbers"],
        "codes": get("/_mock/codes")["codes"],
        "calls": get("/_mock/calls")["calls"],
        "caller_ids": get("/_mock/caller-ids")["caller_ids"],
        "clock": clock,
    })
}
