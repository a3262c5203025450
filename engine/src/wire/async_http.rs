//! The contract served by an async model: hyper's HTTP/1.1 server on the
//! model's own runtime, its own reactor and its own sockets (no second
//! runtime hidden behind the model). Each connection is one task of the
//! runtime; each request runs the model's request path inside it, as an
//! axum or actix handler would.

use super::contract::{route, server_timing, Answer, Order, SERVER_TIMING};
use crate::runtime::AsyncRuntime;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Accepts connections on `listener` until the process ends, serving each
/// order with `handler` (the model's request path: `Err` is the reason the
/// I/O failed, answered as a 500).
pub fn serve<R, H, F>(rt: Arc<R>, listener: std::net::TcpListener, handler: H)
where
    R: AsyncRuntime,
    H: Fn(Order) -> F + Send + Sync + 'static,
    F: Future<Output = Result<(), String>> + Send + 'static,
{
    let handler = Arc::new(handler);
    let spawner = rt.clone();
    rt.spawn(async move {
        let listener = match R::listener(listener) {
            Ok(l) => l,
            Err(e) => {
                // The load generator's health check then fails with its own
                // reason; this line says why in the cell's log.
                eprintln!("threadloop-cell: the runtime refused the listener: {e}");
                return;
            }
        };
        loop {
            match R::accept(&listener).await {
                Ok(io) => spawner.spawn(connection::<R, H, F>(io, handler.clone())),
                // Out of file descriptors or a connection reset before it
                // was accepted: back off briefly instead of spinning.
                Err(_) => R::sleep(Duration::from_millis(5)).await,
            }
        }
    });
}

async fn connection<R, H, F>(io: R::Tcp, handler: Arc<H>)
where
    R: AsyncRuntime,
    H: Fn(Order) -> F + Send + Sync + 'static,
    F: Future<Output = Result<(), String>> + Send + 'static,
{
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let handler = handler.clone();
        async move { Ok::<_, Infallible>(respond(&req, handler.as_ref()).await) }
    });
    // A client that goes away mid-request ends only its own connection.
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .await;
}

async fn respond<H, F>(req: &Request<Incoming>, handler: &H) -> Response<Full<Bytes>>
where
    H: Fn(Order) -> F,
    F: Future<Output = Result<(), String>>,
{
    let target = req.uri().path_and_query().map_or("/", |t| t.as_str());
    let answer = match route(target) {
        Err(answer) => answer,
        Ok(order) => {
            let started = std::time::Instant::now();
            let result = handler(order).await;
            Answer::served(&order, result, started.elapsed())
        }
    };
    response(answer)
}

fn response(a: Answer) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(a.body)));
    *r.status_mut() = StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = r.headers_mut();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain"),
    );
    if let Some(v) = a
        .service
        .and_then(|d| hyper::header::HeaderValue::from_str(&server_timing(d)).ok())
    {
        headers.insert(SERVER_TIMING, v);
    }
    r
}
