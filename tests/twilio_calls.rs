//! Twilio's Calls resource against a real server (seed 42, frozen clock): a call from a caller
//! ID is refused until it is verified and again once it is deleted; an owned number is a caller
//! ID too; the call moves on the clock and calls back each event signed; its TwiML is fetched
//! signed and `<Dial callerId>` held to the caller-ID rule; listing, paging, hang-up, cancel,
//! redirect and delete.

mod common;

use common::receiver::Receiver;
use common::{ACCOUNT_SID, TestServer, twilio_signature};
use insta::assert_snapshot;
use serde_json::{Value, json};

const CALLER: &str = "+14158675309";
const CALLEE: &str = "+14155550100";
const TWIML: &str = "<Response><Say>Hello</Say></Response>";

fn form(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

/// `POST Calls.json` with these fields.
fn place(s: &TestServer, pairs: &[(&str, &str)]) -> common::Resp {
    s.twilio("POST", "Calls.json", &form(pairs))
}

/// Places a call from `from` to [`CALLEE`] that must succeed; returns its sid.
fn placed(s: &TestServer, from: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![("To", CALLEE), ("From", from)];
    if !extra.iter().any(|(k, _)| matches!(*k, "Url" | "Twiml")) {
        pairs.push(("Twiml", TWIML));
    }
    pairs.extend_from_slice(extra);
    let res = place(s, &pairs);
    assert_eq!(res.status, 201, "{}", res.body);
    res.json()["sid"].as_str().unwrap().to_owned()
}

fn fetch(s: &TestServer, sid: &str) -> Value {
    let res = s.twilio("GET", &format!("Calls/{sid}.json"), "");
    assert_eq!(res.status, 200, "{}", res.body);
    res.json()
}

/// The form fields of a received callback.
fn params(body: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(body).unwrap()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[test]
fn a_call_is_refused_until_its_caller_id_is_verified_and_again_once_it_is_deleted() {
    let s = TestServer::start();
    let refused = place(&s, &[("To", CALLEE), ("From", CALLER), ("Twiml", TWIML)]);
    assert_snapshot!("call_unverified_from", refused.raw());

    let pn = s.twilio_verified(CALLER, &[]);
    let res = place(&s, &[("To", CALLEE), ("From", CALLER), ("Twiml", TWIML)]);
    assert_snapshot!("call_create", res.raw());
    let sid = res.json()["sid"].as_str().unwrap().to_owned();
    assert_snapshot!("call_fetch_ringing", s.twilio("GET", &format!("Calls/{sid}.json"), "").raw());

    assert_eq!(s.twilio("DELETE", &format!("OutgoingCallerIds/{pn}.json"), "").status, 204);
    let again = place(&s, &[("To", CALLEE), ("From", CALLER), ("Twiml", TWIML)]);
    assert_eq!((again.status, again.json()["code"].as_u64()), (400, Some(21210)));
    assert_eq!(fetch(&s, &sid)["status"], "ringing", "the call placed before goes on");

    // Another account's caller ID is not this account's.
    let other = "/2010-04-01/Accounts/ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/Calls.json";
    let auth = common::basic("ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "other");
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/x-www-form-urlencoded")];
    s.twilio_verified("+14158675310", &[]);
    let res = s.request("POST", other, &headers, &form(&[("To", CALLEE), ("From", "+14158675310"), ("Twiml", TWIML)]));
    assert_eq!((res.status, res.json()["code"].as_u64()), (400, Some(21210)), "{}", res.body);
}

#[test]
fn an_owned_number_is_a_caller_id_until_the_account_gives_it_up() {
    let s = TestServer::start();
    let own = json!({ "provider": "twilio", "account": ACCOUNT_SID, "number": "+1 (415) 555-0199" });
    let res = s.post_json("/_mock/numbers", own.clone());
    assert_eq!(res.status, 201, "{}", res.body);
    assert_snapshot!("owned_number", res.raw());
    assert_eq!(s.post_json("/_mock/numbers", own).status, 200, "owning it again changes nothing");
    let listed = s.get("/_mock/numbers?provider=twilio").json();
    assert_eq!(listed["numbers"].as_array().unwrap().len(), 1);
    assert_eq!(listed["numbers"][0]["number"], "+14155550199");

    placed(&s, "+14155550199", &[]);
    let q = format!("/_mock/numbers?provider=twilio&account={ACCOUNT_SID}&number=%2B14155550199");
    assert_eq!(s.request("DELETE", &q, &[], "").status, 200);
    assert_eq!(s.request("DELETE", &q, &[], "").status, 404);
    let res = place(&s, &[("To", CALLEE), ("From", "+14155550199"), ("Twiml", TWIML)]);
    assert_eq!((res.status, res.json()["code"].as_u64()), (400, Some(21210)));
}

#[test]
fn an_answered_call_fetches_its_twiml_signed_and_calls_back_every_event_signed() {
    let s = TestServer::start();
    let status = Receiver::start(200);
    let app = Receiver::answering("<Response><Dial callerId=\"+14158675309\">+14155550123</Dial></Response>");
    s.twilio_verified(CALLER, &[]);
    let (callback, url) = (status.url("/status"), app.url("/voice"));
    let sid = placed(
        &s,
        CALLER,
        &[
            ("Url", &url),
            ("StatusCallback", &callback),
            ("StatusCallbackEvent", "initiated ringing"),
            ("StatusCallbackEvent", "answered completed"),
        ],
    );
    // Both go out as the call starts ringing, and may arrive in either order.
    let got = status.wait_for(2);
    let initiated = got.iter().find(|r| param(&params(&r.body), "SequenceNumber") == Some("0")).unwrap();
    let p = params(&initiated.body);
    assert_eq!(param(&p, "CallStatus"), Some("initiated"));
    assert_eq!(initiated.header("x-twilio-signature"), Some(twilio_signature(&callback, &p).as_str()));

    let res = s.answer(&sid, json!({}));
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["state"], "in-progress");
    let document = &app.wait_for(1)[0];
    let p = params(&document.body);
    assert_eq!((param(&p, "CallSid"), param(&p, "CallStatus")), (Some(sid.as_str()), Some("in-progress")));
    assert_eq!(document.header("x-twilio-signature"), Some(twilio_signature(&url, &p).as_str()));

    s.advance("30s");
    assert_eq!(s.post_json(&format!("/_mock/calls/{sid}/hangup"), json!({})).status, 200);
    let got = status.wait_for(4);
    let mut events: Vec<Vec<(String, String)>> = got.iter().map(|r| params(&r.body)).collect();
    events.sort_by_key(|p| param(p, "SequenceNumber").unwrap().parse::<u32>().unwrap());
    let statuses: Vec<_> = events.iter().map(|p| param(p, "CallStatus").unwrap()).collect();
    assert_eq!(statuses, ["initiated", "ringing", "in-progress", "completed"]);
    let last = &events[3];
    assert_eq!(
        (param(last, "CallDuration"), param(last, "CallbackSource")),
        (Some("30"), Some("call-progress-events"))
    );
    for r in &got {
        assert_eq!(r.header("x-twilio-signature"), Some(twilio_signature(&callback, &params(&r.body)).as_str()));
    }
    let call = fetch(&s, &sid);
    assert_eq!((call["status"].as_str(), call["duration"].as_str()), (Some("completed"), Some("30")));
    assert_snapshot!("call_fetch_completed", s.twilio("GET", &format!("Calls/{sid}.json"), "").raw());

    let journal = s.settled_callbacks();
    let kinds = journal["callbacks"].as_array().unwrap().iter().filter(|c| c["call_id"] == sid.as_str()).count();
    assert_eq!(kinds, 5, "four status callbacks and the TwiML request, journaled: {journal}");
}

#[test]
fn dial_caller_id_is_held_to_the_same_rule_and_bad_twiml_ends_the_call() {
    let s = TestServer::start();
    s.twilio_verified(CALLER, &[]);
    let cases = [
        ("<Response><Dial callerId=\"+14158675309\">+14155550123</Dial></Response>", None),
        ("<Response><Dial callerId=\"+14155550100\">+14155550123</Dial></Response>", None),
        ("<Response><Dial callerId=\"+14155550177\">+14155550123</Dial></Response>", Some("13214")),
        ("<Response><Dial>", Some("12100")),
        ("<Dial/>", Some("12100")),
    ];
    for (twiml, error) in cases {
        let sid = placed(&s, CALLER, &[("Twiml", twiml)]);
        assert_eq!(s.answer(&sid, json!({})).status, 200);
        let view = s.get("/_mock/calls?provider=twilio&limit=1").json();
        let call = &view["calls"][0];
        assert_eq!(call["id"], sid.as_str());
        assert_eq!(call["error"]["code"].as_str(), error, "{twiml}: {call}");
        let state = if error.is_some() { "completed" } else { "in-progress" };
        assert_eq!(fetch(&s, &sid)["status"], state, "{twiml}");
    }
    let refused = &s.get("/_mock/calls?provider=twilio").json()["calls"][2];
    assert_snapshot!("dial_refused", serde_json::to_string_pretty(refused).unwrap());

    let app = Receiver::start(500);
    let sid = placed(&s, CALLER, &[("Url", &app.url("/voice"))]);
    assert_eq!(s.answer(&sid, json!({})).status, 200);
    common::wait_until("the call to end", || fetch(&s, &sid)["status"] == "completed");
    let call = &s.get("/_mock/calls?limit=1").json()["calls"][0];
    assert_eq!(call["error"]["code"], "11200", "{call}");
}

#[test]
fn create_validates_like_twilio() {
    let s = TestServer::start();
    s.twilio_verified(CALLER, &[]);
    let base = [("To", CALLEE), ("From", CALLER), ("Twiml", TWIML)];
    let with = |name: &str, value: &str| -> Vec<(String, String)> {
        let mut p: Vec<(String, String)> =
            base.iter().filter(|(k, _)| *k != name).map(|(k, v)| (k.to_string(), v.to_string())).collect();
        if !value.is_empty() {
            p.push((name.to_owned(), value.to_owned()));
        }
        p
    };
    let cases = [
        ("missing_to", with("To", ""), 21201),
        ("missing_from", with("From", ""), 21213),
        ("missing_url", with("Twiml", ""), 21205),
        ("invalid_to", with("To", "12"), 21211),
        ("invalid_from", with("From", "abc"), 21212),
        ("bad_event", with("StatusCallbackEvent", "rang"), 21626),
        ("bad_method", with("Method", "PUT"), 22106),
        ("bad_timeout", with("Timeout", "0"), 21218),
        ("bad_url", [with("Twiml", ""), vec![("Url".into(), "ftp://x".into())]].concat(), 21205),
    ];
    for (name, pairs, code) in cases {
        let res = s.twilio("POST", "Calls.json", &serde_urlencoded::to_string(&pairs).unwrap());
        assert_eq!((res.status, res.json()["code"].as_u64()), (400, Some(code)), "{name}: {}", res.body);
        if matches!(name, "missing_to" | "bad_event") {
            assert_snapshot!(format!("create_{name}"), res.raw());
        }
    }
}

#[test]
fn the_callee_is_busy_rings_out_or_fails_and_the_ring_timeout_is_honoured() {
    let s = TestServer::start();
    s.twilio_verified(CALLER, &[]);
    let to = |to: &str, extra: &[(&str, &str)]| {
        let mut pairs = vec![("To", to), ("From", CALLER), ("Twiml", TWIML)];
        pairs.extend_from_slice(extra);
        let res = place(&s, &pairs);
        assert_eq!(res.status, 201, "{}", res.body);
        res.json()["sid"].as_str().unwrap().to_owned()
    };
    let busy = to("+15005550003", &[]);
    let fails = to("+15005550005", &[]);
    let unanswered = to(CALLEE, &[("Timeout", "15")]);
    let answers = to("+15005550006", &[]);
    assert_eq!(fetch(&s, &busy)["status"], "busy");
    assert_eq!(fetch(&s, &fails)["status"], "failed");
    assert_eq!(fetch(&s, &answers)["status"], "ringing");
    s.advance("5s");
    assert_eq!(fetch(&s, &answers)["status"], "in-progress", "the magic number picks up after --ring-time");
    s.advance("10s");
    assert_eq!(fetch(&s, &unanswered)["status"], "no-answer");
    s.advance("55s");
    let done = fetch(&s, &answers);
    assert_eq!((done["status"].as_str(), done["duration"].as_str()), (Some("completed"), Some("60")));

    let limited = to("+15005550006", &[("TimeLimit", "20")]);
    s.advance("25s");
    assert_eq!(fetch(&s, &limited)["duration"], "20", "TimeLimit ends the call");
}

#[test]
fn hang_up_cancel_redirect_and_delete() {
    let s = TestServer::start();
    let app = Receiver::answering("<Response><Say>Moved</Say></Response>");
    s.twilio_verified(CALLER, &[]);
    let update = |sid: &str, pairs: &[(&str, &str)]| s.twilio("POST", &format!("Calls/{sid}.json"), &form(pairs));

    let ringing = placed(&s, CALLER, &[]);
    let res = update(&ringing, &[("Status", "canceled")]);
    assert_eq!((res.status, res.json()["status"].as_str()), (200, Some("canceled")));
    assert_eq!(update(&ringing, &[("Status", "completed")]).json()["status"], "canceled", "an ended call stays");

    let answered = placed(&s, CALLER, &[]);
    s.answer(&answered, json!({}));
    assert_eq!(update(&answered, &[("Status", "canceled")]).json()["status"], "in-progress", "cancel spares it");
    let res = update(&answered, &[("Url", &app.url("/moved")), ("Method", "GET")]);
    assert_eq!(res.status, 200, "{}", res.body);
    let fetched = &app.wait_for(1)[0];
    assert_eq!(fetched.method, "GET");
    assert!(fetched.target.starts_with("/moved?") && fetched.target.contains(&format!("CallSid={answered}")));
    assert_snapshot!("delete_live", s.twilio("DELETE", &format!("Calls/{answered}.json"), "").raw());
    s.advance("7s");
    let res = update(&answered, &[("Status", "completed")]);
    assert_eq!((res.json()["status"].as_str(), res.json()["duration"].as_str()), (Some("completed"), Some("7")));
    assert_snapshot!("redirect_ended", update(&answered, &[("Twiml", TWIML)]).raw());
    assert_snapshot!("update_bad_status", update(&answered, &[("Status", "busy")]).raw());

    let res = s.twilio("DELETE", &format!("Calls/{answered}.json"), "");
    assert_eq!((res.status, res.body.as_str()), (204, ""));
    assert_eq!(s.twilio("GET", &format!("Calls/{answered}.json"), "").status, 404);
    assert_eq!(update("CAdeadbeefdeadbeefdeadbeefdeadbeef", &[("Status", "completed")]).status, 404);
}

#[test]
fn the_list_filters_and_pages_like_the_caller_id_list() {
    let s = TestServer::start();
    s.twilio_verified(CALLER, &[]);
    let mut sids = Vec::new();
    for to in ["+14155550101", "+15005550003", "+14155550103", "+15005550003", "+14155550105"] {
        let res = place(&s, &[("To", to), ("From", CALLER), ("Twiml", TWIML)]);
        sids.push(res.json()["sid"].as_str().unwrap().to_owned());
        s.advance("1s");
    }
    sids.reverse();
    let first = s.twilio("GET", "Calls.json?PageSize=2", "");
    assert_snapshot!("list_first_page", first.raw());
    let mut seen = Vec::new();
    let mut page = first.json();
    loop {
        seen.extend(page["calls"].as_array().unwrap().iter().map(|c| c["sid"].as_str().unwrap().to_owned()));
        let Some(next) = page["next_page_uri"].as_str() else { break };
        let path = next.split_once(&format!("/Accounts/{ACCOUNT_SID}/")).unwrap().1;
        page = s.twilio("GET", path, "").json();
    }
    assert_eq!(seen, sids, "newest first, each once");

    let busy = s.twilio("GET", "Calls.json?Status=busy", "").json();
    assert_eq!(busy["calls"].as_array().unwrap().len(), 2);
    let to = s.twilio("GET", "Calls.json?To=%2B14155550103", "").json();
    assert_eq!(to["calls"][0]["sid"], sids[2].as_str());
    assert!(to["uri"].as_str().unwrap().contains("To=%2B14155550103&PageSize=50&Page=0"), "{to}");
    let day = s.twilio("GET", "Calls.json?StartTime=2026-01-01&From=%2B14158675309", "").json();
    assert_eq!(day["calls"].as_array().unwrap().len(), 5);
    let later = s.twilio("GET", "Calls.json?StartTime%3E=2026-01-02", "").json();
    assert_eq!(later["calls"], json!([]));
    assert_eq!(s.twilio("GET", "Calls.json?Status=rang", "").status, 400);
    assert_eq!(s.twilio("GET", "Calls.json?PageToken=PAnope", "").status, 400);
}

#[test]
fn auto_answer_picks_up_after_the_ring_time_and_a_callback_fault_fails_a_status_callback() {
    let s = TestServer::with(callerid_mock::Config {
        auto_answer: true,
        ring_time: std::time::Duration::from_secs(3),
        ..common::config()
    });
    let own = json!({ "provider": "twilio", "account": ACCOUNT_SID, "number": CALLER });
    assert_eq!(s.post_json("/_mock/numbers", own).status, 201);
    let status = Receiver::start(200);
    let fault = json!({ "operation": "callback", "provider": "twilio", "action": "error", "status": 503, "times": 1 });
    assert_eq!(s.post_json("/_mock/faults", fault).status, 201);
    let sid = placed(&s, CALLER, &[("StatusCallback", &status.url("/status"))]);
    s.advance("2s");
    assert_eq!(fetch(&s, &sid)["status"], "ringing");
    s.advance("1s");
    assert_eq!(fetch(&s, &sid)["status"], "in-progress", "--auto-answer picks up after --ring-time");
    s.advance("60s");
    let journal = s.settled_callbacks();
    let completed = journal["callbacks"].as_array().unwrap().iter().find(|c| c["call_id"] == sid.as_str()).unwrap();
    assert_eq!(
        (completed["state"].as_str(), completed["params"]["CallStatus"].as_str()),
        (Some("failed"), Some("completed"))
    );
    assert!(status.received().is_empty(), "the fault failed it without reaching the receiver");
}
