//! A Java KeyStore (JKS) of trusted certificates, for `-Djavax.net.ssl.trustStore`: the JVM reads
//! no CA variable, and Java 17 reads no PEM trust store. The format is small and fixed:
//! `FEEDFEED`, version 2, the entry count, then per entry tag 2 (a trusted certificate), its
//! alias and creation time, `X.509` and the DER; last a SHA-1 of the password (UTF-16BE),
//! the words "Mighty Aphrodite" and everything before it.

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use sha1::{Digest, Sha1};

/// The password the store is written with (Java's default for `cacerts`); it guards integrity
/// only, and trust stores hold no secret.
pub const PASSWORD: &str = "changeit";

/// The certificates of a PEM `bundle` as a JKS trust store; the last one (the emulator's CA)
/// is named `callerid-mock`, the others `cert<N>`. Unreadable PEM blocks are skipped.
pub fn trust_store(bundle: &str) -> Vec<u8> {
    let certs: Vec<CertificateDer> = CertificateDer::pem_slice_iter(bundle.as_bytes()).filter_map(Result::ok).collect();
    let mut out = Vec::with_capacity(64 + certs.iter().map(|c| c.len() + 48).sum::<usize>());
    out.extend(0xFEED_FEED_u32.to_be_bytes());
    out.extend(2_u32.to_be_bytes());
    out.extend((certs.len() as u32).to_be_bytes());
    for (i, cert) in certs.iter().enumerate() {
        let alias = if i + 1 == certs.len() { "callerid-mock".to_owned() } else { format!("cert{i}") };
        out.extend(2_u32.to_be_bytes());
        utf(&mut out, &alias);
        out.extend(0_u64.to_be_bytes());
        utf(&mut out, "X.509");
        out.extend((cert.len() as u32).to_be_bytes());
        out.extend_from_slice(cert);
    }
    let mut digest = Sha1::new();
    for unit in PASSWORD.encode_utf16() {
        digest.update(unit.to_be_bytes());
    }
    digest.update(b"Mighty Aphrodite");
    digest.update(&out);
    out.extend(digest.finalize());
    out
}

/// Java's modified UTF-8 as `DataOutput.writeUTF` writes it (ASCII here): a u16 length, the bytes.
fn utf(out: &mut Vec<u8>, s: &str) {
    out.extend((s.len() as u16).to_be_bytes());
    out.extend(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    const CA: &str = "-----BEGIN CERTIFICATE-----\nMIIBkTCB+wIJAKHHIG1fGx5BMA0GCSqGSIb3DQEBCwUAMBExDzANBgNVBAMMBnRl\nc3RjYTAeFw0yNjAxMDEwMDAwMDBaFw0zNjAxMDEwMDAwMDBaMBExDzANBgNVBAMM\nBnRlc3RjYTBcMA0GCSqGSIb3DQEBAQUAA0sAMEgCQQC7\n-----END CERTIFICATE-----\n";

    #[test]
    fn the_store_holds_every_certificate_and_a_digest_over_the_password() {
        let der: Vec<u8> = CertificateDer::from_pem_slice(CA.as_bytes()).unwrap().to_vec();
        let store = trust_store(&format!("{CA}\n{CA}"));
        assert_eq!(&store[..12], &[0xFE, 0xED, 0xFE, 0xED, 0, 0, 0, 2, 0, 0, 0, 2]);
        // Entry 1: tag, alias "cert0", time, type, length, DER.
        let mut entry = vec![0, 0, 0, 2, 0, 5];
        entry.extend(b"cert0");
        entry.extend([0; 8]);
        entry.extend([0, 5]);
        entry.extend(b"X.509");
        entry.extend((der.len() as u32).to_be_bytes());
        entry.extend(&der);
        assert_eq!(&store[12..12 + entry.len()], &entry[..]);
        let second = &store[12 + entry.len()..];
        assert_eq!(&second[4..6 + 13], b"\0\rcallerid-mock", "the last certificate is the emulator's CA");
        let (body, digest) = store.split_at(store.len() - 20);
        let mut want = Sha1::new();
        want.update(b"\0c\0h\0a\0n\0g\0e\0i\0t");
        want.update(b"Mighty Aphrodite");
        want.update(body);
        assert_eq!(digest, &want.finalize()[..]);
    }
}
