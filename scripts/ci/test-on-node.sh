#!/usr/bin/env bash
# Runs the whole test suite on another Node.js version: the container images
# run Node 24 (see the Dockerfile) and Node 22 is still supported, while our
# machines' own Node is 20. Works on a copy of the checkout's tracked files
# with its own node_modules, built by that Node (better-sqlite3 is a native
# addon), and reuses the built Go tools.
#
# Runs every vitest project but `install` (the production install already
# runs on the image's Node) and `mesh` (once per CI run is enough).
#
# Usage: scripts/ci/test-on-node.sh 24.21.0
set -euo pipefail
version=${1:?usage: test-on-node.sh <node version>}
repo=$(cd "$(dirname "$0")/../.." && pwd)
home=$("$repo/scripts/install-node.sh" "$version")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$repo" && git ls-files -z | xargs -0 cp --parents -t "$work")
ln -s "$repo/.tools" "$work/.tools"

cd "$work"
export PATH="$home/bin:$PATH" npm_config_nodedir="$home"
echo "test-on-node: $(node --version) in $work" >&2
npm ci --no-audit --no-fund
npm test -- --project unit --project e2e --project tracing --project storage --project k8s
