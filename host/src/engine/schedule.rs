//! Which tasks of a wave run at once (each in its own worktree) and whether a
//! worktree's commit is adopted: pure decisions over declared files and diffs.

use planexec_plan::{DepKind, Task};

/// One task of a wave as the scheduler sees it.
pub struct Candidate<'a> {
    pub task: &'a Task,
    /// Fresh (not started, waiting, blocked, interrupted or already done): only
    /// such a task may run away from the branch.
    pub fresh: bool,
}

/// The ids of the wave's tasks to run at once, in plan order: fresh tasks that
/// declare their files (plain paths, no globs), whose files overlap no other
/// chosen task's and that share no `shared` dependency with one. Empty when
/// `jobs` is 1 or fewer than two tasks qualify; the rest run on the branch.
pub fn parallel_set(wave: &[Candidate], jobs: usize) -> Vec<String> {
    if jobs < 2 {
        return Vec::new();
    }
    let mut chosen: Vec<&Task> = Vec::new();
    for c in wave {
        let t = c.task;
        if !c.fresh || t.files.is_empty() || t.files.iter().any(|f| is_glob(f)) {
            continue;
        }
        if chosen
            .iter()
            .any(|o| overlap(&t.files, &o.files).is_some() || shares(t, o))
        {
            continue;
        }
        chosen.push(t);
    }
    if chosen.len() < 2 {
        return Vec::new();
    }
    chosen.iter().map(|t| t.id.clone()).collect()
}

/// What to do with a task's commit from its worktree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Adopt {
    /// Apply it onto the branch.
    Apply,
    /// Run the task again on the branch, for this reason.
    Redo(String),
}

/// Judges a worktree commit touching `changed`, given the files the tasks of
/// the wave applied before it actually changed.
pub fn judge(task: &Task, changed: &[String], applied: &[(String, Vec<String>)]) -> Adopt {
    let strays: Vec<&str> = changed
        .iter()
        .filter(|p| !task.files.iter().any(|d| covers(d, p)))
        .map(String::as_str)
        .collect();
    if !strays.is_empty() {
        return Adopt::Redo(format!(
            "{} changed files outside its declared set ({}; declared: {})",
            task.id,
            strays.join(", "),
            task.files.join(", ")
        ));
    }
    for (other, files) in applied {
        if let Some((a, _)) = overlap(changed, files) {
            return Adopt::Redo(format!(
                "{}'s changes overlap {other}'s, applied before it ({a})",
                task.id
            ));
        }
    }
    Adopt::Apply
}

/// The first pair of paths where one is the other or a folder above it.
pub fn overlap<'a>(a: &'a [String], b: &'a [String]) -> Option<(&'a str, &'a str)> {
    for x in a {
        for y in b {
            if covers(x, y) || covers(y, x) {
                return Some((x, y));
            }
        }
    }
    None
}

/// Whether the declared `decl` (a file or a folder) covers `path`.
pub fn covers(decl: &str, path: &str) -> bool {
    let (d, p) = (norm(decl), norm(path));
    !d.is_empty() && (d == p || p.strip_prefix(d).is_some_and(|r| r.starts_with('/')))
}

fn norm(p: &str) -> &str {
    let p = p.trim();
    let p = p.strip_prefix("./").unwrap_or(p);
    p.trim_end_matches('/')
}

fn is_glob(p: &str) -> bool {
    p.contains(['*', '?', '['])
}

/// A `shared` dependency either way: never in parallel (the plan says so).
fn shares(a: &Task, b: &Task) -> bool {
    let dep = |x: &Task, y: &Task| {
        x.dependencies
            .iter()
            .any(|d| d.kind == DepKind::Shared && d.id == y.id)
    };
    dep(a, b) || dep(b, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str, files: &[&str]) -> Task {
        let mut t = Task::default();
        t.id = id.into();
        t.files = files.iter().map(|f| f.to_string()).collect();
        t
    }

    fn fresh(ts: &[Task]) -> Vec<Candidate<'_>> {
        ts.iter()
            .map(|task| Candidate { task, fresh: true })
            .collect()
    }

    #[test]
    fn disjoint_tasks_run_together_and_overlapping_ones_wait() {
        let ts = [
            task("T1", &["src/a.rs"]),
            task("T2", &["src/b.rs"]),
            task("T3", &["src/a.rs", "c.rs"]),
            task("T4", &["src"]),
            task("T5", &["docs/x.md"]),
        ];
        assert_eq!(parallel_set(&fresh(&ts), 4), ["T1", "T2", "T5"]);
        assert!(
            parallel_set(&fresh(&ts), 1).is_empty(),
            "--jobs 1 is sequential"
        );
    }

    #[test]
    fn globs_undeclared_files_shared_deps_and_started_tasks_stay_on_the_branch() {
        let mut shared = task("T3", &["c.rs"]);
        shared.dependencies.push(planexec_plan::Dependency {
            id: "T1".into(),
            kind: DepKind::Shared,
            span: Default::default(),
            file: None,
            quote: "shared T1".into(),
            prose: false,
        });
        let ts = [
            task("T1", &["a.rs"]),
            task("T2", &["src/*.rs"]),
            shared,
            task("T4", &[]),
            task("T5", &["e.rs"]),
            task("T6", &["f.rs"]),
        ];
        let mut c = fresh(&ts);
        c[5].fresh = false;
        assert_eq!(parallel_set(&c, 8), ["T1", "T5"]);
        c[4].fresh = false;
        assert!(
            parallel_set(&c, 8).is_empty(),
            "one task alone gains nothing"
        );
    }

    #[test]
    fn a_commit_inside_its_files_is_applied_and_a_stray_is_redone() {
        let t = task("T1", &["src/a.rs", "tests/"]);
        let ok = ["src/a.rs".to_string(), "tests/a_test.rs".to_string()];
        assert_eq!(judge(&t, &ok, &[]), Adopt::Apply);
        let stray = ["src/a.rs".to_string(), "src/ab.rs".to_string()];
        match judge(&t, &stray, &[]) {
            Adopt::Redo(why) => {
                assert!(why.contains("outside its declared set (src/ab.rs"), "{why}")
            }
            a => panic!("{a:?}"),
        }
    }

    #[test]
    fn a_commit_overlapping_an_earlier_one_is_redone() {
        let t = task("T2", &["lib"]);
        let applied = [("T1".to_string(), vec!["lib/x.rs".to_string()])];
        match judge(&t, &["lib/x.rs".to_string()], &applied) {
            Adopt::Redo(why) => assert!(why.contains("overlap T1's"), "{why}"),
            a => panic!("{a:?}"),
        }
        assert_eq!(judge(&t, &["lib/y.rs".to_string()], &applied), Adopt::Apply);
    }

    #[test]
    fn covers_means_the_path_or_a_folder_above_it() {
        assert!(covers("src", "src/a.rs") && covers("./src/", "src/a.rs"));
        assert!(covers("a.rs", "a.rs"));
        assert!(!covers("src", "srcx/a.rs") && !covers("src/a.rs", "src"));
        assert!(!covers("", "a.rs"));
    }
}
