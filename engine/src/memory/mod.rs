//! Memory as the kernel counts it: what the process under test holds that
//! its RSS does not show. A waiting OS thread holds a kernel stack (16 KiB
//! on x86-64) and a task struct in slab; every process its page tables;
//! every connection socket buffers. None of it is in `VmRSS`.
//!
//! Each cell gets a memory cgroup of its own ([`cgroup`]) holding only the
//! process under test: the cell process for the Rust models (its HTTP load
//! generator is moved out), the stack's process for a foreign stack. The
//! cgroup's kernel counters are then that process's alone. Where no memory
//! cgroup can be made, the machine's counters are read instead
//! ([`machine`]), and the cell says so ([`MemorySource::MachineWide`]):
//! their deltas include every other process's.
//!
//! A [`Meter`] is read at the same moments as RSS (before the load, and
//! every 20 ms in the window for its peak); what it reads is a plain
//! [`KernelMemory`].

pub mod cgroup;
pub mod machine;

use serde::{Deserialize, Serialize};
pub use threadloop_vocab::manifest::MemorySource;

/// One reading of the kernel memory charged to the process under test.
/// The parts a source does not separate are `None`; `total_bytes` is
/// always their sum or more (other kernel allocations charged to it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KernelMemory {
    /// Kernel stacks, slab, page tables, socket buffers and the rest of
    /// the kernel memory charged to the process.
    pub total_bytes: u64,
    /// Socket buffers (TCP's, in cgroup v1 and machine-wide).
    pub sock_bytes: Option<u64>,
    /// Kernel stacks (cgroup v2, machine-wide).
    pub stack_bytes: Option<u64>,
    /// Slab (cgroup v2: all of it; machine-wide: the unreclaimable part).
    pub slab_bytes: Option<u64>,
    /// Page tables (cgroup v2, machine-wide).
    pub pagetables_bytes: Option<u64>,
}

impl KernelMemory {
    /// The larger of two readings by total (a window's peak).
    pub fn max_by_total(self, other: KernelMemory) -> KernelMemory {
        if other.total_bytes > self.total_bytes {
            other
        } else {
            self
        }
    }
}

/// Reads one cell's kernel memory, from its cgroup or from the machine.
pub struct Meter {
    source: Source,
    /// Why the meter fell back to the machine's counters, if it did.
    pub note: Option<String>,
}

enum Source {
    Cgroup(cgroup::CellCgroup),
    Machine,
}

impl Meter {
    /// A meter for a cell whose process under test is this process: it
    /// moves into a cgroup of its own (children it starts follow, unless
    /// started through [`crate::child::unmeasured`]).
    pub fn for_this_process() -> Meter {
        Self::open(cgroup::Who::ThisProcess)
    }

    /// A meter for a cell whose process under test is a child still to be
    /// started (a foreign stack's): the child joins the cgroup between fork
    /// and exec ([`crate::child::measured`]); this process stays out.
    pub fn for_a_child() -> Meter {
        Self::open(cgroup::Who::AChild)
    }

    /// Machine-wide only (no cgroup is made).
    pub fn machine_wide(note: impl Into<String>) -> Meter {
        Meter {
            source: Source::Machine,
            note: Some(note.into()),
        }
    }

    fn open(who: cgroup::Who) -> Meter {
        match cgroup::CellCgroup::create(who) {
            Ok(c) => Meter {
                source: Source::Cgroup(c),
                note: None,
            },
            Err(e) => Self::machine_wide(format!(
                "kernel memory read machine-wide (every process's, not the cell's): {e}"
            )),
        }
    }

    /// Where this meter reads.
    pub fn source(&self) -> MemorySource {
        match &self.source {
            Source::Cgroup(c) => c.version(),
            Source::Machine => MemorySource::MachineWide,
        }
    }

    /// The kernel memory now.
    pub fn read(&self) -> KernelMemory {
        match &self.source {
            Source::Cgroup(c) => c.read(),
            Source::Machine => machine::read(),
        }
    }
}

/// What the machine offers, tried as a cell would (a cgroup made and
/// removed again): the source a run's cells will read. Recorded in the
/// manifest.
pub fn probe() -> MemorySource {
    match cgroup::CellCgroup::create(cgroup::Who::AChild) {
        Ok(c) => c.version(),
        Err(_) => MemorySource::MachineWide,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_is_the_reading_with_the_larger_total() {
        let a = KernelMemory {
            total_bytes: 10,
            sock_bytes: Some(1),
            ..KernelMemory::default()
        };
        let b = KernelMemory {
            total_bytes: 20,
            sock_bytes: Some(0),
            ..KernelMemory::default()
        };
        assert_eq!(a.max_by_total(b), b);
        assert_eq!(b.max_by_total(a), b);
        assert_eq!(a.max_by_total(a), a);
    }

    #[test]
    fn a_meter_reads_something_wherever_it_reads() {
        // Machine-wide always exists on Linux; a cgroup where the machine
        // lets this process make one.
        let m = Meter::machine_wide("test");
        assert_eq!(m.source(), MemorySource::MachineWide);
        assert!(m.read().total_bytes > 0);
    }
}
