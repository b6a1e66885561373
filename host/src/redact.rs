//! Secrets the policy passes into the box (`[policy] env`, `[policy.plugins.NAME] env`)
//! cut out of what planexec keeps: agent transcripts, summaries and evidence.

use crate::config::Policy;

/// Values shorter than this are not secrets worth a search (`1`, `yes`).
const MIN_LEN: usize = 6;

/// The values of the host variables passed through to one plugin's programs.
pub struct Secrets {
    /// (variable name, its value), longest value first.
    values: Vec<(String, String)>,
}

impl Secrets {
    /// What `plugin`'s programs get from the host through the policy.
    /// And the values of `[policy.secrets]` (the proxy adds them to requests).
    pub fn passed_to(policy: &Policy, plugin: &str) -> Secrets {
        let mut s = Secrets::from_names(
            &policy.env_for(plugin),
            |k| std::env::var(k).ok(),
            std::env::vars(),
        );
        let keys = crate::proxy::Secret::from_policy(&policy.secrets, |k| std::env::var(k).ok());
        s.values.extend(keys.into_iter().map(|k| (k.name, k.value)));
        s.values.retain(|(_, v)| v.trim().len() >= MIN_LEN);
        s.values.sort_by_key(|v| std::cmp::Reverse(v.1.len()));
        s
    }

    /// Whether `text` holds any of the values (a task diff that would commit one).
    pub fn found_in(&self, text: &str) -> Vec<&str> {
        self.values
            .iter()
            .filter(|(_, v)| text.contains(v.as_str()))
            .map(|(n, _)| n.as_str())
            .collect()
    }

    fn from_names(
        names: &[String],
        host: impl Fn(&str) -> Option<String>,
        all: impl Iterator<Item = (String, String)>,
    ) -> Secrets {
        let mut values: Vec<(String, String)> = names
            .iter()
            .filter(|n| !n.ends_with('*'))
            .filter_map(|n| host(n).map(|v| (n.clone(), v)))
            .collect();
        let prefixes: Vec<&str> = names.iter().filter_map(|n| n.strip_suffix('*')).collect();
        values.extend(all.filter(|(k, _)| prefixes.iter().any(|p| k.starts_with(p))));
        values.retain(|(_, v)| v.trim().len() >= MIN_LEN);
        values.sort_by_key(|v| std::cmp::Reverse(v.1.len()));
        Secrets { values }
    }

    /// `text` with every value replaced by `[redacted: NAME]`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (name, value) in &self.values {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), &format!("[redacted: {name}]"));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passed_values_are_cut_out_and_short_or_other_ones_stay() {
        let host = |k: &str| match k {
            "ANTHROPIC_API_KEY" => Some("sk-ant-123456".to_string()),
            "DEBUG" => Some("1".to_string()),
            _ => None,
        };
        let all = vec![
            ("AIDER_TOKEN".to_string(), "tok-abcdef".to_string()),
            ("OTHER".to_string(), "not-passed-value".to_string()),
        ];
        let names = ["ANTHROPIC_API_KEY".into(), "DEBUG".into(), "AIDER_*".into()];
        let s = Secrets::from_names(&names, host, all.into_iter());
        let out = s.redact("key sk-ant-123456, tok-abcdef, debug 1, not-passed-value");
        assert_eq!(
            out,
            "key [redacted: ANTHROPIC_API_KEY], [redacted: AIDER_TOKEN], debug 1, not-passed-value"
        );
    }
}
