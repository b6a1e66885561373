//! Allow-list rules of a `network = { allow = [...] }` grant (`host:port`,
//! `*.domain:port`, `ip:port`) and which addresses count as the host's own.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// One `host:port` entry of an allow list.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rule {
    pub host: HostPattern,
    pub port: u16,
}

/// The host part of a rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum HostPattern {
    /// One name, lower-case, no trailing dot.
    Name(String),
    /// `*.example.org`: any name below `example.org` (not the name itself).
    Below(String),
    /// An address, the only way to allow loopback or private ones.
    Addr(IpAddr),
}

impl Rule {
    /// Parses `api.example.com:443`, `*.example.org:443`, `127.0.0.1:11434`, `[::1]:8080`.
    pub fn parse(s: &str) -> Result<Rule, String> {
        let bad = |why: &str| {
            format!(
                "network allow entry `{s}`: {why}; write `host:port` (`api.example.com:443`, \
                 `*.example.org:443`, `127.0.0.1:11434`, `[::1]:8080`)"
            )
        };
        let (host, port) = s.rsplit_once(':').ok_or_else(|| bad("no port"))?;
        let port: u16 = port
            .parse()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?;
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let unbracketed = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(&host);
        if let Ok(ip) = unbracketed.parse::<IpAddr>() {
            return Ok(Rule {
                host: HostPattern::Addr(ip),
                port,
            });
        }
        let (below, name) = match host.strip_prefix("*.") {
            Some(rest) => (true, rest.to_string()),
            None => (false, host.clone()),
        };
        if !valid_name(&name) {
            return Err(bad("the host is not a DNS name, `*.name` or an address"));
        }
        Ok(Rule {
            host: if below {
                HostPattern::Below(name)
            } else {
                HostPattern::Name(name)
            },
            port,
        })
    }

    /// Whether this rule admits `host` (normalised by [`normalise`]) on `port`.
    pub fn admits(&self, host: &str, port: u16) -> bool {
        if port != self.port {
            return false;
        }
        match &self.host {
            HostPattern::Name(n) => n == host,
            HostPattern::Below(n) => host
                .strip_suffix(n.as_str())
                .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
            HostPattern::Addr(ip) => host
                .parse::<IpAddr>()
                .is_ok_and(|h| canonical(h) == canonical(*ip)),
        }
    }

    /// Whether this rule names `ip` itself (how a non-public address is allowed).
    pub fn names_addr(&self, ip: IpAddr, port: u16) -> bool {
        matches!(&self.host, HostPattern::Addr(a) if canonical(*a) == canonical(ip))
            && port == self.port
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.host {
            HostPattern::Name(n) => write!(f, "{n}:{}", self.port),
            HostPattern::Below(n) => write!(f, "*.{n}:{}", self.port),
            HostPattern::Addr(IpAddr::V6(a)) => write!(f, "[{a}]:{}", self.port),
            HostPattern::Addr(a) => write!(f, "{a}:{}", self.port),
        }
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Rule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Rule, D::Error> {
        let s = String::deserialize(d)?;
        Rule::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// What a connection must pass: every list (the plugin's request, the policy's
/// grant) admits it. An empty set of lists admits nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Allow {
    pub lists: Vec<Vec<Rule>>,
}

impl Allow {
    pub fn admits(&self, host: &str, port: u16) -> bool {
        !self.lists.is_empty()
            && self
                .lists
                .iter()
                .all(|l| l.iter().any(|r| r.admits(host, port)))
    }

    /// Whether every list names `ip` by address (so a loopback or private one may be reached).
    pub fn names_addr(&self, ip: IpAddr, port: u16) -> bool {
        !self.lists.is_empty()
            && self
                .lists
                .iter()
                .all(|l| l.iter().any(|r| r.names_addr(ip, port)))
    }

    /// The rules of the narrowest list, for messages (`a:443, *.b:443`).
    pub fn describe(&self) -> String {
        let Some(l) = self.lists.iter().min_by_key(|l| l.len()) else {
            return "nothing".into();
        };
        l.iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A host as asked for, lower-case, without brackets or a trailing dot.
pub fn normalise(host: &str) -> String {
    let h = host.trim_end_matches('.').to_ascii_lowercase();
    h.strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .map(str::to_string)
        .unwrap_or(h)
}

fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 253
        && n.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// An IPv4-mapped IPv6 address as its IPv4 form.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// Whether `ip` is on the public internet: not loopback, private, link-local,
/// shared (CGNAT), unspecified, broadcast, multicast, or unique-local.
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || o[0] == 0
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_names_wildcards_and_addresses_and_refuse_the_rest() {
        let r = Rule::parse("API.Example.com.:443").unwrap();
        assert!(r.admits("api.example.com", 443));
        assert!(!r.admits("api.example.com", 80));
        assert!(!r.admits("evil-api.example.com", 443));
        let w = Rule::parse("*.example.org:443").unwrap();
        assert!(w.admits("a.b.example.org", 443));
        assert!(
            !w.admits("example.org", 443),
            "the wildcard is below the name"
        );
        assert!(!w.admits("badexample.org", 443));
        let a = Rule::parse("127.0.0.1:11434").unwrap();
        assert!(a.admits("127.0.0.1", 11434));
        assert!(a.names_addr("::ffff:127.0.0.1".parse().unwrap(), 11434));
        assert!(Rule::parse("[::1]:8080").unwrap().admits("::1", 8080));
        for bad in [
            "example.com",
            "example.com:0",
            "exa mple.com:443",
            "*:443",
            ":443",
        ] {
            let e = Rule::parse(bad).unwrap_err();
            assert!(e.contains(bad) && e.contains("host:port"), "{e}");
        }
        assert_eq!(w.to_string(), "*.example.org:443");
    }

    #[test]
    fn every_list_must_admit_and_the_host_own_ranges_are_not_public() {
        let l = |s: &[&str]| {
            s.iter()
                .map(|r| Rule::parse(r).unwrap())
                .collect::<Vec<_>>()
        };
        let allow = Allow {
            lists: vec![
                l(&["*.example.org:443"]),
                l(&["api.example.org:443", "x.test:80"]),
            ],
        };
        assert!(allow.admits("api.example.org", 443));
        assert!(
            !allow.admits("x.test", 80),
            "the first list does not admit it"
        );
        assert!(!Allow::default().admits("api.example.org", 443));
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["203.0.113.5", "8.8.8.8", "2001:4860::8888"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }
}
