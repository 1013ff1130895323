//! IPv6, ICMPv6 (neighbour discovery and its options too), IPv6 extension
//! headers, ARP and 802.1Q, byte for byte:
//! the frames of scapy 2.8 for the same expressions (names and defaults
//! follow scapy's, so the bytes must be equal), read back by etherparse (an
//! independent decoder, checksums recomputed over the IPv6 pseudo header) and
//! by `tcpdump -vv` from a pcap craft wrote, and decoded by craft losslessly.

use craft::engine::{Engine, Value};
use craft::wire::icmp6::Msg;
use craft::wire::{Layer, LayerKind, Packet};
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

/// The error evaluating `expr` stops with.
fn error(expr: &str) -> String {
    let mut e = Engine::new(Box::new(Buf::default()));
    match e.eval_str(expr) {
        Err(err) => err.to_string(),
        Ok(v) => panic!("{expr}: no error, {v:?}"),
    }
}

/// Expressions and the bytes scapy 2.8 builds from them (`bytes(expr).hex()`).
const SCAPY: &[(&str, &str)] = &[
    (
        r#"IPv6()"#,
        "6000000000003b400000000000000000000000000000000100000000000000000000000000000001",
    ),
    (
        r#"IPv6()/TCP()"#,
        "60000000001406400000000000000000000000000000000100000000000000000000000000000001001400500000000000000000500220008f7d0000",
    ),
    (
        r#"IPv6()/UDP()/"hello""#,
        "60000000000d1140000000000000000000000000000000010000000000000000000000000000000100350035000dbb9668656c6c6f",
    ),
    (
        r#"IPv6(src="fe80::1", dst="fe80::2", tc=0xb8, fl=0x12345, hlim=1)/TCP(sport=1234, dport=80, flags="PA", seq=1, ack=2)/"data""#,
        "6b81234500180601fe800000000000000000000000000001fe80000000000000000000000000000204d20050000000010000000250182000b4dc000064617461",
    ),
    (
        r#"IPv6()/ICMPv6EchoRequest(id=7, seq=9, data="hi")"#,
        "60000000000a3a40000000000000000000000000000000010000000000000000000000000000000180001740000700096869",
    ),
    (
        r#"IPv6()/ICMPv6EchoReply(id=7, seq=9)"#,
        "6000000000083a40000000000000000000000000000000010000000000000000000000000000000181007eab00070009",
    ),
    (
        r#"IPv6()/ICMPv6DestUnreach(code=4)/IPv6()/UDP()"#,
        "6000000000383a40000000000000000000000000000000010000000000000000000000000000000101048d580000000060000000000811400000000000000000000000000000000100000000000000000000000000000001003500350008ff72",
    ),
    (
        r#"IPv6()/ICMPv6PacketTooBig(mtu=1400)/IPv6()/TCP()"#,
        "6000000000443a400000000000000000000000000000000100000000000000000000000000000001020091cd0000057860000000001406400000000000000000000000000000000100000000000000000000000000000001001400500000000000000000500220008f7d0000",
    ),
    (
        r#"IPv6()/ICMPv6TimeExceeded()/IPv6()"#,
        "6000000000303a40000000000000000000000000000000010000000000000000000000000000000103006151000000006000000000003b400000000000000000000000000000000100000000000000000000000000000001",
    ),
    (
        r#"IPv6()/ICMPv6ParamProblem(ptr=40)/IPv6()"#,
        "6000000000303a40000000000000000000000000000000010000000000000000000000000000000104006029000000286000000000003b400000000000000000000000000000000100000000000000000000000000000001",
    ),
    (
        r#"IPv6()/IPv6ExtHdrHopByHop()/IPv6ExtHdrDestOpt()/UDP()"#,
        "600000000018004000000000000000000000000000000001000000000000000000000000000000013c000104000000001100010400000000003500350008ff72",
    ),
    (
        r#"IPv6()/IPv6ExtHdrRouting(addresses=["::2", "::3"])/TCP()"#,
        "60000000003c2b40000000000000000000000000000000010000000000000000000000000000000106040002000000000000000000000000000000000000000200000000000000000000000000000003001400500000000000000000500220008f7b0000",
    ),
    (
        r#"IPv6()/IPv6ExtHdrFragment(offset=3, m=1, id=99)/"abcdefgh""#,
        "6000000000102c4000000000000000000000000000000001000000000000000000000000000000013b000019000000636162636465666768",
    ),
    (
        r#"IPv6()/IPv6ExtHdrFragment(nh=6, id=0x01020304)/TCP()"#,
        "60000000001c2c4000000000000000000000000000000001000000000000000000000000000000010600000001020304001400500000000000000000500220008f7d0000",
    ),
    (
        r#"Ether(src="00:00:00:00:00:00", dst="00:00:00:00:00:00")/Dot1Q(vlan=5, prio=3)/IPv6()/UDP()"#,
        "0000000000000000000000008100600586dd60000000000811400000000000000000000000000000000100000000000000000000000000000001003500350008ff72",
    ),
    (
        r#"Ether(src="02:00:00:00:00:01", dst="ff:ff:ff:ff:ff:ff")/ARP(hwsrc="02:00:00:00:00:01", psrc="192.0.2.1", pdst="192.0.2.2")"#,
        "ffffffffffff02000000000108060001080006040001020000000001c0000201000000000000c0000202",
    ),
    (
        r#"ARP(op=2, hwsrc="02:00:00:00:00:01", psrc="192.0.2.1", hwdst="02:00:00:00:00:02", pdst="192.0.2.2")"#,
        "0001080006040002020000000001c0000201020000000002c0000202",
    ),
    (
        r#"Ether(src="00:00:00:00:00:00", dst="00:00:00:00:00:00")/Dot1Q()/Dot1Q(vlan=7)/ARP(hwsrc="00:00:00:00:00:00", psrc="127.0.0.1")"#,
        "0000000000000000000000008100000181000007080600010800060400010000000000007f00000100000000000000000000",
    ),
    (
        r#"IP()/IPv6()/TCP()"#,
        "450000500001000040297c827f0000017f00000160000000001406400000000000000000000000000000000100000000000000000000000000000001001400500000000000000000500220008f7d0000",
    ),
    (
        r#"IPv6(src="fe80::1")/ICMPv6ND_NS(tgt="fe80::2")/ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:01")"#,
        "6000000000203afffe800000000000000000000000000001ff0200000000000000000000000000018700799a00000000fe8000000000000000000000000000020101020000000001",
    ),
    (
        r#"IPv6(src="fe80::2", dst="fe80::1")/ICMPv6ND_NA(tgt="fe80::2", S=1)/ICMPv6NDOptDstLLAddr(lladdr="02:00:00:00:00:02")"#,
        "6000000000203afffe800000000000000000000000000002fe80000000000000000000000000000188009819e0000000fe8000000000000000000000000000020201020000000002",
    ),
    (
        r#"IPv6(src="fe80::1")/ICMPv6ND_RS()/ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:01")"#,
        "6000000000103afffe800000000000000000000000000001ff02000000000000000000000000000285007a2c000000000101020000000001",
    ),
    (
        r#"IPv6(src="fe80::1")/ICMPv6ND_RA(chlim=64, M=1, routerlifetime=600)/ICMPv6NDOptPrefixInfo(prefix="2001:db8::")/ICMPv6NDOptMTU(mtu=1500)/ICMPv6NDOptUnknown(type=99, data="abc")"#,
        "6000000000403afffe800000000000000000000000000001ff02000000000000000000000000000186009560408802580000000000000000030440c0ffffffffffffffff0000000020010db800000000000000000000000005010000000005dc6301616263000000",
    ),
    (
        r#"IPv6(src="fe80::1", dst="fe80::3")/ICMPv6ND_Redirect(tgt="fe80::2", dst="2001:db8::1")"#,
        "6000000000283afffe800000000000000000000000000001fe80000000000000000000000000000389004d5a00000000fe80000000000000000000000000000220010db8000000000000000000000001",
    ),
];

#[test]
fn the_same_expression_gives_scapys_bytes() {
    for (expr, want) in SCAPY {
        let p = packet(expr);
        assert_eq!(hex::encode(p.emit()), *want, "{expr}");
        // Decoding gives the same layers back, and they re-emit byte for byte.
        let first = p.layers[0].kind();
        let bytes = p.emit();
        let (d, err) = Packet::decode_from(first, &bytes);
        assert!(err.is_none(), "{expr}: {err:?}");
        assert_eq!(d.emit(), bytes, "{expr}");
        let kinds = |p: &Packet| p.layers.iter().map(Layer::kind).collect::<Vec<_>>();
        assert_eq!(kinds(&d), kinds(&p), "{expr}");
        // Every checksum a decoded frame carries is good.
        let mut out = Vec::new();
        let spans = d.emit_with_spans(&mut out);
        for i in 0..d.layers.len() {
            if let Some(st) = craft::wire::stack::layer_status(&d.layers, &spans, &out, i) {
                assert_eq!(
                    st,
                    craft::wire::checksum::ChecksumStatus::Good,
                    "{expr} layer {i}"
                );
            }
        }
    }
}

/// The frame of `expr` behind a zeroed Ethernet header, unless it has its own.
fn ether_frame(expr: &str) -> Vec<u8> {
    if expr.starts_with("Ether(") {
        packet(expr).emit()
    } else {
        packet(&format!("Ether()/{expr}")).emit()
    }
}

#[test]
fn etherparse_reads_what_craft_builds() {
    use etherparse::{LinkExtHeader, NetHeaders, PacketHeaders, TransportHeader};
    for (expr, _) in SCAPY {
        let f = ether_frame(expr);
        let h = PacketHeaders::from_ethernet_slice(&f)
            .unwrap_or_else(|e| panic!("{expr}: etherparse: {e:?}"));
        let p = Packet::parse(&f);
        let vlans: Vec<(u16, u8)> = h
            .link_exts
            .iter()
            .filter_map(|x| match x {
                LinkExtHeader::Vlan(v) => Some((v.vlan_id.value(), v.pcp.value())),
                _ => None,
            })
            .collect();
        let ours: Vec<(u16, u8)> = p
            .layers
            .iter()
            .filter_map(|l| match l {
                Layer::Dot1q(d) => Some((d.vlan.unwrap(), d.prio.unwrap())),
                _ => None,
            })
            .collect();
        assert_eq!(vlans, ours, "{expr}");
        match &h.net {
            Some(NetHeaders::Ipv6(ip, exts)) if p.ip().is_none() => {
                let v6 = p.ipv6().expect("an IPv6 layer");
                assert_eq!(ip.traffic_class, v6.tc.unwrap(), "{expr}");
                assert_eq!(ip.flow_label.value(), v6.fl.unwrap(), "{expr}");
                assert_eq!(ip.payload_length, v6.plen.unwrap(), "{expr}");
                assert_eq!(ip.next_header.0, v6.nh.unwrap(), "{expr}");
                assert_eq!(ip.hop_limit, v6.hlim.unwrap(), "{expr}");
                assert_eq!(ip.source, v6.src.unwrap().octets(), "{expr}");
                assert_eq!(ip.destination, v6.dst.unwrap().octets(), "{expr}");
                let has = |k| {
                    p.find(k)
                        .is_some_and(|i| p.find_icmp6().is_none_or(|c| i < c))
                };
                assert_eq!(
                    exts.hop_by_hop_options.is_some(),
                    has(LayerKind::HopByHop),
                    "{expr}"
                );
                assert_eq!(
                    exts.destination_options.is_some(),
                    has(LayerKind::DestOpt),
                    "{expr}"
                );
                assert_eq!(exts.routing.is_some(), has(LayerKind::Routing), "{expr}");
                if let Some(fr) = &exts.fragment {
                    let Some(Layer::Fragment(ours)) =
                        p.find(LayerKind::Fragment).map(|i| &p.layers[i])
                    else {
                        panic!("{expr}: no fragment layer");
                    };
                    assert_eq!(fr.fragment_offset.value(), ours.offset.unwrap(), "{expr}");
                    assert_eq!(fr.more_fragments, ours.m.unwrap() == 1, "{expr}");
                    assert_eq!(fr.identification, ours.id.unwrap(), "{expr}");
                    assert_eq!(fr.next_header.0, ours.nh.unwrap(), "{expr}");
                }
                // The pseudo header's destination: a routing header's last address.
                let dst = match p.find(LayerKind::Routing).map(|i| &p.layers[i]) {
                    Some(Layer::Routing(r)) => *r.addresses.last().unwrap(),
                    _ => v6.dst.unwrap(),
                }
                .octets();
                let payload = p.payload();
                match &h.transport {
                    Some(TransportHeader::Tcp(t)) => {
                        let ours = p.tcp().unwrap();
                        assert_eq!(
                            (t.source_port, t.destination_port),
                            (ours.sport.unwrap(), ours.dport.unwrap())
                        );
                        let c = t.calc_checksum_ipv6_raw(ip.source, dst, payload).unwrap();
                        assert_eq!(c, ours.chksum.unwrap(), "{expr}");
                    }
                    Some(TransportHeader::Udp(u)) => {
                        let ours = p.udp().unwrap();
                        assert_eq!(u.length, ours.len.unwrap(), "{expr}");
                        let c = u.calc_checksum_ipv6_raw(ip.source, dst, payload).unwrap();
                        assert_eq!(c, ours.chksum.unwrap(), "{expr}");
                    }
                    Some(TransportHeader::Icmpv6(c)) => {
                        use etherparse::Icmpv6Type as T;
                        let i = p.find_icmp6().unwrap();
                        let Layer::Icmp6(ours) = &p.layers[i] else {
                            unreachable!()
                        };
                        match (c.icmp_type, ours.msg) {
                            (T::EchoRequest(e), Msg::EchoRequest)
                            | (T::EchoReply(e), Msg::EchoReply) => {
                                assert_eq!(
                                    (u64::from(e.id), u64::from(e.seq)),
                                    (ours.int(3), ours.int(4)),
                                    "{expr}"
                                );
                            }
                            (T::DestinationUnreachable(_), Msg::DestUnreach)
                            | (T::TimeExceeded(_), Msg::TimeExceeded) => {}
                            (T::PacketTooBig { mtu }, Msg::PacketTooBig) => {
                                assert_eq!(u64::from(mtu), ours.int(3))
                            }
                            (T::ParameterProblem(pp), Msg::ParamProblem) => {
                                assert_eq!(u64::from(pp.pointer), ours.int(3))
                            }
                            (T::RouterSolicitation, Msg::RouterSolicit)
                            | (T::NeighborSolicitation, Msg::NeighborSolicit)
                            | (T::Redirect, Msg::Redirect) => {}
                            (T::RouterAdvertisement(ra), Msg::RouterAdvert) => {
                                assert_eq!(u64::from(ra.cur_hop_limit), ours.int(3), "{expr}");
                                assert_eq!(u64::from(ra.router_lifetime), ours.int(10), "{expr}");
                            }
                            (T::NeighborAdvertisement(na), Msg::NeighborAdvert) => {
                                assert_eq!(
                                    (na.router, na.solicited, na.r#override),
                                    (ours.int(3) == 1, ours.int(4) == 1, ours.int(5) == 1),
                                    "{expr}"
                                );
                            }
                            other => panic!("{expr}: {other:?}"),
                        }
                        // The message after etherparse's 8-byte header, quote included.
                        let mut out = Vec::new();
                        let spans = p.emit_with_spans(&mut out);
                        let body = &out[spans[i].start + 8..spans[i].end];
                        let want = c.icmp_type.calc_checksum(ip.source, dst, body).unwrap();
                        // etherparse's router advertisement has no H, prf or P
                        // bits, so it sums them as zero (tcpdump checks this one).
                        if ours.msg != Msg::RouterAdvert {
                            assert_eq!(want, c.checksum, "{expr}");
                        }
                        assert_eq!(c.checksum, ours.cksum().unwrap(), "{expr}");
                    }
                    None => assert!(p.tcp().is_none() && p.udp().is_none(), "{expr}"),
                    other => panic!("{expr}: {other:?}"),
                }
            }
            Some(NetHeaders::Ipv4(_, _)) => assert!(p.ip().is_some(), "{expr}"),
            Some(NetHeaders::Arp(a)) => {
                let Some(Layer::Arp(ours)) = p.find(LayerKind::Arp).map(|i| &p.layers[i]) else {
                    panic!("{expr}: no ARP layer");
                };
                let a = a.try_eth_ipv4().unwrap();
                assert_eq!(a.operation.0, ours.op.unwrap(), "{expr}");
                assert_eq!(a.sender_mac, ours.hwsrc.unwrap(), "{expr}");
                assert_eq!(a.sender_ipv4, ours.psrc.unwrap().octets(), "{expr}");
                assert_eq!(a.target_mac, ours.hwdst.unwrap(), "{expr}");
                assert_eq!(a.target_ipv4, ours.pdst.unwrap().octets(), "{expr}");
            }
            other => panic!("{expr}: {other:?}"),
        }
    }
}

/// tcpdump's verbose reading of `frames` (written to a pcap by craft).
fn tcpdump_vv(frames: &[Vec<u8>]) -> Vec<String> {
    common::need("tcpdump");
    let path = std::env::temp_dir().join(format!("craft-wire-ipv6-{}.pcap", std::process::id()));
    let mut w = craft::link::pcap::PcapWriter::create(&path).expect("pcap");
    for f in frames {
        w.write_frame(SystemTime::UNIX_EPOCH, f, f.len()).unwrap();
    }
    drop(w);
    let out = Command::new("tcpdump")
        .args(["-nn", "-vv", "-e", "-r"])
        .arg(&path)
        .output()
        .expect("tcpdump");
    let _ = std::fs::remove_file(&path);
    // A line that starts with white space continues the frame before it.
    let mut lines: Vec<String> = Vec::new();
    for l in String::from_utf8_lossy(&out.stdout).lines() {
        match lines.last_mut() {
            Some(last) if l.starts_with(char::is_whitespace) => last.push_str(l),
            _ => lines.push(l.to_string()),
        }
    }
    lines
}

#[test]
fn tcpdump_checks_the_checksums_and_reads_the_layers() {
    let frames: Vec<Vec<u8>> = SCAPY.iter().map(|(e, _)| ether_frame(e)).collect();
    let lines = tcpdump_vv(&frames);
    assert_eq!(lines.len(), SCAPY.len(), "{lines:#?}");
    let want: &[&[&str]] = &[
        &[
            "ethertype IPv6 (0x86dd)",
            "next-header unknown (59) payload length: 0) ::1 > ::1: no next header",
        ],
        &["::1.20 > ::1.80: Flags [S], cksum 0x8f7d (correct)"],
        &["::1.53 > ::1.53: [udp sum ok]"],
        &[
            "(class 0xb8, flowlabel 0x12345, hlim 1",
            "fe80::1.1234 > fe80::2.80: Flags [P.], cksum 0xb4dc (correct), seq 1:5, ack 2",
        ],
        &["[icmp6 sum ok] ICMP6, echo request, id 7, seq 9"],
        &["[icmp6 sum ok] ICMP6, echo reply, id 7, seq 9"],
        &["[icmp6 sum ok] ICMP6, destination unreachable, unreachable port, ::1 udp port 53"],
        &["[icmp6 sum ok] ICMP6, packet too big, mtu 1400"],
        &["[icmp6 sum ok] ICMP6, time exceeded in-transit"],
        &["[icmp6 sum ok] ICMP6, parameter problem, erroneous - octet 40"],
        &["HBH (padn) DSTOPT (padn) 53 > 53: [udp sum ok]"],
        &[
            "RT6 (len=4, type=0 [Deprecated], segleft=2, rsv=0x0, [0]::2, [1]::3) 20 > 80: Flags [S], cksum 0x",
            "(correct)",
        ],
        &["frag (0x00000063:24|8)"],
        &["frag (0x01020304:0|20) 20 > 80: Flags [S]"],
        &[
            "ethertype 802.1Q (0x8100)",
            "vlan 5, p 3, ethertype IPv6 (0x86dd)",
            "[udp sum ok]",
        ],
        &[
            "ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806)",
            "Request who-has 192.0.2.2 tell 192.0.2.1, length 28",
        ],
        &["Reply 192.0.2.1 is-at 02:00:00:00:00:01, length 28"],
        &[
            "vlan 1, p 0, ethertype 802.1Q (0x8100), vlan 7, p 0, ethertype ARP (0x0806)",
            "Request who-has 0.0.0.0 tell 127.0.0.1",
        ],
        &[
            "proto IPv6 (41)",
            "127.0.0.1 > 127.0.0.1: (hlim 64",
            "::1.20 > ::1.80: Flags [S], cksum 0x8f7d (correct)",
        ],
        &[
            "(hlim 255, next-header ICMPv6 (58) payload length: 32) fe80::1 > ff02::1: [icmp6 sum ok] ICMP6, neighbor solicitation, length 32, who has fe80::2",
            "source link-address option (1), length 8 (1): 02:00:00:00:00:01",
        ],
        &[
            "[icmp6 sum ok] ICMP6, neighbor advertisement, length 32, tgt is fe80::2, Flags [router, solicited, override]",
            "destination link-address option (2), length 8 (1): 02:00:00:00:00:02",
        ],
        &["fe80::1 > ff02::2: [icmp6 sum ok] ICMP6, router solicitation, length 16"],
        &[
            "[icmp6 sum ok] ICMP6, router advertisement, length 64",
            "hop limit 64, Flags [managed], pref high, router lifetime 600s",
            "prefix info option (3), length 32 (4): 2001:db8::/64, Flags [onlink, auto], valid time infinity",
            "mtu option (5), length 8 (1):  1500",
            "unknown option (99), length 8 (1)",
        ],
        &["fe80::1 > fe80::3: [icmp6 sum ok] ICMP6, redirect, length 40, 2001:db8::1 to fe80::2"],
    ];
    assert_eq!(want.len(), SCAPY.len());
    for ((line, parts), (expr, _)) in lines.iter().zip(want).zip(SCAPY) {
        for part in *parts {
            assert!(
                line.contains(part),
                "{expr}: tcpdump said\n  {line}\nwithout {part:?}"
            );
        }
        assert!(
            !line.contains("incorrect") && !line.contains("bad "),
            "{expr}: {line}"
        );
    }
}

#[test]
fn summaries_read_as_tcpdump_lines() {
    let s = |expr: &str| craft::render::summary(&Packet::parse(&ether_frame(expr)));
    assert_eq!(
        s("IPv6()/TCP()"),
        "IP6 ::1.20 > ::1.80: Flags [S], seq 0, win 8192, length 0"
    );
    assert_eq!(
        s(r#"IPv6()/UDP()/"hello""#),
        "IP6 ::1.53 > ::1.53: UDP, length 5"
    );
    assert_eq!(
        s(r#"IPv6()/ICMPv6EchoRequest(id=7, seq=9, data="hi")"#),
        "IP6 ::1 > ::1: ICMP6, echo request, id 7, seq 9, length 10"
    );
    assert_eq!(
        s("IPv6()/ICMPv6DestUnreach(code=4)/IPv6()/UDP()"),
        "IP6 ::1 > ::1: ICMP6, destination unreachable, unreachable port, ::1 udp port 53, length 56"
    );
    assert_eq!(
        s(r#"IPv6()/IPv6ExtHdrFragment(offset=3, m=1, id=99)/"abcdefgh""#),
        "IP6 ::1 > ::1: frag (id 99, offset 24, more), nh 59, length 8"
    );
    assert_eq!(s("IPv6()"), "IP6 ::1 > ::1: no next header, length 0");
    // IPv4 fragments read as fragments too, not as cut-short transport headers.
    assert_eq!(
        s(r#"IP(id=5, flags="MF", proto=6)/"\x9c\x40\x04\xd2""#),
        "IP 127.0.0.1 > 127.0.0.1: frag (id 5, offset 0, more), proto 6, length 4"
    );
    assert_eq!(
        s(r#"IP(id=5, frag=3, proto=6)/"efgh""#),
        "IP 127.0.0.1 > 127.0.0.1: frag (id 5, offset 24), proto 6, length 4"
    );
    // Neighbour discovery: hop limit 255 and scapy's multicast destination
    // unless set; the lines are tcpdump's.
    assert_eq!(
        s(r#"IPv6()/ICMPv6ND_NS(tgt="::2")/ICMPv6NDOptSrcLLAddr()"#),
        "IP6 ::1 > ff02::1: ICMP6, neighbor solicitation, who has ::2, length 32"
    );
    assert_eq!(
        s(r#"IPv6(dst="::1")/ICMPv6ND_NA(tgt="::1")"#),
        "IP6 ::1 > ::1: ICMP6, neighbor advertisement, tgt is ::1, length 24"
    );
    assert_eq!(
        s("IPv6()/ICMPv6ND_RS()"),
        "IP6 ::1 > ff02::2: ICMP6, router solicitation, length 8"
    );
    assert_eq!(
        s("IP()/IPv6()/TCP()"),
        "IP 127.0.0.1 > 127.0.0.1: IP6 ::1.20 > ::1.80: Flags [S], seq 0, win 8192, length 0"
    );
    assert_eq!(
        s(r#"Ether()/Dot1Q(vlan=5)/IPv6()/UDP()"#),
        "vlan 5, p 0, IP6 ::1.53 > ::1.53: UDP, length 0"
    );
    assert_eq!(
        s(r#"Ether()/ARP(pdst="127.0.0.2")"#),
        "ARP, Request who-has 127.0.0.2 tell 127.0.0.1, length 28"
    );
}

#[test]
fn fields_read_and_set_as_the_language_writes_them() {
    let mut e = Engine::new(Box::new(Buf::default()));
    e.run_source(
        "t.craft",
        r#"
p = Ether()/IPv6(dst="::2")/IPv6ExtHdrRouting(addresses=["::3", "::4"])/TCP()
expect p.ipv6.dst == "::2"
expect p.ipv6.nh == 43
expect p.ipv6exthdrrouting.segleft == 2
expect p.ipv6exthdrrouting.nh == 6
expect p.ipv6exthdrrouting.addresses == ["::3", "::4"]
p.ipv6.hlim = 1
expect p.ipv6.hlim == 1
q = Ether()/IPv6()/ICMPv6EchoRequest(id=5, seq=6, data="x")
expect q.icmpv6echorequest.id == 5
expect q.icmpv6echorequest.data == "x"
a = Ether()/ARP(op=2, psrc="127.0.0.2")
expect a.ether.type == 0x0806
expect a.arp.psrc == 127.0.0.2
v = Ether()/Dot1Q(prio=5, id=1, vlan=100)/IPv6()
expect v.dot1q.dei == 1 and v.dot1q.id == 1
expect v.dot1q.type == 0x86dd
"#,
    )
    .unwrap();
    assert!(
        error(r#"IPv6(src="1.2.3.4.5")"#)
            .contains("IPv6.src: \"1.2.3.4.5\" is not an IPv6 address")
    );
    assert!(
        error(r#"IPv6ExtHdrRouting(addresses=["::1", 5])"#)
            .contains("IPv6ExtHdrRouting.addresses[1]")
    );
    assert!(error("IPv6(fl=0x100000)").contains("IPv6.fl = 1048576 is out of range"));
}

#[test]
fn what_cannot_be_built_is_refused_naming_the_field() {
    let big = packet(r#"IPv6()/UDP()/Raw(load="x" * 65530)"#);
    let e = big.check_build().unwrap_err();
    assert!(e.contains("IPv6.plen") || e.contains("UDP.len"), "{e}");
    let p = packet(r#"IPv6()/Padding(load="x")/ICMPv6EchoRequest()"#);
    let e = p.check_build().unwrap_err();
    assert!(
        e.contains("ICMPv6EchoRequest.cksum cannot be computed"),
        "{e}"
    );
    let p = packet(r#"IPv6()/ICMPv6ND_NS()/ICMPv6NDOptUnknown(type=9, data="x" * 2100)"#);
    assert!(
        p.check_build()
            .unwrap_err()
            .contains("ICMPv6NDOptUnknown.len")
    );
    let p = packet(r#"IPv6ExtHdrHopByHop(options="x" * 3000)"#);
    assert!(
        p.check_build()
            .unwrap_err()
            .contains("IPv6ExtHdrHopByHop.options")
    );
    // A transport on IPv6 or an extension header is not bare; on Ether it is.
    assert_eq!(
        packet("IPv6()/IPv6ExtHdrFragment()/TCP()").bare_transport(),
        None
    );
    assert!(
        packet("Ether()/ICMPv6EchoRequest()")
            .bare_transport()
            .is_some()
    );
    assert_eq!(
        packet("Ether()/Dot1Q()/IPv6()/ICMPv6EchoReply()").odd_pair(),
        None
    );
    assert!(packet("Ether()/IPv6ExtHdrFragment()").odd_pair().is_some());
}
