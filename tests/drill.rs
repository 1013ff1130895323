//! `craft drill`: packetdrill scripts written here (tests/drill/*.pkt, in
//! packetdrill syntax) run by the real binary. Offline: scripts it cannot
//! read or run exit 2 naming the line and the feature. As root in `unshare
//! -n` (craft drill then makes a namespace of its own inside it): scripts
//! against the real kernel pass, and a wrong script fails at its line with
//! both packets shown.

mod common;
use common::*;
use std::process::Command;

fn script(name: &str) -> String {
    format!("{}/tests/drill/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs `craft drill ARGS` here (offline checks need no namespace).
fn drill(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_craft"))
        .arg("drill")
        .args(args)
        .output()
        .expect("run craft");
    let (out, err) = text(&o);
    (o.status.code().unwrap_or(-1), out, err)
}

/// Runs `craft drill ARGS` in a fresh network namespace with the default
/// timing tolerance (for the test that checks timing failures).
fn drill_ns_strict(args: &str) -> (String, String) {
    let o = netns(&format!("\"$CRAFT\" drill {args}; echo RC=$?\n"));
    text(&o)
}

/// Runs `craft drill ARGS` in a fresh network namespace, with 40 ms of
/// timing tolerance: these tests check packets, calls and asserts, and a
/// loaded CI machine can be late by more than packetdrill's 4 ms.
fn drill_ns(args: &str) -> (String, String) {
    drill_ns_strict(&format!("--tolerance-usecs 40000 {args}"))
}

#[test]
fn a_syntax_error_exits_2_naming_the_line() {
    let (rc, _, err) = drill(&[&script("bad-syntax.pkt")]);
    assert_eq!(rc, 2, "{err}");
    assert!(err.contains("bad-syntax.pkt:4: syntax error"), "{err}");
    assert!(err.contains("0:0 is not 10 bytes"), "{err}");
}

#[test]
fn unsupported_features_exit_2_named() {
    let (rc, _, err) = drill(&[&script("unsupported-udp.pkt")]);
    assert_eq!(rc, 2, "{err}");
    assert!(
        err.contains("unsupported-udp.pkt:3: unsupported: udp packets"),
        "{err}"
    );
    let (rc, _, err) = drill(&[&script("unsupported-call.pkt")]);
    assert_eq!(rc, 2, "{err}");
    assert!(
        err.contains("unsupported-call.pkt:3: unsupported: the system call epoll_create()"),
        "{err}"
    );
}

#[test]
fn a_missing_script_exits_2() {
    let (rc, _, err) = drill(&["/nonexistent/x.pkt"]);
    assert_eq!(rc, 2, "{err}");
    assert!(err.contains("/nonexistent/x.pkt"), "{err}");
}

#[test]
fn a_server_script_runs_against_the_kernel() {
    if !privileged("craft drill server") {
        return;
    }
    let (out, err) = drill_ns(&format!("-v {}", script("server-basic.pkt")));
    assert_eq!(var(&out, "RC").as_deref(), Some("0"), "{out}\n{err}");
    assert!(out.contains("events as scripted"), "{out}");
    // The kernel's SYN-ACK, as the verbose log shows it.
    assert!(
        out.contains("> S. 0:0(0) ack 1 win 65535 <mss 1460,nop,nop,sackOK,nop,wscale 8>"),
        "{out}"
    );
}

#[test]
fn a_wrong_packet_fails_at_its_line_with_both_packets() {
    if !privileged("craft drill wrong ack") {
        return;
    }
    let (out, err) = drill_ns(&script("wrong-ack.pkt"));
    assert_eq!(var(&out, "RC").as_deref(), Some("1"), "{out}\n{err}");
    assert!(
        err.contains("wrong-ack.pkt:16: expected tcp_ack_seq 51 (0x33) got 101 (0x65)"),
        "{err}"
    );
    assert!(
        err.contains("script packet:") && err.contains(". 1:1(0) ack 51"),
        "{err}"
    );
    assert!(
        err.contains("actual packet:") && err.contains(". 1:1(0) ack 101 win"),
        "{err}"
    );
}

#[test]
fn a_client_script_with_timestamps_options_and_asserts_passes() {
    if !privileged("craft drill client") {
        return;
    }
    let (out, err) = drill_ns(&format!("-v {}", script("client-nonblocking.pkt")));
    assert_eq!(var(&out, "RC").as_deref(), Some("0"), "{out}\n{err}");
    // The kernel's SYN, its TS val the kernel's own (only the option kinds are checked).
    assert!(out.contains("connect() = -1 EINPROGRESS"), "{out}");
    assert!(
        out.contains("> S 0:0(0) win 65535 <mss 1460,sackOK,TS val "),
        "{out}"
    );
}

#[test]
fn blocking_calls_return_when_the_packets_come() {
    if !privileged("craft drill blocking") {
        return;
    }
    let (out, err) = drill_ns(&format!(
        "-D GREETING=hello -D WIN=257 -v {}",
        script("server-blocking.pkt")
    ));
    assert_eq!(var(&out, "RC").as_deref(), Some("0"), "{out}\n{err}");
    // Without GREETING the first shell command fails: exit 1 at line 5.
    let (out, err) = drill_ns(&format!("-D WIN=257 {}", script("server-blocking.pkt")));
    assert_eq!(var(&out, "RC").as_deref(), Some("1"), "{out}\n{err}");
    assert!(
        err.contains(
            "server-blocking.pkt:5: expected the command `test \"$GREETING\" = hello` to succeed"
        ),
        "{err}"
    );
}

#[test]
fn timing_asserts_and_results_fail_at_their_lines() {
    if !privileged("craft drill failures") {
        return;
    }
    let (out, err) = drill_ns_strict(&script("late-ack.pkt"));
    assert_eq!(var(&out, "RC").as_deref(), Some("1"), "{out}\n{err}");
    assert!(
        err.contains("late-ack.pkt:15: expected outbound packet at 0.1"),
        "{err}"
    );
    assert!(err.contains("(timing error; tolerance 0.01"), "{err}");
    let (out, err) = drill_ns(&script("assert-fails.pkt"));
    assert_eq!(var(&out, "RC").as_deref(), Some("1"), "{out}\n{err}");
    assert!(
        err.contains("assert-fails.pkt:14: expected tcpi_snd_mss == 1 got tcpi_snd_mss = 1000"),
        "{err}"
    );
    let (out, err) = drill_ns(&script("wrong-result.pkt"));
    assert_eq!(var(&out, "RC").as_deref(), Some("1"), "{out}\n{err}");
    assert!(
        err.contains("wrong-result.pkt:5: expected listen() = -1 EINVAL got 0"),
        "{err}"
    );
}

#[test]
fn to_recipe_writes_a_recipe_that_checks() {
    let (rc, out, err) = drill(&["--to-recipe", &script("server-basic.pkt")]);
    assert_eq!(rc, 0, "{err}");
    assert!(
        out.contains("s3 = tcp_listen(\"127.0.0.1\", port)"),
        "{out}"
    );
    assert!(out.contains("isn = p.tcp.seq - 0"), "{out}");
    assert!(
        out.contains("# line 10 (+0.000 s): +0 > S. 0:0(0) ack 1"),
        "{out}"
    );
    let dir = std::env::temp_dir().join(format!("craft-drill-recipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("server-basic.craft");
    std::fs::write(&file, &out).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_craft"))
        .args(["run", "--check"])
        .arg(&file)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn the_recipe_of_a_script_passes_against_the_kernel() {
    if !privileged("craft drill --to-recipe, run") {
        return;
    }
    let (out, err) = drill_ns(&format!(
        "--to-recipe {} > /tmp/r.$$.craft; sysctl -q net.ipv4.tcp_timestamps=0 net.ipv4.tcp_rmem=\"4096 540000 15728640\"; \"$CRAFT\" run /tmp/r.$$.craft; echo RUN=$?; rm -f /tmp/r.$$.craft",
        script("server-basic.pkt")
    ));
    assert_eq!(var(&out, "RUN").as_deref(), Some("0"), "{out}\n{err}");
    assert!(out.contains("passed"), "{out}");
}

#[test]
fn poll_returns_at_once_or_when_data_comes() {
    if !privileged("craft drill poll") {
        return;
    }
    let (out, err) = drill_ns(&script("poll.pkt"));
    assert_eq!(var(&out, "RC").as_deref(), Some("0"), "{out}\n{err}");
}

#[test]
fn tso_bursts_join_into_the_packet_the_script_names() {
    if !privileged("craft drill tso") {
        return;
    }
    let (out, err) = drill_ns(&format!("-v {}", script("tso.pkt")));
    assert_eq!(var(&out, "RC").as_deref(), Some("0"), "{out}\n{err}");
    assert!(out.contains("> P. 1:10001(10000) ack 1 win"), "{out}");
}

#[test]
fn here_runs_in_the_current_namespace_and_leaves_nothing() {
    if !privileged("craft drill --here") {
        return;
    }
    let o = netns(&format!(
        "\"$CRAFT\" drill --here {}; echo RC=$?\nif command -v nft >/dev/null; then echo TABLES=$(nft list tables | grep -c craft); else echo TABLES=no-nft; fi\n\
         echo LOCALNET=$(cat /proc/sys/net/ipv4/conf/lo/route_localnet)\n",
        script("here.pkt")
    ));
    let (out, err) = text(&o);
    assert_eq!(var(&out, "RC").as_deref(), Some("0"), "{out}\n{err}");
    // The nftables table (where nft can list it) and the sysctls are undone at exit.
    let tables = var(&out, "TABLES");
    assert!(
        matches!(tables.as_deref(), Some("0") | Some("no-nft")),
        "{out}"
    );
    assert_eq!(var(&out, "LOCALNET").as_deref(), Some("0"), "{out}");
}

#[test]
fn without_privileges_it_exits_4_saying_why() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        // Not root: the plain run is the unprivileged case.
        let (rc, _, err) = drill(&[&script("server-basic.pkt")]);
        assert_eq!(rc, 4, "{err}");
        return;
    }
    let o = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_craft"))
        .args(["drill", &script("server-basic.pkt")])
        .output();
    let Ok(o) = o else {
        eprintln!("setpriv is missing: the unprivileged case is not checked");
        return;
    };
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(err.contains("craft drill needs root"), "{err}");
}
