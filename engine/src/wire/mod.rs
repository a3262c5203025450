//! The HTTP transport: the request contract, the models' HTTP servers, the
//! HTTP load generator (its own process) and the cell's side of it.
//!
//! In-process, the generator hands each request to the model through a
//! channel; over HTTP it crosses a loopback socket into the model's own
//! server, so the report can show what the wire adds.

pub mod async_http;
pub mod contract;
pub mod drive;
pub mod fd_limit;
pub mod http1;
pub mod jit;
pub mod loadgen;
pub mod pool_http;
pub mod settle;

/// Where a cell's server listens: a free loopback port.
pub const LOOPBACK: std::net::SocketAddr =
    std::net::SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

/// A listening socket on `addr` (port 0: a free one) with the given backlog
/// (what `listen(2)` is asked for; Linux caps it at `net.core.somaxconn`).
pub fn listen(addr: std::net::SocketAddr, backlog: u32) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog.min(i32::MAX as u32) as i32)?;
    Ok(socket.into())
}
