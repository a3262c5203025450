//! The machine's kernel memory, where no memory cgroup can be made:
//! `/proc/meminfo`'s `KernelStack`, `SUnreclaim` and `PageTables`, and the
//! TCP pages of `/proc/net/sockstat`. Every process's, so only a delta over
//! a cell's window says something about the cell, and then with whatever
//! else the machine did meanwhile.

use super::KernelMemory;

/// Bytes of a page as `/proc/net/sockstat` counts them.
fn page_bytes() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as u64
    } else {
        4096
    }
}

/// The machine's kernel memory now.
pub fn read() -> KernelMemory {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let sockstat = std::fs::read_to_string("/proc/net/sockstat").unwrap_or_default();
    parse(&meminfo, &sockstat, page_bytes())
}

/// `/proc/meminfo` and `/proc/net/sockstat` as [`KernelMemory`].
pub fn parse(meminfo: &str, sockstat: &str, page: u64) -> KernelMemory {
    let kib = |key: &str| {
        meminfo.lines().find_map(|l| {
            let rest = l.strip_prefix(key)?.strip_prefix(':')?;
            rest.split_whitespace().next()?.parse::<u64>().ok()
        })
    };
    let bytes = |key: &str| kib(key).map(|k| k * 1024);
    // `TCP: inuse 1 orphan 0 tw 0 alloc 1 mem 121`: mem is in pages.
    let tcp_pages = sockstat.lines().find_map(|l| {
        let rest = l.strip_prefix("TCP:")?;
        let words: Vec<&str> = rest.split_whitespace().collect();
        let at = words.iter().position(|w| *w == "mem")?;
        words.get(at + 1)?.parse::<u64>().ok()
    });
    let (stack, slab, tables) = (
        bytes("KernelStack"),
        bytes("SUnreclaim"),
        bytes("PageTables"),
    );
    let sock = tcp_pages.map(|p| p * page);
    KernelMemory {
        total_bytes: [stack, slab, tables, sock].into_iter().flatten().sum(),
        sock_bytes: sock,
        stack_bytes: stack,
        slab_bytes: slab,
        pagetables_bytes: tables,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_and_sockstat_are_summed() {
        let meminfo = "MemTotal:  1000 kB\nSlab:  900 kB\nSUnreclaim:  100 kB\nKernelStack:  16 kB\nPageTables:  8 kB\nSecPageTables:  4 kB\n";
        let sockstat =
            "sockets: used 17\nTCP: inuse 1 orphan 0 tw 0 alloc 1 mem 3\nUDP: inuse 0 mem 9\n";
        let k = parse(meminfo, sockstat, 4096);
        assert_eq!(k.stack_bytes, Some(16 * 1024));
        assert_eq!(k.slab_bytes, Some(100 * 1024));
        assert_eq!(k.pagetables_bytes, Some(8 * 1024));
        assert_eq!(k.sock_bytes, Some(3 * 4096));
        assert_eq!(k.total_bytes, (16 + 100 + 8) * 1024 + 3 * 4096);
    }

    #[test]
    fn what_is_missing_counts_nothing() {
        let k = parse("KernelStack: 2 kB\n", "", 4096);
        assert_eq!(k.total_bytes, 2048);
        assert_eq!((k.sock_bytes, k.slab_bytes), (None, None));
    }
}
