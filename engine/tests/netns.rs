//! Beyond one machine, on one machine: the server in one network namespace,
//! the load generator in another, joined by a veth pair (iproute2), so every
//! request crosses a link between two network stacks as it would between
//! two hosts, and no packet leaves the two namespaces. Needs root (network
//! namespaces); CI runs as root. Without it the test says so and passes.

#[path = "support/peer.rs"]
mod peer;
use std::process::Command;
use threadloop_engine::cell::ModelKind;

/// Two namespaces and the veth pair between them, removed when dropped
/// (deleting a namespace deletes its end of the pair, and with it the peer).
struct Link {
    server_ns: String,
    client_ns: String,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip (iproute2): {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Link {
    /// Namespaces named after this process; a subnet from 10.231.0.0/16
    /// picked by it too, so parallel test processes do not collide.
    fn new() -> Result<(Link, String, String), String> {
        let pid = std::process::id();
        let link = Link {
            server_ns: format!("tl{pid}s"),
            client_ns: format!("tl{pid}c"),
        };
        let (a, b) = (format!("tl{pid}a"), format!("tl{pid}b"));
        let net = format!("10.231.{}", pid % 250);
        let (server_ip, client_ip) = (format!("{net}.1"), format!("{net}.2"));
        for ns in [&link.server_ns, &link.client_ns] {
            ip(&["netns", "add", ns])?;
        }
        ip(&["link", "add", &a, "type", "veth", "peer", "name", &b])?;
        ip(&["link", "set", &a, "netns", &link.server_ns])?;
        ip(&["link", "set", &b, "netns", &link.client_ns])?;
        for (ns, dev, addr) in [
            (&link.server_ns, &a, &server_ip),
            (&link.client_ns, &b, &client_ip),
        ] {
            ip(&["-n", ns, "addr", "add", &format!("{addr}/30"), "dev", dev])?;
            ip(&["-n", ns, "link", "set", dev, "up"])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
        }
        Ok((link, server_ip, client_ip))
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        for ns in [&self.server_ns, &self.client_ns] {
            let _ = ip(&["netns", "delete", ns]);
        }
    }
}

#[test]
fn the_generator_drives_a_server_in_another_network_namespace() {
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: network namespaces need root (CI runs as root)");
        return;
    }
    let (link, server_ip, _client_ip) = Link::new().expect("two namespaces and a veth pair");
    let cell = peer::cell(ModelKind::TokioCurrent, 16, 10.0, 1.0);
    let server = peer::serve_in(Some(&link.server_ns), &format!("{server_ip}:0"), &cell);
    assert!(
        server.addr.starts_with(&server_ip),
        "the server listens on its namespace's address: {}",
        server.addr
    );
    let report = peer::loadgen_in(Some(&link.client_ns), &cell, &server);
    let t = &report.tallies;
    assert!(t.completed > 0, "{report:?}");
    assert_eq!((t.errors, t.timeouts, t.rejected), (0, 0, 0), "{report:?}");
    // The server's address is not reachable from outside the two
    // namespaces: the traffic stayed on the veth pair.
    let outside = std::net::TcpStream::connect_timeout(
        &server.addr.parse().unwrap(),
        std::time::Duration::from_millis(300),
    );
    assert!(outside.is_err(), "reachable from the root namespace");
    drop(server);
    drop(link);
}
