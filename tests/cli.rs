//! The binary itself: flags, the start-up banner, healthcheck, graceful shutdown on SIGTERM.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_callerid-mock");

/// Starts the binary on a free port; returns it, the URL and the whole banner.
fn spawn(args: &[&str]) -> (Child, String, String) {
    let mut child = Command::new(BIN)
        .args(["--bind", "127.0.0.1:0", "--log-level", "warn"])
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut banner = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    while !banner.contains("control") {
        assert!(stdout.read_line(&mut banner).unwrap() > 0, "banner ends early: {banner}");
    }
    let url = banner.split_whitespace().nth(4).expect("a banner line").to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{banner}");
    (child, url, banner)
}

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
    let (mut child, url, banner) = spawn(&["--seed", "1", "--frozen-clock", "--start-time", "2026-01-01T00:00:00Z"]);
    let out = healthcheck(&url);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // SIGTERM: a graceful, successful exit.
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(banner.contains(&format!("plivo    {url}/v1/Account/{{auth_id}}/")), "{banner}");
    assert!(banner.contains(&format!("twilio   {url}\n")), "{banner}");
    assert!(banner.contains(&format!("seven    {url}/api\n")), "{banner}");
    assert!(banner.contains(&format!("control  {url}/_mock/")), "{banner}");
}

#[test]
fn healthcheck_reads_the_bind_address_from_the_environment() {
    let (mut child, url, _) = spawn(&[]);
    let port = addr_of(&url).port();
    let out =
        Command::new(BIN).arg("healthcheck").env("CALLERID_MOCK_BIND", format!("0.0.0.0:{port}")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    child.kill().unwrap();
    child.wait().unwrap();
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

fn addr_of(url: &str) -> SocketAddr {
    url.trim_start_matches("http://").parse().unwrap()
}

fn initiate(addr: SocketAddr, number: &str) {
    let body = format!(r#"{{"phone_number":"{number}"}}"#);
    let res = common::send(
        addr,
        "POST",
        &format!("/v1/Account/{}/VerifiedCallerId/", common::AUTH_ID),
        &[("Authorization", common::BASIC)],
        body.as_bytes(),
    );
    assert_eq!(res.status, 200, "{}", res.body);
}

fn codes(addr: SocketAddr) -> String {
    common::send(addr, "GET", "/_mock/codes", &[], b"").body
}

/// Waits until `path` holds `needle` (the saver runs after a short debounce).
fn wait_for_save(path: &std::path::Path, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !std::fs::read_to_string(path).is_ok_and(|s| s.contains(needle)) {
        assert!(Instant::now() < deadline, "{needle} never saved to {}", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn state_survives_a_kill_9_and_a_graceful_restart() {
    let dir = std::env::temp_dir().join(format!("callerid-mock-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.json");
    let state = path.to_str().unwrap();

    let (mut first, url, _) = spawn(&["--state", state, "--seed", "1"]);
    initiate(addr_of(&url), "+12025551234");
    wait_for_save(&path, "+12025551234");
    first.kill().unwrap(); // SIGKILL: no chance to save again
    first.wait().unwrap();
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).expect("the last save is whole");
    assert_eq!(saved["accounts"][0]["verifications"][0]["phone_number"], "+12025551234");

    let (mut second, url, _) = spawn(&["--state", state]);
    assert!(codes(addr_of(&url)).contains("+12025551234"), "loaded after the kill");
    initiate(addr_of(&url), "+14155552671");
    assert!(Command::new("kill").args(["-TERM", &second.id().to_string()]).status().unwrap().success());
    assert!(second.wait().unwrap().success());

    let (mut third, url, _) = spawn(&["--state", state]);
    let all = codes(addr_of(&url));
    assert!(all.contains("+12025551234") && all.contains("+14155552671"), "{all}");
    third.kill().unwrap();
    third.wait().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
