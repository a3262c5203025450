//! A client for the contract's answers, byte by byte: tests that check a
//! server's status lines and bodies directly, besides the load generator.
#![allow(dead_code)]

use std::io::{Read as _, Write as _};

/// The contract's fixed answers, on one keep-alive connection: the health
/// check, a 404, a 400 naming the missing parameter, and one order.
pub const FIXED: [(&str, u16, &str); 4] = [
    ("/health", 200, "ok\n"),
    ("/nope", 404, "not found\n"),
    (
        "/work?class=0&cpu_ms=0&io=timer",
        400,
        "missing parameter `io_ms`\n",
    ),
    (
        "/work?class=3&cpu_ms=0&io=timer&io_ms=0",
        200,
        "ok class=3\n",
    ),
];

/// One GET on a keep-alive connection: the status and the body, read to
/// its content-length.
pub fn get(conn: &mut std::net::TcpStream, target: &str) -> (u16, String) {
    write!(conn, "GET {target} HTTP/1.1\r\nhost: t\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        assert_eq!(conn.read(&mut byte).unwrap(), 1, "closed mid-head");
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).unwrap();
    let status = head[9..12].parse().unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(|v| v.parse().unwrap())
        })
        .expect("a content-length");
    let mut body = vec![0u8; len];
    conn.read_exact(&mut body).unwrap();
    (status, String::from_utf8(body).unwrap())
}
