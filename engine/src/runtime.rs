//! The runtime an async model runs on, as the request path and the
//! non-blocking drivers (HTTP, PostgreSQL) see it. It sits below the models
//! and the drivers, so both import it and neither imports the other.

use std::future::Future;
use std::time::Duration;

/// What the shared request path needs from a runtime. One implementation per
/// runtime; adding a runtime is one file and an arm in `models::build`.
pub trait AsyncRuntime: Send + Sync + 'static {
    /// Spawns a detached task. Called from the load generator's thread, which
    /// is never one of the runtime's threads.
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, fut: F);

    /// The runtime's own timer.
    fn sleep(d: Duration) -> impl Future<Output = ()> + Send;

    /// The runtime's own TCP stream, as hyper's I/O traits want it.
    type Tcp: hyper::rt::Read + hyper::rt::Write + Send + Unpin + 'static;

    /// Connects with the runtime's own reactor (no hidden runtime thread).
    fn connect(
        addr: std::net::SocketAddr,
    ) -> impl Future<Output = std::io::Result<Self::Tcp>> + Send;

    /// The runtime's own listening socket (the HTTP transport's server side).
    type Listener: Send + Sync + 'static;

    /// Registers a bound, listening std socket with the runtime's reactor.
    /// Called on one of the runtime's own threads (tokio needs its context).
    fn listener(l: std::net::TcpListener) -> std::io::Result<Self::Listener>;

    /// Accepts one connection with the runtime's own reactor.
    fn accept<'a>(
        l: &'a Self::Listener,
    ) -> impl Future<Output = std::io::Result<Self::Tcp>> + Send + 'a;

    /// Runs `f` on the runtime's blocking pool.
    fn unblock<T: Send + 'static>(
        f: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = T> + Send;
}
