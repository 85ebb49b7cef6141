//! Credentials: lenient by default, or only declared accounts and tokens (`--strict-auth`).

use super::Core;
use super::store::AccountKey;

/// The outcome of a credentials check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    Ok,
    /// Missing, malformed or wrong credentials.
    Unauthorized,
    /// Good credentials of another account than the request names.
    Forbidden,
}

impl Core {
    /// Checks credentials: `user` (with `secret`, when the provider has one) claims to act for
    /// the account the request names (`path_account`). By default any well-formed credentials
    /// of the named account pass; with strict auth only declared accounts, with their token.
    pub fn check_auth(&self, provider: &'static str, path_account: &str, user: &str, secret: Option<&str>) -> Auth {
        if !self.strict_auth {
            return if user == path_account { Auth::Ok } else { Auth::Unauthorized };
        }
        let state = self.state.lock();
        let Some(ns) = state.store.namespace(&AccountKey::new(provider, user)).filter(|ns| ns.declared) else {
            return Auth::Unauthorized;
        };
        if ns.auth_token.as_deref().is_some_and(|token| Some(token) != secret) {
            return Auth::Unauthorized;
        }
        if user == path_account { Auth::Ok } else { Auth::Forbidden }
    }

    /// The token an account was given in fixtures, if any.
    pub fn auth_token(&self, key: &AccountKey) -> Option<String> {
        self.state.lock().store.namespace(key)?.auth_token.clone()
    }
}
