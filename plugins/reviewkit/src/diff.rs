//! A tolerant parser for `git diff` unified output: files, hunks, and every line with
//! its old/new line number, so findings can point at a line of the new file.

/// What happened to a file in the diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStatus {
    Added,
    Modified,
    Deleted,
    Renamed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Added,
    Removed,
    Context,
}

/// One line of a hunk. `text` has no `+`/`-`/` ` prefix and no line terminator;
/// `crlf` says the line ended in `\r\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub kind: LineKind,
    pub text: String,
    pub old_line: Option<u32>,
    pub new_line: Option<u32>,
    pub crlf: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hunk {
    pub old_start: u32,
    pub new_start: u32,
    /// The text after the second `@@` (often the enclosing function).
    pub section: String,
    pub lines: Vec<DiffLine>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDiff {
    /// The path in the new tree (the old path for a deletion).
    pub path: String,
    pub old_path: Option<String>,
    pub status: FileStatus,
    pub binary: bool,
    pub hunks: Vec<Hunk>,
}

impl FileDiff {
    pub fn lines(&self) -> impl Iterator<Item = &DiffLine> {
        self.hunks.iter().flat_map(|h| h.lines.iter())
    }
    pub fn added(&self) -> impl Iterator<Item = &DiffLine> {
        self.lines().filter(|l| l.kind == LineKind::Added)
    }
    pub fn removed(&self) -> impl Iterator<Item = &DiffLine> {
        self.lines().filter(|l| l.kind == LineKind::Removed)
    }
}

fn strip_prefix_path(p: &str) -> Option<String> {
    let p = p.trim_end_matches('\r');
    // `--- a/x\t2024-...` (plain diff) carries a timestamp after a tab.
    let p = p.split('\t').next().unwrap_or(p);
    let p = p.trim();
    if p == "/dev/null" {
        return None;
    }
    let p = unquote(p);
    let p = p
        .strip_prefix("a/")
        .or_else(|| p.strip_prefix("b/"))
        .unwrap_or(&p)
        .to_string();
    Some(p)
}

/// A path as git prints it: C-quoted (`"na\303\257ve.txt"`: octal bytes and
/// `\t`-style escapes) when it has unusual characters, else as is.
pub fn unquote(p: &str) -> String {
    if !(p.len() >= 2 && p.starts_with('"') && p.ends_with('"')) {
        return p.to_string();
    }
    let inner = &p.as_bytes()[1..p.len() - 1];
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        let c = inner[i];
        i += 1;
        if c != b'\\' || i >= inner.len() {
            out.push(c);
            continue;
        }
        let e = inner[i];
        i += 1;
        match e {
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    if i < inner.len() && (b'0'..=b'7').contains(&inner[i]) {
                        v = v * 8 + u32::from(inner[i] - b'0');
                        i += 1;
                    }
                }
                out.push(v as u8);
            }
            b'a' => out.push(7),
            b'b' => out.push(8),
            b't' => out.push(b'\t'),
            b'n' => out.push(b'\n'),
            b'v' => out.push(11),
            b'f' => out.push(12),
            b'r' => out.push(b'\r'),
            other => out.push(other),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `diff --git a/x b/x` → (a, b): C-quoted sides, or unquoted paths split at
/// ` b/` (names with spaces work; one containing " b/" cannot be told apart).
fn git_header_paths(rest: &str) -> (Option<String>, Option<String>) {
    let rest = rest.trim_end_matches('\r');
    if rest.starts_with('"') {
        if let Some(end) = quoted_end(rest) {
            let (a, b) = rest.split_at(end);
            return (strip_prefix_path(a), strip_prefix_path(b.trim_start()));
        }
    }
    let split = rest.find(" \"b/").or_else(|| rest.find(" b/"));
    match split {
        Some(i) => (
            strip_prefix_path(&rest[..i]),
            strip_prefix_path(&rest[i + 1..]),
        ),
        None => (None, None),
    }
}

/// The byte index just past the closing quote of the C-quoted token `s` starts with.
fn quoted_end(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// "-12,5" → (12, 5); "+3" → (3, 1).
fn parse_range(s: &str) -> (u32, u32) {
    let s = s.trim_start_matches(['-', '+']);
    let mut it = s.split(',');
    let start = it.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    let len = it.next().map(|n| n.parse().unwrap_or(0)).unwrap_or(1);
    (start, len)
}

/// Parses a unified diff (as `git diff` prints it). Unknown lines are skipped,
/// never an error: a reviewer judges what it can read.
pub fn parse_diff(text: &str) -> Vec<FileDiff> {
    let mut files: Vec<FileDiff> = Vec::new();
    let mut cur: Option<FileDiff> = None;
    let mut in_hunk = false;
    let (mut old_no, mut new_no) = (0u32, 0u32);
    let (mut old_left, mut new_left) = (0u32, 0u32);
    let lines = text.split('\n');
    let finish = |cur: &mut Option<FileDiff>, files: &mut Vec<FileDiff>| {
        if let Some(f) = cur.take() {
            files.push(f);
        }
    };
    for raw in lines {
        let crlf = raw.ends_with('\r');
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(rest) = line.strip_prefix("diff --git ") {
            finish(&mut cur, &mut files);
            in_hunk = false;
            let (a, b) = git_header_paths(rest);
            let path = b.clone().or(a.clone()).unwrap_or_default();
            cur = Some(FileDiff {
                path,
                old_path: a,
                status: FileStatus::Modified,
                binary: false,
                hunks: Vec::new(),
            });
            continue;
        }
        if in_hunk && (old_left > 0 || new_left > 0) {
            if line.starts_with('\\') {
                continue; // "\ No newline at end of file"
            }
            let f = cur.as_mut().expect("hunk has a file");
            let h = f.hunks.last_mut().expect("hunk");
            let (kind, body) = match line.as_bytes().first() {
                Some(b'+') => (LineKind::Added, &line[1..]),
                Some(b'-') => (LineKind::Removed, &line[1..]),
                Some(b' ') => (LineKind::Context, &line[1..]),
                None => (LineKind::Context, ""),
                _ => {
                    in_hunk = false;
                    (LineKind::Context, "")
                }
            };
            if in_hunk {
                let (o, n) = match kind {
                    LineKind::Added => {
                        new_no += 1;
                        new_left = new_left.saturating_sub(1);
                        (None, Some(new_no))
                    }
                    LineKind::Removed => {
                        old_no += 1;
                        old_left = old_left.saturating_sub(1);
                        (Some(old_no), None)
                    }
                    LineKind::Context => {
                        old_no += 1;
                        new_no += 1;
                        old_left = old_left.saturating_sub(1);
                        new_left = new_left.saturating_sub(1);
                        (Some(old_no), Some(new_no))
                    }
                };
                h.lines.push(DiffLine {
                    kind,
                    text: body.to_string(),
                    old_line: o,
                    new_line: n,
                    crlf,
                });
                continue;
            }
        }
        if in_hunk && line.starts_with('\\') {
            continue;
        }
        in_hunk = false;
        if let Some(rest) = line.strip_prefix("@@ ") {
            // @@ -a,b +c,d @@ section
            let mut parts = rest.splitn(3, ' ');
            let old = parts.next().unwrap_or("");
            let new = parts.next().unwrap_or("");
            let tail = parts.next().unwrap_or("");
            let section = tail.strip_prefix("@@").unwrap_or(tail).trim().to_string();
            if cur.is_none() {
                cur = Some(FileDiff {
                    path: String::new(),
                    old_path: None,
                    status: FileStatus::Modified,
                    binary: false,
                    hunks: Vec::new(),
                });
            }
            let f = cur.as_mut().unwrap();
            let ((os, ol), (ns, nl)) = (parse_range(old), parse_range(new));
            old_no = os.saturating_sub(1);
            new_no = ns.saturating_sub(1);
            old_left = ol;
            new_left = nl;
            f.hunks.push(Hunk {
                old_start: os,
                new_start: ns,
                section,
                lines: Vec::new(),
            });
            in_hunk = true;
            continue;
        }
        if let Some(rest) = line.strip_prefix("--- ") {
            // A plain diff (no `diff --git` line) starts a new file here.
            let needs_new = match &cur {
                None => true,
                Some(f) => !f.hunks.is_empty(),
            };
            if needs_new {
                finish(&mut cur, &mut files);
                cur = Some(FileDiff {
                    path: String::new(),
                    old_path: None,
                    status: FileStatus::Modified,
                    binary: false,
                    hunks: Vec::new(),
                });
            }
            let f = cur.as_mut().unwrap();
            match strip_prefix_path(rest) {
                Some(p) => {
                    f.old_path = Some(p.clone());
                    if f.path.is_empty() {
                        f.path = p;
                    }
                }
                None => f.status = FileStatus::Added,
            }
            continue;
        }
        let Some(f) = cur.as_mut() else { continue };
        if let Some(rest) = line.strip_prefix("+++ ") {
            match strip_prefix_path(rest) {
                Some(p) => f.path = p,
                None => f.status = FileStatus::Deleted,
            }
        } else if line.starts_with("new file mode") {
            f.status = FileStatus::Added;
        } else if line.starts_with("deleted file mode") {
            f.status = FileStatus::Deleted;
            if let Some(o) = &f.old_path {
                f.path = o.clone();
            }
        } else if let Some(p) = line.strip_prefix("rename from ") {
            f.status = FileStatus::Renamed;
            f.old_path = Some(unquote(p));
        } else if let Some(p) = line.strip_prefix("rename to ") {
            f.status = FileStatus::Renamed;
            f.path = unquote(p);
        } else if line.starts_with("Binary files ") || line.starts_with("GIT binary patch") {
            f.binary = true;
            if line.starts_with("Binary files /dev/null") {
                f.status = FileStatus::Added;
            } else if line.ends_with("and /dev/null differ") {
                f.status = FileStatus::Deleted;
            }
        }
    }
    finish(&mut cur, &mut files);
    for f in &mut files {
        if f.status == FileStatus::Deleted {
            if let Some(o) = &f.old_path {
                f.path = o.clone();
            }
        }
    }
    files.retain(|f| !f.path.is_empty());
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "diff --git a/src/app.py b/src/app.py
index 1111111..2222222 100644
--- a/src/app.py
+++ b/src/app.py
@@ -10,4 +10,6 @@ def main():
     a = 1
-    b = 2
+    b = 3
+    print(b)
+    c = 4
     return a
diff --git a/tests/test_old.py b/tests/test_old.py
deleted file mode 100644
index 3333333..0000000
--- a/tests/test_old.py
+++ /dev/null
@@ -1,2 +0,0 @@
-def test_x():
-    assert True
diff --git a/img.png b/img.png
new file mode 100644
index 0000000..4444444
Binary files /dev/null and b/img.png differ
diff --git a/old.txt b/new.txt
similarity index 100%
rename from old.txt
rename to new.txt
";

    #[test]
    fn parses_files_hunks_and_line_numbers() {
        let files = parse_diff(DIFF);
        assert_eq!(files.len(), 4);
        let app = &files[0];
        assert_eq!(app.path, "src/app.py");
        assert_eq!(app.status, FileStatus::Modified);
        let added: Vec<_> = app
            .added()
            .map(|l| (l.new_line.unwrap(), l.text.as_str()))
            .collect();
        assert_eq!(
            added,
            [(11, "    b = 3"), (12, "    print(b)"), (13, "    c = 4")]
        );
        assert_eq!(app.removed().next().unwrap().old_line, Some(11));
        assert_eq!(app.hunks[0].section, "def main():");
        assert_eq!(files[1].status, FileStatus::Deleted);
        assert_eq!(files[1].path, "tests/test_old.py");
        assert_eq!(files[1].removed().count(), 2);
        assert!(files[2].binary);
        assert_eq!(files[2].status, FileStatus::Added);
        assert_eq!(files[3].status, FileStatus::Renamed);
        assert_eq!(files[3].path, "new.txt");
        assert_eq!(files[3].old_path.as_deref(), Some("old.txt"));
    }

    #[test]
    fn new_file_and_crlf_and_dashes() {
        let d = "diff --git a/n.txt b/n.txt\nnew file mode 100644\n--- /dev/null\n+++ b/n.txt\n@@ -0,0 +1,3 @@\n+one\r\n+two\n+--- not a header\n";
        let f = &parse_diff(d)[0];
        assert_eq!(f.status, FileStatus::Added);
        let l: Vec<_> = f.added().map(|l| (l.new_line.unwrap(), l.crlf)).collect();
        assert_eq!(l, [(1, true), (2, false), (3, false)]);
        let d = "--- a/x.c\n+++ b/x.c\n@@ -1,2 +1,2 @@\n--- removed dashes\n+x\n ctx\n--- a/y.c\n+++ b/y.c\n@@ -5 +5 @@\n-a\n+b\n";
        let files = parse_diff(d);
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].removed().next().unwrap().text, "-- removed dashes");
        assert_eq!(files[1].path, "y.c");
        assert_eq!(files[1].added().next().unwrap().new_line, Some(5));
    }

    #[test]
    fn c_quoted_and_spaced_paths_come_back_exact() {
        let d = "diff --git \"a/na\\303\\257ve.txt\" \"b/na\\303\\257ve.txt\"\nnew file mode 100644\n--- /dev/null\n+++ \"b/na\\303\\257ve.txt\"\n@@ -0,0 +1 @@\n+x\n";
        let files = parse_diff(d);
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].path, "naïve.txt");
        assert_eq!(unquote("\"tab\\there \\\"q\\\"\""), "tab\there \"q\"");
        let sp = parse_diff("diff --git a/my notes.txt b/my notes.txt\n--- a/my notes.txt\n+++ b/my notes.txt\n@@ -1 +1 @@\n-a\n+b\n");
        assert_eq!(sp[0].path, "my notes.txt");
    }
}
