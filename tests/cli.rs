//! The binary itself: flags, the start-up banner, healthcheck, graceful shutdown on SIGTERM.

mod common;

use std::process::Command;
use std::time::Duration;

use common::process::{BIN, Process};

fn healthcheck(url: &str) -> std::process::Output {
    Command::new(BIN).args(["healthcheck", "--url", url]).output().unwrap()
}

#[test]
fn help_and_version_describe_the_binary() {
    let help = Command::new(BIN).arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--bind",
        "--seed",
        "--start-time",
        "--frozen-clock",
        "--fixtures",
        "--log-level",
        "--auto-answer",
        "--seven-region",
        "--plivo-otp-length",
        "healthcheck",
    ] {
        assert!(text.contains(flag), "--help mentions {flag}");
    }
    let version = Command::new(BIN).arg("--version").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&version.stdout).trim(), format!("callerid-mock {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn banner_names_each_provider_base_url_and_healthcheck_passes() {
    let mut server = Process::start(&["--seed", "1", "--frozen-clock", "--start-time", "2026-01-01T00:00:00Z"]);
    let (url, banner) = (server.url(), server.banner.clone());
    let out = healthcheck(&url);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // SIGTERM: a graceful, successful exit.
    server.term();
    let status = server.wait(Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    assert!(banner.contains(&format!("plivo    {url}/v1/Account/{{auth_id}}/")), "{banner}");
    assert!(banner.contains(&format!("twilio   {url}\n")), "{banner}");
    assert!(banner.contains(&format!("seven    {url}/api\n")), "{banner}");
    assert!(banner.contains(&format!("control  {url}/_mock/")), "{banner}");
}

#[test]
fn healthcheck_reads_the_bind_address_from_the_environment() {
    let server = Process::start(&[]);
    let port = server.addr.port();
    let out =
        Command::new(BIN).arg("healthcheck").env("CALLERID_MOCK_BIND", format!("0.0.0.0:{port}")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn healthcheck_fails_when_nothing_answers() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let out = healthcheck(&url);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unhealthy"));
}

#[test]
fn bad_flags_are_refused() {
    for args in [
        &["--start-time", "yesterday"][..],
        &["--plivo-otp-length", "3"],
        &["--bind", "nowhere"],
        &["--seven-region", "XX"],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    let out = Command::new(BIN).args(["--bind", "127.0.0.1:0", "--fixtures", "/nonexistent.json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read fixtures"));
}
