//! Tests of the host module. The privileged ones run inside `unshare -n`
//! (see `testns`); nothing here touches the host's own namespace.

use super::testns::{self, nft as nft_cmd, spawn_child};
use super::*;
use std::time::{Duration, Instant};

fn set(name: &str, v: i64) {
    std::fs::write(sysctl::sysctl_path("lo", name), format!("{v}\n")).expect("write sysctl");
}

fn cur() -> (i64, i64) {
    let v = sysctl::read_current("lo").unwrap();
    (v.route_localnet, v.accept_local)
}

fn state_exists() -> bool {
    sysctl::state_path("lo").unwrap().exists()
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(3);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Body of the processes started by `testns::spawn_child`; a no-op otherwise.
#[test]
fn child_entry() {
    let Ok(mode) = std::env::var(testns::CHILD_MODE) else {
        return;
    };
    // Keep the guards alive until we are killed.
    let mut _keep: Vec<Box<dyn std::any::Any>> = Vec::new();
    if let Some(table) = mode.strip_prefix("nft:") {
        let mut g = RstGuard::new(table).expect("child: RstGuard::new");
        g.guard_port(40000).expect("child: guard_port");
        _keep.push(Box::new(g));
    } else if let Some(iface) = mode.strip_prefix("lease:") {
        _keep.push(Box::new(
            SysctlLease::acquire(iface).expect("child: acquire"),
        ));
    } else {
        panic!("unknown child mode {mode}");
    }
    println!("READY");
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

#[test]
fn rst_guard_ruleset_lifecycle() {
    if !testns::enter(module_path!(), "rst_guard_ruleset_lifecycle") {
        return;
    }
    assert_eq!(nft_cmd(&["list", "tables"]).trim(), "");
    let mut g = RstGuard::new("craft_test").expect("RstGuard::new");
    assert_eq!(g.table_name(), "craft_test");
    g.guard_port(40000).expect("guard 40000");
    g.guard_port(40000).expect("guard 40000 again (idempotent)");
    let rs = nft_cmd(&["list", "ruleset"]);
    eprintln!("{rs}");
    assert!(rs.contains("table inet craft_test {"), "{rs}");
    assert!(rs.contains("flags owner"), "{rs}");
    assert!(rs.contains("chain out {"), "{rs}");
    assert!(
        rs.contains("type filter hook output priority filter; policy accept;"),
        "{rs}"
    );
    assert_eq!(
        rs.matches("tcp sport 40000 tcp flags rst drop").count(),
        1,
        "{rs}"
    );

    g.guard_port(40001).expect("guard 40001");
    assert_eq!(g.guarded_ports(), vec![40000, 40001]);
    g.unguard_port(40000).expect("unguard 40000");
    g.unguard_port(40000).expect("unguard 40000 again (no-op)");
    assert_eq!(g.guarded_ports(), vec![40001]);
    let rs = nft_cmd(&["list", "ruleset"]);
    assert!(!rs.contains("40000"), "{rs}");
    assert!(rs.contains("tcp sport 40001 tcp flags rst drop"), "{rs}");

    // The kernel lists it as an owner table.
    let tables = nft::list_tables().expect("list_tables");
    let t = tables
        .iter()
        .find(|t| t.name == "craft_test")
        .expect("listed");
    assert!(t.is_owned() && t.owner.is_some(), "{t:?}");
    assert_eq!(t.family_name(), "inet");

    // Same name while held: another owner has it.
    match RstGuard::new("craft_test") {
        Err(
            e @ HostError::TableExists {
                owned_by_other: true,
                ..
            },
        ) => eprintln!("as expected: {e}"),
        other => panic!("expected TableExists(owned), got {other:?}"),
    }
    // Even root's nft cannot delete an owned table.
    let o = std::process::Command::new("nft")
        .args(["delete", "table", "inet", "craft_test"])
        .output()
        .unwrap();
    assert!(!o.status.success());

    drop(g);
    wait_until("table gone after drop", || {
        nft_cmd(&["list", "tables"]).trim().is_empty()
    });
    // Name reusable at once.
    drop(RstGuard::new("craft_test").expect("name reusable"));

    // A plain table of that name: EEXIST.
    nft_cmd(&["add", "table", "inet", "craft_plain"]);
    match RstGuard::new("craft_plain") {
        Err(
            e @ HostError::TableExists {
                owned_by_other: false,
                ..
            },
        ) => {
            assert!(
                e.to_string().contains("nft delete table inet craft_plain"),
                "{e}"
            );
        }
        other => panic!("expected TableExists(plain), got {other:?}"),
    }
    nft_cmd(&["delete", "table", "inet", "craft_plain"]);
    wait_until("no tables at the end", || {
        nft_cmd(&["list", "tables"]).trim().is_empty()
    });
}

#[test]
fn rst_guard_gone_after_kill9() {
    if !testns::enter(module_path!(), "rst_guard_gone_after_kill9") {
        return;
    }
    let child = spawn_child("nft:craft_killed");
    let rs = nft_cmd(&["list", "ruleset"]);
    assert!(rs.contains("table inet craft_killed"), "{rs}");
    assert!(rs.contains("tcp sport 40000 tcp flags rst drop"), "{rs}");
    child.kill9();
    wait_until("owner table deleted after kill -9", || {
        nft_cmd(&["list", "tables"]).trim().is_empty()
    });
}

#[test]
fn sysctl_leases_overlap_and_recover() {
    if !testns::enter(module_path!(), "sysctl_leases_overlap_and_recover") {
        return;
    }
    set("route_localnet", 0);
    set("accept_local", 0);
    assert_eq!(sysctl::recover_stale("lo").unwrap(), None);
    assert!(!state_exists());

    // Two leases in one process: the first release keeps the values.
    let a = SysctlLease::acquire("lo").expect("acquire a");
    assert_eq!(a.report(), "set lo route_localnet 0→1, accept_local 0→1");
    assert_eq!(cur(), (1, 1));
    assert!(state_exists());
    let b = SysctlLease::acquire("lo").expect("acquire b");
    assert_eq!(b.report(), "lo route_localnet and accept_local already 1");
    a.release().expect("release a");
    assert_eq!(cur(), (1, 1), "b still holds the lease");
    assert!(state_exists());
    drop(b);
    assert_eq!(cur(), (0, 0), "last release restores");
    assert!(!state_exists());

    // Two processes: a live child owner keeps the values after our release.
    let child = spawn_child("lease:lo");
    assert_eq!(cur(), (1, 1));
    let c = SysctlLease::acquire("lo").expect("acquire c");
    assert!(c.changed().is_empty());
    c.release().unwrap();
    assert_eq!(cur(), (1, 1), "child still owns");
    assert_eq!(
        sysctl::recover_stale("lo").unwrap(),
        None,
        "owner alive: nothing stale"
    );

    // kill -9: values stay, then recover_stale restores them.
    child.kill9();
    assert_eq!(cur(), (1, 1));
    assert!(state_exists());
    let msg = sysctl::recover_stale("lo")
        .unwrap()
        .expect("stale state recovered");
    eprintln!("{msg}");
    assert!(
        msg.contains("route_localnet 1→0") && msg.contains("accept_local 1→0"),
        "{msg}"
    );
    assert_eq!(cur(), (0, 0));
    assert!(!state_exists());
    assert_eq!(sysctl::recover_stale("lo").unwrap(), None);

    // kill -9, then a new lease: it keeps the recorded originals.
    let child = spawn_child("lease:lo");
    child.kill9();
    let d = SysctlLease::acquire("lo").expect("acquire d");
    assert_eq!(cur(), (1, 1));
    drop(d);
    assert_eq!(cur(), (0, 0), "originals of the killed run restored");
    assert!(!state_exists());

    // A file left in a destroyed namespace whose inode was reused (other
    // cookie) is discarded, never applied here.
    let path = sysctl::state_path("lo").unwrap();
    let ours = sysctl::netns_cookie().expect("SO_NETNS_COOKIE");
    std::fs::write(
        &path,
        format!(
            "netns x\ncookie {}\niface lo\nroute_localnet 1\naccept_local 1\n",
            ours.wrapping_add(1)
        ),
    )
    .unwrap();
    assert_eq!(sysctl::recover_stale("lo").unwrap(), None);
    assert!(!state_exists());
    assert_eq!(cur(), (0, 0));

    // Non-default originals are restored as found.
    set("accept_local", 1);
    let e = SysctlLease::acquire("lo").unwrap();
    assert_eq!(e.report(), "set lo route_localnet 0→1");
    drop(e);
    assert_eq!(cur(), (0, 1));
    set("accept_local", 0);
}

#[test]
fn host_guard_end_to_end() {
    if !testns::enter(module_path!(), "host_guard_end_to_end") {
        return;
    }
    set("route_localnet", 0);
    set("accept_local", 0);

    // --no-setup touches nothing.
    let mut off = HostGuard::new("lo", false);
    assert!(off.prepare_port(40000).unwrap().is_empty());
    assert_eq!(off.summary(), None);
    assert_eq!(cur(), (0, 0));
    assert_eq!(nft_cmd(&["list", "tables"]).trim(), "");
    drop(off);

    let someone_else = ports::reserve(40002).unwrap();
    let mut hg = HostGuard::new("lo", true);
    assert_eq!(hg.summary(), None);
    let notes = hg.prepare_port(40000).expect("prepare 40000");
    eprintln!("notes: {}", notes.join("; "));
    assert_eq!(notes[0], "set lo route_localnet 0→1, accept_local 0→1");
    assert!(
        notes[1].ends_with("drops kernel RSTs from tcp sport 40000"),
        "{notes:?}"
    );
    assert_eq!(notes[2], "reserved 127.0.0.1:40000");
    assert_eq!(cur(), (1, 1));
    assert!(matches!(
        ports::reserve(40000),
        Err(HostError::PortInUse { port: 40000 })
    ));
    assert!(
        hg.prepare_port(40000).unwrap().is_empty(),
        "second call is a no-op"
    );
    let summary = hg.summary().unwrap();
    eprintln!("{summary}");
    assert_eq!(
        summary,
        format!(
            "craft: prepared lo (route_localnet=1, accept_local=1, nftables table craft_{} drops kernel RSTs from tcp sport 40000); undone on exit",
            std::process::id()
        )
    );

    // A port held by another program: a warning, not an error.
    let notes = hg.prepare_port(40002).expect("prepare 40002");
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("warning: another program holds 127.0.0.1:40002")),
        "{notes:?}"
    );
    let (eph, notes) = hg.prepare_ephemeral().expect("prepare ephemeral");
    assert!(
        notes
            .iter()
            .any(|n| n.ends_with(&format!("tcp sport {eph}"))),
        "{notes:?}"
    );
    assert!(!notes.iter().any(|n| n.starts_with("warning")), "{notes:?}");
    assert_eq!(hg.guarded_ports().len(), 3);
    let rs = nft_cmd(&["list", "ruleset"]);
    for p in [40000, 40002, eph] {
        assert!(
            rs.contains(&format!("tcp sport {p} tcp flags rst drop")),
            "{rs}"
        );
    }

    assert!(hg.release().is_empty());
    assert!(hg.release().is_empty(), "idempotent");
    assert_eq!(hg.summary(), None);
    assert_eq!(cur(), (0, 0));
    assert!(!state_exists());
    wait_until("table gone after release", || {
        nft_cmd(&["list", "tables"]).trim().is_empty()
    });
    drop(ports::reserve(40000).expect("port free after release"));
    drop(someone_else);

    // Drop releases too.
    {
        let mut hg = HostGuard::new("lo", true);
        hg.prepare_port(40000).unwrap();
        assert_eq!(cur(), (1, 1));
    }
    assert_eq!(cur(), (0, 0));
    wait_until("table gone after drop", || {
        nft_cmd(&["list", "tables"]).trim().is_empty()
    });
}

#[test]
fn doctor_in_netns() {
    if !testns::enter(module_path!(), "doctor_in_netns") {
        return;
    }
    set("route_localnet", 0);
    set("accept_local", 0);
    let report = doctor_report("lo");
    for c in &report {
        eprintln!(
            "{:>16} {} {} {:?}",
            c.name,
            if c.ok { "ok " } else { "BAD" },
            c.detail,
            c.fix
        );
    }
    let names: Vec<&str> = report.iter().map(|c| c.name.as_str()).collect();
    for n in [
        "CAP_NET_RAW",
        "CAP_NET_ADMIN",
        "interface",
        "route_localnet",
        "accept_local",
        "nf_tables",
        "state",
        "leftover tables",
    ] {
        assert!(names.contains(&n), "missing check {n}: {names:?}");
    }
    assert!(report.iter().all(|c| c.ok), "{report:?}");
    assert_eq!(
        nft_cmd(&["list", "tables"]).trim(),
        "",
        "doctor leaves no table"
    );

    // A plain craft_* table is a leftover; a killed lease is stale state.
    nft_cmd(&["add", "table", "inet", "craft_999"]);
    let child = spawn_child("lease:lo");
    child.kill9();
    let report = doctor_report("lo");
    let bad: Vec<&Check> = report.iter().filter(|c| !c.ok).collect();
    eprintln!("{bad:?}");
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert!(
        bad.iter()
            .any(|c| c.name == "state" && c.detail.contains("killed"))
    );
    assert!(bad.iter().any(|c| c.name == "leftover tables"
        && c.fix.as_deref() == Some("nft delete table inet craft_999")));
    nft_cmd(&["delete", "table", "inet", "craft_999"]);
    assert!(sysctl::recover_stale("lo").unwrap().is_some());

    // A downed interface is reported.
    let o = std::process::Command::new("ip")
        .args(["link", "set", "lo", "down"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let report = doctor_report("lo");
    assert!(report.iter().any(|c| c.name == "interface" && !c.ok));
    assert!(
        doctor_report("nosuch0")
            .iter()
            .any(|c| c.name == "interface" && c.detail.contains("does not exist"))
    );
}

#[test]
fn error_messages_are_clear() {
    let e = HostError::NeedsNetAdmin {
        what: "creating the nftables table",
    };
    assert!(e.is_permission());
    assert!(
        e.to_string().contains(
            "needs CAP_NET_ADMIN (run as root, or use --no-setup and prepare lo yourself)"
        )
    );
    assert!(
        HostError::NfTablesMissing
            .to_string()
            .contains("modprobe nf_tables")
    );
    assert!(
        HostError::NfnetlinkMissing
            .to_string()
            .contains("nfnetlink")
    );
    assert!(!HostError::NfTablesMissing.is_permission());
    let e = HostError::Netlink {
        op: "adding the nftables rule",
        errno: libc::ENOENT,
        detail: Some("chain not found".into()),
    };
    assert_eq!(
        e.to_string(),
        format!(
            "adding the nftables rule failed: {} (chain not found)",
            std::io::Error::from_raw_os_error(libc::ENOENT)
        )
    );
}

#[test]
fn capeff_parse() {
    let s = "Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t0000000000003000\n";
    let c = parse_capeff(s).unwrap();
    assert!(c & (1 << CAP_NET_RAW) != 0 && c & (1 << CAP_NET_ADMIN) != 0);
    assert_eq!(parse_capeff("CapEff:\tzz\n"), None);
    assert_eq!(parse_capeff(""), None);
}

#[test]
fn loopback_detection_and_test_names() {
    assert!(is_loopback("lo"));
    assert!(!is_loopback("nosuch0"));
    assert!(!is_loopback("../x"));
    assert_eq!(
        testns::test_name("craft::host::tests", "x"),
        "host::tests::x"
    );
}

/// Without privileges every piece fails with a clear permission error and
/// nothing panics. Runs as uid 65534 with no capabilities, inside the netns.
#[test]
fn unprivileged_errors_are_clear() {
    if std::env::var("CRAFT_UNPRIV").as_deref() == Ok("1") {
        let e = RstGuard::new("craft_unpriv").unwrap_err();
        eprintln!("RstGuard::new: {e}");
        assert!(e.is_permission(), "{e:?}");
        assert!(
            e.to_string()
                .contains("needs CAP_NET_ADMIN (run as root, or use --no-setup")
        );
        let e = SysctlLease::acquire("lo").unwrap_err();
        eprintln!("SysctlLease::acquire: {e}");
        assert!(e.is_permission(), "{e:?}");
        let mut hg = HostGuard::new("lo", true);
        let e = hg.prepare_port(40000).unwrap_err();
        assert!(e.is_permission(), "{e:?}");
        assert_eq!(hg.summary(), None);
        assert!(nft::list_tables().unwrap_err().is_permission());
        let report = doctor_report("lo");
        for c in &report {
            eprintln!("{:>16} {} {} {:?}", c.name, c.ok, c.detail, c.fix);
        }
        for n in [
            "CAP_NET_RAW",
            "CAP_NET_ADMIN",
            "route_localnet",
            "nf_tables",
        ] {
            let c = report.iter().find(|c| c.name == n).unwrap();
            assert!(!c.ok && c.fix.is_some(), "{c:?}");
        }
        return;
    }
    if !testns::enter(module_path!(), "unprivileged_errors_are_clear") {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    // Its fallback state directory goes under a temporary TMPDIR, removed after.
    let tmp = std::env::temp_dir().join(format!("craft-unpriv-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::set_permissions(&tmp, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let out = std::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
        ])
        .arg(exe)
        .args([
            "host::tests::unprivileged_errors_are_clear",
            "--exact",
            "--nocapture",
        ])
        .env("CRAFT_UNPRIV", "1")
        .env_remove("CRAFT_STATE_DIR")
        .env("TMPDIR", &tmp)
        .output()
        .expect("setpriv");
    let _ = std::fs::remove_dir_all(&tmp);
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && stdout.contains("1 passed"));
    assert_eq!(cur(), (0, 0));
}
