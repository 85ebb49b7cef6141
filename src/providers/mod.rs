//! One module per emulated provider. Each owns its wire format (routes, serde types, error
//! envelope) and talks to the provider-neutral [`crate::core`] for state and time.
//!
//! Adding a provider: a folder here, a line in [`NAMES`]/[`Registry`]/[`base_urls`], and a line
//! in the router.

pub(crate) mod plivo;
pub(crate) mod seven;
pub(crate) mod twilio;

use crate::core::callbacks::Webhook;
use crate::core::ids::Ids;
use crate::core::store::{AccountKey, Verification};
use crate::core::Providers;

/// The providers this build emulates, by the name the control plane and state files use.
pub(crate) const NAMES: &[&str] = &[plivo::NAME, twilio::NAME, seven::NAME];

/// Provider facts the core needs without knowing any provider.
pub(crate) struct Registry;

impl Providers for Registry {
    fn provider(&self, name: &str) -> Option<&'static str> {
        NAMES.iter().copied().find(|n| *n == name)
    }

    fn caller_id_id(&self, provider: &'static str, ids: &Ids) -> String {
        match provider {
            plivo::NAME => ids.uuid_v4(),
            twilio::NAME => ids.sid("PN"),
            seven::NAME => seven::caller_id_id(ids),
            _ => unreachable!("Registry::provider only returns known names"),
        }
    }

    fn call_ended(&self, key: &AccountKey, v: &Verification, ids: &Ids) -> Option<Webhook> {
        match key.provider {
            twilio::NAME => twilio::call_ended(key, v, ids),
            seven::NAME => seven::call_ended(key, v, ids),
            _ => None,
        }
    }
}

/// `(provider, base URL an SDK should be pointed at)` for the start-up banner.
pub(crate) fn base_urls(origin: &str) -> Vec<(&'static str, String)> {
    vec![
        (plivo::NAME, format!("{origin}/v1/Account/{{auth_id}}/")),
        (twilio::NAME, origin.to_owned()),
        (seven::NAME, format!("{origin}/api")),
    ]
}
