use super::op::*;
use super::*;

/// Ether/IPv4/TCP 127.0.0.1:40000 -> 127.0.0.1:`dport`, flags `flags`.
fn tcp_frame(dport: u16, flags: u8) -> Vec<u8> {
    let mut f = vec![0u8; 12];
    f.extend_from_slice(&[0x08, 0x00]);
    f.extend_from_slice(&[
        0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
    ]);
    f.extend_from_slice(&40000u16.to_be_bytes());
    f.extend_from_slice(&dport.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    f
}

/// Every jump lands inside the program and it ends with a return.
fn well_formed(p: &Program) {
    let n = p.insns().len();
    assert!(n >= 1);
    assert_eq!(p.insns()[n - 1].code & 0x07, RET);
    for (i, ins) in p.insns().iter().enumerate() {
        if ins.code & 0x07 == JMP {
            if ins.code == JMP | JA {
                assert!(i + 1 + (ins.k as usize) < n, "ja at {i}");
            } else {
                assert!(i + 1 + usize::from(ins.jt) < n, "jt at {i}");
                assert!(i + 1 + usize::from(ins.jf) < n, "jf at {i}");
            }
        }
        if ins.code == ST || ins.code == LD | MEM {
            assert!((ins.k as usize) < MEMWORDS);
        }
    }
}

#[test]
fn primitives_and_precedence() {
    let syn = tcp_frame(1234, 0x02);
    let ack = tcp_frame(80, 0x10);
    for (f, on_syn, on_ack) in [
        ("", true, true),
        ("tcp port 1234", true, false),
        ("tcp and dst port 1234", true, false),
        ("src port 1234", false, false),
        ("udp or (tcp && port 40000)", true, true),
        ("not tcp", false, false),
        ("host 127.0.0.1 and portrange 1000-2000", true, false),
        ("tcp[tcpflags] & tcp-syn != 0", true, false),
        ("tcp[13] = 0x10", false, true),
        ("port 80 or 1234", true, true),
        // and/or are equal and left to right: (udp or tcp) and port 80.
        ("udp or tcp and port 80", false, true),
        ("ip[8] == 64 && !udp", true, true),
        ("len == 54", true, true),
        ("greater 55", false, false),
        ("less 54", true, true),
        ("ip6 or arp", false, false),
    ] {
        let p = Filter::parse(f).unwrap_or_else(|e| panic!("{f}: {e}"));
        well_formed(p.program());
        assert_eq!(p.matches(&syn), on_syn, "{f} on the SYN");
        assert_eq!(p.matches(&ack), on_ack, "{f} on the ACK");
    }
}

#[test]
fn errors_name_the_column() {
    for (f, col, has) in [
        ("tcp port x", 10, "'x' is not a port number"),
        ("frob", 1, "unknown word 'frob'"),
        ("tcp and frob", 9, "unknown word 'frob'"),
        ("(tcp", 5, "expected ')'"),
        ("tcp)", 4, "')' without its '('"),
        ("vlan 100", 1, "does not support"),
        ("tcp and gateway 127.0.0.1", 9, "does not support"),
        ("host 127.0.0.1/8", 6, "use net"),
        ("net 127.0.0.1/8", 5, "non-network bits"),
        ("ip[1:3] == 0", 6, "size of 1, 2 or 4"),
        ("ip[0] / 0 == 1", 7, "division by zero"),
        ("ip[0] << 32 == 1", 7, "shift of 32 bits"),
        ("ip[0] + 1", 10, "expected a comparison"),
        ("tcp host 127.0.0.1", 1, "'tcp' does not go with host"),
        ("host example.com", 6, "does not resolve host names"),
        ("port 70000", 6, "not a port number"),
        ("ip[99999999999] == 1", 4, "too large"),
        ("tcp and é", 9, "unexpected character"),
        ("tcp and", 8, "at the end"),
        ("len-1 > 0", 1, "spaces around '-'"),
    ] {
        let e = Filter::parse(f).unwrap_err();
        assert!(e.starts_with("filter: "), "{f}: {e}");
        assert!(e.contains(&format!("at column {col}")), "{f}: {e}");
        assert!(e.contains(has), "{f}: {e}");
    }
}

#[test]
fn deep_or_long_filters_are_refused_not_a_crash() {
    let deep = format!("{}tcp{}", "(".repeat(200_000), ")".repeat(200_000));
    let e = Filter::parse(&deep).unwrap_err();
    assert!(e.contains("nested too deeply"), "{e}");
    let nots = format!("{}tcp", "not ".repeat(200));
    assert!(
        Filter::parse(&nots)
            .unwrap_err()
            .contains("nested too deeply")
    );
    let minus = format!("{}1 == 1", "- ".repeat(200));
    assert!(
        Filter::parse(&minus)
            .unwrap_err()
            .contains("nested too deeply")
    );
    let nots = format!("{}tcp", "not ".repeat(200_000));
    assert!(Filter::parse(&nots).unwrap_err().contains("too long"));
    let long = vec!["tcp"; 100_000].join(" and ");
    assert!(Filter::parse(&long).unwrap_err().contains("too long"));
    let sums = format!("{} == 1", vec!["1"; 3000].join("+"));
    assert!(Filter::parse(&sums).unwrap_err().contains("too long"));
    // Within the limits, deep and long are fine.
    let ok = format!("{}tcp{}", "(".repeat(100), ")".repeat(100));
    assert!(Filter::parse(&ok).is_ok());
    let ok = vec!["tcp"; 2000].join(" and ");
    assert!(Filter::parse(&ok).unwrap().matches(&tcp_frame(1, 2)));
    let ok = vec!["tcp"; 2000].join(" || ");
    assert!(Filter::parse(&ok).unwrap().matches(&tcp_frame(1, 2)));
    let ok = vec!["udp or tcp"; 50].join(" and ");
    assert!(Filter::parse(&ok).unwrap().matches(&tcp_frame(1, 2)));
    let ok = format!("ip[8] - {} == 0", vec!["1"; 90].join("+"));
    assert!(!Filter::parse(&ok).unwrap().matches(&tcp_frame(1, 2)));
    // Alternating and/or, or long arithmetic, nest: refused past the depth limit.
    let alt = vec!["udp or tcp"; 1000].join(" and ");
    assert!(
        Filter::parse(&alt)
            .unwrap_err()
            .contains("nested too deeply")
    );
    let sum = format!("ip[8] - {} == 0", vec!["1"; 2000].join("+"));
    assert!(
        Filter::parse(&sum)
            .unwrap_err()
            .contains("nested too deeply")
    );
    // Right-nested arithmetic needs a scratch word per level: 16 at most.
    let deep = format!("ip[0] {} == 1", "+ (ip[0] ".repeat(20) + &")".repeat(20));
    assert!(
        Filter::parse(&deep)
            .unwrap_err()
            .contains("16 scratch words")
    );
}

#[test]
fn far_jumps_go_through_ja() {
    // Each `tcp port N` is ~30 instructions: a false branch jumps past many.
    let f = (1..=60)
        .map(|n| format!("tcp port {n}"))
        .collect::<Vec<_>>()
        .join(" or ");
    let p = Filter::parse(&f).unwrap();
    assert!(p.program().insns().len() > 600);
    assert!(p.program().insns().iter().any(|i| i.code == JMP | JA));
    well_formed(p.program());
    assert!(p.matches(&tcp_frame(1, 2)));
    assert!(p.matches(&tcp_frame(60, 2)));
    assert!(!p.matches(&tcp_frame(61, 2)));
    let not = Filter::parse(&format!("not ({f})")).unwrap();
    assert!(!not.matches(&tcp_frame(1, 2)));
    assert!(not.matches(&tcp_frame(61, 2)));
}

#[test]
fn the_interpreter_rejects_what_it_cannot_do() {
    let frame = tcp_frame(1, 2);
    let run = |v: Vec<Insn>| Program(v).run(&frame, frame.len());
    // A load past the end, a division by zero, an unknown opcode, falling off the end.
    assert_eq!(
        run(vec![Insn::stmt(LD | W | ABS, 52), Insn::stmt(RET | K, 1)]),
        0
    );
    assert_eq!(
        run(vec![Insn::stmt(LD | B | ABS, 53), Insn::stmt(RET | K, 1)]),
        1
    );
    assert_eq!(
        run(vec![
            Insn::stmt(LDX | IMM, 0xffff_ffff),
            Insn::stmt(LD | B | IND, 2),
            Insn::stmt(RET | K, 1)
        ]),
        0
    );
    assert_eq!(
        run(vec![
            Insn::stmt(LD | IMM, 7),
            Insn::stmt(ALU | DIV | X, 0),
            Insn::stmt(RET | K, 1)
        ]),
        0
    );
    assert_eq!(run(vec![Insn::stmt(0xffff, 0)]), 0);
    assert_eq!(run(vec![Insn::stmt(LD | IMM, 7)]), 0);
    assert_eq!(run(vec![Insn::stmt(JMP | JA, u32::MAX)]), 0);
    assert_eq!(run(vec![Insn::stmt(LD | MEM, 99)]), 0);
    // Shifts of 32 or more give 0, as libpcap's bpf_filter does.
    assert_eq!(
        run(vec![
            Insn::stmt(LD | IMM, 1),
            Insn::stmt(LDX | IMM, 40),
            Insn::stmt(ALU | LSH | X, 0),
            Insn::stmt(RET | RVAL_A, 0)
        ]),
        0
    );
    assert_eq!(
        run(vec![
            Insn::stmt(LDX | B | MSH, 14),
            Insn::stmt(MISC | TXA, 0),
            Insn::stmt(RET | RVAL_A, 0)
        ]),
        20
    );
    assert_eq!(Program(vec![]).run(&frame, 1), 0);
}

#[test]
fn a_load_past_any_frame_rejects() {
    let f = Filter::parse("ether[0x7fffffff] == 0 or tcp").unwrap();
    assert!(!f.matches(&tcp_frame(1, 2)));
    let f = Filter::parse("tcp or ether[0xfffffff0] == 0").unwrap();
    assert!(f.matches(&tcp_frame(1, 2)));
    // A capture cut short: the port is not there, so the frame is not taken.
    let full = tcp_frame(1234, 2);
    let f = Filter::parse("port 1234").unwrap();
    assert!(f.matches_captured(&full, full.len()));
    assert!(!f.matches_captured(&full[..34], full.len()));
    assert!(
        Filter::parse("greater 54")
            .unwrap()
            .matches_captured(&full[..34], 54)
    );
}

#[test]
fn dump_reads_like_tcpdump_d() {
    let d = Filter::parse("tcp[13] & 2 != 0").unwrap().program().dump();
    assert!(d.contains("(006) ldxb     4*([14]&0xf)"), "{d}");
    assert!(d.contains("ldb      [x + 27]"), "{d}");
    assert!(d.ends_with("ret      #0\n"), "{d}");
}
