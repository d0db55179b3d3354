#!/usr/bin/env bash
# Builds eso-template (main.go here): External Secrets' template engine v2 as ESO runs it (Go
# text/template with sprig's text functions), so the conformance suite can render pgplane's
# composed ExternalSecret templates for real. Only the Go module proxy is needed.
#
#   test/tools/eso-template/install.sh              build what is missing, print the binary's path
#
# The binary lands in ${PGPLANE_TOOLS_CACHE:-$HOME/.cache/pgplane-tools}/eso-template/<sprig>-<hash>/,
# outside the repository, keyed by the sprig version and this folder's sources, and is reused when
# present. A cold build takes about 15 s.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sprig_version="$(awk '($1 == "github.com/Masterminds/sprig/v3" && $2 ~ /^v/) { print $2; exit } ($1 == "require" && $2 == "github.com/Masterminds/sprig/v3") { print $3; exit }' "$here/go.mod")"
if [[ -z "$sprig_version" ]]; then
  echo "install.sh: cannot read the sprig version from $here/go.mod" >&2
  exit 1
fi
sources_hash="$(cat "$here/go.mod" "$here/go.sum" "$here/main.go" | sha256sum | cut -c1-12)"
bin_dir="${PGPLANE_TOOLS_CACHE:-$HOME/.cache/pgplane-tools}/eso-template/${sprig_version}-${sources_hash}"
out="$bin_dir/eso-template"
mkdir -p "$bin_dir"

exec 9>"$bin_dir/.install.lock"
flock 9

if [[ ! -x "$out" ]]; then
  if ! command -v go >/dev/null 2>&1; then
    echo "install.sh: the Go toolchain is required (go.mod needs go >= 1.24)" >&2
    exit 1
  fi
  echo "install.sh: building eso-template with sprig $sprig_version" >&2
  (cd "$here" && CGO_ENABLED=0 go build -mod=readonly -trimpath -ldflags="-s -w" -o "$out.partial" .)
  mv -f "$out.partial" "$out"
fi
echo "$out"
