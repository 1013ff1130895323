//! Wire-level correctness by the RFCs (791, 768, 9293, 2003), checked byte
//! for byte and, for checksums, against tcpdump's independent verifier
//! (`tcpdump -vv` prints "(correct)" or "(incorrect -> 0x...)" for each IPv4
//! header, TCP and UDP checksum, and follows source routes to the final
//! destination for the pseudo header, as RFC 9293 says).

use craft::engine::{Engine, Value};
use craft::wire::Packet;
use std::process::Command;
use std::time::SystemTime;

mod common;
use common::Buf;

/// The packet a language expression builds, offline.
fn packet(expr: &str) -> Packet {
    let mut e = Engine::new(Box::new(Buf::default()));
    match e.eval_str(expr) {
        Ok(Value::Packet(p)) => p.to_packet(),
        other => panic!("{expr}: {other:?}"),
    }
}

/// The frame a language expression builds, offline.
fn frame(expr: &str) -> Vec<u8> {
    packet(expr).emit()
}

/// The error a language statement stops with.
fn error(src: &str) -> String {
    let mut e = Engine::new(Box::new(Buf::default()));
    match e.run_source("t.craft", src) {
        Err(err) => err.to_string(),
        Ok(()) => panic!("{src}: no error"),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// tcpdump's verbose reading of `frames` (written to a pcap).
fn tcpdump_vv(name: &str, frames: &[Vec<u8>]) -> String {
    common::need("tcpdump");
    let path =
        std::env::temp_dir().join(format!("craft-wire-rfc-{name}-{}.pcap", std::process::id()));
    let mut w = craft::link::pcap::PcapWriter::create(&path).expect("pcap");
    for f in frames {
        w.write_frame(SystemTime::UNIX_EPOCH, f, f.len()).unwrap();
    }
    drop(w);
    let out = Command::new("tcpdump")
        .args(["-nn", "-vv", "-r"])
        .arg(&path)
        .output()
        .expect("tcpdump");
    let _ = std::fs::remove_file(&path);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn options_given_by_kind_number_are_the_named_options() {
    // Kinds 0 and 1 are one byte each (RFC 9293 3.2); (2, 1460) is MSS 1460.
    let f = frame(r#"TCP(options=[(1,), ("MSS", 1460)])"#);
    assert_eq!(hex(&f[20..28]), "01020405b4000000");
    assert_eq!(f[12] >> 4, 7);
    let f = frame("TCP(options=[(2, 1460), (1,), (3, 7), (4,), (0,)])");
    assert_eq!(hex(&f[20..32]), "020405b4010303070402".to_string() + "0000");
    let f = frame("TCP(options=[(8, 1, 2)])");
    assert_eq!(hex(&f[20..32]), "080a0000000100000002".to_string() + "0000");
    // A known kind with raw bytes is sent as given; an unknown kind takes bytes.
    let f = frame(r#"TCP(options=[(2, "\x05\xb4"), (99, "ab")])"#);
    assert_eq!(hex(&f[20..28]), "020405b463046162");
    assert!(error("p = TCP(options=[(99, 5)])").contains("option kind 99 takes its data as bytes"));
}

#[test]
fn ip_in_ip_gets_protocol_4_and_decodes_as_an_inner_datagram() {
    let f = frame(
        r#"Ether()/IP(src="127.0.0.1", dst="127.0.0.2")/IP(src="127.0.0.3", dst="127.0.0.4")/TCP(sport=1, dport=2)"#,
    );
    assert_eq!(f[14 + 9], 4, "outer protocol");
    assert_eq!(f[34 + 9], 6, "inner protocol");
    let (p, err) = Packet::decode(&f);
    assert_eq!(err, None);
    let kinds: Vec<&str> = p.layers.iter().map(|l| l.kind().name()).collect();
    assert_eq!(kinds, ["Ether", "IP", "IP", "TCP"]);
    assert_eq!(p.emit(), f, "decoded IP-in-IP emits to the same bytes");
    // tcpdump agrees on both headers and on the TCP checksum over the inner addresses.
    let v = tcpdump_vv("ipip", &[f]);
    assert!(v.contains("127.0.0.1 > 127.0.0.2"), "{v}");
    assert!(v.contains("127.0.0.3.1 > 127.0.0.4.2"), "{v}");
    assert!(v.contains("cksum") && !v.contains("incorrect"), "{v}");
}

#[test]
fn explicit_header_lengths_still_pad_options_to_four_bytes() {
    let f = frame(r#"IP(ihl=6, options="\x01")/TCP(dataofs=6, options="\x01")"#);
    assert_eq!(f.len(), 48, "24-byte IP header and 24-byte TCP header");
    assert_eq!(f[0], 0x46);
    assert_eq!(hex(&f[20..24]), "01000000");
    assert_eq!(f[24 + 12] >> 4, 6);
    assert_eq!(hex(&f[44..48]), "01000000");
    // The value set is sent as set, even when it disagrees with the bytes.
    let f = frame(r#"IP(ihl=5, options="\x01\x01\x01\x01")/TCP()"#);
    assert_eq!(f[0], 0x45);
    assert_eq!(f.len(), 44);
}

#[test]
fn an_unfinished_source_route_puts_its_final_destination_in_the_pseudo_header() {
    // LSRR (0x83), length 11, pointer 4: 127.0.0.7 then 127.0.0.9 still to visit.
    let route = r#"options="\x01\x83\x0b\x04\x7f\x00\x00\x07\x7f\x00\x00\x09""#;
    let tcp = frame(&format!(
        r#"Ether()/IP(src="127.0.0.1", dst="127.0.0.2", {route})/TCP(sport=1, dport=2)/"x""#
    ));
    let udp = frame(&format!(
        r#"Ether()/IP(src="127.0.0.1", dst="127.0.0.2", {route})/UDP(sport=1, dport=2)/"x""#
    ));
    let v = tcpdump_vv("lsrr", &[tcp.clone(), udp.clone()]);
    assert!(v.contains("LSRR 127.0.0.7 127.0.0.9"), "{v}");
    assert_eq!(v.matches("cksum").count(), 1, "{v}");
    assert!(v.contains("(correct)") && v.contains("[udp sum ok]"), "{v}");
    assert!(!v.contains("incorrect"), "{v}");
    // A finished strict route (pointer past the end): the datagram is at its
    // final destination, ip.dst (RFC 791 3.1), so the checksum is the one
    // without a route. (tcpdump's ip_finddst takes the route's last address
    // whatever the pointer says, so it is no oracle for this case.)
    let done = r#"options="\x89\x0b\x0c\x7f\x00\x00\x07\x7f\x00\x00\x09\x00""#;
    let finished = frame(&format!(
        r#"Ether()/IP(src="127.0.0.1", dst="127.0.0.2", {done})/TCP(sport=1, dport=2)"#
    ));
    let plain = frame(r#"Ether()/IP(src="127.0.0.1", dst="127.0.0.2")/TCP(sport=1, dport=2)"#);
    assert_eq!(
        finished[14 + 32 + 16..14 + 32 + 18],
        plain[14 + 20 + 16..14 + 20 + 18]
    );
    // Reading the frames back, craft checks the same way.
    for f in [tcp, udp, finished] {
        let p = Packet::parse(&f);
        let mut out = Vec::new();
        let spans = p.emit_with_spans(&mut out);
        let st = craft::wire::stack::layer_status(&p.layers, &spans, &out, 2);
        assert_eq!(
            st,
            Some(craft::wire::checksum::ChecksumStatus::Good),
            "{}",
            hex(&f)
        );
    }
}

#[test]
fn a_udp_length_shorter_than_the_datagram_ends_the_udp_payload() {
    // UDP says 10 bytes (2 of payload); the IP datagram carries 4 more.
    let f = frame(r#"Ether()/IP()/UDP(sport=1, dport=2, len=10)/"abcdef""#);
    assert_eq!(&f[38..40], &[0, 10]);
    let (p, err) = Packet::decode(&f);
    assert_eq!(err, None);
    let kinds: Vec<&str> = p.layers.iter().map(|l| l.kind().name()).collect();
    assert_eq!(kinds, ["Ether", "IP", "UDP", "Raw", "Padding"]);
    assert_eq!(p.payload(), b"ab");
    assert_eq!(p.emit(), f, "the split frame emits to the same bytes");
    let mut out = Vec::new();
    let spans = p.emit_with_spans(&mut out);
    assert_eq!(
        craft::wire::stack::layer_status(&p.layers, &spans, &out, 2),
        Some(craft::wire::checksum::ChecksumStatus::Good)
    );
    // tcpdump computes the UDP checksum over the UDP length too.
    let v = tcpdump_vv("udplen", &[f]);
    assert!(v.contains("[udp sum ok]"), "{v}");
}

#[test]
fn values_out_of_range_are_errors_naming_the_field() {
    assert!(
        error(r#"p = TCP(options=[("SAck", (1, 4294967296))])"#)
            .contains("SAck right edge = 4294967296 is out of range")
    );
    assert!(
        error(r#"p = TCP(options=[("Timestamp", (4294967296, 0))])"#)
            .contains("Timestamp value = 4294967296 is out of range")
    );
    assert!(
        error(r#"p = TCP(options=[("SAck", (1, 2), (3, 4), (5, 6), (7, 8), (9, 10))])"#)
            .contains("at most 4 blocks")
    );
}

#[test]
fn packets_that_cannot_be_built_as_set_say_which_field() {
    let big = packet(r#"Ether()/IP()/TCP()/("x" * 65600)"#);
    let e = big.check_build().unwrap_err();
    assert!(e.starts_with("IP.len: the datagram is 65640 bytes"), "{e}");
    let after = Packet::parse(&frame(r#"Ether()/IP()/TCP()"#));
    let mut layers = after.layers.clone();
    layers.insert(
        2,
        craft::wire::Layer::Padding(craft::wire::raw::Raw { load: vec![0; 4] }),
    );
    layers[3] = craft::wire::Layer::Tcp(craft::wire::Tcp::default());
    let e = Packet { layers }.check_build().unwrap_err();
    assert!(
        e.starts_with("TCP.chksum cannot be computed: the TCP layer comes after Padding"),
        "{e}"
    );
    let opts = Packet::parse(&frame(r#"Ether()/IP()/TCP()"#));
    let t = craft::wire::Tcp {
        options: vec![1; 44],
        ..Default::default()
    };
    let mut layers = opts.layers.clone();
    layers[2] = craft::wire::Layer::Tcp(t);
    let e = Packet { layers }.check_build().unwrap_err();
    assert!(
        e.contains("TCP.options: 44 bytes of options, over TCP's 40"),
        "{e}"
    );
}

#[test]
fn odd_stacks_are_shown_as_they_are() {
    let mut e = Engine::new(Box::new(Buf::default()));
    let v = e.eval_str("Ether()/TCP()/IP()").unwrap();
    let Value::Packet(p) = v else { panic!() };
    assert_eq!(
        craft::render::summary(&p.to_packet()),
        "Ether / TCP / IP  (odd stack: TCP on Ether)"
    );
}
