#!/usr/bin/env bash
# Makes sure the PostgreSQL server binaries (initdb, postgres) are installed,
# for the tests that start their own private PostgreSQL (test/storage/).
# Installs Debian's postgresql package with apt when no
# /usr/lib/postgresql/<version>/bin/initdb exists; does nothing otherwise.
# Only the binaries are needed: the package's own cluster is not used, and
# not started.
#
# Usage: scripts/ci/install-postgres.sh   (as root, or with sudo available)
set -euo pipefail

found() { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; }

if found; then
  echo "install-postgres: found $(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n1)" >&2
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-postgres: run as root or install sudo" >&2; exit 2; }
  sudo=(sudo)
fi

echo "install-postgres: installing postgresql from the Debian packages" >&2
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d exit 101 tells the package scripts not to start services:
# there is no init system here, and the tests start their own server.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod +x "$policy"
  created_policy=1
fi
trap '[ "$created_policy" = 1 ] && "${sudo[@]}" rm -f "$policy"' EXIT

"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends postgresql >/dev/null

found || { echo "install-postgres: postgresql installed but no initdb found" >&2; exit 1; }
echo "install-postgres: installed $(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n1)" >&2
