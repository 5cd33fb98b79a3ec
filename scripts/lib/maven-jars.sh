# Sourced by scripts/setup/*.sh: fetches a Java server's runtime jars from Maven Central once.
#   maven_jars NAME POM VERSION_PROPERTY ENV_HOME JAR...
# installs a JRE and Maven with apt-get when missing, reads the version from <VERSION_PROPERTY> in POM and
# copies the runtime dependencies into ${ENV_HOME:-~/.cache/prism}/NAME-<version>/libs (a .complete marker
# makes later runs free). Each JAR (a file name with {v} for the version) must be among them.
maven_jars() {
  local name="$1" pom="$2" prop="$3" home_var="$4"
  shift 4
  local need=()
  command -v java >/dev/null || need+=(default-jre-headless)
  command -v mvn >/dev/null || need+=(maven)
  if [ ${#need[@]} -gt 0 ]; then
    echo "• installing ${need[*]} with apt-get"
    local SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
  fi
  local version dest tmp jar
  version="$(sed -n "s:.*<$prop>\(.*\)</$prop>.*:\1:p" "$pom")"
  dest="${!home_var:-$HOME/.cache/prism}/$name-$version"
  [ -f "$dest/libs/.complete" ] && return 0
  echo "• fetching $name $version jars with Maven into $dest/libs"
  mkdir -p "$dest"
  tmp="$(mktemp -d "$dest/libs.XXXXXX")"
  mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp"
  for jar in "$@"; do ls "$tmp/${jar//\{v\}/$version}" >/dev/null; done
  touch "$tmp/.complete"
  rm -rf "$dest/libs"
  mv "$tmp" "$dest/libs"
}
