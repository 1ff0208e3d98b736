#!/usr/bin/env bash
# The system packages the tests need, from Debian/Ubuntu's own repositories:
#   Java 17 (Spark 3.5), PostgreSQL (the relational sources' server), Chromium (the report, checked in a
#   real headless browser). As root, missing ones are installed with apt-get; otherwise the one command
#   that installs them is printed and the set-up stops: nothing is skipped silently.
set -euo pipefail

need=()
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -n "${MEDALLION_CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
  || command -v google-chrome >/dev/null 2>&1 || need+=(chromium)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  echo "installing system packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "missing system packages: ${need[*]}" >&2
  echo "install them with:  sudo apt-get install -y --no-install-recommends ${need[*]}" >&2
  echo "(or run 'make test' as root, which installs them)" >&2
  exit 1
fi
