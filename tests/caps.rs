//! At `--max-state-bytes`, a verification the server acknowledges always becomes a caller ID
//! when its code is right: the room for the caller ID is held from the moment the verification is
//! issued, and past the cap the create is refused in the provider's own shape instead.

mod common;

use common::{TestServer, config};
use serde_json::json;

fn at_a_small_cap(auto_answer: bool) -> TestServer {
    TestServer::with(callerid_mock::Config { max_state_bytes: 96 << 10, auto_answer, ..config() })
}

fn number(i: usize) -> String {
    format!("+1202555{:04}", 1000 + i)
}

fn caller_ids(s: &TestServer) -> usize {
    s.get("/_mock/caller-ids?limit=1000").json()["caller_ids"].as_array().unwrap().len()
}

#[test]
fn twilio_and_seven_never_acknowledge_a_validation_that_cannot_become_a_caller_id() {
    // Twilio: the person keys the code in during the call (--auto-answer does), after the 200.
    let s = at_a_small_cap(true);
    let (mut acknowledged, mut refused) = (0, 0);
    for i in 0..200 {
        let res = s.twilio_create(&[("PhoneNumber", &number(i))]);
        match res.status {
            200 => acknowledged += 1,
            429 => {
                assert_eq!(res.json()["code"], 20429, "{}", res.body);
                refused += 1;
            }
            other => panic!("create {i}: {other} {}", res.body),
        }
        s.advance("1s");
    }
    assert!(acknowledged > 10 && refused > 0, "the cap was reached: {acknowledged} acknowledged, {refused} refused");
    assert_eq!(caller_ids(&s), acknowledged, "every acknowledged validation became a caller ID");

    // seven: the same, with its own words for the cap.
    let s = at_a_small_cap(true);
    let (mut acknowledged, mut refused) = (0, 0);
    for i in 0..200 {
        let res = s.seven(common::SEVEN_KEY, &format!("number={}", common::encode(&number(i))));
        let body = res.json();
        if body["success"] == true {
            acknowledged += 1;
        } else {
            assert!(body["error"].as_str().unwrap().contains("Limit reached"), "{body}");
            refused += 1;
        }
        s.advance("1s");
    }
    assert!(acknowledged > 10 && refused > 0, "the cap was reached: {acknowledged} acknowledged, {refused} refused");
    assert_eq!(caller_ids(&s), acknowledged, "every acknowledged validation became a caller ID");
}

#[test]
fn a_code_submitted_for_an_acknowledged_verification_is_never_refused_for_room() {
    let s = at_a_small_cap(false);
    let path = format!("/v1/Account/{}/VerifiedCallerId/", common::AUTH_ID);
    let mut acknowledged = Vec::new();
    for i in 0..200 {
        let res = s.plivo("POST", "VerifiedCallerId/", &json!({ "phone_number": number(i) }).to_string());
        match res.status {
            200 => acknowledged.push((number(i), res.json()["verification_uuid"].as_str().unwrap().to_owned())),
            429 => {}
            other => panic!("initiate {i}: {other} {}", res.body),
        }
    }
    assert!(acknowledged.len() > 10 && acknowledged.len() < 200, "the cap was reached: {}", acknowledged.len());
    for (n, uuid) in &acknowledged {
        let (_, code) = s.latest_code(n);
        let res = s.request(
            "POST",
            &format!("{path}Verification/{uuid}/"),
            &common::PLIVO_HEADERS,
            &json!({ "otp": code }).to_string(),
        );
        assert_eq!(res.status, 200, "{n}: {}", res.body);
    }
    assert_eq!(caller_ids(&s), acknowledged.len());
}
