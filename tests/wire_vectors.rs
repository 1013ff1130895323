//! Frames captured on `lo` (tcpdump, in a private network namespace, nc talking
//! to nc), decoded field by field and re-emitted byte for byte. The kernel's own
//! segments carry partial (offloaded) checksums; the RST carries a full one.

use craft::render;
use craft::wire::checksum::ChecksumStatus;
use craft::wire::tcp::TcpOption;
use craft::wire::{Layer, LayerKind, Packet};
use std::net::Ipv4Addr;

const SYN: &str = "00000000000000000000000008004500003cc03e400040067c7b7f0000017f000001dbf004d2f8dea4d900000000a002ffd7fe3000000204ffd70402080a29657126000000000103030a";
const SYNACK: &str = "00000000000000000000000008004500003c0000400040063cba7f0000017f00000104d2dbf0a52362c2f8dea4daa012ffcbfe3000000204ffd70402080ab91cf41d296571260103030a";
const PSHACK: &str = "00000000000000000000000008004500003ac040400040067c7b7f0000017f000001dbf004d2f8dea4daa52362c380180040fe2e00000101080a29657126b91cf41d68656c6c6f0a";
const FIN: &str = "000000000000000000000000080045000034c041400040067c807f0000017f000001dbf004d2f8dea4e0a52362c380110040fe2800000101080a2965731ab91cf41d";
const RST: &str = "0000000000000000000000000800450000280000400040063cce7f0000017f0000010009c79000000000798bd80f5014000098990000";

const LO: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);

fn decode(hex: &str) -> (Vec<u8>, Packet) {
    let bytes = hex::decode(hex).expect("hex");
    let (p, err) = Packet::decode(&bytes);
    assert_eq!(err, None, "decodes cleanly");
    assert_eq!(p.emit(), bytes, "re-emits byte for byte");
    (bytes, p)
}

fn tcp_checksum_status(p: &Packet) -> ChecksumStatus {
    let mut bytes = Vec::new();
    let spans = p.emit_with_spans(&mut bytes);
    craft::wire::stack::layer_status(&p.layers, &spans, &bytes, 2).expect("tcp status")
}

fn ip_checksum_status(p: &Packet) -> ChecksumStatus {
    let mut bytes = Vec::new();
    let spans = p.emit_with_spans(&mut bytes);
    craft::wire::stack::layer_status(&p.layers, &spans, &bytes, 1).expect("ip status")
}

#[test]
fn syn_field_by_field() {
    let (_, p) = decode(SYN);
    let kinds: Vec<LayerKind> = p.layers.iter().map(Layer::kind).collect();
    assert_eq!(kinds, [LayerKind::Ether, LayerKind::Ip, LayerKind::Tcp]);
    let Layer::Ether(e) = &p.layers[0] else {
        panic!()
    };
    assert_eq!(
        (e.dst, e.src, e.ethertype),
        (Some([0; 6]), Some([0; 6]), Some(0x0800))
    );
    let ip = p.ip().unwrap();
    assert_eq!(ip.version, Some(4));
    assert_eq!(ip.ihl, Some(5));
    assert_eq!(ip.tos, Some(0));
    assert_eq!(ip.len, Some(60));
    assert_eq!(ip.id, Some(0xc03e));
    assert_eq!(ip.flags, Some(2)); // DF
    assert_eq!(ip.frag, Some(0));
    assert_eq!(ip.ttl, Some(64));
    assert_eq!(ip.proto, Some(6));
    assert_eq!(ip.chksum, Some(0x7c7b));
    assert_eq!((ip.src, ip.dst), (Some(LO), Some(LO)));
    assert_eq!(ip_checksum_status(&p), ChecksumStatus::Good);
    let t = p.tcp().unwrap();
    assert_eq!((t.sport, t.dport), (Some(56304), Some(1234)));
    assert_eq!((t.seq, t.ack), (Some(4175340761), Some(0)));
    assert_eq!(t.dataofs, Some(10));
    assert_eq!(t.reserved, Some(0));
    assert_eq!(t.flags, Some(0x002));
    assert_eq!(t.window, Some(65495));
    assert_eq!(t.chksum, Some(0xfe30));
    assert_eq!(t.urgptr, Some(0));
    assert_eq!(
        t.decoded_options(),
        (
            vec![
                TcpOption::Mss(65495),
                TcpOption::SackOk,
                TcpOption::Timestamp(694513958, 0),
                TcpOption::Nop,
                TcpOption::WScale(10)
            ],
            None
        )
    );
    // 0xfe30 is the pseudo-header sum only: the kernel offloaded the rest.
    assert_eq!(tcp_checksum_status(&p), ChecksumStatus::Partial);
    assert_eq!(
        render::summary(&p),
        "IP 127.0.0.1.56304 > 127.0.0.1.1234: Flags [S], seq 4175340761, win 65495, options [mss 65495,sackOK,TS val 694513958 ecr 0,nop,wscale 10], length 0"
    );
}

#[test]
fn synack_with_mss_and_partial_checksum() {
    let (_, p) = decode(SYNACK);
    let ip = p.ip().unwrap();
    assert_eq!(
        (ip.id, ip.chksum, ip.len),
        (Some(0), Some(0x3cba), Some(60))
    );
    let t = p.tcp().unwrap();
    assert_eq!((t.sport, t.dport), (Some(1234), Some(56304)));
    assert_eq!(t.seq, Some(2770559682));
    assert_eq!(t.ack, Some(4175340762), "ack = SYN's seq + 1");
    assert_eq!(t.flags, Some(0x012));
    assert_eq!(t.window, Some(65483));
    assert_eq!(t.mss(), Some(65495));
    assert_eq!(t.wscale(), Some(10));
    assert_eq!(t.chksum, Some(0xfe30));
    assert_eq!(tcp_checksum_status(&p), ChecksumStatus::Partial);
}

#[test]
fn psh_ack_with_payload() {
    let (_, p) = decode(PSHACK);
    assert_eq!(p.layers.len(), 4);
    assert_eq!(p.payload(), b"hello\n");
    let t = p.tcp().unwrap();
    assert_eq!(t.flags, Some(0x018));
    assert_eq!((t.seq, t.ack), (Some(4175340762), Some(2770559683)));
    assert_eq!(t.dataofs, Some(8));
    assert_eq!(t.window, Some(64));
    assert_eq!(
        t.decoded_options().0,
        vec![
            TcpOption::Nop,
            TcpOption::Nop,
            TcpOption::Timestamp(694513958, 3105682461)
        ]
    );
    assert_eq!(p.ip().unwrap().len, Some(58));
    assert_eq!(tcp_checksum_status(&p), ChecksumStatus::Partial);
    assert_eq!(
        render::summary(&p),
        "IP 127.0.0.1.56304 > 127.0.0.1.1234: Flags [PA], seq 4175340762:4175340768, ack 2770559683, win 64, options [nop,nop,TS val 694513958 ecr 3105682461], length 6"
    );
}

#[test]
fn fin() {
    let (_, p) = decode(FIN);
    let t = p.tcp().unwrap();
    assert_eq!(t.flags, Some(0x011));
    assert_eq!((t.seq, t.ack), (Some(4175340768), Some(2770559683)));
    assert_eq!(p.payload(), b"");
    assert_eq!(tcp_checksum_status(&p), ChecksumStatus::Partial);
}

#[test]
fn rst_has_a_full_checksum() {
    let (bytes, p) = decode(RST);
    let t = p.tcp().unwrap();
    assert_eq!(t.flags, Some(0x014));
    assert_eq!((t.sport, t.dport), (Some(9), Some(51088)));
    assert_eq!(
        (t.seq, t.ack, t.window),
        (Some(0), Some(2039207951), Some(0))
    );
    assert_eq!(t.chksum, Some(0x9899));
    assert_eq!(tcp_checksum_status(&p), ChecksumStatus::Good);
    // Rebuilt from its fields with the checksums left to craft, it is the same frame.
    let mut rebuilt = p.clone();
    if let Layer::Ip(ip) = &mut rebuilt.layers[1] {
        ip.chksum = None;
        ip.len = None;
        ip.ihl = None;
    }
    if let Some(t) = rebuilt.tcp_mut() {
        t.chksum = None;
        t.dataofs = None;
    }
    assert_eq!(rebuilt.emit(), bytes);
}

#[test]
fn a_wrong_checksum_set_on_purpose_is_sent_as_set_and_reported_bad() {
    let (mut bytes, _) = decode(RST);
    bytes[50] ^= 0xff; // TCP checksum high byte
    let (p, err) = Packet::decode(&bytes);
    assert_eq!(err, None);
    assert_eq!(p.emit(), bytes);
    assert_eq!(tcp_checksum_status(&p), ChecksumStatus::Bad(0x9899));
    assert!(render::show(&p).contains("(BAD, should be 0x9899)"));
}

#[test]
fn odd_segments_round_trip() {
    // SYN+FIN with reserved bits and the NS flag set.
    let (bytes, _) = decode(SYN);
    let mut odd = bytes.clone();
    odd[46] |= 0b0000_1111; // reserved bits + NS
    odd[47] |= 0x01; // FIN
    let (p, err) = Packet::decode(&odd);
    assert_eq!(err, None);
    let t = p.tcp().unwrap();
    assert_eq!(t.reserved, Some(7));
    assert_eq!(t.flags, Some(0x103));
    assert_eq!(p.emit(), odd);
}

#[test]
fn the_pcaps_decode_and_reemit() {
    for f in ["tests/data/lo-session.pcap", "tests/data/lo-rst.pcap"] {
        let frames = craft::link::pcap::read_all(&std::fs::read(f).unwrap()).unwrap();
        assert!(!frames.is_empty());
        for (_, data, _) in frames {
            let (p, err) = Packet::decode(&data);
            assert_eq!(err, None);
            assert_eq!(p.emit(), data);
        }
    }
}
