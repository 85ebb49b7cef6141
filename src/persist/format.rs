//! The `--state` file on disk: a fixed header line, then one change per line (JSON).
//!
//! ```text
//! {"callerid_mock_state":2}                                        (padded to 64 bytes)
//! {"t":"begin","id":3,"now":"2026-01-01T00:00:00Z","frozen":true,"rng":"0","seq":0}
//! {"t":"account","provider":"plivo","account":"MA…","declared":true,"auth_token":"t","rng":"96","seq":7}
//! {"t":"caller","provider":"plivo","account":"MA…","caller":{…},"rng":"96","seq":7}
//! {"t":"end","id":3,"rng":"96","seq":7}
//! {"t":"ver","provider":"twilio","account":"AC…","v":{…},"rng":"104","seq":8}
//! ```
//! `rng` and `seq` are the id generator's position and the last creation number when the
//! change was made, so a restart never hands out an id or number again.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::core::Change;
use crate::core::model::AccountKey;
use crate::core::state_file;
use crate::core::time::Timestamp;

/// The first line, padded with spaces to [`HEADER_LEN`] bytes (newline included); it never
/// changes, so rewriting the file in place never touches it.
pub(super) const MAGIC: &str = r#"{"callerid_mock_state":2}"#;
pub(super) const HEADER_LEN: u64 = 64;

pub(super) fn header() -> Vec<u8> {
    let mut h = MAGIC.as_bytes().to_vec();
    h.resize(HEADER_LEN as usize - 1, b' ');
    h.push(b'\n');
    h
}

/// Whether `head` (the file's first bytes) is this format's header; the reason if not.
pub(super) fn check_header(head: &[u8]) -> Result<(), String> {
    if head.len() as u64 == HEADER_LEN && head.starts_with(MAGIC.as_bytes()) && head.ends_with(b"\n") {
        return Ok(());
    }
    let text = String::from_utf8_lossy(head);
    if text.trim_start().starts_with('{') && (text.contains("\"accounts\"") || text.contains("\"clock\"")) {
        return Err("it looks like an exported state or fixtures file (the JSON of GET /_mock/state), not a \
            state log; load it with --fixtures FILE and keep the state in another file with --state"
            .into());
    }
    Err(format!("its first line is not {MAGIC}"))
}

/// One change as a line (with its newline).
pub(super) fn line(change: &Change, rng: u128, seq: u64) -> Vec<u8> {
    let ts = Timestamp::rfc3339_nanos;
    let key = |k: &AccountKey| (k.provider, k.account.to_string());
    let mut v = match change {
        Change::Account { key: k, declared, auth_token } => {
            let (p, a) = key(k);
            json!({"t": "account", "provider": p, "account": a, "declared": declared, "auth_token": auth_token})
        }
        Change::CallerId { key: k, caller } => {
            let (p, a) = key(k);
            json!({"t": "caller", "provider": p, "account": a, "caller": state_file::caller_json(caller)})
        }
        Change::CallerIdRemoved { key: k, number } => {
            let (p, a) = key(k);
            json!({"t": "caller-", "provider": p, "account": a, "number": number})
        }
        Change::Verification(ver) => {
            let (p, a) = key(&ver.key);
            json!({"t": "ver", "provider": p, "account": a, "v": state_file::verification_json(ver)})
        }
        Change::VerificationRemoved { id } => json!({"t": "ver-", "id": id}),
        Change::Call(c) => {
            let (p, a) = key(&c.key);
            json!({"t": "call", "provider": p, "account": a, "call": state_file::call_json(c)})
        }
        Change::CallRemoved { id } => json!({"t": "call-", "id": id}),
        Change::Owned { key: k, number, owned } => {
            let (p, a) = key(k);
            json!({"t": "owned", "provider": p, "account": a, "number": number, "owned": owned})
        }
        Change::Reset { account } => json!({"t": "reset", "account": account.as_deref()}),
        Change::Clock { now, frozen } => json!({"t": "clock", "now": ts(*now), "frozen": frozen}),
        Change::CheckpointBegin { id, now, frozen } => {
            json!({"t": "begin", "id": id, "now": ts(*now), "frozen": frozen})
        }
        Change::CheckpointEnd { id } => json!({"t": "end", "id": id}),
    };
    v["rng"] = rng.to_string().into();
    v["seq"] = seq.into();
    let mut out = serde_json::to_vec(&v).expect("a change serializes");
    out.push(b'\n');
    out
}

/// What a line is, cheaply: its type and, for checkpoint markers, their id; for a skip
/// marker, the length of the line before it that it skips.
#[derive(serde::Deserialize)]
pub(super) struct Kind {
    pub t: String,
    #[serde(default)]
    pub id: Option<Value>,
    #[serde(default)]
    pub bytes: Option<u64>,
}

/// The line that marks the `bytes` before it (one line, its newline included) as skipped: an
/// unfinished write a crash or power loss left, kept in the file rather than cut off.
pub(super) fn skip_line(bytes: u64) -> Vec<u8> {
    let mut out = serde_json::to_vec(&json!({"t": "skip", "bytes": bytes})).expect("a marker serializes");
    out.push(b'\n');
    out
}

pub(super) fn kind(line: &[u8]) -> Option<Kind> {
    serde_json::from_slice(line).ok()
}

/// A line read back: the change and the positions it carries.
pub(super) fn parse(line: &[u8], providers: &[&'static str]) -> Result<(Change, u128, u64), String> {
    let v: Value = serde_json::from_slice(line).map_err(|e| format!("not JSON: {e}"))?;
    let text = |name: &str| v.get(name).and_then(Value::as_str).ok_or_else(|| format!("no {name}"));
    let time = |name: &str| Timestamp::parse_rfc3339(text(name)?).ok_or_else(|| format!("{name} is not RFC 3339"));
    let key = || -> Result<AccountKey, String> {
        let provider = text("provider")?;
        let provider =
            providers.iter().find(|p| **p == provider).ok_or_else(|| format!("unknown provider {provider:?}"))?;
        Ok(AccountKey::new(provider, text("account")?))
    };
    let change = match text("t")? {
        "account" => Change::Account {
            key: key()?,
            declared: v.get("declared").and_then(Value::as_bool).unwrap_or(false),
            auth_token: v.get("auth_token").and_then(Value::as_str).map(str::to_owned),
        },
        "caller" => Change::CallerId {
            key: key()?,
            caller: state_file::caller_from_json(v.get("caller").cloned().ok_or("no caller")?)?,
        },
        "caller-" => Change::CallerIdRemoved { key: key()?, number: text("number")?.to_owned() },
        "ver" => Change::Verification(state_file::verification_from_json(&key()?, v.get("v").cloned().ok_or("no v")?)?),
        "ver-" => Change::VerificationRemoved { id: text("id")?.to_owned() },
        "call" => Change::Call(state_file::call_from_json(&key()?, v.get("call").cloned().ok_or("no call")?)?),
        "call-" => Change::CallRemoved { id: text("id")?.to_owned() },
        "owned" => Change::Owned {
            key: key()?,
            number: text("number")?.to_owned(),
            owned: v.get("owned").and_then(Value::as_bool).unwrap_or(true),
        },
        "reset" => Change::Reset { account: v.get("account").and_then(Value::as_str).map(Arc::from) },
        "clock" => {
            Change::Clock { now: time("now")?, frozen: v.get("frozen").and_then(Value::as_bool).unwrap_or(false) }
        }
        "begin" => Change::CheckpointBegin {
            id: v.get("id").and_then(Value::as_u64).ok_or("no id")?,
            now: time("now")?,
            frozen: v.get("frozen").and_then(Value::as_bool).unwrap_or(false),
        },
        "end" => Change::CheckpointEnd { id: v.get("id").and_then(Value::as_u64).ok_or("no id")? },
        other => return Err(format!("unknown change {other:?}")),
    };
    let rng = text("rng")?.parse::<u128>().map_err(|_| "rng is not a number".to_owned())?;
    let seq = v.get("seq").and_then(Value::as_u64).ok_or("no seq")?;
    Ok((change, rng, seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_fixed_and_recognised() {
        let h = header();
        assert_eq!(h.len() as u64, HEADER_LEN);
        assert_eq!(check_header(&h), Ok(()));
        assert!(check_header(br#"{"name": "my-app", "version": "1.0.0"}"#).unwrap_err().contains("first line"));
        assert!(check_header(br#"{"clock": {"now": "x"}, "accounts": []}"#).unwrap_err().contains("--fixtures"));
    }

    #[test]
    fn changes_read_back_as_written() {
        let key = AccountKey::new("plivo", "MA1");
        let providers = ["plivo"];
        for change in [
            Change::Account { key: key.clone(), declared: true, auth_token: Some("t".into()) },
            Change::CallerIdRemoved { key: key.clone(), number: "+12025551234".into() },
            Change::VerificationRemoved { id: "v1".into() },
            Change::Reset { account: Some("MA1".into()) },
            Change::Reset { account: None },
            Change::Clock { now: Timestamp::from_nanos(5_000), frozen: true },
            Change::CheckpointBegin { id: 2, now: Timestamp::from_nanos(0), frozen: false },
            Change::CheckpointEnd { id: 2 },
        ] {
            let l = line(&change, u128::MAX, 9);
            assert_eq!(l.last(), Some(&b'\n'));
            assert_eq!(parse(&l, &providers), Ok((change, u128::MAX, 9)));
        }
    }
}
