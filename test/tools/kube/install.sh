#!/usr/bin/env bash
# Builds the kube-apiserver and etcd that the provider's end-to-end tests run against, and the
# kube-controller-manager the control-plane suite adds (garbage collection, ClusterRole
# aggregation, namespace deletion, service-account tokens),
# from the Go modules pinned in this folder's go.mod (no Docker, no release downloads:
# only the Go module proxy is needed).
#
#   test/tools/kube/install.sh              build what is missing, print the bin folder
#   test/tools/kube/install.sh --bin-dir    print the bin folder only (no build)
#
# Binaries land in ${PGPLANE_TOOLS_CACHE:-$HOME/.cache/pgplane-tools}/kube/<version>/bin,
# outside the repository, and are reused when present: a second run is a no-op, so CI on
# the same machine builds once. Measured on 2 cores: with empty Go module and build
# caches on a busy machine, 19 minutes (etcd 4.7, kube-apiserver 14.5); with the modules
# already downloaded and the machine idle, about 4.5 minutes (etcd 0.8, kube-apiserver 3.7).
# kube-controller-manager after kube-apiserver: 8 minutes, with two other Go builds beside it.
# test/support/kube-apiserver.ts computes the same folder; keep the two in step.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# The versions come from go.mod so that bumping a pin there moves the cache folder too.
mod_version() { awk -v m="$1" '$1 == m && $2 ~ /^v/ { print $2; exit }' "$here/go.mod"; }
k8s_version="$(mod_version k8s.io/kubernetes)"
etcd_version="$(mod_version go.etcd.io/etcd/server/v3)"
if [[ -z "$k8s_version" || -z "$etcd_version" ]]; then
  echo "install.sh: cannot read k8s.io/kubernetes / go.etcd.io/etcd/server/v3 versions from $here/go.mod" >&2
  exit 1
fi

cache_root="${PGPLANE_TOOLS_CACHE:-$HOME/.cache/pgplane-tools}"
bin_dir="$cache_root/kube/${k8s_version}-etcd-${etcd_version}/bin"

if [[ "${1:-}" == "--bin-dir" ]]; then
  echo "$bin_dir"
  exit 0
fi

mkdir -p "$bin_dir"

# One build at a time per cache folder (two test runs or a CI job and a developer).
exec 9>"$bin_dir/.install.lock"
if ! flock -n 9; then
  echo "install.sh: another build holds $bin_dir/.install.lock; waiting for it" >&2
  flock 9
fi

if ! command -v go >/dev/null 2>&1; then
  echo "install.sh: the Go toolchain is required (go.mod needs go >= 1.24)" >&2
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

k8s_minor="${k8s_version#v1.}"
k8s_minor="${k8s_minor%%.*}"
version_pkg=k8s.io/component-base/version
build etcd go.etcd.io/etcd/server/v3
version_flags="-X $version_pkg.gitVersion=$k8s_version -X $version_pkg.gitMajor=1 -X $version_pkg.gitMinor=$k8s_minor -X $version_pkg.gitTreeState=clean"
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$version_flags"
# Only the control-plane suite runs it; it shares most packages with kube-apiserver, so the
# Go build cache makes it much cheaper than the first.
build kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager "$version_flags"

"$bin_dir/etcd" --version >&2
"$bin_dir/kube-apiserver" --version >&2
"$bin_dir/kube-controller-manager" --version >&2
echo "$bin_dir"
