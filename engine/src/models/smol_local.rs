//! smol's `LocalExecutor`: one event loop on one thread. It is `!Send`, so
//! requests reach it through a channel that a task on the loop drains.

use super::AsyncRuntime;
use futures_lite::future::Boxed;
use smol::LocalExecutor;
use std::future::Future;
use std::time::Duration;

pub struct SmolLocal {
    tx: async_channel::Sender<Boxed<()>>,
}

impl SmolLocal {
    pub fn start() -> anyhow::Result<Self> {
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
        Ok(SmolLocal { tx })
    }
}

impl AsyncRuntime for SmolLocal {
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, fut: F) {
        // Unbounded: only fails if the loop thread died, and then the request
        // is dropped, which reports it as an error.
        let _ = self.tx.try_send(Box::pin(fut));
    }

    type Tcp = smol_hyper::rt::FuturesIo<smol::net::TcpStream>;

    async fn connect(addr: std::net::SocketAddr) -> std::io::Result<Self::Tcp> {
        let s = smol::net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(smol_hyper::rt::FuturesIo::new(s))
    }

    fn sleep(d: Duration) -> impl Future<Output = ()> + Send {
        async move {
            smol::Timer::after(d).await;
        }
    }

    fn unblock<T: Send + 'static>(
        f: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = T> + Send {
        smol::unblock(f)
    }
}
