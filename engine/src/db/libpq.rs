//! The few libpq calls the blocking driver needs, behind a safe type. libpq is
//! what psycopg2 wraps, so a call here blocks the calling thread exactly as a
//! psycopg2 call blocks Python's event loop. (The sync `postgres` crate is not
//! an option: it runs a hidden tokio runtime and panics inside tokio.)

use pq_sys::{ConnStatusType, ExecStatusType, PGconn, PGresult};
use std::ffi::{CStr, CString};
use std::os::raw::c_char;
use std::ptr::NonNull;

/// One libpq connection. libpq connections may move between threads but not
/// be used from two at once, which `&mut self` on every call guarantees.
pub struct Conn(NonNull<PGconn>);

// SAFETY: a PGconn is not tied to the thread that opened it; exclusive use is
// enforced by `&mut self`.
unsafe impl Send for Conn {}

/// What a statement returned: its row count and the first column of the first row.
pub struct Answer {
    pub rows: usize,
    pub first: Option<String>,
}

fn cstring(s: &str) -> Result<CString, String> {
    CString::new(s).map_err(|_| format!("NUL byte in {s:?}"))
}

/// # Safety
/// `p` is null or a NUL-terminated string owned by libpq.
unsafe fn text(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    unsafe { CStr::from_ptr(p) }
        .to_string_lossy()
        .trim()
        .to_string()
}

impl Conn {
    pub fn connect(conninfo: &str) -> Result<Conn, String> {
        let c = cstring(conninfo)?;
        // SAFETY: a valid C string in; libpq returns null only when out of memory.
        let raw = unsafe { pq_sys::PQconnectdb(c.as_ptr()) };
        let conn = Conn(NonNull::new(raw).ok_or("libpq: out of memory")?);
        // SAFETY: `conn` holds a live PGconn.
        if unsafe { pq_sys::PQstatus(conn.0.as_ptr()) } != ConnStatusType::CONNECTION_OK {
            return Err(conn.error());
        }
        Ok(conn)
    }

    fn error(&self) -> String {
        // SAFETY: live PGconn; the message is owned by it.
        unsafe { text(pq_sys::PQerrorMessage(self.0.as_ptr())) }
    }

    pub fn prepare(&mut self, name: &str, sql: &str) -> Result<(), String> {
        let (n, q) = (cstring(name)?, cstring(sql)?);
        // SAFETY: live PGconn, valid strings, no explicit parameter types.
        let res = unsafe {
            pq_sys::PQprepare(self.0.as_ptr(), n.as_ptr(), q.as_ptr(), 0, std::ptr::null())
        };
        self.take(res, ExecStatusType::PGRES_COMMAND_OK).map(drop)
    }

    /// Runs a prepared statement with text parameters and waits for its answer.
    pub fn exec_prepared(&mut self, name: &str, params: &[String]) -> Result<Answer, String> {
        let n = cstring(name)?;
        let values: Vec<CString> = params
            .iter()
            .map(|p| cstring(p))
            .collect::<Result<_, _>>()?;
        let ptrs: Vec<*const c_char> = values.iter().map(|v| v.as_ptr()).collect();
        // SAFETY: live PGconn; `ptrs` points into `values`, alive for the call;
        // null lengths/formats mean text parameters.
        let res = unsafe {
            pq_sys::PQexecPrepared(
                self.0.as_ptr(),
                n.as_ptr(),
                ptrs.len() as i32,
                ptrs.as_ptr(),
                std::ptr::null(),
                std::ptr::null(),
                0,
            )
        };
        self.take(res, ExecStatusType::PGRES_TUPLES_OK)
    }

    /// Runs SQL without parameters (setup statements).
    pub fn exec(&mut self, sql: &str) -> Result<Answer, String> {
        let q = cstring(sql)?;
        // SAFETY: live PGconn, valid string.
        let res = unsafe { pq_sys::PQexec(self.0.as_ptr(), q.as_ptr()) };
        // SAFETY: a non-null result is live.
        let rows = !res.is_null()
            && unsafe { pq_sys::PQresultStatus(res) } == ExecStatusType::PGRES_TUPLES_OK;
        let want = if rows {
            ExecStatusType::PGRES_TUPLES_OK
        } else {
            ExecStatusType::PGRES_COMMAND_OK
        };
        self.take(res, want)
    }

    /// Reads and frees a result, which must have the status `want`.
    fn take(&mut self, res: *mut PGresult, want: ExecStatusType) -> Result<Answer, String> {
        if res.is_null() {
            return Err(self.error());
        }
        // SAFETY: `res` is a live result, freed exactly once below.
        unsafe {
            let status = pq_sys::PQresultStatus(res);
            let out = if status == want {
                let rows = pq_sys::PQntuples(res).max(0) as usize;
                let first =
                    (rows > 0 && pq_sys::PQnfields(res) > 0 && pq_sys::PQgetisnull(res, 0, 0) == 0)
                        .then(|| text(pq_sys::PQgetvalue(res, 0, 0)));
                Ok(Answer { rows, first })
            } else {
                let msg = text(pq_sys::PQresultErrorMessage(res));
                Err(if msg.is_empty() { self.error() } else { msg })
            };
            pq_sys::PQclear(res);
            out
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // SAFETY: the PGconn is live and never used again.
        unsafe { pq_sys::PQfinish(self.0.as_ptr()) }
    }
}
