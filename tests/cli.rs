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
    assert!(banner.contains(&format!("plivo      {url}/v1/Account/{{auth_id}}/")), "{banner}");
    assert!(banner.contains(&format!("twilio     {url}\n")), "{banner}");
    assert!(banner.contains(&format!("seven      {url}/api\n")), "{banner}");
    assert!(banner.contains(&format!("signalwire {url}/api/relay/rest\n")), "{banner}");
    assert!(banner.contains(&format!("control    {url}/_mock/")), "{banner}");
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

#[test]
fn ca_prints_where_the_ca_is_kept_and_the_certificate_and_keeps_it() {
    let dir = common::process::TempDir::new("cli-ca");
    let ca_dir = dir.path("ca");
    let run = || Command::new(BIN).args(["ca", "--ca-dir"]).arg(&ca_dir).output().unwrap();
    let first = run();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let text = String::from_utf8_lossy(&first.stdout).into_owned();
    assert_eq!(text.lines().next(), Some(format!("# {}", ca_dir.join("ca.pem").display()).as_str()));
    assert!(text.contains("-----BEGIN CERTIFICATE-----"), "{text}");
    assert_eq!(String::from_utf8_lossy(&run().stdout), text, "the same CA the next time");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(ca_dir.join("ca-key.pem")).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    // A server with that --ca-dir serves the same certificate.
    let server = Process::start(&["--ca-dir", ca_dir.to_str().unwrap()]);
    let served = common::send(server.addr, "GET", "/_mock/ca.pem", &[], b"");
    assert!(text.ends_with(&served.body), "{}", served.body);
}

#[test]
fn a_new_providers_domain_never_silently_replaces_the_kept_ca() {
    let dir = common::process::TempDir::new("cli-ca-renew");
    let ca_dir = dir.path("ca");
    let run = |extra: &[&str]| Command::new(BIN).args(["ca", "--ca-dir"]).arg(&ca_dir).args(extra).output().unwrap();
    let first = run(&[]);
    // As if the CA had been made before the last provider was added: its domains file lacks one.
    let domains = std::fs::read_to_string(ca_dir.join("ca-domains")).unwrap();
    let mut lines: Vec<&str> = domains.lines().collect();
    let last_domain = lines.iter().rposition(|l| !l.starts_with('!')).unwrap();
    let dropped = lines.remove(last_domain);
    std::fs::write(ca_dir.join("ca-domains"), lines.join("\n") + "\n").unwrap();
    let after = run(&[]);
    assert_eq!(after.stdout, first.stdout, "the same CA: nothing trusted is replaced");
    let warning = String::from_utf8_lossy(&after.stderr);
    assert!(warning.contains(dropped) && warning.contains("callerid-mock ca --renew"), "{warning}");
    let renewed = run(&["--renew"]);
    assert!(renewed.status.success() && renewed.stderr.is_empty(), "{}", String::from_utf8_lossy(&renewed.stderr));
    assert_ne!(renewed.stdout, first.stdout, "a new CA when asked");
    assert_eq!(std::fs::read_to_string(ca_dir.join("ca-domains")).unwrap(), domains);
    assert_eq!(run(&[]).stdout, renewed.stdout, "and it is kept in turn");
}

#[test]
fn a_ca_kept_from_before_ip_addresses_were_excluded_is_told_to_renew() {
    let dir = common::process::TempDir::new("cli-ca-ip");
    let ca_dir = dir.path("ca");
    let run = |extra: &[&str]| Command::new(BIN).args(["ca", "--ca-dir"]).arg(&ca_dir).args(extra).output().unwrap();
    let first = run(&[]);
    assert!(first.stderr.is_empty(), "{}", String::from_utf8_lossy(&first.stderr));
    let domains = std::fs::read_to_string(ca_dir.join("ca-domains")).unwrap();
    let older: String = domains.lines().filter(|l| !l.starts_with('!')).map(|l| format!("{l}\n")).collect();
    std::fs::write(ca_dir.join("ca-domains"), older).unwrap();
    let after = run(&[]);
    assert_eq!(after.stdout, first.stdout, "the same CA: nothing trusted is replaced");
    let warning = String::from_utf8_lossy(&after.stderr);
    assert!(warning.contains("exclusion of IP addresses") && warning.contains("--renew"), "{warning}");
    assert!(run(&["--renew"]).stderr.is_empty());
}

#[test]
fn env_prints_the_lines_that_route_sdks_through_the_running_server() {
    let dir = common::process::TempDir::new("cli-env");
    let ca_dir = dir.path("ca");
    let server = Process::start(&["--ca-dir", ca_dir.to_str().unwrap()]);
    let out = Command::new(BIN).args(["env", "--url", &server.url(), "--dir"]).arg(dir.path("env")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let env = dir.path("env");
    for line in [
        format!("export HTTPS_PROXY='{}'", server.url()),
        format!("export HTTP_PROXY='{}'", server.url()),
        "export NO_PROXY='localhost,127.0.0.1,::1'".to_owned(),
        format!("export SSL_CERT_FILE='{}'", env.join("bundle.pem").display()),
        format!("export REQUESTS_CA_BUNDLE='{}'", env.join("bundle.pem").display()),
        format!("export NODE_EXTRA_CA_CERTS='{}'", env.join("ca.pem").display()),
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
    }
    let ca = std::fs::read_to_string(env.join("ca.pem")).unwrap();
    assert_eq!(ca, std::fs::read_to_string(ca_dir.join("ca.pem")).unwrap(), "the server's CA");
    assert!(std::fs::read_to_string(env.join("bundle.pem")).unwrap().ends_with(&ca), "the bundle ends with it");
    assert!(env.join("python/sitecustomize.py").exists() && env.join("node/fetch.cjs").exists());
    let nobody =
        Command::new(BIN).args(["env", "--url", "http://127.0.0.1:9", "--dir"]).arg(dir.path("x")).output().unwrap();
    assert!(!nobody.status.success(), "no server there: a clear failure");
}

#[test]
fn a_callback_ca_that_cannot_be_read_stops_the_start() {
    let out =
        Command::new(BIN).args(["--bind", "127.0.0.1:0", "--callback-ca", "/nonexistent/ca.pem"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--callback-ca /nonexistent/ca.pem"), "{err}");
}
