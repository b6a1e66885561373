//! Keys that never enter the box: `[policy.secrets]` gives programs a placeholder,
//! and the proxy puts the real value into request headers for the listed hosts only.

use serde::Deserialize;

/// `[policy.secrets] NAME = { from_env = "NAME", hosts = ["api.example.com"] }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRule {
    /// The host variable holding the value.
    pub from_env: String,
    /// Hosts (`name`, `name:port`, an address) whose requests get the real value.
    pub hosts: Vec<String>,
}

/// One secret as the proxy uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    /// The variable the box sees (holding the placeholder).
    pub name: String,
    pub placeholder: String,
    pub value: String,
    pub hosts: Vec<String>,
}

/// What the box's variable holds instead of the value.
pub fn placeholder(name: &str) -> String {
    format!("planexec-placeholder-{name}")
}

impl Secret {
    /// The policy's secrets whose host variable is set (`host` reads one).
    pub fn from_policy(
        rules: &std::collections::BTreeMap<String, SecretRule>,
        host: impl Fn(&str) -> Option<String>,
    ) -> Vec<Secret> {
        rules
            .iter()
            .filter_map(|(name, r)| {
                let value = host(&r.from_env).filter(|v| !v.is_empty())?;
                Some(Secret {
                    name: name.clone(),
                    placeholder: placeholder(name),
                    value,
                    hosts: r.hosts.iter().map(|h| super::rules::normalise(h)).collect(),
                })
            })
            .collect()
    }

    /// Whether requests to `host:port` get the real value.
    pub fn for_host(&self, host: &str, port: u16) -> bool {
        let with_port = super::resolve::shown(host, port);
        self.hosts.iter().any(|h| *h == host || *h == with_port)
    }
}

/// `head` (a request head) with each placeholder of a secret for `host:port`
/// replaced by its value, in header lines only (never the request line).
pub fn substitute(head: &str, secrets: &[Secret], host: &str, port: u16) -> String {
    let mine: Vec<&Secret> = secrets.iter().filter(|s| s.for_host(host, port)).collect();
    if mine.is_empty() {
        return head.to_string();
    }
    let (first, rest) = head.split_once("\r\n").unwrap_or((head, ""));
    let mut rest = rest.to_string();
    for s in mine {
        rest = rest.replace(&s.placeholder, &s.value);
    }
    format!("{first}\r\n{rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_hosts_get_the_value_and_only_in_headers() {
        let mut rules = std::collections::BTreeMap::new();
        rules.insert(
            "KEY".to_string(),
            SecretRule {
                from_env: "HOST_KEY".into(),
                hosts: vec!["api.example.com".into(), "127.0.0.1:8080".into()],
            },
        );
        let s = Secret::from_policy(&rules, |k| (k == "HOST_KEY").then(|| "sk-real".into()));
        let p = placeholder("KEY");
        let head = format!("GET /?k={p} HTTP/1.1\r\nAuthorization: Bearer {p}\r\n\r\n");
        let out = substitute(&head, &s, "api.example.com", 443);
        assert!(
            out.contains("Authorization: Bearer sk-real") && out.contains(&format!("?k={p}")),
            "{out}"
        );
        assert!(substitute(&head, &s, "127.0.0.1", 8080).contains("Bearer sk-real"));
        assert_eq!(substitute(&head, &s, "127.0.0.1", 8081), head);
        assert_eq!(substitute(&head, &s, "evil.example.com", 443), head);
        assert!(Secret::from_policy(&rules, |_| None).is_empty());
    }
}
