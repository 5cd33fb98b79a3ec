#!/usr/bin/env bash
# Installs openssl when missing: @prism/adapter-postgres's TLS test makes a throwaway CA and server certificate with it.
set -euo pipefail
if ! command -v openssl >/dev/null; then
  echo "• installing openssl with apt-get"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq openssl
fi
