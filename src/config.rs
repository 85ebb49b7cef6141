//! The one configuration of a server, built from flags and environment by `main` and
//! directly by tests.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::core::time::Timestamp;

/// Everything a server needs to start.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen; port 0 picks a free port.
    pub bind: SocketAddr,
    /// Seeds every generated id, UUID, code and request id; `None` seeds from the OS.
    pub seed: Option<u64>,
    /// What the clock reads at start; `None` is the system time.
    pub start_time: Option<Timestamp>,
    /// The clock stands still until a test moves it.
    pub frozen_clock: bool,
    /// A state file (accounts, tokens, caller IDs) to load at start.
    pub fixtures: Option<PathBuf>,
    /// Where to keep the state across restarts: loaded at start if present (instead of the
    /// fixtures), saved after changes and at shutdown.
    pub state: Option<PathBuf>,
    /// Digits in a Plivo OTP.
    pub plivo_otp_length: usize,
    /// The region seven.io reads national numbers in (`0163 2429751` in DE).
    pub seven_region: phonenumber::country::Id,
    /// Answer every validation call with the right code as soon as it rings.
    pub auto_answer: bool,
    /// Entries each account keeps in the request and callback journals.
    pub max_journal: usize,
    /// Accept only accounts and tokens declared in fixtures or the state file.
    pub strict_auth: bool,
}

/// The address the server listens on by default.
pub const DEFAULT_BIND: &str = "127.0.0.1:8484";

impl Default for Config {
    fn default() -> Config {
        Config {
            bind: DEFAULT_BIND.parse().expect("default bind address parses"),
            seed: None,
            start_time: None,
            frozen_clock: false,
            fixtures: None,
            state: None,
            plivo_otp_length: 6,
            auto_answer: false,
            max_journal: 1_000,
            strict_auth: false,
            seven_region: phonenumber::country::Id::DE,
        }
    }
}
