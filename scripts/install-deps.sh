#!/usr/bin/env bash
# Installs what the tests need when it is missing: the Debian packages listed in
# scripts/debian-packages.txt (with apt-get, as root) and the Go programs listed
# in scripts/go-tools.txt (into .tools/bin). Safe to run again: it does nothing
# when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
while read -r pkg _; do
  case "$pkg" in ''|'#'*) continue ;; esac
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done < scripts/debian-packages.txt

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "install-deps: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Debian starts the services it installs; the tests run their own servers.
    for svc in mariadb prometheus prometheus-alertmanager; do
      service "$svc" stop >/dev/null 2>&1 || true
    done
  else
    echo "install-deps: missing Debian packages: ${missing[*]}" >&2
    echo "install-deps: run as root, or install them yourself: sudo apt-get install ${missing[*]}" >&2
    echo "install-deps: tests that need them will skip (or fail with SQLSHADOW_REQUIRE_DB=1)." >&2
  fi
fi

mkdir -p .tools/bin
while read -r bin mod; do
  case "$bin" in ''|'#'*) continue ;; esac
  if [ ! -x ".tools/bin/$bin" ]; then
    echo "install-deps: go install $mod"
    GOBIN="$PWD/.tools/bin" GOWORK=off GOFLAGS=-mod=mod go install "$mod"
  fi
done < scripts/go-tools.txt
