//! One HTTP/1.1 connection read and written with blocking calls: the
//! servers whose request path is synchronous code (the `threads` pool,
//! thread-per-request, `may`'s coroutines, whose blocking calls park the
//! coroutine) share it. Request heads are parsed by `httparse` (hyper's
//! parser); requests are `GET`s without bodies, and pipelined ones are
//! served in order.

use super::contract::{server_timing, Answer, SERVER_TIMING};
use std::io::{Read, Write};

/// A request head larger than this is refused (Tomcat's maxHttpHeaderSize is 8 KiB).
const MAX_HEAD: usize = 8 * 1024;

/// A connection and the bytes read from it but not yet served.
pub struct Conn<S> {
    pub stream: S,
    buf: Vec<u8>,
}

impl<S: Read + Write> Conn<S> {
    pub fn new(stream: S) -> Self {
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

    /// Reads until the next request head is complete and returns its target;
    /// `None` when the client closed the connection. A malformed or
    /// oversized head is an error: the caller closes the connection.
    pub fn next_target(&mut self) -> std::io::Result<Option<String>> {
        let mut chunk = [0u8; 2048];
        loop {
            if !self.buf.is_empty() {
                let mut headers = [httparse::EMPTY_HEADER; 32];
                let mut req = httparse::Request::new(&mut headers);
                match req.parse(&self.buf) {
                    Ok(httparse::Status::Complete(n)) => {
                        let target = req.path.unwrap_or("/").to_string();
                        self.buf.drain(..n);
                        return Ok(Some(target));
                    }
                    Ok(httparse::Status::Partial) if self.buf.len() < MAX_HEAD => {}
                    _ => return Err(std::io::ErrorKind::InvalidData.into()),
                }
            }
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Ok(None);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Whether the client already sent (part of) its next request.
    pub fn has_pending(&self) -> bool {
        !self.buf.is_empty()
    }

    /// Writes one answer, with its Server-Timing when it ran work.
    pub fn write(&mut self, a: &Answer) -> std::io::Result<()> {
        let timing = a
            .service
            .map(|d| format!("{SERVER_TIMING}: {}\r\n", server_timing(d)))
            .unwrap_or_default();
        let head = format!(
            "HTTP/1.1 {} {}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n{timing}\r\n",
            a.status,
            a.reason(),
            a.body.len()
        );
        self.stream.write_all(head.as_bytes())?;
        self.stream.write_all(a.body.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// A stream that reads from a script and records what is written.
    struct Scripted {
        input: Cursor<Vec<u8>>,
        output: Vec<u8>,
    }

    impl Read for Scripted {
        fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
            self.input.read(b)
        }
    }

    impl Write for Scripted {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.output.write(b)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn pipelined_requests_come_out_in_order_then_the_close() {
        let input = b"GET /health HTTP/1.1\r\nhost: x\r\n\r\nGET /work?class=1 HTTP/1.1\r\n\r\n";
        let mut c = Conn::new(Scripted {
            input: Cursor::new(input.to_vec()),
            output: Vec::new(),
        });
        assert_eq!(c.next_target().unwrap().as_deref(), Some("/health"));
        assert!(c.has_pending());
        assert_eq!(c.next_target().unwrap().as_deref(), Some("/work?class=1"));
        assert!(!c.has_pending());
        assert_eq!(c.next_target().unwrap(), None);
    }

    #[test]
    fn an_answer_is_written_with_its_length_and_timing() {
        let mut c = Conn::new(Scripted {
            input: Cursor::new(Vec::new()),
            output: Vec::new(),
        });
        let a = Answer {
            status: 200,
            body: "ok class=0\n".into(),
            service: Some(std::time::Duration::from_millis(2)),
        };
        c.write(&a).unwrap();
        let out = String::from_utf8(c.stream.output).unwrap();
        assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
        assert!(out.contains("content-length: 11\r\n"), "{out}");
        assert!(out.contains("server-timing: app;dur=2.000\r\n"), "{out}");
        assert!(out.ends_with("\r\n\r\nok class=0\n"), "{out}");
    }

    #[test]
    fn a_garbage_head_is_an_error() {
        let mut c = Conn::new(Scripted {
            input: Cursor::new(b"\x00\x01 nonsense\r\n\r\n".to_vec()),
            output: Vec::new(),
        });
        assert!(c.next_target().is_err());
    }
}
