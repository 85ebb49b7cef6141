//! The state file format: what `--fixtures FILE` loads, `GET /_mock/state` exports and
//! `PUT /_mock/state` imports. Provider-neutral JSON:
//!
//! ```json
//! {"clock": {"now": "2026-01-01T00:00:00Z", "frozen": true},
//!  "accounts": [{"provider": "plivo", "account": "MAXXXXXXXXXXXXXXXXXX", "auth_token": "token123",
//!    "caller_ids": [{"phone_number": "+12025551234", "label": "Office"}],
//!    "verifications": [{"id": "…", "phone_number": "+14155552671", "code": "123456", "state": "pending", …}]}]}
//! ```
//! `accounts` is required (an empty object is not a state); in it only `provider`, `account`
//! and each entry's `phone_number` (and a verification's `id` and `code`) are. Keys starting
//! with `_` are comments; unknown keys are ignored. `subaccount` on an entry is read as the
//! attribute of that name (files written before attributes existed).

use std::collections::{BTreeMap, HashSet};
use std::io::Write;

use serde::{Deserialize, Serialize};

use super::changes::Item;
use super::phone;
use super::store::{
    AccountKey, Attributes, CallStatus, CallbackSpec, CallerId, Channel, Entry, Verification, VerificationState,
};
use super::time::Timestamp;
use super::{Change, Core};

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct StateFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<ClockState>,
    pub accounts: Vec<AccountState>,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct ClockState {
    pub now: String,
    #[serde(default)]
    pub frozen: bool,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct AccountState {
    pub provider: String,
    pub account: String,
    #[serde(default)]
    pub auth_token: Option<String>,
    #[serde(default)]
    pub caller_ids: Vec<CallerIdState>,
    #[serde(default)]
    pub verifications: Vec<VerificationRecord>,
}

/// The account's own part, as the streamed export writes it before its entries.
#[derive(Serialize)]
struct AccountHead<'a> {
    provider: &'a str,
    account: &'a str,
    auth_token: &'a Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct CallerIdState {
    /// Creation order across the whole state; by `created_at` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// Generated in the provider's id shape when absent.
    #[serde(default)]
    pub id: Option<String>,
    pub phone_number: String,
    #[serde(default)]
    pub label: String,
    /// Derived from the number when absent.
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// Read as the attribute `subaccount` (older files).
    #[serde(default, skip_serializing)]
    pub subaccount: Option<String>,
    /// RFC 3339; the clock's reading when absent.
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct VerificationRecord {
    /// Creation order across the whole state; by `issued_at` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    pub id: String,
    pub phone_number: String,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub label: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    #[serde(default, skip_serializing)]
    pub subaccount: Option<String>,
    #[serde(default)]
    pub requested_channel: Option<String>,
    #[serde(default = "sms")]
    pub channel: String,
    /// `api` (the application submits the code) or `keypad` (keyed in during the call);
    /// when absent, `keypad` if the verification rings, else `api`.
    #[serde(default)]
    pub entry: Option<String>,
    pub code: String,
    #[serde(default = "pending")]
    pub state: String,
    #[serde(default)]
    pub issued_at: Option<String>,
    #[serde(default)]
    pub expires_at: Option<String>,
    #[serde(default)]
    pub attempts: u32,
    #[serde(default)]
    pub rings_at: Option<String>,
    #[serde(default)]
    pub call_status: Option<String>,
    #[serde(default)]
    pub callback: Option<CallbackRecord>,
    #[serde(default)]
    pub caller_id: Option<String>,
    /// When it stopped being pending; the import's time when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct CallbackRecord {
    pub url: String,
    #[serde(default = "post")]
    pub method: String,
    #[serde(default)]
    pub signing_key: Option<String>,
}

fn sms() -> String {
    "sms".into()
}

fn pending() -> String {
    "pending".into()
}

fn post() -> String {
    "POST".into()
}

fn time(field: &Option<String>, name: &str) -> Result<Option<Timestamp>, String> {
    match field {
        None => Ok(None),
        Some(s) => Timestamp::parse_rfc3339(s).map(Some).ok_or_else(|| format!("{name} {s:?} is not RFC 3339")),
    }
}

fn channel(s: &str) -> Result<Channel, String> {
    Channel::parse(s).ok_or_else(|| format!("channel {s:?} is not sms or call"))
}

fn attributes(map: BTreeMap<String, String>, legacy_subaccount: Option<String>) -> Attributes {
    let mut attrs = Attributes::default();
    if let Some(sub) = legacy_subaccount {
        attrs.set("subaccount", &sub);
    }
    for (k, v) in map {
        attrs.set(&k, &v);
    }
    attrs
}

fn attribute_map(attrs: &Attributes) -> BTreeMap<String, String> {
    attrs.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
}

fn number(raw: &str) -> Result<phone::Number, String> {
    phone::parse_international(raw).ok_or_else(|| format!("{raw:?} is not a valid phone number"))
}

fn caller_from(c: CallerIdState, id: String, now: Timestamp) -> Result<CallerId, String> {
    let number = number(&c.phone_number)?;
    let created_at = time(&c.created_at, "created_at")?.unwrap_or(now);
    Ok(CallerId {
        seq: c.seq.unwrap_or(u64::MAX),
        id,
        phone_number: number.e164,
        country: c.country.unwrap_or(number.country),
        label: c.label,
        attributes: attributes(c.attributes, c.subaccount),
        created_at,
        updated_at: time(&c.updated_at, "updated_at")?.unwrap_or(created_at),
    })
}

fn verification_from(key: &AccountKey, v: VerificationRecord, now: Timestamp) -> Result<Verification, String> {
    let number = number(&v.phone_number)?;
    let callback = match v.callback {
        None => None,
        Some(cb) => {
            let method = match cb.method.to_ascii_uppercase().as_str() {
                "GET" => "GET",
                "POST" => "POST",
                other => return Err(format!("callback method {other:?} is not GET or POST")),
            };
            Some(CallbackSpec { url: cb.url, method, signing_key: cb.signing_key })
        }
    };
    let rings_at = time(&v.rings_at, "rings_at")?;
    let entry = match v.entry.as_deref() {
        Some("api") => Entry::Api,
        Some("keypad") => Entry::Keypad,
        Some(other) => return Err(format!("entry {other:?} is not api or keypad")),
        None if rings_at.is_some() => Entry::Keypad,
        None => Entry::Api,
    };
    let state = VerificationState::parse(&v.state).ok_or_else(|| format!("state {:?} is unknown", v.state))?;
    let finished_at = match state {
        VerificationState::Pending => None,
        _ => Some(time(&v.finished_at, "finished_at")?.unwrap_or(now)),
    };
    Ok(Verification {
        seq: v.seq.unwrap_or(u64::MAX),
        key: key.clone(),
        id: v.id,
        phone_number: number.e164,
        country: v.country.unwrap_or(number.country),
        label: v.label,
        attributes: attributes(v.attributes, v.subaccount),
        requested_channel: v.requested_channel.as_deref().map(channel).transpose()?,
        channel: channel(&v.channel)?,
        entry,
        code: v.code,
        state,
        issued_at: time(&v.issued_at, "issued_at")?.unwrap_or(now),
        expires_at: time(&v.expires_at, "expires_at")?,
        attempts: v.attempts,
        rings_at,
        call_status: match v.call_status.as_deref() {
            None => None,
            Some(s) => Some(CallStatus::parse(s).ok_or_else(|| format!("call_status {s:?} is unknown"))?),
        },
        callback,
        caller_id: v.caller_id,
        finished_at,
    })
}

fn caller_state(c: &CallerId) -> CallerIdState {
    let ts = Timestamp::rfc3339_nanos;
    CallerIdState {
        seq: Some(c.seq),
        id: Some(c.id.clone()),
        phone_number: c.phone_number.clone(),
        label: c.label.clone(),
        country: Some(c.country.clone()),
        attributes: attribute_map(&c.attributes),
        subaccount: None,
        created_at: Some(ts(c.created_at)),
        updated_at: Some(ts(c.updated_at)),
    }
}

fn verification_record(v: &Verification) -> VerificationRecord {
    let ts = Timestamp::rfc3339_nanos;
    VerificationRecord {
        seq: Some(v.seq),
        id: v.id.clone(),
        phone_number: v.phone_number.clone(),
        country: Some(v.country.clone()),
        label: v.label.clone(),
        attributes: attribute_map(&v.attributes),
        subaccount: None,
        requested_channel: v.requested_channel.map(|ch| ch.as_str().to_owned()),
        channel: v.channel.as_str().to_owned(),
        entry: Some(match v.entry {
            Entry::Api => "api".to_owned(),
            Entry::Keypad => "keypad".to_owned(),
        }),
        code: v.code.clone(),
        state: v.state.as_str().to_owned(),
        issued_at: Some(ts(v.issued_at)),
        expires_at: v.expires_at.map(ts),
        attempts: v.attempts,
        rings_at: v.rings_at.map(ts),
        call_status: v.call_status.map(|s| s.as_str().to_owned()),
        callback: v.callback.as_ref().map(|cb| CallbackRecord {
            url: cb.url.clone(),
            method: cb.method.to_owned(),
            signing_key: cb.signing_key.clone(),
        }),
        caller_id: v.caller_id.clone(),
        finished_at: v.finished_at.map(ts),
    }
}

/// A caller ID or verification as one line of the state file's change log.
pub fn caller_json(c: &CallerId) -> serde_json::Value {
    serde_json::to_value(caller_state(c)).expect("a caller ID serializes")
}

pub fn verification_json(v: &Verification) -> serde_json::Value {
    serde_json::to_value(verification_record(v)).expect("a verification serializes")
}

/// Reads back what [`caller_json`] wrote.
pub fn caller_from_json(value: serde_json::Value) -> Result<CallerId, String> {
    let c: CallerIdState = serde_json::from_value(value).map_err(|e| e.to_string())?;
    let id = c.id.clone().ok_or("a logged caller ID has an id")?;
    caller_from(c, id, Timestamp::from_nanos(0))
}

/// Reads back what [`verification_json`] wrote.
pub fn verification_from_json(key: &AccountKey, value: serde_json::Value) -> Result<Verification, String> {
    let v: VerificationRecord = serde_json::from_value(value).map_err(|e| e.to_string())?;
    verification_from(key, v, Timestamp::from_nanos(0))
}

/// A state file checked and converted, ready to apply.
struct Parsed {
    accounts: Vec<(AccountKey, Option<String>)>,
    callers: Vec<(AccountKey, CallerId)>,
    verifications: Vec<Verification>,
    /// The entries keep the numbers the file gives them.
    keep: bool,
}

impl Core {
    /// Loads a state file. With `replace`, everything there was goes first (and a frozen
    /// clock takes the file's reading); otherwise the file's accounts are added on top.
    /// A file that does not fit the caps, or names an id twice, changes nothing. Returns how
    /// many caller IDs and verifications were loaded.
    pub fn import(&self, file: StateFile, replace: bool) -> Result<usize, String> {
        let frozen = self.clock.is_frozen();
        let clock = match (&file.clock, replace && frozen) {
            (Some(c), true) => time(&Some(c.now.clone()), "clock.now")?,
            _ => None,
        };
        let parsed = self.parse(file, clock.unwrap_or_else(|| self.clock.now()), replace)?;
        let loaded = parsed.callers.len() + parsed.verifications.len();
        self.transact(|tx| -> Result<(), String> {
            let existing = if replace { 0 } else { tx.store().bytes() };
            let bytes: usize = parsed.callers.iter().map(|(_, c)| c.bytes()).sum::<usize>()
                + parsed.verifications.iter().map(Verification::bytes).sum::<usize>();
            let cap = tx.core.options.max_state_bytes;
            if existing + bytes > cap {
                return Err(format!(
                    "the state needs about {} bytes; --max-state-bytes allows {cap}",
                    existing + bytes
                ));
            }
            let pending = parsed.verifications.iter().filter(|v| v.state == VerificationState::Pending).count();
            let pending_now = if replace { 0 } else { tx.store().pending() };
            if pending + pending_now > tx.core.options.max_pending {
                return Err(format!(
                    "the state has {} pending verifications; --max-pending allows {}",
                    pending + pending_now,
                    tx.core.options.max_pending
                ));
            }
            let in_use = parsed.verifications.iter().find(|v| tx.store().seq_of(&v.id).is_some());
            if let (false, Some(v)) = (replace, in_use) {
                return Err(format!("verification id {:?} is already in use", v.id));
            }
            if replace {
                tx.state.store.reset(None);
                tx.log(|| Change::Reset { account: None });
                if let Some(to) = clock {
                    tx.core.clock.reset_to(to);
                    tx.log(|| Change::Clock { now: to, frozen });
                }
            }
            for (key, auth_token) in parsed.accounts {
                let ns = tx.state.store.namespace_mut(&key);
                ns.declared = true;
                if auth_token.is_some() {
                    ns.auth_token = auth_token;
                }
                let (declared, auth_token) = (ns.declared, ns.auth_token.clone());
                tx.log(|| Change::Account { key, declared, auth_token });
            }
            for (key, mut c) in parsed.callers {
                if !parsed.keep {
                    c.seq = tx.state.store.next_seq();
                }
                tx.put_caller(&key, c);
            }
            for mut v in parsed.verifications {
                if !parsed.keep {
                    v.seq = tx.state.store.next_seq();
                }
                let seq = v.seq;
                tx.state.store.insert_verification(v);
                tx.log_verification(seq);
            }
            Ok(())
        })?;
        self.tick();
        Ok(loaded)
    }

    /// Checks and converts every entry, numbering them, before anything changes.
    fn parse(&self, file: StateFile, now: Timestamp, replace: bool) -> Result<Parsed, String> {
        let names = self.facts.names();
        let mut accounts = Vec::with_capacity(file.accounts.len());
        let mut callers = Vec::new();
        let mut verifications = Vec::new();
        let mut ids = HashSet::new();
        for (i, a) in file.accounts.into_iter().enumerate() {
            let provider = names
                .iter()
                .find(|n| **n == a.provider)
                .ok_or_else(|| format!("accounts[{i}]: unknown provider {:?}; one of {names:?}", a.provider))?;
            let key = AccountKey::new(provider, &a.account);
            for (j, c) in a.caller_ids.into_iter().enumerate() {
                let id = c.id.clone().unwrap_or_else(|| self.facts.caller_id_id(provider, &self.ids));
                let c = caller_from(c, id, now).map_err(|e| format!("accounts[{i}].caller_ids[{j}]: {e}"))?;
                callers.push((key.clone(), c));
            }
            for (j, v) in a.verifications.into_iter().enumerate() {
                let v =
                    verification_from(&key, v, now).map_err(|e| format!("accounts[{i}].verifications[{j}]: {e}"))?;
                if !ids.insert(v.id.clone()) {
                    return Err(format!("accounts[{i}].verifications[{j}]: id {:?} appears twice", v.id));
                }
                verifications.push(v);
            }
            accounts.push((key, a.auth_token));
        }
        callers.sort_by_key(|(_, c)| (c.seq, c.created_at));
        verifications.sort_by_key(|v| (v.seq, v.issued_at));
        // A whole state whose entries all carry distinct numbers keeps them (so an export of the
        // import is the same file); otherwise entries are numbered afresh, in the order the
        // file gives, after every number in use.
        let mut given: Vec<u64> =
            callers.iter().map(|(_, c)| c.seq).chain(verifications.iter().map(|v| v.seq)).collect();
        given.sort_unstable();
        let keep = replace && given.last() != Some(&u64::MAX) && given.windows(2).all(|w| w[0] < w[1]);
        Ok(Parsed { accounts, callers, verifications, keep })
    }
}

/// Writes the state file format piece by piece, as [`Core::scan`] visits the state, so that an
/// export of any size streams with a bounded buffer.
#[derive(Default)]
pub struct ExportWriter {
    /// 0: nothing written; 1: in an account's caller IDs; 2: in its verifications.
    stage: u8,
    first: bool,
}

impl ExportWriter {
    /// The opening, with the clock's reading.
    pub fn begin(&mut self, out: &mut Vec<u8>, now: Timestamp, frozen: bool) {
        let clock = ClockState { now: now.rfc3339_nanos(), frozen };
        out.extend_from_slice(b"{\"clock\":");
        serde_json::to_writer(&mut *out, &clock).expect("the clock serializes");
        out.extend_from_slice(b",\"accounts\":[");
    }

    pub fn item(&mut self, out: &mut Vec<u8>, item: Item) {
        match item {
            Item::Account(key, ns) => {
                if self.stage != 0 {
                    self.close_account(out);
                    out.push(b',');
                }
                let head = AccountHead { provider: key.provider, account: &key.account, auth_token: &ns.auth_token };
                let mut head = serde_json::to_vec(&head).expect("an account serializes");
                head.pop();
                out.extend_from_slice(&head);
                out.extend_from_slice(b",\"caller_ids\":[");
                (self.stage, self.first) = (1, true);
            }
            Item::CallerId(_, c) => {
                self.comma(out);
                serde_json::to_writer(&mut *out, &caller_state(c)).expect("a caller ID serializes");
            }
            Item::Verification(v) => {
                if self.stage == 1 {
                    out.extend_from_slice(b"],\"verifications\":[");
                    (self.stage, self.first) = (2, true);
                }
                self.comma(out);
                serde_json::to_writer(&mut *out, &verification_record(v)).expect("a verification serializes");
            }
        }
    }

    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if self.stage != 0 {
            self.close_account(out);
        }
        out.extend_from_slice(b"]}");
        let _ = out.flush();
    }

    fn comma(&mut self, out: &mut Vec<u8>) {
        if !std::mem::take(&mut self.first) {
            out.push(b',');
        }
    }

    fn close_account(&mut self, out: &mut Vec<u8>) {
        if self.stage == 1 {
            out.extend_from_slice(b"],\"verifications\":[");
        }
        out.extend_from_slice(b"]}");
    }
}
