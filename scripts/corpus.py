#!/usr/bin/env python3
"""The public-plan corpus: what to fetch, how to lay it out, how to score planexec on it.

    corpus.py fetch-list [--set SET]
    corpus.py materialise --mirrors DIR --files DIR [--set SET]
    corpus.py score --bin PATH/planexec --files DIR [--set SET] [--json OUT]

SET is dev, heldout1 (round 1 held out), heldout2 (round 2 held out), heldout3 (round 3
held out), heldout4 (round 4 held out), heldout5 (round 5 held out), heldout (the same as
heldout1, kept for compatibility) or all.  An entry without a `round` key is round 1.
Rounds 1-4 have been scored once and are development material now.  Round 5 is held out:
nobody may score it (`--set heldout5`, nor `--set all`, which includes it) until the lead
does, once, after the reader work is merged.

tests/corpus/plans.toml holds only references (repo, path, commit, sha256) and the
expected readings; the plans' text is never stored in this repository.  A session
materialises each plan under FILES/<sha256>/<path in its repository>, with the
neighbours its dialect is detected by (see `neighbours` in plans.toml).
`materialise` does that from local bare clones named MIRRORS/<owner>+<name>/repo
(the layout the session's fetch tool produces); `fetch-list` prints what is needed.

Standard library only (Python 3.11+ for tomllib).
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
PLANS = os.path.join(HERE, "..", "tests", "corpus", "plans.toml")


def load(path=PLANS):
    with open(path, "rb") as f:
        return tomllib.load(f)["plan"]


SETS = ["dev", "heldout", "heldout1", "heldout2", "heldout3", "heldout4", "heldout5", "all"]


def round_of(p):
    return int(p.get("round", 1))


def set_of(p):
    """The set a plan belongs to: dev or heldout<round> (heldout1 ... heldout5)."""
    if not p.get("held_out"):
        return "dev"
    return f"heldout{round_of(p)}"


def in_set(p, which):
    if which == "all":
        return True
    if which == "heldout":  # compatibility: "heldout" has always meant round 1
        which = "heldout1"
    return set_of(p) == which


def bundle_digest(files):
    """sha256 of a folder plan: for each file in sorted order, its relative path, NUL, its bytes."""
    h = hashlib.sha256()
    for rel, data in sorted(files):
        h.update(rel.encode() + b"\0" + data)
    return h.hexdigest()


def cmd_fetch_list(a):
    for p in load():
        if not in_set(p, a.set):
            continue
        extra = " ".join(p.get("neighbours", []))
        print(f"{p['repo']} {p['commit']} {p['path']} {p['sha256']} {extra}".rstrip())


def git(gitdir, *args, binary=False):
    r = subprocess.run(["git", "--git-dir", gitdir, *args], capture_output=True)
    if r.returncode:
        raise RuntimeError(f"git {' '.join(args)}: {r.stderr.decode(errors='replace').strip()}")
    return r.stdout if binary else r.stdout.decode()


def git_dir(mirrors, repo):
    """The bare clone MIRRORS/<owner>+<name>/repo, or its .git when it arrived as a work tree."""
    gd = os.path.join(mirrors, repo.replace("/", "+", 1), "repo")
    return os.path.join(gd, ".git") if os.path.isdir(os.path.join(gd, ".git")) else gd


def cmd_materialise(a):
    bad = 0
    for p in load():
        if not in_set(p, a.set):
            continue
        gd = git_dir(a.mirrors, p["repo"])
        root = os.path.join(a.files, p["sha256"])
        paths = [p["path"]] + list(p.get("neighbours", []))
        got = []
        for rel in paths:
            kind = git(gd, "cat-file", "-t", f"{p['commit']}:{rel}").strip()
            if kind == "tree":
                names = git(gd, "ls-tree", "-r", "--name-only", p["commit"], "--", rel + "/").split("\n")
                rels = [n for n in names if n]
            else:
                rels = [rel]
            for r in rels:
                data = git(gd, "show", f"{p['commit']}:{r}", binary=True)
                dest = os.path.join(root, r)
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                with open(dest, "wb") as f:
                    f.write(data)
                if r == p["path"] or r.startswith(p["path"] + "/"):
                    got.append((r, data))
        if p.get("dialect") == "bundle" or len(got) > 1 or (got and got[0][0] != p["path"]):
            digest = bundle_digest(got)
        else:
            digest = hashlib.sha256(got[0][1]).hexdigest()
        if digest != p["sha256"]:
            bad += 1
            print(f"sha256 mismatch: {p['id']} {digest}", file=sys.stderr)
    sys.exit(1 if bad else 0)


# ---------------------------------------------------------------- scoring

def run_check(binary, files, p):
    root = os.path.join(files, p["sha256"])
    target = p["path"]
    r = subprocess.run([binary, "check", target, "--format", "json"], cwd=root,
                       capture_output=True, timeout=60)
    doc = None
    try:
        doc = json.loads(r.stdout.decode(errors="replace"))
    except ValueError:
        pass
    return r.returncode, doc, r.stderr.decode(errors="replace")


def norm_id(s):
    return str(s).strip()


def norm_text(s):
    """Lower case, Markdown emphasis and code marks removed, whitespace collapsed."""
    for ch in "*`_":
        s = s.replace(ch, "")
    return " ".join(s.lower().split())


def title_has(task, want):
    return norm_text(want) in norm_text(task.get("title", ""))


def compare(p, code, doc):
    """Returns (essential_failures, all_failures): lists of short reasons."""
    e = p["expected"]
    ess, allf = [], []
    want_exit_ok = e["exit"] != 2
    if (code != 2) != want_exit_ok:
        ess.append(f"exit {code} (expected {'0/1' if want_exit_ok else 2})")
    tasks = (doc or {}).get("plan", {}).get("tasks", []) if doc else []
    ids = [norm_id(t["id"]) for t in tasks]
    if len(tasks) != e["tasks"]:
        ess.append(f"tasks {len(tasks)} (expected {e['tasks']})")
    if "ids" in e:
        want = [norm_id(i) for i in e["ids"]]
        if set(want) != set(ids):
            miss = [i for i in want if i not in ids][:5]
            extra = [i for i in ids if i not in want][:5]
            ess.append(f"ids differ (missing {miss}, unexpected {extra})")
    done = sum(1 for t in tasks if t.get("done"))
    if done != e["done"]:
        ess.append(f"done {done} (expected {e['done']})")
    by_id = {norm_id(t["id"]): t for t in tasks}
    edges = set()
    explicit = 0
    for t in tasks:
        for d in t.get("dependencies", []):
            edges.add((norm_id(t["id"]), norm_id(d["id"])))
            if d.get("kind") != "sequencing":
                explicit += 1
    for a, b in e.get("deps", []):
        if (norm_id(a), norm_id(b)) not in edges:
            ess.append(f"missing dependency {a} -> {b}")
            break
    if "explicit_deps" in e and explicit != e["explicit_deps"]:
        ess.append(f"explicit (non-sequencing) dependencies {explicit} (expected {e['explicit_deps']})")
    if "explicit_deps_min" in e and explicit < e["explicit_deps_min"]:
        ess.append(f"explicit dependencies {explicit} (expected at least {e['explicit_deps_min']})")
    # ---- all fields (only those written down for this plan)
    a = e.get("all", {})
    plan = (doc or {}).get("plan", {})
    if "dialect" in a and plan.get("dialect") != a["dialect"]:
        allf.append(f"dialect {plan.get('dialect')} (expected {a['dialect']})")
    if "first_title" in a and (not tasks or not title_has(tasks[0], a["first_title"])):
        allf.append("first task title")
    if "last_title" in a and (not tasks or not title_has(tasks[-1], a["last_title"])):
        allf.append("last task title")
    for tid, files in a.get("files", {}).items():
        got = by_id.get(norm_id(tid), {}).get("files", [])
        if not all(any(f in g for g in got) for f in files):
            allf.append(f"files of {tid}")
    for tid, cmds in a.get("acceptance_commands", {}).items():
        got = " ".join(by_id.get(norm_id(tid), {}).get("acceptance_commands", []))
        if not all(c in got for c in cmds):
            allf.append(f"acceptance commands of {tid}")
    if "acceptance_tasks_min" in a:
        n = sum(1 for t in tasks if t.get("acceptance"))
        if n < a["acceptance_tasks_min"]:
            allf.append(f"tasks with acceptance {n} (expected at least {a['acceptance_tasks_min']})")
    if "parallel" in a:
        n = sum(1 for t in tasks if t.get("parallel"))
        if n != a["parallel"]:
            allf.append(f"parallel tasks {n} (expected {a['parallel']})")
    if "status" in a and (plan.get("status") or "").lower().find(a["status"].lower()) < 0:
        allf.append(f"status {plan.get('status')!r}")
    return ess, ess + allf


def cmd_score(a):
    plans = [p for p in load() if in_set(p, a.set)]
    rows = []
    for p in plans:
        try:
            code, doc, err = run_check(a.bin, a.files, p)
        except subprocess.TimeoutExpired:
            code, doc, err = -1, None, "timeout"
        if not os.path.isdir(os.path.join(a.files, p["sha256"])):
            code, doc = -1, None
            err = "not materialised"
        ess, allf = compare(p, code, doc)
        rows.append(dict(id=p["id"], dialect=p["dialect"], held_out=p.get("held_out", False), set=set_of(p),
                         essential=not ess, all=not allf, reasons=allf, exit=code))
        mark = lambda ok: "pass" if ok else "FAIL"
        print(f"{mark(not ess):4} {mark(not allf):4}  {p['id']:<60} {'; '.join(allf)}")
    print()
    for name in ("dev", "heldout1", "heldout2", "heldout3", "heldout4", "heldout5"):
        sel = [r for r in rows if r["set"] == name]
        if not sel:
            continue
        ne = sum(r["essential"] for r in sel)
        na = sum(r["all"] for r in sel)
        print(f"{name}: essential {ne}/{len(sel)}, all fields {na}/{len(sel)}, exit 2: "
              f"{sum(1 for r in sel if r['exit'] == 2)}")
        dialects = sorted({r["dialect"] for r in sel})
        for d in dialects:
            s = [r for r in sel if r["dialect"] == d]
            print(f"  {d:<11} essential {sum(r['essential'] for r in s)}/{len(s)}, "
                  f"all {sum(r['all'] for r in s)}/{len(s)}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch-list")
    f.add_argument("--set", choices=SETS, default="all")
    m = sub.add_parser("materialise")
    m.add_argument("--mirrors", required=True)
    m.add_argument("--files", required=True)
    m.add_argument("--set", choices=SETS, default="all")
    s = sub.add_parser("score")
    s.add_argument("--bin", required=True)
    s.add_argument("--files", required=True)
    s.add_argument("--set", choices=SETS, default="dev")
    s.add_argument("--json")
    a = ap.parse_args()
    {"fetch-list": cmd_fetch_list, "materialise": cmd_materialise, "score": cmd_score}[a.cmd](a)


if __name__ == "__main__":
    main()
