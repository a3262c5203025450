//! smol: an `Executor` driven by `workers` threads (smol's global executor
//! would run on one thread unless `SMOL_THREADS` is set; an explicit executor
//! gives the same worker count as the other runtimes).

use super::AsyncRuntime;
use smol::Executor;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub struct SmolRuntime {
    ex: Arc<Executor<'static>>,
}

impl SmolRuntime {
    pub fn start(workers: usize) -> anyhow::Result<Self> {
        let ex = Arc::new(Executor::new());
        for i in 0..workers {
            let ex = ex.clone();
            std::thread::Builder::new()
                .name(format!("smol-{i}"))
                .spawn(move || smol::block_on(ex.run(std::future::pending::<()>())))?;
        }
        Ok(SmolRuntime { ex })
    }
}

impl AsyncRuntime for SmolRuntime {
    fn spawn<F: Future<Output = ()> + Send + 'static>(&self, fut: F) {
        self.ex.spawn(fut).detach();
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
