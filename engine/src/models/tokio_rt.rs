//! tokio's multi-thread runtime on `workers` threads.

use super::AsyncRuntime;
use std::future::Future;
use std::time::Duration;

pub struct TokioRuntime {
    rt: tokio::runtime::Runtime,
}

impl TokioRuntime {
    pub fn start(workers: usize) -> anyhow::Result<Self> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()?;
        Ok(TokioRuntime { rt })
    }
}

impl AsyncRuntime for TokioRuntime {
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, fut: F) {
        drop(self.rt.spawn(fut));
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
