//! Fetching a git pack source with git2 (local, `file://` and `https://` transports):
//! the tree of one commit, credentials from git's helpers, errors that say what to do.

use super::fetch::TRUST_HINT;
use super::tree::Tree;
use git2::{ErrorClass, ErrorCode};
use std::time::Duration;

/// Fetches every branch and tag of `url` into a scratch bare repository and
/// reads the tree of the commit `rev` names (a tag, a branch or a commit id);
/// the error is the whole message for the user.
pub fn tree_at(url: &str, rev: &str, wait: Duration) -> Result<(Tree, String), String> {
    let _quiet = IgnoreSigpipe::new();
    set_timeouts(wait)?;
    let tmp = tempfile::tempdir().map_err(|e| format!("cannot make a scratch folder: {e}"))?;
    let repo = git2::Repository::init_bare(tmp.path()).map_err(|e| explain(url, wait, &e))?;
    let mut remote = repo
        .remote_anonymous(url)
        .map_err(|e| explain(url, wait, &e))?;
    let mut opts = git2::FetchOptions::new();
    opts.remote_callbacks(callbacks());
    remote
        .fetch(
            &[
                "+refs/heads/*:refs/remotes/origin/*",
                "+refs/tags/*:refs/tags/*",
            ],
            Some(&mut opts),
            None,
        )
        .map_err(|e| explain(url, wait, &e))?;
    let commit = resolve_rev(&repo, url, rev)?;
    let mut tree = Tree::default();
    let root = commit.tree().map_err(|e| e.message().to_string())?;
    walk(&repo, &root, "", &mut tree).map_err(|e| e.message().to_string())?;
    Ok((tree, commit.id().to_string()))
}

/// Bounds libgit2's connect and each socket read or write by `wait` (its default is forever).
fn set_timeouts(wait: Duration) -> Result<(), String> {
    let ms = i32::try_from(wait.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: libgit2's process-wide options, set before each fetch; planexec fetches
    // one pack at a time, so no fetch is running while they change.
    unsafe {
        git2::opts::set_server_connect_timeout_in_milliseconds(ms)
            .and_then(|()| git2::opts::set_server_timeout_in_milliseconds(ms))
            .map_err(|e| e.message().to_string())
    }
}

/// Ignores SIGPIPE while alive. planexec dies on a closed pipe (main.rs), but libgit2
/// writes to its sockets without MSG_NOSIGNAL and git2 writes the request to a credential
/// helper that may never read it: a server or helper closing early must be an error, not a kill.
struct IgnoreSigpipe(libc::sighandler_t);

impl IgnoreSigpipe {
    fn new() -> IgnoreSigpipe {
        // SAFETY: changes the disposition of one signal; the previous one is restored on drop.
        IgnoreSigpipe(unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) })
    }
}

impl Drop for IgnoreSigpipe {
    fn drop(&mut self) {
        // SAFETY: as in `new`.
        unsafe {
            libc::signal(libc::SIGPIPE, self.0);
        }
    }
}

/// Credentials for a server that asks: git's credential helpers (`credential.helper`
/// in the user's git config), asked once; a second request means they were refused.
fn callbacks<'a>() -> git2::RemoteCallbacks<'a> {
    let mut cb = git2::RemoteCallbacks::new();
    let mut asked = false;
    cb.credentials(move |url, username, allowed| {
        let refuse = |m: &str| Err(git2::Error::new(ErrorCode::Auth, ErrorClass::Http, m));
        if asked {
            return refuse("the server refused the credentials git's credential helper gave");
        }
        asked = true;
        if !allowed.contains(git2::CredentialType::USER_PASS_PLAINTEXT) {
            return refuse("the server asks for a kind of login planexec cannot give");
        }
        let config = git2::Config::open_default()?;
        git2::Cred::credential_helper(&config, url, username).or_else(|_| {
            refuse("the server requires a login and no git credential helper gave one")
        })
    });
    cb
}

/// The message for a failed fetch: what happened and what to do about it.
fn explain(url: &str, wait: Duration, e: &git2::Error) -> String {
    let detail = e.message();
    // libgit2's sockets time out with GIT_TIMEOUT, or, inside OpenSSL, as EAGAIN.
    if e.code() == ErrorCode::Timeout
        || detail.contains("timed out")
        || detail.contains("Resource temporarily unavailable")
    {
        return super::fetch::timed_out(url, wait, detail);
    }
    if e.code() == ErrorCode::Certificate || e.class() == ErrorClass::Ssl {
        return format!(
            "the TLS connection to the server failed: the server's certificate was refused \
             (libgit2: {detail})\n  nothing was written; {TRUST_HINT}"
        );
    }
    if e.code() == ErrorCode::Auth {
        return format!(
            "{detail}\n  nothing was written; configure a git credential helper that has a login for {url} \
             (`git config --global credential.helper store` and one `git ls-remote {url}` that asks for it, \
             or your organisation's helper), or use a URL this machine can read without one"
        );
    }
    if detail.contains("status code: 404") {
        return format!(
            "the server has no git repository at {url} (HTTP 404)\n  nothing was written; check the URL \
             (`git ls-remote {url}` must list its tags)"
        );
    }
    if e.class() == ErrorClass::Net || e.class() == ErrorClass::Os || e.class() == ErrorClass::Http
    {
        return format!(
            "cannot fetch {url}: {detail}\n  nothing was written; check the URL and that this machine can reach the server"
        );
    }
    format!("cannot fetch {url}: {detail}\n  nothing was written")
}

fn resolve_rev<'r>(
    repo: &'r git2::Repository,
    url: &str,
    rev: &str,
) -> Result<git2::Commit<'r>, String> {
    if rev.len() == 40 && rev.chars().all(|c| c.is_ascii_hexdigit()) {
        let oid = git2::Oid::from_str(rev).map_err(|e| e.message().to_string())?;
        return repo.find_commit(oid).map_err(|_| {
            format!(
                "commit {rev} is not reachable from any branch or tag of the source\n  \
                 nothing was written; pin a commit that a branch or tag contains, or a tag"
            )
        });
    }
    for name in [
        format!("refs/tags/{rev}"),
        format!("refs/remotes/origin/{rev}"),
    ] {
        if let Ok(r) = repo.find_reference(&name) {
            return r.peel_to_commit().map_err(|e| e.message().to_string());
        }
    }
    Err(format!(
        "no tag, branch or commit `{rev}` in the source\n  nothing was written; \
         `git ls-remote {url}` lists its tags and branches: put one of them (or a 40-hex commit) after `#`"
    ))
}

fn walk(
    repo: &git2::Repository,
    t: &git2::Tree,
    prefix: &str,
    out: &mut Tree,
) -> Result<(), git2::Error> {
    let fail = |m: String| git2::Error::from_str(&m);
    for e in t.iter() {
        let name = e
            .name()
            .ok_or_else(|| fail("a file name is not UTF-8".into()))?;
        let rel = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        };
        match e.filemode() {
            0o040000 => walk(repo, &repo.find_tree(e.id())?, &rel, out)?,
            0o100644 | 0o100755 => {
                let blob = repo.find_blob(e.id())?;
                out.add(&rel, blob.content().to_vec()).map_err(fail)?;
            }
            _ => {
                return Err(fail(format!(
                    "`{rel}` is a symlink or submodule; a pack holds only regular files"
                )))
            }
        }
    }
    Ok(())
}
