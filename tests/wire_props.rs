//! Property and robustness tests for the wire layer: emit/decode round trips,
//! a cross-check against etherparse, and malformed input (truncations of
//! captured frames, hand-made broken headers, random bytes).

use craft::wire::checksum::{self, ChecksumStatus};
use craft::wire::raw::Raw;
use craft::wire::tcp::{decode_options, encode_options};
use craft::wire::{DecodeError, Ether, Icmp, Ipv4, Layer, LayerKind, Packet, Tcp, TcpOption, Udp};
use proptest::prelude::*;
use std::net::Ipv4Addr;

/// A SYN captured on `lo` (kernel-sent, partial checksum 0xfe30).
const SYN_HEX: &str = "00000000000000000000000008004500003cc03e400040067c7b7f0000017f000001dbf004d2f8dea4d900000000a002ffd7fe3000000204ffd70402080a29657126000000000103030a";

fn syn() -> Vec<u8> {
    hex::decode(SYN_HEX).unwrap()
}

fn kinds(p: &Packet) -> Vec<LayerKind> {
    p.layers.iter().map(Layer::kind).collect()
}

/// Decodes `bytes` and checks that the packet emits back to exactly `bytes`
/// and that any error is well-formed (known layer, offset inside the frame).
fn decode_lossless(bytes: &[u8]) -> (Packet, Option<DecodeError>) {
    let (p, err) = Packet::decode(bytes);
    let again = p.emit();
    assert_eq!(
        hex::encode(&again),
        hex::encode(bytes),
        "decode → emit is not lossless; layers {:?}, err {err:?}",
        kinds(&p)
    );
    if let Some(e) = &err {
        assert!(
            [
                "Ether",
                "IP",
                "TCP",
                "UDP",
                "ICMP",
                "IPv6",
                "IPv6ExtHdrHopByHop",
                "IPv6ExtHdrDestOpt",
                "IPv6ExtHdrRouting",
                "IPv6ExtHdrFragment",
                "ICMPv6",
                "ICMPv6NDOpt",
                "ARP",
                "Dot1Q"
            ]
            .contains(&e.layer),
            "unknown layer name in {e:?}"
        );
        assert!(e.offset <= bytes.len(), "offset past the frame in {e:?}");
        assert!(!e.msg.is_empty());
        // Display must not panic and must carry layer and offset.
        let shown = e.to_string();
        assert!(shown.contains(e.layer) && shown.contains(&e.offset.to_string()));
    }
    // Rendering a decoded (possibly partial) packet must not panic either.
    let _ = craft::render::summary(&p);
    let _ = p.resolved();
    (p, err)
}

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

/// Bytes whose length is a multiple of 4, at most 40.
fn opt_bytes() -> impl Strategy<Value = Vec<u8>> {
    (0usize..=10).prop_flat_map(|k| proptest::collection::vec(any::<u8>(), 4 * k))
}

/// A well-formed TCP option other than EOL.
fn tcp_option() -> impl Strategy<Value = TcpOption> {
    prop_oneof![
        Just(TcpOption::Nop),
        any::<u16>().prop_map(TcpOption::Mss),
        any::<u8>().prop_map(TcpOption::WScale),
        Just(TcpOption::SackOk),
        proptest::collection::vec(any::<(u32, u32)>(), 0..=4).prop_map(TcpOption::Sack),
        any::<(u32, u32)>().prop_map(|(v, e)| TcpOption::Timestamp(v, e)),
        (
            any::<u8>().prop_filter("known kind", |k| !matches!(k, 0..=5 | 8)),
            proptest::collection::vec(any::<u8>(), 0..=6)
        )
            .prop_map(|(k, d)| TcpOption::Unknown(k, d)),
    ]
}

/// A list of well-formed options whose encoding fits in 40 bytes.
fn tcp_option_list() -> impl Strategy<Value = Vec<TcpOption>> {
    proptest::collection::vec(tcp_option(), 0..8).prop_map(|opts| {
        let mut kept = Vec::new();
        for o in opts {
            kept.push(o);
            if encode_options(&kept).len() > 40 {
                kept.pop();
                break;
            }
        }
        kept
    })
}

/// TCP options: random raw bytes, or an encoded well-formed list.
fn tcp_options() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        opt_bytes(),
        tcp_option_list().prop_map(|l| encode_options(&l))
    ]
}

fn ipv4_addr() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

/// An IPv4 header with random set fields and computed ihl/len/proto/chksum.
/// `flags` picks which flag bits may be used.
fn ipv4(flags: impl Strategy<Value = u8>) -> impl Strategy<Value = Ipv4> {
    (
        any::<u8>(),
        any::<u16>(),
        flags,
        any::<u8>(),
        ipv4_addr(),
        ipv4_addr(),
        opt_bytes(),
    )
        .prop_map(|(tos, id, flags, ttl, src, dst, options)| Ipv4 {
            tos: Some(tos),
            id: Some(id),
            flags: Some(flags),
            frag: Some(0),
            ttl: Some(ttl),
            src: Some(src),
            dst: Some(dst),
            options,
            ..Ipv4::default()
        })
}

/// A TCP header with random set fields (odd flag combinations and reserved
/// bits included) and computed dataofs/chksum.
fn tcp() -> impl Strategy<Value = Tcp> {
    (
        (any::<u16>(), any::<u16>(), any::<u32>(), any::<u32>()),
        (0u8..8, 0u16..0x200, any::<u16>(), any::<u16>()),
        tcp_options(),
    )
        .prop_map(
            |((sport, dport, seq, ack), (reserved, flags, window, urgptr), options)| Tcp {
                sport: Some(sport),
                dport: Some(dport),
                seq: Some(seq),
                ack: Some(ack),
                reserved: Some(reserved),
                flags: Some(flags),
                window: Some(window),
                urgptr: Some(urgptr),
                options,
                ..Tcp::default()
            },
        )
}

fn udp() -> impl Strategy<Value = Udp> {
    (any::<u16>(), any::<u16>()).prop_map(|(sport, dport)| Udp {
        sport: Some(sport),
        dport: Some(dport),
        ..Udp::default()
    })
}

/// An ICMP echo request or reply.
fn icmp_echo() -> impl Strategy<Value = Icmp> {
    (
        prop_oneof![Just(0u8), Just(8u8)],
        any::<u8>(),
        any::<u16>(),
        any::<u16>(),
    )
        .prop_map(|(t, code, id, seq)| Icmp {
            icmp_type: Some(t),
            code: Some(code),
            id: Some(id),
            seq: Some(seq),
            ..Icmp::default()
        })
}

fn transport() -> impl Strategy<Value = Layer> {
    prop_oneof![
        3 => tcp().prop_map(Layer::Tcp),
        2 => udp().prop_map(Layer::Udp),
        1 => icmp_echo().prop_map(Layer::Icmp),
    ]
}

fn ether() -> impl Strategy<Value = Ether> {
    (any::<[u8; 6]>(), any::<[u8; 6]>()).prop_map(|(dst, src)| Ether {
        dst: Some(dst),
        src: Some(src),
        ethertype: None,
    })
}

fn payload() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..300)
}

/// Ether / IPv4 / (TCP | UDP | ICMP echo) / optional Raw, computed fields unset.
fn well_formed_stack() -> impl Strategy<Value = Packet> {
    (ether(), ipv4(0u8..8), transport(), payload()).prop_map(|(e, ip, t, load)| {
        let mut layers = vec![Layer::Ether(e), Layer::Ip(ip), t];
        if !load.is_empty() {
            layers.push(Layer::raw(load));
        }
        Packet { layers }
    })
}

/// Overrides some computed fields with arbitrary (usually wrong) values.
#[derive(Clone, Debug)]
struct Wrong {
    ethertype: Option<u16>,
    ihl: Option<u8>,
    ip_len: Option<u16>,
    ip_chksum: Option<u16>,
    ip_proto: Option<u8>,
    dataofs: Option<u8>,
    l4_chksum: Option<u16>,
    udp_len: Option<u16>,
}

fn wrong() -> impl Strategy<Value = Wrong> {
    (
        proptest::option::weighted(0.1, any::<u16>()),
        proptest::option::weighted(0.2, 0u8..16),
        proptest::option::weighted(0.5, any::<u16>()),
        proptest::option::weighted(0.5, any::<u16>()),
        proptest::option::weighted(0.1, any::<u8>()),
        proptest::option::weighted(0.2, 0u8..16),
        proptest::option::weighted(0.5, any::<u16>()),
        proptest::option::weighted(0.5, any::<u16>()),
    )
        .prop_map(
            |(ethertype, ihl, ip_len, ip_chksum, ip_proto, dataofs, l4_chksum, udp_len)| Wrong {
                ethertype,
                ihl,
                ip_len,
                ip_chksum,
                ip_proto,
                dataofs,
                l4_chksum,
                udp_len,
            },
        )
}

fn apply_wrong(p: &mut Packet, w: &Wrong, ip_len_at_least_header: bool) {
    for l in &mut p.layers {
        match l {
            Layer::Ether(e) => e.ethertype = w.ethertype.or(e.ethertype),
            Layer::Ip(ip) => {
                ip.ihl = w.ihl;
                ip.len = w.ip_len.map(|v| {
                    if ip_len_at_least_header {
                        v.max(ip.header_len() as u16)
                    } else {
                        v
                    }
                });
                ip.chksum = w.ip_chksum;
                ip.proto = w.ip_proto;
            }
            Layer::Tcp(t) => {
                t.dataofs = w.dataofs;
                t.chksum = w.l4_chksum;
            }
            Layer::Udp(u) => {
                u.len = w.udp_len;
                u.chksum = w.l4_chksum;
            }
            Layer::Icmp(c) => c.chksum = w.l4_chksum,
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// emit → decode → emit is the identity, with no decode error, and the
    /// decoded packet is exactly what `resolved()` says was sent.
    #[test]
    fn emit_decode_emit_identity(p in well_formed_stack()) {
        let bytes = p.emit();
        let (d, err) = Packet::decode(&bytes);
        prop_assert!(err.is_none(), "decode error {err:?} on {}", hex::encode(&bytes));
        prop_assert_eq!(hex::encode(d.emit()), hex::encode(&bytes));
        let fragment = p.ip().unwrap().flags.unwrap() & 1 != 0;
        if fragment {
            // MF set: the payload is a fragment, kept raw.
            prop_assert_eq!(kinds(&d), vec![LayerKind::Ether, LayerKind::Ip, LayerKind::Raw]);
        } else {
            prop_assert_eq!(&d, &p.resolved());
            prop_assert_eq!(kinds(&d), kinds(&p));
        }
        // emit_into a dirty, reused buffer gives the same bytes.
        let mut buf = vec![0xaa; 7];
        d.emit_into(&mut buf);
        prop_assert_eq!(buf, bytes);
    }

    /// Well-formed option lists survive encode → decode (EOL padding aside),
    /// and survive a trip through a frame.
    #[test]
    fn tcp_option_lists_round_trip(list in tcp_option_list(), ip in ipv4(Just(0))) {
        let raw = encode_options(&list);
        prop_assert!(raw.len() <= 40 && raw.len().is_multiple_of(4));
        let (decoded, err) = decode_options(&raw);
        prop_assert!(err.is_none(), "{err:?}");
        prop_assert_eq!(&decoded[..list.len()], &list[..]);
        prop_assert!(decoded[list.len()..].iter().all(|o| *o == TcpOption::Eol));
        let p = Packet {
            layers: vec![
                Layer::Ether(Ether::default()),
                Layer::Ip(ip),
                Layer::Tcp(Tcp { options: raw, ..Tcp::default() }),
            ],
        };
        let (d, err) = Packet::decode(&p.emit());
        prop_assert!(err.is_none());
        let (again, err) = d.tcp().unwrap().decoded_options();
        prop_assert!(err.is_none());
        prop_assert_eq!(again, decoded);
    }

    /// Stacks with user-set wrong checksums, lengths, ihl/dataofs, proto and
    /// ethertype still decode losslessly (whatever the decoder makes of them).
    #[test]
    fn wrong_fields_are_lossless(mut p in well_formed_stack(), w in wrong(), len_ok in any::<bool>()) {
        apply_wrong(&mut p, &w, len_ok);
        let bytes = p.emit();
        // The wrong values are on the wire as set.
        if let Some(len) = p.ip().unwrap().len {
            prop_assert_eq!(u16::from_be_bytes([bytes[16], bytes[17]]), len);
        }
        if let Some(c) = w.ip_chksum {
            prop_assert_eq!(u16::from_be_bytes([bytes[24], bytes[25]]), c);
        }
        let (d, _err) = decode_lossless(&bytes);
        // And a second trip changes nothing.
        let (d2, _) = Packet::decode(&d.emit());
        prop_assert_eq!(d2, d);
    }

    /// Random bytes: decode never panics and re-emits the input exactly.
    #[test]
    fn random_bytes_lossless(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        decode_lossless(&bytes);
    }

    /// Random bytes behind a valid Ethernet/IPv4 prefix (so IP and deeper
    /// parsers see them), proto chosen among TCP/UDP/ICMP.
    #[test]
    fn random_ip_payload_lossless(
        ihl in 0u8..16,
        len in any::<u16>(),
        flags_frag in prop_oneof![Just(0u16), Just(0x4000), any::<u16>()],
        proto in prop_oneof![Just(1u8), Just(6), Just(17), any::<u8>()],
        rest in proptest::collection::vec(any::<u8>(), 0..120),
    ) {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00, 0x40 | ihl, 0]);
        f.extend_from_slice(&len.to_be_bytes());
        f.extend_from_slice(&[0, 1]);
        f.extend_from_slice(&flags_frag.to_be_bytes());
        f.extend_from_slice(&[64, proto, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]);
        f.extend_from_slice(&rest);
        decode_lossless(&f);
    }

    /// The captured SYN with a few random byte mutations.
    #[test]
    fn mutated_syn_lossless(muts in proptest::collection::vec((0usize..74, any::<u8>()), 1..6), cut in 0usize..=74) {
        let mut f = syn();
        for (i, v) in muts {
            f[i] = v;
        }
        decode_lossless(&f);
        decode_lossless(&f[..cut]);
    }

    /// An ICMP error quoting a random (possibly cut) datagram.
    #[test]
    fn icmp_error_quote_lossless(
        t in prop_oneof![Just(3u8), Just(4), Just(5), Just(11), Just(12)],
        inner in well_formed_stack(),
        cut in 0usize..200,
    ) {
        let inner_bytes = inner.emit();
        let quoted = &inner_bytes[14..inner_bytes.len().min(14 + cut)];
        let p = Packet {
            layers: vec![
                Layer::Ether(Ether::default()),
                Layer::Ip(Ipv4 { proto: Some(1), ..Ipv4::default() }),
                Layer::Icmp(Icmp { icmp_type: Some(t), code: Some(3), ..Icmp::default() }),
                Layer::raw(quoted.to_vec()),
            ],
        };
        let bytes = p.emit();
        let (d, err) = decode_lossless(&bytes);
        prop_assert!(err.is_none(), "{err:?}");
        prop_assert_eq!(&kinds(&d)[..3], &[LayerKind::Ether, LayerKind::Ip, LayerKind::Icmp][..]);
        if quoted.len() >= 20 + inner.ip().unwrap().options.len() {
            prop_assert_eq!(d.layers.get(3).map(Layer::kind), Some(LayerKind::Ip));
        }
    }
}

// ---------------------------------------------------------------------------
// Cross-check against etherparse
// ---------------------------------------------------------------------------

/// Ether / IPv4 (DF or no flags) / TCP or UDP / payload, computed fields unset.
fn cross_stack() -> impl Strategy<Value = Packet> {
    (
        ether(),
        ipv4(prop_oneof![Just(0u8), Just(2u8)]),
        prop_oneof![tcp().prop_map(Layer::Tcp), udp().prop_map(Layer::Udp)],
        payload(),
    )
        .prop_map(|(e, ip, mut t, load)| {
            // etherparse leaves the TCP reserved bits out of its checksum
            // (it does not model them), so keep them zero here; the round
            // trip tests and `verify_transport` cover them.
            if let Layer::Tcp(h) = &mut t {
                h.reserved = Some(0);
            }
            Packet {
                layers: vec![Layer::Ether(e), Layer::Ip(ip), t, Layer::raw(load)],
            }
        })
        // etherparse does not model source routes: with an unfinished LSRR or
        // SSRR among the random options, the pseudo header carries the route's
        // final destination (RFC 9293 3.1), which tests/wire_rfc.rs checks
        // against tcpdump instead.
        .prop_filter("no unfinished source route", |p| {
            let bytes = p.emit();
            let hlen = usize::from(bytes[14] & 0x0f) * 4;
            craft::wire::ipv4::pseudo_addrs(&bytes[14..14 + hlen])
                .is_some_and(|(_, d)| Some(d) == p.ip().and_then(|ip| ip.dst))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn matches_etherparse(p in cross_stack()) {
        use etherparse::{LinkHeader, NetHeaders, PacketHeaders, TransportHeader};

        let bytes = p.emit();
        let h = PacketHeaders::from_ethernet_slice(&bytes)
            .map_err(|e| TestCaseError::fail(format!("etherparse: {e:?} on {}", hex::encode(&bytes))))?;

        let Some(Layer::Ether(e)) = p.layers.first() else { unreachable!() };
        let Some(LinkHeader::Ethernet2(eth)) = &h.link else {
            return Err(TestCaseError::fail("no ethernet header"));
        };
        prop_assert_eq!(Some(eth.source), e.src);
        prop_assert_eq!(Some(eth.destination), e.dst);
        prop_assert_eq!(eth.ether_type.0, 0x0800);

        let ip = p.ip().unwrap();
        let Some(NetHeaders::Ipv4(iph, _)) = &h.net else {
            return Err(TestCaseError::fail("no ipv4 header"));
        };
        let hlen = 20 + ip.options.len();
        prop_assert_eq!(usize::from(iph.ihl()) * 4, hlen);
        prop_assert_eq!(Some((iph.dscp.value() << 2) | iph.ecn.value()), ip.tos);
        prop_assert_eq!(usize::from(iph.total_len), bytes.len() - 14);
        prop_assert_eq!(Some(iph.identification), ip.id);
        prop_assert_eq!(iph.dont_fragment, ip.flags == Some(2));
        prop_assert!(!iph.more_fragments);
        prop_assert_eq!(iph.fragment_offset.value(), 0);
        prop_assert_eq!(Some(iph.time_to_live), ip.ttl);
        prop_assert_eq!(Some(Ipv4Addr::from(iph.source)), ip.src);
        prop_assert_eq!(Some(Ipv4Addr::from(iph.destination)), ip.dst);
        prop_assert_eq!(&iph.options[..], &ip.options[..]);
        prop_assert_eq!(iph.header_checksum, iph.calc_header_checksum());
        prop_assert_eq!(checksum::verify_ip_header(&bytes[14..14 + hlen]), ChecksumStatus::Good);

        let load = p.payload();
        prop_assert_eq!(h.payload.slice(), load);
        let seg = &bytes[14 + hlen..];
        match (&h.transport, &p.layers[2]) {
            (Some(TransportHeader::Tcp(th)), Layer::Tcp(t)) => {
                prop_assert_eq!(iph.protocol.0, 6);
                prop_assert_eq!(Some(th.source_port), t.sport);
                prop_assert_eq!(Some(th.destination_port), t.dport);
                prop_assert_eq!(Some(th.sequence_number), t.seq);
                prop_assert_eq!(Some(th.acknowledgment_number), t.ack);
                prop_assert_eq!(Some(th.window_size), t.window);
                prop_assert_eq!(Some(th.urgent_pointer), t.urgptr);
                prop_assert_eq!(th.options.as_slice(), &t.options[..]);
                prop_assert_eq!(usize::from(th.data_offset()) * 4, 20 + t.options.len());
                let f = t.flags.unwrap();
                let bits = [
                    th.fin, th.syn, th.rst, th.psh, th.ack, th.urg, th.ece, th.cwr, th.ns,
                ];
                for (i, b) in bits.iter().enumerate() {
                    prop_assert_eq!(*b, f & (1 << i) != 0, "flag bit {}", i);
                }
                // etherparse does not expose the reserved bits: read them raw.
                prop_assert_eq!(Some((seg[12] >> 1) & 7), t.reserved);
                let want = th.calc_checksum_ipv4(iph, load).unwrap();
                prop_assert_eq!(th.checksum, want);
                prop_assert_eq!(
                    checksum::verify_transport(ip.src.unwrap(), ip.dst.unwrap(), 6, seg, 16),
                    ChecksumStatus::Good
                );
            }
            (Some(TransportHeader::Udp(uh)), Layer::Udp(u)) => {
                prop_assert_eq!(iph.protocol.0, 17);
                prop_assert_eq!(Some(uh.source_port), u.sport);
                prop_assert_eq!(Some(uh.destination_port), u.dport);
                prop_assert_eq!(usize::from(uh.length), 8 + load.len());
                let want = uh.calc_checksum_ipv4(iph, load).unwrap();
                prop_assert_eq!(uh.checksum, want);
                prop_assert_ne!(uh.checksum, 0);
                prop_assert_eq!(
                    checksum::verify_transport(ip.src.unwrap(), ip.dst.unwrap(), 17, seg, 6),
                    ChecksumStatus::Good
                );
            }
            (t, l) => return Err(TestCaseError::fail(format!("transport mismatch: {t:?} vs {l:?}"))),
        }
    }
}

// ---------------------------------------------------------------------------
// Captured frames: every truncation
// ---------------------------------------------------------------------------

fn pcap_frames() -> Vec<(String, Vec<u8>)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no pcaps in {dir}");
    let mut frames = Vec::new();
    for path in paths {
        let recs = craft::link::pcap::read_all(&std::fs::read(&path).unwrap()).unwrap();
        assert!(!recs.is_empty(), "{} has no frames", path.display());
        for (i, (_, data, _)) in recs.into_iter().enumerate() {
            frames.push((format!("{}#{i}", path.display()), data));
        }
    }
    frames
}

#[test]
fn captured_frames_decode_cleanly() {
    for (name, f) in pcap_frames() {
        let (p, err) = decode_lossless(&f);
        assert!(err.is_none(), "{name}: {err:?}");
        assert_eq!(kinds(&p)[..2], [LayerKind::Ether, LayerKind::Ip], "{name}");
        // Kernel-sent frames on lo carry full or partial (offloaded) checksums.
        let ip = p.ip().unwrap();
        let hlen = 20 + ip.options.len();
        assert_eq!(
            checksum::verify_ip_header(&f[14..14 + hlen]),
            ChecksumStatus::Good,
            "{name}"
        );
        if p.tcp().is_some() {
            let seg = &f[14 + hlen..14 + usize::from(ip.len.unwrap())];
            let st = checksum::verify_transport(ip.src.unwrap(), ip.dst.unwrap(), 6, seg, 16);
            assert!(
                matches!(st, ChecksumStatus::Good | ChecksumStatus::Partial),
                "{name}: {st:?}"
            );
        }
    }
}

#[test]
fn captured_frames_every_truncation_is_lossless() {
    let mut frames = pcap_frames();
    frames.push(("SYN".into(), syn()));
    for (name, f) in frames {
        for n in 0..=f.len() {
            let (p, err) = decode_lossless(&f[..n]);
            if n == f.len() {
                assert!(err.is_none(), "{name}: {err:?}");
            }
            if n < 14 {
                assert_eq!(
                    err.as_ref().map(|e| (e.layer, e.offset)),
                    Some(("Ether", 0)),
                    "{name} cut at {n}"
                );
            } else if n < 34 && n > 14 {
                assert_eq!(
                    err.as_ref().map(|e| (e.layer, e.offset)),
                    Some(("IP", 14)),
                    "{name} cut at {n}"
                );
                assert_eq!(kinds(&p), [LayerKind::Ether, LayerKind::Raw]);
            }
        }
    }
}

#[test]
fn captured_syn_decodes_as_expected() {
    let (p, err) = decode_lossless(&syn());
    assert!(err.is_none());
    let ip = p.ip().unwrap();
    let t = p.tcp().unwrap();
    assert_eq!(ip.src, Some(Ipv4Addr::LOCALHOST));
    assert_eq!(ip.dst, Some(Ipv4Addr::LOCALHOST));
    assert_eq!((t.sport, t.dport), (Some(0xdbf0), Some(1234)));
    assert_eq!(t.seq, Some(0xf8dea4d9));
    assert_eq!(t.flags, Some(0x002));
    assert_eq!(t.chksum, Some(0xfe30));
    assert_eq!(t.mss(), Some(65495));
    assert_eq!(t.wscale(), Some(10));
    let f = syn();
    assert_eq!(
        checksum::verify_transport(Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST, 6, &f[34..], 16),
        ChecksumStatus::Partial
    );
    assert_eq!(
        craft::render::summary(&p),
        "IP 127.0.0.1.56304 > 127.0.0.1.1234: Flags [S], seq 4175340761, win 65495, \
         options [mss 65495,sackOK,TS val 694513958 ecr 0,nop,wscale 10], length 0"
    );
}

// ---------------------------------------------------------------------------
// Hand-made malformed frames
// ---------------------------------------------------------------------------

fn err_at(f: &[u8]) -> (Packet, (&'static str, usize)) {
    let (p, err) = decode_lossless(f);
    let e = err.unwrap_or_else(|| panic!("no decode error for {}", hex::encode(f)));
    (p, (e.layer, e.offset))
}

#[test]
fn ihl_below_five() {
    for ihl in 0..5u8 {
        let mut f = syn();
        f[14] = 0x40 | ihl;
        let (p, at) = err_at(&f);
        assert_eq!(at, ("IP", 14));
        assert_eq!(kinds(&p), [LayerKind::Ether, LayerKind::Raw]);
    }
}

#[test]
fn ip_version_not_four() {
    let mut f = syn();
    f[14] = 0x65;
    let (p, at) = err_at(&f);
    assert_eq!(at, ("IP", 14));
    assert_eq!(kinds(&p), [LayerKind::Ether, LayerKind::Raw]);
}

#[test]
fn ihl_past_the_end() {
    // ihl 15 (60 bytes) with only 40 bytes after the Ethernet header.
    let mut f = syn();
    f[14] = 0x4f;
    let (p, at) = err_at(&f[..54]);
    assert_eq!(at, ("IP", 14));
    assert_eq!(kinds(&p), [LayerKind::Ether, LayerKind::Raw]);
    // ihl 15 that just fits swallows the TCP header as IP options.
    let (p, err) = decode_lossless(&f);
    assert!(err.is_none());
    assert_eq!(p.ip().unwrap().options.len(), 40);
}

#[test]
fn tcp_data_offset_below_five() {
    for d in 0..5u8 {
        let mut f = syn();
        f[46] = (d << 4) | (f[46] & 0x0f);
        let (p, at) = err_at(&f);
        assert_eq!(at, ("TCP", 46));
        assert_eq!(kinds(&p), [LayerKind::Ether, LayerKind::Ip, LayerKind::Raw]);
    }
}

#[test]
fn tcp_data_offset_past_the_end() {
    let mut f = syn();
    f[46] = 0xf0;
    let (p, at) = err_at(&f);
    assert_eq!(at, ("TCP", 46));
    assert_eq!(kinds(&p), [LayerKind::Ether, LayerKind::Ip, LayerKind::Raw]);
    // Same, the limit being ip.len rather than the frame: the bytes past the
    // datagram are padding, not TCP header.
    let mut f = syn();
    f.extend_from_slice(&[0; 40]);
    f[46] = 0xf0;
    let (p, at) = err_at(&f);
    assert_eq!(at, ("TCP", 46));
    assert_eq!(
        kinds(&p),
        [
            LayerKind::Ether,
            LayerKind::Ip,
            LayerKind::Raw,
            LayerKind::Padding
        ]
    );
}

#[test]
fn tcp_truncated_header() {
    let f = syn();
    let (p, at) = err_at(&f[..34 + 19]);
    assert_eq!(at, ("TCP", 34));
    assert_eq!(kinds(&p), [LayerKind::Ether, LayerKind::Ip, LayerKind::Raw]);
}

#[test]
fn tcp_option_lengths_zero_one_overlong() {
    // The SYN's options start at byte 54 with MSS (kind 2, len 4).
    for (len, what) in [(0u8, "length 0"), (1, "length 1"), (41, "past the end")] {
        let mut f = syn();
        f[55] = len;
        let (p, err) = decode_lossless(&f);
        assert!(
            err.is_none(),
            "options are kept raw, not a decode error: {err:?}"
        );
        let t = p.tcp().unwrap();
        let (opts, oerr) = t.decoded_options();
        assert!(opts.is_empty());
        let msg = oerr.unwrap_or_else(|| panic!("no option error for len {len}"));
        assert!(msg.contains(what) && msg.contains("byte 0"), "{msg}");
        assert_eq!(t.mss(), None);
        let _ = craft::render::summary(&p);
    }
    // A malformed option after good ones keeps the good ones.
    let mut f = syn();
    f[58] = 4; // SAckOK kind
    f[59] = 1; // length 1
    let (p, _) = decode_lossless(&f);
    let (opts, oerr) = p.tcp().unwrap().decoded_options();
    assert_eq!(opts, [TcpOption::Mss(65495)]);
    assert!(oerr.unwrap().contains("byte 4"));
    // Kind with no length byte at the very end of the options.
    let (opts, oerr) = decode_options(&[1, 1, 1, 2]);
    assert_eq!(opts, [TcpOption::Nop, TcpOption::Nop, TcpOption::Nop]);
    assert!(oerr.unwrap().contains("no length byte"));
    // Fixed-size options with the wrong length.
    for raw in [
        &[2u8, 3, 0, 0][..],
        &[3, 4, 0, 0],
        &[4, 3, 0, 0],
        &[5, 4, 0, 0],
        &[8, 8, 0, 0, 0, 0, 0, 0],
    ] {
        let (_, oerr) = decode_options(raw);
        assert!(oerr.unwrap().contains("expected"), "{raw:?}");
    }
}

#[test]
fn ip_len_smaller_than_header() {
    for len in [0u16, 1, 19, 20, 39] {
        let mut f = syn();
        f[16..18].copy_from_slice(&len.to_be_bytes());
        let (p, err) = decode_lossless(&f);
        match len {
            // Not an error: the rest of the frame is taken as the datagram
            // (the way a TSO capture with ip.len 0 must be read).
            0..20 => {
                assert!(err.is_none(), "len {len}: {err:?}");
                assert!(p.tcp().is_some(), "len {len}");
            }
            // A length that covers just the header: the rest is padding.
            20 => {
                assert!(err.is_none(), "len {len}: {err:?}");
                assert_eq!(
                    kinds(&p),
                    [LayerKind::Ether, LayerKind::Ip, LayerKind::Padding]
                );
            }
            // Cuts the TCP header short: error at TCP, the rest is padding.
            _ => {
                let e = err.unwrap();
                assert_eq!((e.layer, e.offset), ("TCP", 34));
                assert_eq!(
                    kinds(&p),
                    [
                        LayerKind::Ether,
                        LayerKind::Ip,
                        LayerKind::Raw,
                        LayerKind::Padding
                    ]
                );
            }
        }
    }
}

#[test]
fn ip_len_larger_than_frame() {
    let mut f = syn();
    f[16..18].copy_from_slice(&0xffffu16.to_be_bytes());
    let (p, err) = decode_lossless(&f);
    assert!(err.is_none());
    assert_eq!(p.ip().unwrap().len, Some(0xffff));
    assert!(p.tcp().is_some());
}

#[test]
fn ip_len_shorter_than_frame_gives_padding() {
    let mut f = syn();
    f.extend_from_slice(&[0xee; 6]);
    let (p, err) = decode_lossless(&f);
    assert!(err.is_none());
    assert_eq!(
        kinds(&p),
        [
            LayerKind::Ether,
            LayerKind::Ip,
            LayerKind::Tcp,
            LayerKind::Padding
        ]
    );
    assert_eq!(p.payload(), b"");
}

fn icmp_unreachable(quoted: &[u8]) -> Vec<u8> {
    Packet {
        layers: vec![
            Layer::Ether(Ether::default()),
            Layer::Ip(Ipv4::default()),
            Layer::Icmp(Icmp {
                icmp_type: Some(3),
                code: Some(3),
                ..Icmp::default()
            }),
            Layer::raw(quoted.to_vec()),
        ],
    }
    .emit()
}

#[test]
fn icmp_unreachable_quoting_truncated_datagram() {
    let syn = syn();
    let dgram = &syn[14..];
    // RFC 792 quote: IP header + 8 bytes (TCP header cut short).
    let f = icmp_unreachable(&dgram[..28]);
    let (p, err) = decode_lossless(&f);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        kinds(&p),
        [
            LayerKind::Ether,
            LayerKind::Ip,
            LayerKind::Icmp,
            LayerKind::Ip,
            LayerKind::Raw
        ]
    );
    assert_eq!(&p.payload()[..4], &[0xdb, 0xf0, 0x04, 0xd2]);
    // Every cut of the quote, down to nothing.
    for n in 0..=dgram.len() {
        let f = icmp_unreachable(&dgram[..n]);
        let (p, err) = decode_lossless(&f);
        assert!(err.is_none(), "quote cut at {n}: {err:?}");
        assert_eq!(
            &kinds(&p)[..3],
            [LayerKind::Ether, LayerKind::Ip, LayerKind::Icmp]
        );
        if n >= 20 {
            assert_eq!(p.layers[3].kind(), LayerKind::Ip, "quote cut at {n}");
        }
        if n == dgram.len() {
            assert!(p.layers.get(4).is_some_and(|l| l.kind() == LayerKind::Tcp));
        }
    }
    // A UDP quote: header complete, data cut.
    let udp = Packet {
        layers: vec![
            Layer::Ip(Ipv4::default()),
            Layer::Udp(Udp {
                sport: Some(40000),
                dport: Some(33434),
                ..Udp::default()
            }),
            Layer::raw(vec![7; 32]),
        ],
    };
    let mut ub = Vec::new();
    udp.emit_into(&mut ub);
    // `emit` of a stack without Ether starts at IP.
    let f = icmp_unreachable(&ub[..28]);
    let (p, err) = decode_lossless(&f);
    assert!(err.is_none());
    assert_eq!(
        kinds(&p),
        [
            LayerKind::Ether,
            LayerKind::Ip,
            LayerKind::Icmp,
            LayerKind::Ip,
            LayerKind::Udp
        ]
    );
    // The quoted IP header itself is malformed: the quote stays raw.
    let mut bad = dgram[..28].to_vec();
    bad[0] = 0x43;
    let (p, err) = decode_lossless(&icmp_unreachable(&bad));
    assert!(err.is_none());
    assert_eq!(
        kinds(&p),
        [
            LayerKind::Ether,
            LayerKind::Ip,
            LayerKind::Icmp,
            LayerKind::Raw
        ]
    );
}

#[test]
fn icmp_truncated_header() {
    let f = icmp_unreachable(&[]);
    let (p, at) = err_at(&f[..14 + 20 + 5]);
    assert_eq!(at, ("ICMP", 34));
    assert_eq!(kinds(&p), [LayerKind::Ether, LayerKind::Ip, LayerKind::Raw]);
}

#[test]
fn udp_truncated_header() {
    let p = Packet {
        layers: vec![
            Layer::Ether(Ether::default()),
            Layer::Ip(Ipv4::default()),
            Layer::Udp(Udp::default()),
        ],
    };
    let f = p.emit();
    for n in 35..42 {
        let (p, at) = err_at(&f[..n]);
        assert_eq!(at, ("UDP", 34));
        assert_eq!(kinds(&p), [LayerKind::Ether, LayerKind::Ip, LayerKind::Raw]);
    }
}

#[test]
fn non_ip_ethertype_and_fragments_stay_raw() {
    let mut f = syn();
    // 0x88b5: the IEEE's local experimental EtherType, which craft does not decode.
    f[12] = 0x88;
    f[13] = 0xb5;
    let (p, err) = decode_lossless(&f);
    assert!(err.is_none());
    assert_eq!(kinds(&p), [LayerKind::Ether, LayerKind::Raw]);
    // An IPv4 datagram labelled IPv6: refused by IPv6's version check, kept raw.
    f[12] = 0x86;
    f[13] = 0xdd;
    let (p, err) = decode_lossless(&f);
    assert_eq!(err.map(|e| (e.layer, e.offset)), Some(("IPv6", 14)));
    assert_eq!(kinds(&p), [LayerKind::Ether, LayerKind::Raw]);
    let mut f = syn();
    f[20] |= 0x20; // MF
    let (p, err) = decode_lossless(&f);
    assert!(err.is_none());
    assert_eq!(kinds(&p), [LayerKind::Ether, LayerKind::Ip, LayerKind::Raw]);
}

#[test]
fn padding_layer_round_trips() {
    let p = Packet {
        layers: vec![
            Layer::Ether(Ether::default()),
            Layer::Ip(Ipv4::default()),
            Layer::Udp(Udp::default()),
            Layer::raw(b"hi".to_vec()),
            Layer::Padding(Raw { load: vec![0; 16] }),
        ],
    };
    let f = p.emit();
    assert_eq!(f.len(), 60);
    assert_eq!(u16::from_be_bytes([f[16], f[17]]), 30);
    let (d, err) = decode_lossless(&f);
    assert!(err.is_none());
    assert_eq!(kinds(&d), kinds(&p));
}

/// `render::summary` of an ICMP error should describe the ICMP message, not
/// the TCP/UDP header quoted inside it. Currently it checks `p.tcp()` /
/// `p.udp()` first, which find the quoted header (bug in src/render).
#[test]
fn summary_of_icmp_error_with_quote() {
    let udp = Packet {
        layers: vec![
            Layer::Ip(Ipv4::default()),
            Layer::Udp(Udp {
                sport: Some(40000),
                dport: Some(33434),
                ..Udp::default()
            }),
            Layer::raw(vec![7; 32]),
        ],
    };
    let f = icmp_unreachable(&udp.emit()[..28]);
    let (p, _) = Packet::decode(&f);
    assert_eq!(
        craft::render::summary(&p),
        "IP 127.0.0.1 > 127.0.0.1: ICMP 127.0.0.1 udp port 33434 unreachable"
    );
}

// ---------------------------------------------------------------------------
// Checksum verification
// ---------------------------------------------------------------------------

proptest! {
    /// A computed transport checksum verifies Good; any other stored value is
    /// Partial (when it is the folded pseudo-header sum) or Bad(the right one).
    #[test]
    fn verify_transport_classifies(
        src in ipv4_addr(),
        dst in ipv4_addr(),
        udp in any::<bool>(),
        mut seg in proptest::collection::vec(any::<u8>(), 20..200),
        stored in any::<u16>(),
    ) {
        let (proto, field) = if udp { (17u8, 6usize) } else { (6, 16) };
        seg[field] = 0;
        seg[field + 1] = 0;
        let mut good = checksum::transport_checksum(src, dst, proto, &seg);
        if udp && good == 0 {
            good = 0xffff;
        }
        let mut s = seg.clone();
        s[field..field + 2].copy_from_slice(&good.to_be_bytes());
        prop_assert_eq!(checksum::verify_transport(src, dst, proto, &s, field), ChecksumStatus::Good);

        s[field..field + 2].copy_from_slice(&stored.to_be_bytes());
        let partial = checksum::fold(checksum::pseudo_header_sum(src, dst, proto, s.len()));
        let st = checksum::verify_transport(src, dst, proto, &s, field);
        // 0x0000 and 0xffff are the same number in one's complement (and
        // only they: a value and its complement are not, seed d7defe3c).
        let same = |a: u16, b: u16| a == b || (a, b) == (0, 0xffff) || (a, b) == (0xffff, 0);
        if same(stored, good) {
            prop_assert_eq!(st, ChecksumStatus::Good);
        } else if stored == partial {
            prop_assert_eq!(st, ChecksumStatus::Partial);
        } else {
            match st {
                ChecksumStatus::Bad(want) => prop_assert!(same(want, good), "{want:#x} vs {good:#x}"),
                other => prop_assert!(false, "{other:?} for stored {stored:#x}, good {good:#x}"),
            }
        }
    }

    /// Same for the IPv4 header checksum.
    #[test]
    fn verify_ip_header_classifies(mut h in proptest::collection::vec(any::<u8>(), 20..=60), stored in any::<u16>()) {
        h[10] = 0;
        h[11] = 0;
        let good = checksum::checksum(&h);
        h[10..12].copy_from_slice(&good.to_be_bytes());
        prop_assert_eq!(checksum::verify_ip_header(&h), ChecksumStatus::Good);
        h[10..12].copy_from_slice(&stored.to_be_bytes());
        let st = checksum::verify_ip_header(&h);
        if stored == good || (stored | good == 0xffff && stored & good == 0) {
            prop_assert_eq!(st, ChecksumStatus::Good);
        } else {
            prop_assert_eq!(st, ChecksumStatus::Bad(good));
        }
    }
}

fn nested_icmp_quotes(depth: usize, ip_len: Option<u16>) -> Vec<u8> {
    let mut layers = vec![Layer::Ether(Ether::default())];
    for _ in 0..depth {
        layers.push(Layer::Ip(Ipv4 {
            len: ip_len,
            ..Ipv4::default()
        }));
        layers.push(Layer::Icmp(Icmp {
            icmp_type: Some(11),
            ..Icmp::default()
        }));
    }
    Packet { layers }.emit()
}

/// ICMP errors quoting ICMP errors: the first levels decode as nested quotes,
/// deeper ones (never sent by a real stack) stay raw; losslessly either way.
#[test]
fn nested_icmp_quotes_decode() {
    let f = nested_icmp_quotes(200, None);
    let (p, err) = decode_lossless(&f);
    assert!(err.is_none());
    // Ether, the outer IP/ICMP and four quoted levels, then the rest as one Raw.
    assert_eq!(p.layers.len(), 1 + 2 * 5 + 1);
    assert_eq!(p.layers.last().map(Layer::kind), Some(LayerKind::Raw));
}

/// Regression: `decode_chain` once recursed per quoted ICMP error with no
/// depth limit; a 262 150-byte frame (9362 levels of 28 bytes) overflowed a
/// 2 MiB thread stack (an abort, not a panic).
#[test]
fn deeply_nested_icmp_quotes_do_not_overflow() {
    let f = nested_icmp_quotes(9362, Some(0));
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let (p, _) = Packet::decode(&f);
            assert_eq!(p.emit(), f);
        })
        .unwrap()
        .join()
        .unwrap();
}

// ---------------------------------------------------------------------------
// IPv6, its extension headers, ICMPv6, ARP and 802.1Q
// ---------------------------------------------------------------------------

mod v6 {
    use super::*;
    use craft::wire::dot1q::Dot1q;
    use craft::wire::icmp6::{Icmp6, Msg, NdOpt, Opt};
    use craft::wire::ipv6ext::{Fragment, OptsHdr, Routing};
    use craft::wire::{FieldValue, Ipv6};
    use std::net::Ipv6Addr;

    fn addr() -> impl Strategy<Value = Ipv6Addr> {
        any::<[u8; 16]>().prop_map(Ipv6Addr::from)
    }

    /// An extension header with random fields (offsets of whole datagrams only).
    fn ext() -> impl Strategy<Value = Layer> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..30).prop_map(|o| Layer::HopByHop(OptsHdr {
                options: o,
                ..OptsHdr::default()
            })),
            proptest::collection::vec(any::<u8>(), 0..30).prop_map(|o| Layer::DestOpt(OptsHdr {
                options: o,
                ..OptsHdr::default()
            })),
            (proptest::collection::vec(addr(), 0..4), any::<u32>()).prop_map(|(a, r)| {
                Layer::Routing(Routing {
                    addresses: a,
                    reserved: Some(r),
                    ..Routing::default()
                })
            }),
            any::<u32>().prop_map(|id| Layer::Fragment(Fragment {
                id: Some(id),
                ..Fragment::default()
            })),
        ]
    }

    /// What goes on top: TCP, UDP, an ICMPv6 echo or an error quoting a datagram.
    fn upper() -> impl Strategy<Value = Vec<Layer>> {
        let echo = (
            any::<bool>(),
            any::<u16>(),
            any::<u16>(),
            proptest::collection::vec(any::<u8>(), 0..20),
        )
            .prop_map(|(req, id, seq, data)| {
                let mut m = Icmp6::new(if req {
                    Msg::EchoRequest
                } else {
                    Msg::EchoReply
                });
                m.put(3, Some(FieldValue::Int(id.into())));
                m.put(4, Some(FieldValue::Int(seq.into())));
                m.put(5, Some(FieldValue::Bytes(data)));
                vec![Layer::Icmp6(m)]
            });
        let error = (0usize..4, any::<u8>(), any::<u16>()).prop_map(|(which, code, port)| {
            let msg = [
                Msg::DestUnreach,
                Msg::PacketTooBig,
                Msg::TimeExceeded,
                Msg::ParamProblem,
            ][which];
            let mut m = Icmp6::new(msg);
            m.put(1, Some(FieldValue::Int(code.into())));
            vec![
                Layer::Icmp6(m),
                Layer::Ipv6(Ipv6::default()),
                Layer::Udp(Udp {
                    dport: Some(port),
                    ..Udp::default()
                }),
            ]
        });
        let opt = (
            0usize..5,
            any::<[u8; 6]>(),
            proptest::collection::vec(any::<u8>(), 0..12),
        )
            .prop_map(|(which, mac, data)| {
                let o = [
                    Opt::SrcLLAddr,
                    Opt::DstLLAddr,
                    Opt::PrefixInfo,
                    Opt::Mtu,
                    Opt::Unknown,
                ][which];
                let mut l = NdOpt::new(o);
                match o {
                    Opt::SrcLLAddr | Opt::DstLLAddr => l.put(2, Some(FieldValue::Mac(mac))),
                    Opt::Unknown => {
                        l.put(0, Some(FieldValue::Int(200)));
                        l.put(2, Some(FieldValue::Bytes(data)));
                    }
                    _ => {}
                }
                Layer::NdOpt(l)
            });
        let nd = (0usize..5, addr(), proptest::collection::vec(opt, 0..4)).prop_map(
            |(which, tgt, opts)| {
                let msg = [
                    Msg::RouterSolicit,
                    Msg::RouterAdvert,
                    Msg::NeighborSolicit,
                    Msg::NeighborAdvert,
                    Msg::Redirect,
                ][which];
                let mut m = Icmp6::new(msg);
                if let Some(i) = msg.layout().index("tgt") {
                    m.put(i, Some(FieldValue::Ip6(tgt)));
                }
                let mut v = vec![Layer::Icmp6(m)];
                v.extend(opts);
                v
            },
        );
        prop_oneof![
            (any::<u16>(), any::<u16>(), any::<u32>()).prop_map(|(s, d, seq)| vec![Layer::Tcp(
                Tcp {
                    sport: Some(s),
                    dport: Some(d),
                    seq: Some(seq),
                    ..Tcp::default()
                }
            )]),
            (any::<u16>(), any::<u16>()).prop_map(|(s, d)| vec![Layer::Udp(Udp {
                sport: Some(s),
                dport: Some(d),
                ..Udp::default()
            })]),
            echo,
            error,
            nd,
        ]
    }

    prop_compose! {
        fn stack()(
            vlan in proptest::option::of((0u8..8, 0u16..4096)),
            tc in any::<u8>(), fl in 0u32..0x10_0000, hlim in any::<u8>(),
            src in addr(), dst in addr(),
            exts in proptest::collection::vec(ext(), 0..4),
            up in upper(),
            payload in proptest::collection::vec(any::<u8>(), 0..40),
        ) -> Packet {
            let mut layers = vec![Layer::Ether(Ether::default())];
            if let Some((prio, v)) = vlan {
                layers.push(Layer::Dot1q(Dot1q { prio: Some(prio), vlan: Some(v), ..Dot1q::default() }));
            }
            layers.push(Layer::Ipv6(Ipv6 { tc: Some(tc), fl: Some(fl), hlim: Some(hlim), src: Some(src), dst: Some(dst), ..Ipv6::default() }));
            layers.extend(exts);
            let echo = matches!(up.first(), Some(Layer::Icmp6(m)) if !m.msg.is_error());
            layers.extend(up);
            // Echo data is the message's own field, and neighbour discovery
            // options follow theirs to the end; elsewhere the payload is Raw.
            if !payload.is_empty() && !echo {
                layers.push(Layer::raw(payload));
            }
            Packet { layers }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any such stack emits, decodes to the same layers, re-emits byte for
        /// byte, and every checksum it carries is good.
        #[test]
        fn ipv6_stacks_round_trip_with_good_checksums(p in stack()) {
            let bytes = p.emit();
            let (d, err) = decode_lossless(&bytes);
            prop_assert!(err.is_none(), "{err:?}");
            prop_assert_eq!(kinds(&d), kinds(&p));
            let mut out = Vec::new();
            let spans = d.emit_with_spans(&mut out);
            for i in 0..d.layers.len() {
                if let Some(st) = craft::wire::stack::layer_status(&d.layers, &spans, &out, i) {
                    prop_assert_eq!(st, ChecksumStatus::Good, "layer {}", i);
                }
            }
        }

        /// etherparse reads the same IPv6 header, extension headers and
        /// VLAN, and computes the same transport checksum over the pseudo
        /// header (a routing header's last address while segments are left).
        #[test]
        fn ipv6_stacks_match_etherparse(p in stack()) {
            use etherparse::{NetHeaders, PacketHeaders, TransportHeader};
            // etherparse takes at most one of each extension header, in RFC
            // 8200's order (a destination options header after routing is
            // its own): compare only such stacks.
            let order: Vec<LayerKind> = p.layers.iter().map(Layer::kind).filter(|k| k.is_ipv6_ext()).collect();
            let rfc = [LayerKind::HopByHop, LayerKind::DestOpt, LayerKind::Routing, LayerKind::Fragment];
            let rank = |k: &LayerKind| rfc.iter().position(|r| r == k);
            if !order.windows(2).all(|w| rank(&w[0]) < rank(&w[1])) {
                return Ok(());
            }
            let bytes = p.emit();
            let h = PacketHeaders::from_ethernet_slice(&bytes)
                .map_err(|e| TestCaseError::fail(format!("etherparse: {e:?} on {}", hex::encode(&bytes))))?;
            let Some(NetHeaders::Ipv6(ip, exts)) = &h.net else {
                return Err(TestCaseError::fail("no IPv6 header"));
            };
            let d = Packet::parse(&bytes);
            let v6 = d.ipv6().unwrap();
            prop_assert_eq!(ip.payload_length, v6.plen.unwrap());
            prop_assert_eq!(ip.next_header.0, v6.nh.unwrap());
            prop_assert_eq!(ip.flow_label.value(), v6.fl.unwrap());
            prop_assert_eq!(ip.traffic_class, v6.tc.unwrap());
            prop_assert_eq!(ip.source, v6.src.unwrap().octets());
            prop_assert_eq!(h.link_exts.len(), usize::from(d.find(LayerKind::Dot1q).is_some()));
            prop_assert_eq!(exts.destination_options.is_some(), order.contains(&LayerKind::DestOpt));
            prop_assert_eq!(exts.routing.is_some(), order.contains(&LayerKind::Routing));
            prop_assert_eq!(exts.hop_by_hop_options.is_some(), order.contains(&LayerKind::HopByHop));
            prop_assert_eq!(exts.fragment.is_some(), order.contains(&LayerKind::Fragment));
            let mut dst = v6.dst.unwrap();
            for l in &d.layers {
                if let Layer::Routing(r) = l
                    && let Some(last) = r.addresses.last()
                {
                    dst = *last;
                }
            }
            let ti = d.layers.iter().position(|l| l.kind().is_transport()).unwrap();
            let mut out = Vec::new();
            let spans = d.emit_with_spans(&mut out);
            let seg = &out[spans[ti].start..spans[ti].end];
            match &h.transport {
                Some(TransportHeader::Tcp(t)) => {
                    let hl = t.header_len();
                    let c = t.calc_checksum_ipv6_raw(ip.source, dst.octets(), &seg[hl..]).unwrap();
                    prop_assert_eq!(c, d.tcp().unwrap().chksum.unwrap());
                }
                Some(TransportHeader::Udp(u)) => {
                    let c = u.calc_checksum_ipv6_raw(ip.source, dst.octets(), &seg[8..]).unwrap();
                    prop_assert_eq!(c, d.udp().unwrap().chksum.unwrap());
                }
                Some(TransportHeader::Icmpv6(c)) => {
                    let want = c.icmp_type.calc_checksum(ip.source, dst.octets(), &seg[8..]).unwrap();
                    // etherparse's router advertisement has no H, prf or P bits
                    // and sums them as zero; tests/wire_ipv6.rs has tcpdump check it.
                    if !matches!(c.icmp_type, etherparse::Icmpv6Type::RouterAdvertisement(_)) {
                        prop_assert_eq!(want, c.checksum);
                    }
                }
                other => return Err(TestCaseError::fail(format!("{other:?}"))),
            }
        }

        /// The same frames with bytes overwritten and cut anywhere: decoding
        /// never panics, keeps every byte, and renders.
        #[test]
        fn hostile_ipv6_frames_are_lossless(
            p in stack(),
            edits in proptest::collection::vec((0usize..200, any::<u8>()), 0..8),
            cut in 0usize..260,
        ) {
            let mut f = p.emit();
            for (i, v) in edits {
                if let Some(b) = f.get_mut(i) {
                    *b = v;
                }
            }
            f.truncate(cut);
            let (d, _) = decode_lossless(&f);
            let _ = craft::render::show(&d);
            let _ = craft::render::hexdump(&d, false);
        }

        /// Random bytes behind each new EtherType and next header.
        #[test]
        fn random_bytes_behind_new_types_are_lossless(
            t in prop_oneof![Just(0x86ddu16), Just(0x0806), Just(0x8100)],
            nh in prop_oneof![Just(0u8), Just(43), Just(44), Just(60), Just(58), Just(41)],
            body in proptest::collection::vec(any::<u8>(), 0..120),
        ) {
            let mut f = vec![0u8; 12];
            f.extend_from_slice(&t.to_be_bytes());
            if t == 0x86dd {
                let mut h = Vec::new();
                Ipv6::default().emit(&mut h, nh, None);
                f.extend_from_slice(&h);
            }
            f.extend_from_slice(&body);
            decode_lossless(&f);
        }
    }

    #[test]
    fn new_layers_put_and_read_every_field() {
        // Each field set through the table reads back as set, and emitting
        // the layer alone does not panic.
        for k in LayerKind::ALL {
            let mut l = Layer::new(k);
            for (i, spec) in k.fields().iter().enumerate() {
                let v = match spec.kind {
                    craft::wire::FieldKind::UInt(_) => FieldValue::Int(1),
                    craft::wire::FieldKind::Ipv6 => FieldValue::Ip6(Ipv6Addr::LOCALHOST),
                    craft::wire::FieldKind::Ipv6List => {
                        FieldValue::Ip6List(vec![Ipv6Addr::LOCALHOST])
                    }
                    craft::wire::FieldKind::Ipv4 => FieldValue::Ip(Ipv4Addr::LOCALHOST),
                    craft::wire::FieldKind::Mac => FieldValue::Mac([2, 0, 0, 0, 0, 1]),
                    craft::wire::FieldKind::TcpFlags | craft::wire::FieldKind::IpFlags => {
                        FieldValue::Flags(1)
                    }
                    _ => FieldValue::Bytes(b"ab".to_vec()),
                };
                l.put(i, Some(v.clone()));
                assert_eq!(l.slot(i), Some(v), "{}.{}", k.name(), spec.name);
            }
            let _ = Packet::of(l).emit();
        }
    }
}
