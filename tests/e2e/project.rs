//! The project's own front door: the README's set-up and test command are the ones CI runs.
//! CI (`.ci/run`) calls scripts/setup.sh, installs nothing itself, then runs the README's command.

use std::fs;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// The commands of the README's first indented block, without their comments.
fn readme_commands() -> Vec<String> {
    let readme = fs::read_to_string(root().join("README.md")).unwrap();
    readme
        .lines()
        .skip_while(|l| !l.starts_with("    "))
        .take_while(|l| l.starts_with("    "))
        .map(|l| l.split(" #").next().unwrap().trim().to_string())
        .collect()
}

/// `.ci/run`'s command lines (comments, blank lines and `echo` dropped).
fn ci_commands() -> Vec<String> {
    let ci = fs::read_to_string(root().join(".ci/run")).unwrap();
    ci.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("echo "))
        .map(str::to_string)
        .collect()
}

#[test]
fn ci_runs_the_readmes_setup_and_then_exactly_its_test_command() {
    let readme = readme_commands();
    assert_eq!(
        readme.len(),
        2,
        "the README opens with two commands: {readme:?}"
    );
    let ci = ci_commands();
    assert!(
        ci.iter().any(|l| l == "scripts/setup.sh"),
        ".ci/run must call scripts/setup.sh: {ci:?}"
    );
    assert_eq!(
        ci.last(),
        Some(&readme[1]),
        ".ci/run must end with exactly the README's test command"
    );
}

#[test]
fn ci_installs_nothing_of_its_own() {
    let installers = [
        "apt-get", "apt", "pip", "pip3", "npm", "npx", "rustup", "install",
    ];
    for line in ci_commands() {
        let words: Vec<&str> = line.split_whitespace().collect();
        assert!(
            !words.iter().any(|w| installers.contains(w)),
            ".ci/run installs something itself ({line}); put it in scripts/setup.sh"
        );
    }
}

#[test]
fn the_demo_command_runs_the_setup() {
    let demo = fs::read_to_string(root().join("scripts/demo.sh")).unwrap();
    assert!(readme_commands()[0].starts_with("scripts/demo.sh"));
    assert!(demo.lines().any(|l| l.trim() == "scripts/setup.sh"));
}

/// The shared libraries an ELF binary names (`ldd`'s first column).
fn needed_libraries(bin: &str) -> String {
    let out = std::process::Command::new("ldd").arg(bin).output().unwrap();
    assert!(out.status.success(), "ldd {bin}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn neither_binary_links_or_starts_openssl() {
    // git's https fetches go through ureq and rustls (packs/smart_http.rs): no process pays
    // OpenSSL's start-up (provider and config loading), whether or not anything is fetched.
    for bin in [
        env!("CARGO_BIN_EXE_planexec"),
        env!("CARGO_BIN_EXE_planexec-box"),
    ] {
        let libs = needed_libraries(bin);
        assert!(
            !libs.contains("libssl") && !libs.contains("libcrypto"),
            "{bin} links OpenSSL:\n{libs}"
        );
    }
}
