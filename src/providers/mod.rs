//! One module per emulated provider. Each owns its wire format (routes, serde types, error
//! envelope) and talks to the provider-neutral [`crate::core`] for state and time.
//!
//! Adding a provider: a folder here with an [`Entry`], and a line in [`ALL`].

pub(crate) mod plivo;
pub(crate) mod seven;
pub(crate) mod twilio;

use crate::App;
use crate::core::Providers;
use crate::core::callbacks::Webhook;
use crate::core::faults::Target;
use crate::core::ids::Ids;
use crate::core::store::{AccountKey, Verification};
use crate::http::{Request, Response};

/// An error a fault rule injects, to be rendered in the provider's own shape.
pub(crate) struct InjectedError<'a> {
    pub status: u16,
    pub code: Option<u64>,
    pub message: &'a str,
}

/// Everything the router and the core need from a provider.
pub(crate) struct Entry {
    /// The name in the control plane and state files.
    pub name: &'static str,
    /// The first path segment of its API (`v1`, `2010-04-01`, `api`).
    pub prefix: &'static str,
    /// What a request is (operation, account, number) before it runs; `segs` follow the prefix.
    pub classify: fn(&Request, &[&str]) -> Target,
    /// Answers a request; `segs` follow the prefix.
    pub handle: fn(&App, &Request, &[&str]) -> Response,
    /// Renders an injected error in the provider's shape.
    pub fault: fn(&App, &InjectedError) -> Response,
    /// The base URL an SDK should be pointed at, given the server's origin.
    pub base_url: fn(&str) -> String,
    /// A fresh caller-ID id in the provider's shape.
    pub caller_id_id: fn(&Ids) -> String,
    /// The webhook reporting a validation call's end, if the request asked for one.
    pub call_ended: fn(&AccountKey, &Verification, &Ids) -> Option<Webhook>,
}

/// Every provider this build emulates.
pub(crate) const ALL: &[Entry] = &[plivo::ENTRY, twilio::ENTRY, seven::ENTRY];

/// The provider whose API starts with path segment `prefix`.
pub(crate) fn by_prefix(prefix: &str) -> Option<&'static Entry> {
    ALL.iter().find(|e| e.prefix == prefix)
}

pub(crate) fn by_name(name: &str) -> Option<&'static Entry> {
    ALL.iter().find(|e| e.name == name)
}

/// The providers' names, for messages.
pub(crate) fn names() -> Vec<&'static str> {
    ALL.iter().map(|e| e.name).collect()
}

/// Provider facts the core needs without knowing any provider.
pub(crate) struct Registry;

impl Providers for Registry {
    fn provider(&self, name: &str) -> Option<&'static str> {
        by_name(name).map(|e| e.name)
    }

    fn caller_id_id(&self, provider: &'static str, ids: &Ids) -> String {
        let entry = by_name(provider).expect("the core only holds names the registry gave it");
        (entry.caller_id_id)(ids)
    }

    fn call_ended(&self, key: &AccountKey, v: &Verification, ids: &Ids) -> Option<Webhook> {
        (by_name(key.provider)?.call_ended)(key, v, ids)
    }
}
