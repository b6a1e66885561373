//! A stand-in for `planexec check` while the host CLI is wired:
//! `cargo run -p planexec-plan --example check -- PLAN [--format human|json] [--dialect NAME]`.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut path: Option<PathBuf> = None;
    let mut json = false;
    let mut dialect = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--format" => json = args.next().as_deref() == Some("json"),
            "--dialect" => match args.next().unwrap_or_default().parse() {
                Ok(d) => dialect = Some(d),
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            },
            _ => path = Some(PathBuf::from(a)),
        }
    }
    let Some(path) = path else {
        eprintln!("usage: check PLAN [--format human|json] [--dialect NAME]");
        return ExitCode::from(2);
    };
    match planexec_plan::load(&path, dialect) {
        Ok(plan) => {
            let diags = planexec_plan::check(&plan);
            if json {
                println!("{}", planexec_plan::render_check_json(&plan, &diags));
            } else {
                print!("{}", planexec_plan::render_check_human(&plan, &diags));
            }
            if planexec_plan::has_errors(&diags) {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
