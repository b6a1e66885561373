//! Small text helpers shared by the host's modules, and the one escape applied
//! to untrusted text (plugins, tools, repositories) before anyone reads it.

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Makes untrusted text safe for a terminal, a log file and GitHub Actions: colour
/// codes (SGR, `ESC [ ... m`) are dropped, other control characters (ESC, CR, C1, DEL; newline and tab kept) and bidi
/// overrides become visible `\xNN` / `\u{NNNN}` escapes, and a line that would
/// start a workflow command (`::`) gets its colons split (`: :`). Idempotent.
pub fn untrusted(s: &str) -> String {
    let s = &strip_sgr(s);
    let mut out = String::with_capacity(s.len());
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let body = line.trim_start();
        let indent = &line[..line.len() - body.len()];
        let (indent, body) = match body.strip_prefix("::") {
            Some(rest) => (format!("{indent}: :"), rest),
            None => (indent.to_string(), body),
        };
        escape_chars(&indent, &mut out);
        escape_chars(body, &mut out);
    }
    out
}

/// `s` without SGR sequences (`ESC [` digits, `;` or `:`, then `m`: colours, bold), which
/// tools print for a terminal and which say nothing once escaped as text.
pub fn strip_sgr(s: &str) -> String {
    if !s.contains('\x1b') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("\x1b[") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let params = after
            .find(|c: char| !(c.is_ascii_digit() || c == ';' || c == ':'))
            .unwrap_or(after.len());
        if after[params..].starts_with('m') {
            rest = &after[params + 1..];
        } else {
            out.push_str("\x1b[");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn escape_chars(s: &str, out: &mut String) {
    for c in s.chars() {
        let bidi = matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}');
        if c == '\t' || !(c.is_control() || bidi) {
            out.push(c);
        } else if (c as u32) < 0x100 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:04x}}}", c as u32));
        }
    }
}

/// Makes untrusted text safe inside HTML element content and quoted attribute
/// values: [`untrusted`] first (control and bidi characters visible), then
/// `& < > " '` as character references. Not for unquoted attributes, URLs or scripts.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in untrusted(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `n` and the noun, plural unless one: `1 gate`, `2 gates`, `0 warnings`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `s` cut to at most `max` bytes on a character boundary.
pub fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_codes_are_dropped_and_other_escapes_kept_visible() {
        assert_eq!(
            strip_sgr("\x1b[31mFAILED\x1b[0m x\x1b[1;32m ok\x1b[m"),
            "FAILED x ok"
        );
        assert_eq!(untrusted("\x1b[31mred\x1b[0m \x1b[2J"), "red \\x1b[2J");
        assert_eq!(strip_sgr("\x1b[38:5:1mc\x1b["), "c\x1b[");
    }

    #[test]
    fn escapes_terminal_and_workflow_commands() {
        assert_eq!(untrusted("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(untrusted("ok\r\nx"), "ok\\x0d\nx");
        assert_eq!(untrusted("x\n  ::error::boom"), "x\n  : :error::boom");
        assert_eq!(untrusted("::stop-commands::t"), ": :stop-commands::t");
        assert_eq!(untrusted("\u{202E}abc\u{9b}"), "\\u{202e}abc\\x9b");
        assert_eq!(untrusted("tab\there a::b"), "tab\there a::b");
        assert_eq!(
            html("<script>\" onerror='x'&"),
            "&lt;script&gt;&quot; onerror=&#39;x&#39;&amp;"
        );
        let once = untrusted("::x\x07\n::y");
        assert_eq!(untrusted(&once), once);
    }
}
