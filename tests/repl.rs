//! The interactive shell in a real pseudo-terminal (driven by
//! tests/data/drive_repl.py): completion, continuation lines, Ctrl-C, bad
//! lines that do not end the shell, Ctrl-D, history. No privileges needed.

use std::process::Command;

#[test]
fn the_shell_completes_continues_survives_bad_lines_and_keeps_history() {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "python3 is needed to drive the shell"
        );
        eprintln!("\n*** the_shell_...: SKIPPED (no python3) ***\n");
        return;
    }
    let home = std::env::temp_dir().join(format!("craft-repl-{}", std::process::id()));
    let keys = [
        r#"b"p = TCP(dport=7)\r""#,
        r#"b"p.dp\t""#, // completes to p.dport
        r#"b"\r""#,
        r#"b"bogus line (\r""#, // an open bracket continues on the next line
        r#"b")\r""#,
        r#"b"half a line\x03""#, // Ctrl-C clears it
        r#"b"y = nope\r""#,
        r#"b"p.tcp.dport + 1\r""#, // the shell went on, p is still there
        r#"b"\x04""#,              // Ctrl-D leaves
    ];
    let o = Command::new("python3")
        .arg("tests/data/drive_repl.py")
        .arg(env!("CARGO_BIN_EXE_craft"))
        .arg(&home)
        .args(keys)
        .output()
        .expect("python3");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("p.dport"), "Tab completed the field: {out}");
    assert!(out.contains("\n7\r\n") || out.contains("\n7\n"), "{out}");
    assert!(
        out.contains("error: 1:7: syntax error: expected the end of the statement, found 'line'"),
        "{out}"
    );
    assert!(out.contains("error: 1:5: unknown name 'nope'"), "{out}");
    assert!(out.contains("8\r\n") || out.contains("8\n"), "{out}");
    assert!(
        !out.contains("half a line\r\n8"),
        "Ctrl-C dropped the line: {out}"
    );
    assert!(out.trim_end().ends_with("EXIT=0"), "{out}");
    let hist = std::fs::read_to_string(home.join("craft/history")).expect("history saved");
    assert!(
        hist.contains("p = TCP(dport=7)") && hist.contains("p.dport"),
        "{hist}"
    );
    let _ = std::fs::remove_dir_all(&home);
}
