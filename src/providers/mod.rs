//! One module per emulated provider. Each owns its wire format (routes, serde types, error
//! envelope) and talks to the provider-neutral [`crate::core`] for state and time.
//!
//! Adding a provider: a folder here, a line in [`NAMES`]/[`Registry`]/[`base_urls`], and a line
//! in the router.

pub(crate) mod plivo;

use crate::core::snapshot::IdShapes;
use crate::core::Core;

/// The providers this build emulates, by the name the control plane and state files use.
pub(crate) const NAMES: &[&str] = &[plivo::NAME];

/// Provider facts the core needs without knowing any provider.
pub(crate) struct Registry;

impl IdShapes for Registry {
    fn provider(&self, name: &str) -> Option<&'static str> {
        NAMES.iter().copied().find(|n| *n == name)
    }

    fn caller_id_id(&self, provider: &'static str, core: &Core) -> String {
        match provider {
            plivo::NAME => core.ids.uuid_v4(),
            _ => unreachable!("Registry::provider only returns known names"),
        }
    }
}

/// `(provider, base URL an SDK should be pointed at)` for the start-up banner.
pub(crate) fn base_urls(origin: &str) -> Vec<(&'static str, String)> {
    vec![(plivo::NAME, format!("{origin}/v1/Account/{{auth_id}}/"))]
}
