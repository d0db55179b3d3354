#!/usr/bin/env bash
# Builds the control-plane tools the control-plane end-to-end suite runs, from the Go modules
# pinned in this folder's go.mod (no Docker, no release downloads: only the Go module proxy):
#   crossplane  Crossplane core (`core init`, `core start`, `rbac start`), stamped with its version
#   registry    ./registry: go-containerregistry's in-memory OCI registry, over TLS
# and copies Crossplane's own CRDs and Helm chart templates (its ClusterRoles) next to them.
#
#   test/tools/control-plane/install.sh             build what is missing, print the root folder
#   test/tools/control-plane/install.sh --root-dir  print the root folder only (no build)
#
# Everything lands in ${PGPLANE_TOOLS_CACHE:-$HOME/.cache/pgplane-tools}/control-plane/<versions>/,
# outside the repository, and is reused when present: a second run is a no-op. Layout:
#   bin/crossplane  bin/registry  crds/*.yaml  chart-templates/*.yaml
# Measured on 2 cores with empty Go module and build caches, while kube-controller-manager and
# the Crossplane CLI built beside it: 14.5 minutes for crossplane, seconds for the registry.
# test/support/control-plane-tools.ts runs this script and reads the folder from its last line.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# The versions come from go.mod so that bumping a pin there moves the cache folder too; the
# registry's own source is hashed in, so editing registry/main.go rebuilds it.
# (A single-line `require m v` counts too.)
mod_version() {
  awk -v m="$1" '$1 == "require" { $1 = ""; $0 = $0 } $1 == m && $2 ~ /^v/ { print $2; exit }' "$here/go.mod"
}
crossplane_version="$(mod_version github.com/crossplane/crossplane/v2)"
ggcr_version="$(mod_version github.com/google/go-containerregistry)"
if [[ -z "$crossplane_version" || -z "$ggcr_version" ]]; then
  echo "install.sh: cannot read github.com/crossplane/crossplane/v2 / github.com/google/go-containerregistry versions from $here/go.mod" >&2
  exit 1
fi
registry_hash="$(sha256sum "$here/registry/main.go" | cut -c1-12)"

cache_root="${PGPLANE_TOOLS_CACHE:-$HOME/.cache/pgplane-tools}"
root_dir="$cache_root/control-plane/crossplane-${crossplane_version}-ggcr-${ggcr_version}-registry-${registry_hash}"
bin_dir="$root_dir/bin"

if [[ "${1:-}" == "--root-dir" ]]; then
  echo "$root_dir"
  exit 0
fi

mkdir -p "$bin_dir"

# One build at a time per cache folder (two test runs or a CI job and a developer).
exec 9>"$root_dir/.install.lock"
if ! flock -n 9; then
  echo "install.sh: another build holds $root_dir/.install.lock; waiting for it" >&2
  flock 9
fi

if ! command -v go >/dev/null 2>&1; then
  echo "install.sh: the Go toolchain is required (go.mod needs go >= 1.25)" >&2
  exit 1
fi

# build <output name> <package> [extra ldflags]: writes to a temporary name and renames,
# so a build that is interrupted never leaves a binary that looks installed.
build() {
  local name="$1" pkg="$2" extra="${3:-}"
  local out="$bin_dir/$name"
  if [[ -x "$out" ]]; then
    echo "install.sh: $name present: $out" >&2
    return 0
  fi
  echo "install.sh: building $name from $pkg (this can take many minutes)" >&2
  local started=$SECONDS
  (cd "$here" && CGO_ENABLED=0 go build -mod=readonly -trimpath \
    -ldflags="-s -w $extra" -o "$out.partial" "$pkg")
  mv -f "$out.partial" "$out"
  echo "install.sh: built $name in $((SECONDS - started))s: $out" >&2
}

# copy_dir <module-relative folder> <target>: the module's files as released, read-only in
# the module cache, copied (to a temporary name, then renamed) so the tests need no Go.
copy_dir() {
  local from="$1" to="$root_dir/$2"
  if [[ -d "$to" ]]; then
    return 0
  fi
  local module_dir
  module_dir="$(cd "$here" && go list -mod=readonly -m -f '{{.Dir}}' github.com/crossplane/crossplane/v2)"
  rm -rf "$to.partial"
  mkdir -p "$to.partial"
  cp "$module_dir/$from"/*.yaml "$to.partial/"
  chmod u+w "$to.partial"/*.yaml
  mv "$to.partial" "$to"
}

# Packages refuse to install on a Crossplane whose version is not stamped ("incompatible
# Crossplane version"): the version lives in crossplane-runtime's version package.
build crossplane github.com/crossplane/crossplane/v2/cmd/crossplane \
  "-X github.com/crossplane/crossplane-runtime/v2/pkg/version.version=$crossplane_version"
build registry ./registry
copy_dir cluster/crds crds
copy_dir cluster/charts/crossplane/templates chart-templates

"$bin_dir/crossplane" --version >&2
echo "$root_dir"
