#!/usr/bin/env bash
# S3 test dependencies: a JRE and Maven (Debian), and the S3Proxy jars with the jclouds filesystem backend
# (Maven Central, via scripts/s3proxy/pom.xml), cached in
# ${PRISM_S3PROXY_HOME:-~/.cache/prism}/s3proxy-<version>/libs and only fetched when missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
. "$root/scripts/lib/maven-jars.sh"
maven_jars s3proxy "$root/scripts/s3proxy/pom.xml" s3proxy.version PRISM_S3PROXY_HOME 's3proxy-{v}.jar'
