//! `--strict-auth`: only accounts and tokens declared in fixtures pass; a wrong token is the
//! provider's 401, another account's path the provider's 403. By default anything well formed
//! passes (the other test files run that way).

mod common;

use common::TestServer;
use insta::assert_snapshot;

const PLIVO_A: &str = "MAAAAAAAAAAAAAAAAAAA";
const PLIVO_B: &str = "MABBBBBBBBBBBBBBBBBB";
const TWILIO_A: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const TWILIO_B: &str = "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn strict_server() -> TestServer {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("callerid-mock-auth-{}-{n}.json", std::process::id()));
    std::fs::write(
        &path,
        format!(
            r#"{{"accounts": [
        {{"provider": "plivo", "account": "{PLIVO_A}", "auth_token": "tokenA"}},
        {{"provider": "plivo", "account": "{PLIVO_B}", "auth_token": "tokenB"}},
        {{"provider": "twilio", "account": "{TWILIO_A}", "auth_token": "tokenA"}},
        {{"provider": "twilio", "account": "{TWILIO_B}", "auth_token": "tokenB"}},
        {{"provider": "seven", "account": "SEVENKEY"}}
    ]}}"#
        ),
    )
    .unwrap();
    let mut config = common::config();
    config.fixtures = Some(path);
    config.strict_auth = true;
    TestServer::with(config)
}

fn plivo_list(s: &TestServer, path_account: &str, user: &str, token: &str) -> common::Resp {
    s.request(
        "GET",
        &format!("/v1/Account/{path_account}/VerifiedCallerId/"),
        &[("Authorization", &common::basic(user, token))],
        "",
    )
}

fn twilio_list(s: &TestServer, path_account: &str, user: &str, token: &str) -> common::Resp {
    s.request(
        "GET",
        &format!("/2010-04-01/Accounts/{path_account}/OutgoingCallerIds.json"),
        &[("Authorization", &common::basic(user, token))],
        "",
    )
}

fn seven(s: &TestServer, key: &str) -> common::Resp {
    s.seven(key, "number=491632429751")
}

#[test]
fn plivo_accepts_only_declared_accounts_with_their_token() {
    let s = strict_server();
    assert_eq!(plivo_list(&s, PLIVO_A, PLIVO_A, "tokenA").status, 200);
    assert_eq!(plivo_list(&s, PLIVO_A, PLIVO_A, "wrong").status, 401);
    assert_eq!(plivo_list(&s, "MAUNKNOWNXXXXXXXXXXX", "MAUNKNOWNXXXXXXXXXXX", "x").status, 401);
    assert_snapshot!("plivo_cross_account", plivo_list(&s, PLIVO_A, PLIVO_B, "tokenB").raw());
}

#[test]
fn twilio_accepts_only_declared_accounts_with_their_token() {
    let s = strict_server();
    assert_eq!(twilio_list(&s, TWILIO_A, TWILIO_A, "tokenA").status, 200);
    let wrong = twilio_list(&s, TWILIO_A, TWILIO_A, "wrong");
    assert_eq!((wrong.status, wrong.json()["code"].as_u64()), (401, Some(20003)));
    assert_snapshot!("twilio_cross_account", twilio_list(&s, TWILIO_A, TWILIO_B, "tokenB").raw());
}

#[test]
fn seven_accepts_only_declared_keys() {
    let s = strict_server();
    assert_eq!(seven(&s, "SEVENKEY").json()["success"], true);
    assert_eq!(seven(&s, "OTHERKEY").body, "900");
}

#[test]
fn a_reset_keeps_the_declared_credentials() {
    let s = strict_server();
    s.request("POST", "/_mock/reset", &[], "");
    assert_eq!(plivo_list(&s, PLIVO_A, PLIVO_A, "tokenA").status, 200);
    assert_eq!(plivo_list(&s, PLIVO_A, PLIVO_A, "wrong").status, 401);
    assert_eq!(seven(&s, "SEVENKEY").json()["success"], true);
}

#[test]
fn lenient_by_default_any_well_formed_credentials_of_the_named_account_pass() {
    let s = TestServer::start();
    assert_eq!(plivo_list(&s, "MAUNKNOWNXXXXXXXXXXX", "MAUNKNOWNXXXXXXXXXXX", "anything").status, 200);
    assert_eq!(plivo_list(&s, PLIVO_A, PLIVO_B, "x").status, 401, "the user name must be the path's account");
    assert_eq!(seven(&s, "ANYKEY").json()["success"], true);
}
