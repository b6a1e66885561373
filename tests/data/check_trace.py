#!/usr/bin/env python3
"""Checks a planexec trace (Chrome trace-event JSON) against the run's JSON report.

Usage: check_trace.py TRACE.json RUN.json. Every event well formed (X with ts and dur,
B/E balanced per thread, M with a name), spans on one thread properly nested, each span
inside its parent (args.parent), one `run` span covering all whose length is the run's,
a cycle span per cycle of the record, and a program span, inside its gate's, per
program a timed step (gate, implementer, review) ran. Prints `ok: ...` or fails with a reason.
Perfetto's trace_processor is not used: its Python package downloads a native binary.
"""
import json
import sys
from datetime import datetime


def fail(msg):
    sys.exit(f"trace check failed: {msg}")


def epoch_us(stamp):
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1e6


def well_formed(events):
    open_b = {}
    for e in events:
        ph = e.get("ph")
        if ph not in ("X", "B", "E", "M"):
            fail(f"unknown phase {ph!r}: {e}")
        if not isinstance(e.get("pid"), int) or not isinstance(e.get("tid"), int):
            fail(f"pid/tid not integers: {e}")
        if ph == "M":
            if not isinstance(e.get("args", {}).get("name"), str):
                fail(f"metadata without a name: {e}")
            continue
        if not isinstance(e.get("ts"), (int, float)) or e["ts"] < 0:
            fail(f"bad ts: {e}")
        if ph == "X" and (not isinstance(e.get("dur"), (int, float)) or e["dur"] < 0):
            fail(f"bad dur: {e}")
        if ph in ("X", "B") and not isinstance(e.get("name"), str):
            fail(f"no name: {e}")
        key = (e["pid"], e["tid"])
        if ph == "B":
            open_b[key] = open_b.get(key, 0) + 1
        if ph == "E":
            if open_b.get(key, 0) == 0:
                fail(f"E without B: {e}")
            open_b[key] -= 1
    if any(open_b.values()):
        fail(f"B without E: {open_b}")


def nested_per_thread(spans):
    by_tid = {}
    for s in spans:
        by_tid.setdefault((s["pid"], s["tid"]), []).append(s)
    for tid, ss in by_tid.items():
        stack = []
        for s in sorted(ss, key=lambda s: (s["ts"], -s["dur"])):
            while stack and stack[-1]["ts"] + stack[-1]["dur"] <= s["ts"]:
                stack.pop()
            if stack and s["ts"] + s["dur"] > stack[-1]["ts"] + stack[-1]["dur"]:
                fail(f"thread {tid}: {s['name']!r} overlaps {stack[-1]['name']!r} without nesting")
            stack.append(s)


def inside_parents(spans):
    by_id = {s["args"]["span"]: s for s in spans}
    for s in spans:
        parent = by_id.get(s["args"].get("parent", "run" if s["args"]["span"] != "run" else None))
        if s["args"]["span"] == "run":
            continue
        if parent is None:
            fail(f"{s['name']!r}: parent {s['args'].get('parent')!r} not in the trace")
        if s["ts"] < parent["ts"] or s["ts"] + s["dur"] > parent["ts"] + parent["dur"]:
            fail(f"{s['name']!r} [{s['ts']}, +{s['dur']}] is outside its parent {parent['name']!r}")


def main(trace_path, run_path):
    doc = json.load(open(trace_path))
    run = json.load(open(run_path))
    events = doc["traceEvents"]
    well_formed(events)
    spans = [e for e in events if e["ph"] == "X"]
    for s in spans:
        if "span" not in s.get("args", {}):
            fail(f"span without args.span: {s}")
    nested_per_thread(spans)
    inside_parents(spans)
    runs = [s for s in spans if s["args"]["span"] == "run"]
    if len(runs) != 1:
        fail(f"{len(runs)} run spans")
    total = epoch_us(run["finished_at"]) - epoch_us(run["started_at"])
    # The record's start and end are whole seconds; steps are in milliseconds.
    if abs(runs[0]["dur"] - total) > 2e6:
        fail(f"run span {runs[0]['dur']} us, the record says {total} us")
    cycles = sum(len(t.get("cycles", [])) for t in run["tasks"])
    seen = sum(1 for s in spans if s.get("cat") == "cycle")
    if seen != cycles:
        fail(f"{seen} cycle spans, the record has {cycles} cycles")
    steps = sum(len(c.get("timings", [])) for t in run["tasks"] for c in t.get("cycles", []))
    seen_steps = sum(1 for s in spans if s.get("cat") in ("implementer", "gate", "review", "commit"))
    if seen_steps != steps + len(run.get("final_gates", [])):
        fail(f"{seen_steps} step spans for {steps} timed steps")
    programs = 0
    for t in run["tasks"]:
        for c in t.get("cycles", []):
            timed = {x["name"] for x in c.get("timings", []) if x["step"] == "gate"}
            programs += sum(len(g.get("programs", [])) for g in c.get("gates", []) if g["name"] in timed)
            if any(x["step"] == "implementer" for x in c.get("timings", [])):
                programs += len((c.get("implementer") or {}).get("programs", []))
            reviews = [x["name"] for x in c.get("timings", []) if x["step"] == "review"]
            programs += sum(len(r.get("programs", [])) for r in c.get("reviews", [])
                            if any(n.startswith(r["kind"]) for n in reviews))
    programs += sum(len(g.get("programs", [])) for g in run.get("final_gates", []))
    seen_programs = [s for s in spans if s.get("cat") == "program"]
    if len(seen_programs) != programs:
        fail(f"{len(seen_programs)} program spans, the record has {programs} programs run by timed steps")
    by_id = {s["args"]["span"]: s for s in spans}
    for s in seen_programs:
        if by_id[s["args"]["parent"]].get("cat") not in ("gate", "implementer", "review"):
            fail(f"program {s['name']!r} is not inside a step span")
    print(f"ok: {len(spans)} spans, {programs} programs, {cycles} cycles, {steps} steps, run {runs[0]['dur'] / 1e6:.1f} s")


if __name__ == "__main__":
    main(*sys.argv[1:3])
