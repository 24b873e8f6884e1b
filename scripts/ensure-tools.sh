#!/usr/bin/env bash
# Makes sure the tools some tests check the project's documents with are here, installing
# the missing ones from Debian's packages and the npm registry:
#   chromium   renders /api/docs headless (tests/integration/test_api_docs_page.py)
#   promtool   checks the Prometheus alert rules (Debian's prometheus package)
#   node, npm  run the official AsyncAPI parser on docs/asyncapi.json (scripts/asyncapi)
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
apt_updated=""

install_package() { # command package
  if command -v "$1" >/dev/null; then return 0; fi
  echo "tools: installing $2 from the OS packages"
  if [ -z "$apt_updated" ]; then $SUDO apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$2" >/dev/null
}

install_package chromium chromium
install_package promtool prometheus
install_package node nodejs
install_package npm npm

# The parser, at the versions package-lock.json pins; again only when the lock changed.
parser=scripts/asyncapi
if ! cmp -s "$parser/package-lock.json" "$parser/node_modules/.package-lock.json.installed" 2>/dev/null; then
  echo "tools: installing the AsyncAPI parser (npm ci)"
  (cd "$parser" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  cp "$parser/package-lock.json" "$parser/node_modules/.package-lock.json.installed"
fi
