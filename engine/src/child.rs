//! The child processes of a cell (the HTTP load generator, a foreign
//! stack) die with it, however it ends: a killed cell leaves no process and
//! no port behind. Each also says whether it is the process under test,
//! for the cell's memory cgroup.

/// Asks the kernel to SIGKILL the child when its parent thread exits
/// (`PR_SET_PDEATHSIG`), set in the child between fork and exec.
pub fn dies_with_parent(command: &mut std::process::Command) -> &mut std::process::Command {
    // SAFETY: prctl in the child before exec is async-signal-safe.
    unsafe {
        use std::os::unix::process::CommandExt as _;
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

/// The child is the process under test (a foreign stack): it joins the
/// cell's memory cgroup between fork and exec, before it allocates
/// anything the cell measures ([`crate::memory`]).
pub fn measured(command: &mut std::process::Command) -> &mut std::process::Command {
    crate::memory::cgroup::join_in_child(command);
    command
}

/// The child is the harness's (the HTTP load generator): it leaves the
/// cell's memory cgroup between fork and exec, so that its threads and
/// sockets are not counted as the model's.
pub fn unmeasured(command: &mut std::process::Command) -> &mut std::process::Command {
    crate::memory::cgroup::leave_in_child(command);
    command
}
