//! Test helpers: run a test body as root inside a private network namespace.

use std::process::Command;

/// Env var set in the re-executed test binary running inside `unshare -n`.
pub const IN_NETNS: &str = "CRAFT_IN_NETNS";

/// True under CI (`CI=true`), where a skipped privileged test must fail instead.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Runs `body` as root in a fresh network namespace with `lo` up.
///
/// `test` is the test function's path below the crate root's module of the
/// caller, built from `module_path!()` by the [`netns_test!`] macro. Outside the
/// namespace this re-executes the current test binary under `unshare -n` with
/// `--exact <test> --nocapture` and checks that exactly that test ran and passed.
/// Not root: fails under CI, otherwise prints a loud SKIPPED and returns.
pub fn run_in_netns(module: &str, name: &str, body: impl FnOnce()) {
    if std::env::var_os(IN_NETNS).is_some() {
        // Already up in a child re-executed from inside (e.g. without capabilities).
        if !crate::link::Interface::by_name("lo").is_ok_and(|lo| lo.is_up) {
            let st = Command::new("ip")
                .args(["link", "set", "lo", "up"])
                .status()
                .expect("run `ip link set lo up`");
            assert!(st.success(), "ip link set lo up failed");
        }
        body();
        return;
    }
    // The path --exact wants: module path without the crate name, then the test.
    let path = match module.split_once("::") {
        Some((_crate, rest)) => format!("{rest}::{name}"),
        None => name.to_string(),
    };
    // SAFETY: geteuid() takes nothing and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        if in_ci() {
            panic!(
                "{path} needs root (it runs in a private network namespace); CI=true, so failing"
            );
        }
        loud(&format!(
            "SKIPPED (needs root): {path} — run `sudo -E cargo test` to include it"
        ));
        return;
    }
    let exe = std::env::current_exe().expect("current_exe");
    let out = Command::new("unshare")
        .arg("-n")
        .arg("--")
        .arg(&exe)
        .args([
            "--exact",
            &path,
            "--nocapture",
            "--include-ignored",
            "--test-threads=1",
        ])
        .env(IN_NETNS, "1")
        .output()
        .expect("run unshare -n (util-linux)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    print!("{stdout}");
    eprint!("{stderr}");
    assert!(
        out.status.success(),
        "{path} failed inside the netns: {}",
        out.status
    );
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "{path}: the re-executed binary did not run exactly this test"
    );
}

/// Prints straight to the process's stderr, past libtest's output capture.
pub fn loud(msg: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "\n*** {msg} ***\n");
}

/// Declares a `#[test]` whose body runs in a private network namespace as root.
macro_rules! netns_test {
    ($(#[$m:meta])* fn $name:ident() $body:block) => {
        $(#[$m])*
        #[test]
        fn $name() {
            $crate::link::testutil::run_in_netns(module_path!(), stringify!($name), || $body);
        }
    };
}
pub(crate) use netns_test;
