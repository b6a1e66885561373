//! Markdown and YAML escaping for the markdown formatters.
//! Text from tools and reviewers is untrusted: it must not break tables or fences.

/// A table cell: one line, pipes escaped, blank shown as `—`.
pub fn cell(s: &str) -> String {
    let one = one_line(s);
    if one.is_empty() {
        return "—".into();
    }
    one.replace('\\', "\\\\").replace('|', "\\|")
}

/// Collapses newlines and runs of whitespace into single spaces.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Inline code that survives backticks in `s`.
pub fn code(s: &str) -> String {
    let s = one_line(s);
    let longest = longest_run(&s, '`');
    let fence = "`".repeat(longest + 1);
    if s.starts_with('`') || s.ends_with('`') {
        format!("{fence} {s} {fence}")
    } else {
        format!("{fence}{s}{fence}")
    }
}

/// A fenced code block holding `s` verbatim, indented by `indent`.
pub fn fenced(s: &str, indent: &str) -> String {
    let fence = "`".repeat(longest_run(s, '`').max(2) + 1);
    let mut out = format!("{indent}{fence}text\n");
    for line in s.trim_end_matches('\n').lines() {
        out.push_str(indent);
        out.push_str(line.trim_end_matches('\r'));
        out.push('\n');
    }
    out.push_str(indent);
    out.push_str(&fence);
    out.push('\n');
    out
}

fn longest_run(s: &str, ch: char) -> usize {
    let (mut best, mut cur) = (0, 0);
    for c in s.chars() {
        if c == ch {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

/// Text for a list item or paragraph: one line, with what would start HTML, an
/// entity or a block quote backslash-escaped (never an HTML entity: `->` stays
/// readable in the source, and renders as itself).
pub fn text(s: &str) -> String {
    let one = one_line(s);
    let mut o = String::with_capacity(one.len());
    let mut chars = one.chars().peekable();
    while let Some(c) = chars.next() {
        let entity = c == '&'
            && chars
                .peek()
                .is_some_and(|n| n.is_ascii_alphanumeric() || *n == '#');
        if c == '<' || entity || (c == '>' && o.is_empty()) {
            o.push('\\');
        }
        o.push(c);
    }
    o
}

/// A YAML double-quoted scalar (a JSON string is one).
pub fn yaml_str(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialise")
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_code() {
        assert_eq!(cell("a | b\nc"), "a \\| b c");
        assert_eq!(cell("  "), "—");
        assert_eq!(code("x`y"), "``x`y``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(text("<b>\nx"), "\\<b> x");
        assert_eq!(text("a -> b & c &amp; d"), "a -> b & c \\&amp; d");
        assert_eq!(text("> quoted"), "\\> quoted");
        assert_eq!(yaml_str("a \"b\"\n"), "\"a \\\"b\\\"\\n\"");
    }

    #[test]
    fn fences_outrun_backticks() {
        let f = fenced("a\n````\nb\n", "  ");
        assert!(f.starts_with("  `````text\n"));
        assert!(f.ends_with("  `````\n"));
        assert_eq!(tail("1\n2\n3", 2), "2\n3");
    }
}
