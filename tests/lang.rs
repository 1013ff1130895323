//! The language, offline: PRODUCT.md's examples that do not send, field
//! access, arithmetic, flag sets, expect, and errors with line:column.

use craft::engine::{Engine, ErrorKind, Value};

mod common;
use common::Buf;

fn engine() -> (Engine, Buf) {
    let buf = Buf::default();
    (Engine::new(Box::new(buf.clone())), buf)
}

fn out(b: &Buf) -> String {
    String::from_utf8_lossy(&b.0.borrow()).into_owned()
}

fn run(src: &str) -> (Result<(), craft::engine::Error>, String) {
    let (mut e, b) = engine();
    let r = e.run_source("t.craft", src);
    (r, out(&b))
}

#[test]
fn product_examples_that_do_not_send() {
    let src = r#"
# a packet, layer by layer; unset fields get defaults, lengths and checksums are computed
p = Ether() / IP(dst="127.0.0.1") / TCP(sport=40000, dport=1234, flags="S", seq=1000)
show(p)
hexdump(p)
p.tcp.seq = 2000
expect p.tcp.seq == 2000
p.ip.ttl = 5
p.ether.type = 0x0800
p.tcp.flags = "SA"
expect p.tcp.flags == "AS"
expect "SA" == p.tcp.flags
r = p
a = Ether()/IP(dst="127.0.0.1")/TCP(sport=40000, dport=1234, flags="A", seq=r.tcp.ack, ack=r.tcp.seq + 1)
expect a.tcp.ack == 2001
d = Ether()/IP(dst="127.0.0.1")/TCP(sport=40000, dport=1234, flags="PA", seq=r.tcp.ack, ack=r.tcp.seq + 1)/"hello\n"
expect len(d.payload) == 6
expect d.ip.len == 20 + 20 + 6
summary(d)
ls(TCP)
help()
"#;
    let (r, o) = run(src);
    assert_eq!(r, Ok(()), "{o}");
    assert!(o.contains("###[ TCP ]###"), "{o}");
    assert!(
        o.contains("  seq       = 1000"),
        "show shows the seq as built: {o}"
    );
    assert!(o.contains("0000  00 00 00 00"), "{o}");
    assert!(o.contains("Flags [PA], seq 0:6, ack 2001"), "{o}");
    assert!(o.contains("dataofs   int4"), "{o}");
    assert!(o.contains("sr1") || o.contains("Builtins:"), "{o}");
}

#[test]
fn computed_fields_read_as_sent_and_set_ones_as_set() {
    let (mut e, _) = engine();
    e.run_source("", "p = Ether()/IP()/TCP(flags=\"S\")/\"hi\"")
        .unwrap();
    assert_eq!(e.eval_str("p.ip.len").unwrap(), Value::Int(42));
    assert_eq!(e.eval_str("p.ip.proto").unwrap(), Value::Int(6));
    assert_eq!(e.eval_str("p.tcp.dataofs").unwrap(), Value::Int(5));
    let Value::Int(ck) = e.eval_str("p.tcp.chksum").unwrap() else {
        panic!()
    };
    e.run_source("", "p.tcp.chksum = 0x1234").unwrap();
    assert_eq!(e.eval_str("p.tcp.chksum").unwrap(), Value::Int(0x1234));
    assert_eq!(
        e.eval_str("hex(bytes(p))").unwrap(),
        e.eval_str("hex(p)").unwrap()
    );
    // none unsets: computed again.
    e.run_source("", "p.tcp.chksum = none").unwrap();
    assert_eq!(e.eval_str("p.tcp.chksum").unwrap(), Value::Int(ck));
}

#[test]
fn arithmetic_and_flags() {
    let (mut e, _) = engine();
    for (src, want) in [
        ("1 + 2 * 3", Value::Int(7)),
        ("(1 + 2) * 3", Value::Int(9)),
        ("7 / 2", Value::Int(3)),
        ("7 % 4 - 10", Value::Int(-7)),
        ("0x10 + 1", Value::Int(17)),
        ("\"SA\" == \"AS\"", Value::Bool(false)),
        ("TCP(flags=\"SA\").flags == \"AS\"", Value::Bool(true)),
        ("\"S\" in TCP(flags=\"SA\").flags", Value::Bool(true)),
        ("\"F\" in TCP(flags=\"SA\").flags", Value::Bool(false)),
        ("IP(flags=\"DF\").flags == \"DF\"", Value::Bool(true)),
        ("IP(dst=\"127.0.0.2\").dst == 127.0.0.2", Value::Bool(true)),
        ("TCP(seq=4294967295 + 1).seq", Value::Int(0)),
        ("none == none", Value::Bool(true)),
        ("len(\"ab\" * 3)", Value::Int(6)),
        ("str(80) + \"/tcp\"", Value::Str(b"80/tcp".to_vec().into())),
        (
            "str(TCP(flags=\"SA\").flags)",
            Value::Str(b"SA".to_vec().into()),
        ),
        ("str(IP().dst)", Value::Str(b"127.0.0.1".to_vec().into())),
        ("str(\"as is\")", Value::Str(b"as is".to_vec().into())),
    ] {
        assert_eq!(e.eval_str(src).unwrap(), want, "{src}");
    }
}

#[test]
fn expect_failure_shows_both_sides() {
    let (r, _) = run("p = TCP(flags=\"S\")\n\nexpect p.flags == \"SA\"\n");
    let e = r.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Expect);
    assert_eq!((e.file.as_str(), e.pos.line), ("t.craft", 3));
    assert!(e.msg.contains("p.flags == \"SA\""), "{}", e.msg);
    assert!(e.msg.contains("left:  \"S\""), "{}", e.msg);
    assert!(e.msg.contains("right: \"SA\""), "{}", e.msg);
    assert_eq!(
        e.to_string().lines().next().unwrap(),
        "t.craft:3:1: expect failed: p.flags == \"SA\""
    );
}

#[test]
fn errors_name_line_column_and_what_was_expected() {
    let cases: &[(&str, (u32, u32), &str)] = &[
        ("x = TCP(dport=-1)", (1, 9), "out of range (0..=65535)"),
        (
            "x = IP(ttl=300)",
            (1, 8),
            "IP.ttl = 300 is out of range (0..=255)",
        ),
        ("x = TCP(flags=\"SX\")", (1, 9), "'X' is not a TCP flag"),
        ("x = TCP(bogus=1)", (1, 9), "TCP has no field 'bogus'"),
        ("x = Foo()", (1, 5), "unknown name 'Foo'"),
        ("x = 1 / 0", (1, 5), "division by zero"),
        (
            "\n  y = TCP()\n  y.tcp.nope = 1",
            (3, 9),
            "no field or layer 'nope'",
        ),
        ("p = TCP()\np.ip.ttl = 1", (2, 3), "no ip layer"),
        ("x = \"abc", (1, 5), "unclosed string"),
        ("x = IP(dst=\"1.2.3\")", (1, 8), "not an IPv4 address"),
        ("x = 99999999999999999999", (1, 5), "too large"),
        ("x = (1 +", (1, 5), "never closed"),
        ("show(1)", (1, 5), "show() takes a packet"),
        ("r = none\nr.tcp.flags", (2, 3), "none"),
        ("x = 1 2", (1, 7), "expected the end of the statement"),
        ("x = \u{1}", (1, 5), "unexpected character"),
    ];
    for (src, (line, col), needle) in cases {
        let (r, _) = run(src);
        let e = r.expect_err(src);
        assert!(
            matches!(e.kind, ErrorKind::Eval | ErrorKind::Syntax),
            "{src}"
        );
        assert_eq!((e.pos.line, e.pos.col), (*line, *col), "{src}: {e}");
        assert!(e.msg.contains(needle), "{src}: {e}");
    }
}

#[test]
fn tcp_options_from_a_list() {
    let (mut e, _) = engine();
    e.run_source("", "p = Ether()/IP()/TCP(options=[(\"MSS\", 1460), (\"NOP\",), (\"WScale\", 7), (\"SAckOK\",), (\"Timestamp\", (1, 2))])")
        .unwrap();
    assert_eq!(e.eval_str("p.tcp.dataofs").unwrap(), Value::Int(5 + 5));
    assert_eq!(
        e.eval_str("p.tcp.options[0]").unwrap(),
        e.eval_str("(\"MSS\", 1460)").unwrap()
    );
}

#[test]
fn decode_from_bytes_and_layer_views() {
    let (mut e, _) = engine();
    e.run_source(
        "",
        "p = Ether()/IP()/UDP(dport=53)/\"q\"\nq = Ether(bytes(p))",
    )
    .unwrap();
    assert_eq!(e.eval_str("q == p").unwrap(), Value::Bool(true));
    assert_eq!(e.eval_str("q.udp.dport").unwrap(), Value::Int(53));
    assert_eq!(e.eval_str("len(q.udp)").unwrap(), Value::Int(9));
    assert_eq!(e.eval_str("q.udp.len").unwrap(), Value::Int(9));
}

#[test]
fn fragment_and_defragment_round_trip() {
    let src = r#"
p = Ether()/IP(id=7)/UDP(sport=1000, dport=2000)/("x" * 40)
fs = fragment(p, 17)
expect len(fs) == 3
expect fs[0].ip.frag == 0 and fs[1].ip.frag == 2 and fs[2].ip.frag == 4
expect fs[0].ip.len == 36 and fs[2].ip.len == 36
expect fs[0].ip.id == 7 and fs[2].ip.id == 7
summary(fs[1])
w = defragment([fs[2], fs[0], fs[1]])
expect len(w) == 1
expect bytes(w[0]) == bytes(p)
expect w[0].udp.chksum == p.udp.chksum
g = fragment(IP()/TCP(sport=1, dport=2)/"hello fragments\n", 8)
expect len(g) == 5
expect g[0].ip.id == g[4].ip.id
expect len(fragment(p, 1000)) == 1
# Fields changed on a fragment go out with the header checksum computed again.
f = fs[1]
c = f.ip.chksum
f.ip.ttl = 3
expect f.ip.chksum != c
expect bytes(fragment(p, 16)[1]) == bytes(fs[1])
"#;
    let (r, out) = run(src);
    assert!(r.is_ok(), "{r:?}\n{out}");
    assert!(out.contains("frag (id 7, offset 16, more)"), "{out}");
}

#[test]
fn fragment_errors_name_the_problem() {
    let cases = [
        ("fragment(IP()/UDP(), 7)", "size"),
        ("fragment(Ether()/ARP(), 8)", "no IP layer"),
        ("defragment(IP())", "takes a list"),
        (
            "fs = fragment(IP(id=9)/UDP()/(\"x\" * 40), 16)\ndefragment([fs[0], fs[2]])",
            "id 9: bytes 16..32 are missing",
        ),
        (
            "fs = fragment(IP(id=9)/UDP()/(\"x\" * 40), 16)\ndefragment([fs[0], fs[1]])",
            "last fragment",
        ),
    ];
    for (src, want) in cases {
        let (r, out) = run(src);
        let e = r.expect_err(src).to_string();
        assert!(e.contains(want), "{src}: {e}\n{out}");
    }
}
