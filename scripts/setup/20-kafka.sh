#!/usr/bin/env bash
# Kafka test dependencies: a JRE and Maven (Debian), and the Apache Kafka 4.x broker jars (Maven Central,
# via scripts/kafka/pom.xml), cached in ${PRISM_KAFKA_HOME:-~/.cache/prism}/kafka-<version>/libs and only
# fetched when missing. (The client's -dev libraries: 05-native-build-deps.sh.)
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

pom="$root/scripts/kafka/pom.xml"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")"
dest="${PRISM_KAFKA_HOME:-$HOME/.cache/prism}/kafka-$version"
if [ -f "$dest/libs/.complete" ]; then
  exit 0
fi
echo "• fetching Apache Kafka $version broker jars with Maven into $dest/libs"
mkdir -p "$dest"
tmp="$(mktemp -d "$dest/libs.XXXXXX")"
mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp"
ls "$tmp"/kafka_2.13-"$version".jar >/dev/null
touch "$tmp/.complete"
rm -rf "$dest/libs"
mv "$tmp" "$dest/libs"
