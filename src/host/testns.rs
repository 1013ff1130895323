//! Test helper: run a privileged test inside a private network namespace.
//!
//! ```ignore
//! #[test]
//! fn my_test() {
//!     if !testns::enter(module_path!(), "my_test") { return; }
//!     // here: root, inside `unshare -n`, lo is up
//! }
//! ```
//!
//! Not root: with `CI=true` the test fails, otherwise it prints
//! `SKIPPED (needs root)` and passes. Root: the test binary re-executes
//! itself under `unshare -n` with `--exact <name>` and `CRAFT_IN_NETNS=1`,
//! and the outer test passes only if the inner run passed exactly one test.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Set in the environment of a test re-executed inside the namespace.
pub const IN_NETNS: &str = "CRAFT_IN_NETNS";
/// Selects what [`spawn_child`]'s process does (see `tests::child_entry`).
pub const CHILD_MODE: &str = "CRAFT_TEST_CHILD";

fn is_root() -> bool {
    // SAFETY: geteuid() takes nothing and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The libtest name of a test: `module_path!()` without the crate name, plus
/// the function name.
pub fn test_name(module_path: &str, func: &str) -> String {
    let m = module_path.split_once("::").map_or("", |(_, rest)| rest);
    if m.is_empty() {
        func.to_string()
    } else {
        format!("{m}::{func}")
    }
}

fn sh(cmd: &str, args: &[&str]) -> std::process::Output {
    Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd}: {e}"))
}

/// Returns true when the caller is inside the private namespace and should
/// do the real work; false when the test was skipped or ran in a child.
pub fn enter(module_path: &str, func: &str) -> bool {
    if std::env::var(IN_NETNS).as_deref() == Ok("1") {
        let o = sh("ip", &["link", "set", "lo", "up"]);
        assert!(o.status.success(), "ip link set lo up: {o:?}");
        return true;
    }
    if !is_root() {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{func} needs root (CI=true, so not skipping)");
        }
        // Straight to fd 2, past libtest's output capture.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!("\n*** {func}: SKIPPED (needs root) ***\n").as_bytes(),
        );
        return false;
    }
    let name = test_name(module_path, func);
    let exe = std::env::current_exe().expect("current_exe");
    // A private state directory: nothing of the tests lands in /run/craft.
    let state_dir =
        std::env::temp_dir().join(format!("craft-test-{}-{}", std::process::id(), func));
    let _ = std::fs::remove_dir_all(&state_dir);
    let out = Command::new("unshare")
        .arg("-n")
        .arg(exe)
        .args([name.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(IN_NETNS, "1")
        .env("CRAFT_STATE_DIR", &state_dir)
        .env_remove(CHILD_MODE)
        .output()
        .expect("cannot run unshare -n");
    let _ = std::fs::remove_dir_all(&state_dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("--- {name} inside unshare -n ---\n{stdout}{stderr}--- end {name} ---");
    assert!(out.status.success(), "{name} failed inside the namespace");
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "{name}: the inner run did not run exactly that test"
    );
    false
}

/// Runs `nft <args>` and returns stdout (panics on failure).
pub fn nft(args: &[&str]) -> String {
    ensure_nft();
    let o = sh("nft", args);
    assert!(
        o.status.success(),
        "nft {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn ensure_nft() {
    if Command::new("nft").arg("--version").output().is_ok() {
        return;
    }
    let ok = Command::new("sh")
        .args([
            "-c",
            "apt-get update -qq && apt-get install -y -qq nftables",
        ])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "nft is missing and apt-get install nftables failed");
}

/// A child test process in `mode`, ready (it printed `READY`). Killed with
/// SIGKILL by [`ChildProc::kill9`] or on drop.
pub struct ChildProc {
    child: Child,
}

impl ChildProc {
    /// `kill -9` and reap.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Re-executes the test binary running only `host::tests::child_entry` with
/// `CRAFT_TEST_CHILD=mode`; waits up to 10 s for it to print `READY`.
pub fn spawn_child(mode: &str) -> ChildProc {
    let exe = std::env::current_exe().expect("current_exe");
    let mut child = Command::new(exe)
        .args([
            "host::tests::child_entry",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_MODE, mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn child test process");
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.trim_end().ends_with("READY") {
                let _ = tx.send(());
            }
        }
    });
    let proc_ = ChildProc { child };
    rx.recv_timeout(Duration::from_secs(10))
        .unwrap_or_else(|_| panic!("child in mode {mode} never became READY"));
    proc_
}
