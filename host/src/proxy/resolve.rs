//! Names resolved on the host for the proxy, the address a connection may use
//! (public, or named by address in the allow list), and the test overrides.

use super::rules::{self, Allow};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

/// The host's resolver, with two test hooks read from the environment:
/// `PLANEXEC_TEST_PROXY_HOSTS="name=ip,..."` (answers for names) and
/// `PLANEXEC_TEST_PROXY_DIAL="ip:port=ip:port,..."` (where a checked address is really dialled).
#[derive(Debug, Clone, Default)]
pub struct Resolver {
    hosts: HashMap<String, IpAddr>,
    dial: HashMap<SocketAddr, SocketAddr>,
}

impl Resolver {
    pub fn from_env() -> Resolver {
        let pairs = |var: &str| -> Vec<(String, String)> {
            std::env::var(var)
                .unwrap_or_default()
                .split(',')
                .filter_map(|p| p.split_once('='))
                .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
                .collect()
        };
        Resolver {
            hosts: pairs("PLANEXEC_TEST_PROXY_HOSTS")
                .into_iter()
                .filter_map(|(n, ip)| Some((rules::normalise(&n), ip.parse().ok()?)))
                .collect(),
            dial: pairs("PLANEXEC_TEST_PROXY_DIAL")
                .into_iter()
                .filter_map(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
                .collect(),
        }
    }

    /// The address to dial for `host:port` under `allow`, or why not.
    pub fn decide(&self, allow: &Allow, host: &str, port: u16) -> Result<SocketAddr, String> {
        if !allow.admits(host, port) {
            return Err(format!(
                "not in the allow list ({}); add `{}` to the plugin's network allow list in planexec.toml",
                allow.describe(),
                shown(host, port)
            ));
        }
        let addrs = self.lookup(host, port)?;
        let ok = addrs
            .iter()
            .find(|a| rules::is_public(a.ip()) || allow.names_addr(a.ip(), port));
        match ok {
            Some(a) => Ok(self.dial.get(a).copied().unwrap_or(*a)),
            None => Err(format!(
                "{} is the host's own or a private address, reached only when the allow list names it \
                 (`{}`)",
                addrs
                    .first()
                    .map(|a| a.ip().to_string())
                    .unwrap_or_default(),
                addrs
                    .first()
                    .map(|a| shown(&a.ip().to_string(), port))
                    .unwrap_or_default()
            )),
        }
    }

    fn lookup(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        if let Some(ip) = self.hosts.get(host) {
            return Ok(vec![SocketAddr::new(*ip, port)]);
        }
        let v: Vec<SocketAddr> = (host, port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {host}: {e}"))?
            .collect();
        if v.is_empty() {
            return Err(format!("{host} has no address"));
        }
        Ok(v)
    }
}

/// `host:port`, with brackets around an IPv6 address.
pub fn shown(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}
