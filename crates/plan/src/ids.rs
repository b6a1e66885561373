//! Recognising task ids in text: `T001`, `T1.1`, `T046B`, `ST-1`, `A1`, `proj-7sk`, `Task 1.1`.
//! Shared by heading, checklist and dependency parsing.

/// Length of the id at the start of `s`, if one starts there and ends at a word boundary.
/// Does not check the character before `s`.
pub fn scan_id(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let n = b.len();
    let mut i = 0;
    if i < n && b[i].is_ascii_uppercase() {
        while i < n && i < 5 && b[i].is_ascii_uppercase() {
            i += 1;
        }
        if i >= n {
            return None;
        }
        let hyphen = b[i] == b'-' && i + 1 < n && b[i + 1].is_ascii_digit();
        if hyphen {
            i += 1;
        }
        if !b[i].is_ascii_digit() {
            return None;
        }
        i = digits_dotted(b, i);
        // a hyphenated id keeps its further numeric parts: `T-103-01`, `REQ-2-14`
        while hyphen && i + 1 < n && b[i] == b'-' && b[i + 1].is_ascii_digit() {
            i = digits_dotted(b, i + 1);
        }
        // a milestone-prefixed id: `M19-T001` (another prefix after the hyphen; `T001-T004`,
        // one prefix twice, is a range)
        if !hyphen {
            i += prefixed_part(b, i, &b[..prefix_len(b)]);
        }
        // a suffix letter: `T046B`, `T3a`
        if i < n && b[i].is_ascii_alphabetic() && boundary(b, i + 1) {
            i += 1;
        }
        // a variant suffix: `T031-MIN`, `T12-ALT` (not a range `T001-T004`)
        i += variant_suffix(&b[i..]);
        return if boundary(b, i) { Some(i) } else { None };
    }
    if i < n && b[i].is_ascii_lowercase() {
        // tracker keys: proj-7sk, bd-42
        while i < n && b[i].is_ascii_lowercase() {
            i += 1;
        }
        if i < 2 || i >= n || b[i] != b'-' {
            return None;
        }
        i += 1;
        let start = i;
        let mut digit = false;
        while i < n && (b[i].is_ascii_lowercase() || b[i].is_ascii_digit()) {
            digit |= b[i].is_ascii_digit();
            i += 1;
        }
        if !digit || i == start || i - start > 12 {
            return None;
        }
        return if boundary(b, i) { Some(i) } else { None };
    }
    None
}

/// Length of the uppercase prefix at the start of `b`.
fn prefix_len(b: &[u8]) -> usize {
    b.iter().take_while(|c| c.is_ascii_uppercase()).count()
}

/// Length of a `-T001` part at `b[i..]` whose letters differ from `first` (the id's own prefix).
fn prefixed_part(b: &[u8], i: usize, first: &[u8]) -> usize {
    if b.get(i) != Some(&b'-') {
        return 0;
    }
    let letters = prefix_len(&b[i + 1..]);
    let j = i + 1 + letters;
    if !(1..=3).contains(&letters)
        || &b[i + 1..j] == first
        || !b.get(j).is_some_and(u8::is_ascii_digit)
    {
        return 0;
    }
    let end = digits_dotted(b, j);
    end - i
}

/// Length of `-MIN`-like suffix at the start of `b`: a hyphen and 2 to 6 capitals ending a word.
fn variant_suffix(b: &[u8]) -> usize {
    if b.first() != Some(&b'-') {
        return 0;
    }
    let caps = b[1..].iter().take_while(|c| c.is_ascii_uppercase()).count();
    if (2..=6).contains(&caps) && boundary(b, 1 + caps) {
        1 + caps
    } else {
        0
    }
}

/// Length of a tracker key with no digit (`proj-ory`, `bd-yed`) at the start of `s`.
/// Such keys look like hyphenated words (`follow-up`), so callers accept them only beside
/// sibling keys with the same prefix that do have a digit, or when a task has that id.
pub fn scan_loose_key(s: &str) -> Option<usize> {
    if let Some(n) = scan_id(s) {
        return s.as_bytes()[0].is_ascii_lowercase().then_some(n);
    }
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_lowercase() {
        i += 1;
    }
    if i < 2 || i >= b.len() || b[i] != b'-' {
        return None;
    }
    i += 1;
    let start = i;
    while i < b.len() && (b[i].is_ascii_lowercase() || b[i].is_ascii_digit()) {
        i += 1;
    }
    if !(2..=12).contains(&(i - start)) || (i < b.len() && b[i] == b'-') {
        return None;
    }
    boundary(b, i).then_some(i)
}

/// The prefix of a tracker key: `proj` for `proj-7sk`.
pub fn key_prefix(id: &str) -> Option<&str> {
    let (p, rest) = id.split_once('-')?;
    (p.len() >= 2 && !rest.is_empty() && p.bytes().all(|c| c.is_ascii_lowercase())).then_some(p)
}

/// Length of a dotted number (`1`, `1.2`, `3.10.1`) at the start of `s`, ending at a boundary.
pub fn scan_number(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.is_empty() || !b[0].is_ascii_digit() {
        return None;
    }
    let i = digits_dotted(b, 0);
    if i > 12 {
        return None;
    }
    if boundary(b, i) {
        Some(i)
    } else {
        None
    }
}

fn digits_dotted(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    while i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    i
}

fn boundary(b: &[u8], i: usize) -> bool {
    i >= b.len()
        || !(b[i].is_ascii_alphanumeric() || b[i] == b'_' || (b[i] >= 0x80 && !is_dash_start(b, i)))
}

fn is_dash_start(b: &[u8], i: usize) -> bool {
    // en dash, em dash, arrows and box drawing start with 0xE2
    b[i] == 0xE2
}

/// Whether the char before byte `i` of `s` is a word boundary.
pub fn boundary_before(s: &str, i: usize) -> bool {
    if i == 0 {
        return true;
    }
    let c = s[..i].chars().next_back().unwrap_or(' ');
    !(c.is_alphanumeric() || c == '_' || c == '-' || c == '.' || c == '/')
}

/// Split an id into a prefix and its trailing number for range expansion: `T007` -> (`T`, 7, 3).
pub fn split_numbered(id: &str) -> Option<(&str, u64, usize)> {
    let digits_start = id.rfind(|c: char| !c.is_ascii_digit()).map_or(0, |i| i + 1);
    let digits = &id[digits_start..];
    if digits.is_empty() || digits.len() > 9 {
        return None;
    }
    Some((&id[..digits_start], digits.parse().ok()?, digits.len()))
}

/// Ids that are milestones, not tasks (`M1`, `M12`).
pub fn is_milestone_id(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() >= 2 && b[0] == b'M' && b[1..].iter().all(|c| c.is_ascii_digit())
}

/// Uppercase tokens that look like ids but never are: `US1` is a user story, `P1` a priority,
/// `FR-016` / `NFR-2` / `SC-003` / `AC-1` requirements and criteria, `CVE-…`, `RFC 9110`, `ADR-7`.
pub fn is_non_task_id(id: &str) -> bool {
    let prefix: String = id.chars().take_while(|c| c.is_ascii_uppercase()).collect();
    matches!(
        prefix.as_str(),
        "US" | "P"
            | "H"
            | "V"
            | "Q"
            | "UTF"
            | "SHA"
            | "MD"
            | "HTTP"
            | "TLS"
            | "SSL"
            | "ISO"
            | "RFC"
            | "CVE"
            | "ES"
            | "PR"
            | "GPT"
            | "OAUTH"
            | "MP"
            | "X"
            | "R"
            | "S"
            | "W"
            | "AES"
            | "RSA"
            | "PEP"
            | "E"
            | "FR"
            | "NFR"
            | "SC"
            | "REQ"
            | "AC"
            | "UC"
            | "ADR"
            | "CWE"
            | "GHSA"
            | "NF"
            | "BR"
            | "STORY"
            | "EPIC"
    ) || id.starts_with("SHA")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert_eq!(scan_id("T001: x"), Some(4));
        assert_eq!(scan_id("T1.1 x"), Some(4));
        assert_eq!(scan_id("T046B – x"), Some(5));
        assert_eq!(scan_id("ST-1: x"), Some(4));
        assert_eq!(scan_id("A1. x"), Some(2));
        assert_eq!(scan_id("proj-7sk: x"), Some(8));
        assert_eq!(scan_id("T1-T4"), Some(2));
        assert_eq!(scan_id("T001–T007"), Some(4));
        assert_eq!(scan_id("Task"), None);
        assert_eq!(scan_id("TODO"), None);
        assert_eq!(scan_id("follow-up"), None);
        assert_eq!(scan_loose_key("proj-ory: x"), Some(8));
        assert_eq!(scan_loose_key("proj-7sk"), Some(8));
        assert_eq!(scan_loose_key("end-to-end"), None);
        assert_eq!(scan_loose_key("T001"), None);
        assert!(is_non_task_id("FR-016") && is_non_task_id("NFR-2") && is_non_task_id("SC-003"));
        assert_eq!(scan_number("1.1 (x)"), Some(3));
        assert_eq!(scan_number("1. Title"), Some(1));
        assert_eq!(split_numbered("T007"), Some(("T", 7, 3)));
        assert_eq!(split_numbered("ST-12"), Some(("ST-", 12, 2)));
    }
}
