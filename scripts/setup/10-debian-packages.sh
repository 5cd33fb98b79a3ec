#!/usr/bin/env bash
# Installs the real backend servers the tests start (redis-server, PostgreSQL, nats-server), openssl
# (test certificates) and the benchmark's load generators (h2load, redis-benchmark) when missing.
set -euo pipefail
need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || need+=(nats-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || need+=(postgresql)
# openssl makes throwaway certificates for the TLS tests (@prism/testing makeTestCertificates).
command -v openssl >/dev/null || need+=(openssl)
# h2load (a C HTTP/2 load generator) drives `pnpm bench`'s throughput rows; its unit test runs it.
command -v h2load >/dev/null || need+=(nghttp2-client)
# redis-benchmark: the direct-Redis throughput row (Debian installs redis-tools with redis-server).
command -v redis-benchmark >/dev/null || need+=(redis-tools)
# clickhouse-server (Debian's 18.16): the ClickHouse adapter's tests start it (@prism/testing startClickHouse).
[ -x /usr/sbin/clickhouse-server ] || command -v clickhouse-server >/dev/null || need+=(clickhouse-server)
if [ ${#need[@]} -gt 0 ]; then
  echo "• installing ${need[*]} with apt-get"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
