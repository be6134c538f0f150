#!/usr/bin/env bash
# Fetches an official Node.js build of a given version into .tools/node/<version>
# (reused when present) and prints its folder: bin/node, and include/node with
# the headers node-gyp needs. The builds come from the npm registry's
# node-linux-<arch> packages, the one source of Node binaries our machines
# reach. The production-install test uses it to run the Dockerfile's Node.
#
# Usage: scripts/install-node.sh 24.21.0
set -euo pipefail
version=${1:?usage: install-node.sh <version>}
cd "$(dirname "$0")/.."
home="$PWD/.tools/node/$version"
if [ ! -x "$home/bin/node" ]; then
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "install-node: no build for $(uname -m)" >&2; exit 2 ;;
  esac
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "node-linux-$arch@$version" >/dev/null && tar xzf ./*.tgz)
  mkdir -p "$(dirname "$home")"
  rm -rf "$home"
  mv "$work/package" "$home"
fi
"$home/bin/node" --version >/dev/null
echo "$home"
