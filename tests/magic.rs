//! Magic numbers: outcomes with no control-plane call.

mod common;

use common::TestServer;
use common::receiver::Receiver;
use serde_json::json;

fn twilio_create(s: &TestServer, number: &str, callback: Option<&str>) -> common::Resp {
    let mut pairs = vec![("PhoneNumber", number)];
    pairs.extend(callback.map(|c| ("StatusCallback", c)));
    s.twilio_create(&pairs)
}

fn seven(s: &TestServer, number: &str) -> common::Resp {
    s.seven("KEY", &format!("number={}", common::encode(number)))
}

fn latest(s: &TestServer, number: &str) -> serde_json::Value {
    s.get(&format!("/_mock/codes?number={}", common::encode(number))).json()["codes"][0].clone()
}

#[test]
fn an_invalid_number_is_refused_by_every_provider() {
    let s = TestServer::start();
    assert_eq!(s.plivo_initiate("+15005550001").json()["error"], "The number +15005550001 is not a valid number");
    assert_eq!(twilio_create(&s, "+15005550001", None).json()["code"], 21401);
    assert_eq!(seven(&s, "+15005550001").json()["success"], false);
}

#[test]
fn an_already_verified_number_is_verified_in_every_account() {
    let s = TestServer::start();
    assert_eq!(s.plivo_initiate("+15005550002").json()["error"], "this number is already a verified caller ID");
    assert_eq!(s.plivo("GET", "VerifiedCallerId/+15005550002/", "").status, 200);
    assert_eq!(twilio_create(&s, "+15005550002", None).json()["code"], 21450);
    let saved = seven(&s, "+15005550002").json();
    assert_eq!((saved["success"].as_bool(), saved["voice"].as_bool()), (Some(true), Some(true)));
    assert!(saved["id"].is_u64());
}

#[test]
fn call_outcomes_happen_by_themselves() {
    let s = TestServer::start();
    let receiver = Receiver::start(200);
    for (number, status) in [("+15005550003", "busy"), ("+15005550004", "no-answer"), ("+15005550005", "failed")] {
        assert_eq!(twilio_create(&s, number, Some(&receiver.url("/cb"))).status, 200);
        let code = latest(&s, number);
        assert_eq!((code["state"].as_str(), code["call_status"].as_str()), (Some("failed"), Some(status)), "{number}");
    }
    assert_eq!(receiver.wait_for(3).len(), 3);
    assert_eq!(seven(&s, "+15005550006").json()["success"], true);
    assert_eq!(latest(&s, "+15005550006")["state"], "verified");
    assert_eq!(seven(&s, "+15005550006").json()["error"], "The sender ID is already saved.");
}

#[test]
fn the_callback_of_a_magic_number_fails_without_reaching_the_receiver() {
    let s = TestServer::start();
    let receiver = Receiver::start(200);
    let vr = twilio_create(&s, "+15005550007", Some(&receiver.url("/cb"))).json();
    s.post_json(
        &format!("/_mock/calls/{}/answer", vr["call_sid"].as_str().unwrap()),
        json!({ "digits": vr["validation_code"] }),
    );
    let journal = s.settled_callbacks();
    assert_eq!(journal["callbacks"][0]["state"], "failed");
    assert_eq!(journal["callbacks"][0]["attempts"][0]["status"], 500);
    assert!(receiver.wait_for(0).is_empty(), "the journal settled without contacting the receiver");
}

#[test]
fn a_plivo_otp_can_expire_at_once() {
    let s = TestServer::start();
    assert_eq!(s.plivo_initiate("+15005550008").status, 200);
    let (uuid, otp) = s.latest_code("+15005550008");
    let res = s.plivo("POST", &format!("VerifiedCallerId/Verification/{uuid}/"), &json!({ "otp": otp }).to_string());
    assert_eq!(res.json()["error"], "OTP has expired; initiate the verification again");
}
