//! `planexec report html RUN-ID|REPORT.json -o PATH`: the HTML page of a run after the
//! fact, from its saved state in this repository or from a JSON report (merged or not).

use super::{exit, report_error};
use planexec_record::RunRecord;
use std::path::Path;

const MAX_REPORT: u64 = 256 << 20;

pub fn run(source: &str, output: &Path) -> i32 {
    let record = match read(source) {
        Ok(r) => r,
        Err(e) => {
            report_error(&e);
            return exit::USAGE;
        }
    };
    let page = crate::report::html::render(&record);
    match crate::report::write_file(output, page.as_bytes()) {
        Ok(()) => {
            println!("wrote {}", output.display());
            exit::OK
        }
        Err(e) => {
            report_error(&e);
            exit::USAGE
        }
    }
}

/// A JSON report file when `source` names one, else a run id of this repository.
fn read(source: &str) -> Result<RunRecord, String> {
    let path = Path::new(source);
    if path.is_file() {
        let root = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let text = crate::input::read_text(path, root, MAX_REPORT).map_err(|e| e.to_string())?;
        return RunRecord::from_json(&text)
            .map_err(|e| format!("{source}: not a planexec JSON report: {e}"));
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+');
    if source.is_empty() || source.contains("..") || !source.chars().all(ok) {
        return Err(format!("`{source}` is neither a file nor a run id"));
    }
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    let repo = planexec_vcs::Repo::discover(&cwd).map_err(|e| {
        format!("`{source}` is not a file, and no run ids without a repository: {e}")
    })?;
    crate::engine::saved_record(repo.git().path(), source)
}
