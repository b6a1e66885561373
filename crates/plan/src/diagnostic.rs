//! A finding about a plan's source (file:line:column, rule, message) and the
//! source position it points at; used by the parsers and by `check`.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// A position in a source file: 1-based line and column (in characters), 0-based byte offset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Span {
    pub line: u32,
    pub column: u32,
    pub offset: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One finding of `check`, pointing at the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The rule's name, e.g. `dependency-cycle`.
    pub rule: &'static str,
    pub message: String,
    pub file: PathBuf,
    pub line: u32,
    pub column: u32,
    /// The source line the finding is about, trimmed.
    pub quote: String,
}

impl Diagnostic {
    pub fn new(
        severity: Severity,
        rule: &'static str,
        message: String,
        file: &Path,
        span: Span,
        quote: &str,
    ) -> Diagnostic {
        Diagnostic {
            severity,
            rule,
            message,
            file: file.to_path_buf(),
            line: span.line.max(1),
            column: span.column.max(1),
            quote: quote.trim().to_string(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}[{}]: {}",
            self.file.display(),
            self.line,
            self.column,
            self.severity.name(),
            self.rule,
            self.message
        )?;
        if !self.quote.is_empty() {
            write!(f, "\n    | {}", self.quote)?;
        }
        Ok(())
    }
}
