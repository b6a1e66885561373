//! Sharded gates end to end on the real tools: a pytest project of 43 tests with skewed
//! durations, a Go module of several packages and a Cargo workspace, each run whole and as
//! 4 shards merged by `report merge`; plus the durations file and `ci github`.
//!
//! The merged counts and failure names must equal the whole run's exactly; a failing test
//! in one shard fails the merge; a missing shard, a duplicate and a shard of another test
//! list are refused (exit 2).

use crate::support::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

const SHARDS: u32 = 4;

/// The pytest fixture: 4 slow tests (0.4 s), 8 medium (0.15 s), 30 quick ones in three
/// files (named so that `test_1` is a prefix of `test_10`), and one skipped.
fn pytest_project(dir: &Path) {
    write(
        dir,
        "pyproject.toml",
        "[tool.pytest.ini_options]\ntestpaths = [\"tests\"]\n",
    );
    let mut slow = String::from("import time\n\n");
    for n in ["alpha", "bravo", "charlie", "delta"] {
        slow.push_str(&format!("def test_slow_{n}():\n    time.sleep(0.4)\n\n"));
    }
    write(dir, "tests/test_slow.py", &slow);
    let mut mid = String::from("import time\n\n");
    for i in 0..8 {
        mid.push_str(&format!("def test_mid_{i}():\n    time.sleep(0.15)\n\n"));
    }
    write(dir, "tests/test_mid.py", &mid);
    for f in 1..=3 {
        let mut quick = String::from("import pytest\n\n");
        for i in 1..=10 {
            quick.push_str(&format!(
                "def test_{i}():\n    assert {i} + {f} == {}\n\n",
                i + f
            ));
        }
        if f == 3 {
            quick.push_str(
                "@pytest.mark.skip(reason=\"not today\")\ndef test_skipped():\n    pass\n",
            );
        }
        write(dir, &format!("tests/test_quick_{f}.py"), &quick);
    }
}

/// The Go fixture: a module of four packages with tests (two share the name TestParse; one
/// has subtests) and one without.
fn go_project(dir: &Path) {
    write(dir, "go.mod", "module example.com/shardgo\n\ngo 1.19\n");
    let pkg = |name: &str, tests: &[&str]| {
        write(
            dir,
            &format!("{name}/{name}.go"),
            &format!("package {name}\n\nfunc Double(n int) int {{ return 2 * n }}\n"),
        );
        let mut t = format!("package {name}\n\nimport \"testing\"\n\n");
        for test in tests {
            t.push_str(&format!(
                "func {test}(t *testing.T) {{\n\tif Double(2) != 4 {{\n\t\tt.Fatal(\"double\")\n\t}}\n}}\n\n"
            ));
        }
        write(dir, &format!("{name}/{name}_test.go"), &t);
    };
    pkg("calc", &["TestDouble", "TestParse", "TestSum", "TestMax"]);
    pkg("text", &["TestUpper", "TestParse", "TestTrim"]);
    pkg("geo", &["TestArea", "TestPerimeter"]);
    write(
        dir,
        "geo/table_test.go",
        "package geo\n\nimport \"testing\"\n\nfunc TestTable(t *testing.T) {\n\tfor _, n := range []string{\"one\", \"two\", \"three\"} {\n\t\tt.Run(n, func(t *testing.T) {\n\t\t\tif Double(1) != 2 {\n\t\t\t\tt.Fatal(n)\n\t\t\t}\n\t\t})\n\t}\n}\n",
    );
    pkg(
        "units",
        &[
            "TestMeters",
            "TestFeet",
            "TestInches",
            "TestMiles",
            "TestYards",
        ],
    );
    write(dir, "cmd/app/main.go", "package main\n\nfunc main() {}\n");
}

/// The Cargo fixture: a workspace of three crates, each with a unit test of the same name
/// (`tests::doubles`), others of their own, an integration test and a doc test.
fn cargo_project(dir: &Path) {
    write(
        dir,
        "Cargo.toml",
        "[workspace]\nmembers = [\"alpha\", \"beta\", \"gamma\"]\nresolver = \"2\"\n",
    );
    for (krate, extra) in [("alpha", 3), ("beta", 2), ("gamma", 4)] {
        write(
            dir,
            &format!("{krate}/Cargo.toml"),
            &format!("[package]\nname = \"{krate}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"),
        );
        let mut lib = String::from(
            "/// Twice `n`.\n///\n/// ```\n/// assert_eq!(CRATE::double(2), 4);\n/// ```\npub fn double(n: i32) -> i32 {\n    2 * n\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn doubles() {\n        assert_eq!(super::double(21), 42);\n    }\n",
        )
        .replace("CRATE", krate);
        for i in 0..extra {
            lib.push_str(&format!(
                "    #[test]\n    fn {krate}_case_{i}() {{\n        assert_eq!(super::double({i}), {});\n    }}\n",
                2 * i
            ));
        }
        lib.push_str("}\n");
        write(dir, &format!("{krate}/src/lib.rs"), &lib);
    }
    write(
        dir,
        "beta/tests/outside.rs",
        "#[test]\nfn doubles_from_outside() {\n    assert_eq!(beta::double(5), 10);\n}\n",
    );
}

/// Runs `gate run GATE [--shard I/N] [--durations D] --report json=OUT` in `ws`.
fn run_gate(
    ws: &Path,
    gate: &str,
    shard: Option<u32>,
    durations: Option<&Path>,
    out: &Path,
    env: &[(&str, &str)],
) -> Out {
    let part = shard.map(|i| format!("{i}/{SHARDS}"));
    let report = format!("json={}", out.display());
    let mut args = vec!["gate", "run", gate, "--no-cache", "--report", &report];
    if let Some(p) = &part {
        args.extend(["--shard", p.as_str()]);
    }
    let d;
    if let Some(path) = durations {
        d = path.display().to_string();
        args.extend(["--durations", d.as_str()]);
    }
    planexec_env(ws, &args, env)
}

fn read_json(p: &Path) -> Value {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap()
}

/// The first gate's report of a JSON report file.
fn gate_of(rec: &Value) -> &Value {
    &rec["final_gates"][0]["report"]
}

/// (counts, sorted failure names) of a gate report.
fn verdict(r: &Value) -> (Value, Vec<String>) {
    let mut names: Vec<String> = r["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    (r["tests"].clone(), names)
}

/// Every shard of `gate` in `ws`, reports into `dir/sN.json`; their paths.
fn run_shards(
    ws: &Path,
    gate: &str,
    dir: &Path,
    durations: Option<&Path>,
    env: &[(&str, &str)],
) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    (1..=SHARDS)
        .map(|i| {
            let p = dir.join(format!("s{i}.json"));
            let out = run_gate(ws, gate, Some(i), durations, &p, env);
            assert!(matches!(out.code, 0 | 1), "shard {i}: {out:?}");
            let rec = read_json(&p);
            assert_eq!(rec["shard"]["index"], i, "{rec:#}");
            let sh = &rec["final_gates"][0]["report"]["shard"];
            assert_eq!(
                (sh["index"].as_u64(), sh["count"].as_u64()),
                (Some(i.into()), Some(SHARDS.into())),
                "shard {i} reports its part: {out:?}"
            );
            p
        })
        .collect()
}

fn merge(ws: &Path, reports: &[PathBuf], extra: &[&str]) -> Out {
    let mut args: Vec<String> = vec!["report".into(), "merge".into()];
    args.extend(reports.iter().map(|p| p.display().to_string()));
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    planexec(ws, &args)
}

/// Whole run, 4 shards, merge: the merged verdict is the whole one; `expect` is the exit code.
fn whole_equals_merged(
    ws: &Path,
    gate: &str,
    out_dir: &Path,
    env: &[(&str, &str)],
    expect: i32,
) -> Vec<PathBuf> {
    let whole_path = out_dir.join("whole.json");
    std::fs::create_dir_all(out_dir).unwrap();
    let whole = run_gate(ws, gate, None, None, &whole_path, env);
    assert_eq!(whole.code, expect, "{whole:?}");
    let whole = read_json(&whole_path);
    let shards = run_shards(ws, gate, out_dir, None, env);
    let merged_path = out_dir.join("merged.json");
    let m = merge(
        ws,
        &shards,
        &[
            "--report",
            &format!("json={}", merged_path.display()),
            "--durations",
            &out_dir.join("d.json").display().to_string(),
        ],
    );
    assert_eq!(m.code, expect, "{m:?}");
    let merged = read_json(&merged_path);
    let names = |r: &Value| -> Vec<String> {
        let mut v: Vec<String> = r["cases"].as_array().map_or(vec![], |c| {
            c.iter()
                .map(|c| format!("{} {}", c["classname"], c["name"]))
                .collect()
        });
        v.sort();
        v
    };
    assert_eq!(
        names(gate_of(&merged)),
        names(gate_of(&whole)),
        "the same test cases"
    );
    assert_eq!(
        verdict(gate_of(&merged)),
        verdict(gate_of(&whole)),
        "merged {merged:#}"
    );
    assert_eq!(gate_of(&merged)["outcome"], gate_of(&whole)["outcome"]);
    let n = |r: &Value| r["cases"].as_array().map_or(0, |c| c.len());
    assert_eq!(
        n(gate_of(&merged)),
        n(gate_of(&whole)),
        "every test case once"
    );
    shards
}

/// Seconds of test time in each shard's report.
fn shard_times(reports: &[PathBuf]) -> Vec<f64> {
    reports
        .iter()
        .map(|p| {
            gate_of(&read_json(p))["cases"]
                .as_array()
                .map(|c| c.iter().filter_map(|c| c["seconds"].as_f64()).sum())
                .unwrap_or(0.0)
        })
        .collect()
}

fn spread(times: &[f64]) -> f64 {
    let max = times.iter().cloned().fold(0.0, f64::max);
    let min = times.iter().cloned().fold(f64::INFINITY, f64::min);
    max / min.max(1e-3)
}

#[test]
fn pytest_shards_merge_into_the_whole_run_and_the_durations_balance_them() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("py");
    pytest_project(&ws);
    let env = [];
    let out = tmp.path().join("run1");
    let shards = whole_equals_merged(&ws, "pytest", &out, &env, 0);
    let whole = read_json(&out.join("whole.json"));
    assert_eq!(gate_of(&whole)["tests"]["passed"], 42, "{whole:#}");
    assert_eq!(gate_of(&whole)["tests"]["skipped"], 1);

    // By hash the slow tests bunch up; with the durations of the merged run they do not.
    let by_hash = shard_times(&shards);
    let durations = out.join("d.json");
    let d = read_json(&durations);
    assert_eq!(d["planexec_durations"], 1);
    assert_eq!(d["gates"]["pytest"].as_object().unwrap().len(), 42, "{d:#}");
    let balanced_dir = tmp.path().join("run2");
    let balanced = run_shards(&ws, "pytest", &balanced_dir, Some(&durations), &env);
    let times = shard_times(&balanced);
    eprintln!("per-shard test seconds: by hash {by_hash:.2?} (spread {:.2}), by durations {times:.2?} (spread {:.2})", spread(&by_hash), spread(&times));
    assert!(
        spread(&by_hash) > 1.5,
        "the fixture is skewed under the hash: {by_hash:?}"
    );
    assert!(
        spread(&times) <= 1.5,
        "balanced by the durations: {times:?}"
    );
    let m = merge(
        &ws,
        &balanced,
        &[
            "--durations",
            &tmp.path().join("d2.json").display().to_string(),
        ],
    );
    assert_eq!(m.code, 0, "{m:?}");

    // A missing shard, a duplicate, a shard of another test list: exit 2, and why.
    let m = merge(
        &ws,
        &[
            balanced[0].clone(),
            balanced[1].clone(),
            balanced[3].clone(),
        ],
        &[],
    );
    assert_eq!(m.code, 2, "{m:?}");
    assert!(m.stderr.contains("missing shard(s) 3 of 4"), "{m:?}");
    let m = merge(
        &ws,
        &[
            balanced[0].clone(),
            balanced[0].clone(),
            balanced[1].clone(),
            balanced[2].clone(),
            balanced[3].clone(),
        ],
        &[],
    );
    assert_eq!(m.code, 2, "{m:?}");
    assert!(m.stderr.contains("shard 1/4 is given twice"), "{m:?}");
    write(
        &ws,
        "tests/test_new.py",
        "def test_added_later():\n    pass\n",
    );
    let later = tmp.path().join("later-s2.json");
    let o = run_gate(&ws, "pytest", Some(2), None, &later, &env);
    assert!(matches!(o.code, 0 | 1), "{o:?}");
    let m = merge(
        &ws,
        &[
            shards[0].clone(),
            later,
            shards[2].clone(),
            shards[3].clone(),
        ],
        &[],
    );
    assert_eq!(m.code, 2, "{m:?}");
    assert!(m.stderr.contains("different test list"), "{m:?}");
    std::fs::remove_file(ws.join("tests/test_new.py")).unwrap();

    // One failing test: it fails its shard, the merge, as it fails the whole run.
    let quick = std::fs::read_to_string(ws.join("tests/test_quick_2.py")).unwrap();
    write(
        &ws,
        "tests/test_quick_2.py",
        &quick.replace("assert 7 + 2 == 9", "assert 7 + 2 == 10"),
    );
    let fail_dir = tmp.path().join("failing");
    whole_equals_merged(&ws, "pytest", &fail_dir, &env, 1);
    let merged = read_json(&fail_dir.join("merged.json"));
    assert_eq!(
        verdict(gate_of(&merged)).1,
        ["tests/test_quick_2.py::test_7"]
    );
    assert_eq!(merged["status"], "failure");

    // In GitHub Actions the merge annotates the failing test and writes the job summary;
    // its JUnit file has every test of every shard.
    let summary = tmp.path().join("summary.md");
    let junit = tmp.path().join("merged.xml");
    let shards: Vec<String> = (1..=SHARDS)
        .map(|i| fail_dir.join(format!("s{i}.json")).display().to_string())
        .collect();
    let mut args = vec!["report", "merge"];
    args.extend(shards.iter().map(String::as_str));
    let junit_arg = format!("junit={}", junit.display());
    let durations_arg = tmp.path().join("d3.json").display().to_string();
    args.extend(["--report", &junit_arg, "--durations", &durations_arg]);
    let summary_s = summary.display().to_string();
    let m = planexec_env(
        &ws,
        &args,
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_STEP_SUMMARY", &summary_s),
        ],
    );
    assert_eq!(m.code, 1, "{m:?}");
    assert!(
        m.stdout
            .contains("::error file=tests/test_quick_2.py,line="),
        "{m:?}"
    );
    assert!(
        std::fs::read_to_string(&summary)
            .unwrap()
            .contains("test_7"),
        "job summary"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), 43, "{xml}");
    assert_eq!(xml.matches("<failure").count(), 1, "{xml}");
}

#[test]
fn go_shards_merge_into_the_whole_run() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("go");
    go_project(&ws);
    let env = [];
    let shards = whole_equals_merged(&ws, "go-test", &tmp.path().join("run1"), &env, 0);
    let whole = read_json(&tmp.path().join("run1/whole.json"));
    // 15 tests, TestTable's 3 subtests counted instead of it: 17 leaf tests.
    assert_eq!(gate_of(&whole)["tests"]["passed"], 17, "{whole:#}");
    let tests = read_json(&shards[0])["final_gates"][0]["report"]["shard"]["listed"].clone();
    assert_eq!(
        tests, 14,
        "14 distinct top-level names (TestParse in two packages)"
    );

    let calc = std::fs::read_to_string(ws.join("units/units_test.go")).unwrap();
    write(
        &ws,
        "units/units_test.go",
        &calc.replacen("Double(2) != 4", "Double(2) != 5", 1),
    );
    whole_equals_merged(&ws, "go-test", &tmp.path().join("failing"), &env, 1);
    let merged = read_json(&tmp.path().join("failing/merged.json"));
    assert_eq!(verdict(gate_of(&merged)).1.len(), 1, "{merged:#}");

    // Each shard's result is cached under its own key: shard 2 never replays shard 1's.
    git(&ws, &["init", "-q"]);
    let first = planexec(&ws, &["gate", "run", "go-test", "--shard", "1/4"]);
    let again = planexec(&ws, &["gate", "run", "go-test", "--shard", "1/4"]);
    assert!(again.stderr.contains("cache hit"), "{first:?}\n{again:?}");
    let other = planexec(&ws, &["gate", "run", "go-test", "--shard", "2/4"]);
    assert!(!other.stderr.contains("cache hit"), "{other:?}");
}

#[test]
fn cargo_shards_merge_into_the_whole_run() {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join("ws");
    cargo_project(&ws);
    let tgt = target_dir()
        .join("e2e-shard-fixture")
        .to_string_lossy()
        .into_owned();
    std::fs::create_dir_all(&tgt).unwrap();
    write(
        &ws,
        "planexec.toml",
        &format!("[policy]\nenv = [\"CARGO_TARGET_DIR\"]\nwrites = [{tgt:?}]\n\n[gates.cargo-test]\nargs = [\"--workspace\"]\n"),
    );
    let env = [("CARGO_TARGET_DIR", tgt.as_str())];
    let shards = whole_equals_merged(&ws, "cargo-test", &tmp.path().join("run1"), &env, 0);
    let whole = read_json(&tmp.path().join("run1/whole.json"));
    // 3 × doubles, 3 + 2 + 4 cases, 1 integration test, 3 doc tests.
    assert_eq!(gate_of(&whole)["tests"]["passed"], 16, "{whole:#}");
    let tests = read_json(&shards[0])["final_gates"][0]["report"]["shard"]["listed"].clone();
    // tests::doubles is one name in three crates; the doc tests are named by their crate's path.
    assert_eq!(tests, 14);

    let lib = std::fs::read_to_string(ws.join("gamma/src/lib.rs")).unwrap();
    write(
        &ws,
        "gamma/src/lib.rs",
        &lib.replace("super::double(21), 42", "super::double(21), 43"),
    );
    whole_equals_merged(&ws, "cargo-test", &tmp.path().join("failing"), &env, 1);
    let merged = read_json(&tmp.path().join("failing/merged.json"));
    assert_eq!(
        verdict(gate_of(&merged)).1,
        ["tests::doubles"],
        "{merged:#}"
    );
}

#[test]
fn a_report_that_is_not_a_shard_or_not_json_is_refused_with_where() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "bad.json",
        "{\n  \"schema_version\": 1,\n  oops\n}\n",
    );
    let m = merge(tmp.path(), &[tmp.path().join("bad.json")], &[]);
    assert_eq!(m.code, 2, "{m:?}");
    assert!(m.stderr.contains("bad.json:3:"), "file:line: {m:?}");
    let m = planexec(tmp.path(), &["gate", "run", "pytest", "--shard", "5/4"]);
    assert_eq!(m.code, 2, "{m:?}");
    assert!(m.stderr.contains("is not a shard"), "{m:?}");
    write(
        tmp.path(),
        "d.json",
        "{\"planexec_durations\": 1, \"gates\": {\"pytest\": {\"t\": \"x\"}}}",
    );
    let m = planexec(
        tmp.path(),
        &[
            "gate",
            "run",
            "pytest",
            "--shard",
            "1/4",
            "--durations",
            "d.json",
        ],
    );
    assert_eq!(m.code, 2, "{m:?}");
    assert!(m.stderr.contains("d.json:1:"), "{m:?}");
}

#[test]
fn ci_github_prints_a_workflow_with_a_matrix_the_artifacts_and_the_merge() {
    let tmp = tempfile::tempdir().unwrap();
    pytest_project(tmp.path());
    let install = [
        "--install",
        "git+https://git.example.com/you/planexec.git#v0.1.0",
    ];
    let out = planexec(
        tmp.path(),
        &["ci", "github", "--shards", "3", install[0], install[1]],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let w: serde_yaml::Value =
        serde_yaml::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout));
    let shard = &w["jobs"]["shard"];
    let matrix: Vec<u64> = shard["strategy"]["matrix"]["shard"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(matrix, [1, 2, 3]);
    let steps = |job: &serde_yaml::Value| -> Vec<serde_yaml::Value> {
        job["steps"].as_sequence().unwrap().clone()
    };
    let uses =
        |s: &serde_yaml::Value, a: &str| s["uses"].as_str().is_some_and(|u| u.starts_with(a));
    let run_step = steps(shard)
        .into_iter()
        .find(|s| s["run"].as_str().is_some_and(|r| r.contains("gate run")))
        .expect("a step runs the gates");
    let run = run_step["run"].as_str().unwrap();
    assert!(
        run.contains("planexec gate run pytest --policy \"$RUNNER_TEMP/planexec-policy.toml\" --shard ${{ matrix.shard }}/3"),
        "{run}"
    );
    assert!(
        run.contains("--report json=planexec-shard-${{ matrix.shard }}.json"),
        "{run}"
    );
    let upload = steps(shard)
        .into_iter()
        .find(|s| uses(s, "actions/upload-artifact@"))
        .expect("upload");
    assert_eq!(
        upload["with"]["path"].as_str(),
        Some("planexec-shard-${{ matrix.shard }}.json")
    );
    assert_eq!(
        upload["if"].as_str(),
        Some("always()"),
        "a failing shard still uploads"
    );

    let merge = &w["jobs"]["merge"];
    assert_eq!(merge["needs"].as_str(), Some("shard"));
    let download = steps(merge)
        .into_iter()
        .find(|s| uses(s, "actions/download-artifact@"))
        .expect("download");
    assert_eq!(download["with"]["merge-multiple"].as_bool(), Some(true));
    assert_eq!(
        download["with"]["pattern"].as_str(),
        Some("planexec-shard-*")
    );
    let merged = steps(merge)
        .into_iter()
        .find(|s| {
            s["run"]
                .as_str()
                .is_some_and(|r| r.contains("report merge"))
        })
        .expect("a step merges");
    assert!(merged["run"].as_str().unwrap().contains("shards/*.json"));
    // Issue 25: it installs planexec from the source given (with the wasm32-wasip2 target
    // the build needs), passes the policy, and trusts planexec.toml only as the base has it.
    assert!(
        out.stdout.contains("rustup target add wasm32-wasip2\n          cargo install --locked --git https://git.example.com/you/planexec.git --tag v0.1.0 planexec\n"),
        "{}",
        out.stdout
    );
    assert!(
        run.contains("--policy \"$RUNNER_TEMP/planexec-policy.toml\""),
        "{run}"
    );
    assert!(out
        .stdout
        .contains("git diff --quiet \"$BASE\" -- planexec.toml planexec.lock"));
    // Without --install: this build knows no source (no `repository` in Cargo.toml).
    let bare = planexec(tmp.path(), &["ci", "github"]);
    assert_eq!(bare.code, 2, "{bare:?}");
    assert!(
        bare.stderr
            .contains("say how the workflow installs planexec"),
        "{bare:?}"
    );
    // The docs show the same workflow.
    let doc = std::fs::read_to_string(root().join("docs/ci.md")).unwrap();
    let four = planexec(tmp.path(), &["ci", "github", install[0], install[1]]);
    assert!(
        doc.contains(four.stdout.trim()),
        "docs/ci.md shows `planexec ci github`'s output for a pytest project"
    );
}

/// A gate that reports another shard than it was asked for, or one nobody asked for, is
/// `errored`: a merge would otherwise count its tests as that other shard's.
#[test]
fn a_gate_claiming_another_shard_is_errored() {
    use planexec::shard::{GateShard, ShardArg};
    let tmp = tempfile::tempdir().unwrap();
    let plugins = tmp.path().join("plugins");
    hostile_plugin(&plugins, "hostile", "gate", "");
    let reg = planexec::plugins::Registry::discover(&[plugins]).unwrap();
    let sandbox = planexec::sandbox::Sandbox::new(Default::default()).unwrap();
    let loaded = sandbox
        .load(reg.get("hostile").unwrap(), Default::default())
        .unwrap();
    let g = planexec::config::GateConfig {
        name: "h".into(),
        plugin: "hostile".into(),
        settings: serde_json::json!({"mode": "claims-shard"}),
        files: None,
        flags: Default::default(),
    };
    let run = |index: Option<u32>| {
        let shard = index.map(|index| GateShard {
            part: ShardArg { index, count: 2 },
            durations: vec![],
        });
        planexec::gate::run_shard(&loaded, &g, tmp.path(), None, shard.as_ref())
            .0
            .report
    };
    let r = run(Some(1));
    assert_eq!(
        r.outcome,
        planexec_record::Outcome::Errored,
        "{}",
        r.summary
    );
    assert!(
        r.summary
            .contains("ran shard 2/2 but shard 1/2 was asked for"),
        "{}",
        r.summary
    );
    assert!(r.shard.is_none(), "the claim is not kept");
    let r = run(None);
    assert_eq!(
        r.outcome,
        planexec_record::Outcome::Errored,
        "{}",
        r.summary
    );
    assert!(
        r.summary.contains("no shard was asked for"),
        "{}",
        r.summary
    );
    let r = run(Some(2));
    assert_eq!(
        r.outcome,
        planexec_record::Outcome::Passed,
        "the shard asked for: {}",
        r.summary
    );
}

/// Copies plugins/<plugin>/tests/projects/<project>, runs `npm ci` in it, grants `node`,
/// and adds `files` test files of two tests each (`body(i)` writes file i).
fn js_project(dir: &Path, plugin: &str, project: &str, files: u32, body: impl Fn(u32) -> String) {
    copy_tree(&plugin_project(plugin, project), dir);
    let o = std::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefer-offline"])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("npm does not run ({e}): install Node 20 and npm"));
    assert!(
        o.status.success(),
        "npm ci: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    write(dir, "planexec.toml", "[policy]\ngrant = [\"node\"]\n");
    for i in 1..=files {
        write(dir, &format!("src/t{i}.test.js"), &body(i));
    }
}

fn vitest_file(i: u32) -> String {
    format!(
        "import {{ expect, test }} from \"vitest\";\n\ntest(\"one {i}\", () => {{\n  expect({i} + 1).toBe({});\n}});\n\ntest(\"two {i}\", () => {{\n  expect({i} * 2).toBe({});\n}});\n",
        i + 1,
        i * 2
    )
}

fn jest_file(i: u32) -> String {
    format!(
        "test(\"one {i}\", () => {{\n  expect({i} + 1).toBe({});\n}});\n\ntest(\"two {i}\", () => {{\n  expect({i} * 2).toBe({});\n}});\n",
        i + 1,
        i * 2
    )
}

/// The JS test gates shard by test file: 9 files (the fixture's and 8 more), whole and as
/// 4 shards merged, passing and with one failing test.
fn js_shards_merge_into_the_whole_run(gate: &str, project: &str, body: fn(u32) -> String) {
    let tmp = tempfile::tempdir().unwrap();
    let ws = tmp.path().join(gate);
    js_project(&ws, gate, project, 8, body);
    let shards = whole_equals_merged(&ws, gate, &tmp.path().join("run1"), &[], 0);
    let first = read_json(&shards[0]);
    let sh = &gate_of(&first)["shard"];
    assert_eq!(sh["listed"], 9, "nine test files: {first:#}");
    let whole = read_json(&tmp.path().join("run1/whole.json"));
    assert_eq!(gate_of(&whole)["tests"]["passed"], 18, "{whole:#}");
    let text = body(5).replacen("toBe(6)", "toBe(7)", 1);
    write(&ws, "src/t5.test.js", &text);
    whole_equals_merged(&ws, gate, &tmp.path().join("failing"), &[], 1);
    let merged = read_json(&tmp.path().join("failing/merged.json"));
    let (_, failed) = verdict(gate_of(&merged));
    assert_eq!(failed.len(), 1, "{merged:#}");
    assert!(failed[0].contains("one 5"), "{failed:?}");
}

#[test]
fn vitest_shards_by_file_merge_into_the_whole_run() {
    js_shards_merge_into_the_whole_run("vitest", "vitest-app", vitest_file);
}

#[test]
fn jest_shards_by_file_merge_into_the_whole_run() {
    js_shards_merge_into_the_whole_run("jest", "jest-app", jest_file);
}
