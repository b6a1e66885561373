//! With no user.name/user.email anywhere in git config, commits are made as
//! `planexec <planexec@localhost>`. Its own test binary: it points libgit2's
//! global/system config search paths at an empty directory for the whole process.

mod common;

use common::*;
use git2::{opts::set_search_path, ConfigLevel};
use planexec_vcs::Repo;

#[test]
fn falls_back_to_the_planexec_identity() {
    let empty = tempfile::tempdir().unwrap();
    for level in [
        ConfigLevel::System,
        ConfigLevel::XDG,
        ConfigLevel::Global,
        ConfigLevel::ProgramData,
    ] {
        // SAFETY: this binary runs this one test; nothing else reads git config concurrently.
        unsafe { set_search_path(level, empty.path()).unwrap() };
    }
    let dir = tempfile::tempdir().unwrap();
    let g = git2::Repository::init(dir.path()).unwrap();
    assert!(
        g.signature().is_err(),
        "the test needs a config with no identity"
    );
    write(dir.path(), "a.txt", "a\n");
    let repo = Repo::discover(dir.path()).unwrap();
    let rp = repo.rollback_point("t", "r").unwrap();
    let c = g
        .find_commit(git2::Oid::from_str(rp.rollback_commit.as_deref().unwrap()).unwrap())
        .unwrap();
    assert_eq!(c.author().name(), Some("planexec"));
    assert_eq!(c.author().email(), Some("planexec@localhost"));
    assert_eq!(c.committer().email(), Some("planexec@localhost"));
    write(dir.path(), "b.txt", "b\n");
    let id = repo.commit_paths(&["b.txt".into()], "T1: b").unwrap();
    let c = g.find_commit(git2::Oid::from_str(&id).unwrap()).unwrap();
    assert_eq!(c.author().name(), Some("planexec"));
    // A repository-level identity wins over the fallback.
    g.config().unwrap().set_str("user.name", "Local").unwrap();
    g.config()
        .unwrap()
        .set_str("user.email", "local@example.com")
        .unwrap();
    write(dir.path(), "c.txt", "c\n");
    let id = repo.commit_paths(&["c.txt".into()], "T2: c").unwrap();
    let c = g.find_commit(git2::Oid::from_str(&id).unwrap()).unwrap();
    assert_eq!(c.author().email(), Some("local@example.com"));
}
