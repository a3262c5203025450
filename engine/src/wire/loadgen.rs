//! The HTTP load generator: its own process (`threadloop-loadgen`), one
//! thread, one tokio current-thread loop, `C` keep-alive connections in a
//! closed loop. It owns every timestamp that defines latency and every
//! count, as the in-process generator does; the server only answers.
//!
//! It first checks the server (`/health`, then one order of each class,
//! each answer compared with the contract's) and refuses to time a server
//! that answers wrongly. Then each connection sends its next request as soon
//! as the last one is answered; the first sends are spread over one service
//! time, as in-process. A request not answered within the timeout is a
//! timeout; as in wrk, its client keeps the connection and reads the late
//! answer (counted in `late`) before it sends its next request. A refused
//! connection is a rejection, and the client waits `retry_after` before it
//! tries again.

use super::contract::{
    answer, check, parse_server_timing, Order, HEALTH, HEALTH_BODY, SERVER_TIMING,
};
pub use super::fd_limit::raise_fd_limit;
use crate::cell::{Cell, Load};
use crate::load::{ClassMix, ClassTally, Tallies};
use crate::measure::{new_histogram, record, Usage, Window};
use hdrhistogram::Histogram;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What the generator is asked to do: the cell's load, against `target`.
#[derive(Debug, Clone)]
pub struct HttpPlan {
    pub target: SocketAddr,
    pub connections: u32,
    /// One order per class of the cell's mix, and the mix's weights.
    pub orders: Vec<Order>,
    /// Each order's request bytes and expected answer body, made once.
    requests: Vec<(Vec<u8>, Vec<u8>)>,
    mix: ClassMix,
    pub warmup: Duration,
    pub duration: Duration,
    pub timeout: Duration,
    pub retry_after: Duration,
    /// Closed loop: the first sends are spread over this (one service time).
    spread: Duration,
    /// Open loop: the offered rate and its arrival process (the same draws
    /// as the theory's replay); `connections` is then the most in flight.
    open: Option<(f64, crate::cell::Arrival)>,
    seed: u64,
    /// A JVM's warm-up: at least `warmup`, until throughput settles, at
    /// most this (`super::settle`); None: exactly `warmup`.
    settle_until: Option<Duration>,
    /// The server's process on this machine, whose JIT a settling warm-up
    /// watches (`super::jit`); None: a server elsewhere, throughput alone.
    server_pid: Option<u32>,
    /// The cell's bound (priced where its server is calibrated): a settling
    /// warm-up that reaches it does not wait for the JIT.
    bound_rps: Option<f64>,
}

/// The most connections an open-loop cell keeps (its `max_in_flight`, up
/// to this): arrivals beyond them are counted as overflow, as in-process.
pub const MAX_OPEN_CONNECTIONS: u32 = 10_000;

impl HttpPlan {
    pub fn of(cell: &Cell, target: SocketAddr) -> anyhow::Result<HttpPlan> {
        let (connections, open) = match cell.load {
            Load::Closed { concurrency } => (concurrency, None),
            Load::Open { rate_rps, arrival } => (
                cell.max_in_flight.clamp(1, MAX_OPEN_CONNECTIONS),
                Some((rate_rps, arrival)),
            ),
        };
        let orders: Vec<Order> = if cell.classes.is_empty() {
            vec![Order {
                class: 0,
                cpu_ms: cell.cpu_ms,
                io: cell.io,
                io_ms: cell.io_latency_ms,
            }]
        } else {
            cell.classes
                .iter()
                .enumerate()
                .map(|(i, c)| Order {
                    class: i as u16,
                    cpu_ms: c.cpu_ms,
                    io: c.io,
                    io_ms: c.io_latency_ms,
                })
                .collect()
        };
        let settles = super::settle::settles(cell);
        let requests = orders
            .iter()
            .map(|o| {
                (
                    request_bytes(&o.target(), target),
                    answer(o.class).into_bytes(),
                )
            })
            .collect();
        Ok(HttpPlan {
            target,
            connections,
            orders,
            requests,
            mix: ClassMix::of(cell),
            warmup: Duration::from_secs_f64(cell.warmup_s),
            duration: Duration::from_secs_f64(cell.duration_s),
            timeout: Duration::from_millis(cell.timeout_ms),
            retry_after: Duration::from_millis(cell.retry_after_ms),
            spread: Duration::from_secs_f64((cell.cpu_ms + cell.io_latency_ms) / 1e3)
                .min(Duration::from_secs_f64(cell.warmup_s)),
            open,
            seed: cell.seed,
            settle_until: settles
                .then(|| Duration::from_secs_f64(super::settle::max_warmup_s(cell))),
            server_pid: None,
            // Only a settling warm-up reads it (an open loop's theory
            // replays its arrivals: not worth it for nothing).
            bound_rps: settles
                .then(|| {
                    let t = crate::theory::theory(cell);
                    t.priced_rps.or(t.throughput_rps)
                })
                .flatten(),
        })
    }

    /// The plan with the server's process on this machine to watch.
    pub fn watching(self, server_pid: Option<u32>) -> HttpPlan {
        HttpPlan { server_pid, ..self }
    }

    /// The measured window once its start is known: `duration` long.
    fn window_from(&self, start: Instant) -> Window {
        Window {
            start,
            end: start + self.duration,
        }
    }

    fn draw(&self, rng: &mut SmallRng) -> usize {
        self.mix.draw(rng)
    }
}

/// What the generator measured, as it crosses the process boundary.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct WireReport {
    /// The measured window, CLOCK_MONOTONIC nanoseconds (shared by every
    /// process on the machine, so the server's side can measure the same window).
    pub window_ns: (u64, u64),
    pub tallies: Tallies,
    pub classes: Vec<WireClass>,
    /// Latency from the send to the end of the answer, µs, HdrHistogram V2 (base64).
    pub latency: String,
    /// Actual minus intended send time, µs, HdrHistogram V2 (base64): how
    /// late the generator itself was (open loop; about zero in a closed loop).
    pub send_lag: String,
    /// The server's own time on each answered request (its Server-Timing
    /// header), and the rest of the latency (the wait before the work and
    /// the wire), µs; empty when the server does not report it.
    pub service: String,
    pub queue_wait: String,
    /// The generator's own CPU and context switches over the window.
    pub generator: Usage,
    /// The first wrong answer or failure seen, so a count of errors has a reason.
    pub first_error: Option<String>,
    /// A warm-up that ended when the server settled (None: the fixed one).
    #[serde(default)]
    pub warmup: Option<crate::outcome::Warmup>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct WireClass {
    pub completed: u64,
    pub errors: u64,
    pub rejected: u64,
    pub timeouts: u64,
    pub latency: String,
}

impl WireReport {
    /// The per-class tallies with their histograms decoded.
    pub fn class_tallies(&self) -> anyhow::Result<Vec<ClassTally>> {
        self.classes
            .iter()
            .map(|c| {
                Ok(ClassTally {
                    completed: c.completed,
                    errors: c.errors,
                    rejected: c.rejected,
                    timeouts: c.timeouts,
                    latency: crate::run::decode_histogram(&c.latency)?,
                })
            })
            .collect()
    }
}

/// CLOCK_MONOTONIC now, in nanoseconds (what `Instant` reads on Linux).
pub fn monotonic_ns() -> u64 {
    crate::work::monotonic_time().as_nanos() as u64
}

/// The CLOCK_MONOTONIC reading of an `Instant` of this process.
pub fn ns_of(t: Instant) -> u64 {
    let (now, now_ns) = (Instant::now(), monotonic_ns());
    if t >= now {
        now_ns + (t - now).as_nanos() as u64
    } else {
        now_ns.saturating_sub((now - t).as_nanos() as u64)
    }
}

/// The `Instant` of a CLOCK_MONOTONIC reading taken in any process.
pub fn instant_of(ns: u64) -> Instant {
    let (now, now_ns) = (Instant::now(), monotonic_ns());
    if ns >= now_ns {
        now + Duration::from_nanos(ns - now_ns)
    } else {
        now - Duration::from_nanos(now_ns - ns)
    }
}

/// Runs the plan: verification, then the load. Writes `window START END`
/// (CLOCK_MONOTONIC ns) to `announce` as soon as the window is fixed, so
/// the server's process can measure itself over the same window.
pub fn run(plan: &HttpPlan, announce: &mut dyn std::io::Write) -> anyhow::Result<WireReport> {
    raise_fd_limit(plan.connections as u64)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    let plan = Rc::new(plan.clone());
    local.block_on(&rt, async {
        verify(&plan).await?;
        let t0 = Instant::now();
        let shared = Rc::new(Shared::new(plan.orders.len(), first_window(&plan, t0)));
        let announce_window = |announce: &mut dyn std::io::Write, w: Window| {
            let ns = (ns_of(w.start), ns_of(w.end));
            writeln!(announce, "window {} {}", ns.0, ns.1)?;
            announce.flush()?;
            anyhow::Ok(ns)
        };
        let mut window_ns = (0, 0);
        if plan.settle_until.is_none() {
            window_ns = announce_window(announce, shared.window.get())?;
        }
        let tasks: Vec<_> = match plan.open {
            None => (0..plan.connections)
                .map(|i| {
                    let start = t0 + plan.spread.mul_f64(i as f64 / plan.connections as f64);
                    tokio::task::spawn_local(client(plan.clone(), i, start, shared.clone()))
                })
                .collect(),
            Some((rate, arrival)) => open_loop(&plan, rate, arrival, t0, &shared),
        };
        let mut warmup = None;
        if let Some(until) = plan.settle_until {
            let answered = || shared.answered.get();
            let compiler = plan.server_pid.and_then(super::jit::CompilerWatch::of);
            let (start, settled) =
                super::settle::warm_up(answered, compiler, plan.bound_rps, t0, plan.warmup, until)
                    .await;
            shared.window.set(plan.window_from(start));
            window_ns = announce_window(announce, shared.window.get())?;
            warmup = Some(crate::outcome::Warmup {
                taken_s: (start - t0).as_secs_f64(),
                settled,
            });
        }
        let window = shared.window.get();
        tokio::time::sleep_until(window.start.into()).await;
        let at_start = Usage::process();
        tokio::time::sleep_until(window.end.into()).await;
        let generator = Usage::process().since(&at_start);
        for t in &tasks {
            t.abort();
        }
        let mut report = shared.report(window_ns, generator);
        report.warmup = warmup;
        Ok(report)
    })
}

/// The window the clients count in from `t0`: the fixed one; or, for a
/// settling warm-up, until the warm-up fixes it, one that counts nothing
/// (it starts where it ends) and ends after the latest window could, so
/// the clients keep going. The latest window as a placeholder counted the
/// answers between the bound and the decision (reading a busy JVM's /proc
/// took that long): 13% more than Little's law allowed, measured.
fn first_window(plan: &HttpPlan, t0: Instant) -> Window {
    match plan.settle_until {
        Some(until) => {
            let never = t0 + until + plan.duration + Duration::from_secs(3600);
            Window {
                start: never,
                end: never,
            }
        }
        None => plan.window_from(t0 + plan.warmup),
    }
}

/// The open loop, as wrk2 runs it: every arrival has an intended send time
/// (the cell's own arrivals: the same draws the theory replays), and its
/// latency counts from that time, so a server that stalls is charged for
/// the requests it kept from being sent (no coordinated omission). An
/// arrival goes out on the connection that became free last (a stack), so a
/// few warm keep-alive connections carry the load and a fresh one is opened
/// only when the load needs more in flight: handing arrivals round-robin to
/// 10,000 lazily opened connections made nearly every request pay a new
/// connection (1.4 ms more queueing than the M/D/c replay, measured). With
/// all `connections` busy, an arrival is counted as overflow and not sent,
/// as in-process.
fn open_loop(
    plan: &Rc<HttpPlan>,
    rate: f64,
    arrival: crate::cell::Arrival,
    t0: Instant,
    shared: &Rc<Shared>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let end_s = (plan.warmup + plan.duration).as_secs_f64();
    let times = crate::theory::arrival_times(rate, arrival, plan.seed, end_s);
    let idle: Rc<RefCell<Vec<usize>>> =
        Rc::new(RefCell::new((0..plan.connections as usize).rev().collect()));
    let mut senders = Vec::with_capacity(plan.connections as usize);
    let mut tasks: Vec<_> = (0..plan.connections as usize)
        .map(|id| {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Instant, usize)>();
            senders.push(tx);
            let (plan, shared, idle) = (plan.clone(), shared.clone(), idle.clone());
            tokio::task::spawn_local(async move {
                let mut conn = None;
                while let Some((intended, k)) = rx.recv().await {
                    one_request(&plan, &shared, &mut conn, k, intended).await;
                    idle.borrow_mut().push(id);
                }
            })
        })
        .collect();
    // The arrivals are timed on a thread of their own with the OS's sleep:
    // tokio's timer ticks in whole milliseconds, which made every request
    // leave up to 1 ms after its intended time (1.2 ms more queueing than
    // the M/D/c replay, measured). The loop only routes them.
    let (arrivals_tx, mut arrivals) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    let clock = std::thread::Builder::new()
        .name("loadgen-arrivals".into())
        .spawn(move || {
            for t in times {
                let intended = t0 + Duration::from_secs_f64(t);
                let now = Instant::now();
                if intended > now {
                    std::thread::sleep(intended - now);
                }
                if arrivals_tx.send(intended).is_err() {
                    break;
                }
            }
        });
    if clock.is_err() {
        shared.note_error(|| "could not start the open loop's arrival thread".into());
    }
    let (plan, shared) = (plan.clone(), shared.clone());
    tasks.push(tokio::task::spawn_local(async move {
        // Classes drawn on a stream of their own, as in-process.
        let mut rng = SmallRng::seed_from_u64(plan.seed ^ 0x5DEE_CE66_D1CE_4E5B);
        while let Some(intended) = arrivals.recv().await {
            let k = plan.draw(&mut rng);
            let free = idle.borrow_mut().pop();
            match free {
                Some(id) => {
                    shared.tallies.borrow_mut().sent += 1;
                    let _ = senders[id].send((intended, k));
                }
                None if shared.window.get().contains(intended) => {
                    shared.tallies.borrow_mut().overflow += 1;
                }
                None => {}
            }
        }
    }));
    tasks
}

/// The counts every connection adds to (one thread: no locks).
struct Shared {
    /// Fixed at the start, or when a settling warm-up ends.
    window: std::cell::Cell<Window>,
    /// Correct answers, warm-up included: what a settling warm-up watches.
    answered: std::cell::Cell<u64>,
    tallies: RefCell<Tallies>,
    classes: RefCell<Vec<ClassTally>>,
    latency: RefCell<Histogram<u64>>,
    /// Actual send minus intended send (open loop: the generator's own lag).
    send_lag: RefCell<Histogram<u64>>,
    /// The server's own time (Server-Timing) and the rest of the latency.
    service: RefCell<Histogram<u64>>,
    queue_wait: RefCell<Histogram<u64>>,
    first_error: RefCell<Option<String>>,
}

impl Shared {
    fn new(classes: usize, window: Window) -> Self {
        Shared {
            window: std::cell::Cell::new(window),
            answered: std::cell::Cell::new(0),
            tallies: RefCell::new(Tallies::default()),
            classes: RefCell::new(ClassTally::per_class(classes)),
            latency: RefCell::new(new_histogram()),
            send_lag: RefCell::new(new_histogram()),
            service: RefCell::new(new_histogram()),
            queue_wait: RefCell::new(new_histogram()),
            first_error: RefCell::new(None),
        }
    }

    fn note_error(&self, e: impl FnOnce() -> String) {
        let mut first = self.first_error.borrow_mut();
        if first.is_none() {
            *first = Some(e());
        }
    }

    fn report(&self, window_ns: (u64, u64), generator: Usage) -> WireReport {
        let enc = crate::run::encode_histogram;
        WireReport {
            window_ns,
            tallies: self.tallies.borrow().clone(),
            classes: self
                .classes
                .borrow()
                .iter()
                .map(|c| WireClass {
                    completed: c.completed,
                    errors: c.errors,
                    rejected: c.rejected,
                    timeouts: c.timeouts,
                    latency: enc(&c.latency),
                })
                .collect(),
            latency: enc(&self.latency.borrow()),
            send_lag: enc(&self.send_lag.borrow()),
            service: enc(&self.service.borrow()),
            queue_wait: enc(&self.queue_wait.borrow()),
            generator,
            first_error: self.first_error.borrow().clone(),
            warmup: None,
        }
    }
}

/// How one exchange ended.
enum Answer {
    /// The whole answer arrived: its status and whether its body is the contract's.
    Complete {
        /// The server's own time on it (its Server-Timing header), if it said.
        service: Option<Duration>,
        status: u16,
        body: Vec<u8>,
    },
    Refused,
    Failed(String),
}

/// One keep-alive connection and its read buffer.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

async fn connect(addr: SocketAddr) -> std::io::Result<Conn> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(Conn {
        stream,
        buf: Vec::with_capacity(512),
    })
}

/// Sends `request` on `conn` (opening it when there is none) and reads the answer.
async fn exchange(conn: &mut Option<Conn>, addr: SocketAddr, request: &[u8]) -> Answer {
    if conn.is_none() {
        match connect(addr).await {
            Ok(c) => *conn = Some(c),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return Answer::Refused,
            Err(e) => return Answer::Failed(format!("connect: {e}")),
        }
    }
    let Some(c) = conn.as_mut() else {
        return Answer::Failed("no connection".into());
    };
    if let Err(e) = c.stream.write_all(request).await {
        return Answer::Failed(format!("send: {e}"));
    }
    match read_answer(c).await {
        Ok((status, body, service)) => Answer::Complete {
            status,
            body,
            service,
        },
        Err(e) => Answer::Failed(format!("read: {e}")),
    }
}

/// Reads one HTTP/1.1 answer (with a content-length) off the connection:
/// its status, body and the Server-Timing it reported.
async fn read_answer(c: &mut Conn) -> std::io::Result<(u16, Vec<u8>, Option<Duration>)> {
    loop {
        if !c.buf.is_empty() {
            let mut headers = [httparse::EMPTY_HEADER; 16];
            let mut resp = httparse::Response::new(&mut headers);
            match resp.parse(&c.buf) {
                Ok(httparse::Status::Complete(head)) => {
                    let status = resp.code.unwrap_or(0);
                    let service = resp
                        .headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case(SERVER_TIMING))
                        .and_then(|h| parse_server_timing(std::str::from_utf8(h.value).ok()?));
                    let len = resp
                        .headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                        .and_then(|h| {
                            std::str::from_utf8(h.value)
                                .ok()?
                                .trim()
                                .parse::<usize>()
                                .ok()
                        })
                        .ok_or_else(|| {
                            std::io::Error::new(
                                std::io::ErrorKind::InvalidData,
                                "an answer without content-length",
                            )
                        })?;
                    if c.buf.len() >= head + len {
                        let body = c.buf[head..head + len].to_vec();
                        c.buf.drain(..head + len);
                        return Ok((status, body, service));
                    }
                }
                Ok(httparse::Status::Partial) => {}
                Err(e) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("not HTTP/1.1: {e}"),
                    ))
                }
            }
        }
        let mut chunk = [0u8; 4096];
        let n = c.stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        c.buf.extend_from_slice(&chunk[..n]);
    }
}

fn request_bytes(target: &str, addr: SocketAddr) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nhost: {addr}\r\n\r\n").into_bytes()
}

/// Before timing: the server is up and answers every class as the contract
/// says. A server that answers wrongly never gets a number.
async fn verify(plan: &HttpPlan) -> anyhow::Result<()> {
    let addr = plan.target;
    let limit = plan.timeout + Duration::from_secs(5);
    let mut conn = None;
    // The server may still be binding its loop: a few refusals are normal.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout(
            limit,
            exchange(&mut conn, addr, &request_bytes(HEALTH, addr)),
        )
        .await
        {
            Ok(Answer::Complete {
                status: 200, body, ..
            }) if body == HEALTH_BODY.as_bytes() => break,
            Ok(Answer::Complete { status, body, .. }) => anyhow::bail!(
                "verification: {HEALTH} answered {status} {:?}",
                String::from_utf8_lossy(&body)
            ),
            Ok(Answer::Refused) if Instant::now() < deadline => {
                conn = None;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Ok(Answer::Refused) => {
                anyhow::bail!("verification: {addr} refused connections for 10 s")
            }
            Ok(Answer::Failed(e)) => anyhow::bail!("verification: {HEALTH}: {e}"),
            Err(_) => anyhow::bail!("verification: {HEALTH} not answered within {limit:?}"),
        }
    }
    for order in &plan.orders {
        let request = request_bytes(&order.target(), addr);
        match tokio::time::timeout(limit, exchange(&mut conn, addr, &request)).await {
            Ok(Answer::Complete { status, body, .. }) => {
                check(order, status, &body).map_err(|e| anyhow::anyhow!("verification: {e}"))?
            }
            Ok(Answer::Refused) => anyhow::bail!("verification: {addr} refused the connection"),
            Ok(Answer::Failed(e)) => anyhow::bail!("verification: {}: {e}", order.target()),
            Err(_) => anyhow::bail!(
                "verification: {} not answered within {limit:?}",
                order.target()
            ),
        }
    }
    Ok(())
}

/// One closed-loop client on its own connection.
async fn client(plan: Rc<HttpPlan>, id: u32, start: Instant, shared: Rc<Shared>) {
    let mut rng =
        SmallRng::seed_from_u64(plan.seed ^ (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut conn: Option<Conn> = None;
    tokio::time::sleep_until(start.into()).await;
    while Instant::now() < shared.window.get().end {
        let k = plan.draw(&mut rng);
        shared.tallies.borrow_mut().sent += 1;
        if !one_request(&plan, &shared, &mut conn, k, Instant::now()).await {
            tokio::time::sleep(plan.retry_after).await;
        }
    }
}

/// Sends one request of class `k` meant to go out at `intended` and counts
/// how it ended; false when it failed or was refused (a closed-loop client
/// then backs off). Latency counts from `intended`, and the lag between it
/// and the real send is recorded.
async fn one_request(
    plan: &HttpPlan,
    shared: &Shared,
    conn: &mut Option<Conn>,
    k: usize,
    intended: Instant,
) -> bool {
    let order = &plan.orders[k];
    let (request, expected) = &plan.requests[k];
    let sent = Instant::now();
    if shared.window.get().contains(sent) {
        record(&mut shared.send_lag.borrow_mut(), sent - intended);
    }
    let deadline = intended + plan.timeout;
    let (result, late) = {
        let mut exchanged = std::pin::pin!(exchange(conn, plan.target, request));
        match tokio::time::timeout_at(deadline.into(), exchanged.as_mut()).await {
            Ok(answer) => (answer, false),
            Err(_) => {
                if shared.window.get().contains(deadline) {
                    shared.tallies.borrow_mut().timeouts += 1;
                    shared.classes.borrow_mut()[k].timeouts += 1;
                }
                // As wrk does: the client keeps its connection and reads
                // the late answer before its next request. Reconnecting
                // instead made 10,000 clients a storm of connects, and
                // the kernel's search for a free ephemeral port (not the
                // server) the bottleneck: 99% of the generator's core in
                // __inet_hash_connect, measured.
                (exchanged.await, true)
            }
        }
    };
    let now = Instant::now();
    // Read after the exchange: a settling warm-up may have fixed it since.
    let counted = shared.window.get().contains(now);
    let mut t = shared.tallies.borrow_mut();
    let mut classes = shared.classes.borrow_mut();
    let class = &mut classes[k];
    match result {
        Answer::Complete { .. } if late => {
            t.late += counted as u64;
            true
        }
        Answer::Complete {
            status: 200,
            body,
            service,
        } if body == *expected => {
            shared.answered.set(shared.answered.get() + 1);
            if counted {
                t.completed += 1;
                class.completed += 1;
                record(&mut class.latency, now - intended);
                record(&mut shared.latency.borrow_mut(), now - intended);
                if let Some(s) = service {
                    record(&mut shared.service.borrow_mut(), s);
                    let before = (now - intended).saturating_sub(s);
                    record(&mut shared.queue_wait.borrow_mut(), before);
                }
            }
            true
        }
        Answer::Complete { status, body, .. } => {
            t.errors += counted as u64;
            class.errors += counted as u64;
            shared.note_error(|| {
                format!(
                    "{} answered {status} {:?}",
                    order.target(),
                    String::from_utf8_lossy(&body).trim()
                )
            });
            false
        }
        Answer::Refused => {
            t.rejected += counted as u64;
            class.rejected += counted as u64;
            *conn = None;
            false
        }
        Answer::Failed(e) => {
            // A failure after a timeout was already counted as one.
            if !late {
                t.errors += counted as u64;
                class.errors += counted as u64;
                shared.note_error(|| e);
            }
            *conn = None;
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cell::{ModelKind, Transport};

    fn plan(model: ModelKind) -> HttpPlan {
        let cell = Cell {
            transport: Transport::Http,
            java: Some(21),
            warmup_s: 2.0,
            duration_s: 3.0,
            ..Cell::timer(model, Load::Closed { concurrency: 10 }, 100.0)
        };
        HttpPlan::of(&cell, super::super::LOOPBACK).unwrap()
    }

    #[test]
    fn a_settling_window_counts_nothing_until_it_is_fixed() {
        let t0 = Instant::now();
        let jvm = plan(ModelKind::SpringMvc);
        let until = jvm.settle_until.expect("a JVM in a closed loop settles");
        let pending = first_window(&jvm, t0);
        // Nothing from the start to well past the latest window's end.
        let latest_end = t0 + until + jvm.duration;
        for s in [
            0.0,
            2.0,
            until.as_secs_f64(),
            (latest_end - t0).as_secs_f64(),
        ] {
            let t = t0 + Duration::from_secs_f64(s);
            assert!(!pending.contains(t), "counted at {s} s");
        }
        assert!(
            pending.end > latest_end,
            "the clients keep going until it is fixed"
        );
        // Without settling: the fixed window after the warm-up.
        let rust = plan(ModelKind::Tokio);
        assert!(rust.settle_until.is_none());
        let w = first_window(&rust, t0);
        assert_eq!(
            (w.start - t0, w.end - w.start),
            (rust.warmup, rust.duration)
        );
        assert!(w.contains(t0 + Duration::from_secs_f64(2.5)));
    }
}
