//! One table of names, read everywhere: help, completion, hints, argument
//! binding and `craft run --check` agree on every builtin, layer, method,
//! attribute and keyword. And one output: a closed pipe ends a command
//! quietly, a full disk is an error.

use craft::engine::complete::{complete, hint};
use craft::engine::{Engine, ErrorKind, table};
use craft::wire::LayerKind;
use std::process::{Command, Stdio};

mod common;
use common::Buf;

fn run(src: &str) -> (Result<(), craft::engine::Error>, String) {
    let buf = Buf::default();
    let mut e = Engine::new(Box::new(buf.clone()));
    let r = e.run_source("t.craft", src);
    let out = String::from_utf8_lossy(&buf.0.borrow()).into_owned();
    (r, out)
}

#[test]
fn help_lists_every_builtin_method_and_keyword() {
    let (r, out) = run("help()");
    assert_eq!(r, Ok(()));
    for b in table::BUILTINS {
        assert!(
            out.contains(&b.sig.usage()),
            "help() lacks {}:\n{out}",
            b.sig.name
        );
    }
    for m in table::METHODS {
        assert!(
            out.contains(&format!("c.{}", m.sig.usage())),
            "{}",
            m.sig.name
        );
    }
    for k in table::KEYWORDS {
        assert!(out.contains(k.usage), "help() lacks keyword {}", k.name);
    }
    for k in LayerKind::ALL {
        assert!(out.contains(k.name()), "help() lacks layer {}", k.name());
    }
}

#[test]
fn help_on_every_name_as_a_name_and_as_a_string() {
    let mut names: Vec<&str> = table::all_names().collect();
    names.extend(table::METHODS.iter().map(|m| m.sig.name));
    names.extend(table::ATTRS.iter().map(|a| a.name));
    for n in names {
        let (r, out) = run(&format!("help(\"{n}\")"));
        assert_eq!(r, Ok(()), "help(\"{n}\")");
        assert!(out.contains(n), "help(\"{n}\") says nothing of it: {out}");
        // Builtins, layers and keywords also as bare names: help(expect), help(sr1).
        if table::known(n).is_some() && !matches!(n, "none" | "true" | "false") {
            let (r, bare) = run(&format!("help({n})"));
            assert_eq!(r, Ok(()), "help({n})");
            assert_eq!(bare, out, "help({n}) and help(\"{n}\") differ");
        }
    }
    let (r, out) = run("help(\"c.send\")");
    assert_eq!(r, Ok(()));
    assert!(
        out.contains("c.send(data, segment=the MSS, flight=the window)"),
        "{out}"
    );
    let (r, _) = run("help(\"snd1\")");
    let e = r.unwrap_err();
    assert!(
        e.msg
            .contains("no builtin, layer, method or keyword named 'snd1'"),
        "{}",
        e.msg
    );
}

#[test]
fn arguments_bind_by_the_table_and_mistakes_name_the_argument() {
    let (r, _) = run("p = TCP()\nsr1(p, timout=1)");
    let e = r.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Eval);
    assert_eq!((e.pos.line, e.pos.col), (2, 8));
    assert!(
        e.msg
            .contains("sr1() has no argument 'timout' (did you mean 'timeout'?)"),
        "{}",
        e.msg
    );
    let (r, _) = run("show(TCP(), TCP())");
    assert!(r.unwrap_err().msg.contains("too many arguments"));
    let (r, _) = run("range(1, start=2)");
    assert!(r.unwrap_err().msg.contains("'start' is given twice"));
    let (r, _) = run("x = len()");
    assert!(r.unwrap_err().msg.contains("len() needs value: len(value)"));
    // A keyword argument by its table name works like the positional one.
    let (r, out) = run("summary(packet=IP()/TCP(dport=80))");
    assert_eq!(r, Ok(()));
    assert!(out.contains(".80:"), "{out}");
}

#[test]
fn completion_and_hints_come_from_the_table() {
    let mut e = Engine::new(Box::new(std::io::sink()));
    e.run_source("", "p = Ether()/IP()/TCP()").unwrap();
    // The cases: TCP(fl<Tab> is a field, not `flow`.
    let (_, c) = complete(&e, "TCP(fl", 6);
    let words: Vec<&str> = c.iter().map(|c| c.replacement.as_str()).collect();
    assert_eq!(words, ["flags="]);
    let (_, c) = complete(&e, "expect_packet(p, ses", 20);
    assert!(c.iter().any(|c| c.replacement == "session="), "{c:?}");
    for b in table::BUILTINS {
        let line = format!("{}(", b.sig.name);
        let h = hint(&e, &line, line.len()).unwrap_or_default();
        assert!(h.contains(&b.sig.usage()), "hint for {line}: {h}");
    }
    assert!(hint(&e, "help(", 5).unwrap().contains("help(name=none)"));
}

fn craft() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_craft"));
    c.env("NO_COLOR", "1");
    c
}

fn tmp(name: &str, body: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("craft-shape-{}-{name}", std::process::id()));
    std::fs::write(&p, body).unwrap();
    p
}

#[test]
fn check_knows_argument_names_and_keywords() {
    let f = tmp("args.craft", "p = TCP(dport=1)\nr = sr1(p, timout=1)\n");
    let o = craft().args(["run", "--check"]).arg(&f).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains(":2:12: sr1() has no argument 'timout'"),
        "{err}"
    );
    let f = tmp("kw.craft", "help(expect)\nhelp(for)\n");
    let o = craft().args(["run", "--check"]).arg(&f).output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Runs craft with its stdout a pipe whose reader closes after `lines` lines.
fn closed_after(args: &[&str], lines: usize) -> std::process::Output {
    let mut child = craft()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut seen = 0;
    let mut buf = [0u8; 1];
    use std::io::Read;
    while seen < lines && out.read(&mut buf).unwrap_or(0) == 1 {
        if buf[0] == b'\n' {
            seen += 1;
        }
    }
    drop(out);
    child.wait_with_output().unwrap()
}

#[test]
fn a_closed_pipe_ends_a_command_quietly() {
    for args in [
        &["read", "tests/data/lo-session.pcap"][..],
        &["read", "tests/data/lo-session.pcap", "--hex"],
        &["read", "tests/data/lo-session.pcap", "--show"],
        &["completions", "zsh"],
        &["show", "Ether()/IP()/TCP()"],
    ] {
        let o = closed_after(args, 1);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn a_full_disk_is_an_error_naming_what_failed() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        eprintln!("no /dev/full here");
        return;
    };
    let o = craft()
        .args(["read", "tests/data/lo-session.pcap"])
        .stdout(full)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("writing standard output"), "{err}");
}
