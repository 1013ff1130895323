//! Harness for privileged integration tests: each runs a bash script as root
//! in a private network namespace (`unshare -n`, lo up) with `$CRAFT` naming
//! the real binary. Without root the test says so loudly and, under CI=true,
//! fails instead of passing silently.

#![allow(dead_code)]

use std::process::{Command, Output};

/// True when privileged tests can run. Otherwise prints a loud SKIPPED line
/// (or panics under CI=true, where a skip would hide a missing check).
pub fn privileged(test: &str) -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let unshare = Command::new("unshare").arg("--help").output().is_ok();
    if root && unshare {
        return true;
    }
    let why = if root {
        "unshare is missing"
    } else {
        "needs root (CAP_NET_RAW, CAP_NET_ADMIN, CAP_SYS_ADMIN for unshare -n)"
    };
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{test}: cannot run: {why}; under CI=true a skipped privileged test is a failure");
    }
    eprintln!("\n*** {test}: SKIPPED ({why}) ***\n");
    false
}

/// Panics when a tool the test needs is missing (CI installs them).
pub fn need(tool: &str) {
    let ok = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "{tool} is not installed: .ci/run installs it (apt-get install -y netcat-openbsd tcpdump nftables)"
    );
}

/// Shell: kill every process in the script's network namespace but the shell.
const KILL_NETNS: &str = "me=$(readlink /proc/$$/ns/net); for p in /proc/[0-9]*; do n=${p#/proc/}; [ \"$n\" != $$ ] && [ \"$(readlink $p/ns/net 2>/dev/null)\" = \"$me\" ] && kill $n 2>/dev/null; done; wait 2>/dev/null";

/// Runs `script` with bash in a new network namespace with lo up.
pub fn netns(script: &str) -> Output {
    // Nothing started in the namespace (nc, tcpdump, servers, pipelines) may
    // outlive the script: it would hold the output pipes open and the test
    // would wait forever. So on exit, kill every process in this namespace.
    let full = format!("set -u\ntrap '{KILL_NETNS}' EXIT\nip link set lo up\n{script}");
    Command::new("unshare")
        .args(["-n", "bash", "-c", &full])
        .env("CRAFT", env!("CARGO_BIN_EXE_craft"))
        .env_remove("NO_COLOR")
        .output()
        .expect("run unshare")
}

/// stdout and stderr of a run, for assertion messages.
pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Lines of the form `KEY=value` printed by a script.
pub fn var(out: &str, key: &str) -> Option<String> {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_string))
}

/// Shell snippet: start `nc -l` on a port and wait until it listens.
pub fn nc_listen(port: u16, extra: &str) -> String {
    format!(
        "nc -l 127.0.0.1 {port} {extra} &\nNC=$!\nfor i in $(seq 50); do ss -ltn 2>/dev/null | grep -q ':{port} ' && break; sleep 0.05; done\n"
    )
}

/// Shell snippet: start tcpdump on lo writing to `file`, and wait until it captures.
pub fn tcpdump_start(file: &str) -> String {
    format!(
        "tcpdump -i lo --immediate-mode -B 65536 -U -s 0 -w {file} tcp 2>/tmp/td.$$ &\nTD=$!\nfor i in $(seq 100); do grep -q listening /tmp/td.$$ && break; sleep 0.05; done\n"
    )
}

/// An in-memory output for engines under test: every clone writes to the same bytes.
#[derive(Clone, Default)]
pub struct Buf(pub std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl std::io::Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buf {
    /// What was written, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.borrow()).into_owned()
    }
}
