//! The blocking client: ureq, called on the thread that runs the request (a
//! pool thread, or — the mistake under study — the event loop itself).

use super::{delay_path, HttpError, TagCount, Target, TAG_HEADER};
use crate::counters::CellCounters;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub struct BlockingClient {
    agent: ureq::Agent,
    target: Target,
    /// The cell's counters: each response read completely is counted there.
    counters: Arc<CellCounters>,
}

impl BlockingClient {
    /// `timeout` bounds every call (connect, send, wait, read).
    pub fn new(target: Target, timeout: Duration, counters: Arc<CellCounters>) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            // Keep a connection per concurrent caller (ureq keeps 3 per host by default).
            .max_idle_connections(100_000)
            .max_idle_connections_per_host(100_000)
            .build();
        BlockingClient {
            agent: ureq::Agent::new_with_config(config),
            target,
            counters,
        }
    }

    pub fn get(&self, delay: Duration) -> Result<(), HttpError> {
        let url = format!("http://{}{}", self.target.addr, delay_path(delay));
        self.call(&url).map(drop)
    }

    fn call(&self, url: &str) -> Result<String, HttpError> {
        let mut resp = self
            .agent
            .get(url)
            .header(TAG_HEADER, &self.target.tag)
            .call()
            .map_err(|e| HttpError(e.to_string()))?;
        let status = resp.status();
        let body = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| HttpError(e.to_string()))?;
        if status != 200 {
            return Err(HttpError(format!("status {status}")));
        }
        self.counters.count_response();
        Ok(body)
    }

    /// The downstream's count for this client's tag.
    pub fn tag_count(&self) -> Result<TagCount, HttpError> {
        let url = format!("http://{}/stats/{}", self.target.addr, self.target.tag);
        let mut resp = self
            .agent
            .get(&url)
            .call()
            .map_err(|e| HttpError(e.to_string()))?;
        let body = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| HttpError(e.to_string()))?;
        serde_json::from_str(&body).map_err(|e| HttpError(e.to_string()))
    }
}
