//! Secret detectors for added lines: well-known token formats (AWS, GitHub, Slack,
//! Google, Stripe, JWT, PEM private keys) and high-entropy values assigned to secret-ish names.

/// One detected secret: what kind, and a masked preview safe to print.
#[derive(Debug, Clone, PartialEq)]
pub struct Secret {
    pub kind: &'static str,
    pub column: u32,
    pub preview: String,
}

pub struct Options {
    pub entropy: f64,
    pub min_length: usize,
    pub generic: bool,
    pub unquoted: bool,
}

fn mask(s: &str) -> String {
    let head: String = s.chars().take(4).collect();
    format!("{head}… ({} chars)", s.chars().count())
}

/// Shannon entropy in bits per character.
pub fn entropy(s: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let mut n = 0usize;
    for c in s.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    counts.values().fold(0.0, |h, &k| {
        let p = k as f64 / n as f64;
        h - p * p.log2()
    })
}

fn is_b(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}

/// Every `prefix` + run of `ok` chars at a word start, with the run's length in `min..=max`.
fn prefixed<'a>(
    line: &'a str,
    prefix: &str,
    ok: fn(u8) -> bool,
    min: usize,
    max: usize,
) -> Vec<(usize, &'a str)> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = line[from..].find(prefix) {
        let s = from + i;
        from = s + prefix.len();
        if s > 0 && (is_b(b[s - 1]) || b[s - 1] == b'_') {
            continue;
        }
        let mut e = s + prefix.len();
        while e < b.len() && ok(b[e]) {
            e += 1;
        }
        let n = e - s - prefix.len();
        if n >= min && n <= max {
            out.push((s, &line[s..e]));
        }
    }
    out
}

const AWS_PREFIXES: &[&str] = &[
    "AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA", "ABIA", "ACCA",
];
const SECRET_NAMES: &[&str] = &[
    "secret",
    "token",
    "password",
    "passwd",
    "api_key",
    "apikey",
    "api-key",
    "access_key",
    "accesskey",
    "private_key",
    "privatekey",
    "credential",
    "auth_key",
    "signing_key",
    "encryption_key",
];
const PLACEHOLDERS: &[&str] = &[
    "${",
    "{{",
    "<",
    "%s",
    "xxxx",
    "changeme",
    "change_me",
    "example",
    "placeholder",
    "dummy",
    "your_",
    "your-",
    "redacted",
    "****",
    "...",
    "process.env",
    "os.environ",
    "getenv",
];

/// `name = value` pairs on a line (`=`, `:`, `:=`, `=>`), the value a quoted literal
/// (`quoted = true`) or a bare token.
pub fn assignments(line: &str) -> Vec<(String, String, bool, usize)> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'=' || c == b':' {
            let prev = if i > 0 { b[i - 1] } else { b' ' };
            let next = b.get(i + 1).copied().unwrap_or(b' ');
            if matches!(prev, b'=' | b'!' | b'<' | b'>' | b':')
                || next == b'=' && c == b'='
                || (c == b':' && next == b':')
            {
                i += 1;
                continue;
            }
            // Name: identifier chars before, skipping spaces and a closing quote.
            let mut e = i;
            while e > 0 && b[e - 1] == b' ' {
                e -= 1;
            }
            if e > 0 && matches!(b[e - 1], b'"' | b'\'') {
                e -= 1;
            }
            let mut s = e;
            while s > 0
                && (b[s - 1].is_ascii_alphanumeric() || matches!(b[s - 1], b'_' | b'-' | b'.'))
            {
                s -= 1;
            }
            let name = line[s..e].to_string();
            // Value.
            let mut v = i + 1;
            if c == b':' && next == b'=' || c == b'=' && next == b'>' {
                v += 1;
            }
            while v < b.len() && b[v] == b' ' {
                v += 1;
            }
            // Skip string prefixes like b"..", r"..", f"..".
            if v + 1 < b.len()
                && matches!(b[v], b'b' | b'r' | b'f' | b'u')
                && matches!(b[v + 1], b'"' | b'\'')
            {
                v += 1;
            }
            if v < b.len() && matches!(b[v], b'"' | b'\'' | b'`') {
                let q = b[v];
                if let Some(end) = line[v + 1..].bytes().position(|x| x == q) {
                    out.push((name, line[v + 1..v + 1 + end].to_string(), true, v + 1));
                    i = v + 1 + end + 1;
                    continue;
                }
            } else if v < b.len() {
                let end = line[v..]
                    .find(|ch: char| ch.is_whitespace() || ch == ',' || ch == ';' || ch == ')')
                    .map(|x| v + x)
                    .unwrap_or(b.len());
                if !name.is_empty() {
                    out.push((name, line[v..end].to_string(), false, v));
                }
            }
        }
        i += 1;
    }
    out.retain(|(n, _, _, _)| !n.is_empty());
    out
}

/// Secrets on one added line.
pub fn scan(line: &str, opts: &Options) -> Vec<Secret> {
    let out = std::cell::RefCell::new(Vec::new());
    let push = |kind: &'static str, col: usize, tok: &str| {
        out.borrow_mut().push(Secret {
            kind,
            column: col as u32 + 1,
            preview: mask(tok),
        });
    };
    let upper_num = |c: u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    let alnum = |c: u8| c.is_ascii_alphanumeric();
    let alnum_ = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let alnum_dash = |c: u8| c.is_ascii_alphanumeric() || c == b'-';
    let b64url = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
    for p in AWS_PREFIXES {
        for (s, t) in prefixed(line, p, upper_num, 16, 16) {
            push("AWS access key id", s, t);
        }
    }
    for p in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
        for (s, t) in prefixed(line, p, alnum, 36, 255) {
            push("GitHub token", s, t);
        }
    }
    for (s, t) in prefixed(line, "github_pat_", alnum_, 22, 255) {
        push("GitHub fine-grained token", s, t);
    }
    for p in ["xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-", "xoxe-"] {
        for (s, t) in prefixed(line, p, alnum_dash, 10, 255) {
            push("Slack token", s, t);
        }
    }
    if let Some(s) = line.find("hooks.slack.com/services/T") {
        push("Slack webhook URL", s, &line[s..]);
    }
    for (s, t) in prefixed(line, "AIza", b64url, 35, 35) {
        push("Google API key", s, t);
    }
    for p in ["sk_live_", "rk_live_"] {
        for (s, t) in prefixed(line, p, alnum, 16, 255) {
            push("Stripe live key", s, t);
        }
    }
    if let Some(s) = line.find("-----BEGIN") {
        if line[s..].contains("PRIVATE KEY") {
            push("private key", s, "-----BEGIN");
        }
    }
    for (s, t) in prefixed(
        line,
        "eyJ",
        |c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.',
        20,
        4096,
    ) {
        let parts: Vec<&str> = t.split('.').collect();
        if parts.len() == 3
            && parts[0].len() >= 10
            && parts[1].starts_with("eyJ")
            && parts[1].len() >= 10
            && parts[2].len() >= 10
        {
            push("JWT", s, t);
        }
    }
    let lower = line.to_lowercase();
    let mut aws_secret = false;
    if lower.contains("aws") && lower.contains("secret") {
        for (_, v, _, col) in assignments(line) {
            if v.len() == 40
                && v.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'/' || c == b'+' || c == b'=')
            {
                push("AWS secret access key", col, &v);
                aws_secret = true;
            }
        }
    }
    if opts.generic && out.borrow().is_empty() && !aws_secret {
        for (name, v, quoted, col) in assignments(line) {
            let n = name.to_lowercase();
            if !SECRET_NAMES.iter().any(|k| n.contains(k)) || (!quoted && !opts.unquoted) {
                continue;
            }
            let lv = v.to_lowercase();
            if v.chars().count() < opts.min_length
                || v.contains(char::is_whitespace)
                || PLACEHOLDERS.iter().any(|p| lv.contains(p))
            {
                continue;
            }
            if !quoted
                && (v.contains('(') || !v.chars().any(|c| c.is_ascii_digit()) || v.starts_with('$'))
            {
                continue;
            }
            if entropy(&v) >= opts.entropy {
                push("high-entropy secret", col, &v);
            }
        }
    }
    out.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Options {
        Options {
            entropy: 3.5,
            min_length: 12,
            generic: true,
            unquoted: false,
        }
    }

    fn kinds(line: &str) -> Vec<&'static str> {
        scan(line, &opts()).into_iter().map(|s| s.kind).collect()
    }

    #[test]
    fn known_formats() {
        assert_eq!(
            kinds(r#"AWS_ACCESS_KEY_ID = "AKIAZ3MQ7RBTXW5LPN2K""#),
            ["AWS access key id"]
        );
        assert_eq!(kinds("key: ASIAIOSFODNN7EXAMPLE"), ["AWS access key id"]);
        assert!(
            kinds("AKIAZ3MQ7RBTXW5LPN2KX").is_empty(),
            "17 chars is not a key id"
        );
        assert_eq!(
            kinds(r#"aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8sT1vWb3""#),
            ["AWS secret access key"]
        );
        assert_eq!(
            kinds("token = 'ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'"),
            ["GitHub token"]
        );
        assert_eq!(
            kinds("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"),
            ["GitHub fine-grained token"]
        );
        assert_eq!(
            kinds("SLACK=xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOp"),
            ["Slack token"]
        );
        assert_eq!(
            kinds(r#"const key = "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY";"#),
            ["Google API key"]
        );
        assert_eq!(
            kinds("stripe.api_key = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'"),
            ["Stripe live key"]
        );
        assert!(kinds("stripe.api_key = 'sk_test_4eC39HqLyjWDarjtT1zdp7dc'")
            .iter()
            .all(|k| *k == "high-entropy secret"));
        assert_eq!(kinds("-----BEGIN RSA PRIVATE KEY-----"), ["private key"]);
        assert_eq!(
            kinds("-----BEGIN OPENSSH PRIVATE KEY-----"),
            ["private key"]
        );
        assert!(kinds("-----BEGIN PUBLIC KEY-----").is_empty());
        assert_eq!(
            kinds("Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
            ["JWT"]
        );
    }

    #[test]
    fn generic_assignments_by_entropy() {
        assert_eq!(
            kinds(r#"API_TOKEN = "q8Zr2vT0xLw9KpM4sN7b""#),
            ["high-entropy secret"]
        );
        assert_eq!(
            kinds(r#"  "client_secret": "9f8e7d6c5b4a3f2e1d0c9b8a","#),
            ["high-entropy secret"]
        );
        assert!(kinds(r#"password = "password""#).is_empty());
        assert!(kinds(r#"token = os.environ["API_TOKEN"]"#).is_empty());
        assert!(kinds(r#"secret = "${SECRET_FROM_VAULT_PLEASE}""#).is_empty());
        assert!(kinds(r#"let token_count = tokens.len();"#).is_empty());
        assert!(
            kinds(r#"name = "q8Zr2vT0xLw9KpM4sN7b""#).is_empty(),
            "not a secret-ish name"
        );
        assert!(entropy("aaaa") < 0.01 && (entropy("abcd") - 2.0).abs() < 1e-9);
    }
}
