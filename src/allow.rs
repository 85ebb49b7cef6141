//! `--callback-allow`: the hosts and networks webhooks may go to. An entry is a host name, an IP
//! or a CIDR network; with none given, webhooks may go anywhere.

/// An entry of `--callback-allow`: a host name, or an IP network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Allowed {
    Host(String),
    Net(std::net::IpAddr, u8),
}

impl Allowed {
    fn permits(&self, host: &str) -> bool {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        match (self, bare.parse::<std::net::IpAddr>()) {
            (Allowed::Host(name), _) => name.eq_ignore_ascii_case(bare),
            (Allowed::Net(net, bits), Ok(ip)) => in_network(ip, *net, *bits),
            (Allowed::Net(..), Err(_)) => false,
        }
    }
}

fn in_network(ip: std::net::IpAddr, net: std::net::IpAddr, bits: u8) -> bool {
    use std::net::IpAddr::{V4, V6};
    match (ip, net) {
        (V4(ip), V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (V6(ip), V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

/// Reads a `--callback-allow` value: `10.0.0.0/8`, `::1/128`, `127.0.0.1`, or a host name.
pub fn parse_allowed(s: &str) -> Result<Allowed, String> {
    let s = s.trim();
    if let Some((ip, bits)) = s.split_once('/') {
        let ip: std::net::IpAddr = ip.parse().map_err(|_| format!("{s:?} is not a CIDR such as 10.0.0.0/8"))?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let bits: u8 =
            bits.parse().ok().filter(|b| *b <= max).ok_or_else(|| format!("{s:?}: the prefix is 0 to {max}"))?;
        return Ok(Allowed::Net(ip, bits));
    }
    match s.parse::<std::net::IpAddr>() {
        Ok(ip) => Ok(Allowed::Net(ip, if ip.is_ipv4() { 32 } else { 128 })),
        Err(_) if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c)) => {
            Ok(Allowed::Host(s.to_ascii_lowercase()))
        }
        Err(_) => Err(format!("{s:?} is not a host name, an IP or a CIDR")),
    }
}

/// Whether `--callback-allow` lets a webhook go to `url` (everything, when it is empty).
pub(crate) fn permitted(allowed: &[Allowed], url: &str) -> Result<(), String> {
    if allowed.is_empty() {
        return Ok(());
    }
    let host = url.parse::<hyper::Uri>().ok().and_then(|u| u.host().map(str::to_owned)).unwrap_or_default();
    if allowed.iter().any(|a| a.permits(&host)) {
        Ok(())
    } else {
        Err(format!("refused: {host:?} is not allowed by --callback-allow"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allowlist_matches_names_and_networks() {
        let allowed: Vec<Allowed> =
            ["10.0.0.0/8", "::1", "receiver.test"].iter().map(|s| parse_allowed(s).unwrap()).collect();
        assert!(permitted(&allowed, "http://10.1.2.3:9000/cb").is_ok());
        assert!(permitted(&allowed, "http://[::1]:9000/cb").is_ok());
        assert!(permitted(&allowed, "http://RECEIVER.test/cb").is_ok());
        assert!(permitted(&allowed, "http://11.0.0.1/cb").is_err());
        assert!(permitted(&allowed, "http://169.254.169.254/latest").is_err());
        assert!(permitted(&[], "http://anywhere/").is_ok());
        assert!(parse_allowed("10.0.0.0/33").is_err());
        assert!(parse_allowed("bad host!").is_err());
    }
}
