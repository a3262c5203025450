//! A fixed pool of OS threads for CPU work, awaited from any runtime (the
//! `ThreadPoolExecutor` + `run_in_executor` of the hybrid model).

use crossbeam_channel::{unbounded, Sender};

type Task = Box<dyn FnOnce() + Send>;

pub struct WorkerPool {
    tx: Sender<Task>,
}

impl WorkerPool {
    pub fn start(threads: usize) -> Self {
        let (tx, rx) = unbounded::<Task>();
        for i in 0..threads {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("worker-pool-{i}"))
                .spawn(move || {
                    for task in rx {
                        task();
                    }
                })
                .expect("spawning a worker-pool thread");
        }
        WorkerPool { tx }
    }

    /// Runs `f` on a pool thread; `None` if the pool is gone. The oneshot
    /// from tokio's sync module is runtime-agnostic.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.tx
            .send(Box::new(move || {
                let _ = tx.send(f());
            }))
            .ok()?;
        rx.await.ok()
    }
}
