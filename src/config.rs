//! The one configuration of a server. Every flag is described once, here (or, for a provider's
//! own flags, in its folder): `main` parses them with clap, tests build a [`Config`] directly.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::core::time::{Timestamp, parse_duration};
use crate::providers::ProviderOptions;

/// The address the server listens on by default.
pub const DEFAULT_BIND: &str = "127.0.0.1:8484";

/// Everything a server needs to start.
#[derive(clap::Args, Clone, Debug)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "CALLERID_MOCK_BIND", default_value = DEFAULT_BIND)]
    pub bind: SocketAddr,
    /// Seed for every generated id, UUID, code and request id (default: from the OS).
    #[arg(long, env = "CALLERID_MOCK_SEED")]
    pub seed: Option<u64>,
    /// What the clock reads at start, RFC 3339 (default: now).
    #[arg(long, env = "CALLERID_MOCK_START_TIME", value_parser = parse_time)]
    pub start_time: Option<Timestamp>,
    /// Stop the clock: it moves only through POST /_mock/clock.
    #[arg(long, env = "CALLERID_MOCK_FROZEN_CLOCK")]
    pub frozen_clock: bool,
    /// A state file of accounts, tokens and caller IDs to load at start (the export format).
    #[arg(long, env = "CALLERID_MOCK_FIXTURES")]
    pub fixtures: Option<PathBuf>,
    /// Keep the state in FILE: every change is written (and synced) before it is answered, and
    /// the state is read back at start; --fixtures seed a new or empty FILE.
    #[arg(long, env = "CALLERID_MOCK_STATE")]
    pub state: Option<PathBuf>,
    /// Answer every validation call that waits for its code to be keyed in with the right code
    /// as soon as it rings, and pick up every outbound call after --ring-time.
    #[arg(long, env = "CALLERID_MOCK_AUTO_ANSWER")]
    pub auto_answer: bool,
    /// How long an outbound call rings before the person picks up by themselves
    /// (--auto-answer, the magic number +15005550006), such as 5s.
    #[arg(long, env = "CALLERID_MOCK_RING_TIME", default_value = "5s", value_parser = parse_duration_arg)]
    pub ring_time: Duration,
    /// How long an answered outbound call lasts before the person hangs up (unless the
    /// request's own time limit is shorter), such as 60s.
    #[arg(long, env = "CALLERID_MOCK_CALL_DURATION", default_value = "60s", value_parser = parse_duration_arg)]
    pub call_duration: Duration,
    /// Accept only the accounts and tokens declared in --fixtures or --state; others get the
    /// provider's own 401 (wrong credentials) or 403 (another account's path).
    #[arg(long, env = "CALLERID_MOCK_STRICT_AUTH")]
    pub strict_auth: bool,
    /// Memory the state may hold (caller IDs, owned numbers, verifications, calls and their
    /// indexes), such as 64MiB; past it the oldest finished verifications and calls are
    /// evicted, then writes are refused.
    #[arg(long, env = "CALLERID_MOCK_MAX_STATE_BYTES", default_value = "64MiB", value_parser = parse_size)]
    pub max_state_bytes: usize,
    /// Verifications that may wait for their code at once; past it a new one is refused with the
    /// provider's limit error.
    #[arg(long, env = "CALLERID_MOCK_MAX_PENDING", default_value_t = 50_000)]
    pub max_pending: usize,
    /// How long a finished verification stays in /_mock/codes, and a finished call in the
    /// providers' call lists and /_mock/calls (server clock), such as 1h.
    #[arg(long, env = "CALLERID_MOCK_RETENTION", default_value = "1h", value_parser = parse_duration_arg)]
    pub retention: Duration,
    /// Entries each account keeps in the request and callback journals (oldest dropped).
    #[arg(long, env = "CALLERID_MOCK_MAX_JOURNAL", default_value_t = 1000,
        value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_journal: u32,
    /// Memory each journal (requests, callbacks) may hold, such as 8MiB (oldest dropped).
    #[arg(long, env = "CALLERID_MOCK_MAX_JOURNAL_BYTES", default_value = "8MiB", value_parser = parse_size)]
    pub max_journal_bytes: usize,
    /// The largest request body read; larger ones get the provider's 413.
    #[arg(long, env = "CALLERID_MOCK_MAX_BODY_BYTES", default_value = "64KiB", value_parser = parse_size)]
    pub max_body_bytes: usize,
    /// How long a client may take to send a request body.
    #[arg(long, env = "CALLERID_MOCK_BODY_TIMEOUT", default_value = "30s", value_parser = parse_duration_arg)]
    pub body_timeout: Duration,
    /// Long-polls (codes/latest?wait=) and event streams (/_mock/events) at once; past it, 503.
    #[arg(long, env = "CALLERID_MOCK_MAX_WAITERS", default_value_t = 1024)]
    pub max_waiters: usize,
    /// How long a client may take to send a request's head (also how long an HTTP/1.1
    /// connection may wait for its next request).
    #[arg(long, env = "CALLERID_MOCK_HEADER_TIMEOUT", default_value = "10s", value_parser = parse_duration_arg)]
    pub header_timeout: Duration,
    /// A connection with no request in flight is closed after this (HTTP/2 peers are pinged
    /// at this interval and dropped when they do not answer within --header-timeout).
    #[arg(long, env = "CALLERID_MOCK_IDLE_TIMEOUT", default_value = "60s", value_parser = parse_duration_arg)]
    pub idle_timeout: Duration,
    /// Connections open at once; past it a new one gets 503 and is closed [default: the
    /// open-file limit less 100, at most 8192].
    #[arg(long, env = "CALLERID_MOCK_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Require `Authorization: Bearer TOKEN` on every /_mock/ route (the inbox: open
    /// /_mock/?token=TOKEN once, a cookie keeps it). The healthcheck command reads it too.
    #[arg(long, env = "CALLERID_MOCK_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// A Host name /_mock/ answers besides loopback ones, on a loopback bind (repeatable).
    #[arg(long = "allow-host", value_name = "NAME", env = "CALLERID_MOCK_ALLOW_HOST", value_delimiter = ',')]
    pub allow_hosts: Vec<String>,
    /// Deliver webhooks only to these hosts or networks (a name, an IP, or a CIDR such as
    /// 10.0.0.0/8; repeatable); others are refused and journaled. Default: anywhere.
    #[arg(long = "callback-allow", value_name = "CIDR|HOST", env = "CALLERID_MOCK_CALLBACK_ALLOW", value_delimiter = ',',
        value_parser = crate::allow::parse_allowed)]
    pub callback_allow: Vec<crate::allow::Allowed>,
    /// Where the emulator's CA is kept (`ca.pem`, `ca-key.pem`): default the user's cache
    /// directory (`$XDG_CACHE_HOME/callerid-mock`, else `~/.cache/callerid-mock`).
    #[arg(long, value_name = "DIR", env = "CALLERID_MOCK_CA_DIR")]
    pub ca_dir: Option<PathBuf>,
    /// Also serve the providers' hosts over TLS on ADDR, chosen by SNI, with certificates from
    /// the emulator's CA: for setups that alias the providers' hostnames to the emulator.
    #[arg(long, value_name = "ADDR", env = "CALLERID_MOCK_TLS_BIND")]
    pub tls_bind: Option<SocketAddr>,
    /// Trust the certificates in FILE (PEM) besides the system's roots when calling `https://`
    /// callback URLs (a test receiver with a CA of its own).
    #[arg(long, value_name = "FILE", env = "CALLERID_MOCK_CALLBACK_CA")]
    pub callback_ca: Option<PathBuf>,
    /// Through the proxy, relay hosts no provider serves (byte for byte, never intercepted)
    /// instead of refusing them with 403.
    #[arg(long, env = "CALLERID_MOCK_PROXY_PASSTHROUGH")]
    pub proxy_passthrough: bool,
    #[command(flatten)]
    pub providers: ProviderOptions,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            bind: DEFAULT_BIND.parse().expect("default bind address parses"),
            seed: None,
            start_time: None,
            frozen_clock: false,
            fixtures: None,
            state: None,
            auto_answer: false,
            ring_time: Duration::from_secs(5),
            call_duration: Duration::from_secs(60),
            strict_auth: false,
            max_state_bytes: 64 << 20,
            max_pending: 50_000,
            retention: Duration::from_secs(3600),
            max_journal: 1000,
            max_journal_bytes: 8 << 20,
            max_body_bytes: 64 << 10,
            body_timeout: Duration::from_secs(30),
            max_waiters: 1024,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: None,
            admin_token: None,
            allow_hosts: Vec::new(),
            callback_allow: Vec::new(),
            ca_dir: None,
            callback_ca: None,
            tls_bind: None,
            proxy_passthrough: false,
            providers: ProviderOptions::default(),
        }
    }
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    Timestamp::parse_rfc3339(s).ok_or_else(|| format!("{s:?} is not an RFC 3339 time such as 2026-01-01T00:00:00Z"))
}

fn parse_duration_arg(s: &str) -> Result<Duration, String> {
    parse_duration(s).ok_or_else(|| format!("{s:?} is not a duration such as 30s, 15m or 1h30m"))
}

/// A size in bytes: `65536`, `64KiB`, `8MiB`, `1GiB` (also `K`, `M`, `G`, `KB`, `MB`, `GB`,
/// all binary).
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: usize = digits.parse().map_err(|_| format!("{s:?} is not a size such as 65536, 64KiB or 8MiB"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("{s:?} is not a size such as 65536, 64KiB or 8MiB")),
    };
    n.checked_mul(1 << shift).ok_or_else(|| format!("{s:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Args, FromArgMatches};

    #[test]
    fn the_default_is_what_no_flags_give() {
        let command = Config::augment_args(clap::Command::new("t").no_binary_name(true));
        let matches = command.try_get_matches_from(Vec::<String>::new()).unwrap();
        let parsed = Config::from_arg_matches(&matches).unwrap();
        // Environment variables could change what flags give; the suite sets none of these.
        assert_eq!(format!("{parsed:?}"), format!("{:?}", Config::default()));
    }

    #[test]
    fn sizes_read_with_binary_units() {
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("64KiB"), Ok(64 << 10));
        assert_eq!(parse_size("8M"), Ok(8 << 20));
        assert!(parse_size("8 parsecs").is_err());
    }
}
