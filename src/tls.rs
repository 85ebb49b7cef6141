//! The emulator's own certificate authority, and TLS for the providers' hosts.
//!
//! The CA is made the first time it is needed (a CONNECT tunnel, `--tls-bind`, `GET
//! /_mock/ca.pem`, `callerid-mock ca` or `env`) and kept in `--ca-dir`, so that trusting it
//! survives restarts: `ca.pem`, `ca-key.pem` (mode 0600) and `ca-domains` (the domains its name
//! constraints permit). It is a P-256 key whose certificate carries **name constraints** that
//! permit only the providers' domains (`twilio.com`, `plivo.com`, …): a client that trusts it
//! still refuses any certificate it might sign for another site.
//!
//! A CA users trust is never replaced behind their back. When a new provider brings a domain
//! the kept CA does not permit, the kept CA stays: its hosts go on working, the new domain's
//! hosts get no certificate, and the start-up log, `callerid-mock ca` and the handshake's log
//! line say so and how to renew (`callerid-mock ca --renew`, then trust the new `ca.pem`).
//!
//! A certificate for a provider host is minted on the first handshake that names it (SNI), at
//! most [`MAX_MINTED`] are kept; any other name gets no certificate and the handshake fails.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;
use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
    GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose, NameConstraints, PKCS_ECDSA_P256_SHA256,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha1::{Digest, Sha1};

/// Certificates minted for provider hosts and kept for later handshakes.
pub const MAX_MINTED: usize = 256;

const CERT_FILE: &str = "ca.pem";
const KEY_FILE: &str = "ca-key.pem";
const DOMAINS_FILE: &str = "ca-domains";
/// The line of `ca-domains` that says the CA excludes every IP address (CAs made before that
/// lack it, and are told to renew).
const IP_EXCLUDED: &str = "!ip-addresses-excluded";

/// Failed TLS handshakes are said in the log at most once every [`SUMMARY_EVERY`]: the first at
/// once, then how many failed since, so a client that fails in a loop cannot flood the log.
pub(crate) fn handshake_failed(place: &'static str, error: &dyn std::fmt::Display) {
    static LAST: std::sync::Mutex<Option<(std::time::Instant, u64)>> = std::sync::Mutex::new(None);
    let mut last = LAST.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let now = std::time::Instant::now();
    match &mut *last {
        Some((at, quiet)) if now.duration_since(*at) < SUMMARY_EVERY => *quiet += 1,
        slot => {
            let since = slot.map_or(0, |(_, quiet)| quiet);
            *slot = Some((now, 0));
            drop(last);
            tracing::info!(
                error = %error,
                more_since_the_last_line = since,
                "{place}: TLS handshake failed (does the client trust the emulator's CA? GET /_mock/ca.pem)"
            );
        }
    }
}

/// How often a failed TLS handshake may be said in the log.
const SUMMARY_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// The CA key is its owner's only: looser permissions are tightened to 0600, or the key refused.
fn tighten(key: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(key).map_err(|e| format!("{}: {e}", key.display()))?.permissions().mode();
    if mode & 0o077 == 0 {
        return Ok(());
    }
    std::fs::set_permissions(key, std::fs::Permissions::from_mode(0o600)).map_err(|e| {
        format!("{} is readable by others (mode {:o}) and cannot be made 0600: {e}", key.display(), mode & 0o777)
    })?;
    tracing::warn!(key = %key.display(), mode = format!("{:o}", mode & 0o777), "the CA key was readable by others: now 0600");
    Ok(())
}

/// The CA: its certificate, and what signs with its key.
pub struct Ca {
    pem: String,
    der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
    /// Where `ca.pem` is kept, if it could be written.
    pub path: Option<PathBuf>,
    /// The providers' domains this CA does not permit (it was kept from before they were
    /// added): their hosts get no certificate until the CA is renewed.
    pub missing: Vec<String>,
    /// A kept CA made before IP addresses were excluded from what it may sign for.
    pub ip_open: bool,
}

impl fmt::Debug for Ca {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ca").field("path", &self.path).finish_non_exhaustive()
    }
}

/// Where the CA is kept without `--ca-dir`: the user's cache directory.
pub fn default_dir() -> Option<PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".cache")))?;
    Some(cache.join("callerid-mock"))
}

impl Ca {
    /// The CA a server with `--ca-dir` `dir` uses (the default directory without one): one way
    /// to find it, for the server and the `ca` and `env` subcommands alike.
    pub fn for_dir(dir: Option<&Path>, domains: &[String]) -> Result<Ca, String> {
        let dir = dir.map(Path::to_path_buf).or_else(default_dir);
        Ca::load_or_create(dir.as_deref(), domains)
    }

    /// A new CA for these `domains` in place of the one kept in `dir` (or the default
    /// directory): what `callerid-mock ca --renew` does, and the only way a kept CA is replaced.
    pub fn renew(dir: Option<&Path>, domains: &[String]) -> Result<Ca, String> {
        let dir = dir.map(Path::to_path_buf).or_else(default_dir);
        Ca::create(dir.as_deref(), domains)
    }

    /// The CA kept in `dir` (whatever domains it permits: see [`Ca::missing`]), or a new one
    /// for these `domains`, kept there if `dir` can be written (otherwise it lives as long as
    /// the process, and the log says so).
    pub fn load_or_create(dir: Option<&Path>, domains: &[String]) -> Result<Ca, String> {
        if let Some(dir) = dir
            && let Some(ca) = Ca::load(dir, domains)?
        {
            return Ok(ca);
        }
        Ca::create(dir, domains)
    }

    fn create(dir: Option<&Path>, domains: &[String]) -> Result<Ca, String> {
        let wanted = domains.join("\n");
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(|e| format!("cannot make a CA key: {e}"))?;
        let params = ca_params(&key, domains);
        let cert = params.self_signed(&key).map_err(|e| format!("cannot make the CA certificate: {e}"))?;
        let mut ca = Ca {
            pem: cert.pem(),
            der: cert.der().clone(),
            issuer: Issuer::new(params, key),
            path: None,
            missing: Vec::new(),
            ip_open: false,
        };
        match dir.map(|dir| ca.keep(dir, &wanted).map(|()| dir.join(CERT_FILE))) {
            Some(Ok(path)) => {
                tracing::info!(path = %path.display(), "made a new CA for the providers' hosts: trust this certificate");
                ca.path = Some(path);
            }
            Some(Err(e)) => {
                tracing::warn!(error = %e, "the CA cannot be kept: it lasts until exit (GET /_mock/ca.pem)")
            }
            None => tracing::warn!("no --ca-dir and no cache directory: the CA lasts until exit (GET /_mock/ca.pem)"),
        }
        Ok(ca)
    }

    /// The CA kept in `dir`, if there is one, with the domains of `wanted` it does not permit.
    fn load(dir: &Path, wanted: &[String]) -> Result<Option<Ca>, String> {
        let read = |name: &str| std::fs::read_to_string(dir.join(name));
        let (Ok(pem), Ok(key), Ok(domains)) = (read(CERT_FILE), read(KEY_FILE), read(DOMAINS_FILE)) else {
            return Ok(None);
        };
        let permitted: Vec<String> = domains
            .lines()
            .map(str::trim)
            .filter(|d| !d.is_empty() && !d.starts_with('!'))
            .map(str::to_owned)
            .collect();
        let ip_open = !domains.lines().any(|l| l.trim() == IP_EXCLUDED);
        if ip_open {
            tracing::warn!(
                dir = %dir.display(),
                "the kept CA was made before IP addresses were excluded from what it may sign for: renew it \
                 (`callerid-mock ca --renew`, then trust the new ca.pem)"
            );
        }
        tighten(&dir.join(KEY_FILE))?;
        let missing: Vec<String> = wanted.iter().filter(|d| !permitted.contains(d)).cloned().collect();
        if !missing.is_empty() {
            tracing::warn!(
                dir = %dir.display(),
                missing = ?missing,
                "the kept CA predates these providers' domains and cannot sign for them: their hosts get no \
                 certificate until it is renewed (`callerid-mock ca --renew`, then trust the new ca.pem); the \
                 other providers' hosts go on working"
            );
        }
        let key =
            KeyPair::from_pem(&key).map_err(|e| format!("{}: not a CA key ({e})", dir.join(KEY_FILE).display()))?;
        let der = rustls::pki_types::pem::PemObject::from_pem_slice(pem.as_bytes())
            .map_err(|e| format!("{}: not a certificate ({e:?})", dir.join(CERT_FILE).display()))?;
        let params = ca_params(&key, &permitted);
        Ok(Some(Ca { pem, der, issuer: Issuer::new(params, key), path: Some(dir.join(CERT_FILE)), missing, ip_open }))
    }

    /// Writes the CA into `dir`: the key readable by its owner only.
    fn keep(&self, dir: &Path, domains: &str) -> std::io::Result<()> {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        std::fs::create_dir_all(dir)?;
        let mut key =
            std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(dir.join(KEY_FILE))?;
        key.write_all(self.issuer.key().serialize_pem().as_bytes())?;
        std::fs::write(dir.join(CERT_FILE), &self.pem)?;
        std::fs::write(dir.join(DOMAINS_FILE), format!("{domains}\n{IP_EXCLUDED}\n"))
    }

    /// The CA certificate, PEM.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// A certificate for `host` signed by the CA, with its key, for rustls; refused for a host
    /// of a domain the CA does not permit ([`Ca::missing`]).
    pub fn mint(&self, host: &str) -> Result<CertifiedKey, String> {
        if let Some(domain) = self.missing.iter().find(|d| host == d.as_str() || host.ends_with(&format!(".{d}"))) {
            return Err(format!(
                "the kept CA predates {domain}: renew it with `callerid-mock ca --renew` and trust the new ca.pem"
            ));
        }
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(|e| e.to_string())?;
        let mut params = CertificateParams::new(vec![host.to_owned()]).map_err(|e| e.to_string())?;
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, host);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let year = this_year();
        params.not_before = rcgen::date_time_ymd(year - 1, 1, 1);
        params.not_after = rcgen::date_time_ymd(year + 2, 1, 1);
        let cert = params.signed_by(&key, &self.issuer).map_err(|e| e.to_string())?;
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let signer = rustls::crypto::ring::sign::any_ecdsa_type(&der).map_err(|e| e.to_string())?;
        Ok(CertifiedKey::new(vec![cert.der().clone(), self.der.clone()], signer))
    }
}

/// The CA's parameters: everything but the key is derived from the key and the domains, so a
/// kept key signs as the kept certificate does.
fn ca_params(key: &KeyPair, domains: &[String]) -> CertificateParams {
    let mut params = CertificateParams::default();
    let id: String = Sha1::digest(key.public_key_raw()).iter().take(4).map(|b| format!("{b:02x}")).collect();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::OrganizationName, "callerid-mock");
    params.distinguished_name.push(DnType::CommonName, format!("callerid-mock CA {id}"));
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    // Every IP address is excluded: a certificate it signs is valid for the providers' names only,
    // never for an address (`IP:127.0.0.1`, or an address beside a provider's name).
    params.name_constraints = Some(NameConstraints {
        permitted_subtrees: domains.iter().map(|d| GeneralSubtree::DnsName(d.clone())).collect(),
        excluded_subtrees: vec![
            GeneralSubtree::IpAddress(CidrSubnet::V4([0; 4], [0; 4])),
            GeneralSubtree::IpAddress(CidrSubnet::V6([0; 16], [0; 16])),
        ],
    });
    params
}

/// The year now (UTC, to within a day): a minted certificate is valid from the start of the
/// year before to the start of the year after next.
fn this_year() -> i32 {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    1970 + (secs as f64 / (365.2425 * 86_400.0)) as i32
}

/// Answers each TLS handshake for a provider host with a certificate minted for it.
pub struct Minter {
    ca: Arc<Ca>,
    serves: Box<dyn Fn(&str) -> bool + Send + Sync>,
    minted: Mutex<HashMap<String, Arc<CertifiedKey>>>,
}

impl fmt::Debug for Minter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Minter").field("ca", &self.ca).finish_non_exhaustive()
    }
}

impl Minter {
    pub fn new(ca: Arc<Ca>, serves: impl Fn(&str) -> bool + Send + Sync + 'static) -> Minter {
        Minter { ca, serves: Box::new(serves), minted: Mutex::new(HashMap::new()) }
    }

    /// The certificate for `host`, minted once; none for a host no provider serves.
    pub fn certificate(&self, host: &str) -> Option<Arc<CertifiedKey>> {
        let host = host.to_ascii_lowercase();
        if !(self.serves)(&host) {
            tracing::debug!(host, "TLS for a host no provider serves: no certificate");
            return None;
        }
        if let Some(key) = self.minted.lock().get(&host) {
            return Some(key.clone());
        }
        let key = Arc::new(self.ca.mint(&host).inspect_err(|e| tracing::warn!(host, error = %e, "cannot mint")).ok()?);
        let mut minted = self.minted.lock();
        if minted.len() >= MAX_MINTED {
            minted.clear();
        }
        minted.insert(host, key.clone());
        Some(key)
    }

    /// A rustls server configuration that answers with these certificates (HTTP/2 or 1.1).
    pub fn server_config(self) -> Result<Arc<rustls::ServerConfig>, String> {
        let mut config =
            rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .with_no_client_auth()
                .with_cert_resolver(Arc::new(self));
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

impl ResolvesServerCert for Minter {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.certificate(hello.server_name()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::{ServerName, UnixTime};

    fn verifier(ca: &Ca) -> Arc<rustls::client::WebPkiServerVerifier> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.der.clone()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider).build().unwrap()
    }

    fn verify(ca: &Ca, cert: &CertifiedKey, name: &str) -> Result<(), rustls::Error> {
        let name = ServerName::try_from(name.to_owned()).unwrap();
        verifier(ca).verify_server_cert(&cert.cert[0], &cert.cert[1..], &name, &[], UnixTime::now()).map(|_| ())
    }

    #[test]
    fn a_client_trusting_the_ca_accepts_provider_hosts_and_refuses_any_other_name() {
        let ca = Ca::load_or_create(None, &["twilio.com".into(), "plivo.com".into()]).unwrap();
        assert_eq!(verify(&ca, &ca.mint("api.twilio.com").unwrap(), "api.twilio.com"), Ok(()));
        assert_eq!(verify(&ca, &ca.mint("api.sydney.au1.twilio.com").unwrap(), "api.sydney.au1.twilio.com"), Ok(()));
        // The CA's key signs a certificate for another site (as a stolen key could): the name
        // constraints make a client refuse it.
        let forged = ca.mint("www.example.com").unwrap();
        let refused = verify(&ca, &forged, "www.example.com").unwrap_err();
        assert!(format!("{refused:?}").contains("NameConstraintViolation"), "{refused:?}");
    }

    /// A leaf for `names` (DNS names or IP addresses) signed by the CA's key, as a stolen key
    /// could sign it.
    fn forged(ca: &Ca, names: &[&str]) -> CertifiedKey {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        let cert = params.signed_by(&key, &ca.issuer).unwrap();
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        CertifiedKey::new(
            vec![cert.der().clone(), ca.der.clone()],
            rustls::crypto::ring::sign::any_ecdsa_type(&der).unwrap(),
        )
    }

    #[test]
    fn a_client_trusting_the_ca_refuses_a_certificate_for_an_ip_address() {
        let ca = Ca::load_or_create(None, &["twilio.com".into()]).unwrap();
        for (names, name) in [
            (&["127.0.0.1"][..], "127.0.0.1"),
            (&["::1"][..], "::1"),
            (&["api.twilio.com", "10.0.0.1"][..], "10.0.0.1"),
            (&["api.twilio.com", "10.0.0.1"][..], "api.twilio.com"),
        ] {
            let refused = verify(&ca, &forged(&ca, names), name).unwrap_err();
            assert!(format!("{refused:?}").contains("NameConstraintViolation"), "{names:?} as {name}: {refused:?}");
        }
        assert_eq!(verify(&ca, &forged(&ca, &["api.twilio.com"]), "api.twilio.com"), Ok(()));
    }

    #[test]
    fn a_kept_key_readable_by_others_is_made_the_owners_only() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = std::env::temp_dir().join(format!("callerid-mock-ca-mode-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = Ca::load_or_create(Some(&dir), &["twilio.com".into()]).unwrap();
        std::fs::set_permissions(dir.join(KEY_FILE), std::fs::Permissions::from_mode(0o644)).unwrap();
        let again = Ca::load_or_create(Some(&dir), &["twilio.com".into()]).unwrap();
        assert_eq!(again.pem(), first.pem(), "the same CA");
        assert_eq!(std::fs::metadata(dir.join(KEY_FILE)).unwrap().permissions().mode() & 0o777, 0o600);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_ca_is_kept_and_read_back_and_only_renewed_when_asked() {
        let dir = std::env::temp_dir().join(format!("callerid-mock-ca-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let domains = vec!["twilio.com".to_owned()];
        let first = Ca::load_or_create(Some(&dir), &domains).unwrap();
        let mode =
            std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(dir.join(KEY_FILE)).unwrap().permissions());
        assert_eq!(mode & 0o777, 0o600, "the key is its owner's only");
        let again = Ca::load_or_create(Some(&dir), &domains).unwrap();
        assert_eq!(first.pem(), again.pem(), "trust survives a restart");
        assert_eq!(
            verify(&first, &again.mint("api.twilio.com").unwrap(), "api.twilio.com"),
            Ok(()),
            "the kept key signs"
        );
        // A new provider's domain does not replace the CA users trust: it is kept, and says
        // what it cannot sign for.
        let wider = vec!["telnyx.com".to_owned(), "twilio.com".to_owned()];
        let kept = Ca::load_or_create(Some(&dir), &wider).unwrap();
        assert_eq!((kept.pem(), kept.missing.clone()), (first.pem(), vec!["telnyx.com".to_owned()]));
        assert_eq!(verify(&first, &kept.mint("api.twilio.com").unwrap(), "api.twilio.com"), Ok(()));
        let refused = kept.mint("api.telnyx.com").err().unwrap();
        assert!(refused.contains("callerid-mock ca --renew"), "{refused}");
        // Renewing is explicit, and then it is kept in turn.
        let renewed = Ca::renew(Some(&dir), &wider).unwrap();
        assert_ne!(renewed.pem(), first.pem());
        assert!(renewed.missing.is_empty());
        let again = Ca::load_or_create(Some(&dir), &wider).unwrap();
        assert_eq!((again.pem(), again.missing.len()), (renewed.pem(), 0));
        assert_eq!(verify(&again, &again.mint("api.telnyx.com").unwrap(), "api.telnyx.com"), Ok(()));
        // Fewer domains than it permits: the same CA, nothing missing.
        let narrower = Ca::load_or_create(Some(&dir), &["twilio.com".to_owned()]).unwrap();
        assert_eq!((narrower.pem(), narrower.missing.len()), (renewed.pem(), 0));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_minter_answers_only_for_hosts_it_serves() {
        let ca = Arc::new(Ca::load_or_create(None, &["twilio.com".into()]).unwrap());
        let minter = Minter::new(ca, |h| h == "api.twilio.com");
        assert!(minter.certificate("API.Twilio.com").is_some());
        assert!(Arc::ptr_eq(
            &minter.certificate("api.twilio.com").unwrap(),
            &minter.certificate("api.twilio.com").unwrap()
        ));
        assert!(minter.certificate("www.example.com").is_none());
    }
}
