#!/usr/bin/env bash
# Install the system packages the test suite needs, but only when missing:
#   redis-server, PostgreSQL server binaries, chromium, fonts-noto-cjk, coturn
#   (a real TURN server, to check the TURN credentials fairserver mints).
# Safe to run repeatedly; does nothing (and needs no network) when all present.
set -euo pipefail

missing=()

command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 \
    || missing+=(redis-server)

# shellcheck disable=SC2012
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
    || ! ls /usr/share/postgresql/*/extension/pg_trgm.control >/dev/null 2>&1; then
    missing+=(postgresql)
fi

command -v chromium >/dev/null 2>&1 || missing+=(chromium)

command -v turnserver >/dev/null 2>&1 || missing+=(coturn)

if [ "$(dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null || true)" != "install ok installed" ]; then
    missing+=(fonts-noto-cjk)
fi

if [ ${#missing[@]} -eq 0 ]; then
    echo "ensure-system: redis-server, postgresql, chromium, fonts-noto-cjk, coturn already present"
    exit 0
fi

echo "ensure-system: installing ${missing[*]}"

if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
else
    echo "ensure-system: need root (or sudo) to apt-get install: ${missing[*]}" >&2
    exit 1
fi

# Keep apt from starting the packaged services (a system postgres on :5432,
# a system redis on :6379): the tests start their own throwaway instances.
# Only add a policy-rc.d when there is none, and remove it afterwards.
policy=/usr/sbin/policy-rc.d
added_policy=0
cleanup() {
    if [ "$added_policy" -eq 1 ]; then
        "${sudo[@]}" rm -f "$policy"
    fi
}
trap cleanup EXIT
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod 755 "$policy"
    added_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
echo "ensure-system: done"
