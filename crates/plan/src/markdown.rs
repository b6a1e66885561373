//! Markdown reading on top of pulldown-cmark: a flat list of blocks with source offsets.
//! Code blocks stay code blocks, so checkboxes and headings inside fences are never tasks.

use std::path::{Path, PathBuf};

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

use crate::error::PlanError;
use crate::model::Span;

/// The largest plan file planexec reads.
pub const MAX_PLAN_BYTES: u64 = 8 * 1024 * 1024;

/// A source file's text and a line index for offset -> line:column.
#[derive(Debug)]
pub struct Source {
    pub path: PathBuf,
    pub text: String,
    line_starts: Vec<usize>,
}

impl Source {
    pub fn new(path: PathBuf, text: String) -> Source {
        let mut line_starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(i + 1);
            }
        }
        Source {
            path,
            text,
            line_starts,
        }
    }

    /// Read a file, refusing what is not a text plan (empty, binary, not UTF-8, too large).
    pub fn read(path: &Path) -> Result<Source, PlanError> {
        let io = |source| PlanError::Io {
            path: path.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        if !meta.is_file() {
            // A device (/dev/zero) or a FIFO would be read without end.
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file; planexec reads plans only from regular files",
            )));
        }
        if meta.len() > MAX_PLAN_BYTES {
            return Err(PlanError::TooLarge {
                path: path.to_path_buf(),
                size: meta.len(),
                limit: MAX_PLAN_BYTES,
            });
        }
        let mut bytes = Vec::new();
        use std::io::Read;
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_PLAN_BYTES + 1).read_to_end(&mut bytes))
            .map_err(io)?;
        Source::from_bytes(path, bytes)
    }

    /// Check raw bytes and build a source from them.
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Source, PlanError> {
        if bytes.len() as u64 > MAX_PLAN_BYTES {
            return Err(PlanError::TooLarge {
                path: path.to_path_buf(),
                size: bytes.len() as u64,
                limit: MAX_PLAN_BYTES,
            });
        }
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(PlanError::Empty {
                path: path.to_path_buf(),
            });
        }
        if let Some(offset) = bytes.iter().take(64 * 1024).position(|&b| b == 0) {
            return Err(PlanError::Binary {
                path: path.to_path_buf(),
                offset,
            });
        }
        match String::from_utf8(bytes) {
            Ok(mut text) => {
                if text.starts_with('\u{feff}') {
                    text.replace_range(..3, "   ");
                }
                Ok(Source::new(path.to_path_buf(), text))
            }
            Err(e) => {
                let offset = e.utf8_error().valid_up_to();
                let bytes = e.as_bytes();
                let before = &bytes[..offset];
                let line = before.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
                let line_start = before
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |p| p + 1);
                let column = String::from_utf8_lossy(&before[line_start..])
                    .chars()
                    .count() as u32
                    + 1;
                Err(PlanError::InvalidUtf8 {
                    path: path.to_path_buf(),
                    line,
                    column,
                    offset,
                })
            }
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn span(&self, offset: usize) -> Span {
        let offset = offset.min(self.text.len());
        let idx = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[idx];
        let mut o = offset;
        while !self.text.is_char_boundary(o) {
            o -= 1;
        }
        let column = self.text[start..o].chars().count() as u32 + 1;
        Span {
            line: idx as u32 + 1,
            column,
            offset,
        }
    }

    /// The text of a 1-based line, without its line ending.
    pub fn line_text(&self, line: u32) -> &str {
        let i = (line as usize).saturating_sub(1);
        if i >= self.line_starts.len() {
            return "";
        }
        let start = self.line_starts[i];
        let end = self
            .line_starts
            .get(i + 1)
            .copied()
            .unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    /// The trimmed source line at an offset (for quoting in diagnostics), cut at
    /// [`QUOTE_MAX`] characters: every dependency keeps its quote, and a dense plan's
    /// Dependencies line would otherwise be copied once per id it names.
    pub fn quote(&self, offset: usize) -> String {
        short_quote(self.line_text(self.span(offset).line).trim())
    }
}

/// The longest quote kept, in characters.
pub const QUOTE_MAX: usize = 160;

/// A quote cut at [`QUOTE_MAX`] characters, with `…` when cut.
pub fn short_quote(line: &str) -> String {
    match line.char_indices().nth(QUOTE_MAX) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    }
}

/// What a block is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Heading(u8),
    Para,
    /// A list item; `checked` is Some for task-list items.
    Item {
        checked: Option<bool>,
        ordered: bool,
    },
    Table,
    Code {
        fenced: bool,
    },
    Other,
}

/// One block of the document, in document order.
#[derive(Debug, Clone)]
pub struct Block {
    pub kind: Kind,
    /// Inline text, `**` kept around strong text and backticks around code spans;
    /// lines (soft breaks) separated by `\n`. For code blocks: the code.
    pub text: String,
    /// Source offset of each line of `text`.
    pub line_offsets: Vec<usize>,
    pub start: usize,
    pub end: usize,
    /// List nesting depth: 0 outside lists; an item in a top-level list has depth 1.
    pub depth: u16,
    /// Table rows (header first), each a list of cell texts; with each row's offset.
    pub rows: Vec<Vec<String>>,
    pub row_offsets: Vec<usize>,
    /// A bullet led by a status mark in a file that writes its state so (`- ✅ Title` beside
    /// `- ⬜ Title`): done, and the mark's length in `text`.
    pub status_box: Option<(bool, usize)>,
}

impl Block {
    fn new(kind: Kind, start: usize, end: usize, depth: u16) -> Block {
        Block {
            kind,
            text: String::new(),
            line_offsets: Vec::new(),
            start,
            end,
            depth,
            rows: Vec::new(),
            row_offsets: Vec::new(),
            status_box: None,
        }
    }

    /// The lines of the text with the source offset of each.
    pub fn lines(&self) -> impl Iterator<Item = (&str, usize)> {
        self.text.split('\n').enumerate().map(move |(i, l)| {
            (
                l.trim_end_matches('\r'),
                self.line_offsets.get(i).copied().unwrap_or(self.start),
            )
        })
    }

    pub fn heading_level(&self) -> Option<u8> {
        match self.kind {
            Kind::Heading(l) => Some(l),
            _ => None,
        }
    }

    pub fn is_item(&self) -> bool {
        matches!(self.kind, Kind::Item { .. })
    }

    /// The item's checkbox, counting the marks Markdown does not: `[-]` (in progress: open),
    /// `[~]` (skipped: settled, counted done), and `[ ]*` (Kiro's optional task). With the length of
    /// the mark to skip in `text` (0 for a real task-list item).
    pub fn task_box(&self) -> Option<(bool, usize)> {
        match self.kind {
            Kind::Item {
                checked: Some(c), ..
            } => Some((c, 0)),
            Kind::Item { checked: None, .. } if self.status_box.is_some() => self.status_box,
            Kind::Item { checked: None, .. } => {
                // `[-] `, `[~] `, and Kiro's optional tasks `[ ]* 16. ...`
                let t = self.text.trim_start().trim_start_matches('\\');
                // a box inside bold: `**[x] Browser management** (browser.ts)`
                let t = t
                    .strip_prefix("**")
                    .filter(|r| r.starts_with('[') && r.get(3..4) == Some(" "))
                    .unwrap_or(t);
                let lead = self.text.len() - t.len();
                let b = t.as_bytes();
                let mark = (b.len() > 3 && b[0] == b'[' && b[2] == b']').then(|| b[1]);
                let after_ok = b.get(3).is_some_and(|&c| c == b' ' || c == b'*');
                match mark {
                    Some(b'-' | b'/') if b[3] == b' ' => Some((false, lead + 4)),
                    Some(b'~') if b[3] == b' ' => Some((true, lead + 4)),
                    Some(b' ') if after_ok => Some((false, lead + 3)),
                    Some(b'x' | b'X') if after_ok => Some((true, lead + 3)),
                    _ => emoji_box(t)
                        .or_else(|| status_box(t))
                        .map(|(d, n)| (d, lead + n)),
                }
            }
            _ => None,
        }
    }

    pub fn checked(&self) -> Option<bool> {
        match self.kind {
            Kind::Item { checked, .. } => checked,
            _ => None,
        }
    }

    /// Text with `**` markers and backticks removed and lines joined by spaces.
    pub fn plain(&self) -> String {
        plain(&self.text)
    }
}

/// A box holding one mark Markdown does not know: `[✓]`, `[✅]` (done), `[🔄]`, `[⏳]` (open).
fn emoji_box(t: &str) -> Option<(bool, usize)> {
    let rest = t.strip_prefix('[')?;
    let mut cs = rest.char_indices();
    let (_, mark) = cs.next()?;
    let (close, _) = cs.find(|(_, c)| !matches!(c, '\u{fe0f}' | '\u{200d}'))?;
    if mark.is_ascii() || !rest[close..].starts_with("] ") {
        return None;
    }
    let done = matches!(mark, '✓' | '✔' | '✅' | '☑' | '☒');
    Some((done, 1 + close + 2))
}

/// A box holding a status word: `[completed]`, `[done]` (done), `[in_progress]`, `[pending]`,
/// `[todo]` (open).
fn status_box(t: &str) -> Option<(bool, usize)> {
    let rest = t.strip_prefix('[')?;
    let close = rest.find("] ")?;
    let word = rest[..close].to_ascii_lowercase().replace(['-', ' '], "_");
    let done = match word.as_str() {
        "completed" | "complete" | "done" | "finished" | "skipped" => true,
        "in_progress" | "pending" | "todo" | "wip" | "blocked" | "open" | "not_started" => false,
        _ => return None,
    };
    Some((done, 1 + close + 2))
}

/// Remove `**` markers, join lines with spaces and collapse whitespace.
pub fn plain(s: &str) -> String {
    let s = s.replace("**", "");
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A parsed Markdown document.
#[derive(Debug)]
pub struct Doc {
    pub src: Source,
    pub front_matter: serde_json::Value,
    /// Offset where the Markdown body starts (after front matter).
    pub body_start: usize,
    pub blocks: Vec<Block>,
}

enum Target {
    None,
    Block(usize),
    Cell(usize),
}

impl Doc {
    /// Split off YAML front matter and parse the body.
    pub fn parse(src: Source) -> Result<Doc, PlanError> {
        let (front_matter, body_start) = front_matter(&src)?;
        let blocks = parse_blocks(&src.text, body_start);
        Ok(Doc {
            src,
            front_matter,
            body_start,
            blocks,
        })
    }

    pub fn span(&self, offset: usize) -> Span {
        self.src.span(offset)
    }

    pub fn quote(&self, offset: usize) -> String {
        self.src.quote(offset)
    }

    /// Index one past the last block of the section opened by heading `i`
    /// (up to the next heading of the same or a higher level).
    pub fn section_end(&self, i: usize) -> usize {
        let level = self.blocks[i].heading_level().unwrap_or(0);
        let mut j = i + 1;
        while j < self.blocks.len() {
            if let Some(l) = self.blocks[j].heading_level() {
                if l <= level {
                    break;
                }
            }
            j += 1;
        }
        j
    }

    /// The Markdown source from block `a` to the end of block `b - 1`.
    pub fn source_of(&self, a: usize, b: usize) -> &str {
        if a >= b || a >= self.blocks.len() {
            return "";
        }
        let start = self.blocks[a].start;
        let end = self.blocks[a..b]
            .iter()
            .map(|x| x.end)
            .max()
            .unwrap_or(start);
        self.src.text.get(start..end).unwrap_or("").trim_end()
    }
}

fn front_matter(src: &Source) -> Result<(serde_json::Value, usize), PlanError> {
    let text = &src.text;
    let lead = text.len() - text.trim_start_matches([' ', '\u{feff}']).len();
    let rest = &text[lead..];
    let first_end = rest.find('\n').map_or(rest.len(), |i| i + 1);
    if rest[..first_end].trim_end() != "---" {
        return Ok((serde_json::Value::Null, 0));
    }
    let yaml_start = lead + first_end;
    let mut pos = yaml_start;
    while pos < text.len() {
        let end = text[pos..].find('\n').map_or(text.len(), |i| pos + i + 1);
        let line = text[pos..end].trim_end();
        if line == "---" || line == "..." {
            let yaml = &text[yaml_start..pos];
            let value = if yaml.trim().is_empty() {
                serde_json::Value::Null
            } else {
                match serde_yaml::from_str::<serde_json::Value>(yaml) {
                    Ok(v) => v,
                    Err(e) => {
                        let (line, column) = match e.location() {
                            Some(l) => (
                                src.span(yaml_start).line + l.line() as u32 - 1,
                                l.column() as u32,
                            ),
                            None => (src.span(yaml_start).line, 1),
                        };
                        let mut message = e.to_string();
                        if let Some(i) = message.find(" at line ") {
                            message.truncate(i);
                        }
                        return Err(PlanError::FrontMatter {
                            path: src.path.clone(),
                            line,
                            column,
                            message,
                        });
                    }
                }
            };
            let value = match value {
                serde_json::Value::Object(_) | serde_json::Value::Null => value,
                other => {
                    return Err(PlanError::FrontMatter {
                        path: src.path.clone(),
                        line: src.span(yaml_start).line,
                        column: 1,
                        message: format!(
                            "expected a mapping of keys to values, found {}",
                            json_kind(&other)
                        ),
                    })
                }
            };
            return Ok((value, end));
        }
        pos = end;
    }
    // An opening `---` with no close: a thematic break at the top, unless it looks like YAML.
    let next = text[yaml_start..].lines().next().unwrap_or("");
    if next.contains(':') && !next.trim_start().starts_with('#') {
        return Err(PlanError::UnclosedFrontMatter {
            path: src.path.clone(),
            line: src.span(lead).line,
        });
    }
    Ok((serde_json::Value::Null, 0))
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "nothing",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "a mapping",
    }
}

fn parse_blocks(text: &str, base: usize) -> Vec<Block> {
    let unnested = unnest_fences(&text[base..]);
    let body = unnested.as_deref().unwrap_or(&text[base..]);
    let opts = Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS | Options::ENABLE_STRIKETHROUGH;
    let mut blocks: Vec<Block> = Vec::new();
    let mut items: Vec<usize> = Vec::new();
    let mut list_depth: u16 = 0;
    let mut target = Target::None;
    let mut pending_line = false;
    let mut in_code: Option<usize> = None;
    let mut ordered_stack: Vec<bool> = Vec::new();

    fn push_text(blocks: &mut [Block], target: &Target, pending: &mut bool, s: &str, off: usize) {
        match *target {
            Target::Block(i) => {
                let b = &mut blocks[i];
                if *pending {
                    b.line_offsets.push(off);
                    *pending = false;
                }
                b.text.push_str(s);
            }
            Target::Cell(i) => {
                let b = &mut blocks[i];
                if let Some(row) = b.rows.last_mut() {
                    if let Some(cell) = row.last_mut() {
                        cell.push_str(s);
                    }
                }
            }
            Target::None => {}
        }
    }

    for (ev, range) in Parser::new_ext(body, opts).into_offset_iter() {
        let (s, e) = (range.start + base, range.end + base);
        if let Some(ci) = in_code {
            match ev {
                Event::Text(t) => {
                    let b = &mut blocks[ci];
                    let mut off = s;
                    for piece in t.split_inclusive('\n') {
                        if b.text.is_empty() || b.text.ends_with('\n') {
                            b.line_offsets.push(off);
                        }
                        b.text.push_str(&piece.replace('\r', ""));
                        off += piece.len();
                    }
                }
                Event::End(TagEnd::CodeBlock) => {
                    in_code = None;
                    let b = &mut blocks[ci];
                    if b.text.ends_with('\n') {
                        b.text.pop();
                    }
                    target = items.last().map_or(Target::None, |&i| Target::Block(i));
                }
                _ => {}
            }
            continue;
        }
        match ev {
            Event::Start(tag) => match tag {
                Tag::Heading { level, .. } => {
                    blocks.push(Block::new(Kind::Heading(level as u8), s, e, list_depth));
                    target = Target::Block(blocks.len() - 1);
                    pending_line = true;
                }
                Tag::Paragraph => {
                    if let Some(&it) = items.last() {
                        let b = &mut blocks[it];
                        if !b.text.is_empty() {
                            b.text.push('\n');
                        }
                        target = Target::Block(it);
                    } else {
                        blocks.push(Block::new(Kind::Para, s, e, list_depth));
                        target = Target::Block(blocks.len() - 1);
                    }
                    pending_line = true;
                }
                Tag::List(start) => {
                    list_depth += 1;
                    ordered_stack.push(start.is_some());
                }
                Tag::Item => {
                    let ordered = ordered_stack.last().copied().unwrap_or(false);
                    blocks.push(Block::new(
                        Kind::Item {
                            checked: None,
                            ordered,
                        },
                        s,
                        e,
                        list_depth,
                    ));
                    let i = blocks.len() - 1;
                    items.push(i);
                    target = Target::Block(i);
                    pending_line = true;
                }
                Tag::CodeBlock(kind) => {
                    let fenced = matches!(kind, CodeBlockKind::Fenced(_));
                    blocks.push(Block::new(Kind::Code { fenced }, s, e, list_depth));
                    in_code = Some(blocks.len() - 1);
                }
                Tag::Table(_) => {
                    blocks.push(Block::new(Kind::Table, s, e, list_depth));
                    target = Target::None;
                }
                Tag::TableHead | Tag::TableRow => {
                    if let Some(b) = blocks.last_mut() {
                        if b.kind == Kind::Table {
                            b.rows.push(Vec::new());
                            b.row_offsets.push(s);
                        }
                    }
                }
                Tag::TableCell => {
                    if let Some(b) = blocks.last_mut() {
                        if b.kind == Kind::Table {
                            if let Some(r) = b.rows.last_mut() {
                                r.push(String::new());
                            }
                            target = Target::Cell(blocks.len() - 1);
                        }
                    }
                }
                Tag::HtmlBlock => {
                    blocks.push(Block::new(Kind::Other, s, e, list_depth));
                    target = Target::None;
                }
                Tag::Strong => push_text(&mut blocks, &target, &mut pending_line, "**", s),
                Tag::Strikethrough => push_text(&mut blocks, &target, &mut pending_line, "~~", s),
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::Heading(_) | TagEnd::Paragraph => {
                    target = items.last().map_or(Target::None, |&i| Target::Block(i));
                }
                TagEnd::Item => {
                    items.pop();
                    target = items.last().map_or(Target::None, |&i| Target::Block(i));
                }
                TagEnd::List(_) => {
                    list_depth = list_depth.saturating_sub(1);
                    ordered_stack.pop();
                }
                TagEnd::TableCell => target = Target::None,
                TagEnd::Table | TagEnd::HtmlBlock => {
                    target = items.last().map_or(Target::None, |&i| Target::Block(i));
                }
                TagEnd::Strong => push_text(&mut blocks, &target, &mut pending_line, "**", s),
                TagEnd::Strikethrough => {
                    push_text(&mut blocks, &target, &mut pending_line, "~~", s)
                }
                _ => {}
            },
            Event::Text(t) => push_text(&mut blocks, &target, &mut pending_line, &t, s),
            Event::Code(t) => {
                let ticks = if t.contains('`') { "``" } else { "`" };
                let sp = if t.starts_with('`') || t.ends_with('`') {
                    " "
                } else {
                    ""
                };
                let s2 = format!("{ticks}{sp}{t}{sp}{ticks}");
                push_text(&mut blocks, &target, &mut pending_line, &s2, s)
            }
            Event::InlineHtml(t)
            | Event::Html(t)
            | Event::InlineMath(t)
            | Event::DisplayMath(t) => push_text(&mut blocks, &target, &mut pending_line, &t, s),
            Event::SoftBreak | Event::HardBreak => {
                if let Target::Block(_) = target {
                    push_text(&mut blocks, &target, &mut pending_line, "\n", s);
                    pending_line = true;
                } else {
                    push_text(&mut blocks, &target, &mut pending_line, " ", s);
                }
            }
            Event::TaskListMarker(done) => {
                if let Some(&it) = items.last() {
                    if let Kind::Item { ordered, .. } = blocks[it].kind {
                        blocks[it].kind = Kind::Item {
                            checked: Some(done),
                            ordered,
                        };
                    }
                }
            }
            Event::Rule => blocks.push(Block::new(Kind::Other, s, e, list_depth)),
            Event::FootnoteReference(_) => {}
        }
    }
    for b in &mut blocks {
        if b.line_offsets.is_empty() {
            b.line_offsets.push(b.start);
        }
    }
    mark_status_bullets(&mut blocks);
    blocks
}

/// Marks that lead a bullet as its state, done or open (`- ✅ Title`, `- ⬜ Title`, `- 🟡 Title`).
const DONE_LEADS: [char; 5] = ['✅', '✔', '☑', '✓', '☒'];
const OPEN_LEADS: [char; 6] = ['⬜', '☐', '🟡', '⏳', '🔲', '🔄'];

/// A bullet led by a status mark, with the mark's length in its text.
fn status_lead(b: &Block) -> Option<(bool, usize)> {
    if !matches!(b.kind, Kind::Item { checked: None, .. }) {
        return None;
    }
    let t = b.text.trim_start();
    let c = t.chars().next()?;
    let done = DONE_LEADS.contains(&c);
    if !done && !OPEN_LEADS.contains(&c) {
        return None;
    }
    let rest = t[c.len_utf8()..].trim_start_matches(['\u{fe0f}', ' ']);
    Some((done, b.text.len() - rest.len()))
}

/// A file whose bullets start with both done and open marks keeps its state in them, as a
/// legend of checkboxes: those bullets are checkboxes. Done marks alone (`✅ Feature`) describe.
fn mark_status_bullets(blocks: &mut [Block]) {
    let leads: Vec<_> = blocks.iter().map(status_lead).collect();
    let done = leads.iter().flatten().any(|(d, _)| *d);
    let open = leads.iter().flatten().any(|(d, _)| !*d);
    if done && open {
        for (b, l) in blocks.iter_mut().zip(leads) {
            b.status_box = l;
        }
    }
}

/// A fence line: its indent-stripped mark character, run length and info string.
fn fence_of(line: &str) -> Option<(u8, usize, &str)> {
    let t = line.trim_end_matches(['\n', '\r']);
    let t = t
        .strip_prefix("   ")
        .or_else(|| t.strip_prefix("  "))
        .or_else(|| t.strip_prefix(' '))
        .unwrap_or(t);
    let c = *t.as_bytes().first()?;
    if c != b'`' && c != b'~' {
        return None;
    }
    let n = t.bytes().take_while(|&b| b == c).count();
    (n >= 3).then(|| (c, n, t[n..].trim()))
}

/// Authors nest fenced examples inside a fenced Markdown template without lengthening the
/// outer fence (a ` ```markdown ` block holding ` ```python ` ... ` ``` `); CommonMark then
/// closes the template at the inner close and reads the rest of the file as code. Inside a
/// `markdown`/`md` fence, an inner fence with an info string and its bare close are rewritten
/// to the other fence character (same length, so every offset stays), so the template ends
/// where its author meant. `None` when nothing is nested.
fn unnest_fences(body: &str) -> Option<String> {
    let mut outer: Option<(u8, usize, bool)> = None;
    let mut inner: Option<(usize, usize)> = None;
    let mut pairs: Vec<(usize, usize, usize)> = Vec::new();
    let mut pos = 0;
    for line in body.split_inclusive('\n') {
        let at = pos + (line.len() - line.trim_start_matches(' ').len());
        pos += line.len();
        let Some((c, n, info)) = fence_of(line) else {
            continue;
        };
        match (outer, inner) {
            (None, _) => {
                let lang = info
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_ascii_lowercase();
                outer = Some((c, n, lang == "markdown" || lang == "md"));
            }
            (Some((oc, _, _)), Some((open, len))) if c == oc => {
                if info.is_empty() && n == len {
                    pairs.push((open, at, len));
                    inner = None;
                }
            }
            (Some((oc, on, md)), None) if c == oc => {
                if md && !info.is_empty() {
                    inner = Some((at, n));
                } else if info.is_empty() && n >= on {
                    outer = None;
                }
            }
            _ => {}
        }
    }
    if pairs.is_empty() {
        return None;
    }
    let mut out = body.as_bytes().to_vec();
    for (open, close, len) in pairs {
        let other = if out[open] == b'`' { b'~' } else { b'`' };
        out[open..open + len].fill(other);
        out[close..close + len].fill(other);
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(s: &str) -> Doc {
        Doc::parse(Source::new(PathBuf::from("t.md"), s.to_string())).unwrap()
    }

    #[test]
    fn fences_hide_tasks_and_offsets_are_kept() {
        let d = doc("# Title\n\n```md\n### T009: fake\n- [ ] fake\n```\n\n- [x] real\n  wrapped\n");
        let kinds: Vec<_> = d.blocks.iter().map(|b| b.kind).collect();
        assert_eq!(kinds.len(), 3, "{kinds:?}");
        assert_eq!(d.blocks[2].checked(), Some(true));
        assert_eq!(d.blocks[2].text, "real\nwrapped");
        assert_eq!(d.span(d.blocks[2].start).line, 8);
        assert_eq!(d.span(d.blocks[2].line_offsets[1]).line, 9);
    }

    #[test]
    fn fenced_examples_nested_in_a_markdown_template_close_inside_it() {
        let t =
            "# P\n\n```markdown\n## Guide\n```python\nx = 1\n```\n- [ ] fake\n```\n\n- [x] real\n";
        let d = doc(t);
        let boxes: Vec<_> = d.blocks.iter().filter(|b| b.checked().is_some()).collect();
        assert_eq!(boxes.len(), 1, "{:?}", d.blocks);
        assert_eq!(boxes[0].text, "real");
        assert_eq!(d.span(boxes[0].start).line, 11);
    }

    #[test]
    fn bold_markers_and_code_spans_survive() {
        let d = doc("**Dependencies:** T001\n**Acceptance test**: `pytest -q`\n");
        assert_eq!(
            d.blocks[0].text,
            "**Dependencies:** T001\n**Acceptance test**: `pytest -q`"
        );
        assert_eq!(
            d.span(d.blocks[0].line_offsets[1]),
            Span {
                line: 2,
                column: 1,
                offset: 23
            }
        );
    }

    #[test]
    fn front_matter_is_split_and_checked() {
        let d = doc("---\ntitle: x\n---\n# H\n");
        assert_eq!(d.front_matter["title"], "x");
        assert_eq!(d.blocks.len(), 1);
        let e = Doc::parse(Source::new(
            PathBuf::from("t.md"),
            "---\ntitle: [x\n---\n".into(),
        ))
        .unwrap_err();
        assert!(e.to_string().starts_with("t.md:"), "{e}");
    }
}
