#!/usr/bin/env bash
# Debian's Chromium for the browser tests (e2e/src/browser.test.ts, the console's tests), driven by
# playwright-core with executablePath /usr/bin/chromium. A no-op when it is installed.
set -euo pipefail
if ! command -v chromium >/dev/null; then
  echo "• installing chromium with apt-get"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
fi
