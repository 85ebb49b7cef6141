//! Telnyx's Call Control against a real server (seed 42, frozen clock): a dial from a number is
//! refused until it is a verified number of the account and again once it is deleted; the
//! call's status and hang-up; `call.initiated`, `call.answered` and `call.hangup` events signed
//! with the Ed25519 key `GET /_mock/keys` publishes.

mod common;

use base64::Engine as _;
use common::TestServer;
use common::receiver::Receiver;
use insta::assert_snapshot;
use serde_json::{Value, json};

const FROM: &str = "+12025551234";
const TO: &str = "+14155550100";

fn verified(s: &TestServer, number: &str) {
    let res =
        s.telnyx("POST", "verified_numbers", Some(json!({ "phone_number": number, "verification_method": "sms" })));
    assert_eq!(res.status, 200, "{}", res.body);
    let (_, code) = s.latest_code(number);
    let res = s.telnyx(
        "POST",
        &format!("verified_numbers/{number}/actions/verify"),
        Some(json!({ "verification_code": code })),
    );
    assert_eq!(res.status, 200, "{}", res.body);
}

fn dial(s: &TestServer, extra: Value) -> common::Resp {
    let mut body = json!({ "connection_id": "1494404757140276705", "to": TO, "from": FROM });
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    s.telnyx("POST", "calls", Some(body))
}

fn dialed(s: &TestServer, extra: Value) -> String {
    let res = dial(s, extra);
    assert_eq!(res.status, 200, "{}", res.body);
    res.json()["data"]["call_control_id"].as_str().unwrap().to_owned()
}

fn status(s: &TestServer, id: &str) -> Value {
    s.telnyx("GET", &format!("calls/{}", common::encode(id)), None).json()["data"].clone()
}

/// Verifies a webhook the way the SDKs' `webhooks.unwrap` does.
fn verify(key: &str, r: &common::receiver::Received) -> bool {
    let b64 = base64::engine::general_purpose::STANDARD;
    let (Some(signature), Some(timestamp)) = (r.header("telnyx-signature-ed25519"), r.header("telnyx-timestamp"))
    else {
        return false;
    };
    let (key, signature) = (b64.decode(key).unwrap(), b64.decode(signature).unwrap());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let fresh = (now - timestamp.parse::<i64>().unwrap()).abs() <= 300;
    let message = format!("{timestamp}|{}", r.body);
    let check = ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, key);
    fresh && check.verify(message.as_bytes(), &signature).is_ok()
}

#[test]
fn a_dial_is_refused_until_the_number_is_verified_and_again_once_it_is_deleted() {
    let s = TestServer::start();
    assert_snapshot!("dial_unverified_from", dial(&s, json!({})).raw());
    verified(&s, FROM);
    let res = dial(&s, json!({ "client_state": "aGk=" }));
    assert_snapshot!("dial", res.raw());
    let id = res.json()["data"]["call_control_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("v3:"), "{id}");
    let live = status(&s, &id);
    assert_eq!((live["is_alive"].as_bool(), live["client_state"].as_str()), (Some(true), Some("aGk=")));

    assert_eq!(s.answer(&id, json!({})).status, 200);
    s.advance("12s");
    let hangup = s.telnyx("POST", &format!("calls/{}/actions/hangup", common::encode(&id)), Some(json!({})));
    assert_eq!(hangup.body, r#"{"data":{"result":"ok"}}"#);
    assert_snapshot!("status_ended", s.telnyx("GET", &format!("calls/{}", common::encode(&id)), None).raw());
    let again = s.telnyx("POST", &format!("calls/{}/actions/hangup", common::encode(&id)), Some(json!({})));
    assert_eq!((again.status, again.json()["errors"][0]["code"].as_str()), (422, Some("90018")));

    assert_eq!(s.telnyx("DELETE", &format!("verified_numbers/{FROM}"), None).status, 200);
    let refused = dial(&s, json!({}));
    assert_eq!((refused.status, refused.json()["errors"][0]["code"].as_str()), (422, Some("10015")));
    assert_eq!(s.telnyx("GET", "calls/v3:nope", None).status, 404);
}

#[test]
fn the_call_events_are_signed_with_the_published_key() {
    let s = TestServer::start();
    verified(&s, FROM);
    let keys = s.get("/_mock/keys").json();
    assert_snapshot!("keys", serde_json::to_string_pretty(&keys).unwrap());
    let key = keys["keys"][0]["key"].as_str().unwrap().to_owned();

    let hooks = Receiver::start(200);
    let id = dialed(&s, json!({ "webhook_url": hooks.url("/telnyx") }));
    s.answer(&id, json!({}));
    s.advance("30s");
    s.post_json(&format!("/_mock/calls/{}/hangup", common::encode(&id)), json!({}));
    let got = hooks.wait_for(3);
    // Each event is delivered on its own (they may arrive in any order), and two may share a time.
    let events: Vec<Value> = got.iter().map(|r| serde_json::from_str(&r.body).unwrap()).collect();
    let at = |kind: &str| -> String {
        let event = events.iter().find(|e| e["data"]["event_type"] == kind).unwrap_or_else(|| panic!("{kind}"));
        event["data"]["occurred_at"].as_str().unwrap().to_owned()
    };
    let (initiated, answered, hangup) = (at("call.initiated"), at("call.answered"), at("call.hangup"));
    assert!(initiated <= answered && answered < hangup, "{initiated} {answered} {hangup}");
    for r in &got {
        assert!(verify(&key, r), "signed: {}", r.body);
        let mut forged = r.clone();
        forged.body = forged.body.replace("call.", "call_");
        assert!(!verify(&key, &forged), "a changed body fails");
    }
    let hangup = &events[2]["data"]["payload"];
    assert_eq!(
        (hangup["hangup_cause"].as_str(), hangup["hangup_source"].as_str(), hangup["call_control_id"].as_str()),
        (Some("normal_clearing"), Some("callee"), Some(id.as_str()))
    );
    assert_eq!(events[0]["meta"]["delivered_to"], hooks.url("/telnyx"));

    // Every way a call ends has its cause.
    let cause = |extra: Value, to: &str| {
        let hooks = Receiver::start(200);
        let mut extra = extra;
        extra["webhook_url"] = json!(hooks.url("/t"));
        extra["to"] = json!(to);
        let id = dialed(&s, extra);
        (hooks, id)
    };
    let (busy, _) = cause(json!({}), "+15005550003");
    let (rings_out, _) = cause(json!({ "timeout_secs": 5 }), TO);
    let (canceled, id) = cause(json!({}), TO);
    s.telnyx("POST", &format!("calls/{}/actions/hangup", common::encode(&id)), Some(json!({})));
    let (limited, _) = cause(json!({ "time_limit_secs": 30 }), "+15005550006");
    s.advance("1m");
    // Each call's events end with its hangup: initiated (and answered, for the answered one).
    for (hooks, events, want) in [
        (busy, 2, "user_busy"),
        (rings_out, 2, "timeout"),
        (canceled, 2, "originator_cancel"),
        (limited, 3, "time_limit"),
    ] {
        let got = hooks.wait_for(events);
        let last: Value = got
            .iter()
            .map(|r| serde_json::from_str::<Value>(&r.body).unwrap())
            .find(|e| e["data"]["event_type"] == "call.hangup")
            .unwrap();
        assert_eq!(last["data"]["payload"]["hangup_cause"], want);
    }
}

#[test]
fn dial_validates_like_telnyx() {
    let s = TestServer::start();
    verified(&s, FROM);
    for (name, body, code) in [
        ("missing_connection_id", json!({ "connection_id": null }), "10004"),
        ("to_not_e164", json!({ "to": "14155550100" }), "10016"),
        ("bad_webhook_url", json!({ "webhook_url": "ftp://x" }), "10003"),
        ("bad_timeout", json!({ "timeout_secs": 4 }), "10015"),
        ("several_to", json!({ "to": [TO, "+14155550101"] }), "10015"),
        ("bad_client_state", json!({ "client_state": "not base64!" }), "10015"),
    ] {
        let res = dial(&s, body);
        assert_eq!((res.status, res.json()["errors"][0]["code"].as_str()), (422, Some(code)), "{name}: {}", res.body);
        if name == "missing_connection_id" {
            assert_snapshot!("dial_missing_connection_id", res.raw());
        }
    }
    assert_eq!(dial(&s, json!({ "to": [TO] })).status, 200, "a one-number list dials it");
    assert_eq!(s.telnyx("GET", "calls", None).status, 405);
}
