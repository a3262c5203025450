//! The non-blocking client: hyper's HTTP/1.1 client over the runtime's own
//! TcpStream, its connection futures spawned on that same runtime (no hidden
//! runtime thread), with a pool of idle keep-alive connections.

use super::{delay_path, HttpError, Target, TAG_HEADER};
use crate::counters::CellCounters;
use crate::runtime::AsyncRuntime;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct AsyncClient<R: AsyncRuntime> {
    rt: Arc<R>,
    addr: SocketAddr,
    target: Target,
    timeout: Duration,
    idle: Mutex<Vec<SendRequest<Empty<Bytes>>>>,
    /// The cell's counters: each response read completely is counted there.
    counters: Arc<CellCounters>,
}

fn err(e: impl std::fmt::Display) -> HttpError {
    HttpError(e.to_string())
}

impl<R: AsyncRuntime> AsyncClient<R> {
    pub fn new(
        rt: Arc<R>,
        target: Target,
        timeout: Duration,
        counters: Arc<CellCounters>,
    ) -> Result<Self, HttpError> {
        let addr = target
            .addr
            .parse()
            .map_err(|e| err(format!("downstream address {}: {e}", target.addr)))?;
        Ok(AsyncClient {
            rt,
            addr,
            target,
            timeout,
            idle: Mutex::new(Vec::new()),
            counters,
        })
    }

    /// One call, bounded by the timeout.
    pub async fn get(&self, delay: Duration) -> Result<(), HttpError> {
        let deadline = async {
            R::sleep(self.timeout).await;
            Err(err("timed out"))
        };
        futures_lite::future::or(self.call(delay), deadline).await
    }

    async fn call(&self, delay: Duration) -> Result<(), HttpError> {
        let mut sender = self.checkout().await?;
        sender.ready().await.map_err(err)?;
        let req = hyper::Request::get(delay_path(delay))
            .header(hyper::header::HOST, &self.target.addr)
            .header(TAG_HEADER, &self.target.tag)
            .body(Empty::<Bytes>::new())
            .map_err(err)?;
        let resp = sender.send_request(req).await.map_err(err)?;
        let status = resp.status();
        resp.into_body().collect().await.map_err(err)?;
        if status != hyper::StatusCode::OK {
            return Err(err(format!("status {status}")));
        }
        self.counters.count_response();
        self.idle.lock().unwrap().push(sender);
        Ok(())
    }

    async fn checkout(&self) -> Result<SendRequest<Empty<Bytes>>, HttpError> {
        loop {
            let idle = self.idle.lock().unwrap().pop();
            match idle {
                Some(s) if !s.is_closed() => return Ok(s),
                Some(_) => continue,
                None => break,
            }
        }
        let io = R::connect(self.addr).await.map_err(err)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(err)?;
        self.rt.spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }
}
