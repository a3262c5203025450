//! The open-file limit a process with many connections needs: the load
//! generator's side and the server's.

/// File descriptors a process needs besides one per connection.
const SPARE_FDS: u64 = 64;

/// Raises this process's open-file limit to what `connections` need (up to
/// the hard limit); an error says what the machine allows when it refuses.
pub fn raise_fd_limit(connections: u64) -> anyhow::Result<u64> {
    let need = connections + SPARE_FDS;
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid rlimit for getrlimit to fill in.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        anyhow::bail!(
            "getrlimit(RLIMIT_NOFILE): {}",
            std::io::Error::last_os_error()
        );
    }
    if lim.rlim_cur >= need {
        return Ok(lim.rlim_cur);
    }
    anyhow::ensure!(
        lim.rlim_max >= need,
        "{connections} connections need {need} open files, and this machine allows at most {} \
         (the hard RLIMIT_NOFILE; raise it with `ulimit -Hn` as root or in limits.conf)",
        lim.rlim_max
    );
    lim.rlim_cur = need;
    // SAFETY: `lim` is a valid rlimit, the soft limit within the hard one.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
        anyhow::bail!(
            "raising the open-file limit to {need}: {}",
            std::io::Error::last_os_error()
        );
    }
    Ok(need)
}
