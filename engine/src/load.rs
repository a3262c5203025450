//! The load generator. It runs on the cell process's main thread, never on
//! the runtime under test, so a blocked event loop cannot delay the arrivals
//! that would expose it. It owns every timestamp that defines latency and all
//! the counters; the model only reports starts and ends through a channel.

use crate::cell::{Cell, Load};
use crate::measure::{new_histogram, record, ProcStatus, Usage, Window};
use crate::memory::{KernelMemory, Meter};
use crate::server::{Done, Request, Server, Status};
use crate::theory::inter_arrival;
use crossbeam_channel::{unbounded, Receiver, RecvTimeoutError, Sender};
use hdrhistogram::Histogram;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// How often the generator samples thread count, RSS and kernel memory.
const SAMPLE_EVERY: Duration = Duration::from_millis(20);
/// Completions handled per wake before arrivals and deadlines are checked again.
const BATCH: usize = 1024;

/// Counters of the measured window.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Tallies {
    /// Requests sent (all, including warm-up).
    pub sent: u64,
    /// Answered in time, inside the window.
    pub completed: u64,
    pub errors: u64,
    pub rejected: u64,
    pub timeouts: u64,
    /// Answers that came after their client had given up.
    pub late: u64,
    /// Open loop: arrivals not sent because `max_in_flight` were outstanding.
    pub overflow: u64,
}

/// Counters and latency of one class of the mix.
pub struct ClassTally {
    pub completed: u64,
    pub errors: u64,
    pub rejected: u64,
    pub timeouts: u64,
    pub latency: Histogram<u64>,
}

/// A cell's request mix, for drawing a class per request (both generators).
#[derive(Debug, Clone)]
pub struct ClassMix {
    /// Cumulative weights of the classes; empty without a mix.
    cumulative: Vec<f64>,
}

impl ClassMix {
    pub fn of(cell: &Cell) -> Self {
        ClassMix {
            cumulative: cell
                .classes
                .iter()
                .scan(0.0, |acc, c| {
                    *acc += c.weight;
                    Some(*acc)
                })
                .collect(),
        }
    }

    /// A class index drawn by weight (0 without a mix).
    pub fn draw(&self, rng: &mut SmallRng) -> usize {
        match self.cumulative.last() {
            None => 0,
            Some(&total) => {
                let x = rand::Rng::random::<f64>(rng) * total;
                self.cumulative
                    .iter()
                    .position(|c| x < *c)
                    .unwrap_or(self.cumulative.len() - 1)
            }
        }
    }
}

impl ClassTally {
    /// Empty tallies, one per class of a mix of `classes`.
    pub fn per_class(classes: usize) -> Vec<ClassTally> {
        (0..classes)
            .map(|_| ClassTally {
                completed: 0,
                errors: 0,
                rejected: 0,
                timeouts: 0,
                latency: new_histogram(),
            })
            .collect()
    }
}

/// Everything the generator measured.
pub struct LoadResult {
    /// Per class of the request mix (one entry without a mix).
    pub classes: Vec<ClassTally>,
    pub tallies: Tallies,
    /// From the intended send time to the end, µs (answered in time only).
    pub latency: Histogram<u64>,
    /// From the intended send time to the model starting the request, µs.
    pub queue_wait: Histogram<u64>,
    /// Thread CPU time of each request's CPU part, µs.
    pub cpu: Histogram<u64>,
    /// Over the same requests: the CPU time they used and the time asked of
    /// them (the calibration's), exact sums, so the theory can price CPU work
    /// at the speed the machine really ran during the window.
    pub cpu_used: Duration,
    pub cpu_asked: Duration,
    /// From the model starting a request to its end, µs: the real service time.
    pub service: Histogram<u64>,
    pub window: Window,
    /// Process counters over the window, and the generator thread's share.
    pub usage: Usage,
    pub generator_usage: Usage,
    pub threads_peak: u32,
    pub rss_peak_in_window: u64,
    pub rss_at_window_end: u64,
    /// Address space reserved (`VmSize`), peak in the window.
    pub vm_peak_in_window: u64,
    /// The kernel's side, sampled with RSS: the reading with the largest total.
    pub kernel_peak_in_window: KernelMemory,
}

struct InFlight {
    client: u32,
    class: u16,
    sent: Instant,
}

fn pop_due(queue: &mut VecDeque<(Instant, u32)>, now: Instant) -> Option<(Instant, u32)> {
    queue.front().filter(|(due, _)| *due <= now)?;
    queue.pop_front()
}

pub struct Generator<'a> {
    cell: &'a Cell,
    server: &'a dyn Server,
    tx: Sender<Done>,
    rx: Receiver<Done>,
    /// Answers read, late ones included: `sent - answered` are still in the model.
    answered: u64,
    window: Window,
    timeout: Duration,
    retry_after: Duration,
    in_flight: HashMap<u64, InFlight>,
    /// Deadlines in send order: the timeout is the same for all requests, so
    /// this stays sorted without a heap.
    deadlines: VecDeque<(Instant, u64)>,
    retries: VecDeque<(Instant, u32)>,
    /// Closed loop: first sends, staggered over one service time so clients
    /// do not move in lock-step (which would make completions arrive in bursts
    /// and the window count them in whole bursts).
    starts: VecDeque<(Instant, u32)>,
    next_id: u64,
    t: Tallies,
    latency: Histogram<u64>,
    queue_wait: Histogram<u64>,
    cpu: Histogram<u64>,
    cpu_used: Duration,
    cpu_asked: Duration,
    service: Histogram<u64>,
    /// The process's status at its peak over the window's samples.
    status_peak: ProcStatus,
    memory: &'a Meter,
    kernel_peak: KernelMemory,
    classes: Vec<ClassTally>,
    mix: ClassMix,
    /// Its own stream, so the arrival times stay those the theory replays.
    class_rng: SmallRng,
}

impl<'a> Generator<'a> {
    /// `memory` reads the cell's kernel memory at the moments RSS is read.
    pub fn new(cell: &'a Cell, server: &'a dyn Server, window: Window, memory: &'a Meter) -> Self {
        let (tx, rx) = unbounded();
        Generator {
            cell,
            server,
            tx,
            rx,
            answered: 0,
            window,
            timeout: Duration::from_millis(cell.timeout_ms),
            retry_after: Duration::from_millis(cell.retry_after_ms),
            in_flight: HashMap::new(),
            deadlines: VecDeque::new(),
            retries: VecDeque::new(),
            starts: VecDeque::new(),
            next_id: 0,
            t: Tallies::default(),
            latency: new_histogram(),
            queue_wait: new_histogram(),
            cpu: new_histogram(),
            cpu_used: Duration::ZERO,
            cpu_asked: Duration::ZERO,
            service: new_histogram(),
            status_peak: ProcStatus::default(),
            memory,
            kernel_peak: KernelMemory::default(),
            classes: ClassTally::per_class(cell.classes.len().max(1)),
            mix: ClassMix::of(cell),
            class_rng: SmallRng::seed_from_u64(cell.seed ^ 0x5DEE_CE66_D1CE_4E5B),
        }
    }

    fn send(&mut self, client: u32, intended: Instant) {
        let id = self.next_id;
        self.next_id += 1;
        self.t.sent += 1;
        let class = self.mix.draw(&mut self.class_rng) as u16;
        self.in_flight.insert(
            id,
            InFlight {
                client,
                class,
                sent: intended,
            },
        );
        self.deadlines.push_back((intended + self.timeout, id));
        // Answered requests leave stale deadlines behind; drop them once they
        // outnumber the live ones, so harness memory follows what is in flight
        // (it is part of the RSS the cell reports).
        if self.deadlines.len() > 2 * self.in_flight.len() + 4096 {
            let live = &self.in_flight;
            self.deadlines.retain(|(_, id)| live.contains_key(id));
        }
        self.server
            .submit(Request::new(id, class, intended, self.tx.clone()));
    }

    /// A closed-loop client whose request ended sends its next one; after a
    /// rejection or an error it waits `retry_after` first, so a dead server
    /// (PostgreSQL killed mid-cell, a refused downstream) gets a bounded
    /// stream of retries and the error count stays a count of attempts a
    /// client would make, not of how fast a failure can be returned.
    fn next_for(&mut self, client: u32, failed: bool, now: Instant) {
        if let Load::Closed { .. } = self.cell.load {
            if failed {
                self.retries.push_back((now + self.retry_after, client));
            } else {
                self.send(client, now);
            }
        }
    }

    fn on_done(&mut self, d: Done, now: Instant) {
        self.answered += 1;
        let Some(f) = self.in_flight.remove(&d.id) else {
            if self.window.contains(d.ended) {
                self.t.late += 1;
            }
            return;
        };
        let counted = self.window.contains(d.ended);
        let latency = d.ended.saturating_duration_since(d.intended);
        let last = self.classes.len() - 1;
        let class = &mut self.classes[(f.class as usize).min(last)];
        match d.status {
            Status::Ok if latency > self.timeout => {
                if counted {
                    self.t.timeouts += 1;
                    class.timeouts += 1;
                }
            }
            Status::Ok => {
                if counted {
                    self.t.completed += 1;
                    class.completed += 1;
                    record(&mut class.latency, latency);
                    record(&mut self.latency, latency);
                    if let Some(s) = d.started {
                        record(&mut self.queue_wait, s.saturating_duration_since(f.sent));
                        record(&mut self.service, d.ended.saturating_duration_since(s));
                    }
                    if !d.cpu.is_zero() {
                        record(&mut self.cpu, d.cpu);
                        self.cpu_used += d.cpu;
                        self.cpu_asked += self.cell.asked_cpu(f.class);
                    }
                }
            }
            Status::Error => {
                self.t.errors += counted as u64;
                class.errors += counted as u64;
            }
            Status::Rejected => {
                self.t.rejected += counted as u64;
                class.rejected += counted as u64;
            }
        }
        self.next_for(
            f.client,
            matches!(d.status, Status::Rejected | Status::Error),
            now,
        );
    }

    fn expire(&mut self, now: Instant) {
        while let Some(&(deadline, id)) = self.deadlines.front() {
            if deadline > now {
                break;
            }
            self.deadlines.pop_front();
            if let Some(f) = self.in_flight.remove(&id) {
                if self.window.contains(deadline) {
                    self.t.timeouts += 1;
                    let last = self.classes.len() - 1;
                    self.classes[(f.class as usize).min(last)].timeouts += 1;
                }
                self.next_for(f.client, false, now);
            }
        }
        while let Some((due, client)) =
            pop_due(&mut self.retries, now).or_else(|| pop_due(&mut self.starts, now))
        {
            self.send(client, due);
        }
    }

    fn sample(&mut self) {
        self.status_peak = self.status_peak.peak(ProcStatus::read());
        self.kernel_peak = self.kernel_peak.max_by_total(self.memory.read());
    }

    /// Runs the load until the end of the window and returns what it
    /// measured, and the requests still in the model, to be drained.
    pub fn run(mut self) -> (LoadResult, Unanswered) {
        let start = Instant::now();
        let mut rng = SmallRng::seed_from_u64(self.cell.seed);
        let mut next_arrival = match self.cell.load {
            Load::Closed { concurrency } => {
                let service =
                    Duration::from_secs_f64((self.cell.cpu_ms + self.cell.io_latency_ms) / 1e3);
                let spread = service.min(self.window.start - start);
                for client in 0..concurrency {
                    let offset = spread.mul_f64(client as f64 / concurrency as f64);
                    self.starts.push_back((start + offset, client));
                }
                None
            }
            Load::Open { .. } => Some(start),
        };
        let gap = |rng: &mut SmallRng| match self.cell.load {
            Load::Open { rate_rps, arrival } => {
                Duration::from_secs_f64(inter_arrival(rate_rps, arrival, rng))
            }
            Load::Closed { .. } => Duration::MAX,
        };
        let max_in_flight = self.cell.max_in_flight as usize;
        let mut usage_at_start: Option<(Usage, Usage)> = None;
        let mut next_sample = start;
        loop {
            let now = Instant::now();
            if now >= self.window.end {
                break;
            }
            if usage_at_start.is_none() && now >= self.window.start {
                usage_at_start = Some((Usage::process(), Usage::thread()));
            }
            self.expire(now);
            while let Some(at) = next_arrival.filter(|at| *at <= now) {
                if self.in_flight.len() < max_in_flight {
                    self.send(u32::MAX, at);
                } else if self.window.contains(at) {
                    self.t.overflow += 1;
                }
                next_arrival = Some(at + gap(&mut rng));
            }
            if now >= next_sample && self.window.contains(now) {
                self.sample();
                next_sample = now + SAMPLE_EVERY;
            }
            let mut wake = self.window.end.min(next_sample.max(self.window.start));
            for t in [
                next_arrival,
                // Timeouts are counted to the millisecond: no need to wake for each.
                self.deadlines
                    .front()
                    .map(|d| d.0.max(now + Duration::from_millis(1))),
                self.retries.front().map(|r| r.0),
                self.starts.front().map(|r| r.0),
            ]
            .into_iter()
            .flatten()
            {
                wake = wake.min(t);
            }
            match self.rx.recv_deadline(wake) {
                Ok(done) => {
                    let now = Instant::now();
                    self.on_done(done, now);
                    for _ in 0..BATCH {
                        match self.rx.try_recv() {
                            Ok(done) => self.on_done(done, now),
                            Err(_) => break,
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => unreachable!("the generator holds a sender"),
            }
        }
        let (p0, g0) = usage_at_start.unwrap_or_else(|| (Usage::process(), Usage::thread()));
        let usage = Usage::process().since(&p0);
        let generator_usage = Usage::thread().since(&g0);
        let end_status = ProcStatus::read();
        let kernel_at_end = self.memory.read();
        // Requests still in flight whose deadline fell inside the window are
        // timeouts too, though the loop ended before it could see them.
        let end = self.window.end;
        let deadlines: Vec<(Instant, u64)> = self.deadlines.drain(..).collect();
        for (deadline, id) in deadlines {
            if deadline < end && self.window.contains(deadline) {
                if let Some(f) = self.in_flight.get(&id) {
                    self.t.timeouts += 1;
                    let last = self.classes.len() - 1;
                    self.classes[(f.class as usize).min(last)].timeouts += 1;
                }
            }
        }
        let unanswered = Unanswered {
            rx: self.rx,
            left: self.t.sent - self.answered,
        };
        let result = LoadResult {
            classes: self.classes,
            tallies: self.t,
            latency: self.latency,
            queue_wait: self.queue_wait,
            cpu: self.cpu,
            cpu_used: self.cpu_used,
            cpu_asked: self.cpu_asked,
            service: self.service,
            window: self.window,
            usage,
            generator_usage,
            threads_peak: self.status_peak.threads.max(end_status.threads),
            rss_peak_in_window: self.status_peak.rss_bytes.max(end_status.rss_bytes),
            rss_at_window_end: end_status.rss_bytes,
            vm_peak_in_window: self.status_peak.vm_bytes.max(end_status.vm_bytes),
            kernel_peak_in_window: self.kernel_peak.max_by_total(kernel_at_end),
        };
        (result, unanswered)
    }
}

/// The requests a generator sent whose answers it had not read when its
/// window closed (the model still holds them).
pub struct Unanswered {
    rx: Receiver<Done>,
    left: u64,
}

impl Unanswered {
    /// Nothing to wait for (an HTTP cell: the requests were the generator
    /// process's, and it has ended).
    pub fn none() -> Self {
        let (_, rx) = unbounded();
        Unanswered { rx, left: 0 }
    }

    /// Waits, until `deadline` at the latest, for the model to answer them
    /// all; true when it did. A request the model dropped answers too (as an
    /// error), so only one still running keeps this waiting.
    pub fn drain(&mut self, deadline: Instant) -> bool {
        while self.left > 0 {
            match self.rx.recv_deadline(deadline) {
                Ok(_) => self.left -= 1,
                Err(_) => return false,
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draining_waits_for_every_unanswered_request_and_no_longer() {
        let (tx, rx) = unbounded();
        let (a, b) = (
            Request::new(1, 0, Instant::now(), tx.clone()),
            Request::new(2, 0, Instant::now(), tx.clone()),
        );
        let mut left = Unanswered { rx, left: 2 };
        a.finish(Status::Ok, Duration::ZERO);
        // One is still in the model: the drain gives up at its deadline.
        assert!(!left.drain(Instant::now() + Duration::from_millis(20)));
        // A request the model drops answers too (as an error).
        drop(b);
        assert!(left.drain(Instant::now() + Duration::from_secs(5)));
        // Drained stays drained; the senders may be gone by then.
        drop(tx);
        assert!(left.drain(Instant::now()));
    }
}
