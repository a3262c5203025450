//! The `container` backend: testcontainers with a generic image (the
//! official `postgres` image and the local `threadloop/postgres` one take the
//! same environment and arguments), published on loopback only.

use super::{DB, SETTINGS};
use std::collections::HashMap;
use std::time::Duration;
use testcontainers::bollard::models::PortBinding;
use testcontainers::core::{IntoContainerPort, WaitFor};
use testcontainers::runners::SyncRunner;
use testcontainers::{Container, GenericImage, ImageExt};

/// The official image, pinned to a major version.
pub const OFFICIAL: &str = "postgres:15";
/// Built from Debian's PostgreSQL by `just pg-image` (Docker Hub unreachable).
pub const LOCAL: &str = "threadloop/postgres:15";

/// A running container; dropping it removes it.
pub struct Running {
    _container: Container<GenericImage>,
}

fn split(image: &str) -> (&str, &str) {
    image.rsplit_once(':').unwrap_or((image, "latest"))
}

/// Starts `image`, or (none given) the official image and, when it cannot be
/// pulled, the local one. Returns the container, its loopback port, the
/// image (with its id) and why it was chosen.
pub fn start(
    image: Option<&str>,
    password: &str,
    run_id: &str,
) -> anyhow::Result<(Running, u16, String, String)> {
    let candidates: Vec<&str> = match image {
        Some(i) => vec![i],
        None => vec![OFFICIAL, LOCAL],
    };
    let mut errors = Vec::new();
    for img in candidates {
        match run(img, password, run_id) {
            Ok((c, port)) => {
                let because = match (image, errors.is_empty()) {
                    (Some(_), _) => "--pg-image".to_string(),
                    (None, true) => "the official image is available".to_string(),
                    (None, false) => format!(
                        "the official image is not available ({})",
                        errors.join("; ")
                    ),
                };
                let source = format!("{img} ({})", image_id(img));
                return Ok((Running { _container: c }, port, source, because));
            }
            Err(e) => errors.push(format!("{img}: {e}")),
        }
    }
    anyhow::bail!("{}", errors.join("; "))
}

fn run(
    image: &str,
    password: &str,
    run_id: &str,
) -> anyhow::Result<(Container<GenericImage>, u16)> {
    let (name, tag) = split(image);
    let mut cmd = Vec::new();
    for (k, v) in SETTINGS {
        cmd.push("-c".to_string());
        cmd.push(format!("{k}={v}"));
    }
    let container = GenericImage::new(name, tag)
        .with_exposed_port(5432.tcp())
        // The server's final start logs this on stderr (the official
        // entrypoint's temporary init server logs to stdout).
        .with_wait_for(WaitFor::message_on_stderr(
            "database system is ready to accept connections",
        ))
        .with_env_var("POSTGRES_USER", DB)
        .with_env_var("POSTGRES_PASSWORD", password)
        .with_env_var("POSTGRES_DB", DB)
        .with_cmd(cmd)
        .with_label("threadloop", "postgres")
        .with_label("threadloop.run", run_id)
        // Whose it is: a later run removes it if this runner dies hard.
        .with_label(crate::reap::OWNER_LABEL, crate::reap::owner())
        .with_label(crate::reap::HOST_LABEL, crate::reap::host())
        .with_startup_timeout(Duration::from_secs(120))
        // Loopback only: testcontainers would publish on 0.0.0.0.
        .with_host_config_modifier(|hc| {
            hc.publish_all_ports = Some(false);
            hc.port_bindings = Some(HashMap::from([(
                "5432/tcp".to_string(),
                Some(vec![PortBinding {
                    host_ip: Some("127.0.0.1".into()),
                    host_port: Some(String::new()),
                }]),
            )]));
        })
        .start()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let port = container
        .get_host_port_ipv4(5432.tcp())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((container, port))
}

/// The image's id (its digest), through the docker CLI when there is one.
fn image_id(image: &str) -> String {
    std::process::Command::new("docker")
        .args(["image", "inspect", "--format", "{{.Id}}", image])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "id unknown".into())
}
