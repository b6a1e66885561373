"""The `no-merge-markers` gate, written in Python: fails when a file in the
workspace still carries a marker such as "DO NOT MERGE".

Built into a WebAssembly component with componentize-py (see README.md); the
host hands it the workspace read-only at `request.mounts.workspace`.
Config (all optional): `markers` (list of strings), `paths` (folders to scan,
relative to the workspace), `max_findings`.
"""

import json
import os

import wit_world
from componentize_py_types import Err
from wit_world.exports import gate_plugin
from wit_world.imports import types

DEFAULT_MARKERS = ["DO NOT MERGE", "DO-NOT-MERGE"]
SKIP_DIRS = {".git", "node_modules", "target", "__pycache__", ".venv", "venv"}
MAX_FILE = 1 << 20


def scan_file(path, rel, markers, findings):
    """Adds a finding for each line of `path` that holds one of `markers`."""
    try:
        if os.path.getsize(path) > MAX_FILE:
            return
        with open(path, encoding="utf-8", errors="strict") as f:
            for number, line in enumerate(f, start=1):
                for marker in markers:
                    if marker in line:
                        column = line.index(marker) + 1
                        findings.append(types.Finding(
                            severity=types.Severity.IMPORTANT,
                            rule="no-merge-markers/marker",
                            message=f"`{marker}` is still in the file",
                            path=rel, line=number, column=column,
                            end_line=number, end_column=column + len(marker),
                        ))
    except (UnicodeDecodeError, OSError):
        return


def scan(root, paths, markers):
    """Every marker under `paths` of `root`, in path order."""
    findings = []
    for top in paths:
        base = os.path.normpath(os.path.join(root, top))
        if not (base == root or base.startswith(root + "/")):
            raise Err(f"config: `paths` entry `{top}` leaves the workspace")
        for folder, dirs, files in os.walk(base):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
            for name in sorted(files):
                full = os.path.join(folder, name)
                scan_file(full, os.path.relpath(full, root), markers, findings)
    return findings


def read_config(text):
    config = json.loads(text or "{}")
    unknown = set(config) - {"markers", "paths", "max_findings"}
    if unknown:
        raise Err(f"config: unknown key(s) {', '.join(sorted(unknown))}; known: markers, paths, max_findings")
    return (config.get("markers", DEFAULT_MARKERS), config.get("paths", ["."]),
            int(config.get("max_findings", 50)))


class GatePlugin(wit_world.exports.GatePlugin):
    def check(self, request: gate_plugin.GateRequest) -> types.GateReport:
        markers, paths, limit = read_config(request.config)
        root = os.path.normpath(request.mounts.workspace)
        findings = scan(root, paths, markers)
        if findings:
            outcome = types.Outcome.FAILED
            summary = f"{len(findings)} merge marker(s) left, first in {findings[0].path}:{findings[0].line}"
        else:
            outcome = types.Outcome.PASSED
            summary = f"no merge markers ({', '.join(markers)})"
        evidence = "\n".join(f"{f.path}:{f.line}: {f.message}" for f in findings[:limit])
        return types.GateReport(
            outcome=outcome, summary=summary, tests=None, failures=[], cases=[],
            coverage_percent=None, findings=findings[:limit], evidence=evidence,
            exit_code=None, duration_ms=0, shard=None,
        )
