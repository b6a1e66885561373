#!/usr/bin/env bash
# Installs what planexec and its standard gates need on a fresh Debian-like
# machine: the wasm32-wasip2 Rust target, OpenSSL's headers (git2's https
# transport links the system libssl), the Python tools, Go. Idempotent.
set -euo pipefail

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

rustup target add wasm32-wasip2 >/dev/null
if ! command -v pkg-config >/dev/null 2>&1 || ! pkg-config --exists openssl; then
  sudo_if_needed apt-get update -qq
  sudo_if_needed apt-get install -y -qq pkg-config libssl-dev >/dev/null
fi
# The report consumers the tests read planexec's reports with are pinned (tests/data/check_reports.py).
python3 -m pip install --quiet --disable-pip-version-check pytest mypy black coverage \
  junitparser==5.0.3 xmlschema==4.3.2 pyyaml==6.0.3 componentize-py==0.25.1
if ! command -v go >/dev/null 2>&1; then
  sudo_if_needed apt-get update -qq
  sudo_if_needed apt-get install -y -qq golang-go >/dev/null
fi
# The agent CLIs the agent end-to-end tests drive with scripted models (tests/e2e/agents.rs).
MINI_VENV="${CARGO_TARGET_DIR:-target}/agent-tools/mini-swe-agent"
if [ ! -x "$MINI_VENV/bin/mini" ]; then
  python3 -m venv "$MINI_VENV"
  "$MINI_VENV/bin/pip" install --quiet --disable-pip-version-check mini-swe-agent==2.4.6
fi
AIDER_VENV="${CARGO_TARGET_DIR:-target}/agent-tools/aider"
if [ ! -x "$AIDER_VENV/bin/aider" ]; then
  python3 -m venv "$AIDER_VENV"
  "$AIDER_VENV/bin/pip" install --quiet --disable-pip-version-check aider-chat==0.86.2
fi
