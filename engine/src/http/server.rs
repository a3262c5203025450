//! The downstream API: answers `GET /delay/{µs}` after that delay with a small
//! JSON body (HTTP/1.1, keep-alive), on its own smol executor in its own
//! process so it is not the model under test. smol's timer (async-io) is used
//! because it is precise to ~0.1 ms; tokio's rounds every sleep up to its
//! next 1 ms tick, which would lengthen every downstream call. It counts what it accepted and
//! answered (in total and per tag) and how accurately it kept each delay.
//! `GET /close/{µs}` waits and then drops the connection without an answer
//! (a fault for tests); `GET /stats` and `GET /stats/{tag}` report.

use super::{TagCount, TAG_HEADER};
use crate::measure::{new_histogram, record};
use bytes_body::Full;
use hdrhistogram::Histogram;
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod bytes_body {
    pub use http_body_util::Full;
}

/// Everything the downstream counted, as `GET /stats` returns it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct DownstreamStats {
    pub connections_accepted: u64,
    pub requests_received: u64,
    pub requests_answered: u64,
    /// Actual delay − requested delay, over every answered request, µs.
    pub delay_error_p50_us: u64,
    pub delay_error_p99_us: u64,
    pub delay_error_max_us: u64,
    /// CPU the downstream process used (user + sys), seconds.
    pub cpu_s: f64,
}

#[derive(Default)]
pub struct Counters {
    accepted: AtomicU64,
    received: AtomicU64,
    answered: AtomicU64,
    per_tag: Mutex<HashMap<String, TagCount>>,
    delay_error: Mutex<Option<Histogram<u64>>>,
}

impl Counters {
    fn tag(&self, tag: Option<&str>, f: impl FnOnce(&mut TagCount)) {
        if let Some(t) = tag {
            f(self
                .per_tag
                .lock()
                .unwrap()
                .entry(t.to_string())
                .or_default());
        }
    }

    pub fn stats(&self) -> DownstreamStats {
        let h = self
            .delay_error
            .lock()
            .unwrap()
            .clone()
            .unwrap_or_else(new_histogram);
        let u = crate::measure::Usage::process();
        DownstreamStats {
            connections_accepted: self.accepted.load(Ordering::Relaxed),
            requests_received: self.received.load(Ordering::Relaxed),
            requests_answered: self.answered.load(Ordering::Relaxed),
            delay_error_p50_us: h.value_at_quantile(0.5),
            delay_error_p99_us: h.value_at_quantile(0.99),
            delay_error_max_us: h.max(),
            cpu_s: u.user_s + u.sys_s,
        }
    }
}

type Reply = Result<Response<Full<Bytes>>, std::io::Error>;

fn json(status: StatusCode, body: String) -> Reply {
    Ok(Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .expect("a valid response"))
}

async fn handle(req: Request<hyper::body::Incoming>, c: Arc<Counters>) -> Reply {
    let tag = req
        .headers()
        .get(TAG_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let path = req.uri().path().to_string();
    let mut parts = path.trim_start_matches('/').splitn(2, '/');
    match (parts.next(), parts.next()) {
        (Some(kind @ ("delay" | "close")), Some(us)) => {
            let Ok(us) = us.parse::<u64>() else {
                return json(
                    StatusCode::BAD_REQUEST,
                    r#"{"error":"delay must be microseconds"}"#.into(),
                );
            };
            c.received.fetch_add(1, Ordering::Relaxed);
            c.tag(tag.as_deref(), |t| t.received += 1);
            let asked = Duration::from_micros(us);
            let t0 = Instant::now();
            smol::Timer::after(asked).await;
            let slept = t0.elapsed();
            if kind == "close" {
                return Err(std::io::Error::other("closing mid-request, as asked"));
            }
            {
                let mut h = c.delay_error.lock().unwrap();
                record(
                    h.get_or_insert_with(new_histogram),
                    slept.saturating_sub(asked),
                );
            }
            c.answered.fetch_add(1, Ordering::Relaxed);
            c.tag(tag.as_deref(), |t| t.answered += 1);
            json(
                StatusCode::OK,
                format!(r#"{{"delay_us":{us},"slept_us":{}}}"#, slept.as_micros()),
            )
        }
        (Some("stats"), None) => json(
            StatusCode::OK,
            serde_json::to_string(&c.stats()).unwrap_or_default(),
        ),
        (Some("stats"), Some(tag)) => {
            let count = c
                .per_tag
                .lock()
                .unwrap()
                .get(tag)
                .cloned()
                .unwrap_or_default();
            json(
                StatusCode::OK,
                serde_json::to_string(&count).unwrap_or_default(),
            )
        }
        _ => json(StatusCode::NOT_FOUND, r#"{"error":"unknown path"}"#.into()),
    }
}

/// Serves on `ex` until the process ends.
pub async fn serve(
    ex: Arc<smol::Executor<'static>>,
    listener: smol::net::TcpListener,
    counters: Arc<Counters>,
) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        counters.accepted.fetch_add(1, Ordering::Relaxed);
        let c = counters.clone();
        ex.spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(req, c.clone()));
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(smol_hyper::rt::FuturesIo::new(stream), service)
                .await;
        })
        .detach();
    }
}
