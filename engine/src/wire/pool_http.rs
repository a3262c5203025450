//! The contract served by the thread models the way Tomcat's NIO connector
//! serves it. An acceptor thread takes connections from the kernel's listen
//! backlog (`acceptCount`) while fewer than `max_connections` are open
//! (`maxConnections`); a poller thread waits until an idle keep-alive
//! connection has a request and hands it to the [`Workers`]: a pool of
//! `threads` (`maxThreads`), whose queue a request waits in as in Tomcat, or
//! a fresh thread per request (thread-per-request, no pool). A worker reads
//! the request, runs the [`Handler`], writes the answer and gives the
//! connection back to the poller. Connections beyond `max_connections` wait
//! in the backlog, or are refused once it is full.

use super::contract::{route, Answer, Order};
use super::http1::Conn;
use crate::server::Job;
use crossbeam_channel::{select, Receiver, Sender};
use polling::{Event, Events, Poller};
use std::collections::HashMap;
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// A worker gives up on a client that stops sending mid-request
/// (Tomcat's connectionTimeout is 20 s).
const READ_TIMEOUT: Duration = Duration::from_secs(20);

/// Called once with the result of an order's I/O, on whatever thread it ended.
pub type Done = Box<dyn FnOnce(Result<(), String>) + Send>;

/// What a worker does with an order.
#[derive(Clone)]
pub enum Handler {
    /// The whole request path on the worker's thread: CPU, then blocking I/O.
    Blocking(Arc<dyn Fn(Order) -> Result<(), String> + Send + Sync>),
    /// The CPU part on the worker, which then starts the I/O elsewhere and is
    /// free at once; `Done` brings the result back to the workers, which
    /// write the answer (the CompletableFuture + non-blocking client pattern).
    Continued(Arc<dyn Fn(Order, Done) + Send + Sync>),
}

impl Handler {
    /// The request path of the blocking models: an order's CPU part at the
    /// cell's calibration, then its I/O, blocking the worker throughout.
    pub fn blocking(job: Job, iters_per_ms: f64) -> Handler {
        Handler::Blocking(Arc::new(move |order| {
            let w = job.work_for(&order, iters_per_ms);
            w.cpu.run();
            w.io.blocking()
        }))
    }
}

/// Which threads run the requests.
#[derive(Debug, Clone, Copy)]
pub enum Workers {
    /// A fixed pool (Tomcat's maxThreads); requests wait in its queue.
    Pool(usize),
    /// A fresh thread for every request, with a stack of this many bytes.
    PerRequest { stack_bytes: usize },
}

/// A keep-alive connection, by its key with the poller.
type Keyed = (usize, Conn<TcpStream>);

/// Work for the workers: a connection with a request waiting, or an order
/// whose I/O has ended and whose answer is to be written.
enum Task {
    Ready(Keyed),
    Resume {
        conn: Keyed,
        order: Order,
        started: Instant,
        result: Result<(), String>,
    },
}

/// What the acceptor, the poller and the workers share.
struct Connector {
    poller: Poller,
    /// Idle keep-alive connections, by poller key.
    idle: Mutex<HashMap<usize, Conn<TcpStream>>>,
    /// Open connections, against `max_connections`.
    open: Mutex<usize>,
    freed: Condvar,
    max_connections: usize,
    handler: Handler,
    dispatch: Dispatch,
}

/// How a task reaches a worker.
enum Dispatch {
    /// The pool's queues: resumed orders are taken before new requests, as
    /// they finish requests already admitted.
    Pool {
        ready: Sender<Keyed>,
        resume: Sender<Task>,
    },
    PerRequest {
        stack_bytes: usize,
    },
}

impl Connector {
    fn dispatch(self: &Arc<Self>, task: Task) {
        match &self.dispatch {
            Dispatch::Pool { ready, resume } => {
                let _ = match task {
                    Task::Ready(conn) => ready.send(conn).map_err(drop),
                    resume_task => resume.send(resume_task).map_err(drop),
                };
            }
            Dispatch::PerRequest { stack_bytes } => {
                let c = self.clone();
                // A refused spawn drops the task and its connection: the
                // client sees it closed, as when a server runs out of threads.
                let _ = std::thread::Builder::new()
                    .stack_size(*stack_bytes)
                    .spawn(move || c.run(task));
            }
        }
    }

    /// Runs one task on the calling worker thread.
    fn run(self: &Arc<Self>, task: Task) {
        let (key, mut conn) = match task {
            Task::Ready(keyed) => keyed,
            Task::Resume {
                conn: (key, mut conn),
                order,
                started,
                result,
            } => {
                let answer = Answer::served(&order, result, started.elapsed());
                if conn.write(&answer).is_err() {
                    return self.close(conn);
                }
                if !conn.has_pending() {
                    return self.park(key, conn);
                }
                (key, conn)
            }
        };
        loop {
            let order = match conn.next_target() {
                Ok(Some(target)) => match route(&target) {
                    Ok(order) => order,
                    Err(answer) => {
                        if conn.write(&answer).is_err() {
                            return self.close(conn);
                        }
                        if !conn.has_pending() {
                            return self.park(key, conn);
                        }
                        continue;
                    }
                },
                _ => return self.close(conn),
            };
            let started = Instant::now();
            match &self.handler {
                Handler::Blocking(h) => {
                    let answer = Answer::served(&order, h(order), started.elapsed());
                    if conn.write(&answer).is_err() {
                        return self.close(conn);
                    }
                    if !conn.has_pending() {
                        return self.park(key, conn);
                    }
                }
                Handler::Continued(h) => {
                    let c = self.clone();
                    let done: Done = Box::new(move |result| {
                        c.dispatch(Task::Resume {
                            conn: (key, conn),
                            order,
                            started,
                            result,
                        })
                    });
                    return h(order, done);
                }
            }
        }
    }

    /// Parks a connection with the poller until its next request arrives.
    fn park(&self, key: usize, conn: Conn<TcpStream>) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        match self.poller.modify(&conn.stream, Event::readable(key)) {
            Ok(()) => {
                idle.insert(key, conn);
            }
            Err(_) => {
                drop(idle);
                self.close(conn);
            }
        }
    }

    fn close(&self, conn: Conn<TcpStream>) {
        let _ = self.poller.delete(&conn.stream);
        drop(conn);
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        *open -= 1;
        self.freed.notify_one();
    }
}

/// Starts the connector and its workers on `listener` (bound, with its
/// backlog set); they serve until the process ends.
pub fn serve(
    listener: TcpListener,
    workers: Workers,
    max_connections: usize,
    handler: Handler,
) -> std::io::Result<()> {
    let (ready_tx, ready_rx) = crossbeam_channel::unbounded::<Keyed>();
    let (resume_tx, resume_rx) = crossbeam_channel::unbounded::<Task>();
    let dispatch = match workers {
        Workers::Pool(_) => Dispatch::Pool {
            ready: ready_tx,
            resume: resume_tx,
        },
        Workers::PerRequest { stack_bytes } => Dispatch::PerRequest { stack_bytes },
    };
    let connector = Arc::new(Connector {
        poller: Poller::new()?,
        idle: Mutex::new(HashMap::new()),
        open: Mutex::new(0),
        freed: Condvar::new(),
        max_connections: max_connections.max(1),
        handler,
        dispatch,
    });
    if let Workers::Pool(threads) = workers {
        for i in 0..threads.max(1) {
            let (ready, resume, c) = (ready_rx.clone(), resume_rx.clone(), connector.clone());
            std::thread::Builder::new()
                .name(format!("http-exec-{i}"))
                .spawn(move || pool_worker(&c, &ready, &resume))?;
        }
    }
    let c = connector.clone();
    std::thread::Builder::new()
        .name("http-poller".into())
        .spawn(move || poll(&c))?;
    std::thread::Builder::new()
        .name("http-acceptor".into())
        .spawn(move || accept(&connector, &listener))?;
    Ok(())
}

fn pool_worker(c: &Arc<Connector>, ready: &Receiver<Keyed>, resume: &Receiver<Task>) {
    loop {
        if let Ok(task) = resume.try_recv() {
            c.run(task);
            continue;
        }
        let task = select! {
            recv(resume) -> t => t,
            recv(ready) -> r => r.map(Task::Ready),
        };
        match task {
            Ok(task) => c.run(task),
            Err(_) => return,
        }
    }
}

/// Hands each connection that became readable to the workers.
fn poll(c: &Arc<Connector>) {
    let mut events = Events::new();
    loop {
        events.clear();
        if c.poller.wait(&mut events, None).is_err() {
            continue;
        }
        for ev in events.iter() {
            let conn = c
                .idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&ev.key);
            if let Some(conn) = conn {
                c.dispatch(Task::Ready((ev.key, conn)));
            }
        }
    }
}

/// Accepts while fewer than `max_connections` are open, and registers each
/// new connection with the poller.
fn accept(c: &Connector, listener: &TcpListener) {
    let mut next_key = 0usize;
    loop {
        {
            let mut open = c.open.lock().unwrap_or_else(|p| p.into_inner());
            while *open >= c.max_connections {
                open = c.freed.wait(open).unwrap_or_else(|p| p.into_inner());
            }
        }
        let stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(_) => {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
        let key = next_key;
        next_key += 1;
        *c.open.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        let mut idle = c.idle.lock().unwrap_or_else(|p| p.into_inner());
        // SAFETY: the stream is removed from the poller (`close`) before it
        // is dropped, and is never dropped while registered.
        match unsafe { c.poller.add(&stream, Event::readable(key)) } {
            Ok(()) => {
                idle.insert(key, Conn::new(stream));
            }
            Err(_) => {
                drop(idle);
                *c.open.lock().unwrap_or_else(|p| p.into_inner()) -= 1;
            }
        }
    }
}
