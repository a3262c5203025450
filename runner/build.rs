//! Records the compiler that built the runner, for the run manifest.
fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = std::process::Command::new(rustc)
        .arg("-V")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .unwrap_or_default();
    println!("cargo:rustc-env=THREADLOOP_RUSTC={}", version.trim());
    println!("cargo:rerun-if-changed=build.rs");
}
