//! Ways to look at packets: `summary` (one tcpdump-like line), `show` (every
//! field, computed values filled in, like scapy's show2) and `hexdump` (bytes
//! with the layer each belongs to); a session's events (`events`), ladders
//! (`flow`), JSON (`json`) and `expect_packet` patterns (`pattern`). Pure
//! functions returning strings; they look down (wire, session, lang's string
//! escapes), never up at the engine.

pub mod events;
pub mod flow;
pub mod json;
pub mod pattern;

use crate::wire::checksum::ChecksumStatus;
use crate::wire::tcp::Relative;
use crate::wire::{
    FieldKind, FieldValue, Layer, LayerKind, Packet, ip_flags_str, mac_str, tcp_flags_str,
};
use std::fmt::Write as _;

/// A round-trip time in milliseconds with microsecond precision: `0.041 ms`.
pub fn ms(d: std::time::Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

/// A capture time as tcpdump prints it by default: the local time of day,
/// `12:34:56.789012`.
pub fn clock(ts: std::time::SystemTime) -> String {
    let d = ts.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as libc::time_t;
    // SAFETY: all-zero is a valid `tm`; localtime_r only writes into it.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are to live values of the right types; the
    // reentrant form keeps no shared state.
    let ok = !unsafe { libc::localtime_r(&secs, &mut tm) }.is_null();
    let (h, m, s) = if ok {
        (tm.tm_hour, tm.tm_min, tm.tm_sec)
    } else {
        let day = d.as_secs() % 86400;
        (
            (day / 3600) as i32,
            (day / 60 % 60) as i32,
            (day % 60) as i32,
        )
    };
    format!("{h:02}:{m:02}:{s:02}.{:06}", d.subsec_micros())
}

/// A received packet's line: its capture time, then its summary.
pub fn timed_summary(ts: std::time::SystemTime, p: &Packet) -> String {
    format!("{} {}", clock(ts), summary(p))
}

/// A packet whose layers do not sit on each other as protocols do, shown as
/// it is: `Ether / TCP / IP  (odd stack: TCP on Ether)`. None for an ordinary stack.
pub fn odd_stack(p: &Packet) -> Option<String> {
    let (above, below) = p.odd_pair()?;
    let names: Vec<&str> = p.layers.iter().map(|l| l.kind().name()).collect();
    Some(format!(
        "{}  (odd stack: {} on {})",
        names.join(" / "),
        above.name(),
        below.name()
    ))
}

/// One tcpdump-like line: `IP 127.0.0.1.40000 > 127.0.0.1.1234: Flags [S], seq 1000, win 8192, length 0`.
pub fn summary(p: &Packet) -> String {
    summary_rel(p, None)
}

/// Like [`summary`], with seq/ack relative to `rel` when given.
pub fn summary_rel(p: &Packet, rel: Option<Relative>) -> String {
    if let Some(odd) = odd_stack(p) {
        return odd;
    }
    // IP in IP (protocol 4, 41): each outer header's addresses, then the
    // inner datagram, as tcpdump does.
    let mut inner_start = 0;
    let mut prefix = String::new();
    let is_ip = |l: &Layer| matches!(l.kind(), LayerKind::Ip | LayerKind::Ipv6);
    while let Some(i) = p.layers[inner_start..]
        .iter()
        .position(is_ip)
        .map(|i| i + inner_start)
        && p.layers.get(i + 1).is_some_and(is_ip)
    {
        let _ = match &p.layers[i] {
            Layer::Ip(outer) => write!(
                prefix,
                "IP {} > {}: ",
                outer.src.unwrap_or(crate::wire::ipv4::DEFAULT_ADDR),
                outer.dst.unwrap_or(crate::wire::ipv4::DEFAULT_ADDR)
            ),
            Layer::Ipv6(outer) => write!(
                prefix,
                "IP6 {} > {}: ",
                outer.src.unwrap_or(crate::wire::ipv6::DEFAULT_ADDR),
                outer.dst.unwrap_or(crate::wire::ipv6::DEFAULT_ADDR)
            ),
            _ => Ok(()),
        };
        inner_start = i + 1;
    }
    if inner_start > 0 {
        let inner = Packet {
            layers: p.layers[inner_start..].to_vec(),
        };
        return prefix + &summary_rel(&inner, rel);
    }
    if let Some(line) = link_summary(p) {
        return line;
    }
    // The network layer: the first IPv4 or IPv6 header; "IP" or "IP6" as tcpdump writes.
    let net = p.layers.iter().find_map(|l| match l {
        Layer::Ip(h) => Some((
            "IP",
            h.src.unwrap_or(crate::wire::ipv4::DEFAULT_ADDR).to_string(),
            h.dst.unwrap_or(crate::wire::ipv4::DEFAULT_ADDR).to_string(),
        )),
        Layer::Ipv6(h) => Some((
            "IP6",
            h.src.unwrap_or(crate::wire::ipv6::DEFAULT_ADDR).to_string(),
            h.dst.unwrap_or(crate::wire::ipv6::DEFAULT_ADDR).to_string(),
        )),
        _ => None,
    });
    let vlan = vlan_prefix(p);
    let tag = net.as_ref().map_or("IP", |n| n.0);
    let src = net.as_ref().map(|n| n.1.clone());
    let dst = net.as_ref().map(|n| n.2.clone());
    let ip = p.ip();
    let mut s = String::new();
    let payload_len = p.payload().len();
    // An ICMP error quotes a TCP/UDP header: describe the ICMP message, not the quote.
    let icmp_first = p.find(LayerKind::Icmp).or(p.find_icmp6()).is_some_and(|i| {
        p.find(LayerKind::Tcp).is_none_or(|t| i < t) && p.find(LayerKind::Udp).is_none_or(|u| i < u)
    });
    if let (Some(t), Some(src), Some(dst), false) = (p.tcp(), &src, &dst, icmp_first) {
        let _ = write!(
            s,
            "{vlan}{tag} {src}.{} > {dst}.{}: Flags [{}]",
            t.sport.unwrap_or(crate::wire::tcp::DEFAULT_SPORT),
            t.dport.unwrap_or(80),
            tcp_flags_str(t.flag_bits())
        );
        let rel = rel.unwrap_or_default();
        let seq = rel.seq(t.seq.unwrap_or(0));
        let fl = t.flag_bits();
        if payload_len > 0 {
            let _ = write!(s, ", seq {seq}:{}", seq.wrapping_add(payload_len as u32));
        } else {
            let _ = write!(s, ", seq {seq}");
        }
        if fl & crate::wire::tcp::flags::ACK != 0 {
            let ack = rel.ack(t.ack.unwrap_or(0));
            let _ = write!(s, ", ack {ack}");
        }
        let _ = write!(s, ", win {}", t.window.unwrap_or(8192));
        let (opts, _) = t.decoded_options();
        let opts: Vec<String> = opts.iter().map(|o| o.short()).collect();
        if !opts.is_empty() {
            let _ = write!(s, ", options [{}]", opts.join(","));
        }
        let _ = write!(s, ", length {payload_len}");
        return s;
    }
    if let (Some(u), Some(src), Some(dst), false) = (p.udp(), &src, &dst, icmp_first) {
        let _ = write!(
            s,
            "{vlan}{tag} {src}.{} > {dst}.{}: UDP, length {payload_len}",
            u.sport.unwrap_or(53),
            u.dport.unwrap_or(53)
        );
        return s;
    }
    if let (Some(i), Some(src), Some(dst)) = (p.find_icmp6(), &src, &dst) {
        let _ = write!(s, "{vlan}IP6 {src} > {dst}: ICMP6, {}", icmp6_summary(p, i));
        return s;
    }
    if let (Some(c), Some(src), Some(dst)) = (p.icmp(), &src, &dst) {
        let t = c.type_num();
        let what = match (t, c.code.unwrap_or(0)) {
            (8, _) => format!(
                "echo request, id {}, seq {}",
                c.id.unwrap_or(0),
                c.seq.unwrap_or(0)
            ),
            (0, _) => format!(
                "echo reply, id {}, seq {}",
                c.id.unwrap_or(0),
                c.seq.unwrap_or(0)
            ),
            (3, code) => {
                let inner = p
                    .layers
                    .iter()
                    .skip_while(|l| l.kind() != LayerKind::Icmp)
                    .skip(1);
                let quoted: Vec<&Layer> = inner.collect();
                let port = quoted.iter().find_map(|l| match l {
                    Layer::Tcp(t) => Some(format!("tcp port {}", t.dport.unwrap_or(0))),
                    Layer::Udp(u) => Some(format!("udp port {}", u.dport.unwrap_or(0))),
                    _ => None,
                });
                // tcpdump names the quoted datagram's destination.
                let qdst = quoted
                    .iter()
                    .find_map(|l| match l {
                        Layer::Ip(q) => q.dst,
                        _ => None,
                    })
                    .map_or(dst.clone(), |a| a.to_string());
                match code {
                    3 => format!(
                        "{qdst} {} unreachable",
                        port.unwrap_or_else(|| "port".into())
                    ),
                    1 => "host unreachable".into(),
                    _ => format!("destination unreachable, code {code}"),
                }
            }
            (11, _) => "time exceeded".into(),
            (t, c) => format!("type {t}, code {c}"),
        };
        let _ = write!(s, "{vlan}IP {src} > {dst}: ICMP {what}");
        return s;
    }
    if let (Some(src), Some(dst)) = (src, dst) {
        if tag == "IP6" {
            let _ = write!(s, "{vlan}IP6 {src} > {dst}: {}", ipv6_rest(p, payload_len));
            return s;
        }
        let proto = ip.and_then(|h| h.proto).unwrap_or(0);
        // A fragment reads as one (its bytes stay raw: a transport header
        // in it may be cut short, or belong to another fragment).
        let frag = ip
            .filter(|h| h.frag.unwrap_or(0) != 0 || h.flags.unwrap_or(0) & 1 != 0)
            .map_or(String::new(), |h| {
                frag_text(
                    h.id.unwrap_or(1).into(),
                    h.frag.unwrap_or(0),
                    h.flags.unwrap_or(0) & 1 != 0,
                )
            });
        let _ = write!(
            s,
            "{vlan}IP {src} > {dst}: {frag}proto {proto}, length {payload_len}"
        );
        return s;
    }
    if let Some(Layer::Ether(e)) = p.layers.first() {
        let _ = write!(
            s,
            "Ether {} > {}, type 0x{:04x}, length {}",
            mac_str(&e.src.unwrap_or_default()),
            mac_str(&e.dst.unwrap_or_default()),
            e.ethertype.unwrap_or(0x9000),
            p.emit().len()
        );
        return s;
    }
    let names: Vec<&str> = p.layers.iter().map(|l| l.kind().name()).collect();
    format!("{} ({} bytes)", names.join("/"), p.emit().len())
}

/// The line of a frame whose summary is its link layer's: ARP, as tcpdump
/// writes it.
fn link_summary(p: &Packet) -> Option<String> {
    let a = p.layers.iter().find_map(|l| match l {
        Layer::Arp(a) => Some(a),
        _ => None,
    })?;
    let ip = |x: Option<std::net::Ipv4Addr>, d| x.unwrap_or(d);
    let psrc = ip(a.psrc, std::net::Ipv4Addr::LOCALHOST);
    let pdst = ip(a.pdst, std::net::Ipv4Addr::UNSPECIFIED);
    let what = match a.op_num() {
        1 => format!("Request who-has {pdst} tell {psrc}"),
        2 => format!(
            "Reply {psrc} is-at {}",
            mac_str(&a.hwsrc.unwrap_or_default())
        ),
        op => format!("op {op}, {psrc} > {pdst}"),
    };
    Some(format!(
        "{}ARP, {what}, length {}",
        vlan_prefix(p),
        crate::wire::arp::Arp::LEN
    ))
}

/// `vlan 100, p 0, ` for each 802.1Q tag, as tcpdump -e writes them.
fn vlan_prefix(p: &Packet) -> String {
    let mut s = String::new();
    for l in &p.layers {
        if let Layer::Dot1q(d) = l {
            let _ = write!(
                s,
                "vlan {}, p {}, ",
                d.vlan.unwrap_or(1),
                d.prio.unwrap_or(0)
            );
        }
    }
    s
}

/// What an ICMPv6 message (layer `i`) says, as tcpdump writes it after `ICMP6, `.
fn icmp6_summary(p: &Packet, i: usize) -> String {
    use crate::wire::icmp6::Msg;
    let Some(Layer::Icmp6(c)) = p.layers.get(i) else {
        return String::new();
    };
    let len = {
        let mut bytes = Vec::new();
        let spans = p.emit_with_spans(&mut bytes);
        spans.get(i).map_or(0, |sp| sp.end - sp.start)
    };
    let code = c.code().unwrap_or(0);
    let what = match (c.msg, c.type_num()) {
        (Msg::EchoRequest, 128) => format!("echo request, id {}, seq {}", c.int(3), c.int(4)),
        (Msg::EchoReply, 129) => format!("echo reply, id {}, seq {}", c.int(3), c.int(4)),
        (Msg::DestUnreach, 1) => {
            let quoted = p.layers[i + 1..].iter().find_map(|l| match l {
                Layer::Ipv6(q) => q.dst,
                _ => None,
            });
            let port = p.layers[i + 1..].iter().find_map(|l| match l {
                Layer::Tcp(t) => Some(format!("tcp port {}", t.dport.unwrap_or(0))),
                Layer::Udp(u) => Some(format!("udp port {}", u.dport.unwrap_or(0))),
                _ => None,
            });
            match (code, quoted, port) {
                (4, Some(q), Some(port)) => {
                    format!("destination unreachable, unreachable port, {q} {port}")
                }
                (3, Some(q), _) => format!("destination unreachable, unreachable address {q}"),
                _ => format!("destination unreachable, code {code}"),
            }
        }
        (Msg::PacketTooBig, 2) => format!("packet too big, mtu {}", c.int(3)),
        (Msg::TimeExceeded, 3) => match code {
            0 => "time exceeded in-transit".into(),
            1 => "time exceeded in-reassembly".into(),
            _ => format!("time exceeded, code {code}"),
        },
        (Msg::ParamProblem, 4) => format!("parameter problem, code {code}, pointer {}", c.int(3)),
        (Msg::RouterSolicit, 133) => "router solicitation".into(),
        (Msg::RouterAdvert, 134) => "router advertisement".into(),
        (Msg::NeighborSolicit, 135) => {
            format!("neighbor solicitation, who has {}", addr6(c.get("tgt")))
        }
        (Msg::NeighborAdvert, 136) => {
            format!("neighbor advertisement, tgt is {}", addr6(c.get("tgt")))
        }
        (Msg::Redirect, 137) => format!(
            "redirect, {} to {}",
            addr6(c.get("dst")),
            addr6(c.get("tgt"))
        ),
        (_, t) => format!("type {t}, code {code}"),
    };
    format!("{what}, length {len}")
}

/// `frag (id 5, offset 24, more), `: a fragment's identification, its
/// offset in bytes (`offset` is in 8-byte units) and whether more follow.
fn frag_text(id: u32, offset: u16, more: bool) -> String {
    format!(
        "frag (id {id}, offset {}{}), ",
        usize::from(offset) * 8,
        if more { ", more" } else { "" }
    )
}

/// An IPv6 address field's text (`::` when it is not one).
fn addr6(v: Option<FieldValue>) -> String {
    match v {
        Some(FieldValue::Ip6(a)) => a.to_string(),
        _ => "::".into(),
    }
}

/// An IPv6 datagram with no transport layer craft names: a fragment, or its
/// next header and payload length.
fn ipv6_rest(p: &Packet, payload_len: usize) -> String {
    if let Some(f) = p.layers.iter().find_map(|l| match l {
        Layer::Fragment(f) => Some(f),
        _ => None,
    }) {
        return format!(
            "{}nh {}, length {payload_len}",
            frag_text(
                f.id.unwrap_or(0),
                f.offset.unwrap_or(0),
                f.m.unwrap_or(0) != 0
            ),
            f.nh.unwrap_or(59)
        );
    }
    let nh = p
        .layers
        .iter()
        .rev()
        .find_map(|l| l.next_header().filter(|_| l.kind() != LayerKind::Ip));
    match nh {
        Some(59) | None => format!("no next header, length {payload_len}"),
        Some(n) => format!("nh {n}, length {payload_len}"),
    }
}

/// Formats one field value for `show`.
pub fn field_str(kind: FieldKind, v: &FieldValue) -> String {
    match (kind, v) {
        (FieldKind::TcpFlags, FieldValue::Flags(b)) => {
            format!("{} (0x{b:03x})", quote_flags(&tcp_flags_str(*b)))
        }
        (FieldKind::IpFlags, FieldValue::Flags(b)) => {
            format!("{} (0x{b:x})", quote_flags(&ip_flags_str(*b)))
        }
        (FieldKind::TcpOptions, FieldValue::Bytes(b)) => {
            let (opts, err) = crate::wire::tcp::decode_options(b);
            let mut parts: Vec<String> = opts.iter().map(|o| o.short()).collect();
            if let Some(e) = err {
                parts.push(format!("malformed: {e}; raw {}", hex::encode(b)));
            }
            format!("[{}]", parts.join(", "))
        }
        (_, FieldValue::Int(n)) => n.to_string(),
        (_, FieldValue::Flags(n)) => n.to_string(),
        (_, FieldValue::Mac(m)) => mac_str(m),
        (_, FieldValue::Ip(a)) => a.to_string(),
        (_, FieldValue::Ip6(a)) => a.to_string(),
        (_, FieldValue::Ip6List(a)) => format!(
            "[{}]",
            a.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        (_, FieldValue::Bytes(b)) => format!("\"{}\"", crate::lang::escape_bytes(b)),
    }
}

/// ` (IPv4)` after an EtherType craft knows, empty otherwise.
fn ethertype_name(t: u64) -> &'static str {
    match t {
        0x0800 => " (IPv4)",
        0x86dd => " (IPv6)",
        0x0806 => " (ARP)",
        0x8100 => " (802.1Q)",
        _ => "",
    }
}

/// ` (tcp)` after an IP protocol (IPv6 next header) craft knows.
fn proto_name(n: u64) -> &'static str {
    match n {
        6 => " (tcp)",
        17 => " (udp)",
        1 => " (icmp)",
        58 => " (icmpv6)",
        0 => " (hop-by-hop)",
        43 => " (routing)",
        44 => " (fragment)",
        60 => " (destination options)",
        59 => " (no next header)",
        4 => " (ipv4)",
        41 => " (ipv6)",
        _ => "",
    }
}

fn quote_flags(s: &str) -> String {
    format!("\"{s}\"")
}

/// The width field names are padded to in `show` and `ls`: 9, or the
/// layer's longest (`routerlifetime`).
pub fn name_width(k: LayerKind) -> usize {
    k.fields()
        .iter()
        .map(|f| f.name.len())
        .max()
        .unwrap_or(0)
        .max(9)
}

/// The layered field view (scapy's show2): every field as it will be sent.
pub fn show(p: &Packet) -> String {
    let mut bytes = Vec::new();
    let spans = p.emit_with_spans(&mut bytes);
    let resolved = p.resolved();
    let mut s = String::new();
    for (i, layer) in resolved.layers.iter().enumerate() {
        let kind = layer.kind();
        let _ = writeln!(s, "###[ {} ]###", kind.name());
        let status = crate::wire::stack::layer_status(&resolved.layers, &spans, &bytes, i);
        for (fi, spec) in kind.fields().iter().enumerate() {
            let Some(v) = layer.slot(fi) else { continue };
            // Empty options are left out; an empty payload is still shown.
            let optional = matches!(spec.kind, FieldKind::Bytes | FieldKind::TcpOptions)
                && !matches!(kind, LayerKind::Raw | LayerKind::Padding);
            if optional && matches!(&v, FieldValue::Bytes(b) if b.is_empty()) {
                continue;
            }
            let mut text = match (spec.name, &v) {
                ("chksum" | "cksum", FieldValue::Int(n)) => format!("0x{n:04x}"),
                ("type", FieldValue::Int(n))
                    if matches!(kind, LayerKind::Ether | LayerKind::Dot1q) =>
                {
                    format!("0x{n:04x}{}", ethertype_name(*n))
                }
                ("ptype", FieldValue::Int(n)) if kind == LayerKind::Arp => {
                    format!("0x{n:04x}{}", ethertype_name(*n))
                }
                ("proto", FieldValue::Int(n)) | ("nh", FieldValue::Int(n)) => {
                    format!("{n}{}", proto_name(*n))
                }
                _ => field_str(spec.kind, &v),
            };
            if matches!(spec.name, "chksum" | "cksum")
                && let Some(st) = status
            {
                text.push_str(&match st {
                    ChecksumStatus::Good => " (good)".to_string(),
                    ChecksumStatus::Partial => " (partial: offloaded, normal on lo)".to_string(),
                    ChecksumStatus::Bad(want) => format!(" (BAD, should be 0x{want:04x})"),
                });
            }
            let _ = writeln!(s, "  {:<w$} = {text}", spec.name, w = name_width(kind));
        }
    }
    s
}

const COLORS: [&str; 6] = [
    "\x1b[36m", "\x1b[33m", "\x1b[32m", "\x1b[35m", "\x1b[34m", "\x1b[31m",
];
const RESET: &str = "\x1b[0m";

/// Offset, hex and ASCII, 16 bytes a row, with each layer's bytes marked:
/// coloured when `color`, otherwise by labels at the end of each row.
pub fn hexdump(p: &Packet, color: bool) -> String {
    let mut bytes = Vec::new();
    let spans = p.emit_with_spans(&mut bytes);
    // Which layer owns each byte: the innermost layer whose header covers it.
    let mut owner = vec![0usize; bytes.len()];
    for (i, sp) in spans.iter().enumerate() {
        for o in owner.iter_mut().take(sp.header_end).skip(sp.start) {
            *o = i;
        }
    }
    let mut s = String::new();
    let legend: Vec<String> = spans
        .iter()
        .enumerate()
        .filter(|(_, sp)| sp.header_end > sp.start)
        .map(|(i, sp)| {
            let name = p.layers[i].kind().name();
            let text = format!(
                "{name} {:04x}-{:04x} ({} bytes)",
                sp.start,
                sp.header_end - 1,
                sp.header_end - sp.start
            );
            if color {
                format!("{}{text}{RESET}", COLORS[i % COLORS.len()])
            } else {
                text
            }
        })
        .collect();
    let _ = writeln!(s, "{}", legend.join("  "));
    for (row, chunk) in bytes.chunks(16).enumerate() {
        let base = row * 16;
        let _ = write!(s, "{base:04x}  ");
        for col in 0..16 {
            if col == 8 {
                s.push(' ');
            }
            match chunk.get(col) {
                Some(b) if color => {
                    let _ = write!(
                        s,
                        "{}{b:02x}{RESET} ",
                        COLORS[owner[base + col] % COLORS.len()]
                    );
                }
                Some(b) => {
                    let _ = write!(s, "{b:02x} ");
                }
                None => s.push_str("   "),
            }
        }
        s.push(' ');
        for (col, b) in chunk.iter().enumerate() {
            let c = if (0x20..0x7f).contains(b) {
                *b as char
            } else {
                '.'
            };
            if color {
                let _ = write!(s, "{}{c}{RESET}", COLORS[owner[base + col] % COLORS.len()]);
            } else {
                s.push(c);
            }
        }
        if !color {
            let mut names: Vec<&str> = Vec::new();
            for o in &owner[base..base + chunk.len()] {
                let n = p.layers[*o].kind().name();
                if names.last() != Some(&n) {
                    names.push(n);
                }
            }
            let pad = 16 - chunk.len();
            let _ = write!(s, "{:pad$}  {}", "", names.join(" "), pad = pad);
        }
        s.push('\n');
    }
    s
}

/// The whole frame as one line of lowercase hex.
pub fn hex_line(p: &Packet) -> String {
    hex::encode(p.emit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn a_capture_time_reads_as_tcpdump_prints_it() {
        let t = UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789);
        let c = clock(t);
        let b = c.as_bytes();
        assert_eq!(c.len(), 15, "{c}");
        assert_eq!((b[2], b[5], b[8]), (b':', b':', b'.'), "{c}");
        assert!(c.ends_with(".123456"), "{c}");
        assert!(c.chars().filter(char::is_ascii_digit).count() == 12, "{c}");
        let p = Packet::ether_ip_tcp(
            crate::wire::Ipv4::default(),
            crate::wire::Tcp::default(),
            b"",
        );
        assert_eq!(timed_summary(t, &p), format!("{c} {}", summary(&p)));
    }
}
