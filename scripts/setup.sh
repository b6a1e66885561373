#!/usr/bin/env bash
# Installs everything planexec, its standard gates and the whole test suite need
# on a fresh Debian-like machine with rustup: the wasm32-wasip2 Rust target,
# the openssl command (the https pack tests make certificates), the
# Python tools, Chromium and Graphviz, Go, Node, and the pinned agent CLIs. The ONE list: .ci/run calls
# this and then exactly the README's test command. Idempotent.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

echo "--- toolchain: wasm32-wasip2 (the standard plugin pack)"
rustup target add wasm32-wasip2 >/dev/null

echo "--- the openssl command (the https pack tests make certificates with it; planexec itself uses rustls)"
command -v openssl >/dev/null 2>&1 || apt_install openssl

echo "--- python tools (gates: pytest, mypy, black, coverage, ruff, bandit; report readers; componentize-py)"
export PIP_ROOT_USER_ACTION=ignore
if ! command -v python3 >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1; then
  apt_install python3 python3-pip python3-venv
fi
PY_TOOLS="pytest mypy black coverage ruff==0.17.6 bandit==1.9.4 junitparser==5.0.3 xmlschema==4.3.2 pyyaml==6.0.3 componentize-py==0.25.1"
pip_flags="--quiet --disable-pip-version-check"
# Debian's system Python refuses installs outside a venv (PEP 668) unless told to.
if python3 -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")))'; then
  pip_flags="$pip_flags --break-system-packages"
fi
# shellcheck disable=SC2086
python3 -m pip install $pip_flags $PY_TOOLS

echo "--- older tool versions the gates must still read (the version matrix: tests/e2e/gates.rs)"
wheels="${CARGO_TARGET_DIR:-target}/tool-versions/wheels"
if [ ! -f "$wheels/.ruff-0.12.12" ]; then
  mkdir -p "$wheels"
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: -d "$wheels" ruff==0.12.12
  touch "$wheels/.ruff-0.12.12"
fi

echo "--- chromium and graphviz (tests/e2e/pictures.rs: the HTML report in a headless browser, dot -Tsvg)"
command -v chromium >/dev/null 2>&1 || apt_install chromium fonts-dejavu-core
command -v dot >/dev/null 2>&1 || apt_install graphviz

echo "--- go"
command -v go >/dev/null 2>&1 || apt_install golang-go
go version

echo "--- node (eslint, tsc, jest, vitest gates: each test installs the fixture's pinned tools with npm ci)"
command -v npm >/dev/null 2>&1 || apt_install nodejs npm
node --version

echo "--- mermaid's parser (pinned, tests/data/mermaid) for tests/e2e/pictures.rs"
mermaid="${CARGO_TARGET_DIR:-target}/mermaid"
if [ ! -d "$mermaid/node_modules/mermaid" ]; then
  mkdir -p "$mermaid"
  cp "$(dirname "$0")"/../tests/data/mermaid/package{,-lock}.json "$mermaid/"
  (cd "$mermaid" && npm ci --silent --no-audit --no-fund)
fi

echo "--- agent CLIs (pinned) for tests/e2e/agents.rs and tests/e2e/presets.rs; the MCP client for tests/e2e/mcp.rs"
tools="${CARGO_TARGET_DIR:-target}/agent-tools"
if [ ! -x "$tools/mini-swe-agent/bin/mini" ]; then
  python3 -m venv "$tools/mini-swe-agent"
  "$tools/mini-swe-agent/bin/pip" install --quiet --disable-pip-version-check mini-swe-agent==2.4.6
fi
if [ ! -x "$tools/mcp-client/bin/python" ] || ! "$tools/mcp-client/bin/python" -c "import mcp" 2>/dev/null; then
  # The official Python MCP SDK, the client of tests/e2e/mcp.rs (planexec mcp over stdio).
  python3 -m venv "$tools/mcp-client"
  "$tools/mcp-client/bin/pip" install --quiet --disable-pip-version-check mcp==2.3.0
fi
if [ ! -x "$tools/aider/bin/aider" ]; then
  python3 -m venv "$tools/aider"
  "$tools/aider/bin/pip" install --quiet --disable-pip-version-check aider-chat==0.86.2
fi
for pkg in claude:@anthropic-ai/claude-code@2.1.197 codex:@openai/codex@0.171.0 \
           gemini:@google/gemini-cli@0.61.0 opencode:opencode-ai@1.18.33; do
  dir="$tools/${pkg%%:*}"
  if [ ! -d "$dir/node_modules" ]; then
    mkdir -p "$dir"
    (cd "$dir" && npm i -E --silent --no-audit --no-fund "${pkg#*:}")
  fi
done
