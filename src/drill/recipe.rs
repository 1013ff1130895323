//! `craft drill --to-recipe`: a script as a craft recipe, commented line by
//! line, so a packetdrill test reads as a lesson: the kernel's sockets
//! become `tcp_listen`/`tcp_connect` values, inbound packets `send(...)`,
//! outbound ones `expect_packet(...)` with the kernel's ISN kept in `isn`,
//! asserts `expect k.info().FIELD ...`. What craft's language has no word for
//! stays as a comment saying so.

use super::ast::*;
use crate::wire::tcp::flags;
use std::collections::HashMap;
use std::fmt::Write;

/// The `info()` fields of a kernel socket, by their `tcpi_` names.
const INFO: &[(&str, &str)] = &[
    ("tcpi_rtt", "rtt"),
    ("tcpi_rttvar", "rttvar"),
    ("tcpi_rto", "rto"),
    ("tcpi_snd_mss", "snd_mss"),
    ("tcpi_rcv_mss", "rcv_mss"),
    ("tcpi_snd_cwnd", "snd_cwnd"),
    ("tcpi_snd_ssthresh", "snd_ssthresh"),
    ("tcpi_retransmits", "retransmits"),
    ("tcpi_total_retrans", "total_retrans"),
    ("tcpi_unacked", "unacked"),
    ("tcpi_lost", "lost"),
    ("tcpi_pmtu", "pmtu"),
    ("tcpi_rcv_space", "rcv_space"),
];

fn flag_letters(f: u16) -> String {
    let mut s = String::new();
    for (bit, c) in [
        (flags::FIN, 'F'),
        (flags::SYN, 'S'),
        (flags::RST, 'R'),
        (flags::PSH, 'P'),
        (flags::ACK, 'A'),
        (0x20, 'U'),
        (0x40, 'E'),
        (0x80, 'C'),
    ] {
        if f & bit != 0 {
            s.push(c);
        }
    }
    s
}

fn options(opts: &[Opt]) -> String {
    let v: Vec<String> = opts
        .iter()
        .map(|o| match o {
            Opt::Nop => "(\"NOP\",)".to_string(),
            Opt::Eol => "(\"EOL\",)".to_string(),
            Opt::Mss(m) => format!("(\"MSS\", {m})"),
            Opt::WScale(w) => format!("(\"WScale\", {w})"),
            Opt::SackOk => "(\"SAckOK\",)".to_string(),
            Opt::Ts(v, e) => format!("(\"Timestamp\", ({v}, {e}))"),
            Opt::Sack(b) => {
                let b: Vec<String> = b
                    .iter()
                    .map(|(l, r)| format!("(isn + {l}, isn + {r})"))
                    .collect();
                format!("(\"SAck\", ({},))", b.join(", "))
            }
        })
        .collect();
    format!("[{}]", v.join(", "))
}

fn fd_of(a: Option<&Expr>) -> Option<i64> {
    match a {
        Some(Expr::Int(n)) => Some(*n),
        _ => None,
    }
}

fn time_comment(t: &Time) -> String {
    match t.kind {
        TimeKind::Absolute => format!("at {:.3} s", t.usecs as f64 / 1e6),
        TimeKind::Relative => format!("+{:.3} s", t.usecs as f64 / 1e6),
        TimeKind::Any => "at any time".into(),
        TimeKind::AbsoluteRange => format!(
            "between {:.3} and {:.3} s",
            t.usecs as f64 / 1e6,
            t.end as f64 / 1e6
        ),
        TimeKind::RelativeRange => format!(
            "+{:.3} to +{:.3} s",
            t.usecs as f64 / 1e6,
            t.end as f64 / 1e6
        ),
        TimeKind::Untimed => "before the clock starts".into(),
    }
}

/// The recipe for `script`, read from `file` whose lines are `lines`.
pub fn to_recipe(script: &Script, file: &str, lines: &[&str]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# {file} as a craft recipe (craft drill --to-recipe): each packetdrill line"
    );
    let _ = writeln!(
        o,
        "# is quoted, then done with craft's words. The kernel listens or connects on"
    );
    let _ = writeln!(
        o,
        "# 127.0.0.1 port `port`; craft plays the remote peer from port `peer`, whose"
    );
    let _ = writeln!(
        o,
        "# kernel RSTs craft drops. Sequence numbers are relative: `isn` is the kernel's"
    );
    let _ = writeln!(
        o,
        "# initial sequence number, learned from its first packet."
    );
    let _ = writeln!(o, "#");
    let _ = writeln!(o, "# Run: sudo craft run this.craft");
    let _ = writeln!(o, "port = param(\"port\", 8080)");
    let _ = writeln!(o, "peer = param(\"peer\", 40000)");
    let _ = writeln!(o, "kport = port");
    let _ = writeln!(o, "isn = 0");
    let mut listening: HashMap<i64, bool> = HashMap::new();
    let mut first_out = true;
    let mut server = true;
    let mut last_sock: Option<i64> = None;
    for e in &script.events {
        let src = lines
            .get(e.line.saturating_sub(1))
            .map(|l| l.trim())
            .unwrap_or("");
        let _ = writeln!(o, "\n# line {} ({}): {src}", e.line, time_comment(&e.time));
        if e.time.kind == TimeKind::Relative && e.time.usecs > 0 {
            let _ = writeln!(o, "sleep({})", e.time.usecs as f64 / 1e6);
        }
        match &e.action {
            Action::Shell(cmd) => {
                let _ = writeln!(
                    o,
                    "# a shell command: run `{}` yourself before the recipe",
                    cmd.trim()
                );
            }
            Action::Syscall(c) => syscall(&mut o, c, &mut listening, &mut server, &mut last_sock),
            Action::Packet(p) if p.dir == Dir::In => {
                let ack = match p.ack {
                    Some(a) => format!(", ack=isn + {a}"),
                    None => String::new(),
                };
                let opts = match &p.options {
                    Some(v) if !v.is_empty() => format!(", options={}", options(v)),
                    _ => String::new(),
                };
                let data = if p.len > 0 {
                    format!(" / (\"x\" * {})", p.len)
                } else {
                    String::new()
                };
                let _ = writeln!(
                    o,
                    "send(Ether() / IP(src=\"127.0.0.1\", dst=\"127.0.0.1\") / TCP(sport=peer, dport=kport, flags=\"{}\", seq={}{ack}, window={}{opts}){data})",
                    flag_letters(p.flags),
                    p.seq,
                    p.win.unwrap_or(65535)
                );
            }
            Action::Packet(p) => {
                let (ports, seq) = if first_out && !server {
                    ("dport=port".to_string(), String::new())
                } else if first_out {
                    ("sport=port, dport=peer".to_string(), String::new())
                } else {
                    (
                        "sport=kport, dport=peer".to_string(),
                        format!(", seq=isn + {}", p.seq),
                    )
                };
                let ack = match p.ack {
                    Some(a) => format!(", ack={a}"),
                    None => String::new(),
                };
                let _ = writeln!(
                    o,
                    "p = expect_packet(TCP({ports}, flags=\"{}\"{seq}{ack}), timeout=2)",
                    flag_letters(p.flags)
                );
                if first_out {
                    let _ = writeln!(o, "isn = p.tcp.seq - {}   # the kernel's ISN", p.seq);
                    if !server {
                        let _ = writeln!(o, "kport = p.tcp.sport   # the kernel's port");
                    }
                    first_out = false;
                }
                if p.len > 0 {
                    let _ = writeln!(o, "expect len(p.tcp.payload) == {}", p.len);
                }
                if let Some(w) = p.win {
                    let _ = writeln!(o, "expect p.tcp.window == {w}");
                }
            }
            Action::Assert(list) => {
                for a in list {
                    assert_line(&mut o, a, last_sock);
                }
            }
        }
    }
    o
}

fn syscall(
    o: &mut String,
    c: &Syscall,
    listening: &mut HashMap<i64, bool>,
    server: &mut bool,
    last: &mut Option<i64>,
) {
    let fd = fd_of(c.args.first());
    match (c.name.as_str(), fd) {
        ("socket", _) => {
            let _ = writeln!(o, "# made below by tcp_listen() or tcp_connect()");
        }
        ("bind", _) => {
            let _ = writeln!(o, "# tcp_listen() binds 127.0.0.1:port");
        }
        ("listen", Some(fd)) => {
            listening.insert(fd, true);
            *server = true;
            let _ = writeln!(o, "s{fd} = tcp_listen(\"127.0.0.1\", port)");
        }
        ("accept", Some(fd)) => {
            let n = c.ret.unwrap_or(fd + 1);
            *last = Some(n);
            let _ = writeln!(o, "s{n} = s{fd}.accept(timeout=2)\nexpect s{n} != none");
        }
        ("connect", Some(fd)) => {
            *server = false;
            *last = Some(fd);
            let _ = writeln!(
                o,
                "# the kernel connects from a port of its own to the peer's port\npeer = port\ns{fd} = tcp_connect(\"127.0.0.1\", port)"
            );
        }
        ("write" | "send", Some(fd)) => {
            let n = match c.args.get(2) {
                Some(Expr::Int(n)) => *n,
                _ => 0,
            };
            let _ = writeln!(o, "expect s{fd}.write(\"x\" * {n}) == {n}");
        }
        ("read" | "recv", Some(fd)) => match c.ret {
            Some(n) if n > 0 => {
                let _ = writeln!(o, "expect len(s{fd}.read(timeout=1)) == {n}");
            }
            _ => {
                let _ = writeln!(o, "s{fd}.read(timeout=1)");
            }
        },
        ("shutdown", Some(fd)) => match c.args.get(1) {
            Some(Expr::Sym(s)) if s == "SHUT_WR" => {
                let _ = writeln!(o, "s{fd}.shutdown()");
            }
            _ => {
                let _ = writeln!(
                    o,
                    "# not translated: craft's sockets shut down the write side only"
                );
            }
        },
        ("close", Some(fd)) => {
            let _ = writeln!(o, "s{fd}.close()");
        }
        (name, _) => {
            let _ = writeln!(
                o,
                "# not translated: {name}() (craft's kernel sockets have no word for it)"
            );
        }
    }
}

fn assert_line(o: &mut String, a: &Assert, sock: Option<i64>) {
    let Some(fd) = sock else {
        let _ = writeln!(o, "# not translated: assert {} (no connection yet)", a.text);
        return;
    };
    let mut terms = Vec::new();
    for op in &a.operands {
        terms.push(match op {
            Operand::Num(n) => n.to_string(),
            Operand::Name(n) => match INFO.iter().find(|(t, _)| t == n) {
                Some((_, f)) => format!("s{fd}.info().{f}"),
                None if n.starts_with("TCP_CA_") => {
                    let _ = writeln!(
                        o,
                        "# not translated: assert {} (info() has no ca_state)",
                        a.text
                    );
                    return;
                }
                None => {
                    let _ = writeln!(o, "# not translated: assert {} (info() has no {n})", a.text);
                    return;
                }
            },
        });
    }
    let parts: Vec<String> = a
        .cmps
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let op = match c {
                Cmp::Eq => "==",
                Cmp::Ne => "!=",
                Cmp::Lt => "<",
                Cmp::Le => "<=",
                Cmp::Gt => ">",
                Cmp::Ge => ">=",
            };
            format!("{} {op} {}", terms[i], terms[i + 1])
        })
        .collect();
    let _ = writeln!(o, "expect {}", parts.join(" and "));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recipe(src: &str) -> String {
        let s = crate::drill::parse::parse(src).unwrap();
        let lines: Vec<&str> = src.lines().collect();
        to_recipe(&s, "t.pkt", &lines)
    }

    #[test]
    fn a_client_script_reads_as_a_lesson() {
        let r = recipe(
            "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 connect(3, ..., ...) = 0\n\
             +0 > S 0:0(0) <...>\n+.01 < S. 0:0(0) ack 1 win 100 <mss 1000,sackOK>\n\
             +0 > . 1:1(0) ack 1\n+0 write(3, ..., 10) = 10\n+0 > P. 1:11(10) ack 1 win 4\n\
             +0 %{ assert 1 <= tcpi_snd_cwnd <= 10; assert tcpi_ca_state == TCP_CA_Open }%\n+0 fcntl(3, F_GETFL) = 2\n",
        );
        assert!(r.contains("s3 = tcp_connect(\"127.0.0.1\", port)"), "{r}");
        assert!(
            r.contains("p = expect_packet(TCP(dport=port, flags=\"S\"), timeout=2)"),
            "{r}"
        );
        assert!(r.contains("kport = p.tcp.sport"), "{r}");
        assert!(r.contains("sleep(0.01)"), "{r}");
        assert!(r.contains("flags=\"SA\", seq=0, ack=isn + 1, window=100, options=[(\"MSS\", 1000), (\"SAckOK\",)]"), "{r}");
        assert!(r.contains("expect s3.write(\"x\" * 10) == 10"), "{r}");
        assert!(r.contains("seq=isn + 1, ack=1), timeout=2)\nexpect len(p.tcp.payload) == 10\nexpect p.tcp.window == 4"), "{r}");
        assert!(
            r.contains("expect 1 <= s3.info().snd_cwnd and s3.info().snd_cwnd <= 10"),
            "{r}"
        );
        assert!(
            r.contains("# not translated: assert tcpi_ca_state == TCP_CA_Open"),
            "{r}"
        );
        assert!(r.contains("# not translated: fcntl()"), "{r}");
        assert!(r.contains("# line 4 (+0.010 s): +.01 < S. 0:0(0)"), "{r}");
    }
}
