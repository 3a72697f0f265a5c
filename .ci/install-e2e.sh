#!/usr/bin/env bash
# Installs what the e2e tier (test/e2e) needs; safe to run again (does only what is missing):
#  - Debian packages: Chromium (driven by playwright-core) and the toolchain + Kerberos headers
#    that code-server's native modules build with (see shared E2E.md);
#    plus prometheus, which test/process/prometheus.test.ts runs against a gateway;
#  - Node 24 + code-server into the git-ignored cache test/e2e/cache (test/e2e/harness/setup.mjs;
#    about 150 s the first time, instant when the cache holds the pinned versions).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

packages=(chromium build-essential python3 pkg-config libkrb5-dev prometheus)
missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if ! command -v chromium >/dev/null 2>&1 && [[ ! " ${missing[*]} " == *" chromium "* ]]; then
  missing+=(chromium)
fi

if ((${#missing[@]})); then
  sudo=()
  if [[ $(id -u) != 0 ]]; then sudo=(sudo); fi
  echo "== e2e: apt-get install ${missing[*]}"
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q "${missing[@]}"
else
  echo "== e2e: Debian packages present (${packages[*]})"
fi

echo "== e2e: Node 24 + code-server cache"
node test/e2e/harness/setup.mjs
echo "== e2e: install done in $((SECONDS - start)) s"
