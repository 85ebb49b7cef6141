//! The state file format: what `--fixtures FILE` and `--state FILE` load, `GET /_mock/state`
//! exports and `PUT /_mock/state` imports. Provider-neutral JSON:
//!
//! ```json
//! {"clock": {"now": "2026-01-01T00:00:00Z", "frozen": true},
//!  "accounts": [{"provider": "plivo", "account": "MAXXXXXXXXXXXXXXXXXX", "auth_token": "token123",
//!    "caller_ids": [{"phone_number": "+12025551234", "label": "Office"}],
//!    "verifications": [{"id": "…", "phone_number": "+14155552671", "code": "123456", "state": "pending", …}]}]}
//! ```
//! Only `accounts[].provider`, `accounts[].account` and each entry's `phone_number` (and a
//! verification's `id` and `code`) are required; unknown keys such as `"_comment"` are ignored.

use serde::{Deserialize, Serialize};

use super::Core;
use super::store::{AccountKey, CallStatus, CallbackSpec, CallerId, Channel, Verification, VerificationState};
use super::time::Timestamp;
use super::timers::Event;
use crate::phone;

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct StateFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<ClockState>,
    #[serde(default)]
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
    #[serde(default)]
    pub subaccount: String,
    /// `sms` or `call`, as the verification asked for it.
    #[serde(default)]
    pub requested_channel: Option<String>,
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
    #[serde(default)]
    pub subaccount: String,
    #[serde(default)]
    pub requested_channel: Option<String>,
    #[serde(default = "sms")]
    pub channel: String,
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

fn caller_from(c: CallerIdState, id: String, now: Timestamp) -> Result<CallerId, String> {
    let number = phone::parse_international(&c.phone_number)
        .ok_or_else(|| format!("{:?} is not a valid phone number", c.phone_number))?;
    let created_at = time(&c.created_at, "created_at")?.unwrap_or(now);
    Ok(CallerId {
        seq: c.seq.unwrap_or(u64::MAX),
        id,
        phone_number: number.e164,
        country: c.country.unwrap_or(number.country),
        label: c.label,
        subaccount: c.subaccount,
        requested_channel: c.requested_channel.as_deref().map(channel).transpose()?,
        created_at,
        updated_at: time(&c.updated_at, "updated_at")?.unwrap_or(created_at),
    })
}

fn verification_from(v: VerificationRecord, now: Timestamp) -> Result<Verification, String> {
    let number = phone::parse_international(&v.phone_number)
        .ok_or_else(|| format!("{:?} is not a valid phone number", v.phone_number))?;
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
    Ok(Verification {
        seq: v.seq.unwrap_or(u64::MAX),
        id: v.id,
        phone_number: number.e164,
        country: v.country.unwrap_or(number.country),
        label: v.label,
        subaccount: v.subaccount,
        requested_channel: v.requested_channel.as_deref().map(channel).transpose()?,
        channel: channel(&v.channel)?,
        code: v.code,
        state: VerificationState::parse(&v.state).ok_or_else(|| format!("state {:?} is unknown", v.state))?,
        issued_at: time(&v.issued_at, "issued_at")?.unwrap_or(now),
        expires_at: time(&v.expires_at, "expires_at")?,
        attempts: v.attempts,
        rings_at: time(&v.rings_at, "rings_at")?,
        call_status: match v.call_status.as_deref() {
            None => None,
            Some(s) => Some(CallStatus::parse(s).ok_or_else(|| format!("call_status {s:?} is unknown"))?),
        },
        callback,
        caller_id: v.caller_id,
    })
}

impl Core {
    /// Loads a state file. With `replace`, everything there was goes first (and a frozen
    /// clock takes the file's reading); otherwise the file's accounts are added on top.
    /// Returns how many caller IDs and verifications were loaded.
    pub fn load_state(&self, file: StateFile, replace: bool) -> Result<usize, String> {
        let now = self.clock.now();
        // Parse everything before touching state: a bad file changes nothing.
        let mut accounts = Vec::with_capacity(file.accounts.len());
        for a in file.accounts {
            let provider =
                self.providers.provider(&a.provider).ok_or_else(|| format!("unknown provider {:?}", a.provider))?;
            let mut callers = Vec::with_capacity(a.caller_ids.len());
            for c in a.caller_ids {
                let id = c.id.clone().unwrap_or_else(|| self.providers.caller_id_id(provider, &self.ids));
                callers.push(caller_from(c, id, now)?);
            }
            let verifications =
                a.verifications.into_iter().map(|v| verification_from(v, now)).collect::<Result<Vec<_>, _>>()?;
            accounts.push((AccountKey::new(provider, a.account), a.auth_token, callers, verifications));
        }
        let clock = match (&file.clock, replace && self.clock.is_frozen()) {
            (Some(c), true) => time(&Some(c.now.clone()), "clock.now")?,
            _ => None,
        };

        if replace {
            self.reset(None);
            if let Some(to) = clock {
                self.clock.reset_to(to);
            }
        }
        // New sequence numbers, in the order the file gives (`seq`, else time).
        let mut callers: Vec<(AccountKey, CallerId)> = Vec::new();
        let mut verifications: Vec<(AccountKey, Verification)> = Vec::new();
        let mut state = self.state.lock();
        for (key, auth_token, c, v) in accounts {
            callers.extend(c.into_iter().map(|c| (key.clone(), c)));
            verifications.extend(v.into_iter().map(|v| (key.clone(), v)));
            let ns = state.store.namespace_mut(&key);
            ns.declared = true;
            if auth_token.is_some() {
                ns.auth_token = auth_token;
            }
        }
        callers.sort_by_key(|(_, c)| (c.seq, c.created_at));
        verifications.sort_by_key(|(_, v)| (v.seq, v.issued_at));
        let loaded = callers.len() + verifications.len();
        // A whole state whose entries all carry distinct sequence numbers keeps them, so an
        // export of the import is the same file; otherwise entries are numbered afresh.
        let mut given: Vec<u64> =
            callers.iter().map(|(_, c)| c.seq).chain(verifications.iter().map(|(_, v)| v.seq)).collect();
        given.sort_unstable();
        let keep = replace && given.last() != Some(&u64::MAX) && given.windows(2).all(|w| w[0] < w[1]);
        if keep {
            state.store.skip_seq_past(given.last().copied().unwrap_or(0));
        }
        for (key, mut c) in callers {
            if !keep {
                c.seq = state.store.next_seq();
            }
            state.store.namespace_mut(&key).caller_ids.insert(c.phone_number.clone(), c);
        }
        for (key, mut v) in verifications {
            if !keep {
                v.seq = state.store.next_seq();
            }
            if v.state == VerificationState::Pending {
                if let Some(at) = v.rings_at {
                    state.timers.schedule(at, Event::Ring { key: key.clone(), id: v.id.clone() });
                }
                if let Some(at) = v.expires_at {
                    state.timers.schedule(at, Event::Expire { key: key.clone(), id: v.id.clone() });
                }
            }
            state.store.namespace_mut(&key).insert_verification(v);
        }
        drop(state);
        self.changed();
        self.timer_wake.notify_one();
        Ok(loaded)
    }

    /// Everything, in the state file format: accounts in name order, entries in creation order.
    pub fn export_state(&self) -> StateFile {
        let (state, now) = self.locked();
        let mut keys: Vec<&AccountKey> = state.store.namespaces.keys().collect();
        keys.sort();
        let ts = |t: Timestamp| t.rfc3339_nanos();
        let accounts = keys
            .into_iter()
            .map(|key| {
                let ns = &state.store.namespaces[key];
                let mut callers: Vec<&CallerId> = ns.caller_ids.values().collect();
                callers.sort_by_key(|c| c.seq);
                AccountState {
                    provider: key.provider.to_owned(),
                    account: key.account.clone(),
                    auth_token: ns.auth_token.clone(),
                    caller_ids: callers
                        .into_iter()
                        .map(|c| CallerIdState {
                            seq: Some(c.seq),
                            id: Some(c.id.clone()),
                            phone_number: c.phone_number.clone(),
                            label: c.label.clone(),
                            country: Some(c.country.clone()),
                            subaccount: c.subaccount.clone(),
                            requested_channel: c.requested_channel.map(|ch| ch.as_str().to_owned()),
                            created_at: Some(ts(c.created_at)),
                            updated_at: Some(ts(c.updated_at)),
                        })
                        .collect(),
                    verifications: ns
                        .verifications()
                        .map(|v| VerificationRecord {
                            seq: Some(v.seq),
                            id: v.id.clone(),
                            phone_number: v.phone_number.clone(),
                            country: Some(v.country.clone()),
                            label: v.label.clone(),
                            subaccount: v.subaccount.clone(),
                            requested_channel: v.requested_channel.map(|ch| ch.as_str().to_owned()),
                            channel: v.channel.as_str().to_owned(),
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
                        })
                        .collect(),
                }
            })
            .collect();
        StateFile { clock: Some(ClockState { now: ts(now), frozen: self.clock.is_frozen() }), accounts }
    }
}
