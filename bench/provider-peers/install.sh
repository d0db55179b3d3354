#!/usr/bin/env bash
# Builds crossplane-contrib/provider-sql, the provider pgplane's grants provider is compared with,
# from the Go module proxy at a pinned version (no Docker, no release downloads).
#
#   bench/provider-peers/install.sh           build what is missing, print "binary<TAB>crd-dir"
#   bench/provider-peers/install.sh --print   print "binary<TAB>crd-dir" only (no build)
#
# The binary lands in ${PGPLANE_TOOLS_CACHE:-$HOME/.cache/pgplane-tools}/peers/provider-sql-<version>,
# outside the repository, and is reused when present. The proxy refuses @latest and v0.14/v0.15
# (403 "This module version is not available"), so the version is pinned.
set -euo pipefail

version=v0.16.0
module=github.com/crossplane-contrib/provider-sql

cache_root="${PGPLANE_TOOLS_CACHE:-$HOME/.cache/pgplane-tools}"
dir="$cache_root/peers/provider-sql-$version"
bin="$dir/bin/provider-sql"

if [[ "${1:-}" != "--print" && ! -x "$bin" ]]; then
  command -v go >/dev/null 2>&1 || { echo "install.sh: the Go toolchain is required" >&2; exit 1; }
  mkdir -p "$dir/bin"
  exec 9>"$dir/.install.lock"
  flock 9
  if [[ ! -x "$bin" ]]; then
    echo "install.sh: building $module@$version (a cold build takes several minutes)" >&2
    started=$SECONDS
    # `go install module@version` asks the proxy for the version list, which it refuses; so
    # download the pinned source and build it in a copy with its own go.mod/go.sum.
    src_dir="$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    [[ -d "$src_dir" ]] || { echo "install.sh: cannot download $module@$version" >&2; exit 1; }
    rm -rf "$dir/src" && cp -r "$src_dir" "$dir/src" && chmod -R u+w "$dir/src"
    (cd "$dir/src" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -mod=readonly -o "$bin.tmp" ./cmd/provider)
    mv "$bin.tmp" "$bin"
    echo "install.sh: built provider-sql $version in $((SECONDS - started))s" >&2
  fi
  exec 9>&-
fi
printf '%s\t%s\n' "$bin" "$dir/src/package/crds"
