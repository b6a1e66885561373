//! `planexec init` on fixture repositories (Python, Go, pre-commit, lefthook):
//! the config it writes is what `planexec gate run` then passes on; completions.

use crate::support::*;

fn init(dir: &std::path::Path) -> Out {
    let out = planexec(dir, &["init"]);
    assert_eq!(out.code, 0, "{out:?}");
    out
}

#[test]
fn python_project_gets_pytest_and_it_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(
        d,
        "pyproject.toml",
        "[project]\nname = \"calc\"\nversion = \"0.1.0\"\n",
    );
    write(
        d,
        "tests/test_calc.py",
        "def test_adds():\n    assert 1 + 1 == 2\n",
    );
    let out = init(d);
    assert!(out.stdout.contains("planexec gate run pytest"), "{out:?}");
    let toml = std::fs::read_to_string(d.join("planexec.toml")).unwrap();
    assert!(
        toml.contains("[gates.pytest]") && toml.contains("\"python3\""),
        "{toml}"
    );
    assert!(!toml.contains("go-test"), "{toml}");
    let out = planexec(d, &["gate", "run", "pytest"]);
    assert_eq!(out.code, 0, "{out:?}");
    // A second init does not overwrite what the user may have edited.
    assert_eq!(planexec(d, &["init"]).code, 2);
}

#[test]
fn go_module_gets_go_test_and_it_passes() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(d, "go.mod", "module example.com/wc\n\ngo 1.21\n");
    write(d, "wc.go", "package wc\n\nfunc Two() int { return 2 }\n");
    write(d, "wc_test.go", "package wc\n\nimport \"testing\"\n\nfunc TestTwo(t *testing.T) {\n\tif Two() != 2 {\n\t\tt.Fatal(\"not two\")\n\t}\n}\n");
    init(d);
    let toml = std::fs::read_to_string(d.join("planexec.toml")).unwrap();
    assert!(toml.contains("[gates.go-test]"), "{toml}");
    let out = planexec(d, &["gate", "run", "go-test"]);
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn pre_commit_and_lefthook_hooks_become_command_gates() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(d, ".pre-commit-config.yaml", "repos:\n  - repo: local\n    hooks:\n      - id: syntax\n        name: syntax\n        entry: python3 -m py_compile\n        args: [app.py]\n        language: system\n        pass_filenames: false\n      - id: never\n        entry: \"false\"\n        language: system\n        pass_filenames: false\n      - id: pyfmt\n        entry: black\n        language: python\n  - repo: https://git.example/org/hooks\n    rev: v1\n    hooks:\n      - id: trailing-whitespace\n");
    write(d, "lefthook.yml", "pre-push:\n  commands:\n    compile:\n      run: python3 -m py_compile app.py\n    staged:\n      run: echo {staged_files} | wc -l\n");
    write(d, "app.py", "print('hi')\n");
    let out = init(d);
    for want in [
        "trailing-whitespace",
        "language `python`",
        "`lefthook-staged`",
    ] {
        assert!(out.stdout.contains(want), "missing {want}: {out:?}");
    }
    let toml = std::fs::read_to_string(d.join("planexec.toml")).unwrap();
    assert!(
        toml.contains("[gates.pre-commit-syntax]") && toml.contains("[gates.lefthook-compile]"),
        "{toml}"
    );
    for gate in ["pre-commit-syntax", "lefthook-compile"] {
        let out = planexec(d, &["gate", "run", gate]);
        assert_eq!(out.code, 0, "{gate}: {out:?}");
    }
    // The imported hook really runs its program: `false` fails.
    let out = planexec(d, &["gate", "run", "pre-commit-never"]);
    assert_eq!(out.code, 1, "{out:?}");
}

#[test]
fn a_hook_given_file_names_checks_the_whole_tree_or_is_commented_out() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(d, ".pre-commit-config.yaml", "repos:\n  - repo: local\n    hooks:\n      - id: fmt\n        name: fmt\n        entry: black\n        language: system\n        types: [python]\n      - id: compile\n        entry: python3 -m py_compile\n        language: system\n");
    write(
        d,
        "lefthook.yml",
        "pre-commit:\n  commands:\n    gofmt:\n      run: gofmt -l {staged_files}\n",
    );
    write(d, "app.py", "x  =  [1,\n2]\n");
    let out = init(d);
    assert!(out.stdout.contains("with 2 gates"), "{out:?}");
    let toml = std::fs::read_to_string(d.join("planexec.toml")).unwrap();
    for want in [
        "command = \"black --check .\"",
        "command = \"gofmt -l .\"",
        "# [gates.pre-commit-compile]",
        "pre-commit passes it file names",
    ] {
        assert!(toml.contains(want), "missing {want}:\n{toml}");
    }
    // The imported formatter really checks the tree: a badly formatted file fails it.
    let out = planexec(d, &["gate", "run", "pre-commit-fmt"]);
    assert_eq!(out.code, 1, "{out:?}");
    write(d, "app.py", "x = [1, 2]\n");
    let out = planexec(d, &["gate", "run", "pre-commit-fmt"]);
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn mypy_and_black_configured_in_pyproject_get_their_gates() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(
        d,
        "pyproject.toml",
        "[project]\nname = \"calc\"\n\n[tool.mypy]\nstrict = true\n\n[tool.black]\nline-length = 100\n",
    );
    let out = init(d);
    assert!(out.stdout.contains("with 3 gates"), "{out:?}");
    for gate in ["mypy", "black"] {
        assert!(
            out.stdout.contains(&format!("planexec gate run {gate}\n")),
            "{gate}: {out:?}"
        );
    }
    let toml = std::fs::read_to_string(d.join("planexec.toml")).unwrap();
    assert!(
        toml.contains("[gates.mypy]") && toml.contains("[gates.black]"),
        "{toml}"
    );
    // setup.cfg's [mypy] counts too, and one gate is "1 gate".
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(
        d,
        "setup.cfg",
        "[metadata]\nname = calc\n\n[mypy]\nstrict = True\n",
    );
    init(d);
    let toml = std::fs::read_to_string(d.join("planexec.toml")).unwrap();
    assert!(toml.contains("[gates.mypy]"), "{toml}");
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "Cargo.toml", "[package]\nname = \"x\"\n");
    let out = init(tmp.path());
    assert!(out.stdout.contains("with 1 gate\n"), "{out:?}");
}

#[test]
fn completions_are_printed_for_each_shell() {
    let tmp = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef planexec"),
        ("fish", "complete -c planexec"),
    ] {
        let out = planexec(tmp.path(), &["completions", shell]);
        assert_eq!(out.code, 0, "{out:?}");
        assert!(
            out.stdout.contains(marker) && out.stdout.contains("packs"),
            "{shell}: {}",
            &out.stdout[..200.min(out.stdout.len())]
        );
    }
}
