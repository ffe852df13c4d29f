#!/usr/bin/env bash
# protocol installer, for a fresh VPS or cloud-init user-data (no TTY, no prompts):
#   curl -fsSL https://github.com/protocol-sh/protocol/releases/latest/download/install.sh | bash
#   curl -fsSL …/install.sh | bash -s -- --version 0.4.0 --dir /opt/bin
# Picks the build for this machine, checks the minisign signature of the release's SHA256SUMS with
# the release key written below at build time, verifies the download against SHA256SUMS, and moves
# it into place atomically. Running it twice is safe.
set -euo pipefail

# The release host (GitHub's layout); PROTOCOL_DOWNLOAD_URL overrides it. Same default as src/lib/release.ts.
DEFAULT_DOWNLOAD_URL="https://github.com/protocol-sh/protocol/releases"
# The minisign public key that signs releases (package.json config.minisignPublicKey, written by
# scripts/build.ts); PROTOCOL_MINISIGN_PUBKEY replaces it for a mirror that signs its own releases.
DEFAULT_MINISIGN_PUBKEY=""

# Every download is bounded (issue 29), with self:update's variables: its size (PROTOCOL_DOWNLOAD_MAX_BYTES,
# and the install dir's free space less a reserve), silence (PROTOCOL_DOWNLOAD_IDLE_TIMEOUT seconds)
# and its whole time (PROTOCOL_DOWNLOAD_TIMEOUT seconds). Release metadata is small: 1 MB at most.
MAX_BYTES=536870912
IDLE_SECONDS=60
TOTAL_SECONDS=900
RESERVE_KB=16384
METADATA_MAX_BYTES=1048576

usage() {
  cat <<'EOF'
Install protocol, verified against the release's signed SHA256SUMS.

Usage: install.sh [--dir <path>] [--version <x.y.z>] [--help]

  --dir <path>        install into this directory (default: /usr/local/bin as root, else ~/.local/bin)
  --version <x.y.z>   install this release (default: the latest)
  --help              show this help

Environment: PROTOCOL_INSTALL_DIR, PROTOCOL_VERSION (as the flags), PROTOCOL_DOWNLOAD_URL (the
release host, default https://github.com/protocol-sh/protocol/releases), PROTOCOL_MINISIGN_PUBKEY
(the key that signs the releases there, for a mirror; default: protocol's release key).
Downloads stop past PROTOCOL_DOWNLOAD_MAX_BYTES (default 512 MB) or what the install dir's free
space allows less 16 MB, after PROTOCOL_DOWNLOAD_IDLE_TIMEOUT seconds without data (60) and after
PROTOCOL_DOWNLOAD_TIMEOUT seconds in all (900).
Checking the signature needs minisign, or OpenSSL 3.
A release older than the protocol installed is installed only when --version asks for it.
EOF
}

say() { printf 'protocol install: %s\n' "$*" >&2; }
die() {
  printf 'protocol install: error: %s\n' "$*" >&2
  exit 1
}

# The artifact name for this machine: protocol-<os>-<arch>[-baseline|-musl].
detect_artifact() {
  local os arch kernel machine
  kernel=$(uname -s)
  machine=$(uname -m)
  case "$kernel" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) die "unsupported operating system: $kernel (protocol runs on Linux and macOS)" ;;
  esac
  case "$machine" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "unsupported CPU architecture: $machine (protocol runs on x86-64 and arm64)" ;;
  esac
  if [ "$os" = darwin ]; then
    # An x86-64 shell under Rosetta on Apple silicon: take the native build.
    if [ "$arch" = x64 ] && [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || true)" = 1 ]; then arch=arm64; fi
    printf 'protocol-darwin-%s\n' "$arch"
    return
  fi
  # A 64-bit kernel can run a 32-bit userland (armhf, i386 containers); a 64-bit build would not run.
  if command -v getconf >/dev/null 2>&1 && [ "$(getconf LONG_BIT 2>/dev/null || true)" = 32 ]; then
    die "this is a 32-bit userland on a 64-bit $machine kernel; protocol needs a 64-bit userland"
  fi
  if [ -f /etc/alpine-release ] || compgen -G '/lib/ld-musl-*' >/dev/null; then
    printf 'protocol-linux-%s-musl\n' "$arch"
  elif [ "$arch" = x64 ] && ! grep -qw avx2 /proc/cpuinfo 2>/dev/null; then
    # Bun's default x64 build needs AVX2 (Haswell and newer); older CPUs get the baseline build.
    printf 'protocol-linux-x64-baseline\n'
  else
    printf 'protocol-linux-%s\n' "$arch"
  fi
}

positive_int() { # value default: the value when it is a whole number above 0, else the default
  case "$1" in
    "" | *[!0-9]*) printf '%s\n' "$2" ;;
    *) if [ "$1" -gt 0 ]; then printf '%s\n' "$1"; else printf '%s\n' "$2"; fi ;;
  esac
}

free_kb() { # dir: KB free there for an unprivileged writer, empty when df cannot say
  if command -v df >/dev/null 2>&1; then df -Pk -- "$1" 2>/dev/null | awk 'NR == 2 { print $4 }'; fi
}

# What may be written into dir: max-bytes, or less when the free space less the reserve is less.
# Says why in BOUND_WHY, for the message when a download or an unpack hits it.
budget_for() { # dir max-bytes
  local free room
  BUDGET=$2
  BOUND_WHY="it is larger than $2 bytes (PROTOCOL_DOWNLOAD_MAX_BYTES)"
  free=$(free_kb "$1")
  case "$free" in "" | *[!0-9]*) return 0 ;; esac
  room=$(((free - RESERVE_KB) * 1024))
  if [ "$room" -lt "$BUDGET" ]; then
    BUDGET=$room
    BOUND_WHY="it does not fit: $1 has $((free / 1024)) MB free and keeps $((RESERVE_KB / 1024)) MB free; free space there and retry"
  fi
  [ "$BUDGET" -gt 0 ] || die "not enough disk space in $1: $((free / 1024)) MB free, and $((RESERVE_KB / 1024)) MB stays free; free space there and retry"
}

# Run a command that writes no more than BUDGET bytes: past it the kernel stops it (SIGXFSZ), so a
# host that streams for ever cannot fill the disk, whether or not it announced a size.
bounded() { # command...
  (
    ulimit -f "$((BUDGET / 1024 + 1))" 2>/dev/null || true
    "$@"
  )
}

# Run a command for PROTOCOL_DOWNLOAD_TIMEOUT seconds at most, retries included (exit 124 after);
# where there is no timeout program (macOS) curl's own --max-time and --retry-max-time bound it.
timed() { # command...
  if command -v timeout >/dev/null 2>&1; then timeout "$TOTAL_SECONDS" "$@"; else "$@"; fi
}

download() { # url file max-bytes [what to say when it fails]
  local url=$1 out=$2 rc=0 why=""
  budget_for "${out%/*}" "$3"
  if command -v curl >/dev/null 2>&1; then
    # --max-filesize refuses an announced size over the budget before anything is written.
    bounded timed curl -fsSL --retry 3 --retry-max-time "$TOTAL_SECONDS" --max-time "$TOTAL_SECONDS" \
      --connect-timeout 20 --speed-limit 1 --speed-time "$IDLE_SECONDS" --max-filesize "$BUDGET" \
      -o "$out" -- "$url" || rc=$?
  elif command -v wget >/dev/null 2>&1; then
    bounded timed wget -q -T "$IDLE_SECONDS" -O "$out" -- "$url" || rc=$?
  else
    die "neither curl nor wget is installed"
  fi
  case "$rc" in
    0) return 0 ;;
    # curl refused the announced size (63), or the kernel stopped the writer at the budget (SIGXFSZ: 153).
    63 | 153) why=$BOUND_WHY ;;
    124) why="not done in ${TOTAL_SECONDS}s (PROTOCOL_DOWNLOAD_TIMEOUT)" ;;
    28) why="no data for ${IDLE_SECONDS}s or not done in ${TOTAL_SECONDS}s (PROTOCOL_DOWNLOAD_IDLE_TIMEOUT, PROTOCOL_DOWNLOAD_TIMEOUT)" ;;
  esac
  rm -f -- "$out"
  [ -n "$why" ] || die "${4:-download failed: $url}"
  die "download of $url stopped: $why; the partial download $out was removed, nothing was installed"
}

sha256_of() { # file
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum -- "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 -- "$1" | cut -d' ' -f1
  else
    die "neither sha256sum nor shasum is installed, so the download cannot be verified"
  fi
}

expected_sha256() { # sums-file name: the hash SHA256SUMS lists for name ("<hex>  <name>" or "<hex> *<name>")
  awk -v name="$2" '$2 == name || $2 == "*" name { print $1; exit }' "$1"
}

verify() { # file name sums-file
  local want got
  want=$(expected_sha256 "$3" "$2")
  [ -n "$want" ] || die "SHA256SUMS does not list $2"
  got=$(sha256_of "$1")
  [ "$got" = "$want" ] || die "checksum mismatch for $2: SHA256SUMS says $want, the download is $got; nothing was installed"
}

unpack() { # xz|gzip packed out: within the same budget as a download (what is left once the download is in)
  local rc=0
  budget_for "${3%/*}" "$MAX_BYTES"
  bounded "$1" -dc -- "$2" >"$3" || rc=$?
  [ "$rc" = 0 ] && return 0
  rm -f -- "$2" "$3"
  [ "$rc" != 153 ] || die "unpacking ${2##*/} stopped: $BOUND_WHY; it was removed, nothing was installed"
  die "$1 could not unpack ${2##*/}; nothing was installed"
}

is_version() { # text: a release version, x.y.z with an optional -prerelease
  printf '%s\n' "$1" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$'
}

version_lt() { # a b: a is an older release than b (x.y.z; a -prerelease is older than the release itself)
  awk -v a="$1" -v b="$2" 'BEGIN {
    pa = index(a, "-") ? substr(a, index(a, "-") + 1) : ""; ca = index(a, "-") ? substr(a, 1, index(a, "-") - 1) : a
    pb = index(b, "-") ? substr(b, index(b, "-") + 1) : ""; cb = index(b, "-") ? substr(b, 1, index(b, "-") - 1) : b
    split(ca, x, "."); split(cb, y, ".")
    for (i = 1; i <= 3; i++) { if (x[i] + 0 < y[i] + 0) exit 0; if (x[i] + 0 > y[i] + 0) exit 1 }
    if (pa == pb || pa == "") exit 1
    if (pb == "") exit 0
    exit !(pa < pb)
  }'
}

b64d() { base64 -d 2>/dev/null; }
hex_of() { od -An -tx1 | tr -d ' \n'; }

# Check sig-file (minisign) of file with the base64 public key; print its trusted comment. With
# minisign when it is installed, else with OpenSSL 3 (Ed25519 over the BLAKE2b-512 of the file).
verify_signature() { # file sig-file key
  local file=$1 sig=$2 key=$3 work="$TMP_DIR/signature" comment
  mkdir -p -- "$work"
  comment=$(sed -n 3p "$sig")
  case "$(sed -n 1p "$sig")" in "untrusted comment:"*) ;; *) comment="" ;; esac
  case "$comment" in
    "trusted comment: "*) comment=${comment#"trusted comment: "} ;;
    *) die "SHA256SUMS.minisig is not a minisign signature; nothing was installed" ;;
  esac
  if command -v minisign >/dev/null 2>&1; then
    minisign -Vq -m "$file" -x "$sig" -P "$key" >/dev/null 2>&1 ||
      die "SHA256SUMS is not signed by the release key (minisign refused it); nothing was installed"
  elif command -v openssl >/dev/null 2>&1 && openssl version 2>/dev/null | grep -q '^OpenSSL [3-9]'; then
    printf '%s' "$key" | b64d >"$work/key" || die "PROTOCOL_MINISIGN_PUBKEY is not base64"
    sed -n 2p "$sig" | b64d >"$work/blob" || die "SHA256SUMS.minisig is not a minisign signature; nothing was installed"
    sed -n 4p "$sig" | b64d >"$work/global" || die "SHA256SUMS.minisig is not a minisign signature; nothing was installed"
    [ "$(wc -c <"$work/key" | tr -d ' ')" = 42 ] || die "the release key is not a minisign Ed25519 public key"
    [ "$(wc -c <"$work/blob" | tr -d ' ')" = 74 ] || die "SHA256SUMS.minisig is not an Ed25519 signature; nothing was installed"
    [ "$(head -c 10 "$work/key" | tail -c 8 | hex_of)" = "$(head -c 10 "$work/blob" | tail -c 8 | hex_of)" ] ||
      die "SHA256SUMS is signed by another key than the release key; nothing was installed"
    # The key as DER (SubjectPublicKeyInfo of an Ed25519 key: a fixed 12-byte header, then the 32 bytes).
    { printf '\060\052\060\005\006\003\053\145\160\003\041\000'; tail -c 32 "$work/key"; } >"$work/key.der"
    tail -c 64 "$work/blob" >"$work/sig"
    case "$(head -c 2 "$work/blob")" in
      ED) openssl dgst -blake2b512 -binary -- "$file" >"$work/message" ;;
      Ed) cat -- "$file" >"$work/message" ;;
      *) die "SHA256SUMS.minisig uses an unknown algorithm; nothing was installed" ;;
    esac
    openssl pkeyutl -verify -pubin -keyform DER -inkey "$work/key.der" -rawin -in "$work/message" \
      -sigfile "$work/sig" >/dev/null 2>&1 ||
      die "the signature of SHA256SUMS does not match the file; nothing was installed"
    { cat -- "$work/sig"; printf '%s' "$comment"; } >"$work/global-message"
    openssl pkeyutl -verify -pubin -keyform DER -inkey "$work/key.der" -rawin -in "$work/global-message" \
      -sigfile "$work/global" >/dev/null 2>&1 ||
      die "the trusted comment of SHA256SUMS.minisig was changed; nothing was installed"
  else
    die "neither minisign nor OpenSSL 3 is installed, so the release's signature cannot be checked (apt-get install minisign)"
  fi
  printf '%s\n' "$comment"
}

main() {
  local dir="${PROTOCOL_INSTALL_DIR:-}" version="${PROTOCOL_VERSION:-}"
  local base="${PROTOCOL_DOWNLOAD_URL:-$DEFAULT_DOWNLOAD_URL}"
  MAX_BYTES=$(positive_int "${PROTOCOL_DOWNLOAD_MAX_BYTES:-}" "$MAX_BYTES")
  IDLE_SECONDS=$(positive_int "${PROTOCOL_DOWNLOAD_IDLE_TIMEOUT:-}" "$IDLE_SECONDS")
  TOTAL_SECONDS=$(positive_int "${PROTOCOL_DOWNLOAD_TIMEOUT:-}" "$TOTAL_SECONDS")
  while [ $# -gt 0 ]; do
    case "$1" in
      --dir) [ $# -ge 2 ] || die "--dir needs a path"; dir=$2; shift 2 ;;
      --dir=*) dir=${1#--dir=}; shift ;;
      --version) [ $# -ge 2 ] || die "--version needs a version"; version=$2; shift 2 ;;
      --version=*) version=${1#--version=}; shift ;;
      -h | --help) usage; return 0 ;;
      *) die "unknown argument: $1 (see --help)" ;;
    esac
  done
  if [ -z "$dir" ]; then
    if [ "$(id -u)" = 0 ]; then dir=/usr/local/bin; else dir="${HOME:?HOME is not set}/.local/bin"; fi
  fi
  version=${version#v}
  base=${base%/}
  # Asked for by name, a release may be older than the one installed; "latest" may not.
  local asked=$version

  local artifact release
  artifact=$(detect_artifact)
  if [ -n "$version" ]; then release="$base/download/v$version"; else release="$base/latest/download"; fi

  mkdir -p -- "$dir" || die "cannot create $dir"
  [ -w "$dir" ] || die "cannot write to $dir (run as root, or pass --dir)"
  # The temp dir is on the install dir's file system, so the final mv is an atomic rename.
  TMP_DIR=$(mktemp -d "$dir/.protocol-install.XXXXXX") || die "cannot create a temp dir in $dir"
  trap 'rm -rf -- "$TMP_DIR"' EXIT

  local key="${PROTOCOL_MINISIGN_PUBKEY:-$DEFAULT_MINISIGN_PUBKEY}"
  [ -n "$key" ] || die "this install.sh has no release key to check the download with: set PROTOCOL_MINISIGN_PUBKEY to the release's minisign public key"
  download "$release/SHA256SUMS" "$TMP_DIR/SHA256SUMS" "$METADATA_MAX_BYTES"
  download "$release/SHA256SUMS.minisig" "$TMP_DIR/SHA256SUMS.minisig" "$METADATA_MAX_BYTES" \
    "the release is not signed: $release/SHA256SUMS.minisig could not be downloaded; nothing was installed"
  local comment signed
  comment=$(verify_signature "$TMP_DIR/SHA256SUMS" "$TMP_DIR/SHA256SUMS.minisig" "$key")
  # protocol's build signs "protocol <version> SHA256SUMS": the version is the signed one, so an
  # old release's file served as a new one is refused (a file signed by hand with minisign's own comment is accepted).
  case "$comment" in
    "protocol "*" SHA256SUMS")
      signed=${comment#protocol }
      signed=${signed% SHA256SUMS}
      if [ -z "$version" ]; then version=$signed; fi
      [ "$signed" = "$version" ] || die "SHA256SUMS served as release $version was signed for release $signed; nothing was installed"
      ;;
  esac
  local want
  want=$(expected_sha256 "$TMP_DIR/SHA256SUMS" "$artifact")
  [ -n "$want" ] || die "release ${version:-latest} has no build for this machine ($artifact)"
  if [ -z "$version" ]; then
    download "$release/VERSION" "$TMP_DIR/VERSION" "$METADATA_MAX_BYTES"
    version=$(tr -d '[:space:]' <"$TMP_DIR/VERSION")
  fi

  local target="$dir/protocol"
  if [ -f "$target" ] && [ "$(sha256_of "$target")" = "$want" ]; then
    say "protocol $version ($artifact) is already installed at $target"
    return 0
  fi
  if [ -z "$asked" ] && [ -x "$target" ]; then
    local current
    current=$("$target" --version 2>/dev/null | head -n 1 || true)
    if is_version "$current" && version_lt "$version" "$current"; then
      die "the latest release is $version, older than the protocol $current installed at $target; not going backwards (to install $version anyway, pass --version $version)"
    fi
  fi

  # xz is the smallest download; gzip is everywhere; the raw file is the last resort.
  local file="$artifact"
  if command -v xz >/dev/null 2>&1 && [ -n "$(expected_sha256 "$TMP_DIR/SHA256SUMS" "$artifact.xz")" ]; then
    file="$artifact.xz"
  elif command -v gzip >/dev/null 2>&1 && [ -n "$(expected_sha256 "$TMP_DIR/SHA256SUMS" "$artifact.gz")" ]; then
    file="$artifact.gz"
  fi
  say "downloading $release/$file"
  download "$release/$file" "$TMP_DIR/$file" "$MAX_BYTES"
  verify "$TMP_DIR/$file" "$file" "$TMP_DIR/SHA256SUMS"
  case "$file" in
    *.xz) unpack xz "$TMP_DIR/$file" "$TMP_DIR/protocol" ;;
    *.gz) unpack gzip "$TMP_DIR/$file" "$TMP_DIR/protocol" ;;
    *) mv -- "$TMP_DIR/$file" "$TMP_DIR/protocol" ;;
  esac
  verify "$TMP_DIR/protocol" "$artifact" "$TMP_DIR/SHA256SUMS"
  chmod 755 "$TMP_DIR/protocol"
  "$TMP_DIR/protocol" --version >/dev/null 2>&1 || die "the downloaded $artifact does not run on this machine; nothing was installed"
  mv -f -- "$TMP_DIR/protocol" "$target"

  say "installed protocol $version ($artifact) to $target"
  case ":$PATH:" in
    *":$dir:"*) ;;
    *) say "$dir is not on PATH: add it, e.g. echo 'export PATH=\"$dir:\$PATH\"' >> ~/.profile" ;;
  esac
}

# The body runs only from this last line, so a truncated download runs nothing.
main "$@"
