//! Bad input catalogue: malformed recipes and REPL lines, each run through the
//! real binary. Every one must exit 2 naming `file:line:column` and what was
//! wrong, and none may panic or overflow the stack.
//!
//! `craft run --check` does not evaluate, so it must catch the syntax cases and
//! may pass the ones that fail only when evaluated; `craft --no-setup run` evaluates
//! (none of these cases sends, so no socket is opened and nothing on the host
//! is touched).

use craft::engine::{Engine, ErrorKind, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// One bad recipe.
struct Case {
    /// Names the temp file and the assertion messages.
    name: &'static str,
    /// The recipe.
    src: Vec<u8>,
    /// A syntax error (`--check` catches it) rather than an evaluation error.
    syntax: bool,
    /// Where the error is, `line:column`.
    at: &'static str,
    /// A phrase the message must contain.
    phrase: &'static str,
}

fn case(
    name: &'static str,
    src: &str,
    syntax: bool,
    at: &'static str,
    phrase: &'static str,
) -> Case {
    Case {
        name,
        src: src.as_bytes().to_vec(),
        syntax,
        at,
        phrase,
    }
}

fn catalogue() -> Vec<Case> {
    let mut v = vec![
        // Strings.
        case(
            "unclosed_string",
            "s = \"abc",
            true,
            "1:5",
            "unclosed string",
        ),
        case(
            "unclosed_string_line_3",
            "x = 1\ny = 2\nz = \"abc\\\"\n",
            true,
            "3:5",
            "unclosed string",
        ),
        case(
            "unknown_escape",
            "x = \"\\q\"",
            true,
            "1:6",
            "unknown escape",
        ),
        // Unknown layers and fields.
        case(
            "unknown_layer",
            "p = Foo()",
            false,
            "1:5",
            "unknown name 'Foo'",
        ),
        case(
            "unknown_field_kwarg",
            "p = TCP(bogus=1)",
            false,
            "1:9",
            "TCP has no field 'bogus'",
        ),
        case(
            "unknown_field_assign",
            "p = TCP()\np.tcp.nope = 1",
            false,
            "2:7",
            "no field or layer 'nope'",
        ),
        case(
            "field_given_twice",
            "p = TCP(sport=1, sport=2)",
            true,
            "1:18",
            "'sport' is given twice",
        ),
        // Wrong types and out-of-range values.
        case(
            "string_for_port",
            "p = TCP(dport=\"x\")",
            false,
            "1:9",
            "takes an integer",
        ),
        case(
            "float_for_flags",
            "p = TCP()\np.tcp.flags = 1.5",
            false,
            "2:7",
            "TCP.flags takes TCP flags",
        ),
        case(
            "string_plus_int",
            "x = \"abc\" + 1",
            false,
            "1:5",
            "cannot apply '+'",
        ),
        case(
            "ttl_300",
            "p = IP(ttl=300)",
            false,
            "1:8",
            "out of range (0..=255)",
        ),
        case(
            "dport_minus_1",
            "p = TCP(dport=-1)",
            false,
            "1:9",
            "out of range (0..=65535)",
        ),
        case(
            "bad_ip_literal",
            "x = 256.1.1.1",
            true,
            "1:5",
            "is not an IPv4 address",
        ),
        case(
            "index_out_of_range",
            "x = [1][5]",
            false,
            "1:8",
            "out of range",
        ),
        // Arithmetic.
        case(
            "division_by_zero",
            "x = 1 / 0",
            false,
            "1:5",
            "division by zero",
        ),
        case(
            "remainder_by_zero",
            "x = 7 % 0",
            false,
            "1:5",
            "division by zero",
        ),
        case(
            "huge_literal",
            "x = 99999999999999999999999",
            true,
            "1:5",
            "too large",
        ),
        case(
            "overflow_mul",
            "x = 2 * 9223372036854775807",
            false,
            "1:5",
            "integer overflow",
        ),
        case(
            "overflow_sub",
            "x = -9223372036854775807 - 2",
            false,
            "1:5",
            "integer overflow",
        ),
        case(
            "huge_repetition",
            "x = \"ab\" * 99999999999",
            false,
            "1:5",
            "at most 16 MiB",
        ),
        // Brackets.
        case("unclosed_paren", "x = (1, 2", true, "1:5", "never closed"),
        case(
            "mismatched_bracket",
            "x = [1, 2)",
            true,
            "1:10",
            "does not close the '['",
        ),
        case("stray_closing", "x = ]", true, "1:5", "without a matching"),
        case(
            "dangling_operator",
            "x = 1 +",
            true,
            "1:8",
            "expected a value",
        ),
        case(
            "two_statements_one_line",
            "x = 1 x = 2",
            true,
            "1:7",
            "the end of the statement",
        ),
        // Statements.
        case("expect_alone", "expect", true, "1:7", "expected a value"),
        case(
            "expect_alone_line_2",
            "x = 1\nexpect\n",
            true,
            "2:7",
            "expected a value",
        ),
        case("assign_to_literal", "1 = 2", true, "1:3", "can be assigned"),
        case("assign_to_none", "none = 1", true, "1:6", "can be assigned"),
        case("keyword_and_as_var", "and = 3", true, "1:1", "found 'and'"),
        case("keyword_in_as_var", "in = 1", true, "1:1", "found 'in'"),
        case(
            "keyword_expect_as_var",
            "expect = 1",
            true,
            "1:8",
            "found '='",
        ),
        case(
            "unknown_name_in_call",
            "print(1, 2, nope)",
            false,
            "1:13",
            "unknown name 'nope'",
        ),
        // Binary junk.
        Case {
            name: "control_bytes",
            src: b"x = 1\n\x00\x01\x02\x1f\n".to_vec(),
            syntax: true,
            at: "2:1",
            phrase: "unexpected character",
        },
    ];
    // Hostile sizes: none may overflow the parser's (or the evaluator's) stack.
    let deep = "expression nested too deeply";
    let big = |name, src: String, at| Case {
        name,
        src: src.into_bytes(),
        syntax: true,
        at,
        phrase: deep,
    };
    v.push(big(
        "one_mb_of_additions",
        format!("x = {}1", "1+".repeat(500_000)),
        "1:204",
    ));
    v.push(big(
        "parens_100k_deep",
        format!("x = {}1{}", "(".repeat(100_000), ")".repeat(100_000)),
        "1:105",
    ));
    v.push(big(
        "lists_100k_deep",
        format!("x = {}{}", "[".repeat(100_000), "]".repeat(100_000)),
        "1:105",
    ));
    v.push(big(
        "negations_100k",
        format!("x = {}1", "-".repeat(100_000)),
        "1:104",
    ));
    v.push(big(
        "nots_100k",
        format!("x = {}1", "not ".repeat(100_000)),
        "1:401",
    ));
    v.push(big(
        "attributes_100k",
        format!("x = 1{}", ".a".repeat(100_000)),
        "1:204",
    ));
    v.push(big(
        "calls_100k",
        format!("x = f{}", "()".repeat(100_000)),
        "1:204",
    ));
    // Wire-level values that would wrap or be left unfinished (issue 11).
    v.extend([
        case(
            "sack_edge_over_32_bits",
            "p = TCP(options=[(\"SAck\", (1, 4294967296))])",
            false,
            "1:9",
            "SAck right edge = 4294967296 is out of range",
        ),
        case(
            "timestamp_over_32_bits",
            "p = TCP(options=[(8, 1, -1)])",
            false,
            "1:9",
            "Timestamp echo reply = -1 is out of range",
        ),
        case(
            "option_kind_with_a_number_for_data",
            "p = TCP(options=[(99, 5)])",
            false,
            "1:9",
            "option kind 99 takes its data as bytes",
        ),
        case(
            "datagram_over_65535",
            "x = 1\nsend(IP()/TCP()/(\"x\" * 65600))",
            false,
            "2:5",
            "IP.len: the datagram is 65640 bytes, over IPv4's 65,535",
        ),
        case(
            "tcp_options_over_40_bytes",
            "send(IP()/TCP(options=\"\\x01\" * 41))",
            false,
            "1:5",
            "TCP.options: 41 bytes of options, over TCP's 40",
        ),
        case(
            "udp_after_padding",
            "send(IP()/Padding(load=\"\\x00\")/UDP())",
            false,
            "1:5",
            "UDP.len cannot be computed: the UDP layer comes after Padding",
        ),
        // A transport layer with nothing to carry it: refused unless raw=true.
        case(
            "tcp_with_no_ip_below",
            "send(TCP(dport=1235))",
            false,
            "1:5",
            "TCP starts the packet, with no IP layer below it",
        ),
        case(
            "udp_on_ether",
            "send(Ether()/UDP())",
            false,
            "1:5",
            "UDP sits on Ether with no IP layer between",
        ),
        case(
            "icmp_on_ether_by_sr1",
            "r = sr1(Ether()/ICMP())",
            false,
            "1:8",
            "sr1(): ICMP sits on Ether",
        ),
    ]);
    // A value nested one level per line: the parser never sees depth, the evaluator must.
    v.push(Case {
        name: "value_nested_100k_lines",
        src: format!("x = 1\n{}", "x = [x]\n".repeat(100_000)).into_bytes(),
        syntax: false,
        at: "102:5",
        phrase: "value nested too deeply",
    });
    v
}

fn craft() -> Command {
    Command::new(env!("CARGO_BIN_EXE_craft"))
}

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("craft-catalogue-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Never a panic, a stack overflow or a signal.
fn no_crash(what: &str, o: &Output) {
    let err = text(&o.stderr);
    assert!(
        o.status.code().is_some(),
        "{what}: killed by a signal: {o:?}"
    );
    for bad in ["panicked", "overflowed its stack", "RUST_BACKTRACE"] {
        assert!(!err.contains(bad), "{what}: {bad}:\n{err}");
    }
}

fn expect_error(what: &str, o: &Output, file: &Path, c: &Case) {
    no_crash(what, o);
    let err = text(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{what}: exit code; stderr:\n{err}"
    );
    let at = format!("{}:{}:", file.display(), c.at);
    assert!(err.contains(&at), "{what}: stderr should name {at}:\n{err}");
    assert!(
        err.contains(c.phrase),
        "{what}: stderr should say {:?}:\n{err}",
        c.phrase
    );
}

#[test]
fn every_bad_recipe_exits_2_naming_where_and_what() {
    let dir = tmpdir("recipes");
    for c in catalogue() {
        let file = dir.join(format!("{}.craft", c.name));
        std::fs::write(&file, &c.src).unwrap();

        let o = craft()
            .args(["run", "--check"])
            .arg(&file)
            .output()
            .unwrap();
        let what = format!("{} (run --check)", c.name);
        if c.syntax {
            expect_error(&what, &o, &file, &c);
        } else {
            // --check does not evaluate: an evaluation error passes it, or is
            // caught by its static checks (unknown names), then with the same rules.
            no_crash(&what, &o);
            match o.status.code() {
                Some(0) => assert!(
                    text(&o.stdout).contains(": ok"),
                    "{what}: {}",
                    text(&o.stdout)
                ),
                _ => expect_error(&what, &o, &file, &c),
            }
        }

        let o = craft()
            .args(["--no-setup", "run"])
            .arg(&file)
            .output()
            .unwrap();
        expect_error(&format!("{} (run)", c.name), &o, &file, &c);
        let line = c.at.split(':').next().unwrap();
        let failed = format!("failed at {}:{line}", file.display());
        assert!(
            text(&o.stdout).contains(&failed),
            "{}: stdout: {}",
            c.name,
            text(&o.stdout)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn invalid_utf8_is_refused_clearly() {
    let dir = tmpdir("utf8");
    let file = dir.join("latin1.craft");
    std::fs::write(&file, b"x = \"caf\xe9\"\n").unwrap();
    for args in [&["run", "--check"][..], &["--no-setup", "run"][..]] {
        let o = craft().args(args).arg(&file).output().unwrap();
        let what = format!("{args:?}");
        no_crash(&what, &o);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{what}: {err}");
        assert!(
            err.contains(&file.display().to_string()),
            "{what}: names the file: {err}"
        );
        assert!(err.contains("valid UTF-8"), "{what}: says why: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn show_refuses_a_deep_expression() {
    let expr = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
    let o = craft().args(["show", &expr]).output().unwrap();
    no_crash("show", &o);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("1:101:") && err.contains("nested too deeply"),
        "{err}"
    );
}

fn pipe(input: &[u8]) -> Output {
    use std::io::Write;
    let mut child = craft()
        .arg("--no-setup")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let o = child.wait_with_output().unwrap();
    writer.join().unwrap();
    o
}

#[test]
fn piped_lines_stop_at_the_first_error() {
    // An evaluation error: what came before ran, what follows does not.
    let o = pipe(b"x = 41\nprint(x + 1)\np = IP(ttl=300)\nprint(\"after\")\n");
    no_crash("piped eval error", &o);
    assert_eq!(o.status.code(), Some(2));
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert!(out.contains("42"), "{out}");
    assert!(!out.contains("after"), "{out}");
    assert!(
        err.contains("<stdin>:3:8:") && err.contains("out of range"),
        "{err}"
    );

    // Piped input runs as it comes: what was complete before a syntax error
    // ran; the error stops the run.
    let o = pipe(b"print(\"before\")\nx = (1,\ny = 2\nprint(\"after\")\n");
    no_crash("piped syntax error", &o);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stdout).contains("before"), "{}", text(&o.stdout));
    assert!(!text(&o.stdout).contains("after"), "{}", text(&o.stdout));
    let err = text(&o.stderr);
    // Inside brackets a newline continues the line: the '(' is what is wrong.
    assert!(
        err.contains("<stdin>:2:5:") && err.contains("never closed"),
        "{err}"
    );

    // Junk, deep nesting, not UTF-8.
    let mut junk = b"x = 1\n".to_vec();
    junk.extend(b"(".repeat(100_000));
    junk.push(b'1');
    junk.extend(b")".repeat(100_000));
    let o = pipe(&junk);
    no_crash("piped nesting", &o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("<stdin>:2:101:"),
        "{}",
        text(&o.stderr)
    );
    let o = pipe(b"x = \"\xff\xfe\"\n");
    no_crash("piped invalid UTF-8", &o);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("standard input") && err.contains("valid UTF-8"),
        "{err}"
    );
}

#[test]
fn the_shell_goes_on_after_each_bad_line() {
    // The REPL runs each line through Engine::run_source: a bad line errors
    // and changes nothing; the next good line sees every variable as it was.
    let mut e = Engine::new(Box::new(std::io::sink()));
    let lines: &[(&str, Option<ErrorKind>)] = &[
        ("x = 1", None),
        ("p = Ether()/IP()/TCP(dport=1234)", None),
        ("s = \"abc", Some(ErrorKind::Syntax)),
        ("x = x + 1", None),
        ("x = 1 / 0", Some(ErrorKind::Eval)),
        ("p.ip.ttl = 300", Some(ErrorKind::Eval)),
        ("p = Foo()", Some(ErrorKind::Eval)),
        ("and = 3", Some(ErrorKind::Syntax)),
        ("1 = 2", Some(ErrorKind::Syntax)),
        ("expect", Some(ErrorKind::Syntax)),
        ("x = 99999999999999999999999", Some(ErrorKind::Syntax)),
        ("\u{0}\u{1}\u{1f}", Some(ErrorKind::Syntax)),
        ("y = [1, 2)", Some(ErrorKind::Syntax)),
        ("expect x == 3", Some(ErrorKind::Expect)),
        ("expect x == 2", None),
        ("p.ip.ttl = 7", None),
        ("z = x * 10", None),
    ];
    for (line, want) in lines {
        let r = e.run_source("", line);
        match want {
            None => assert!(r.is_ok(), "{line:?}: {r:?}"),
            Some(k) => {
                let err = r.expect_err(line);
                assert_eq!(err.kind, *k, "{line:?}: {err}");
                assert_eq!(err.pos.line, 1, "{line:?}: {err}");
                assert!(err.pos.col >= 1, "{line:?}: {err}");
            }
        }
    }
    let deep = format!("q = {}1{}", "(".repeat(100_000), ")".repeat(100_000));
    assert_eq!(e.run_source("", &deep).unwrap_err().kind, ErrorKind::Syntax);
    assert_eq!(e.var("x"), Some(&Value::Int(2)));
    assert_eq!(e.var("z"), Some(&Value::Int(20)));
    assert_eq!(e.eval_str("p.ip.ttl").unwrap(), Value::Int(7));
    assert_eq!(e.eval_str("p.tcp.dport").unwrap(), Value::Int(1234));
    assert!(e.var("s").is_none() && e.var("y").is_none() && e.var("q").is_none());
}

#[test]
fn a_deep_filter_is_an_error_naming_the_line() {
    let o = pipe(b"x = 1\nsniff(filter=\"(\" * 200000 + \"tcp\" + \")\" * 200000)\n");
    no_crash("deep filter", &o);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("<stdin>:2:") && err.contains("nested too deeply"),
        "{err}"
    );
}

#[test]
fn piped_input_runs_each_statement_as_it_comes() {
    // A program driving craft line by line: it reads each answer before it
    // writes the next line (it would wait forever if craft waited for EOF).
    use std::io::{BufRead, BufReader, Write};
    let mut child = craft()
        .arg("--no-setup")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    for (ask, want) in [
        ("x = 20\nprint(x + 1)\n", "21"),
        ("if x == 20 {\n  print(\"yes\")\n}\n", ""),
        ("else {\n  print(\"no\")\n}\nprint(\"next\")\n", "yes"),
        ("print(len(\"abc\"))\n", "next"),
    ] {
        stdin.write_all(ask.as_bytes()).unwrap();
        stdin.flush().unwrap();
        if want.is_empty() {
            continue;
        }
        line.clear();
        out.read_line(&mut line).unwrap();
        assert_eq!(line.trim_end(), want, "after {ask:?}");
    }
    line.clear();
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim_end(), "3");
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

#[test]
fn var_values_are_data_and_unknown_vars_are_refused() {
    let dir = tmpdir("vars");
    let f = dir.join("mode.craft");
    std::fs::write(
        &f,
        "mode = param(\"mode\", \"x\")\nexpect mode == \"send\"\nn = param(\"n\", 0)\nexpect n == 3\n",
    )
    .unwrap();
    let o = craft()
        .args(["--no-setup", "run", "--var", "mode=send", "--var", "n=3"])
        .arg(&f)
        .output()
        .unwrap();
    no_crash("var values", &o);
    assert_eq!(
        o.status.code(),
        Some(0),
        "a value is data, never the builtin: {}",
        text(&o.stderr)
    );
    for args in [&["run", "--check"][..], &["--no-setup", "run"]] {
        let o = craft()
            .args(args)
            .args(["--var", "mdoe=send"])
            .arg(&f)
            .output()
            .unwrap();
        no_crash("unknown var", &o);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("--var mdoe: no recipe here asks for 'mdoe'")
                && err.contains("did you mean 'mode'"),
            "{args:?}: {err}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn run_json_prints_only_json_on_stdout() {
    let dir = tmpdir("json");
    let f = dir.join("talk.craft");
    std::fs::write(&f, "print(\"hello\")\nx = 1\nx\nexpect x == 1\n").unwrap();
    let o = craft()
        .args(["--no-setup", "run", "--json"])
        .arg(&f)
        .output()
        .unwrap();
    no_crash("run --json", &o);
    assert_eq!(o.status.code(), Some(0));
    let out = text(&o.stdout);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.lines().all(|l| l.starts_with('{') && l.ends_with('}')),
        "{out}"
    );
    assert!(
        text(&o.stderr).contains("hello"),
        "human lines go to stderr"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn flags_that_mean_nothing_are_not_offered() {
    for (cmd, absent) in [
        ("completions", "--pcap"),
        ("read", "--pcap"),
        ("read", "--iface"),
        ("show", "--iface"),
        ("show", "--no-setup"),
    ] {
        let o = craft().args([cmd, "--help"]).output().unwrap();
        assert!(
            !text(&o.stdout).contains(absent),
            "{cmd} --help offers {absent}"
        );
    }
    let o = craft()
        .args([
            "--pcap",
            "/tmp/x.pcap",
            "read",
            "tests/data/lo-session.pcap",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--pcap means nothing for craft read"));
    // Still offered where they mean something, before or after the command.
    let o = craft().args(["syn", "--help"]).output().unwrap();
    assert!(text(&o.stdout).contains("--pcap"));
}

#[test]
fn colour_is_asked_for_or_refused() {
    let dump = |color: &str| {
        let o = craft()
            .args([
                "read",
                "tests/data/lo-session.pcap",
                "--hex",
                "--color",
                color,
            ])
            .output()
            .unwrap();
        text(&o.stdout)
    };
    assert!(dump("always").contains("\x1b["));
    assert!(!dump("never").contains("\x1b["));
    assert!(!dump("auto").contains("\x1b["), "not a terminal");
}
