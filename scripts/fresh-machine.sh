#!/usr/bin/env bash
# Checks the README's two commands on a machine that has only Rust, Python, Node and git:
# a Debian bookworm made with debootstrap in DIR (default /work/fresh), given this machine's
# Rust toolchain (without the wasm32-wasip2 target), Node and npm, Debian's python3, pip and
# git, and this machine's network settings (CA certificates, pip and npm config), then
# entered with pivot_root (a chroot may not make the user namespaces the box needs).
#   scripts/fresh-machine.sh prepare [DIR]   # debootstrap and install the four
#   scripts/fresh-machine.sh ci [DIR]        # a clean clone of HEAD, ../shared beside it, .ci/run
#   scripts/fresh-machine.sh demo [DIR]      # the same clone, scripts/demo.sh
#   scripts/fresh-machine.sh run DIR CMD...  # any command in it
# Run as root. The Debian mirror is the one this machine's apt uses.
set -euo pipefail
cmd=${1:?prepare, ci or demo}; F=${2:-/work/fresh}
root="$(cd "$(dirname "$0")/.." && pwd)"

prepare() {
  local mirror
  mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  debootstrap --variant=minbase bookworm "$F" "$mirror"
  cp /etc/resolv.conf "$F/etc/resolv.conf"
  cp /etc/apt/sources.list.d/debian.sources "$F/etc/apt/sources.list.d/"
  rm -f "$F/etc/apt/sources.list"
  cp /usr/local/share/ca-certificates/*.crt "$F/usr/local/share/ca-certificates/" 2>/dev/null || true
  [ -f /etc/pip.conf ] && cp /etc/pip.conf "$F/etc/pip.conf"
  enter apt-get update -qq
  enter env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    git ca-certificates gcc libc6-dev python3 python3-pip python3-venv >/dev/null
  enter update-ca-certificates >/dev/null
  cp -a "$(command -v node)" "$F/usr/bin/node"
  mkdir -p "$F/usr/lib/node_modules" && cp -a /usr/lib/node_modules/npm "$F/usr/lib/node_modules/"
  ln -sfn ../lib/node_modules/npm/bin/npm-cli.js "$F/usr/bin/npm"
  [ -d /usr/include/node ] && mkdir -p "$F/usr/include" && cp -a /usr/include/node "$F/usr/include/"
  [ -f "$HOME/.npmrc" ] && cp "$HOME/.npmrc" "$F/root/.npmrc"
  local tc rl
  tc=$(rustup toolchain list | awk '/default/{print $1}')
  mkdir -p "$F/root/.cargo/bin" "$F/root/.rustup/toolchains"
  cp -a "$HOME/.cargo/bin/." "$F/root/.cargo/bin/"
  cp "$HOME/.rustup/settings.toml" "$F/root/.rustup/"
  cp -a "$HOME/.rustup/toolchains/$tc" "$F/root/.rustup/toolchains/"
  rl="$F/root/.rustup/toolchains/$tc/lib/rustlib"
  rm -rf "$rl/wasm32-wasip2" "$rl/manifest-rust-std-wasm32-wasip2"
  sed -i '/wasm32-wasip2/d' "$rl/components"
}

# Runs "$@" in $F as its root, with a clean environment but this machine's CA settings.
enter() {
  unshare --mount --propagation private bash -c '
    F=$1; shift
    mount --bind "$F" "$F"
    for m in proc sys dev dev/pts; do mount --rbind "/$m" "$F/$m"; done
    cd "$F" && mkdir -p .oldroot && pivot_root . .oldroot && umount -l /.oldroot && cd /
    ca=/etc/ssl/certs/ca-certificates.crt
    exec /usr/bin/env -i HOME=/root TERM=dumb CARGO_TARGET_DIR=/target \
      PATH=/root/.cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      SSL_CERT_FILE=$ca SSL_CERT_DIR=/etc/ssl/certs CURL_CA_BUNDLE=$ca GIT_SSL_CAINFO=$ca \
      NODE_EXTRA_CA_CERTS=$ca PIP_CERT=$ca REQUESTS_CA_BUNDLE=$ca "$@"' bash "$F" "$@"
}

clone() {
  rm -rf "$F/root/ci" && mkdir -p "$F/root/ci"
  git clone -q "$root" "$F/root/ci/planexec"
  cp -a "$root/../shared" "$F/root/ci/shared"
}

case "$cmd" in
  prepare) prepare ;;
  ci) clone; enter bash -c 'cd /root/ci/planexec && bash .ci/run' ;;
  demo) [ -d "$F/root/ci/planexec" ] || clone; enter bash -c 'cd /root/ci/planexec && scripts/demo.sh' ;;
  run) shift 2; enter "$@" ;;
  *) echo "usage: $0 prepare|ci|demo [DIR] | run DIR CMD..." >&2; exit 2 ;;
esac
