# Shared by the dmkv scripts: finds (and on first use builds) the class path, and holds the
# JVM flags every dmkv JVM needs (lib/jvm-flags, kept in step with the pom's dmkv.jvm.flags).
# shellcheck shell=bash

DMKV_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DMKV_HOME="$(cd "$DMKV_SCRIPTS/.." && pwd)"
# The source tree, or an unpacked distribution (dmkv-VERSION/ with scripts/ and lib/). Exported so
# that JVMs started by dmkv (kv bench's client processes) find scripts/lib/jvm-flags.
export DMKV_HOME

dmkv_die() {
  echo "$(basename "$0"): $*" >&2
  exit 2
}

dmkv_java() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
    echo "$JAVA_HOME/bin/java"
  elif command -v java >/dev/null 2>&1; then
    command -v java
  else
    dmkv_die "no java found: install a JDK 17 (e.g. apt-get install openjdk-17-jdk) or set JAVA_HOME"
  fi
}

# Makes the JVM decode its arguments (keys and values of kv put/get/delete) as UTF-8: in another
# locale (C, POSIX) it would turn every non-ASCII byte into U+FFFD, which kv refuses.
dmkv_utf8_locale() {
  case "$(locale charmap 2>/dev/null)" in
    UTF-8|utf8) ;;
    *) export LC_ALL=C.UTF-8 ;;
  esac
}

dmkv_jvm_flags() {
  tr '\n' ' ' < "$DMKV_SCRIPTS/lib/jvm-flags"
}

# Prints the class path. In a source tree, builds the project first when the jars are missing
# or older than the sources (with "package", not "install", so nothing lands in ~/.m2); in an
# unpacked distribution, uses its lib/ folder.
dmkv_classpath() {
  if [ -d "$DMKV_HOME/lib" ] && ls "$DMKV_HOME"/lib/kv-bench-*.jar >/dev/null 2>&1; then
    echo "$DMKV_HOME/lib/*"
    return
  fi
  local jar
  jar=$(ls "$DMKV_HOME"/kv-bench/target/kv-bench-*.jar 2>/dev/null | grep -v -e '-tests.jar' | head -n 1)
  if [ -z "$jar" ] || [ ! -d "$DMKV_HOME/kv-bench/target/lib" ] \
     || [ -n "$(find "$DMKV_HOME" -path '*/src/main/*' -newer "$jar" -type f -print -quit 2>/dev/null)" ] \
     || [ -n "$(find "$DMKV_HOME" -maxdepth 2 -name pom.xml -newer "$jar" -print -quit 2>/dev/null)" ]; then
    command -v mvn >/dev/null 2>&1 || dmkv_die "building dmkv needs Maven 3.8+ (apt-get install maven)"
    echo "building dmkv (first run or sources changed; takes a minute)..." >&2
    (cd "$DMKV_HOME" && mvn -B -q -DskipTests package >&2) || dmkv_die "build failed; run 'mvn -B -DskipTests package' to see why"
    jar=$(ls "$DMKV_HOME"/kv-bench/target/kv-bench-*.jar | grep -v -e '-tests.jar' | head -n 1)
  fi
  echo "$jar:$DMKV_HOME/kv-bench/target/lib/*"
}
