#!/usr/bin/env bash
# Installs the Crossplane CLI (crank, as `crossplane`) that the `crossplane render` /
# `crossplane beta validate` conformance suite runs, with `go install` from the Go module proxy
# (no Docker, no release downloads).
#
#   test/tools/crossplane/install.sh            install what is missing, print the binary path
#   test/tools/crossplane/install.sh --find     print the path of an installed binary (no build)
#
# The binary lands in ${PGPLANE_TOOLS_CACHE:-$HOME/.cache/pgplane-tools}/crossplane/<version>/bin/crossplane,
# outside the repository, and is reused when present. A cold build takes several minutes on a
# small machine (about 5-10 minutes on 2 cores).
#
# Which version: v2.2.4 is the last tag whose module github.com/crossplane/crossplane/v2 has the
# CLI (cmd/crank) and no replace directives (from v2.3 the CLI lives elsewhere and the module
# has a replace, so `go install ...@v2.3.x` cannot work). Some module proxies do not serve every
# tag, so the candidates are tried newest first and the first one the proxy serves (or that is
# already installed) is used; the script says which. PGPLANE_CROSSPLANE_VERSION=vX.Y.Z pins one.
#
# test/support/crossplane.ts calls this script and reads the last line of its stdout.
set -euo pipefail

module=github.com/crossplane/crossplane/v2
pkg=$module/cmd/crank
candidates=(v2.2.4 v2.2.3 v2.2.2 v2.2.1 v2.2.0)
if [[ -n "${PGPLANE_CROSSPLANE_VERSION:-}" ]]; then
  candidates=("$PGPLANE_CROSSPLANE_VERSION")
fi

cache_root="${PGPLANE_TOOLS_CACHE:-$HOME/.cache/pgplane-tools}/crossplane"
binary_for() { echo "$cache_root/$1/bin/crossplane"; }

log() { echo "crossplane/install.sh: $*" >&2; }

if [[ "${1:-}" == "--find" ]]; then
  for version in "${candidates[@]}"; do
    if [[ -x "$(binary_for "$version")" ]]; then
      binary_for "$version"
      exit 0
    fi
  done
  log "no installed Crossplane CLI under $cache_root (tried ${candidates[*]})"
  exit 1
fi

if ! command -v go >/dev/null 2>&1; then
  log "the Go toolchain is required to build the Crossplane CLI (go >= 1.25)"
  exit 1
fi

mkdir -p "$cache_root"
# One build at a time per cache (two test runs, or a CI job and a developer).
exec 9>"$cache_root/.install.lock"
if ! flock -n 9; then
  log "another install holds $cache_root/.install.lock; waiting for it"
  flock 9
fi

# The proxy may refuse `@v/list` for this module (403) even when it serves a tag. `go install
# module@version` reads that list to check for deprecations and then fails. Putting the local
# module cache first as a file:// proxy answers the list from what `go mod download` fetched;
# everything the cache lacks still comes from the configured proxy.
modcache="$(go env GOMODCACHE)"
goproxy="$(go env GOPROXY)"

install_version() {
  local version="$1"
  local bin_dir
  bin_dir="$(dirname "$(binary_for "$version")")"
  local partial="$bin_dir.partial"
  rm -rf "$partial"
  mkdir -p "$partial"
  log "building the Crossplane CLI $version from $pkg (a cold build takes several minutes)"
  local started=$SECONDS
  (cd "$partial" && GOPROXY="file://$modcache/cache/download,$goproxy" GOBIN="$partial" CGO_ENABLED=0 \
    go install -trimpath \
    -ldflags="-s -w -X $module/internal/version.version=$version" \
    "$pkg@$version")
  mkdir -p "$bin_dir"
  # Rename last, so an interrupted build never leaves a binary that looks installed.
  mv -f "$partial/crank" "$bin_dir/crossplane.tmp"
  mv -f "$bin_dir/crossplane.tmp" "$bin_dir/crossplane"
  rm -rf "$partial"
  log "built the Crossplane CLI $version in $((SECONDS - started))s"
}

for version in "${candidates[@]}"; do
  binary="$(binary_for "$version")"
  if [[ -x "$binary" ]]; then
    log "using the installed Crossplane CLI $version: $binary"
    echo "$binary"
    exit 0
  fi
  # A quick check that the proxy serves this tag before a long build.
  if ! error="$(cd "$cache_root" && go mod download -json "$module@$version" 2>&1)"; then
    log "$module@$version is not available here; trying an older tag"
    log "  $(echo "$error" | sed -n 's/.*"Error": "\(.*\)".*/\1/p' | sed 's/\\n.*//' | head -1)"
    continue
  fi
  install_version "$version"
  log "using the Crossplane CLI $version: $binary"
  "$binary" version --client >&2 || true
  echo "$binary"
  exit 0
done

log "could not install the Crossplane CLI: none of ${candidates[*]} is available from $goproxy"
exit 1
