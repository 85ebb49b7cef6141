//! seven.io validate_for_voice against a real server: every answer byte for byte, the DTMF
//! entry through the control plane, and the GET callback.

mod common;

use common::TestServer;
use common::receiver::Receiver;
use insta::assert_snapshot;
use serde_json::json;

const KEY: &str = "TESTKEY";
const PATH: &str = "/api/validate_for_voice";

/// A POST with a form body and `X-Api-Key`, as the PHP and Ruby SDKs send it.
fn validate(s: &TestServer, form: &str) -> common::Resp {
    s.request("POST", PATH, &[("X-Api-Key", KEY), ("Content-Type", "application/x-www-form-urlencoded")], form)
}

#[test]
fn a_new_number_gets_a_code_then_the_dtmf_entry_saves_it_and_calls_back() {
    let s = TestServer::start();
    let receiver = Receiver::start(200);
    let callback = receiver.url("/validate.php?token=abc");

    let res = validate(&s, &format!("number=491632429751&callback={}", common::encode(&callback)));
    assert_eq!(res.body, r#"{"success":true,"code":"218151","error":null}"#);
    assert_snapshot!("code_issued", res.raw());
    let code = res.json()["code"].as_str().unwrap().to_owned();
    let pending = &s.get("/_mock/codes?provider=seven").json()["codes"][0];
    assert_eq!(
        (pending["code"].as_str(), pending["channel"].as_str(), pending["account"].as_str()),
        (Some(code.as_str()), Some("call"), Some("…")),
        "the API key is the account, shown masked"
    );
    assert_eq!(pending["phone_number"], "+491632429751");

    let res = s.answer(pending["id"].as_str().unwrap(), json!({ "digits": code }));
    assert_eq!(res.json()["state"], "verified");
    let caller_id = res.json()["caller_id"].as_str().unwrap().to_owned();

    let got = receiver.wait_for(1);
    assert_eq!(got[0].method, "GET");
    assert_eq!(
        got[0].target,
        format!(
            "/validate.php?token=abc&id={caller_id}&sender=491632429751&formatted_output=%2B49+163+2429751&success=1&error=&voice=1"
        )
    );

    // The same number again: the "already saved" record, byte for byte.
    let res = validate(&s, "number=0163-2429751");
    assert_eq!(
        res.body,
        format!(
            r#"{{"id":{caller_id},"sender":"491632429751","formatted_output":"+49 163 2429751","success":true,"error":"The sender ID is already saved.","voice":true}}"#
        )
    );
    assert_snapshot!("already_saved", res.raw());
}

#[test]
fn an_invalid_number_echoes_the_input() {
    let s = TestServer::start();
    for (input, name) in [("ThisAintGonnaWork!", "invalid_number"), ("0", "invalid_zero")] {
        let res = validate(&s, &format!("number={}", common::encode(input)));
        assert_eq!(
            res.body,
            format!(
                r#"{{"id":null,"sender":"{input}","formatted_output":null,"success":false,"error":"Reception number invalid","voice":false}}"#
            )
        );
        assert_snapshot!(name, res.raw());
    }
    assert_snapshot!("missing_number", validate(&s, "").raw());
    assert_eq!(s.get("/_mock/codes").json()["codes"], json!([]));
}

#[test]
fn numbers_are_read_almost_arbitrarily() {
    let s = TestServer::start();
    for input in ["491632429751", "+491632429751", "00491632429751", "0163-2429751", "0163 2429751"] {
        assert_eq!(validate(&s, &format!("number={}", common::encode(input))).json()["success"], true, "{input}");
        let code = &s.get("/_mock/codes").json()["codes"][0];
        assert_eq!(code["phone_number"], "+491632429751", "{input}");
    }
    // Digits of another country without a prefix are read as international.
    assert_eq!(validate(&s, "number=12025551234").json()["success"], true);
    assert_eq!(s.get("/_mock/codes").json()["codes"][0]["phone_number"], "+12025551234");
}

/// Method, path and query, headers, body.
type Case<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, &'a str);

#[test]
fn every_way_of_passing_the_key_and_the_parameters_works() {
    let s = TestServer::start();
    let cases: Vec<Case> = vec![
        // @seven.io/client: JSON body, X-Api-Key.
        (
            "POST",
            PATH.to_owned(),
            vec![("X-Api-Key", KEY), ("Content-Type", "application/json")],
            r#"{"number":"491711111111"}"#,
        ),
        // sms77api (Python): everything in the query, p=key, empty body.
        ("POST", format!("{PATH}?number=491712222222&p={KEY}"), vec![], ""),
        // Go: GET, Authorization: Basic <raw key>, an empty callback.
        ("GET", format!("{PATH}?callback=&number=491713333333"), vec![("Authorization", "Basic TESTKEY")], ""),
        // Bearer token, lowercase basic, X-API-KEY.
        (
            "POST",
            PATH.to_owned(),
            vec![("Authorization", "Bearer TESTKEY"), ("Content-Type", "application/x-www-form-urlencoded")],
            "number=491714444444",
        ),
        (
            "POST",
            PATH.to_owned(),
            vec![("authorization", "basic TESTKEY"), ("Content-Type", "application/x-www-form-urlencoded")],
            "number=491715555555",
        ),
        (
            "POST",
            PATH.to_owned(),
            vec![("X-API-KEY", KEY), ("Content-Type", "application/x-www-form-urlencoded")],
            "number=491716666666&sentWith=CSharp",
        ),
        // .NET: p in the form body.
        (
            "POST",
            PATH.to_owned(),
            vec![("Content-Type", "application/x-www-form-urlencoded")],
            "p=TESTKEY&sentWith=CSharp&number=491717777777",
        ),
    ];
    for (method, path, headers, body) in &cases {
        let res = s.request(method, path, headers, body);
        assert_eq!(
            (res.status, res.json()["success"].as_bool()),
            (200, Some(true)),
            "{method} {path} {headers:?}: {}",
            res.body
        );
    }
    let codes = s.get(&format!("/_mock/codes?account={KEY}")).json();
    assert_eq!(codes["codes"].as_array().unwrap().len(), cases.len(), "all in the key's namespace");
    assert!(codes["codes"].as_array().unwrap().iter().all(|c| c["provider"] == "seven"));
}

#[test]
fn a_missing_or_bad_key_answers_900_with_http_200() {
    let s = TestServer::start();
    for headers in [vec![], vec![("X-Api-Key", "bad key!")], vec![("Authorization", "Digest x")]] {
        let res = s.request("POST", &format!("{PATH}?number=491632429751"), &headers, "");
        assert_eq!(
            (res.status, res.body.as_str(), res.header("content-type")),
            (200, "900", Some("application/json")),
            "{headers:?}"
        );
    }
    assert_eq!(s.get("/_mock/codes").json()["codes"], json!([]));
    assert_eq!(s.request("GET", "/api/sms", &[("X-Api-Key", KEY)], "").status, 404);
    assert_eq!(s.request("DELETE", PATH, &[("X-Api-Key", KEY)], "").status, 405);
}

#[test]
fn a_failed_validation_calls_nothing_back_and_says_so_in_the_journal() {
    let s = TestServer::start();
    let receiver = Receiver::start(200);
    let res = validate(&s, &format!("number=491632429751&callback={}", common::encode(&receiver.url("/cb"))));
    let code = res.json()["code"].as_str().unwrap().to_owned();
    let id = s.get("/_mock/codes").json()["codes"][0]["id"].as_str().unwrap().to_owned();
    let wrong = if code == "100000" { "100001" } else { "100000" };
    assert_eq!(s.answer(&id, json!({ "digits": wrong })).json()["state"], "failed");
    let journal = s.settled_callbacks();
    let entry = &journal["callbacks"][0];
    assert_eq!(entry["state"], "not_sent", "{entry}");
    assert_eq!(entry["attempts"][0]["error"], "not sent: validation failed (seven calls back only on success)");
    assert_eq!(
        entry["url"],
        format!(
            "{}?id=&sender=491632429751&formatted_output=%2B49+163+2429751&success=0&error=The+code+entered+was+wrong&voice=0",
            receiver.url("/cb")
        ),
        "what it would have been"
    );
    // Withheld before any attempt is queued: nothing can reach the receiver later.
    assert!(receiver.received().is_empty(), "the receiver is not called");

    // No caller ID was saved: the next request gets a new code.
    assert_eq!(validate(&s, "number=491632429751").json()["success"], true);
    let second = s.get("/_mock/codes").json()["codes"][0].clone();
    assert_eq!(second["state"], "pending");
    s.answer(second["id"].as_str().unwrap(), json!({ "outcome": "no-answer" }));
    assert_eq!(s.get("/_mock/codes").json()["codes"][0]["call_status"], "no-answer");
}

#[test]
fn auto_answer_saves_the_caller_id_without_a_control_call() {
    let mut config = common::config();
    config.auto_answer = true;
    let s = TestServer::with(config);
    assert_eq!(validate(&s, "number=491632429751").json()["success"], true);
    let res = validate(&s, "number=491632429751");
    assert_eq!(res.json()["error"], "The sender ID is already saved.");
}
