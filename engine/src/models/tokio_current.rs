//! tokio's current_thread runtime: one event loop on one thread. Requests are
//! spawned through its handle from the load generator's thread.

use super::AsyncRuntime;
use std::future::Future;
use std::time::Duration;

pub struct TokioCurrent {
    handle: tokio::runtime::Handle,
}

impl TokioCurrent {
    pub fn start() -> anyhow::Result<Self> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = rt.handle().clone();
        std::thread::Builder::new()
            .name("tokio-current".into())
            // The loop runs until the process ends; the cell exits after its window.
            .spawn(move || rt.block_on(std::future::pending::<()>()))?;
        Ok(TokioCurrent { handle })
    }
}

impl AsyncRuntime for TokioCurrent {
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, fut: F) {
        drop(self.handle.spawn(fut));
    }

    type Tcp = hyper_util::rt::TokioIo<tokio::net::TcpStream>;

    async fn connect(addr: std::net::SocketAddr) -> std::io::Result<Self::Tcp> {
        let s = tokio::net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(hyper_util::rt::TokioIo::new(s))
    }

    fn sleep(d: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(d)
    }

    async fn unblock<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        tokio::task::spawn_blocking(f)
            .await
            .expect("blocking task panicked")
    }
}
