//! Twilio OutgoingCallerIds and the validation call against a real server: snapshots of every
//! response (seed 42, frozen clock), the call's outcomes, and the signed StatusCallback.

mod common;

use common::receiver::{Receiver, dead_url};
use common::{ACCOUNT_SID, TWILIO_BASIC, TestServer, twilio_signature};
use insta::{assert_json_snapshot, assert_snapshot};
use serde_json::{Value, json};

const NUMBER: &str = "+14158675309";

fn form(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

/// Creates a ValidationRequest; returns its body.
fn create(s: &TestServer, pairs: &[(&str, &str)]) -> Value {
    let res = s.twilio("POST", "OutgoingCallerIds.json", &form(pairs));
    assert_eq!(res.status, 200, "{}", res.body);
    res.json()
}

/// Verifies `number` through a correctly answered call; returns the new PN sid.
fn verify(s: &TestServer, number: &str, friendly_name: Option<&str>) -> String {
    s.twilio_verified(number, &friendly_name.map(|f| vec![("FriendlyName", f)]).unwrap_or_default())
}

#[test]
fn a_validation_call_answered_right_creates_the_caller_id_and_calls_back_signed() {
    let s = TestServer::start();
    let receiver = Receiver::start(200);
    let callback = receiver.url("/status");

    let res = s.twilio(
        "POST",
        "OutgoingCallerIds.json",
        &form(&[("PhoneNumber", NUMBER), ("FriendlyName", "My Home Phone"), ("StatusCallback", &callback)]),
    );
    assert!(res.header("twilio-request-id").is_some_and(|id| id.len() == 34 && id.starts_with("RQ")));
    assert_snapshot!("create", res.raw());
    let vr = res.json();
    let call_sid = vr["call_sid"].as_str().unwrap();

    let codes = s.get("/_mock/codes?provider=twilio").json();
    assert_json_snapshot!("codes_pending_call", codes);

    let res = s.answer(call_sid, json!({ "digits": vr["validation_code"] }));
    assert_snapshot!("answer_right", res.raw());
    let pn = res.json()["caller_id"].as_str().unwrap().to_owned();

    let got = receiver.wait_for(1);
    let cb = &got[0];
    assert_eq!((cb.method.as_str(), cb.target.as_str()), ("POST", "/status"));
    assert_eq!(cb.header("content-type"), Some("application/x-www-form-urlencoded"));
    assert_eq!(cb.header("user-agent"), Some("TwilioProxy/1.1"));
    assert!(cb.headers.iter().any(|(k, _)| k == "X-Twilio-Signature"), "Title-Case on the wire: {:?}", cb.headers);
    assert!(cb.header("i-twilio-idempotency-token").is_some());
    let params: Vec<(String, String)> = serde_urlencoded::from_str(&cb.body).unwrap();
    assert_eq!(cb.header("x-twilio-signature"), Some(twilio_signature(&callback, &params).as_str()));
    let params: serde_json::Map<String, Value> = params.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    assert_eq!(params["OutgoingCallerIdSid"], pn.as_str());
    assert_json_snapshot!("callback_success_params", params);

    let journal = s.settled_callbacks();
    let entry = &journal["callbacks"][0];
    assert_eq!((entry["state"].as_str(), entry["attempts"][0]["status"].as_u64()), (Some("delivered"), Some(200)));
    assert_eq!(entry["verification_id"], call_sid);
}

#[test]
fn list_fetch_update_delete() {
    let s = TestServer::start();
    let pn = verify(&s, NUMBER, None);
    s.advance("1s");
    verify(&s, "+12025551234", Some("Office"));

    assert_snapshot!("list", s.twilio("GET", "OutgoingCallerIds.json", "").raw());
    let filtered = s.twilio("GET", "OutgoingCallerIds.json?PhoneNumber=%2B14158675309", "").json();
    assert_eq!(filtered["outgoing_caller_ids"].as_array().unwrap().len(), 1);
    assert_eq!(filtered["outgoing_caller_ids"][0]["friendly_name"], "(415) 867-5309");
    let by_name = s.twilio("GET", "OutgoingCallerIds.json?FriendlyName=Office", "").json();
    assert_eq!(by_name["outgoing_caller_ids"][0]["phone_number"], "+12025551234");
    assert_eq!(
        by_name["first_page_uri"],
        format!("/2010-04-01/Accounts/{ACCOUNT_SID}/OutgoingCallerIds.json?FriendlyName=Office&PageSize=50&Page=0")
    );
    let none = s.twilio("GET", "OutgoingCallerIds.json?FriendlyName=office", "").json();
    assert_eq!(none["outgoing_caller_ids"], json!([]), "filters are exact and case-sensitive");

    assert_snapshot!("fetch", s.twilio("GET", &format!("OutgoingCallerIds/{pn}.json"), "").raw());
    s.advance("1h");
    let res = s.twilio("POST", &format!("OutgoingCallerIds/{pn}.json"), "FriendlyName=New+name");
    assert_snapshot!("update", res.raw());
    // The seed: "HTTP POST or PUT: Updates the caller id" (the OpenAPI document lists only POST).
    let res = s.twilio("PUT", &format!("OutgoingCallerIds/{pn}.json"), "FriendlyName=Via%20PUT");
    assert_eq!((res.status, res.json()["friendly_name"].as_str()), (200, Some("Via PUT")));

    let res = s.twilio("DELETE", &format!("OutgoingCallerIds/{pn}.json"), "");
    assert_eq!((res.status, res.body.as_str(), res.header("content-type")), (204, "", None));
    assert_snapshot!("fetch_deleted", s.twilio("GET", &format!("OutgoingCallerIds/{pn}.json"), "").raw());
    assert_eq!(s.twilio("DELETE", &format!("OutgoingCallerIds/{pn}.json"), "").status, 404);
}

#[test]
fn paging_walks_every_record_once_by_next_page_uri() {
    let s = TestServer::start();
    let numbers = ["+14158675301", "+14158675302", "+14158675303", "+14158675304", "+14158675305"];
    for n in numbers {
        verify(&s, n, None);
        s.advance("1s");
    }
    let mut seen = Vec::new();
    let mut uri = format!("/2010-04-01/Accounts/{ACCOUNT_SID}/OutgoingCallerIds.json?PageSize=2");
    let mut pages = Vec::new();
    let mut raw = Vec::new();
    loop {
        let res = s.request("GET", &uri, &[("Authorization", TWILIO_BASIC)], "");
        raw.push(res.raw());
        let page = res.json();
        seen.extend(page["outgoing_caller_ids"].as_array().unwrap().iter().map(|c| c["phone_number"].clone()));
        pages.push(page.clone());
        match page["next_page_uri"].as_str() {
            Some(next) => uri = next.to_owned(),
            None => break,
        }
    }
    let mut expected: Vec<Value> = numbers.iter().rev().map(|n| json!(n)).collect();
    assert_eq!(seen, expected, "newest first, each once");
    assert_eq!(pages.len(), 3);
    assert_snapshot!("list_second_page", raw[1]);
    assert_eq!((pages[2]["start"].as_u64(), pages[2]["end"].as_u64()), (Some(4), Some(4)));
    // previous_page_uri leads back to the first page.
    let back = s
        .request("GET", pages[1]["previous_page_uri"].as_str().unwrap(), &[("Authorization", TWILIO_BASIC)], "")
        .json();
    assert_eq!(back["outgoing_caller_ids"], pages[0]["outgoing_caller_ids"]);
    // Page without a token works too.
    let page2 = s.twilio("GET", "OutgoingCallerIds.json?PageSize=2&Page=2", "").json();
    expected.drain(..4);
    assert_eq!(page2["outgoing_caller_ids"][0]["phone_number"], expected[0]);
}

#[test]
fn create_validates_like_twilio() {
    let s = TestServer::start();
    let long = "x".repeat(65);
    for (name, pairs) in [
        ("create_missing_number", vec![("FriendlyName", "x")]),
        ("create_invalid_number", vec![("PhoneNumber", "+1234")]),
        ("create_bad_call_delay", vec![("PhoneNumber", NUMBER), ("CallDelay", "61")]),
        ("create_long_friendly_name", vec![("PhoneNumber", NUMBER), ("FriendlyName", long.as_str())]),
        (
            "create_bad_callback_method",
            vec![("PhoneNumber", NUMBER), ("StatusCallback", "http://x/cb"), ("StatusCallbackMethod", "PUT")],
        ),
    ] {
        assert_snapshot!(name, s.twilio("POST", "OutgoingCallerIds.json", &form(&pairs)).raw());
    }
    // The unformatted US forms Twilio accepts.
    for raw in ["(415) 867-5309", "415-867-5309", "4158675309"] {
        let vr = create(&s, &[("PhoneNumber", raw)]);
        assert_eq!(vr["phone_number"], NUMBER, "{raw}");
    }
    verify(&s, NUMBER, None);
    assert_snapshot!(
        "create_already_verified",
        s.twilio("POST", "OutgoingCallerIds.json", &form(&[("PhoneNumber", NUMBER)])).raw()
    );
}

#[test]
fn auth_routes_and_formats_answer_in_twilio_shape() {
    let s = TestServer::start();
    let path = format!("/2010-04-01/Accounts/{ACCOUNT_SID}/OutgoingCallerIds.json");
    let res = s.request("GET", &path, &[], "");
    assert_eq!(res.header("www-authenticate"), Some("Basic realm=\"Twilio API\""));
    assert!(res.header("twilio-request-id").is_some());
    assert_snapshot!("unauthorized", res.raw());
    let other = "/2010-04-01/Accounts/ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb/OutgoingCallerIds.json".to_string();
    assert_eq!(s.request("GET", &other, &[("Authorization", TWILIO_BASIC)], "").status, 401);

    assert_snapshot!("list_put_not_allowed", s.twilio("PUT", "OutgoingCallerIds.json", "").raw());
    assert_eq!(s.twilio("DELETE", "OutgoingCallerIds.json", "").status, 405);
    assert_snapshot!(
        "fetch_unknown",
        s.twilio("GET", "OutgoingCallerIds/PNdeadbeefdeadbeefdeadbeefdeadbeef.json", "").raw()
    );
    assert_eq!(s.twilio("GET", "Recordings.json", "").status, 404);
    assert_snapshot!("xml_not_supported", s.twilio("GET", "OutgoingCallerIds", "").raw());
    assert_eq!(s.twilio("GET", "OutgoingCallerIds.xml", "").status, 406);
    assert_snapshot!("list_page_size_too_big", s.twilio("GET", "OutgoingCallerIds.json?PageSize=1001", "").raw());
    assert_eq!(s.twilio("GET", "OutgoingCallerIds.json?Page=-1", "").status, 400);
    let empty = s.twilio("GET", "OutgoingCallerIds.json", "").json();
    assert_eq!((empty["start"].as_u64(), empty["end"].as_u64()), (Some(0), Some(0)));
}

#[test]
fn wrong_digits_fail_the_call_and_call_back_failed() {
    let s = TestServer::start();
    let receiver = Receiver::start(204);
    let vr = create(&s, &[("PhoneNumber", NUMBER), ("StatusCallback", &receiver.url("/cb"))]);
    let wrong = if vr["validation_code"] == "000000" { "111111" } else { "000000" };
    let res = s.answer(vr["call_sid"].as_str().unwrap(), json!({ "digits": wrong }));
    assert_snapshot!("answer_wrong", res.raw());
    let params: Vec<(String, String)> = serde_urlencoded::from_str(&receiver.wait_for(1)[0].body).unwrap();
    let params: serde_json::Map<String, Value> = params.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    assert_json_snapshot!("callback_failed_params", params);
    assert_eq!(s.twilio("GET", "OutgoingCallerIds.json", "").json()["outgoing_caller_ids"], json!([]));
    // The call is over: another answer is refused.
    assert_eq!(s.answer(vr["call_sid"].as_str().unwrap(), json!({ "digits": vr["validation_code"] })).status, 409);
}

#[test]
fn busy_and_unanswered_calls_report_their_status() {
    let s = TestServer::start();
    let receiver = Receiver::start(200);
    let busy = create(&s, &[("PhoneNumber", NUMBER), ("StatusCallback", &receiver.url("/busy"))]);
    let res = s.answer(busy["call_sid"].as_str().unwrap(), json!({ "outcome": "busy" }));
    assert_eq!((res.json()["state"].as_str(), res.json()["call_status"].as_str()), (Some("failed"), Some("busy")));

    let silent = create(&s, &[("PhoneNumber", "+12025551234"), ("StatusCallback", &receiver.url("/silent"))]);
    s.advance("59s");
    assert_eq!(receiver.wait_for(1).len(), 1, "still ringing");
    s.advance("1s");
    let got = receiver.wait_for(2);
    let statuses: Vec<_> = got
        .iter()
        .map(|r| {
            let p: Vec<(String, String)> = serde_urlencoded::from_str(&r.body).unwrap();
            (r.target.clone(), p.into_iter().find(|(k, _)| k == "CallStatus").unwrap().1)
        })
        .collect();
    assert_eq!(statuses, [("/busy".to_owned(), "busy".to_owned()), ("/silent".to_owned(), "no-answer".to_owned())]);
    let code = &s.get("/_mock/codes?number=%2B12025551234").json()["codes"][0];
    assert_eq!((code["state"].as_str(), code["call_status"].as_str()), (Some("failed"), Some("no-answer")));
    assert_eq!(code["id"], silent["call_sid"]);
    for bad in
        [json!({ "outcome": "completed" }), json!({ "outcome": "x" }), json!({ "digits": "1", "outcome": "busy" })]
    {
        assert_eq!(s.answer("CAx", bad.clone()).status, 400, "{bad}");
    }
}

#[test]
fn a_delayed_call_rings_only_after_call_delay() {
    let s = TestServer::start();
    let vr = create(&s, &[("PhoneNumber", NUMBER), ("CallDelay", "30")]);
    let sid = vr["call_sid"].as_str().unwrap();
    let res = s.answer(sid, json!({ "digits": vr["validation_code"] }));
    assert_snapshot!("answer_before_ringing", res.raw());
    s.advance("30s");
    assert_eq!(s.answer(sid, json!({ "digits": vr["validation_code"] })).status, 200);
}

#[test]
fn auto_answer_verifies_when_the_call_rings() {
    let mut config = common::config();
    config.auto_answer = true;
    let s = TestServer::with(config);
    let receiver = Receiver::start(200);
    let vr = create(
        &s,
        &[
            ("PhoneNumber", NUMBER),
            ("CallDelay", "5"),
            ("StatusCallback", &receiver.url("/cb")),
            ("StatusCallbackMethod", "GET"),
        ],
    );
    assert_eq!(s.twilio("GET", "OutgoingCallerIds.json", "").json()["outgoing_caller_ids"], json!([]));
    s.advance("5s");
    let list = s.twilio("GET", "OutgoingCallerIds.json", "").json();
    assert_eq!(list["outgoing_caller_ids"][0]["phone_number"], NUMBER);
    // GET: the parameters ride in the query and the signature covers the whole URL.
    let cb = &receiver.wait_for(1)[0];
    assert_eq!(cb.method, "GET");
    assert_eq!(cb.body, "");
    let url = format!("http://127.0.0.1:{}{}", receiver.port, cb.target);
    assert_eq!(cb.header("x-twilio-signature"), Some(twilio_signature(&url, &[]).as_str()));
    assert!(cb.target.contains(&format!("CallSid={}", vr["call_sid"].as_str().unwrap())));
    assert!(cb.target.contains("VerificationStatus=success"));
}

#[test]
fn the_status_callback_is_retried_as_twilio_retries_and_journaled_without_slowing_the_api() {
    let s = TestServer::start();
    let failing = Receiver::start(500);
    let a = create(&s, &[("PhoneNumber", NUMBER), ("StatusCallback", &failing.url("/cb"))]);
    let b = create(&s, &[("PhoneNumber", "+12025551234"), ("StatusCallback", &dead_url())]);
    assert_eq!(s.answer(a["call_sid"].as_str().unwrap(), json!({ "digits": a["validation_code"] })).status, 200);
    assert_eq!(s.answer(b["call_sid"].as_str().unwrap(), json!({ "digits": b["validation_code"] })).status, 200);
    let journal = s.settled_callbacks();
    let entry =
        |sid: &Value| s.get(&format!("/_mock/callbacks?id={}", sid.as_str().unwrap())).json()["callbacks"][0].clone();
    let (to_failing, to_dead) = (entry(&a["call_sid"]), entry(&b["call_sid"]));
    assert_eq!(journal["callbacks"].as_array().unwrap().len(), 2);
    assert_eq!((to_failing["state"].as_str(), to_dead["state"].as_str()), (Some("failed"), Some("failed")));
    // By default: no retry after an HTTP error, one after a failed connection.
    assert_eq!(to_failing["attempts"].as_array().unwrap().len(), 1, "{to_failing}");
    assert_eq!(to_failing["attempts"][0]["status"], 500);
    assert_eq!(failing.received().len(), 1);
    assert_eq!(to_dead["attempts"].as_array().unwrap().len(), 2, "{to_dead}");
    let dead = &to_dead["attempts"][0];
    assert!(dead["status"].is_null() && dead["error"].as_str().unwrap().contains("connect failed"), "{dead}");
}

#[test]
fn connection_overrides_in_the_fragment_change_the_retries_and_are_never_sent() {
    let s = TestServer::start();
    let failing = Receiver::start(503);
    let url = failing.url("/cb?x=1");
    let vr = create(&s, &[("PhoneNumber", NUMBER), ("StatusCallback", &format!("{url}#rc=2&rp=5xx&ct=1000"))]);
    assert_eq!(s.answer(vr["call_sid"].as_str().unwrap(), json!({ "digits": vr["validation_code"] })).status, 200);
    let got = failing.wait_for(3);
    assert_eq!(got.len(), 3, "rc=2 with rp=5xx: two retries of a 503");
    assert!(got.iter().all(|r| r.target == "/cb?x=1"), "the fragment is not sent: {:?}", got[0].target);
    let params: Vec<(String, String)> = serde_urlencoded::from_str(&got[0].body).unwrap();
    assert_eq!(
        got[0].header("x-twilio-signature"),
        Some(twilio_signature(&url, &params).as_str()),
        "signed without it"
    );
    let entry = &s.settled_callbacks()["callbacks"][0];
    assert_eq!((entry["state"].as_str(), entry["url"].as_str()), (Some("failed"), Some(url.as_str())));
}

#[test]
fn a_receiver_that_never_answers_does_not_hold_up_the_api() {
    let s = TestServer::start();
    // Connections are accepted by the kernel, but nobody ever reads or answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/cb", silent.local_addr().unwrap());
    let vr = create(&s, &[("PhoneNumber", NUMBER), ("StatusCallback", &url)]);
    let res = s.answer(vr["call_sid"].as_str().unwrap(), json!({ "digits": vr["validation_code"] }));
    assert_eq!(res.status, 200);
    let journal = s.get("/_mock/callbacks").json();
    assert_eq!(journal["callbacks"][0]["state"], "pending", "the answer came back before the delivery did");
    assert_eq!(s.twilio("GET", "OutgoingCallerIds.json", "").json()["outgoing_caller_ids"][0]["phone_number"], NUMBER);
}

#[test]
fn answer_refuses_what_is_not_a_ringing_call() {
    let s = TestServer::start();
    assert_snapshot!("answer_unknown", s.answer("CAnope", json!({ "digits": "1" })).raw());
    let res = s.plivo("POST", "VerifiedCallerId/", r#"{"phone_number":"+12025551234"}"#);
    assert_eq!(res.status, 200);
    let (uuid, _) = s.latest_code("+12025551234");
    assert_snapshot!("answer_not_a_call", s.answer(&uuid, json!({ "digits": "1" })).raw());
}

#[test]
fn an_https_status_callback_reaches_a_receiver_with_its_own_ca_and_verifies() {
    let (receiver, ca) = Receiver::start_tls(200);
    let dir = common::process::TempDir::new("https-callback");
    std::fs::write(dir.path("receiver-ca.pem"), ca).unwrap();
    let s =
        TestServer::with(callerid_mock::Config { callback_ca: Some(dir.path("receiver-ca.pem")), ..common::config() });
    let url = receiver.url("/status");
    assert!(url.starts_with("https://localhost:"), "{url}");
    let vr = create(&s, &[("PhoneNumber", NUMBER), ("StatusCallback", &url)]);
    assert_eq!(s.answer(vr["call_sid"].as_str().unwrap(), json!({ "digits": vr["validation_code"] })).status, 200);
    let got = &receiver.wait_for(1)[0];
    let params: Vec<(String, String)> = serde_urlencoded::from_str(&got.body).unwrap();
    assert_eq!(
        got.header("x-twilio-signature"),
        Some(twilio_signature(&url, &params).as_str()),
        "signed over the https URL"
    );
    assert_eq!(s.settled_callbacks()["callbacks"][0]["state"], "delivered");

    // Without --callback-ca the receiver's certificate is not trusted: journaled, not sent.
    let s = TestServer::start();
    let vr = create(&s, &[("PhoneNumber", NUMBER), ("StatusCallback", &url)]);
    s.answer(vr["call_sid"].as_str().unwrap(), json!({ "digits": vr["validation_code"] }));
    let entry = &s.settled_callbacks()["callbacks"][0];
    assert_eq!(entry["state"], "failed", "{entry}");
    let error = entry["attempts"][0]["error"].as_str().unwrap();
    assert!(error.contains("TLS handshake failed"), "{error}");
    assert_eq!(receiver.received().len(), 1, "nothing more arrived");
}
