//! SignalWire Verified Caller IDs against a real server: every answer byte for byte (raw
//! snapshots), the whole lifecycle, the redial limits, paging, and every error in SignalWire's
//! shapes.

mod common;

use common::{Resp, TestServer};
use insta::assert_snapshot;
use serde_json::{Value, json};

fn create(s: &TestServer, number: &str) -> Resp {
    s.signalwire("POST", "verified_caller_ids", Some(json!({ "number": number, "name": "Front desk" })))
}

fn submit(s: &TestServer, id: &str, code: &str) -> Resp {
    s.signalwire("PUT", &format!("verified_caller_ids/{id}/verification"), Some(json!({ "verification_code": code })))
}

fn redial(s: &TestServer, id: &str) -> Resp {
    s.signalwire("POST", &format!("verified_caller_ids/{id}/verification"), None)
}

fn wrong(code: &str) -> &'static str {
    if code == "000000" { "111111" } else { "000000" }
}

/// Creates and verifies `number`; its id.
fn verified(s: &TestServer, number: &str) -> String {
    let id = create(s, number).json()["id"].as_str().unwrap().to_owned();
    let (_, code) = s.latest_code(number);
    assert_eq!(submit(s, &id, &code).status, 200);
    id
}

#[test]
fn deleting_a_record_that_awaits_its_code_ends_the_code_too() {
    let s = TestServer::start();
    let id = create(&s, "+12025551234").json()["id"].as_str().unwrap().to_owned();
    let (_, code) = s.latest_code("+12025551234");
    assert_eq!(s.signalwire("DELETE", &format!("verified_caller_ids/{id}"), None).status, 204);
    let sent = &s.get("/_mock/codes?provider=signalwire").json()["codes"][0];
    assert_eq!(sent["state"], "failed", "no code is left pending for a record that is gone: {sent}");
    assert_eq!(submit(&s, &id, &code).status, 404);
    // A new record of the number starts afresh.
    let again = create(&s, "+12025551234").json()["id"].as_str().unwrap().to_owned();
    let (_, code) = s.latest_code("+12025551234");
    assert_eq!(submit(&s, &again, &code).status, 200);
}

#[test]
fn a_caller_id_awaits_its_code_is_verified_renamed_listed_and_deleted() {
    let s = TestServer::start();
    let res = create(&s, "+12025551234");
    assert_snapshot!("created", res.raw());
    let created = res.json();
    assert_eq!(
        (created["status"].as_str(), created["verified"].as_bool()),
        (Some("Awaiting Verification"), Some(false))
    );
    let id = created["id"].as_str().unwrap().to_owned();

    // The verification call reads the code at once; the application submits it.
    let sent = &s.get("/_mock/codes?provider=signalwire").json()["codes"][0];
    assert_eq!((sent["channel"].as_str(), sent["state"].as_str()), (Some("call"), Some("pending")));
    assert_eq!(sent["account"], common::SIGNALWIRE_PROJECT);
    let code = sent["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 6);

    // Listed and found while it awaits, but not a caller ID a call may present.
    assert_eq!(s.signalwire("GET", &format!("verified_caller_ids/{id}"), None).body, res.body);
    assert_snapshot!("wrong_code", submit(&s, &id, wrong(&code)).raw());
    let res = submit(&s, &id, &code);
    assert_snapshot!("verified", res.raw());
    assert_eq!(res.json()["id"], id.as_str(), "the record keeps its id when verified");
    assert_snapshot!("verified_again", submit(&s, &id, &code).raw());
    assert_eq!(s.signalwire("GET", &format!("verified_caller_ids/{id}"), None).body, res.body);

    let res = s.signalwire("PUT", &format!("verified_caller_ids/{id}"), Some(json!({ "name": "Reception" })));
    assert_snapshot!("renamed", res.raw());
    assert_eq!(res.json()["verified_at"], created_verified_at(&s, &id), "a rename keeps verified_at");

    let res = s.signalwire("DELETE", &format!("verified_caller_ids/{id}"), None);
    assert_snapshot!("deleted", res.raw());
    assert_snapshot!("not_found", s.signalwire("GET", &format!("verified_caller_ids/{id}"), None).raw());
    for (method, path) in
        [("DELETE", format!("verified_caller_ids/{id}")), ("PUT", format!("verified_caller_ids/{id}/verification"))]
    {
        assert_eq!(
            s.signalwire(method, &path, Some(json!({ "verification_code": "1" }))).status,
            404,
            "{method} {path}"
        );
    }
}

fn created_verified_at(s: &TestServer, id: &str) -> Value {
    s.signalwire("GET", &format!("verified_caller_ids/{id}"), None).json()["verified_at"].clone()
}

#[test]
fn the_list_pages_newest_first_with_links_the_sdk_follows() {
    let s = TestServer::start();
    for (i, number) in ["+12025551231", "+12025551232", "+12025551233"].iter().enumerate() {
        if i == 1 {
            verified(&s, number);
        } else {
            assert_eq!(create(&s, number).status, 201);
        }
        s.advance("1s");
    }
    let first = s.signalwire("GET", "verified_caller_ids?page_size=2", None);
    assert_snapshot!("list_page_1", first.raw());
    let first = first.json();
    let numbers =
        |page: &Value| page["data"].as_array().unwrap().iter().map(|c| c["number"].clone()).collect::<Vec<_>>();
    assert_eq!(numbers(&first), [json!("+12025551233"), json!("+12025551232")]);
    let next = first["links"]["next"].as_str().unwrap();
    assert!(next.starts_with("/api/relay/rest/verified_caller_ids?page_size=2&page_token=PA"), "{next}");
    let second = s.signalwire("GET", next.trim_start_matches("/api/relay/rest/"), None).json();
    assert_eq!(numbers(&second), [json!("+12025551231")]);
    assert!(second["links"].get("next").is_none(), "the last page has no next link");
    let prev = second["links"]["prev"].as_str().unwrap();
    let back = s.signalwire("GET", prev.trim_start_matches("/api/relay/rest/"), None).json();
    assert_eq!(numbers(&back), numbers(&first), "prev goes back a page");

    assert_eq!(s.signalwire("GET", "verified_caller_ids", None).json()["data"].as_array().unwrap().len(), 3);
    assert_snapshot!("bad_page_size", s.signalwire("GET", "verified_caller_ids?page_size=0", None).raw());
    assert_eq!(s.signalwire("GET", "verified_caller_ids?page_token=PAnope", None).status, 422);
}

#[test]
fn a_redial_sends_a_new_code_at_most_once_a_minute_and_ten_times_a_week() {
    let s = TestServer::start();
    let id = create(&s, "+12025551234").json()["id"].as_str().unwrap().to_owned();
    let (_, first) = s.latest_code("+12025551234");
    assert_snapshot!("redial_too_soon", redial(&s, &id).raw());

    s.advance("60s");
    let res = redial(&s, &id);
    assert_snapshot!("redialed", res.raw());
    let (_, second) = s.latest_code("+12025551234");
    assert_eq!(s.get("/_mock/codes?number=%2B12025551234").json()["codes"][1]["state"], "superseded");
    if first != second {
        assert_eq!(submit(&s, &id, &first).status, 422, "the first call's code no longer works");
    }
    // Ten calls a week: the create and nine redials.
    for _ in 0..8 {
        s.advance("61s");
        assert_eq!(redial(&s, &id).status, 200);
    }
    s.advance("61s");
    assert_snapshot!("redial_limit", redial(&s, &id).raw());
    s.advance("7d");
    assert_eq!(redial(&s, &id).status, 200, "a week after the first call, calls are allowed again");
    let (_, code) = s.latest_code("+12025551234");
    assert_eq!(submit(&s, &id, &code).json()["status"], "Verified");
    assert_snapshot!("redial_verified", redial(&s, &id).raw());
}

#[test]
fn five_wrong_codes_need_a_redial_and_an_unanswered_call_too() {
    let s = TestServer::start();
    let id = create(&s, "+12025551234").json()["id"].as_str().unwrap().to_owned();
    let (_, code) = s.latest_code("+12025551234");
    for left in (0..5).rev() {
        let res = submit(&s, &id, wrong(&code));
        assert_eq!(res.status, 422);
        if left == 0 {
            assert_snapshot!("too_many_wrong_codes", res.raw());
        }
    }
    assert_eq!(submit(&s, &id, &code).json()["errors"][0]["code"], "verification_failed", "even the right code");
    s.advance("60s");
    assert_eq!(redial(&s, &id).status, 200);
    let (_, code) = s.latest_code("+12025551234");
    assert_eq!(submit(&s, &id, &code).status, 200);

    // A busy line: the call fails, and the code cannot be submitted until a redial.
    let busy = create(&s, "+15005550003").json()["id"].as_str().unwrap().to_owned();
    s.advance("1s");
    let (_, code) = s.latest_code("+15005550003");
    assert_eq!(submit(&s, &busy, &code).json()["errors"][0]["code"], "verification_failed");
    // An expired code.
    let late = create(&s, "+12025551299").json()["id"].as_str().unwrap().to_owned();
    let (_, code) = s.latest_code("+12025551299");
    s.advance("11m");
    assert_snapshot!("expired", submit(&s, &late, &code).raw());
}

#[test]
fn requests_are_refused_in_signalwires_shapes() {
    let s = TestServer::start();
    let no_auth = s.request("GET", "/api/relay/rest/verified_caller_ids", &[], "");
    assert_snapshot!("unauthorized", no_auth.raw());
    assert_snapshot!("missing_number", s.signalwire("POST", "verified_caller_ids", Some(json!({}))).raw());
    assert_snapshot!(
        "invalid_number",
        s.signalwire("POST", "verified_caller_ids", Some(json!({ "number": "2025551234" }))).raw()
    );
    let bad_json = s.request(
        "POST",
        "/api/relay/rest/verified_caller_ids",
        &[("Authorization", &common::basic(common::SIGNALWIRE_PROJECT, "t")), ("Content-Type", "application/json")],
        "{nope",
    );
    assert_snapshot!("bad_json", bad_json.raw());
    assert_snapshot!("method_not_allowed", s.signalwire("PATCH", "verified_caller_ids", None).raw());
    assert_snapshot!("no_route", s.signalwire("GET", "phone_numbers", None).raw());
    let ext = json!({ "number": "+12025551234", "extension": "12x" });
    assert_eq!(s.signalwire("POST", "verified_caller_ids", Some(ext)).status, 422);

    // A number already asked for, and a magic number that is verified everywhere.
    assert_eq!(create(&s, "+12025551234").status, 201);
    assert_snapshot!("taken", create(&s, "+12025551234").raw());
    assert_eq!(create(&s, "+15005550002").json()["errors"][0]["code"], "number_taken");
    assert_eq!(create(&s, "+15005550001").json()["errors"][0]["code"], "invalid_parameter");

    // Each project is its own namespace.
    let other = [("Authorization", common::basic("other-project", "t"))];
    let listed = s.request("GET", "/api/relay/rest/verified_caller_ids", &[(other[0].0, other[0].1.as_str())], "");
    assert_eq!(listed.json()["data"], json!([]));
}

#[test]
fn an_awaiting_record_survives_export_and_import_and_can_still_be_verified() {
    let s = TestServer::start();
    let id = create(&s, "+12025551234").json()["id"].as_str().unwrap().to_owned();
    verified(&s, "+12025551235");
    let listed = s.get("/_mock/caller-ids?provider=signalwire").json();
    let flags: Vec<Value> = listed["caller_ids"].as_array().unwrap().iter().map(|c| c["verified"].clone()).collect();
    assert_eq!(flags, [Value::Null, json!(false)], "the control plane marks only the awaiting record");
    let state = s.get("/_mock/state").json();
    let callers = &state["accounts"][0]["caller_ids"];
    let awaiting: Vec<&Value> = callers.as_array().unwrap().iter().filter(|c| c["awaiting"] == true).collect();
    assert_eq!(awaiting.len(), 1, "{callers}");
    assert_eq!(awaiting[0]["phone_number"], "+12025551234");

    let copy = TestServer::start();
    let res = copy.request("PUT", "/_mock/state", &[("Content-Type", "application/json")], &state.to_string());
    assert_eq!(res.status, 200, "{}", res.body);
    let got = copy.signalwire("GET", &format!("verified_caller_ids/{id}"), None).json();
    assert_eq!(got["status"], "Awaiting Verification");
    let (_, code) = copy.latest_code("+12025551234");
    assert_eq!(submit(&copy, &id, &code).json()["status"], "Verified");
    assert_eq!(copy.signalwire("GET", "verified_caller_ids", None).json()["data"][1]["status"], "Verified");
}
