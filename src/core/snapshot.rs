//! The state file format: what `--fixtures FILE` loads. Provider-neutral JSON:
//!
//! ```json
//! {"accounts": [{"provider": "plivo", "account": "MAXXXXXXXXXXXXXXXXXX", "auth_token": "token123",
//!   "caller_ids": [{"phone_number": "+12025551234", "label": "Office"}]}]}
//! ```
//! Unknown keys (such as `"_comment"`) are ignored, so example files can explain themselves.

use serde::Deserialize;

use super::store::{AccountKey, CallerId};
use super::time::Timestamp;
use super::Core;
use crate::phone;

#[derive(Debug, Deserialize)]
pub struct StateFile {
    #[serde(default)]
    pub accounts: Vec<AccountState>,
}

#[derive(Debug, Deserialize)]
pub struct AccountState {
    pub provider: String,
    pub account: String,
    #[serde(default)]
    pub auth_token: Option<String>,
    #[serde(default)]
    pub caller_ids: Vec<CallerIdState>,
}

#[derive(Debug, Deserialize)]
pub struct CallerIdState {
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
    /// RFC 3339; the clock's start when absent.
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

impl Core {
    /// Loads accounts and caller IDs from a state file, on top of what is there.
    pub fn load_state(&self, file: StateFile) -> Result<usize, String> {
        let now = self.clock.now();
        let mut loaded = 0;
        for account in file.accounts {
            let provider = self
                .providers
                .provider(&account.provider)
                .ok_or_else(|| format!("unknown provider {:?}", account.provider))?;
            let key = AccountKey::new(provider, account.account);
            let mut caller_ids = Vec::with_capacity(account.caller_ids.len());
            for c in account.caller_ids {
                let number = phone::parse_international(&c.phone_number)
                    .ok_or_else(|| format!("{:?} is not a valid phone number", c.phone_number))?;
                let time = |field: &Option<String>, name: &str| match field {
                    None => Ok(None),
                    Some(s) => Timestamp::parse_rfc3339(s)
                        .map(Some)
                        .ok_or_else(|| format!("{name} {s:?} is not RFC 3339")),
                };
                let created_at = time(&c.created_at, "created_at")?.unwrap_or(now);
                let updated_at = time(&c.updated_at, "updated_at")?.unwrap_or(created_at);
                caller_ids.push(CallerId {
                    seq: 0,
                    id: c.id.unwrap_or_else(|| self.providers.caller_id_id(provider, &self.ids)),
                    phone_number: number.e164,
                    country: c.country.unwrap_or(number.country),
                    label: c.label,
                    subaccount: c.subaccount,
                    requested_channel: None,
                    created_at,
                    updated_at,
                });
            }
            loaded += caller_ids.len();
            self.insert_account(&key, account.auth_token, caller_ids);
        }
        Ok(loaded)
    }
}
