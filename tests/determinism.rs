//! Same seed, same start time, same requests: byte-identical answers.

mod common;

use common::TestServer;
use serde_json::json;

/// The requests of a small flow; returns every response body.
fn scripted_flow(s: &TestServer) -> Vec<String> {
    let mut bodies = Vec::new();
    let mut push = |r: common::Resp| bodies.push(format!("{} {}", r.status, r.body));
    push(s.plivo("POST", "VerifiedCallerId/", r#"{"phone_number":"+12025551234","alias":"a"}"#));
    let (uuid, otp) = s.latest_code("+12025551234");
    push(s.get("/_mock/codes"));
    push(s.plivo("POST", &format!("VerifiedCallerId/Verification/{uuid}/"), r#"{"otp":"x"}"#));
    s.advance("3s");
    push(s.plivo("POST", &format!("VerifiedCallerId/Verification/{uuid}/"), &json!({ "otp": otp }).to_string()));
    push(s.plivo("GET", "VerifiedCallerId/", ""));
    push(s.plivo("POST", "VerifiedCallerId/+12025551234/", r#"{"alias":"b"}"#));
    push(s.plivo("GET", "VerifiedCallerId/+12025551234/", ""));
    bodies
}

#[test]
fn same_seed_and_start_time_give_byte_identical_responses() {
    let (a, b) = (TestServer::start(), TestServer::start());
    assert_eq!(scripted_flow(&a), scripted_flow(&b));
    let mut other = common::config();
    other.seed = Some(43);
    let c = TestServer::with(other);
    assert_ne!(scripted_flow(&a), scripted_flow(&c), "another seed gives other ids");
}
