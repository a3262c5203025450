//! The request contract every server under test answers (written down for
//! people in `stacks/CONTRACT.md`; this file is its one implementation).
//!
//! `GET /work?class=C&cpu_ms=X&io=KIND&io_ms=Y`: do `X` ms of the calibrated
//! CPU work, then wait `Y` ms on `KIND` (`timer`: the server's own timer;
//! `postgres`: a query through the server's driver; `http`: a call to the
//! slow downstream), then answer `200` with the body `ok class=C\n`.
//! `GET /health` answers `200` with `ok\n` once the server takes requests.
//! Anything else is `404`; a malformed `/work` is `400` with the reason.
//! A failed I/O is `500` with the reason: never a `200`.

use crate::cell::IoKind;
use threadloop_vocab::Factor;

pub const WORK: &str = "/work";
pub const HEALTH: &str = "/health";
pub const HEALTH_BODY: &str = "ok\n";

/// One request of the contract: what the server is asked to do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Order {
    /// The request's class in the cell's mix, echoed in the answer.
    pub class: u16,
    pub cpu_ms: f64,
    pub io: IoKind,
    pub io_ms: f64,
}

/// A `/work` request the server cannot read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BadOrder {
    #[error("missing parameter `{0}`")]
    Missing(&'static str),
    #[error("parameter `{name}`: `{value}` is not {expected}")]
    Invalid {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
}

impl Order {
    /// The request target (path and query) that asks for this order.
    pub fn target(&self) -> String {
        format!(
            "{WORK}?class={}&cpu_ms={}&io={}&io_ms={}",
            self.class,
            self.cpu_ms,
            self.io.name(),
            self.io_ms
        )
    }

    /// Reads an order from a request's query string (`class=0&cpu_ms=...`).
    pub fn parse(query: &str) -> Result<Order, BadOrder> {
        let mut class = None;
        let mut cpu_ms = None;
        let mut io = None;
        let mut io_ms = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "class" => class = Some(value),
                "cpu_ms" => cpu_ms = Some(value),
                "io" => io = Some(value),
                "io_ms" => io_ms = Some(value),
                _ => {}
            }
        }
        let ms = |name: &'static str, v: Option<&str>| -> Result<f64, BadOrder> {
            let v = v.ok_or(BadOrder::Missing(name))?;
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .ok_or_else(|| BadOrder::Invalid {
                    name,
                    value: v.to_string(),
                    expected: "a non-negative number of milliseconds",
                })
        };
        let class = class.ok_or(BadOrder::Missing("class"))?;
        let io = io.ok_or(BadOrder::Missing("io"))?;
        Ok(Order {
            class: class.parse().map_err(|_| BadOrder::Invalid {
                name: "class",
                value: class.to_string(),
                expected: "a class index (0 to 65535)",
            })?,
            cpu_ms: ms("cpu_ms", cpu_ms)?,
            io: IoKind::parse_name(io).map_err(|_| BadOrder::Invalid {
                name: "io",
                value: io.to_string(),
                expected: "timer, http or postgres",
            })?,
            io_ms: ms("io_ms", io_ms)?,
        })
    }
}

/// Routes a request target (`/work?class=0&...`): the order a server is
/// to serve, or, for anything but a valid `/work`, the answer itself (the
/// health check, a 400 with the reason, a 404). The contract's one routing,
/// which every server applies before its own request path.
pub fn route(target: &str) -> Result<Order, Answer> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let (status, body) = match path {
        WORK => match Order::parse(query) {
            Ok(order) => return Ok(order),
            Err(e) => (400, format!("{e}\n")),
        },
        HEALTH => (200, HEALTH_BODY.to_string()),
        _ => (404, "not found\n".to_string()),
    };
    Err(Answer {
        status,
        body,
        service: None,
    })
}

/// A server's answer: status, body, and for `/work` the time its request
/// path took (sent as Server-Timing).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub service: Option<std::time::Duration>,
}

impl Answer {
    /// The answer to an order whose request path ended with `result` after
    /// `service`: a failed I/O is a 500 with its reason, never a 200.
    pub fn served(
        order: &Order,
        result: Result<(), String>,
        service: std::time::Duration,
    ) -> Answer {
        let (status, body) = match result {
            Ok(()) => (200, answer(order.class)),
            Err(e) => (500, format!("{e}\n")),
        };
        Answer {
            status,
            body,
            service: Some(service),
        }
    }

    /// The status line's reason phrase.
    pub fn reason(&self) -> &'static str {
        match self.status {
            200 => "OK",
            400 => "Bad Request",
            404 => "Not Found",
            _ => "Internal Server Error",
        }
    }
}

/// The header a server reports its own time on a request in (the W3C
/// Server-Timing header: `app;dur=MS`, from the moment its request path
/// starts the work to the end). Optional in the contract; with it, the
/// generator can split latency into the server's service and the wait
/// before it (queueing, the wire).
pub const SERVER_TIMING: &str = "server-timing";

/// The Server-Timing value for a service of `d`.
pub fn server_timing(d: std::time::Duration) -> String {
    format!("app;dur={:.3}", d.as_secs_f64() * 1e3)
}

/// Reads the service time back from a Server-Timing value (`app;dur=MS`).
pub fn parse_server_timing(v: &str) -> Option<std::time::Duration> {
    let ms: f64 = v
        .split(';')
        .find_map(|p| p.trim().strip_prefix("dur="))?
        .trim()
        .parse()
        .ok()?;
    (ms.is_finite() && ms >= 0.0).then(|| std::time::Duration::from_secs_f64(ms / 1e3))
}

/// The body of a served order.
pub fn answer(class: u16) -> String {
    format!("ok class={class}\n")
}

/// Checks a server's answer to `order`: a `200` whose body is exactly
/// [`answer`]. The reason names what was wrong.
pub fn check(order: &Order, status: u16, body: &[u8]) -> Result<(), String> {
    let expected = answer(order.class);
    if status != 200 {
        return Err(format!(
            "{} answered {status}: {}",
            order.target(),
            String::from_utf8_lossy(body).trim()
        ));
    }
    if body != expected.as_bytes() {
        return Err(format!(
            "{} answered 200 with {:?}, expected {expected:?}",
            order.target(),
            String::from_utf8_lossy(body)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_survives_its_own_target() {
        let o = Order {
            class: 3,
            cpu_ms: 1.5,
            io: IoKind::Postgres,
            io_ms: 50.0,
        };
        let target = o.target();
        let query = target.strip_prefix("/work?").unwrap();
        assert_eq!(Order::parse(query), Ok(o));
    }

    #[test]
    fn a_bad_order_says_which_parameter() {
        assert_eq!(
            Order::parse("class=0&cpu_ms=0&io=timer"),
            Err(BadOrder::Missing("io_ms"))
        );
        let e = Order::parse("class=0&cpu_ms=-1&io=timer&io_ms=5").unwrap_err();
        assert!(e.to_string().contains("cpu_ms"), "{e}");
        let e = Order::parse("class=0&cpu_ms=0&io=disk&io_ms=5").unwrap_err();
        assert!(e.to_string().contains("`disk`"), "{e}");
    }

    #[test]
    fn server_timing_round_trips() {
        let d = std::time::Duration::from_micros(20_125);
        assert_eq!(server_timing(d), "app;dur=20.125");
        assert_eq!(parse_server_timing(&server_timing(d)), Some(d));
        assert_eq!(parse_server_timing("app"), None);
        assert_eq!(parse_server_timing("app;dur=-1"), None);
    }

    #[test]
    fn routes_follow_the_contract() {
        let status = |t: &str| route(t).err().map(|a| a.status);
        assert_eq!(status("/health"), Some(200));
        assert_eq!(status("/nope?x=1"), Some(404));
        assert_eq!(status("/work?class=0"), Some(400));
        let o = route("/work?class=2&cpu_ms=0&io=timer&io_ms=5").expect("a valid order");
        let d = std::time::Duration::from_millis(5);
        assert_eq!(Answer::served(&o, Ok(()), d).body, "ok class=2\n");
        let failed = Answer::served(&o, Err("db down".into()), d);
        assert_eq!(
            (failed.status, failed.reason()),
            (500, "Internal Server Error")
        );
        assert_eq!(failed.service, Some(d));
    }

    #[test]
    fn only_the_exact_answer_passes() {
        let o = Order {
            class: 1,
            cpu_ms: 0.0,
            io: IoKind::Timer,
            io_ms: 0.0,
        };
        assert_eq!(check(&o, 200, b"ok class=1\n"), Ok(()));
        assert!(check(&o, 200, b"ok class=0\n").is_err());
        assert!(check(&o, 500, b"db down").unwrap_err().contains("500"));
    }
}
