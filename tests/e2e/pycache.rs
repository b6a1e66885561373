//! The box's Python bytecode prefix (issue 26): boxed programs read it and never write
//! it, the fill runs nothing from the work tree, edited sources are never shadowed.

use crate::support::*;
use std::path::{Path, PathBuf};

/// A git workspace `ws/` with its own tool cache `tools/` beside it.
struct Ws {
    tmp: tempfile::TempDir,
}

impl Ws {
    fn new() -> Ws {
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path().join("ws");
        std::fs::create_dir_all(&ws).unwrap();
        git_init(&ws);
        write(&ws, "planexec.toml", "");
        Ws { tmp }
    }
    fn ws(&self) -> PathBuf {
        self.tmp.path().join("ws")
    }
    fn tools(&self) -> PathBuf {
        self.tmp.path().join("tools")
    }
    /// `planexec gate run command --grant NAME -- ARGV` (boxed, no result cache).
    fn run(&self, grant: &str, argv: &[&str]) -> Out {
        let tools = self.tools().to_string_lossy().into_owned();
        let mut args = vec!["gate", "run", "command", "--format", "json", "--no-cache"];
        args.extend(["--grant", grant, "--"]);
        args.extend_from_slice(argv);
        planexec_env(&self.ws(), &args, &[("PLANEXEC_TOOL_CACHE", &tools)])
    }
    /// The workspace's bytecode prefix: the shared `pycache` folder of the tool cache,
    /// or with a virtualenv the one of the workspace's own tool-cache folder.
    fn prefix(&self) -> PathBuf {
        if !self.ws().join(".venv/pyvenv.cfg").is_file() {
            return self.tools().join("pycache");
        }
        let entries = std::fs::read_dir(self.tools()).expect("a tool cache");
        entries
            .map(|e| e.unwrap().path())
            .filter(|p| !p.ends_with("pycache"))
            .map(|p| p.join("pycache"))
            .find(|p| p.is_dir())
            .expect("a bytecode prefix")
    }
}

fn evidence(out: &Out) -> String {
    let r = gate_report(out);
    format!(
        "{} {}",
        r["summary"].as_str().unwrap_or(""),
        r["evidence"].as_str().unwrap_or("")
    )
}

/// Every file under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            match e.file_type().unwrap().is_dir() {
                true => stack.push(e.path()),
                false => out.push(e.path()),
            }
        }
    }
    out
}

/// A real virtualenv (no pip) of the host's python3 at `ws/.venv`; its site-packages.
fn venv(ws: &Path) -> PathBuf {
    let st = std::process::Command::new("python3")
        .args(["-m", "venv", "--without-pip", ".venv"])
        .current_dir(ws)
        .status()
        .unwrap();
    assert!(st.success());
    let lib = ws.join(".venv/lib");
    let ver = std::fs::read_dir(&lib)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name();
    lib.join(ver).join("site-packages")
}

/// A second boxed `python3 -c 'import json, pathlib'` loads their bytecode from the
/// prefix (`-v` says "code object from" only for bytecode it read, never for a compile).
#[test]
fn a_second_boxed_python_reads_the_standard_librarys_bytecode_from_the_prefix() {
    let w = Ws::new();
    let first = w.run("python3", &["python3", "-c", "pass"]);
    assert_eq!(first.code, 0, "{first:?}");
    let script = "python3 -v -c 'import json, pathlib' 2>&1 | grep 'code object from' | grep -E 'json/__init__|/pathlib\\.'";
    let out = w.run("sh", &["sh", "-c", script]);
    let ev = evidence(&out);
    let prefix = w.prefix().to_string_lossy().into_owned();
    for module in ["json/__init__.", "/pathlib."] {
        assert!(
            ev.lines()
                // Read through the program's own view of the prefix (`<tmp>/pycache/...`),
                // never a `__pycache__` beside the source.
                .any(|l| l.contains(module) && l.contains("/pycache/")),
            "{module} compiled from source, not read from {prefix}: {ev}\n{out:?}"
        );
    }
}

/// A boxed program can neither modify, rename, replace nor remove a file in the prefix;
/// bytecode it creates lands in its own view of the prefix (its tmp), never in the prefix;
/// bytecode it plants in its own `{cache}` (with PYTHONPYCACHEPREFIX for a child) is never
/// read by a later program.
#[test]
fn a_boxed_program_cannot_write_the_prefix_nor_hand_a_later_program_its_bytecode() {
    let w = Ws::new();
    write(&w.ws(), "app.py", "def answer():\n    return 41\n");
    let first = w.run("python3", &["python3", "-c", "import json"]);
    assert_eq!(first.code, 0, "{first:?}");
    let attack = r#"
import json, os, sys, py_compile, subprocess
p = os.environ['PYTHONPYCACHEPREFIX']
target = p + os.path.dirname(json.__file__) + '/__init__.' + sys.implementation.cache_tag + '.pyc'
assert os.path.exists(target), target
fake = os.path.join(os.environ['TMPDIR'], 'app.py')
open(fake, 'w').write('def answer():\n    return 42\n')
app = p + os.getcwd() + '/app.' + sys.implementation.cache_tag + '.pyc'
def plant(cfile):
    py_compile.compile(fake, cfile=cfile, doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
def replace():
    open(fake + 'c', 'wb').write(b'x')
    os.replace(fake + 'c', target)
tries = [('modify', lambda: open(target, 'ab').write(b'x')),
         ('rename', lambda: os.rename(target, target + '.old')),
         ('replace', replace),
         ('remove', lambda: os.remove(target)),
         ('create', lambda: plant(app)),
         ('mkdir', lambda: os.mkdir(p + '/evil'))]
for name, f in tries:
    try:
        f()
        print(name, 'WRIT' + 'TEN')
    except OSError as e:
        print(name, 'refused', e.errno)
other = os.path.join(os.environ['XDG_CACHE_HOME'], 'pyc')
plant(other + os.getcwd() + '/app.' + sys.implementation.cache_tag + '.pyc')
env = dict(os.environ, PYTHONPYCACHEPREFIX=other)
print('CHILD', subprocess.run([sys.executable, '-c', 'import app; print(app.answer())'], env=env, capture_output=True, text=True).stdout.strip())
"#;
    let before = std::fs::read(
        files(&w.prefix())
            .into_iter()
            .find(|f| f.to_string_lossy().contains("json/__init__."))
            .unwrap(),
    )
    .unwrap();
    let out = w.run("python3", &["python3", "-c", attack]);
    let ev = evidence(&out);
    assert!(
        ev.contains("CHILD 42"),
        "the attack's own child reads its planted bytecode: {ev}\n{out:?}"
    );
    // What the prefix holds can be neither changed nor removed; bytecode a program creates
    // (`create`, `mkdir`) lands in its own view of the prefix, in its tmp, and must never
    // reach the prefix or a later program (checked below).
    for name in ["modify", "rename", "replace", "remove"] {
        assert!(
            ev.contains(&format!("{name} refused")),
            "{name}: {ev}\n{out:?}"
        );
        assert!(!ev.contains(&format!("{name} WRITTEN")), "{ev}");
    }
    let mirror = w.prefix().join(w.ws().strip_prefix("/").unwrap());
    let planted = files(&mirror)
        .into_iter()
        .filter(|f| f.to_string_lossy().contains("/app."))
        .collect::<Vec<_>>();
    assert!(
        planted.is_empty(),
        "the program wrote into the prefix: {planted:?}"
    );
    assert!(
        !w.prefix().join("evil").exists(),
        "the program made a folder in the prefix"
    );
    let json = files(&w.prefix())
        .into_iter()
        .find(|f| f.to_string_lossy().contains("json/__init__."))
        .unwrap();
    assert_eq!(
        std::fs::read(json).unwrap(),
        before,
        "the prefix's bytecode changed"
    );
    let later = w.run(
        "python3",
        &["python3", "-c", "import app; print('ANSWER', app.answer())"],
    );
    let ev = evidence(&later);
    assert!(
        ev.contains("ANSWER 41"),
        "a later program ran planted bytecode: {ev}\n{later:?}"
    );
}

/// Bytecode committed in the repository (unchecked-hash: Python would not even look at
/// the source) is never run instead of its source, with the prefix in use.
#[test]
fn committed_unchecked_hash_bytecode_never_runs_instead_of_its_source() {
    let w = Ws::new();
    let ws = w.ws();
    write(&ws, "app.py", "def answer():\n    return 42\n");
    let st = std::process::Command::new("python3")
        .args(["-c", "import py_compile, sys; py_compile.compile('app.py', cfile='__pycache__/app.' + sys.implementation.cache_tag + '.pyc', invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)"])
        .current_dir(&ws)
        .status()
        .unwrap();
    assert!(st.success());
    write(&ws, "app.py", "def answer():\n    return 41\n");
    git(&ws, &["add", "-A"]);
    git(&ws, &["commit", "-qm", "bytecode committed"]);
    let out = w.run(
        "python3",
        &["python3", "-c", "import app; print('ANSWER', app.answer())"],
    );
    let ev = evidence(&out);
    assert!(
        ev.contains("ANSWER 41"),
        "committed bytecode ran: {ev}\n{out:?}"
    );
    assert!(w.prefix().is_dir(), "the prefix was in use");
}

/// A virtualenv module edited after the fill with the same size and modification time
/// runs its new code: the fill's bytecode is checked against the source's hash.
#[test]
fn a_source_edited_with_the_same_size_and_mtime_runs_its_new_code() {
    let w = Ws::new();
    let site = venv(&w.ws());
    write(&site, "vmod.py", "def f():\n    return 1\n");
    let run = || {
        w.run(
            "python",
            &["python", "-c", "import vmod; print('VMOD', vmod.f())"],
        )
    };
    let first = run();
    assert!(evidence(&first).contains("VMOD 1"), "{first:?}");
    let compiled = files(&w.prefix())
        .into_iter()
        .any(|f| f.to_string_lossy().contains("vmod."));
    assert!(compiled, "the fill compiled the virtualenv's module");
    let src = site.join("vmod.py");
    let old = std::fs::metadata(&src).unwrap().modified().unwrap();
    write(&site, "vmod.py", "def f():\n    return 2\n");
    std::fs::File::options()
        .write(true)
        .open(&src)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let second = run();
    assert!(
        evidence(&second).contains("VMOD 2"),
        "stale bytecode ran: {second:?}"
    );
}

/// Start-up files of the workspace and its virtualenv, and an interpreter inside the work
/// tree, never run when the prefix is filled: each would leave a file in the prefix (the
/// one folder the filler may write), and the test looks for them from outside.
#[test]
fn the_fill_runs_nothing_from_the_work_tree() {
    let mark = |name: &str| {
        format!("import os, sys; exec(\"try:\\n for d in [sys.pycache_prefix] + sys.argv[1:]:\\n  open(os.path.join(d, 'RAN-{name}'), 'w')\\nexcept Exception: pass\")\n")
    };
    let w = Ws::new();
    let ws = w.ws();
    let site = venv(&ws);
    write(&site, "evil.pth", &mark("pth"));
    write(&site, "sitecustomize.py", &mark("sitecustomize"));
    write(&site, "usercustomize.py", &mark("usercustomize"));
    write(&site, "vmod.py", "X = 1\n");
    write(&ws, "sitecustomize.py", &mark("ws-sitecustomize"));
    write(&ws, "usercustomize.py", &mark("ws-usercustomize"));
    let out = w.run(
        "python",
        &["python", "-c", "import vmod; print('VMOD', vmod.X)"],
    );
    assert!(evidence(&out).contains("VMOD 1"), "{out:?}");
    let all = files(&w.tools());
    assert!(
        all.iter().any(|f| f.to_string_lossy().contains("vmod.")),
        "the fill compiled the venv"
    );
    let ran: Vec<_> = all
        .iter()
        .filter(|f| f.to_string_lossy().contains("RAN-"))
        .collect();
    assert!(ran.is_empty(), "ran at fill time: {ran:?}");

    // An interpreter inside the work tree (a script named python) is never used to fill:
    // asked for its trees it names itself, and given the prefix it writes a file there.
    let w = Ws::new();
    let ws = w.ws();
    let real = String::from_utf8(
        std::process::Command::new("python3")
            .args([
                "-c",
                "import os, sys; print(os.path.realpath(sys.executable))",
            ])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    write(
        &ws,
        ".venv/bin/python",
        &format!(
            "#!/bin/sh\ncase \"$*\" in *sysconfig*) echo '{{\"executable\": \"'\"$0\"'\", \"tag\": \"cpython-311\", \"version\": \"3.11\", \"trees\": []}}'; exit 0;; esac\n\
             for a in \"$@\"; do case \"$a\" in pycache_prefix=*) : > \"${{a#pycache_prefix=}}/RAN-script\";; esac; done\n\
             exec {} \"$@\"\n",
            real.trim()
        ),
    );
    std::fs::create_dir_all(ws.join(".venv/lib/python3.11/site-packages")).unwrap();
    write(&ws, ".venv/pyvenv.cfg", "home = /nowhere\n");
    let p = ws.join(".venv/bin/python");
    std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = w.run("python", &["python", "-c", "print('SCRIPT RAN BOXED')"]);
    assert!(evidence(&out).contains("SCRIPT RAN BOXED"), "{out:?}");
    let ran: Vec<_> = files(&w.tools())
        .into_iter()
        .filter(|f| f.to_string_lossy().contains("RAN-"))
        .collect();
    assert!(
        ran.is_empty(),
        "the work tree's interpreter filled the prefix: {ran:?}"
    );
}
