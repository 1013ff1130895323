//! The binary's offline commands: no privileges needed.

use std::io::Write;
use std::process::{Command, Stdio};

fn craft(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_craft"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("NO_COLOR", "1")
        .spawn()
        .expect("spawn craft");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn tmp(name: &str, body: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("craft-cli-{}-{name}", std::process::id()));
    std::fs::write(&p, body).unwrap();
    p
}

#[test]
fn show_hex_is_one_line_of_lowercase_hex() {
    let (code, out, _) = craft(
        &[
            "show",
            "Ether()/IP(dst=\"127.0.0.1\")/TCP(sport=40000, dport=1234, flags=\"S\", seq=1000)",
            "--hex",
        ],
        "",
    );
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 1);
    let line = out.trim_end();
    assert!(
        line.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
        "{line}"
    );
    // Ether(14) + IP(20) + TCP(20) = 54 bytes; ethertype 0800, IP proto 6, ports, seq.
    assert_eq!(line.len(), 108);
    assert_eq!(&line[24..28], "0800");
    assert_eq!(&line[46..48], "06");
    assert_eq!(&line[68..76], "9c4004d2");
    assert_eq!(&line[76..84], "000003e8");
}

#[test]
fn show_prints_layers_and_a_bad_expression_exits_2_with_line_and_column() {
    let (code, out, _) = craft(&["show", "Ether()/IP()/TCP(flags=\"S\")"], "");
    assert_eq!(code, 0);
    assert!(
        out.contains("###[ TCP ]###") && out.contains("chksum    = 0x"),
        "{out}"
    );
    let (code, _, err) = craft(&["show", "Ether()/IP(ttl=300)"], "");
    assert_eq!(code, 2);
    assert!(
        err.contains("1:12: IP.ttl = 300 is out of range (0..=255)"),
        "{err}"
    );
}

#[test]
fn run_reports_passed_failed_and_syntax_errors() {
    let ok = tmp(
        "ok.craft",
        "p = TCP(flags=\"SA\")\nexpect p.flags == \"AS\"\n",
    );
    let bad = tmp(
        "bad.craft",
        "p = TCP(flags=\"S\")\n\nexpect p.flags == \"SA\"\n",
    );
    let syntax = tmp("syntax.craft", "p = TCP(\n  dport=80,,\n)\n");
    let (code, out, _) = craft(&["run", ok.to_str().unwrap()], "");
    assert_eq!(code, 0);
    assert!(out.contains("passed"), "{out}");
    let (code, out, err) = craft(&["run", ok.to_str().unwrap(), bad.to_str().unwrap()], "");
    assert_eq!(code, 1);
    assert!(
        out.contains(&format!("failed at {}:3", bad.display())),
        "{out}"
    );
    assert!(
        err.contains("expect failed: p.flags == \"SA\"") && err.contains("left:  \"S\""),
        "{err}"
    );
    let (code, _, err) = craft(&["run", "--check", syntax.to_str().unwrap()], "");
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("{}:2:12: syntax error", syntax.display())),
        "{err}"
    );
    let (code, out, _) = craft(&["run", "--check", ok.to_str().unwrap()], "");
    assert_eq!(code, 0, "{out}");
}

#[test]
fn piped_input_runs_like_a_recipe() {
    let (code, out, _) = craft(
        &[],
        "p = Ether()/IP()/TCP(dport=7)\np.tcp.dport\nsummary(p)\n",
    );
    assert_eq!(code, 0);
    assert!(out.contains("7\n"), "{out}");
    // Live input: an unset source port is a free port craft reserved (not scapy's 20).
    assert!(
        out.contains(" > 127.0.0.1.7: Flags [S], seq 0, win 8192, length 0"),
        "{out}"
    );
    assert!(!out.contains("IP 127.0.0.1.20 >"), "{out}");
    let (code, _, err) = craft(&[], "x = 1\ny = nope\nz = 2\n");
    assert_eq!(code, 2);
    assert!(err.contains("<stdin>:2:5: unknown name 'nope'"), "{err}");
}

#[test]
fn read_decodes_a_tcpdump_capture_and_draws_its_flow() {
    let (code, out, _) = craft(&["read", "tests/data/lo-session.pcap"], "");
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 8);
    assert!(
        out.lines()
            .next()
            .unwrap()
            .contains("IP 127.0.0.1.56304 > 127.0.0.1.1234: Flags [S], seq 4175340761"),
        "{out}"
    );
    let (code, out, _) = craft(&["read", "tests/data/lo-session.pcap", "--flow"], "");
    assert_eq!(code, 0);
    let rows: Vec<&str> = out.lines().skip(2).collect();
    assert_eq!(rows.len(), 8, "{out}");
    assert!(
        rows[0].contains("|---") && rows[0].contains("[S] seq=0 win=65495"),
        "{out}"
    );
    assert!(
        rows[1].contains("|<--") && rows[1].contains("[SA] seq=0 ack=1"),
        "{out}"
    );
    assert!(rows[3].contains("[PA] seq=1 ack=1 win=64 len=6"), "{out}");
    assert!(rows[7].contains("[A] seq=8 ack=2"), "{out}");
    let (code, _, err) = craft(&["read", "Cargo.toml"], "");
    assert_eq!(code, 2);
    assert!(err.contains("Cargo.toml"), "{err}");
}

#[test]
fn help_lists_the_commands() {
    let (code, out, _) = craft(&["--help"], "");
    assert_eq!(code, 0);
    for c in [
        "show",
        "run",
        "syn",
        "handshake",
        "send",
        "sniff",
        "read",
        "doctor",
        "completions",
    ] {
        assert!(out.contains(c), "{c}: {out}");
    }
    let (code, out, _) = craft(&["completions", "bash"], "");
    assert_eq!(code, 0);
    assert!(
        out.contains("_craft()") && out.contains("handshake"),
        "{out}"
    );
}
