#!/usr/bin/env bash
# Builds the Go composition functions pgplane is compared with, from the Go module proxy,
# at pinned versions (no Docker, no release downloads).
#
#   bench/peers/install.sh              build what is missing, print "name<TAB>binary" per peer
#   bench/peers/install.sh --print      print "name<TAB>binary" only (no build)
#
# Binaries land in ${PGPLANE_TOOLS_CACHE:-$HOME/.cache/pgplane-tools}/peers/<name>-<version>/bin,
# outside the repository, and are reused when present. A cold build takes a few minutes on
# 2 cores. The proxy refuses some versions (403 "This module version is not available"):
# the pins below are the newest tags it served when they were chosen (function-go-templating
# v0.12.4/v0.13.0 and function-patch-and-transform v0.10.10..v0.10.12, v0.11.x were refused).
set -euo pipefail

# name version module
PEERS=(
  "function-go-templating v0.12.3 github.com/crossplane-contrib/function-go-templating"
  "function-patch-and-transform v0.10.9 github.com/crossplane-contrib/function-patch-and-transform"
)

cache_root="${PGPLANE_TOOLS_CACHE:-$HOME/.cache/pgplane-tools}"
print_only=false
[[ "${1:-}" == "--print" ]] && print_only=true

for peer in "${PEERS[@]}"; do
  read -r name version module <<<"$peer"
  dir="$cache_root/peers/$name-$version"
  bin="$dir/bin/$name"
  if ! $print_only && [[ ! -x "$bin" ]]; then
    command -v go >/dev/null 2>&1 || { echo "install.sh: the Go toolchain is required" >&2; exit 1; }
    mkdir -p "$dir/bin"
    exec 9>"$dir/.install.lock"
    flock 9
    if [[ ! -x "$bin" ]]; then
      echo "install.sh: building $module@$version (this can take a few minutes)" >&2
      started=$SECONDS
      # `go install module@version` asks the proxy for the module's version list (deprecation
      # check), which it refuses; so download the pinned source and build it in a copy, with the
      # module's own go.mod/go.sum (the peer's pinned dependencies), like its Dockerfile does.
      src_dir="$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
      [[ -d "$src_dir" ]] || { echo "install.sh: cannot download $module@$version" >&2; exit 1; }
      rm -rf "$dir/src" && cp -r "$src_dir" "$dir/src" && chmod -R u+w "$dir/src"
      (cd "$dir/src" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -mod=readonly -o "$bin.tmp" .)
      mv "$bin.tmp" "$bin"
      echo "install.sh: built $name in $((SECONDS - started))s" >&2
    fi
    exec 9>&-
  fi
  printf '%s\t%s\n' "$name" "$bin"
done
