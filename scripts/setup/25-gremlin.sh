#!/usr/bin/env bash
# Gremlin test dependencies: a JRE and Maven (Debian), and the Apache TinkerPop Gremlin Server + TinkerGraph
# jars (Maven Central, via scripts/gremlin/pom.xml), cached in
# ${PRISM_GREMLIN_HOME:-~/.cache/prism}/gremlin-server-<version>/libs and only fetched when missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"

need=()
command -v java >/dev/null || need+=(default-jre-headless)
command -v mvn >/dev/null || need+=(maven)
if [ ${#need[@]} -gt 0 ]; then
  echo "• installing ${need[*]} with apt-get"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi

pom="$root/scripts/gremlin/pom.xml"
version="$(sed -n 's:.*<tinkerpop.version>\(.*\)</tinkerpop.version>.*:\1:p' "$pom")"
dest="${PRISM_GREMLIN_HOME:-$HOME/.cache/prism}/gremlin-server-$version"
if [ -f "$dest/libs/.complete" ]; then
  exit 0
fi
echo "• fetching Apache TinkerPop Gremlin Server $version jars with Maven into $dest/libs"
mkdir -p "$dest"
tmp="$(mktemp -d "$dest/libs.XXXXXX")"
mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp"
ls "$tmp"/gremlin-server-"$version".jar "$tmp"/tinkergraph-gremlin-"$version".jar >/dev/null
touch "$tmp/.complete"
rm -rf "$dest/libs"
mv "$tmp" "$dest/libs"
