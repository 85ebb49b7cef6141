//! One folder per emulated provider. Each owns everything about its API: its path prefix, its
//! routes, wire types and error envelope, its flags, the query parameters that carry secrets,
//! and the webhooks it sends. The rest of the server reaches it only through [`Provider`].
//!
//! Adding a provider: a folder here with a `Provider` and an `Options`, and its name in the
//! [`registry!`] line at the bottom of this file. Nothing outside the folder names it.

pub(crate) mod compat;
pub(crate) mod voice_xml;

use crate::core::ids::Ids;
use crate::core::model::{Call, CallError, Verification};
use crate::core::{Core, ProviderFacts};
use crate::delivery::{Document, Render, Webhook};
use crate::faults::Target;
use crate::http::{Request, Response};

/// Everything the server needs from a provider.
pub(crate) trait Provider: Send + Sync {
    /// The name in the control plane, fault rules and state files.
    fn name(&self) -> &'static str;
    /// The path prefixes its API lives under (`&[&["v1"]]`; several for an API with several
    /// roots). A request goes to the provider with the longest prefix its path starts with
    /// (among those serving its host, through the proxy), so a nested prefix is never shadowed
    /// by a shorter one (`["api", "relay", "rest"]` beside `["api"]`). `prepare` gets the path
    /// after the prefix; the request's full path tells a provider with several which one.
    fn prefixes(&self) -> &'static [&'static [&'static str]];
    /// The base URL an SDK should be pointed at, given the server's origin (for the banner).
    fn base_url(&self, origin: &str) -> String;
    /// The hosts its SDKs call (`*` stands for one label, as in `api.*.twilio.com`): the
    /// emulator answers for them through its proxy and `--tls-bind`, and its CA may sign for
    /// their domains (the last two labels) only.
    fn hosts(&self) -> &'static [&'static str];
    /// The operation names of [`Target::operation`], for fault rules and the docs.
    fn operations(&self) -> &'static [&'static str];
    /// Query or form parameters whose values are secrets (redacted in the request journal).
    fn secret_params(&self) -> &'static [&'static str] {
        &[]
    }
    /// The account name is itself a secret (an API key): shown masked in journals, logs and the
    /// inbox, matched in full by filters.
    fn account_is_secret(&self) -> bool {
        false
    }
    /// Parses a request once (`rest` is the path after the prefix): what it is, for fault rules
    /// and the journal, and the work that answers it.
    fn prepare<'a>(&'a self, core: &'a Core, req: &'a Request, rest: &'a [&'a str]) -> Prepared<'a>;
    /// Answers a request for `path` that the server refuses before (or instead of) the
    /// provider's own work (the path tells a provider with several APIs which one's shape).
    fn refuse(&self, core: &Core, path: &str, why: Refusal) -> Response;
    /// A fresh caller-ID id in the provider's shape.
    fn caller_id_id(&self, ids: &Ids) -> String;
    /// The webhook that tells the application a validation call ended, if it asked for one.
    fn call_ended(&self, _v: &Verification, _ids: &Ids) -> Option<Webhook> {
        None
    }
    /// The webhooks that tell the application an outbound call moved to its current state
    /// (status callbacks, ring and hang-up URLs, events), as the request asked for them.
    fn call_moved(&self, _call: &Call, _ids: &Ids) -> Vec<Webhook> {
        Vec::new()
    }
    /// How an answered call's document (TwiML, XML) is read, if the provider reads one.
    fn document(&self, _call: &Call, _ids: &Ids) -> Option<Document> {
        None
    }
    /// Runs what was read for a call's document (`Err`: why nothing could be): the provider's
    /// error if it cannot be run (the call then ends), checking any caller ID it presents with
    /// [`Core::may_present`].
    fn run_document(&self, _core: &Core, _call: &Call, _read: Result<&[u8], &str>) -> Option<CallError> {
        None
    }
    /// Variables its SDKs read to find the API, with a value that reaches the emulator through
    /// the proxy: `callerid-mock env` sets each only where the user has not.
    fn env_defaults(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }
    /// The public keys its webhooks are verified with (`GET /_mock/keys`), derived from the
    /// server's secret ([`Ids::secret`]).
    fn public_keys(&self, _ids: &Ids) -> Vec<PublicKey> {
        Vec::new()
    }
}

/// A public key an application verifies the provider's webhooks with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PublicKey {
    pub algorithm: &'static str,
    /// What it verifies (`webhooks`).
    pub purpose: &'static str,
    /// The key as the provider's console shows it (base64).
    pub key: String,
    /// The environment variable the provider's SDKs read it from, if they read one.
    pub env: Option<&'static str>,
}

/// A request parsed by its provider.
pub(crate) struct Prepared<'a> {
    pub target: Target,
    pub run: Box<dyn FnOnce() -> Response + Send + 'a>,
}

/// Why the server answers a provider request itself; each provider renders every case in its
/// own shape.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Refusal<'a> {
    /// A fault rule's error: status, the provider's code if the rule gives one, the message.
    Injected { status: u16, code: Option<u64>, message: &'a str },
    /// The body is larger than the server reads (`limit` bytes).
    BodyTooLarge { limit: usize },
    /// The body did not arrive in time.
    BodyTimeout,
    /// The change was made but the state file could not be written (the cause): not kept.
    NotSaved(&'a str),
}

/// Every provider of this build.
pub(crate) struct Registry {
    all: Vec<Box<dyn Provider>>,
}

impl Registry {
    pub fn all(&self) -> impl Iterator<Item = &dyn Provider> {
        self.all.iter().map(|p| &**p)
    }

    pub fn by_name(&self, name: &str) -> Option<&dyn Provider> {
        self.all().find(|p| p.name() == name)
    }

    /// The provider a request for `host` (lowercase, no port; `None` when it named none of the
    /// providers' hosts) with path `segs` goes to, and the segments after its prefix: the
    /// longest prefix `segs` starts with, among the providers that serve `host` if any do. A
    /// path no prefix of those matches goes whole to the first of them, which answers its own
    /// 404; without a host, to nobody.
    pub fn route<'s, 'a>(
        &'s self,
        host: Option<&str>,
        segs: &'a [&'a str],
    ) -> Option<(&'s dyn Provider, &'a [&'a str])> {
        let serving: Vec<&dyn Provider> = match host {
            Some(host) => self.all().filter(|p| p.hosts().iter().any(|pattern| host_matches(pattern, host))).collect(),
            None => Vec::new(),
        };
        let candidates: Vec<&dyn Provider> = if serving.is_empty() { self.all().collect() } else { serving.clone() };
        let best = candidates
            .iter()
            .flat_map(|p| p.prefixes().iter().map(move |prefix| (*p, *prefix)))
            .filter(|(_, prefix)| segs.starts_with(prefix))
            .max_by_key(|(_, prefix)| prefix.len());
        match best {
            Some((p, prefix)) => Some((p, &segs[prefix.len()..])),
            None => serving.first().map(|p| (*p, segs)),
        }
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.all().map(|p| p.name()).collect()
    }

    /// Whether a provider's SDKs call `host` (lowercase, no port).
    pub fn serves_host(&self, host: &str) -> bool {
        self.all().flat_map(|p| p.hosts()).any(|pattern| host_matches(pattern, host))
    }

    /// The domains the providers' hosts are under (`twilio.com`, …), sorted: the CA's name
    /// constraints.
    pub fn domains(&self) -> Vec<String> {
        let mut domains: Vec<String> = self
            .all()
            .flat_map(|p| p.hosts())
            .map(|host| {
                // The last two labels: after the second dot from the end, if there is one.
                let start = host.rmatch_indices('.').nth(1).map_or(0, |(dot, _)| dot + 1);
                host[start..].to_owned()
            })
            .collect();
        domains.sort();
        domains.dedup();
        domains
    }
}

/// `pattern` with `*` standing for exactly one label.
fn host_matches(pattern: &str, host: &str) -> bool {
    let (mut p, mut h) = (pattern.split('.'), host.split('.'));
    loop {
        match (p.next(), h.next()) {
            (None, None) => return true,
            (Some("*"), Some(label)) if !label.is_empty() => {}
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

impl Render for Registry {
    fn call_ended(&self, v: &Verification, ids: &Ids) -> Option<Webhook> {
        self.by_name(v.key.provider)?.call_ended(v, ids)
    }

    fn call_moved(&self, call: &Call, ids: &Ids) -> Vec<Webhook> {
        self.by_name(call.key.provider).map(|p| p.call_moved(call, ids)).unwrap_or_default()
    }

    fn document(&self, call: &Call, ids: &Ids) -> Option<Document> {
        self.by_name(call.key.provider)?.document(call, ids)
    }

    fn run_document(&self, core: &Core, call: &Call, read: Result<&[u8], &str>) -> Option<CallError> {
        self.by_name(call.key.provider)?.run_document(core, call, read)
    }
}

impl ProviderFacts for Registry {
    fn names(&self) -> Vec<&'static str> {
        Registry::names(self)
    }

    fn caller_id_id(&self, provider: &'static str, ids: &Ids) -> String {
        self.by_name(provider).expect("the core only holds names the registry gave it").caller_id_id(ids)
    }
}

/// Declares the providers: their modules, the flags each brings (`ProviderOptions`), and the
/// registry built from them.
macro_rules! registry {
    ($($name:ident),* $(,)?) => {
        $(pub(crate) mod $name;)*

        /// Every provider's own flags.
        #[derive(clap::Args, Clone, Debug, Default)]
        pub struct ProviderOptions {
            $(#[command(flatten)] pub $name: $name::Options,)*
        }

        impl Registry {
            pub(crate) fn new(options: &ProviderOptions) -> Registry {
                Registry { all: vec![$(Box::new($name::Api::new(&options.$name)) as Box<dyn Provider>),*] }
            }
        }
    };
}

registry!(plivo, twilio, seven, telnyx, signalwire);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_match_by_label_and_give_the_ca_its_domains() {
        let registry = Registry::new(&ProviderOptions::default());
        let mut domains = Vec::new();
        for pattern in registry.all().flat_map(|p| p.hosts()) {
            // Each pattern's own host, `*` standing for a label: served, and nothing around it.
            let host = pattern.replace('*', "any-label");
            assert!(registry.serves_host(&host), "{host}");
            let labels: Vec<&str> = host.split('.').collect();
            for refused in
                [labels[1..].join("."), format!("evil.{host}"), format!("{host}.evil.net"), host.replacen('.', "..", 1)]
            {
                assert!(!registry.serves_host(&refused), "{refused}");
            }
            domains.push(labels[labels.len() - 2..].join("."));
        }
        assert!(!registry.serves_host(""));
        domains.sort();
        domains.dedup();
        assert_eq!(registry.domains(), domains, "the CA's domains are the hosts' last two labels");
    }

    #[test]
    fn no_provider_shadows_another() {
        let registry = Registry::new(&ProviderOptions::default());
        let mut seen = Vec::new();
        for p in registry.all() {
            assert!(!p.prefixes().is_empty(), "{} has a prefix", p.name());
            for prefix in p.prefixes() {
                assert!(!seen.contains(prefix), "{} repeats the prefix {prefix:?}", p.name());
                seen.push(*prefix);
                // Any path under the prefix reaches this provider, with or without its host.
                let mut segs: Vec<&str> = prefix.to_vec();
                segs.push("anything");
                let hosts: Vec<Option<String>> =
                    std::iter::once(None).chain(p.hosts().iter().map(|h| Some(h.replace('*', "any-label")))).collect();
                for host in &hosts {
                    let (got, rest) = registry.route(host.as_deref(), &segs).expect("routed");
                    assert_eq!((got.name(), rest), (p.name(), &["anything"][..]), "{segs:?} for {host:?}");
                }
            }
        }
    }

    #[test]
    fn a_providers_host_keeps_its_requests() {
        let registry = Registry::new(&ProviderOptions::default());
        for p in registry.all() {
            for host in p.hosts() {
                let host = host.replace('*', "any-label");
                // Another provider's path, sent to this provider's host: this provider answers.
                for other in registry.all().filter(|o| o.name() != p.name()) {
                    let segs: Vec<&str> = other.prefixes()[0].iter().copied().chain(["x"]).collect();
                    if p.prefixes().iter().any(|prefix| segs.starts_with(prefix)) {
                        continue;
                    }
                    let (got, _) = registry.route(Some(&host), &segs).expect("routed");
                    assert_eq!(got.name(), p.name(), "{segs:?} at {host}");
                }
            }
        }
    }
}
