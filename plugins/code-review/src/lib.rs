//! The `code-review` reviewer: a deterministic code review of one task's unified diff.
//! Scores the seeds' six Code Reviewer criteria PASS/WEAK/FAIL with file:line findings.

mod secrets;

use planexec_pdk::{
    ChangeKind, Finding, Host, Outcome, Review, ReviewRequest, Reviewer, Score, Severity,
};
use reviewkit::diff::{DiffLine, FileDiff, FileStatus, LineKind};
use reviewkit::parse_diff;
use reviewkit::paths::{is_test_path, matches_any};
use reviewkit::score::{approved, criterion, finding, summary_line};
use serde::Deserialize;
use std::path::Path;

pub const PASSED: &str = "CODE_REVIEW_PASSED";
pub const CHANGES_REQUESTED: &str = "CODE_REVIEW_CHANGES_REQUESTED";

pub const CORRECTNESS: &str = "Correctness";
pub const QUALITY: &str = "Quality";
pub const PATTERNS: &str = "Pattern adherence";
pub const REGRESSION: &str = "Regression risk";
pub const TESTS: &str = "Test coverage";
pub const SECURITY: &str = "Security";

/// Configuration (the plugin's table in planexec.toml); every key is optional.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// WEAK criteria tolerated in an approval (the seeds: two).
    pub max_weak: usize,
    /// Failed gate reports make correctness FAIL (errored ones WEAK).
    pub gates: bool,
    /// Known secret formats and private keys (security FAIL).
    pub secrets: bool,
    /// High-entropy values assigned to secret-ish names (security FAIL).
    pub generic_secrets: bool,
    /// Shannon entropy (bits per character) at or above which such a value is a secret.
    pub secret_entropy: f64,
    /// Shortest value the entropy check considers.
    pub secret_min_length: usize,
    /// Run the entropy check in test files too.
    pub generic_secrets_in_tests: bool,
    /// A line containing any of these substrings is never reported as a secret.
    pub secret_allowlist: Vec<String>,
    /// `verify=False`, `shell=True`, `eval(`, string-built SQL... (security WEAK).
    pub insecure_patterns: bool,
    /// Conflict markers (correctness FAIL).
    pub conflict_markers: bool,
    /// Deleted test files and removed test functions (regression FAIL).
    pub removed_tests: bool,
    /// Newly skipped or ignored tests (regression FAIL).
    pub skipped_tests: bool,
    /// Score when source changed and no test changed ("pass" disables the check).
    pub missing_tests: Score,
    /// Extra path patterns that count as tests.
    pub test_patterns: Vec<String>,
    /// Debug leftovers in non-test code (quality FAIL when more than `max_debug`, default 0; WEAK otherwise).
    pub debug_leftovers: bool,
    pub max_debug: usize,
    /// Paths where printing is the point (CLIs, scripts, examples).
    pub debug_allow: Vec<String>,
    /// New TODO/FIXME/XXX markers (quality WEAK).
    pub todo: bool,
    pub todo_words: Vec<String>,
    /// Added or modified files above `max_file_size` bytes (pattern adherence WEAK).
    pub large_files: bool,
    pub max_file_size: u64,
    /// Added binary files (pattern adherence WEAK).
    pub binary_files: bool,
    /// Files whose added lines mix CRLF and LF (pattern adherence WEAK).
    pub line_endings: bool,
    /// Paths (patterns) every check ignores.
    pub ignore: Vec<String>,
    /// Read changed files from the read-only workspace (test regions, sizes).
    pub read_workspace: bool,
}

impl Default for Config {
    fn default() -> Self {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        Config {
            max_weak: 2,
            gates: true,
            secrets: true,
            generic_secrets: true,
            secret_entropy: 3.5,
            secret_min_length: 12,
            generic_secrets_in_tests: false,
            secret_allowlist: Vec::new(),
            insecure_patterns: true,
            conflict_markers: true,
            removed_tests: true,
            skipped_tests: true,
            missing_tests: Score::Fail,
            test_patterns: Vec::new(),
            debug_leftovers: true,
            max_debug: 0,
            debug_allow: s(&[
                "examples/",
                "scripts/",
                "bin/",
                "cmd/",
                "src/bin/",
                "**/main.go",
                "**/main.rs",
                "**/build.rs",
                "**/__main__.py",
                "**/cli.py",
                "**/manage.py",
            ]),
            todo: true,
            todo_words: s(&["TODO", "FIXME", "XXX"]),
            large_files: true,
            max_file_size: 1024 * 1024,
            binary_files: true,
            line_endings: true,
            ignore: Vec::new(),
            read_workspace: true,
        }
    }
}

pub struct CodeReview;

impl Reviewer for CodeReview {
    fn review(req: ReviewRequest, _host: &dyn Host) -> Result<Review, String> {
        let cfg: Config = planexec_pdk::config(&req.config)?;
        if !(0.0..=8.0).contains(&cfg.secret_entropy) {
            return Err("config: secret_entropy must be between 0 and 8 bits per character".into());
        }
        Ok(review(&req, &cfg))
    }
}

planexec_pdk::reviewer_component!(CodeReview);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Rust,
    Python,
    Js,
    Go,
    Java,
    Ruby,
    Php,
    C,
    Other,
    Doc,
}

fn lang(path: &str) -> Lang {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "rs" => Lang::Rust,
        "py" | "pyi" => Lang::Python,
        "js" | "jsx" | "ts" | "tsx" | "mjs" | "cjs" | "vue" | "svelte" => Lang::Js,
        "go" => Lang::Go,
        "java" | "kt" | "kts" | "scala" | "groovy" => Lang::Java,
        "rb" => Lang::Ruby,
        "php" => Lang::Php,
        "c" | "h" | "cc" | "cpp" | "cxx" | "hpp" | "hh" | "cs" | "swift" | "m" | "mm" | "ex"
        | "exs" | "erl" | "hs" | "ml" | "lua" | "dart" | "zig" | "sh" | "bash" | "pl" => Lang::C,
        "md" | "rst" | "txt" | "adoc" => Lang::Doc,
        _ => Lang::Other,
    }
}

fn is_code(l: Lang) -> bool {
    !matches!(l, Lang::Other | Lang::Doc)
}

/// One changed file as the review sees it.
struct File<'a> {
    path: String,
    status: FileStatus,
    binary: bool,
    size: Option<u64>,
    lang: Lang,
    test: bool,
    diff: Option<&'a FileDiff>,
    /// First line of a `#[cfg(test)]` region in the new file (Rust).
    test_region: Option<u32>,
}

impl File<'_> {
    fn added(&self) -> Vec<&DiffLine> {
        self.diff.map(|d| d.added().collect()).unwrap_or_default()
    }
    /// Added lines outside test code.
    fn added_code(&self) -> Vec<&DiffLine> {
        if self.test {
            return Vec::new();
        }
        self.added()
            .into_iter()
            .filter(|l| !self.in_test_region(l))
            .collect()
    }
    fn in_test_region(&self, l: &DiffLine) -> bool {
        matches!((self.test_region, l.new_line), (Some(r), Some(n)) if n >= r)
    }
}

fn rust_test_region(content: Option<&str>, d: Option<&FileDiff>) -> Option<u32> {
    if let Some(c) = content {
        return c
            .lines()
            .position(|l| l.trim_start().starts_with("#[cfg(test)]"))
            .map(|i| i as u32 + 1);
    }
    // Without the file: the first `#[cfg(test)]` seen in the hunks, or a hunk whose
    // context line is inside `mod tests`.
    let d = d?;
    for h in &d.hunks {
        if h.section.contains("mod tests") {
            return Some(h.new_start);
        }
        for l in &h.lines {
            if l.kind != LineKind::Removed && l.text.trim_start().starts_with("#[cfg(test)]") {
                return l.new_line;
            }
        }
    }
    None
}

fn is_comment(t: &str) -> bool {
    let t = t.trim_start();
    t.starts_with("//")
        || t.starts_with('#') && !t.starts_with("#[") && !t.starts_with("#!")
        || t.starts_with("/*")
        || t.starts_with("* ")
        || t.starts_with("--")
}

fn debug_leftover(f: &File, text: &str) -> Option<&'static str> {
    let t = text.trim_start();
    if is_comment(t) {
        return None;
    }
    match f.lang {
        Lang::Python => {
            if t.starts_with("print(") {
                Some("print()")
            } else if t.contains("breakpoint()") {
                Some("breakpoint()")
            } else if t.contains("pdb.set_trace(") {
                Some("pdb.set_trace()")
            } else if t.starts_with("import pdb") || t.starts_with("import ipdb") {
                Some("import pdb")
            } else {
                None
            }
        }
        Lang::Js => {
            if t.contains("console.log(")
                || t.contains("console.debug(")
                || t.contains("console.trace(")
            {
                Some("console.log()")
            } else if t == "debugger" || t == "debugger;" {
                Some("debugger")
            } else {
                None
            }
        }
        Lang::Rust => {
            if t.contains("dbg!(") {
                Some("dbg!()")
            } else if t.starts_with("println!(")
                || t.starts_with("eprintln!(")
                || t.starts_with("print!(")
                || t.starts_with("eprint!(")
            {
                Some("println!() in library code")
            } else {
                None
            }
        }
        Lang::Go => ["fmt.Println(", "fmt.Printf(", "fmt.Print("]
            .iter()
            .any(|p| t.starts_with(p))
            .then_some("fmt.Println()"),
        Lang::Java => (t.contains("System.out.println(")
            || t.contains("System.err.println(")
            || t.contains(".printStackTrace()"))
        .then_some("System.out.println()"),
        Lang::Ruby => {
            (t.contains("binding.pry") || t.starts_with("byebug") || t.contains("binding.irb"))
                .then_some("binding.pry")
        }
        Lang::Php => {
            (t.starts_with("var_dump(") || t.starts_with("print_r(") || t.starts_with("dd("))
                .then_some("var_dump()")
        }
        _ => None,
    }
}

const SKIP_MARKERS: &[&str] = &[
    "@pytest.mark.skip",
    "@unittest.skip",
    "pytest.skip(",
    "#[ignore",
    "t.Skip(",
    "t.Skipf(",
    "t.SkipNow(",
    "it.skip(",
    "describe.skip(",
    "test.skip(",
    "xit(",
    "xdescribe(",
    "xtest(",
    "it.todo(",
    "@Disabled",
    "@Ignore",
    "skip(\"",
    "pending(",
];

fn skip_marker(t: &str) -> Option<&'static str> {
    let t = t.trim_start();
    if t.starts_with("//") && !t.starts_with("//go:") {
        return None;
    }
    SKIP_MARKERS
        .iter()
        .find(|m| {
            if **m == "xit("
                || **m == "xtest("
                || **m == "xdescribe("
                || **m == "skip(\""
                || **m == "pending("
            {
                t.starts_with(*m)
            } else {
                t.contains(*m)
            }
        })
        .copied()
}

fn test_def(l: Lang, test_file: bool, t: &str) -> bool {
    let t = t.trim_start();
    match l {
        Lang::Rust => {
            t.starts_with("#[test]") || t.starts_with("#[tokio::test") || t.starts_with("#[rstest")
        }
        Lang::Python => t.starts_with("def test_") || t.starts_with("async def test_"),
        Lang::Go => test_file && t.starts_with("func Test"),
        Lang::Js => {
            test_file
                && (t.starts_with("it(")
                    || t.starts_with("test(")
                    || t.starts_with("it.only(")
                    || t.starts_with("test.only("))
        }
        Lang::Java => t.starts_with("@Test"),
        Lang::Ruby => {
            test_file
                && (t.starts_with("it '") || t.starts_with("it \"") || t.starts_with("def test_"))
        }
        _ => false,
    }
}

fn insecure(l: Lang, t: &str) -> Option<&'static str> {
    let s = t.trim_start();
    if is_comment(s) {
        return None;
    }
    let sql = ["SELECT ", "INSERT INTO", "UPDATE ", "DELETE FROM"]
        .iter()
        .any(|k| s.contains(k));
    if sql
        && (s.contains("f\"")
            || s.contains("f'")
            || s.contains("\" +")
            || s.contains("' +")
            || s.contains("+ \"")
            || s.contains(".format(")
            || s.contains("Sprintf(")
            || s.contains("% (")
            || s.contains("${")
            || s.contains("format!("))
    {
        return Some("SQL built by string formatting (injection risk); use bound parameters");
    }
    if s.contains("verify=False") {
        return Some("TLS verification disabled (verify=False)");
    }
    if s.contains("InsecureSkipVerify: true")
        || s.contains("rejectUnauthorized: false")
        || s.contains("danger_accept_invalid_certs(true)")
    {
        return Some("TLS certificate verification disabled");
    }
    if l == Lang::Python && s.contains("shell=True") {
        return Some("subprocess with shell=True");
    }
    if matches!(l, Lang::Python | Lang::Js | Lang::Php)
        && (s.starts_with("eval(") || s.contains(" eval(") || s.contains("=eval("))
    {
        return Some("eval() of dynamic input");
    }
    if s.contains("dangerouslySetInnerHTML") || s.contains(".innerHTML =") {
        return Some("raw HTML injection (XSS risk)");
    }
    if l == Lang::Python
        && (s.contains("pickle.loads(") || s.contains("yaml.load(") && !s.contains("Loader"))
    {
        return Some("unsafe deserialization");
    }
    if s.contains("0o777") || s.contains("chmod 777") || s.contains("0777") {
        return Some("world-writable permissions");
    }
    None
}

fn has_word(text: &str, w: &str) -> bool {
    let b = text.as_bytes();
    let mut from = 0;
    while let Some(i) = text[from..].find(w) {
        let s = from + i;
        let e = s + w.len();
        let ok_l = s == 0 || !(b[s - 1].is_ascii_alphanumeric() || b[s - 1] == b'_');
        let ok_r = e >= b.len() || !(b[e].is_ascii_alphanumeric() || b[e] == b'_');
        if ok_l && ok_r {
            return true;
        }
        from = e;
    }
    false
}

fn loc(path: &str, line: Option<u32>) -> String {
    match line {
        Some(n) => format!("`{path}:{n}`"),
        None => format!("`{path}`"),
    }
}

/// Collected evidence for one criterion.
#[derive(Default)]
struct Bucket {
    fail: Vec<String>,
    weak: Vec<String>,
}

impl Bucket {
    fn score(&self) -> Score {
        if !self.fail.is_empty() {
            Score::Fail
        } else if !self.weak.is_empty() {
            Score::Weak
        } else {
            Score::Pass
        }
    }
    fn reasoning(&self, pass: &str) -> String {
        let items: Vec<&String> = self.fail.iter().chain(self.weak.iter()).collect();
        if items.is_empty() {
            return pass.to_string();
        }
        let mut s = items
            .iter()
            .take(3)
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        if items.len() > 3 {
            s.push_str(&format!("; and {} more", items.len() - 3));
        }
        s.push('.');
        s
    }
}

/// Runs every enabled check and applies the approval rule.
pub fn review(req: &ReviewRequest, cfg: &Config) -> Review {
    let parsed = parse_diff(&req.diff);
    let ws = Path::new(&req.mounts.workspace);
    let mut files: Vec<File> = Vec::new();
    let is_test = |p: &str| is_test_path(p) || matches_any(&cfg.test_patterns, p).is_some();
    for d in &parsed {
        files.push(File {
            path: d.path.clone(),
            status: d.status,
            binary: d.binary,
            size: None,
            lang: lang(&d.path),
            test: is_test(&d.path),
            diff: Some(d),
            test_region: None,
        });
    }
    for c in &req.changed_files {
        let status = match c.change {
            ChangeKind::Added => FileStatus::Added,
            ChangeKind::Modified => FileStatus::Modified,
            ChangeKind::Deleted => FileStatus::Deleted,
            ChangeKind::Renamed => FileStatus::Renamed,
        };
        if let Some(f) = files.iter_mut().find(|f| f.path == c.path) {
            f.binary |= c.binary;
            f.size = Some(c.size);
            if f.status == FileStatus::Modified {
                f.status = status;
            }
        } else {
            files.push(File {
                path: c.path.clone(),
                status,
                binary: c.binary,
                size: Some(c.size),
                lang: lang(&c.path),
                test: is_test(&c.path),
                diff: None,
                test_region: None,
            });
        }
    }
    files.retain(|f| matches_any(&cfg.ignore, &f.path).is_none());
    for f in files.iter_mut() {
        let readable = cfg.read_workspace && f.status != FileStatus::Deleted && !f.binary;
        let content = if readable && f.lang == Lang::Rust {
            std::fs::read_to_string(ws.join(&f.path)).ok()
        } else {
            None
        };
        if f.lang == Lang::Rust && !f.test {
            f.test_region = rust_test_region(content.as_deref(), f.diff);
        }
        if f.size.is_none() && cfg.read_workspace && f.status != FileStatus::Deleted {
            f.size = std::fs::metadata(ws.join(&f.path)).ok().map(|m| m.len());
        }
    }

    let mut findings: Vec<Finding> = Vec::new();
    let (mut correctness, mut quality, mut patterns, mut regression, mut tests, mut security) = (
        Bucket::default(),
        Bucket::default(),
        Bucket::default(),
        Bucket::default(),
        Bucket::default(),
        Bucket::default(),
    );
    let allowed = |line: &str| {
        cfg.secret_allowlist
            .iter()
            .any(|a| !a.is_empty() && line.contains(a.as_str()))
    };

    // Gate evidence.
    if cfg.gates {
        for (name, r) in &req.gate_reports {
            match r.outcome {
                Outcome::Failed => {
                    findings.push(finding(
                        Severity::Critical,
                        "code-review/gate",
                        format!("gate `{name}` failed: {}", r.summary),
                        None,
                        None,
                    ));
                    correctness
                        .fail
                        .push(format!("gate `{name}` failed ({})", r.summary));
                }
                Outcome::Errored => {
                    findings.push(finding(
                        Severity::Important,
                        "code-review/gate",
                        format!("gate `{name}` errored: {}", r.summary),
                        None,
                        None,
                    ));
                    correctness
                        .weak
                        .push(format!("gate `{name}` errored, so behaviour is unverified"));
                }
                _ => {}
            }
        }
    }

    let mut debug_hits = 0usize;
    let mut debug_msgs = Vec::new();
    let mut source_changed: Vec<String> = Vec::new();
    let mut tests_changed = false;
    let sopts = secrets::Options {
        entropy: cfg.secret_entropy,
        min_length: cfg.secret_min_length,
        generic: cfg.generic_secrets,
        unquoted: false,
    };

    for f in &files {
        let p = f.path.as_str();
        // File-level checks.
        if f.status != FileStatus::Deleted {
            if cfg.large_files && f.size.is_some_and(|s| s > cfg.max_file_size) {
                let s = f.size.unwrap();
                findings.push(finding(
                    Severity::Minor,
                    "code-review/large-file",
                    format!("`{p}` is {s} bytes (limit {})", cfg.max_file_size),
                    Some(p),
                    None,
                ));
                patterns
                    .weak
                    .push(format!("very large file `{p}` ({s} bytes)"));
            }
            if cfg.binary_files && f.binary && f.status == FileStatus::Added {
                findings.push(finding(
                    Severity::Minor,
                    "code-review/binary-file",
                    format!("binary file `{p}` added"),
                    Some(p),
                    None,
                ));
                patterns.weak.push(format!("binary file `{p}` added"));
            }
        }
        if cfg.removed_tests && f.status == FileStatus::Deleted && f.test && is_code(f.lang) {
            findings.push(finding(
                Severity::Important,
                "code-review/deleted-test",
                format!("test file `{p}` deleted"),
                Some(p),
                None,
            ));
            regression.fail.push(format!("test file `{p}` deleted"));
        }
        let Some(d) = f.diff else { continue };
        if f.binary {
            continue;
        }
        let added = f.added();
        // Test bookkeeping.
        let code_added = f.added_code();
        if f.test && f.status != FileStatus::Deleted && !added.is_empty() {
            tests_changed = true;
        }
        if !f.test
            && added
                .iter()
                .any(|l| f.in_test_region(l) || test_def(f.lang, false, &l.text))
        {
            tests_changed = true;
        }
        if !f.test && is_code(f.lang) && !code_added.is_empty() {
            source_changed.push(p.to_string());
        }
        // Removed test functions (net of added ones: renames are fine).
        if cfg.removed_tests && f.status != FileStatus::Deleted {
            let removed: Vec<&DiffLine> = d
                .removed()
                .filter(|l| test_def(f.lang, f.test, &l.text))
                .collect();
            let added_defs = added
                .iter()
                .filter(|l| test_def(f.lang, f.test, &l.text))
                .count();
            if removed.len() > added_defs {
                let n = removed.len() - added_defs;
                let line = d
                    .hunks
                    .iter()
                    .find(|h| h.lines.iter().any(|x| std::ptr::eq(x, removed[0])))
                    .map(|h| h.new_start.max(1));
                findings.push(finding(
                    Severity::Important,
                    "code-review/removed-test",
                    format!("{n} test function(s) removed from `{p}`"),
                    Some(p),
                    line,
                ));
                regression.fail.push(format!(
                    "{n} test function(s) removed from {}",
                    loc(p, line)
                ));
            }
        }
        // Line endings.
        if cfg.line_endings {
            let (mut a_crlf, mut a_lf, mut c_crlf, mut c_lf) = (0, 0, 0, 0);
            let last = d
                .hunks
                .last()
                .and_then(|h| h.lines.last())
                .map(|l| l as *const DiffLine);
            for l in d.lines() {
                if Some(l as *const DiffLine) == last && !l.crlf {
                    continue; // the file's last line may lack a terminator
                }
                match (l.kind, l.crlf) {
                    (LineKind::Added, true) => a_crlf += 1,
                    (LineKind::Added, false) => a_lf += 1,
                    (LineKind::Context, true) => c_crlf += 1,
                    (LineKind::Context, false) => c_lf += 1,
                    _ => {}
                }
            }
            if (a_crlf > 0 && (a_lf > 0 || c_lf > 0)) || (a_lf > 0 && c_crlf > 0) {
                let line = added
                    .iter()
                    .find(|l| {
                        if c_crlf > c_lf || a_crlf > a_lf {
                            !l.crlf
                        } else {
                            l.crlf
                        }
                    })
                    .and_then(|l| l.new_line);
                findings.push(finding(
                    Severity::Minor,
                    "code-review/line-endings",
                    format!("`{p}` mixes CRLF and LF line endings"),
                    Some(p),
                    line,
                ));
                patterns
                    .weak
                    .push(format!("mixed line endings in {}", loc(p, line)));
            }
        }
        // Conflict markers.
        if cfg.conflict_markers {
            let is_marker = |t: &str| {
                t.starts_with("<<<<<<<") || t.starts_with(">>>>>>>") || t.starts_with("|||||||")
            };
            let has_side = added.iter().any(|l| is_marker(&l.text));
            for l in &added {
                if is_marker(&l.text) || (has_side && l.text == "=======") {
                    findings.push(finding(
                        Severity::Critical,
                        "code-review/conflict-marker",
                        format!(
                            "merge conflict marker `{}` left in the file",
                            l.text.chars().take(7).collect::<String>()
                        ),
                        Some(p),
                        l.new_line,
                    ));
                    correctness
                        .fail
                        .push(format!("conflict marker at {}", loc(p, l.new_line)));
                }
            }
        }
        for l in &added {
            let text = l.text.as_str();
            // Secrets: everywhere, tests included (but the entropy check only where configured).
            if cfg.secrets && !allowed(text) {
                let o = secrets::Options {
                    generic: sopts.generic && (!f.test || cfg.generic_secrets_in_tests),
                    unquoted: matches!(f.lang, Lang::Other),
                    ..sopts
                };
                for s in secrets::scan(text, &o) {
                    let rule = if s.kind == "private key" {
                        "code-review/private-key"
                    } else {
                        "code-review/secret"
                    };
                    findings.push(Finding {
                        column: Some(s.column),
                        ..finding(
                            Severity::Critical,
                            rule,
                            format!(
                                "{} committed in source: {}; remove it and rotate the credential",
                                s.kind, s.preview
                            ),
                            Some(p),
                            l.new_line,
                        )
                    });
                    security
                        .fail
                        .push(format!("{} at {}", s.kind, loc(p, l.new_line)));
                }
            }
            if cfg.skipped_tests {
                if let Some(m) = skip_marker(text).filter(|_| {
                    f.test
                        || f.in_test_region(l)
                        || matches!(f.lang, Lang::Python | Lang::Rust | Lang::Java)
                }) {
                    findings.push(finding(
                        Severity::Important,
                        "code-review/skipped-test",
                        format!("test skipped with `{m}`"),
                        Some(p),
                        l.new_line,
                    ));
                    regression
                        .fail
                        .push(format!("test skipped with `{m}` at {}", loc(p, l.new_line)));
                }
            }
            if cfg.todo && f.lang != Lang::Doc {
                if let Some(w) = cfg.todo_words.iter().find(|w| has_word(text, w)) {
                    findings.push(finding(
                        Severity::Minor,
                        "code-review/todo",
                        format!("new `{w}` marker"),
                        Some(p),
                        l.new_line,
                    ));
                    quality
                        .weak
                        .push(format!("new {w} at {}", loc(p, l.new_line)));
                }
            }
        }
        for l in &code_added {
            if cfg.debug_leftovers && matches_any(&cfg.debug_allow, p).is_none() {
                if let Some(what) = debug_leftover(f, &l.text) {
                    debug_hits += 1;
                    findings.push(finding(
                        Severity::Important,
                        "code-review/debug",
                        format!("debug leftover `{what}` in non-test code"),
                        Some(p),
                        l.new_line,
                    ));
                    debug_msgs.push(format!("debug leftover `{what}` at {}", loc(p, l.new_line)));
                }
            }
            if cfg.insecure_patterns {
                if let Some(why) = insecure(f.lang, &l.text) {
                    findings.push(finding(
                        Severity::Important,
                        "code-review/insecure",
                        why.to_string(),
                        Some(p),
                        l.new_line,
                    ));
                    security
                        .weak
                        .push(format!("{why} at {}", loc(p, l.new_line)));
                }
            }
        }
    }
    if debug_hits > cfg.max_debug {
        quality.fail.push(format!(
            "{debug_hits} debug leftovers (more than {})",
            cfg.max_debug
        ));
    }
    quality.weak.splice(0..0, debug_msgs);

    // Test coverage.
    if !source_changed.is_empty() && !tests_changed && cfg.missing_tests != Score::Pass {
        for p in &source_changed {
            findings.push(finding(
                Severity::Important,
                "code-review/missing-tests",
                format!("`{p}` changed but no test was added or changed"),
                Some(p),
                None,
            ));
        }
        let msg = format!(
            "source changed ({}) but no test was added or changed",
            source_changed
                .iter()
                .take(3)
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if cfg.missing_tests == Score::Fail {
            tests.fail.push(msg);
        } else {
            tests.weak.push(msg);
        }
    }

    let tests_pass = if source_changed.is_empty() {
        "No source code changed that would need tests.".to_string()
    } else {
        format!(
            "Tests changed alongside {} source file(s).",
            source_changed.len()
        )
    };
    let criteria = vec![
        criterion(
            CORRECTNESS,
            correctness.score(),
            correctness.reasoning("No conflict markers in the diff and no gate failed."),
        ),
        criterion(
            QUALITY,
            quality.score(),
            quality.reasoning("No debug leftovers or new TODO/FIXME markers in the added lines."),
        ),
        criterion(
            PATTERNS,
            patterns.score(),
            patterns.reasoning("No oversized or binary files added; line endings are consistent."),
        ),
        criterion(
            REGRESSION,
            regression.score(),
            regression.reasoning("No tests deleted, removed or skipped."),
        ),
        criterion(TESTS, tests.score(), tests.reasoning(&tests_pass)),
        criterion(
            SECURITY,
            security.score(),
            security.reasoning(
                "No secrets, private keys or known insecure patterns in the added lines.",
            ),
        ),
    ];
    findings.sort_by_key(|f| match f.severity {
        Severity::Critical => 0,
        Severity::Important => 1,
        Severity::Minor => 2,
        Severity::Info => 3,
    });
    let ok = approved(&criteria, cfg.max_weak);
    let subject = if req.task.id.is_empty() {
        "change".to_string()
    } else {
        req.task.id.clone()
    };
    let mut summary = summary_line(
        if ok { PASSED } else { CHANGES_REQUESTED },
        &subject,
        &criteria,
    );
    let crit = findings
        .iter()
        .filter(|f| f.severity == Severity::Critical)
        .count();
    let imp = findings
        .iter()
        .filter(|f| f.severity == Severity::Important)
        .count();
    let min = findings
        .iter()
        .filter(|f| f.severity == Severity::Minor)
        .count();
    summary.push_str(&format!(
        "; findings: {crit} critical, {imp} important, {min} minor"
    ));
    Review {
        approved: ok,
        criteria,
        findings,
        summary,
        transcript_path: None,
        transcript: String::new(),
        usage: None,
    }
}

#[cfg(test)]
mod tests;
