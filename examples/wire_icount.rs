//! Instruction-count harness for the wire layer, for valgrind: the load on a
//! shared machine skews criterion's times but not instruction counts.
//!
//! `wire_icount MODE N` runs MODE N times: `emit` (build + emit a SYN),
//! `clone` (clone a SYN with 20 bytes of options, change two fields, emit),
//! `decode` (decode a SYN, read six fields), `view` (the checked view, nine
//! reads) or `view6` (the six reads of benches/wire.rs). Each mode is its own
//! function, not inlined, so its code does not depend on the others. The cost
//! of one iteration is the difference of two runs over the difference of N
//! (benches/icount.sh does this):
//!
//! ```text
//! cargo build --release --example wire_icount
//! for n in 0 100000; do
//!   valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
//!     target/release/examples/wire_icount view $n 2>&1 | grep 'I *refs'
//! done
//! ```

use craft::wire::tcp::flags;
use craft::wire::view::TcpView;
use craft::wire::{Ether, Ipv4, Layer, Packet, Tcp};
use std::hint::black_box;
use std::net::Ipv4Addr;

/// The SYN of benches/wire.rs, captured on `lo`.
const SYN_HEX: &str = "00000000000000000000000008004500003cc03e400040067c7b7f0000017f000001dbf004d2f8dea4d900000000a002ffd7fe3000000204ffd70402080a29657126000000000103030a";

#[inline(never)]
fn emit(n: u32) {
    let mut out = Vec::with_capacity(128);
    for i in 0..n {
        let p = Packet {
            layers: vec![
                Layer::Ether(Ether::default()),
                Layer::Ip(Ipv4 {
                    flags: Some(2),
                    src: Some(Ipv4Addr::new(10, 0, 0, 1)),
                    dst: Some(Ipv4Addr::new(10, 0, 0, 2)),
                    ..Ipv4::default()
                }),
                Layer::Tcp(Tcp {
                    sport: Some(i as u16 | 1024),
                    dport: Some(80),
                    seq: Some(i.wrapping_mul(2654435761)),
                    flags: Some(flags::SYN),
                    window: Some(64240),
                    ..Tcp::default()
                }),
            ],
        };
        p.emit_into(&mut out);
        black_box(&out);
    }
}

#[inline(never)]
fn clone(n: u32) {
    let template = Packet {
        layers: vec![
            Layer::Ether(Ether::default()),
            Layer::Ip(Ipv4::default()),
            Layer::Tcp(Tcp {
                options: vec![
                    2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
                ],
                ..Tcp::default()
            }),
        ],
    };
    let mut out = Vec::with_capacity(128);
    for i in 0..n {
        let mut p = black_box(&template).clone();
        if let Some(t) = p.tcp_mut() {
            t.sport = Some(i as u16 | 1024);
            t.seq = Some(i.wrapping_mul(2654435761));
        }
        p.emit_into(&mut out);
        black_box(&out);
    }
}

#[inline(never)]
fn decode(frame: &[u8], n: u32) {
    for _ in 0..n {
        let (p, err) = Packet::decode(black_box(frame));
        let (ip, t) = (p.ip().expect("ip"), p.tcp().expect("tcp"));
        black_box((err, ip.src, ip.dst, t.sport, t.dport, t.seq, t.flags));
    }
}

#[inline(never)]
fn view(frame: &[u8], n: u32) {
    for _ in 0..n {
        let v = TcpView::new_checked(black_box(frame)).expect("view");
        black_box((v.src(), v.dst(), v.sport(), v.dport(), v.seq(), v.flags()));
        black_box((v.ack(), v.window(), v.payload().len()));
    }
}

#[inline(never)]
fn view6(frame: &[u8], n: u32) {
    for _ in 0..n {
        let v = TcpView::new_checked(black_box(frame)).expect("view");
        black_box((v.src(), v.dst(), v.sport(), v.dport(), v.seq(), v.flags()));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(n)) = (args.get(1), args.get(2).and_then(|s| s.parse::<u32>().ok()))
    else {
        eprintln!("usage: wire_icount emit|clone|decode|view|view6 N");
        std::process::exit(2);
    };
    let frame = hex::decode(SYN_HEX).expect("hex");
    match mode.as_str() {
        "emit" => emit(n),
        "clone" => clone(n),
        "decode" => decode(&frame, n),
        "view" => view(&frame, n),
        "view6" => view6(&frame, n),
        _ => {
            eprintln!("unknown mode {mode}: emit, clone, decode, view or view6");
            std::process::exit(2);
        }
    }
}
