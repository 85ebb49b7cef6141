//! Plivo's Call API against a real server (seed 42, frozen clock): a call from a caller ID is
//! refused until it is verified and again once it is deleted; the live call and the record of
//! one that ended; ring, answer and hangup webhooks signed V2 and V3; the hangup causes; the
//! answer XML's `<Dial callerId>`; listing, hang-up, cancel and transfer.

mod common;

use base64::Engine as _;
use common::TestServer;
use common::receiver::{Receiver, dead_url};
use insta::assert_snapshot;
use serde_json::{Value, json};

const CALLER: &str = "+12025551234";
const CALLEE: &str = "14155550100";
const TOKEN: &str = "token123";
const XML: &str = "<Response><Speak>Hello</Speak></Response>";

/// `POST Call/` with `body`.
fn make(s: &TestServer, body: Value) -> common::Resp {
    s.plivo("POST", "Call/", &body.to_string())
}

/// Makes a call from [`CALLER`] to `to` with `extra` keys (an `answer_url` of a receiver of
/// [`XML`] unless given) that must be fired; returns its uuid.
fn fired(s: &TestServer, to: &str, extra: Value, app: &Receiver) -> String {
    let mut body = json!({ "from": CALLER, "to": to, "answer_url": app.url("/answer") });
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let res = make(s, body);
    assert_eq!(res.status, 201, "{}", res.body);
    res.json()["request_uuid"].as_str().unwrap().to_owned()
}

fn get(s: &TestServer, path: &str) -> common::Resp {
    s.plivo("GET", path, "")
}

fn form(body: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(body).unwrap()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> &'a str {
    params.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v)
}

/// What plivo-python's `validate_v3_signature` computes for a POST of `params` to `url` (no
/// query), written out independently of the server's code.
fn v3(url: &str, params: &[(String, String)], nonce: &str) -> String {
    let mut sorted = params.to_vec();
    sorted.sort();
    let joined: String = sorted.iter().map(|(k, v)| format!("{k}{v}")).collect();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, TOKEN.as_bytes());
    let tag = ring::hmac::sign(&key, format!("{url}?{joined}.{nonce}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
}

fn assert_signed(r: &common::receiver::Received, url: &str) {
    let nonce = r.header("x-plivo-signature-v3-nonce").expect("a V3 nonce");
    assert_eq!(r.header("x-plivo-signature-v3"), Some(v3(url, &form(&r.body), nonce).as_str()), "{url}");
    assert!(r.header("x-plivo-signature-v2").is_some() && r.header("x-plivo-signature-v2-nonce").is_some());
}

#[test]
fn a_call_is_refused_until_its_caller_id_is_verified_and_again_once_it_is_deleted() {
    let s = TestServer::start();
    let app = Receiver::answering(XML);
    let body = json!({ "from": CALLER, "to": CALLEE, "answer_url": app.url("/answer") });
    assert_snapshot!("call_unverified_from", make(&s, body.clone()).raw());

    s.plivo_verified(CALLER);
    let res = make(&s, body.clone());
    assert_snapshot!("call_fired", res.raw());
    let uuid = res.json()["request_uuid"].as_str().unwrap().to_owned();
    assert_snapshot!("call_live", get(&s, &format!("Call/{uuid}/?status=live")).raw());
    assert_snapshot!("call_record_while_live", get(&s, &format!("Call/{uuid}/")).raw());
    let live = get(&s, "Call/?status=live").json();
    assert_eq!(live["calls"], json!([uuid]));

    assert_eq!(s.plivo("DELETE", &format!("VerifiedCallerId/{CALLER}/"), "").status, 204);
    let again = make(&s, body);
    assert_eq!(
        (again.status, again.json()["error"].as_str().map(|e| e.starts_with("from is neither"))),
        (400, Some(true))
    );
    assert_eq!(s.answer(&uuid, json!({})).status, 200, "the call placed before goes on");
}

#[test]
fn ring_answer_and_hangup_webhooks_are_signed_and_the_record_tells_how_it_ended() {
    let s = TestServer::start();
    s.plivo_verified(CALLER);
    let (hooks, app) = (Receiver::start(200), Receiver::answering(XML));
    let (ring, hangup) = (hooks.url("/ring"), hooks.url("/hangup"));
    let uuid = fired(&s, CALLEE, json!({ "ring_url": ring, "hangup_url": hangup, "caller_name": "Support" }), &app);
    let rang = &hooks.wait_for(1)[0];
    assert_eq!((rang.target.as_str(), param(&form(&rang.body), "CallStatus")), ("/ring", "ringing"));
    assert_signed(rang, &ring);

    s.advance("3s");
    assert_eq!(s.answer(&uuid, json!({})).status, 200);
    let asked = &app.wait_for(1)[0];
    let p = form(&asked.body);
    assert_eq!(
        (param(&p, "Event"), param(&p, "CallUUID"), param(&p, "CallerName")),
        ("StartApp", uuid.as_str(), "Support")
    );
    assert_signed(asked, &app.url("/answer"));

    s.advance("42s");
    assert_eq!(s.plivo("DELETE", &format!("Call/{uuid}/"), "").status, 204);
    let ended = hooks.wait_for(2).into_iter().find(|r| r.target == "/hangup").unwrap();
    assert_signed(&ended, &hangup);
    let p = form(&ended.body);
    let got: Vec<&str> = ["CallStatus", "Duration", "HangupCauseCode", "HangupCauseName", "HangupSource", "AnswerTime"]
        .iter()
        .map(|k| param(&p, k))
        .collect();
    assert_eq!(got, ["completed", "42", "4000", "Normal Hangup", "API Request", "2026-01-01 00:00:03+00:00"]);
    assert_snapshot!("call_record", get(&s, &format!("Call/{uuid}/")).raw());
    assert_eq!(get(&s, &format!("Call/{uuid}/?status=live")).status, 404);
    assert_eq!(s.plivo("DELETE", &format!("Call/{uuid}/"), "").status, 404, "an ended call is no longer live");
}

#[test]
fn every_way_a_call_ends_has_its_hangup_cause() {
    let s = TestServer::start();
    s.plivo_verified(CALLER);
    let app = Receiver::answering(XML);
    let cause = |uuid: &str| {
        let r = get(&s, &format!("Call/{uuid}/")).json();
        (r["hangup_cause_code"].as_u64().unwrap_or(0), r["hangup_source"].as_str().unwrap_or("").to_owned())
    };
    let busy = fired(&s, "15005550003", json!({}), &app);
    let rejected = fired(&s, CALLEE, json!({}), &app);
    s.answer(&rejected, json!({ "outcome": "failed" }));
    let rings_out = fired(&s, CALLEE, json!({ "ring_timeout": 30 }), &app);
    let canceled = fired(&s, CALLEE, json!({}), &app);
    assert_eq!(s.plivo("DELETE", &format!("Request/{canceled}/"), "").status, 204);
    let limited = fired(&s, "15005550006", json!({ "time_limit": 20 }), &app);
    let talks = fired(&s, "15005550006", json!({}), &app);
    s.advance("30s");
    let hung_up = fired(&s, CALLEE, json!({}), &app);
    s.answer(&hung_up, json!({}));
    s.post_json(&format!("/_mock/calls/{hung_up}/hangup"), json!({}));
    s.advance("1m");
    assert_eq!(cause(&busy), (3010, "Callee".into()));
    assert_eq!(cause(&rejected), (3020, "Callee".into()));
    assert_eq!(cause(&rings_out), (6010, "Plivo".into()));
    assert_eq!(cause(&canceled), (1000, "API Request".into()));
    assert_eq!(cause(&limited), (6000, "Plivo".into()));
    assert_eq!(cause(&talks), (4000, "Callee".into()));
    assert_eq!(cause(&hung_up), (4000, "Callee".into()));
    assert_eq!(get(&s, &format!("Call/{limited}/")).json()["call_duration"], 20);

    // The answer XML: a Dial callerId the account may not present, XML that is not, a dead URL.
    let dial = |caller_id: &str| {
        format!("<Response><Dial callerId=\"{caller_id}\"><Number>14155550123</Number></Dial></Response>")
    };
    let cases = [
        (Receiver::answering(&dial(CALLER)), 0),
        (Receiver::answering(&dial("+14155550177")), 3030),
        (Receiver::answering("<Speak>no root</Speak>"), 8011),
    ];
    for (answers, code) in &cases {
        let uuid = fired(&s, CALLEE, json!({}), answers);
        s.answer(&uuid, json!({}));
        answers.wait_for(1);
        if *code == 0 {
            assert!(get(&s, &format!("Call/{uuid}/?status=live")).status == 200);
            continue;
        }
        common::wait_until("the call to end", || get(&s, &format!("Call/{uuid}/")).status == 200);
        assert_eq!(cause(&uuid), (*code, if *code == 3030 { "Plivo".into() } else { "Error".into() }));
    }
    let body = json!({ "from": CALLER, "to": CALLEE, "answer_url": dead_url() });
    let uuid = make(&s, body).json()["request_uuid"].as_str().unwrap().to_owned();
    s.answer(&uuid, json!({}));
    common::wait_until("the call to end", || get(&s, &format!("Call/{uuid}/")).status == 200);
    assert_eq!(cause(&uuid), (7011, "Error".into()));
    let shown = &s.get("/_mock/calls?provider=plivo&limit=1").json()["calls"][0];
    assert_eq!(shown["error"]["code"], "7011", "{shown}");
}

#[test]
fn a_transfer_reads_the_new_answer_url_and_the_list_pages_the_records() {
    let s = TestServer::start();
    s.plivo_verified(CALLER);
    let (app, moved) = (Receiver::answering(XML), Receiver::answering(XML));
    let uuid = fired(&s, CALLEE, json!({}), &app);
    s.answer(&uuid, json!({}));
    let body = json!({ "legs": "aleg", "aleg_url": moved.url("/moved"), "aleg_method": "GET" });
    let res = s.plivo("POST", &format!("Call/{uuid}/"), &body.to_string());
    assert_snapshot!("call_transferred", res.raw());
    let asked = &moved.wait_for(1)[0];
    assert!(asked.method == "GET" && asked.target.starts_with("/moved?") && asked.target.contains("Event=StartApp"));

    for to in ["14155550101", "15005550003", "14155550103", "15005550003"] {
        fired(&s, to, json!({}), &app);
        s.advance("1s");
    }
    let live = get(&s, "Call/?status=live").json()["calls"].as_array().unwrap().len();
    assert_eq!(live, 3, "the transferred call and two ringing; the busy ones ended");
    s.advance("3m");
    let first = get(&s, "Call/?limit=2");
    assert_snapshot!("call_list_first_page", first.raw());
    let page = first.json();
    assert_eq!((page["meta"]["total_count"].as_u64(), page["meta"]["next"].is_string()), (Some(5), true));
    let second = get(&s, "Call/?limit=2&offset=2").json();
    assert_eq!(second["objects"].as_array().unwrap().len(), 2);
    let busy = get(&s, "Call/?hangup_cause_code=3010").json();
    assert_eq!(busy["meta"]["total_count"], 2);
    let to = get(&s, "Call/?to_number=14155550103").json();
    assert_eq!(to["objects"][0]["to_number"], "14155550103");
    assert_eq!(get(&s, "Call/?call_direction=inbound").json()["meta"]["total_count"], 0);
    assert_eq!(
        get(&s, "Call/?end_time__gt=2026-01-01%2000:01").json()["meta"]["total_count"],
        2,
        "the two that rang out at 00:02:0x"
    );
    assert_eq!(get(&s, "Call/?status=live").json()["calls"], json!([]));
}

#[test]
fn make_call_validates_like_plivo() {
    let s = TestServer::start();
    s.plivo_verified(CALLER);
    let base = json!({ "from": CALLER, "to": CALLEE, "answer_url": "https://app.test/answer" });
    let with = |key: &str, value: Value| {
        let mut b = base.clone();
        match value {
            Value::Null => {
                b.as_object_mut().unwrap().remove(key);
            }
            v => {
                b[key] = v;
            }
        }
        b
    };
    let cases = [
        ("missing_from", with("from", Value::Null)),
        ("missing_answer_url", with("answer_url", Value::Null)),
        ("bad_answer_url", with("answer_url", json!("ftp://x"))),
        ("several_to", with("to", json!("14155550100<14155550101"))),
        ("bad_to", with("to", json!("12"))),
        ("bad_method", with("hangup_method", json!("PUT"))),
        ("bad_ring_timeout", with("ring_timeout", json!(0))),
    ];
    for (name, body) in cases {
        let res = make(&s, body);
        assert_eq!(res.status, 400, "{name}: {}", res.body);
        if matches!(name, "missing_from" | "several_to") {
            assert_snapshot!(format!("create_{name}"), res.raw());
        }
    }
    assert_eq!(get(&s, "Call/?limit=21").status, 400);
    assert_eq!(get(&s, "Call/?status=queued").status, 400);
    assert_eq!(get(&s, "Call/nope/").status, 404);
    assert_eq!(s.plivo("PUT", "Call/", "").status, 405);
}
