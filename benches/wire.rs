//! Wire-layer throughput: build + emit a SYN, decode a captured SYN and read
//! six fields, render a one-line summary. Throughput is in frames.

use craft::wire::tcp::{encode_options, flags};
use craft::wire::{Ether, Ipv4, Layer, Packet, Tcp, TcpOption};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::net::Ipv4Addr;

/// A SYN captured on `lo` (kernel-sent, partial checksum 0xfe30).
const SYN_HEX: &str = "00000000000000000000000008004500003cc03e400040067c7b7f0000017f000001dbf004d2f8dea4d900000000a002ffd7fe3000000204ffd70402080a29657126000000000103030a";

fn syn_layers(sport: u16, seq: u32, options: Vec<u8>) -> Packet {
    Packet {
        layers: vec![
            Layer::Ether(Ether::default()),
            Layer::Ip(Ipv4 {
                flags: Some(2),
                src: Some(Ipv4Addr::new(10, 0, 0, 1)),
                dst: Some(Ipv4Addr::new(10, 0, 0, 2)),
                ..Ipv4::default()
            }),
            Layer::Tcp(Tcp {
                sport: Some(sport),
                dport: Some(80),
                seq: Some(seq),
                flags: Some(flags::SYN),
                window: Some(64240),
                options,
                ..Tcp::default()
            }),
        ],
    }
}

fn build(c: &mut Criterion) {
    let mut g = c.benchmark_group("build+emit SYN");
    g.throughput(Throughput::Elements(1));

    // Structs built from scratch each iteration, no TCP options.
    let mut out = Vec::with_capacity(128);
    let mut i = 0u32;
    g.bench_function("fresh, no options", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            let p = syn_layers(i as u16 | 1024, i.wrapping_mul(2654435761), Vec::new());
            p.emit_into(&mut out);
            black_box(&out);
        })
    });

    // A kernel-like SYN with 20 bytes of options, cloned from a template.
    let opts = encode_options(&[
        TcpOption::Mss(1460),
        TcpOption::SackOk,
        TcpOption::Timestamp(1, 0),
        TcpOption::Nop,
        TcpOption::WScale(7),
    ]);
    let template = syn_layers(0, 0, opts);
    g.bench_function("template clone, 20B options", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            let mut p = black_box(&template).clone();
            let t = p.tcp_mut().unwrap();
            t.sport = Some(i as u16 | 1024);
            t.seq = Some(i.wrapping_mul(2654435761));
            p.emit_into(&mut out);
            black_box(&out);
        })
    });

    // Emit only (packet reused, one field changed): the serializer alone.
    let mut p = syn_layers(0, 0, Vec::new());
    g.bench_function("emit only (reused packet)", |b| {
        b.iter(|| {
            i = i.wrapping_add(1);
            if let Some(t) = p.tcp_mut() {
                t.seq = Some(i);
            }
            p.emit_into(&mut out);
            black_box(&out);
        })
    });
    g.finish();
}

fn parse(c: &mut Criterion) {
    let frame = hex::decode(SYN_HEX).unwrap();
    let mut g = c.benchmark_group("decode SYN");
    g.throughput(Throughput::Elements(1));
    g.bench_function("decode + 6 fields", |b| {
        b.iter(|| {
            let (p, err) = Packet::decode(black_box(&frame));
            let ip = p.ip().unwrap();
            let t = p.tcp().unwrap();
            black_box((err, ip.src, ip.dst, t.sport, t.dport, t.seq, t.flags));
        })
    });
    g.bench_function("checked view + 6 fields", |b| {
        b.iter(|| {
            let v = craft::wire::view::TcpView::new_checked(black_box(&frame)).unwrap();
            black_box((v.src(), v.dst(), v.sport(), v.dport(), v.seq(), v.flags()));
        })
    });
    g.finish();

    let (p, _) = Packet::decode(&frame);
    let mut g = c.benchmark_group("render");
    g.throughput(Throughput::Elements(1));
    g.bench_function("summary of decoded SYN", |b| {
        b.iter(|| black_box(craft::render::summary(black_box(&p))))
    });
    g.finish();
}

criterion_group!(benches, build, parse);
criterion_main!(benches);
