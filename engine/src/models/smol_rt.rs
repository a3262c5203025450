//! smol, both flavours: an `Executor` driven by `workers` threads (`smol`;
//! smol's global executor would run on one thread unless `SMOL_THREADS` is
//! set, so an explicit executor gives the same worker count as the other
//! runtimes) and one `LocalExecutor` on one thread (`smol-local`).

use crate::runtime::AsyncRuntime;
use futures_lite::future::Boxed;
use smol::{Executor, LocalExecutor};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

enum Spawner {
    Shared(Arc<Executor<'static>>),
    /// The `LocalExecutor` is `!Send`: requests reach it through a channel
    /// that a task on the loop drains.
    Local(async_channel::Sender<Boxed<()>>),
}

pub struct SmolRuntime {
    spawner: Spawner,
}

impl SmolRuntime {
    pub fn multi_thread(workers: usize) -> anyhow::Result<Self> {
        let ex = Arc::new(Executor::new());
        for i in 0..workers {
            let ex = ex.clone();
            std::thread::Builder::new()
                .name(format!("smol-{i}"))
                .spawn(move || smol::block_on(ex.run(std::future::pending::<()>())))?;
        }
        Ok(SmolRuntime {
            spawner: Spawner::Shared(ex),
        })
    }

    pub fn local() -> anyhow::Result<Self> {
        let (tx, rx) = async_channel::unbounded::<Boxed<()>>();
        std::thread::Builder::new()
            .name("smol-local".into())
            .spawn(move || {
                let ex = LocalExecutor::new();
                smol::block_on(ex.run(async {
                    while let Ok(fut) = rx.recv().await {
                        ex.spawn(fut).detach();
                    }
                }))
            })?;
        Ok(SmolRuntime {
            spawner: Spawner::Local(tx),
        })
    }
}

impl AsyncRuntime for SmolRuntime {
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, fut: F) {
        match &self.spawner {
            Spawner::Shared(ex) => ex.spawn(fut).detach(),
            // Unbounded: fails only if the loop thread died, and then the
            // request is dropped, which reports it as an error.
            Spawner::Local(tx) => drop(tx.try_send(Box::pin(fut))),
        }
    }

    type Tcp = smol_hyper::rt::FuturesIo<smol::net::TcpStream>;

    async fn connect(addr: std::net::SocketAddr) -> std::io::Result<Self::Tcp> {
        let s = smol::net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(smol_hyper::rt::FuturesIo::new(s))
    }

    type Listener = smol::net::TcpListener;

    fn listener(l: std::net::TcpListener) -> std::io::Result<Self::Listener> {
        smol::net::TcpListener::try_from(l)
    }

    async fn accept(l: &Self::Listener) -> std::io::Result<Self::Tcp> {
        let (s, _) = l.accept().await?;
        s.set_nodelay(true)?;
        Ok(smol_hyper::rt::FuturesIo::new(s))
    }

    async fn sleep(d: Duration) {
        smol::Timer::after(d).await;
    }

    fn unblock<T: Send + 'static>(
        f: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = T> + Send {
        smol::unblock(f)
    }
}
