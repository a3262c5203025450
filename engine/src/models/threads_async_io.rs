//! A bounded pool whose threads hand the I/O to a non-blocking client: the
//! CompletableFuture + WebClient pattern. A pool thread runs the CPU part,
//! starts the I/O on one event-loop thread (tokio current_thread, like
//! WebClient's Netty loop) and is free again at once; when the I/O ends, the
//! continuation comes back to the pool, which finishes the request. Same
//! bounded accept queue as `threads`.

use super::accept_queue::AcceptQueue;
use super::tokio_rt::TokioRuntime;
use super::AsyncRuntime;
use crate::cell::{Cell, DbQuery, IoKind};
use crate::db::async_driver::AsyncDb;
use crate::http::pool::AsyncClient;
use crate::http::Target;
use crate::measure::LagRecorder;
use crate::server::{Job, Request, Server, Status};
use crossbeam_channel::{select, unbounded};
use std::sync::Arc;
use std::time::Duration;

/// A request whose I/O has ended, back for its pool thread.
struct Continuation {
    req: Request,
    cpu: Duration,
    io: Result<(), String>,
}

pub struct AsyncIoPoolServer {
    queue: AcceptQueue,
}

impl AsyncIoPoolServer {
    pub fn start(cell: &Cell, threads: usize, queue: usize, job: Job) -> anyhow::Result<Self> {
        let rt = Arc::new(TokioRuntime::current_thread()?);
        let http = match (cell.io, &cell.downstream) {
            (IoKind::Http, Some(addr)) => Some(Arc::new(AsyncClient::new(
                rt.clone(),
                Target {
                    addr: addr.clone(),
                    tag: crate::run::tag(cell),
                },
                Duration::from_millis(cell.timeout_ms),
            )?)),
            _ => None,
        };
        let db = if cell.uses_postgres() {
            Some(Arc::new(AsyncDb::open(
                rt.clone(),
                &crate::db::url_from_env()?,
                cell.db_pool.unwrap_or(crate::db::DEFAULT_POOL),
                cell.db_query.unwrap_or(DbQuery::Sleep),
                Duration::from_millis(cell.timeout_ms),
            )?))
        } else {
            None
        };
        let (accept, rx) = AcceptQueue::new(queue);
        let (done_tx, done_rx) = unbounded::<Continuation>();
        for i in 0..threads {
            let (rx, done_rx, done_tx) = (rx.clone(), done_rx.clone(), done_tx.clone());
            let (job, rt, http, db) = (job.clone(), rt.clone(), http.clone(), db.clone());
            std::thread::Builder::new().name(format!("pool-{i}")).spawn(move || loop {
                // Continuations first: they finish requests already admitted.
                if let Ok(c) = done_rx.try_recv() {
                    finish(c);
                    continue;
                }
                select! {
                    recv(done_rx) -> c => match c {
                        Ok(c) => finish(c),
                        Err(_) => return,
                    },
                    recv(rx) -> item => match item {
                        Ok(item) => if let Some(mut req) = item.into_request() {
                            req.start();
                            let w = job.of(req.class());
                            let cpu = w.cpu.run();
                            let (io, http, db, done_tx) = ((w.io.kind, w.io.latency), http.clone(), db.clone(), done_tx.clone());
                            rt.spawn(async move {
                                let (kind, latency) = io;
                                let result = match (kind, &http) {
                                    (IoKind::Timer, _) => {
                                        if !latency.is_zero() {
                                            tokio::time::sleep(latency).await;
                                        }
                                        Ok(())
                                    }
                                    (IoKind::Http, Some(c)) => c.get(latency).await.map_err(|e| e.to_string()),
                                    (IoKind::Http, None) => Err("no downstream address for an http cell".into()),
                                    (IoKind::Postgres, _) => match &db {
                                        Some(db) => db.call(latency).await.map_err(|e| e.to_string()),
                                        None => Err("no async driver opened for a postgres cell".into()),
                                    },
                                };
                                let _ = done_tx.send(Continuation { req, cpu, io: result });
                            });
                        }
                        Err(_) => return,
                    },
                }
            })?;
        }
        Ok(AsyncIoPoolServer { queue: accept })
    }
}

fn finish(c: Continuation) {
    let status = c.io.map_or(Status::Error, |()| Status::Ok);
    c.req.finish(status, c.cpu);
}

impl Server for AsyncIoPoolServer {
    fn submit(&self, req: Request) {
        self.queue.submit(req);
    }

    fn start_probe(&self, lag: Arc<LagRecorder>) {
        self.queue.start_probe(lag);
    }

    fn harness_threads(&self) -> u32 {
        1
    }
}
