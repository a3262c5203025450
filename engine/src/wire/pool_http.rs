//! The contract served by the `threads` model the way Tomcat's NIO connector
//! serves it. An acceptor thread takes connections from the kernel's listen
//! backlog (`acceptCount`) while fewer than `max_connections` are open
//! (`maxConnections`); a poller thread waits until an idle keep-alive
//! connection has a request and queues it for a pool of `threads` workers
//! (`maxThreads`). A worker reads the request, runs it to its end on its own
//! thread (CPU part, then blocking I/O), writes the answer and gives the
//! connection back to the poller. So a request waits for a worker in the
//! executor's queue, as in Tomcat, and connections beyond `max_connections`
//! wait in the backlog, or are refused once it is full.

use super::contract::{answer, server_timing, Order, HEALTH, HEALTH_BODY, SERVER_TIMING, WORK};
use polling::{Event, Events, Poller};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// A request head larger than this is refused (Tomcat's maxHttpHeaderSize is 8 KiB).
const MAX_HEAD: usize = 8 * 1024;
/// A worker gives up on a client that stops sending mid-request
/// (Tomcat's connectionTimeout is 20 s).
const READ_TIMEOUT: Duration = Duration::from_secs(20);

/// What the workers run for each order: the model's request path, blocking.
pub type Handler = Arc<dyn Fn(Order) -> Result<(), String> + Send + Sync>;

/// How many OS threads the server runs besides its workers (acceptor, poller).
pub const CONNECTOR_THREADS: u32 = 2;

struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

/// What the acceptor, the poller and the workers share.
struct Connector {
    poller: Poller,
    /// Idle keep-alive connections, by poller key.
    idle: Mutex<HashMap<usize, Conn>>,
    /// Open connections, against `max_connections`.
    open: Mutex<usize>,
    freed: Condvar,
    max_connections: usize,
}

impl Connector {
    /// Parks a connection with the poller until its next request arrives.
    fn park(&self, key: usize, conn: Conn) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let rearmed = self.poller.modify(&conn.stream, Event::readable(key));
        match rearmed {
            Ok(()) => {
                idle.insert(key, conn);
            }
            Err(_) => {
                drop(idle);
                self.close(conn);
            }
        }
    }

    fn close(&self, conn: Conn) {
        let _ = self.poller.delete(&conn.stream);
        drop(conn);
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        *open -= 1;
        self.freed.notify_one();
    }
}

/// Starts the connector and `threads` workers on `listener` (bound, with
/// its backlog set); they serve until the process ends.
pub fn serve(
    listener: TcpListener,
    threads: usize,
    max_connections: usize,
    handler: Handler,
) -> std::io::Result<()> {
    let connector = Arc::new(Connector {
        poller: Poller::new()?,
        idle: Mutex::new(HashMap::new()),
        open: Mutex::new(0),
        freed: Condvar::new(),
        max_connections: max_connections.max(1),
    });
    let (work_tx, work_rx) = crossbeam_channel::unbounded::<(usize, Conn)>();
    for i in 0..threads.max(1) {
        let (rx, connector, handler) = (work_rx.clone(), connector.clone(), handler.clone());
        std::thread::Builder::new()
            .name(format!("http-exec-{i}"))
            .spawn(move || {
                for (key, conn) in rx.iter() {
                    match serve_ready(conn, handler.as_ref()) {
                        Ok(conn) => connector.park(key, conn),
                        Err(conn) => connector.close(conn),
                    }
                }
            })?;
    }
    let c = connector.clone();
    std::thread::Builder::new()
        .name("http-poller".into())
        .spawn(move || {
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
                        let _ = work_tx.send((ev.key, conn));
                    }
                }
            }
        })?;
    std::thread::Builder::new()
        .name("http-acceptor".into())
        .spawn(move || {
            let mut next_key = 0usize;
            loop {
                {
                    let mut open = connector.open.lock().unwrap_or_else(|p| p.into_inner());
                    while *open >= connector.max_connections {
                        open = connector
                            .freed
                            .wait(open)
                            .unwrap_or_else(|p| p.into_inner());
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
                *connector.open.lock().unwrap_or_else(|p| p.into_inner()) += 1;
                let mut idle = connector.idle.lock().unwrap_or_else(|p| p.into_inner());
                // SAFETY: the stream is removed from the poller (`close`)
                // before it is dropped, and is never dropped while registered.
                match unsafe { connector.poller.add(&stream, Event::readable(key)) } {
                    Ok(()) => {
                        idle.insert(
                            key,
                            Conn {
                                stream,
                                buf: Vec::new(),
                            },
                        );
                    }
                    Err(_) => {
                        drop(idle);
                        *connector.open.lock().unwrap_or_else(|p| p.into_inner()) -= 1;
                    }
                }
            }
        })?;
    Ok(())
}

/// Serves the requests a ready connection holds; gives it back for the
/// poller (`Ok`), or to be closed (`Err`) when the client closed it, broke
/// the protocol or stopped reading.
fn serve_ready(
    mut conn: Conn,
    handler: &(dyn Fn(Order) -> Result<(), String> + Send + Sync),
) -> Result<Conn, Conn> {
    loop {
        let (target, used) = match read_head(&mut conn) {
            Ok(Some(head)) => head,
            _ => return Err(conn),
        };
        conn.buf.drain(..used);
        let (status, body, service) = respond(&target, handler);
        let timing = service
            .map(|d| format!("{SERVER_TIMING}: {}\r\n", server_timing(d)))
            .unwrap_or_default();
        let head = format!(
            "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n{timing}\r\n",
            body.len()
        );
        if conn.stream.write_all(head.as_bytes()).is_err()
            || conn.stream.write_all(body.as_bytes()).is_err()
        {
            return Err(conn);
        }
        if conn.buf.is_empty() {
            return Ok(conn);
        }
    }
}

/// Reads until one request head is complete; returns its target and the
/// bytes it used, or `None` when the client closed the connection. GET
/// requests carry no body; a request with one is answered and its body
/// skipped only if it fits the buffer.
fn read_head(conn: &mut Conn) -> std::io::Result<Option<(String, usize)>> {
    let mut chunk = [0u8; 2048];
    loop {
        if !conn.buf.is_empty() {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(&conn.buf) {
                Ok(httparse::Status::Complete(n)) => {
                    let target = req.path.unwrap_or("/").to_string();
                    return Ok(Some((target, n)));
                }
                Ok(httparse::Status::Partial) if conn.buf.len() < MAX_HEAD => {}
                _ => return Err(std::io::ErrorKind::InvalidData.into()),
            }
        }
        let n = conn.stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(None);
        }
        conn.buf.extend_from_slice(&chunk[..n]);
    }
}

/// The status line, the body, and the time the work took (for `/work`).
fn respond(
    target: &str,
    handler: &(dyn Fn(Order) -> Result<(), String> + Send + Sync),
) -> (&'static str, String, Option<Duration>) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    match path {
        HEALTH => ("200 OK", HEALTH_BODY.to_string(), None),
        WORK => match Order::parse(query) {
            Err(e) => ("400 Bad Request", format!("{e}\n"), None),
            Ok(order) => {
                let started = std::time::Instant::now();
                let (status, body) = match handler(order) {
                    Ok(()) => ("200 OK", answer(order.class)),
                    Err(e) => ("500 Internal Server Error", format!("{e}\n")),
                };
                (status, body, Some(started.elapsed()))
            }
        },
        _ => ("404 Not Found", "not found\n".to_string(), None),
    }
}
