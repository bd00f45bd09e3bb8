#!/usr/bin/env bash
# Runs the README's test command (`npm test`) as a machine with only Node and npm sees it: Debian's python modules,
# libonnx-testdata, the datasets, chromium and the fetched PaddleOCR models are hidden by bind mounts in a private
# mount namespace (nothing changes outside it). Every test needing one of them must skip, none may fail, and the run
# ends with the list of missing oracles. Needs root, or unprivileged user namespaces (`unshare -r`).
#   bash test/support/run-without-oracles.sh [vitest args...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

if [ -z "${CPRUNE_ORACLES_HIDDEN:-}" ]; then
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(--map-root-user)
  exec unshare --mount --propagation private "${as_root[@]}" env CPRUNE_ORACLES_HIDDEN=1 bash "$0" "$@"
fi

empty_dir=$(mktemp -d)
empty_file=$(mktemp)
trap 'rm -rf "$empty_dir" "$empty_file"' EXIT
# python3-numpy also installs into /usr/lib/python3.<minor>/dist-packages: hide every dist-packages of the system.
for d in /usr/lib/python3/dist-packages /usr/lib/python3.*/dist-packages /usr/share/libonnx-testdata /usr/share/datasets fixtures/.cache; do
  if [ -d "$d" ]; then mount --bind "$empty_dir" "$d"; fi
done
if [ -e /usr/bin/chromium ]; then mount --bind "$empty_file" /usr/bin/chromium; fi
npm test -- "$@"
