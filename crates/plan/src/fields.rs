//! Task fields: recognising labels (`**Dependencies**: T001`, `- Done when:`, `#### Change Area`)
//! and collecting each field's value from the blocks that follow it.

use crate::markdown::{Block, Doc, Kind};

/// The fields planexec knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Summary,
    Deps,
    Milestone,
    Wave,
    Acceptance,
    Files,
    OutOfScope,
    InScope,
    Boundaries,
    Steps,
    Status,
    Parallel,
    Id,
    Title,
    SuccessCriteria,
    /// A label planexec does not use; it ends the previous field.
    Other,
}

impl Field {
    pub fn key(self) -> &'static str {
        match self {
            Field::Summary => "summary",
            Field::Deps => "dependencies",
            Field::Milestone => "milestone",
            Field::Wave => "wave",
            Field::Acceptance => "acceptance",
            Field::Files => "files",
            Field::OutOfScope => "out_of_scope",
            Field::InScope => "in_scope",
            Field::Boundaries => "boundaries",
            Field::Steps => "steps",
            Field::Status => "status",
            Field::Parallel => "parallel",
            Field::Id => "id",
            Field::Title => "title",
            Field::SuccessCriteria => "success_criteria",
            Field::Other => "other",
        }
    }
}

/// Normalise a label: lowercase, markup and trailing punctuation removed, spaces collapsed.
pub fn norm_label(s: &str) -> String {
    let s = s.split('(').next().unwrap_or(s);
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_whitespace() || matches!(c, '*' | '_' | '`' | '#') {
            space = !out.is_empty();
        } else {
            if space {
                out.push(' ');
                space = false;
            }
            out.extend(c.to_lowercase());
        }
    }
    let t = out.trim_end_matches([':', '.', '-', '–', '—', ' ']).len();
    out.truncate(t);
    out
}

/// Which field a label names. `strict` (for plain, unbolded labels) only accepts field names.
pub fn field_of(label: &str, strict: bool) -> Option<Field> {
    let l = norm_label(label);
    let l = l.as_str();
    let f = match l {
        "summary" | "description" | "goal" | "objective" | "what" | "overview" | "intent" => {
            Field::Summary
        }
        "target milestone" | "target" | "milestone" | "milestones" | "phase" => Field::Milestone,
        "wave" | "execution wave" => Field::Wave,
        "out of scope" | "not in scope" | "non-goals" | "non goals" | "do not touch"
        | "excluded" | "out-of-scope" => Field::OutOfScope,
        "in scope" | "in-scope" | "scope" => Field::InScope,
        "boundaries" | "boundary" => Field::Boundaries,
        "steps"
        | "implementation steps"
        | "sub-steps"
        | "substeps"
        | "concrete steps"
        | "how"
        | "approach"
        | "implementation plan" => Field::Steps,
        "status" | "state" => Field::Status,
        "parallel" | "parallelizable" | "parallel-safe" | "can run in parallel" => Field::Parallel,
        "id" | "task id" | "ticket" => Field::Id,
        "title" | "name" => Field::Title,
        "success criteria" | "success metrics" => Field::SuccessCriteria,
        _ => {
            if l.starts_with("depend")
                || l.starts_with("blocked by")
                || l == "requires"
                || l.starts_with("prerequisite")
                || l == "deps"
                || l == "needs"
                || l == "after"
            {
                Field::Deps
            } else if l.starts_with("acceptance")
                || l.starts_with("done when")
                || l.starts_with("completion criteri")
                || l.starts_with("definition of done")
                || l.starts_with("exit criteri")
                || l == "validation"
                || l == "verification"
                || l == "verify"
                || l == "tests"
                || l == "test"
                || l == "test plan"
                || l == "checks"
                || l == "criteria"
            {
                Field::Acceptance
            } else if l.starts_with("files")
                || l.starts_with("modules")
                || l.starts_with("change area")
                || l.contains("files/modules")
                || l.starts_with("file")
                || l == "touches"
                || l == "paths"
                || l == "affected files"
                || l == "key files"
                || l == "location"
                || l == "locations"
            {
                Field::Files
            } else if strict {
                return None;
            } else {
                Field::Other
            }
        }
    };
    Some(f)
}

/// A label at the start of a line: (field, value after the label, byte index of the value in the line).
pub fn line_label(line: &str) -> Option<(Field, &str, usize)> {
    let t = line.trim_start();
    let lead = line.len() - t.len();
    if let Some(rest) = t.strip_prefix("**") {
        let close = rest.find("**")?;
        let inner = &rest[..close];
        if inner.is_empty() || inner.len() > 60 {
            return None;
        }
        let after = &rest[close + 2..];
        let (value, vstart) = if inner.trim_end().ends_with(':') {
            (after, close + 4)
        } else {
            let a = after.trim_start();
            let skipped = after.len() - a.len();
            if let Some(v) = a.strip_prefix(':') {
                (v, close + 4 + skipped + 1)
            } else if a.is_empty() {
                (a, close + 4 + skipped)
            } else if let Some(v) = a
                .strip_prefix("- ")
                .or_else(|| a.strip_prefix("– "))
                .or_else(|| a.strip_prefix("— "))
            {
                (v, close + 4 + skipped + (a.len() - v.len()))
            } else {
                return None;
            }
        };
        let field = field_of(inner, false)?;
        let v = value.trim_start();
        let vi = lead + 2 + vstart + (value.len() - v.len());
        return Some((field, v.trim_end(), vi.min(line.len())));
    }
    // plain `Label: value`
    let colon = t.find(':')?;
    let label = &t[..colon];
    if label.is_empty()
        || label.len() > 40
        || label.split_whitespace().count() > 4
        || label.contains('`')
    {
        return None;
    }
    let field = field_of(label, true)?;
    let value = &t[colon + 1..];
    if value.starts_with("//") {
        return None; // a URL
    }
    let v = value.trim_start();
    Some((
        field,
        v.trim_end(),
        lead + colon + 1 + (value.len() - v.len()),
    ))
}

/// One field found in a task, with what followed its label.
#[derive(Debug, Clone)]
pub struct Hit {
    pub field: Field,
    /// Offset of the label.
    pub offset: usize,
    /// The value on the label's line, with wrapped lines joined.
    pub value: String,
    /// List items (and paragraph lines) under the label, with their offsets and checkboxes.
    pub items: Vec<(String, usize)>,
    /// Lines of code blocks under the label.
    pub code: Vec<String>,
    /// Table blocks under the label (indices into the document's blocks).
    pub tables: Vec<usize>,
    /// `value` and `items` as written in the source (emphasis markers and escapes kept),
    /// for reading file names exactly.
    pub raw_value: String,
    pub raw_items: Vec<(String, usize)>,
}

impl Hit {
    fn new(field: Field, offset: usize, value: &str, raw_value: String) -> Hit {
        Hit {
            field,
            offset,
            value: value.to_string(),
            items: Vec::new(),
            code: Vec::new(),
            tables: Vec::new(),
            raw_value,
            raw_items: Vec::new(),
        }
    }
}

/// The source text from `off` to the end of its line.
fn raw_rest(doc: &Doc, off: usize) -> &str {
    let text = &doc.src.text;
    let off = off.min(text.len());
    let end = text[off..].find('\n').map_or(text.len(), |i| off + i);
    text[off..end].trim_end_matches('\r')
}

/// The value after a label in a raw source line (`**Files:** a.py` -> `a.py`).
fn raw_label_value(raw: &str) -> String {
    let t = raw.trim_start();
    let t = t
        .strip_prefix("- ")
        .or_else(|| t.strip_prefix("* "))
        .or_else(|| t.strip_prefix("+ "))
        .unwrap_or(t);
    line_label(t)
        .map(|(_, v, _)| v.to_string())
        .unwrap_or_default()
}

/// What a task's blocks hold: labelled fields plus the unlabelled rest.
#[derive(Debug, Default)]
pub struct Collected {
    pub hits: Vec<Hit>,
    /// Unlabelled paragraph lines before any label.
    pub free_paras: Vec<(String, usize)>,
    /// Unlabelled list items (text, offset, checked).
    pub free_items: Vec<(String, usize, Option<bool>)>,
    /// Unlabelled tables.
    pub free_tables: Vec<usize>,
    pub free_code: Vec<usize>,
}

struct Open {
    hit: usize,
    /// Items must be deeper than this to continue the field.
    depth: u16,
    /// Paragraphs continue the field (label on a heading, or an empty value with no list yet).
    paras: bool,
    /// Whether the label came from a heading (continues to the next heading).
    heading: bool,
}

/// Collect the fields of blocks `a..b`.
pub fn collect(doc: &Doc, a: usize, b: usize) -> Collected {
    let mut c = Collected::default();
    let mut open: Option<Open> = None;
    for bi in a..b.min(doc.blocks.len()) {
        let blk: &Block = &doc.blocks[bi];
        match blk.kind {
            Kind::Heading(_) => {
                let text = blk.text.trim();
                match field_of(text, true) {
                    Some(f) if text.len() < 60 => {
                        c.hits.push(Hit::new(f, blk.start, "", String::new()));
                        open = Some(Open {
                            hit: c.hits.len() - 1,
                            depth: 0,
                            paras: true,
                            heading: true,
                        });
                    }
                    _ => open = None,
                }
            }
            Kind::Para | Kind::Item { .. } => {
                let is_item = blk.is_item();
                let depth = blk.depth;
                // Does this block continue the open field?
                let mut continues = match &open {
                    Some(o) if o.heading => true,
                    Some(o) if is_item => depth > o.depth,
                    Some(o) => o.paras && depth >= o.depth,
                    None => false,
                };
                if !continues && open.as_ref().is_some_and(|o| !o.heading) {
                    open = None;
                }
                let mut first_line = true;
                let mut wrapped: Option<usize> = None; // hit whose inline value wraps onto following lines
                for (line, off) in blk.lines() {
                    if let Some((field, value, vi)) = line_label(line) {
                        let label_off = off;
                        let raw = raw_label_value(raw_rest(doc, off));
                        c.hits.push(Hit::new(field, label_off, value, raw));
                        let _ = vi;
                        let h = c.hits.len() - 1;
                        let empty = value.is_empty() || value.ends_with(':');
                        // a label on a lazy continuation line of an item belongs to the list's parent
                        let lazy = is_item && !first_line;
                        let base_depth = if lazy { depth.saturating_sub(1) } else { depth };
                        if empty {
                            open = Some(Open {
                                hit: h,
                                depth: base_depth,
                                paras: !is_item || lazy,
                                heading: false,
                            });
                            wrapped = None;
                        } else {
                            open = Some(Open {
                                hit: h,
                                depth: base_depth,
                                paras: false,
                                heading: false,
                            });
                            wrapped = Some(h);
                        }
                        continues = false;
                        first_line = false;
                        continue;
                    }
                    if let Some(h) = wrapped {
                        let hit = &mut c.hits[h];
                        hit.value.push(' ');
                        hit.value.push_str(line.trim());
                        hit.raw_value.push(' ');
                        hit.raw_value.push_str(raw_rest(doc, off).trim());
                        continue;
                    }
                    if continues {
                        if let Some(o) = &open {
                            let hit = &mut c.hits[o.hit];
                            if is_item && first_line {
                                let t = match blk.checked() {
                                    Some(true) => format!("[x] {}", line.trim()),
                                    _ => line.trim().to_string(),
                                };
                                hit.items.push((t, off));
                                hit.raw_items
                                    .push((raw_rest(doc, off).trim().to_string(), off));
                            } else if is_item {
                                if let Some(last) = hit.items.last_mut() {
                                    last.0.push(' ');
                                    last.0.push_str(line.trim());
                                }
                                if let Some(last) = hit.raw_items.last_mut() {
                                    last.0.push(' ');
                                    last.0.push_str(raw_rest(doc, off).trim());
                                }
                            } else {
                                hit.items.push((line.trim().to_string(), off));
                                hit.raw_items
                                    .push((raw_rest(doc, off).trim().to_string(), off));
                            }
                        }
                    } else if is_item {
                        if first_line {
                            c.free_items
                                .push((line.trim().to_string(), off, blk.checked()));
                        } else if let Some(last) = c.free_items.last_mut() {
                            last.0.push(' ');
                            last.0.push_str(line.trim());
                        }
                    } else if c.hits.is_empty() {
                        c.free_paras.push((line.trim().to_string(), off));
                    }
                    first_line = false;
                }
                if let Some(o) = &mut open {
                    if is_item && !o.heading && continues {
                        o.paras = false;
                    }
                }
            }
            Kind::Code { .. } => {
                let cont = match &open {
                    Some(o) => o.heading || blk.depth >= o.depth,
                    None => false,
                };
                match (&open, cont) {
                    (Some(o), true) => {
                        let hit = &mut c.hits[o.hit];
                        hit.code.extend(blk.text.lines().map(|l| l.to_string()));
                    }
                    _ => c.free_code.push(bi),
                }
            }
            Kind::Table => match &open {
                Some(o) => c.hits[o.hit].tables.push(bi),
                None => c.free_tables.push(bi),
            },
            Kind::Other => {}
        }
    }
    c
}

/// Whether a string looks like a file or directory path.
pub fn looks_path(tok: &str) -> bool {
    if tok.trim_end_matches(['`', ',', ';', '.']).ends_with("()") {
        return false; // a call: `TodoCLI.run()`
    }
    let t = tok.trim_matches(|c: char| matches!(c, '`' | '"' | '\'' | ',' | ';' | '(' | ')' | '*'));
    if t.is_empty() || t.len() > 200 || t.contains(char::is_whitespace) || t.contains("://") {
        return false;
    }
    let lower = t.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "e.g." | "i.e." | "etc." | "and/or" | "n/a" | "w/o" | "vs." | "cf."
    ) {
        return false;
    }
    if t.contains('/') && t.chars().any(|c| c.is_alphabetic()) {
        return true;
    }
    if matches!(
        t,
        "Makefile"
            | "Dockerfile"
            | "Justfile"
            | "Procfile"
            | "Gemfile"
            | "Rakefile"
            | "Jenkinsfile"
    ) {
        return true;
    }
    if let Some((stem, ext)) = t.rsplit_once('.') {
        // `Config.load`, `Stack.Peek`: a qualified name in code, not a file
        if !known_ext(ext)
            && !stem.contains('.')
            && stem.chars().next().is_some_and(char::is_alphabetic)
        {
            return false;
        }
        return !stem.is_empty()
            && (1..=6).contains(&ext.len())
            && ext.chars().all(|c| c.is_ascii_alphanumeric())
            && ext.chars().any(|c| c.is_ascii_lowercase())
            && !ext.chars().all(|c| c.is_ascii_digit())
            && stem
                .chars()
                .all(|c| c.is_alphanumeric() || "._-/@*+~[]{}".contains(c));
    }
    false
}

/// File extensions planexec knows; a dotted name with any other ending (`Config.load`) is a
/// qualified name in code unless it has a folder (`src/x.load`).
pub fn known_ext(ext: &str) -> bool {
    const EXTS: &[&str] = &[
        "rs",
        "py",
        "pyi",
        "go",
        "js",
        "mjs",
        "cjs",
        "ts",
        "tsx",
        "jsx",
        "java",
        "kt",
        "kts",
        "scala",
        "c",
        "h",
        "cc",
        "cpp",
        "cxx",
        "hpp",
        "hh",
        "cs",
        "fs",
        "swift",
        "m",
        "mm",
        "rb",
        "php",
        "pl",
        "lua",
        "r",
        "jl",
        "dart",
        "ex",
        "exs",
        "erl",
        "hs",
        "ml",
        "mli",
        "clj",
        "zig",
        "nim",
        "v",
        "sh",
        "bash",
        "zsh",
        "fish",
        "ps1",
        "bat",
        "cmd",
        "sql",
        "prisma",
        "graphql",
        "gql",
        "proto",
        "md",
        "mdx",
        "rst",
        "txt",
        "adoc",
        "html",
        "htm",
        "css",
        "scss",
        "sass",
        "less",
        "vue",
        "svelte",
        "astro",
        "json",
        "jsonc",
        "json5",
        "yaml",
        "yml",
        "toml",
        "ini",
        "cfg",
        "conf",
        "env",
        "xml",
        "csv",
        "tsv",
        "lock",
        "mod",
        "sum",
        "gradle",
        "tf",
        "tfvars",
        "hcl",
        "nix",
        "dockerfile",
        "mk",
        "cmake",
        "wit",
        "wat",
        "wasm",
        "ipynb",
        "svg",
        "png",
        "jpg",
        "jpeg",
        "gif",
        "ico",
        "pdf",
        "log",
        "tmpl",
        "tpl",
        "j2",
        "jinja",
        "hbs",
        "ejs",
        "pug",
        "properties",
        "plist",
        "sln",
        "csproj",
        "vcxproj",
        "xcconfig",
        "pbxproj",
        "podspec",
        "gemspec",
        "cabal",
        "lisp",
        "el",
        "vim",
        "patch",
        "diff",
        "snap",
        "pem",
        "crt",
        "key",
        "service",
        "desktop",
        "http",
        "rego",
        "sol",
        "move",
        "cairo",
        "bzl",
        "bazel",
        "star",
        "pkl",
        "cue",
        "dhall",
        "zon",
        "d",
        "ads",
        "adb",
        "f90",
        "for",
        "asm",
        "s",
        "cu",
        "cuh",
        "metal",
        "glsl",
        "hlsl",
        "wgsl",
        "gd",
        "tres",
        "tscn",
        "uproject",
        "ino",
        "vhd",
        "sv",
        "po",
        "pot",
        "mo",
        "arb",
        "strings",
        "xib",
        "storyboard",
        "resx",
        "xaml",
        "razor",
        "cshtml",
        "erb",
        "haml",
        "slim",
        "liquid",
        "njk",
        "twig",
        "mustache",
        "bru",
        "feature",
        "robot",
        "spec",
        "test",
        "bak",
        "gitignore",
        "editorconfig",
        "npmrc",
        "nvmrc",
        "dockerignore",
        "prettierrc",
        "eslintrc",
        "babelrc",
    ];
    let l = ext.to_ascii_lowercase();
    EXTS.contains(&l.as_str())
}

/// A name from code rather than a file: `Retry::backoff`, `a->b`, `Config.load`.
fn is_code_name(c: &str) -> bool {
    c.contains("::")
        || c.contains("->")
        || c.ends_with(')')
        || (c.contains('.') && !c.contains(['/', ' ']) && !looks_path(c))
}

/// The code spans (`` `...` ``) in a string.
pub fn code_spans(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(a) = rest.find('`') {
        let ticks = rest[a..].chars().take_while(|&c| c == '`').count();
        let after = &rest[a + ticks..];
        let close = "`".repeat(ticks);
        match after.find(&close) {
            Some(b) => {
                out.push(after[..b].trim());
                rest = &after[b + ticks..];
            }
            None => break,
        }
    }
    out
}

/// Files named in a value: code spans that are paths, else comma-separated pieces that are paths,
/// else (for module names) the pieces themselves.
pub fn extract_files(s: &str) -> Vec<String> {
    let spans: Vec<String> = code_spans(s)
        .into_iter()
        .filter(|c| looks_path(c) || !c.contains(' '))
        .map(str::to_string)
        .collect();
    if !spans.is_empty() {
        return spans;
    }
    let plain = s.replace("**", "");
    let mut out = Vec::new();
    for piece in plain.split([',', ';']) {
        for tok in piece.split_whitespace() {
            let t = tok.trim_matches(|c: char| {
                matches!(c, '`' | '"' | '\'' | ',' | ';' | '(' | ')' | '*' | ':')
            });
            if looks_path(t) {
                out.push(t.to_string());
            }
        }
    }
    if out.is_empty() {
        for piece in plain.split([',', ';']) {
            let p = piece
                .split(" - ")
                .next()
                .unwrap_or(piece)
                .split(" — ")
                .next()
                .unwrap_or(piece);
            let p = p.split('(').next().unwrap_or(p).trim();
            if !p.is_empty() && p.len() <= 80 && !crate::deps::is_none_word(p) {
                out.push(p.to_string());
            }
        }
    }
    out
}

/// A file name read from source text, and why it deserves a warning (if it does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName {
    pub name: String,
    pub warning: Option<String>,
}

/// Split at commas and semicolons outside backticks, parentheses and brackets.
pub fn split_list(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut code, mut start) = (0i32, false, 0);
    for (i, c) in s.char_indices() {
        match c {
            '`' => code = !code,
            '(' | '[' | '{' if !code => depth += 1,
            ')' | ']' | '}' if !code => depth -= 1,
            ',' | ';' if !code && depth <= 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out.into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

/// Remove Markdown backslash escapes (`\_` -> `_`) outside code spans.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let (mut code, mut chars) = (false, s.chars().peekable());
    while let Some(c) = chars.next() {
        if c == '`' {
            code = !code;
        }
        if c == '\\' && !code && chars.peek().is_some_and(|n| n.is_ascii_punctuation()) {
            continue;
        }
        out.push(c);
    }
    out
}

/// How Markdown renders a bare token (emphasis markers dropped), to tell when it mangles a name.
fn rendered(tok: &str) -> String {
    use pulldown_cmark::{Event, Parser};
    Parser::new(tok)
        .filter_map(|e| match e {
            Event::Text(t) | Event::Code(t) => Some(t.into_string()),
            _ => None,
        })
        .collect()
}

/// A path without a trailing line reference: `a.py:22`, `a.py:~108`, `a.py:97-108` -> `a.py`.
pub fn strip_line_ref(name: &str) -> &str {
    match name.rsplit_once(':') {
        Some((path, r))
            if !path.is_empty()
                && !r.is_empty()
                && r.trim_start_matches('~')
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '-')
                && r.chars().any(|c| c.is_ascii_digit()) =>
        {
            path
        }
        _ => name,
    }
}

/// Trim what surrounds a bare file token: quotes, parentheses, list punctuation, `**` bold.
fn bare_token(tok: &str) -> &str {
    let mut t = tok.trim_matches(|c: char| matches!(c, '"' | '\'' | ',' | ';' | '(' | ')' | ':'));
    t = t.strip_suffix('.').filter(|x| looks_path(x)).unwrap_or(t);
    while let Some(x) = t.strip_prefix("**").and_then(|x| x.strip_suffix("**")) {
        t = x;
    }
    strip_line_ref(t)
}

/// A piece like `docs/User Guide.md`: a folder start, words, and a name with an extension.
fn spaced_path(piece: &str) -> Option<String> {
    let piece = piece.split(" (").next().unwrap_or(piece).trim();
    let toks: Vec<&str> = piece.split_whitespace().collect();
    let (first, last) = (toks.first()?, toks.last()?);
    let ext = |t: &str| {
        t.rsplit_once('.')
            .is_some_and(|(s, e)| !s.is_empty() && (1..=6).contains(&e.len()))
    };
    let ok = toks.len() >= 2
        && toks.len() <= 5
        && first.contains('/')
        && !ext(first)
        && ext(last)
        && looks_path(last)
        && toks[1..].iter().all(|t| !t.contains('/'))
        && toks[1..toks.len() - 1].iter().all(|t| !ext(t));
    ok.then(|| piece.to_string())
}

/// A quoted name like `my notes.txt`: a few words, the last with an
/// extension, no option flags (a command such as `grep -q x a.txt` is not one).
fn spaced_name(span: &str) -> bool {
    let toks: Vec<&str> = span.split_whitespace().collect();
    let ext = |t: &str| {
        t.rsplit_once('.')
            .is_some_and(|(s, e)| !s.is_empty() && (1..=6).contains(&e.len()))
    };
    (2..=5).contains(&toks.len())
        && toks.last().is_some_and(|t| ext(t) && looks_path(t))
        && toks.iter().all(|t| !t.starts_with('-'))
}

/// File names in a value as written in the source: code spans that name files (spaces
/// allowed), bare tokens that look like paths, and, when nothing looks like a path, the
/// list's pieces (module names). Bare names that Markdown would mangle, or that hold spaces,
/// carry a warning.
pub fn files_in_source(raw: &str) -> Vec<FileName> {
    let mut out = paths_in_source(raw);
    if out.is_empty() {
        out = extract_files(&unescape(raw))
            .into_iter()
            .filter(|p| !crate::deps::is_placeholder(p))
            .map(|name| FileName {
                name,
                warning: None,
            })
            .collect();
    }
    out
}

/// The paths in source text (no module-name fallback): for prose such as a spec-kit line.
pub fn paths_in_source(raw: &str) -> Vec<FileName> {
    let raw = unescape(raw);
    let mut out: Vec<FileName> = Vec::new();
    for piece in split_list(&raw) {
        let spans = code_spans(piece);
        if !spans.is_empty() {
            out.extend(
                spans
                    .into_iter()
                    .filter(|c| !c.ends_with("()") && !is_code_name(c))
                    .filter(|c| {
                        looks_path(c)
                            || !c.contains(' ')
                            || spaced_path(c).is_some()
                            || spaced_name(c)
                    })
                    .filter(|c| !looks_command(c) || looks_path(c))
                    .map(|c| FileName {
                        name: strip_line_ref(c).to_string(),
                        warning: None,
                    }),
            );
            // bare paths beside the code spans: "for `aikit init` in src/cli/init.rs"
            out.extend(bare_paths(&without_code_spans(piece)));
            continue;
        }
        if let Some(p) = spaced_path(piece) {
            out.push(FileName {
                warning: Some(format!(
                    "read `{p}` as one file name with spaces; put it in backticks to be sure"
                )),
                name: p,
            });
            continue;
        }
        out.extend(bare_paths(piece));
    }
    out
}

/// Text with its code spans removed.
fn without_code_spans(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(a) = rest.find('`') {
        out.push_str(&rest[..a]);
        let ticks = rest[a..].chars().take_while(|&c| c == '`').count();
        let after = &rest[a + ticks..];
        match after.find(&"`".repeat(ticks)) {
            Some(b) => {
                out.push(' ');
                rest = &after[b + ticks..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
}

/// Bare tokens that look like paths, warning when Markdown would render them differently.
fn bare_paths(piece: &str) -> Vec<FileName> {
    let mut out = Vec::new();
    for tok in piece.split_whitespace() {
        let t = bare_token(tok);
        if !looks_path(t) {
            continue;
        }
        let shown = if t.contains(['_', '*']) {
            rendered(t)
        } else {
            t.to_string()
        };
        let warning = (shown != t).then(|| {
            format!("`{t}` is written without backticks and Markdown shows it as `{shown}`; planexec uses the name as written")
        });
        out.push(FileName {
            name: t.to_string(),
            warning,
        });
    }
    out
}

const PROGRAMS: &[&str] = &[
    "pytest",
    "python",
    "python3",
    "py.test",
    "mypy",
    "black",
    "ruff",
    "flake8",
    "pylint",
    "coverage",
    "uv",
    "poetry",
    "pip",
    "pipenv",
    "tox",
    "nox",
    "hatch",
    "npm",
    "npx",
    "pnpm",
    "yarn",
    "node",
    "deno",
    "bun",
    "tsc",
    "jest",
    "vitest",
    "eslint",
    "prettier",
    "playwright",
    "cargo",
    "rustc",
    "go",
    "gofmt",
    "golangci-lint",
    "make",
    "just",
    "bash",
    "sh",
    "zsh",
    "curl",
    "wget",
    "docker",
    "docker-compose",
    "kubectl",
    "helm",
    "terraform",
    "git",
    "gh",
    "jq",
    "yq",
    "grep",
    "rg",
    "test",
    "diff",
    "ls",
    "cat",
    "psql",
    "sqlite3",
    "mysql",
    "redis-cli",
    "gradle",
    "gradlew",
    "mvn",
    "dotnet",
    "swift",
    "xcodebuild",
    "rake",
    "bundle",
    "rspec",
    "php",
    "composer",
    "phpunit",
    "ctest",
    "cmake",
    "bazel",
    "trivy",
    "hadolint",
    "shellcheck",
    "pre-commit",
    "alembic",
    "django-admin",
    "manage.py",
    "flask",
    "uvicorn",
    "gunicorn",
    "mix",
    "elixir",
    "dart",
    "flutter",
    "java",
    "ruby",
    "perl",
    "planexec",
    "wasm-tools",
    "cd",
    "echo",
    "env",
    "time",
    "timeout",
    "find",
    "wc",
    "head",
    "tail",
    "sed",
    "awk",
    "xargs",
    "openssl",
    "ssh",
    "scp",
    "rsync",
    "aws",
    "gcloud",
    "az",
    "bats",
    "deno",
    "zig",
    "ninja",
    "meson",
    "clang",
    "gcc",
    "valgrind",
    "hyperfine",
    "k6",
    "ab",
    "wrk",
    "nc",
    "http",
    "httpie",
    "sqlx",
    "diesel",
    "prisma",
    "drizzle-kit",
    "cypress",
    "storybook",
    "biome",
    "stylelint",
    "mocha",
    "ava",
    "tap",
    "behave",
    "robot",
    "pyright",
    "isort",
    "bandit",
    "safety",
    "semgrep",
    "sam",
];

/// Whether a string looks like a shell command (`pytest -q`, `./run.sh`, `FOO=1 make test`).
pub fn looks_command(s: &str) -> bool {
    let s = s.trim().trim_start_matches("$ ").trim();
    let s = s.strip_prefix("! ").unwrap_or(s); // a negated check: `! rg -n pattern src/`
    if s.is_empty() || s.len() > 4000 || s.contains('\n') {
        return false;
    }
    let mut toks = s.split_whitespace();
    let mut first = toks.next().unwrap_or("");
    while first.contains('=')
        && !first.starts_with('=')
        && first.chars().next().is_some_and(|c| c.is_ascii_uppercase())
    {
        first = match toks.next() {
            Some(t) => t,
            None => return false,
        };
    }
    if first.starts_with("./")
        || first.starts_with("bin/")
        || first.starts_with("scripts/")
        || first.starts_with("script/")
    {
        return true;
    }
    let base = first.rsplit('/').next().unwrap_or(first);
    PROGRAMS.contains(&base)
}

/// Commands in a code block's lines: `$ `-prefixed lines if any, else every line that looks like a command.
pub fn commands_in_code(lines: &[String]) -> Vec<String> {
    let dollar: Vec<String> = lines
        .iter()
        .filter_map(|l| l.trim().strip_prefix("$ ").map(|c| c.trim().to_string()))
        .collect();
    if !dollar.is_empty() {
        return dollar;
    }
    lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty() && !l.starts_with('#') && looks_command(l))
        .map(str::to_string)
        .collect()
}

/// Commands written in a line of text: code spans that look like commands, or the whole line.
pub fn commands_in_text(s: &str) -> Vec<String> {
    let spans: Vec<String> = code_spans(s)
        .into_iter()
        .filter(|c| looks_command(c))
        .map(|c| c.trim_start_matches("$ ").to_string())
        .collect();
    if !spans.is_empty() {
        return spans;
    }
    let plain = s.replace("**", "");
    let t = plain
        .trim()
        .trim_start_matches("Run ")
        .trim_start_matches("run ");
    if !s.contains('`') && looks_command(t) && !t.ends_with('.') {
        return vec![t.trim_start_matches("$ ").to_string()];
    }
    Vec::new()
}

/// Strip a leading checkbox marker kept as text: `[x] ` / `[ ] `.
pub fn strip_box(s: &str) -> &str {
    s.strip_prefix("[x] ")
        .or_else(|| s.strip_prefix("[X] "))
        .or_else(|| s.strip_prefix("[ ] "))
        .unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(
            line_label("**Dependencies**: T001").map(|x| (x.0, x.1)),
            Some((Field::Deps, "T001"))
        );
        assert_eq!(
            line_label("**Dependencies:** T001").map(|x| (x.0, x.1)),
            Some((Field::Deps, "T001"))
        );
        assert_eq!(
            line_label("Done when:").map(|x| (x.0, x.1)),
            Some((Field::Acceptance, ""))
        );
        assert_eq!(
            line_label("**Files/modules touched**: `a.py`").map(|x| x.0),
            Some(Field::Files)
        );
        assert_eq!(line_label("**Owner**: me").map(|x| x.0), Some(Field::Other));
        assert_eq!(line_label("Note: this is prose"), None);
        assert_eq!(line_label("See https://x.y").map(|x| x.0), None);
    }

    #[test]
    fn paths_and_commands() {
        assert!(looks_path("src/app.py"));
        assert!(looks_path("README.md"));
        assert!(!looks_path("e.g."));
        assert!(!looks_path("v1.2"));
        assert!(looks_command("python3 -m pytest -q tests/test_api.py"));
        assert!(looks_command("FOO=1 make test"));
        assert!(!looks_command("tests/test_api.py"));
        assert_eq!(
            extract_files("`src/a.py`, `src/b.py` (new)"),
            ["src/a.py", "src/b.py"]
        );
        assert_eq!(
            extract_files("src/a.py (new), tests/test_a.py"),
            ["src/a.py", "tests/test_a.py"]
        );
        assert_eq!(commands_in_text("`pytest -q` passes"), ["pytest -q"]);
        let names =
            |s: &str| -> Vec<String> { files_in_source(s).into_iter().map(|f| f.name).collect() };
        assert_eq!(
            names("calc/__main__.py, `calc/__init__.py`"),
            ["calc/__main__.py", "calc/__init__.py"]
        );
        assert_eq!(names("`docs/User Guide.md`"), ["docs/User Guide.md"]);
        assert_eq!(names("docs/User Guide.md (new)"), ["docs/User Guide.md"]);
        assert_eq!(
            names("pkg/*_test.go, données/résumé.md"),
            ["pkg/*_test.go", "données/résumé.md"]
        );
        assert_eq!(names("src/calc\\_util.py"), ["src/calc_util.py"]);
        assert_eq!(names("`a/b.py:22`, c/d.py:~108"), ["a/b.py", "c/d.py"]);
        assert_eq!(names("src/{models,api,core}"), ["src/{models,api,core}"]);
        assert_eq!(names("in `TodoCLI.run()` of src/cli.py"), ["src/cli.py"]);
        assert_eq!(
            names("for `aikit init` in src/cli/init.rs"),
            ["src/cli/init.rs"]
        );
        assert!(looks_command("! rg -n legacy src/"));
        assert_eq!(
            split_list("a.go, b.go (x, y); any API change"),
            ["a.go", "b.go (x, y)", "any API change"]
        );
    }

    #[test]
    fn a_quoted_name_with_spaces_is_one_file() {
        let names: Vec<String> = files_in_source("`my notes.txt`, `my-notes-check`")
            .into_iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(names, ["my notes.txt", "my-notes-check"]);
        let bare: Vec<String> = files_in_source("_private.txt, pkg/__init__.py")
            .into_iter()
            .map(|f| f.name)
            .collect();
        assert_eq!(bare, ["_private.txt", "pkg/__init__.py"]);
        assert!(files_in_source("`grep -q ok a.txt`")
            .iter()
            .all(|f| f.name != "grep -q ok a.txt"));
    }
}
