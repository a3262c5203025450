//! The child processes of a cell (the HTTP load generator, a foreign
//! stack) die with it, however it ends: a killed cell leaves no process and
//! no port behind.

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
