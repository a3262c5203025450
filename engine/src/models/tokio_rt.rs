//! tokio, both flavours: the multi-thread runtime on `workers` threads
//! (`tokio`) and the current_thread runtime, one event loop on one thread
//! (`tokio-current`). Requests are spawned through the runtime's handle from
//! the load generator's thread.

use crate::runtime::AsyncRuntime;
use std::future::Future;
use std::time::Duration;

pub struct TokioRuntime {
    handle: tokio::runtime::Handle,
    /// The multi-thread runtime lives here; a current_thread runtime lives
    /// on its own thread, inside `block_on`.
    _owner: Option<tokio::runtime::Runtime>,
}

impl TokioRuntime {
    pub fn multi_thread(workers: usize) -> anyhow::Result<Self> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()?;
        Ok(TokioRuntime {
            handle: rt.handle().clone(),
            _owner: Some(rt),
        })
    }

    pub fn current_thread() -> anyhow::Result<Self> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = rt.handle().clone();
        std::thread::Builder::new()
            .name("tokio-current".into())
            // The loop runs until the process ends; the cell exits after its window.
            .spawn(move || rt.block_on(std::future::pending::<()>()))?;
        Ok(TokioRuntime {
            handle,
            _owner: None,
        })
    }
}

impl AsyncRuntime for TokioRuntime {
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, fut: F) {
        drop(self.handle.spawn(fut));
    }

    type Tcp = hyper_util::rt::TokioIo<tokio::net::TcpStream>;

    async fn connect(addr: std::net::SocketAddr) -> std::io::Result<Self::Tcp> {
        let s = tokio::net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(hyper_util::rt::TokioIo::new(s))
    }

    type Listener = tokio::net::TcpListener;

    fn listener(l: std::net::TcpListener) -> std::io::Result<Self::Listener> {
        l.set_nonblocking(true)?;
        tokio::net::TcpListener::from_std(l)
    }

    async fn accept(l: &Self::Listener) -> std::io::Result<Self::Tcp> {
        let (s, _) = l.accept().await?;
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
