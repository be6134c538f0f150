#!/usr/bin/env bash
# Builds the Go test peers (grpcurl, Jaeger, istioctl, …) into .tools/bin.
#
# Each tool is pinned by a small Go module under tools/<name>/ (its go.mod
# lists the tool with a `tool` directive; go.sum makes the build verified and
# repeatable). A tool whose module has not changed since it was last built is
# reused, so this is cheap to call before every test run.
#
# Usage: scripts/install-tools.sh [name ...]   (default: every tools/*/)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/.tools/bin"
mkdir -p "$bin"
# One build at a time: parallel test runs would otherwise build the same tool at once.
exec 9>"$bin/.lock"
flock 9

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for mod in tools/*/go.mod; do names+=("$(basename "$(dirname "$mod")")"); done
fi

for name in "${names[@]}"; do
  dir="tools/$name"
  [ -f "$dir/go.mod" ] || { echo "install-tools: no $dir/go.mod" >&2; exit 2; }
  stamp="$bin/.$name.stamp"
  want=$(cat "$dir/go.mod" "$dir/go.sum" | sha256sum | cut -d' ' -f1)
  packages=$(awk '/^tool \(/{block=1; next} block && /^\)/{block=0} block{print $1} /^tool [^(]/{print $2}' "$dir/go.mod")
  fresh=1
  [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] || fresh=0
  for pkg in $packages; do [ -x "$bin/$(basename "$pkg")" ] || fresh=0; done
  if [ "$fresh" = 1 ]; then continue; fi
  echo "install-tools: building $name ($(echo $packages | tr ' ' ','))" >&2
  start=$SECONDS
  # shellcheck disable=SC2086
  (cd "$dir" && go build -trimpath -o "$bin/" $packages)
  echo "$want" >"$stamp"
  echo "install-tools: $name built in $((SECONDS - start)) s" >&2
done
