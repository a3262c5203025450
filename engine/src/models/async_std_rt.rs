//! async-std, the legacy column: discontinued upstream (RUSTSEC-2025-0052),
//! kept because the comparison asks for it. Its thread count is read once per
//! process from `ASYNC_STD_THREAD_COUNT`, which is why every cell runs in its
//! own process.

use crate::runtime::AsyncRuntime;
use std::future::Future;
use std::time::Duration;

pub struct AsyncStd;

impl AsyncStd {
    pub fn start(workers: usize) -> anyhow::Result<Self> {
        match std::env::var("ASYNC_STD_THREAD_COUNT") {
            Ok(v) if v.parse::<usize>().ok() == Some(workers) => Ok(AsyncStd),
            other => anyhow::bail!(
                "async-std reads its thread count from ASYNC_STD_THREAD_COUNT at start-up; \
                 it must be {workers} for this cell, found {other:?}"
            ),
        }
    }
}

impl AsyncRuntime for AsyncStd {
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, fut: F) {
        drop(async_std::task::spawn(fut));
    }

    type Tcp = smol_hyper::rt::FuturesIo<async_std::net::TcpStream>;

    async fn connect(addr: std::net::SocketAddr) -> std::io::Result<Self::Tcp> {
        let s = async_std::net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(smol_hyper::rt::FuturesIo::new(s))
    }

    type Listener = async_std::net::TcpListener;

    fn listener(l: std::net::TcpListener) -> std::io::Result<Self::Listener> {
        l.set_nonblocking(true)?;
        Ok(async_std::net::TcpListener::from(l))
    }

    async fn accept(l: &Self::Listener) -> std::io::Result<Self::Tcp> {
        let (s, _) = l.accept().await?;
        s.set_nodelay(true)?;
        Ok(smol_hyper::rt::FuturesIo::new(s))
    }

    fn sleep(d: Duration) -> impl Future<Output = ()> + Send {
        async_std::task::sleep(d)
    }

    fn unblock<T: Send + 'static>(
        f: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = T> + Send {
        async_std::task::spawn_blocking(f)
    }
}
