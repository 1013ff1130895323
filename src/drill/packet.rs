//! Script packets against real ones: the inbound packet craft sends for a
//! `<` line, the field-by-field check of the kernel's packet for a `>` line
//! (in packetdrill's order, with its field names), and both shown as
//! packetdrill shows them. Sequence numbers and timestamps are mapped as
//! packetdrill maps them: the kernel's ISN and first TS val are learned from
//! its first packet, and script values are relative to them.

use super::ast::{Ecn, Opt, PacketSpec};
use crate::wire::ipv4::Ipv4;
use crate::wire::stack::Packet;
use crate::wire::tcp::{Tcp, TcpOption, decode_options, encode_options, flags};
use std::collections::HashMap;
use std::net::Ipv4Addr;

/// The connection's two ends, as the kernel sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flow {
    /// The kernel's address.
    pub local: Ipv4Addr,
    /// The remote peer's (craft's) address.
    pub remote: Ipv4Addr,
    /// The kernel's port (None until learned from a client's SYN).
    pub lport: Option<u16>,
    /// The remote peer's port.
    pub rport: u16,
}

/// What is learned from the kernel's packets to map script values.
#[derive(Clone, Debug, Default)]
pub struct Mapping {
    /// The kernel's ISN.
    pub isn: Option<u32>,
    /// The first (script, live) TS val pair.
    pub first_ts: Option<(u32, u32)>,
    /// Each script TS val of an outbound packet and its live value.
    pub ts: HashMap<u32, u32>,
}

impl Mapping {
    fn ecr(&self, script: u32) -> u32 {
        if let Some(v) = self.ts.get(&script) {
            return *v;
        }
        match self.first_ts {
            Some((s, l)) => script.wrapping_sub(s).wrapping_add(l),
            None => script,
        }
    }

    /// Learns the ISN and TS values from the kernel's packet for `spec`.
    pub fn learn(&mut self, spec: &PacketSpec, live: &Tcp) {
        if self.isn.is_none() {
            self.isn = Some(live.seq.unwrap_or(0).wrapping_sub(spec.seq));
        }
        let script_ts = spec.options.iter().flatten().find_map(|o| match o {
            Opt::Ts(v, _) => Some(*v),
            _ => None,
        });
        let live_ts = decode_options(&live.options)
            .0
            .into_iter()
            .find_map(|o| match o {
                TcpOption::Timestamp(v, _) => Some(v),
                _ => None,
            });
        if let (Some(s), Some(l)) = (script_ts, live_ts) {
            self.ts.entry(s).or_insert(l);
            self.first_ts.get_or_insert((s, l));
        }
    }
}

fn tos_of(e: Ecn) -> u8 {
    match e {
        Ecn::NoEcn => 0,
        Ecn::Ect0 | Ecn::Ect01 => 2,
        Ecn::Ect1 => 1,
        Ecn::Ce => 3,
    }
}

/// The frame craft sends for an inbound line; Err when it needs a mapping
/// not learned yet (an ACK before the kernel's first packet).
pub fn inbound(spec: &PacketSpec, flow: &Flow, map: &Mapping) -> Result<Packet, String> {
    let isn = || {
        map.isn
            .ok_or_else(|| "an inbound ACK or SACK before any outbound packet: the kernel's ISN is not known yet".to_string())
    };
    let ack = match spec.ack {
        Some(a) => a.wrapping_add(isn()?),
        None => 0,
    };
    let mut opts = Vec::new();
    for o in spec.options.iter().flatten() {
        opts.push(match o {
            Opt::Nop => TcpOption::Nop,
            Opt::Eol => TcpOption::Eol,
            Opt::Mss(v) => TcpOption::Mss(*v),
            Opt::WScale(v) => TcpOption::WScale(*v),
            Opt::SackOk => TcpOption::SackOk,
            Opt::Ts(v, e) => TcpOption::Timestamp(*v, map.ecr(*e)),
            Opt::Sack(b) => {
                let i = isn()?;
                TcpOption::Sack(
                    b.iter()
                        .map(|(l, r)| (l.wrapping_add(i), r.wrapping_add(i)))
                        .collect(),
                )
            }
        });
    }
    let ip = Ipv4 {
        src: Some(flow.remote),
        dst: Some(flow.local),
        tos: Some(spec.ecn.map(tos_of).unwrap_or(0)),
        ttl: Some(64),
        flags: Some(2),
        ..Default::default()
    };
    let tcp = Tcp {
        sport: Some(flow.rport),
        dport: flow.lport,
        seq: Some(spec.seq),
        ack: Some(ack),
        flags: Some(spec.flags),
        window: Some(spec.win.unwrap_or(65535)),
        urgptr: Some(spec.urg.unwrap_or(0)),
        options: encode_options(&opts),
        ..Default::default()
    };
    Ok(Packet::ether_ip_tcp(ip, tcp, &vec![0u8; spec.len as usize]))
}

/// One packet from consecutive segments of the kernel's (packetdrill's
/// aggregation of TSO/GSO output: a script's `1:10001(10000)` is met by
/// segments that together carry those bytes): headers from the last, seq
/// from the first, the payloads joined. Err when a segment does not follow
/// on from the one before it, or (not being the last) is of another size.
pub fn aggregate(parts: &[Packet], expected_len: usize) -> Result<Packet, String> {
    let Some(last) = parts.last() else {
        return Err("no segments".into());
    };
    let mut data = Vec::new();
    let mut prev: Option<(u32, usize)> = None;
    for (i, p) in parts.iter().enumerate() {
        let Some(t) = p.tcp() else {
            return Err("a segment that is not TCP".into());
        };
        let seq = t.seq.unwrap_or(0);
        let len = p.payload().len();
        if let Some((pseq, plen)) = prev {
            if seq != pseq.wrapping_add(plen as u32) {
                return Err(format!(
                    "segment {i} starts at {seq}, not where the one before it ends ({})",
                    pseq.wrapping_add(plen as u32)
                ));
            }
            if data.len() + len < expected_len && len != plen {
                return Err(format!(
                    "fragment payload: expected {plen} bytes vs actual {len} bytes"
                ));
            }
        }
        data.extend_from_slice(p.payload());
        prev = Some((seq, len));
    }
    let first_seq = parts[0].tcp().and_then(|t| t.seq);
    let mut out = last.clone();
    out.layers
        .retain(|l| l.kind() != crate::wire::stack::LayerKind::Raw);
    if let Some(t) = out.tcp_mut() {
        t.seq = first_seq;
    }
    let hlen = out.tcp().map(|t| t.header_len()).unwrap_or(20);
    for l in out.layers.iter_mut() {
        if let crate::wire::stack::Layer::Ip(ip) = l {
            ip.len = Some((ip.header_len() + hlen + data.len()).min(65535) as u16);
        }
    }
    if !data.is_empty() {
        out.layers.push(crate::wire::stack::Layer::raw(data));
    }
    Ok(out)
}

/// The first field of the kernel's packet that differs from the script's:
/// (field name, expected, actual), packetdrill's names.
pub type Diff = (String, String, String);

fn num(n: i64) -> String {
    format!("{n} (0x{n:x})")
}

fn check(name: &str, want: i64, got: i64) -> Result<(), Diff> {
    if want == got {
        Ok(())
    } else {
        Err((name.to_string(), num(want), num(got)))
    }
}

fn spec_options(spec: &PacketSpec) -> Vec<TcpOption> {
    spec.options
        .iter()
        .flatten()
        .map(|o| match o {
            Opt::Nop => TcpOption::Nop,
            Opt::Eol => TcpOption::Eol,
            Opt::Mss(v) => TcpOption::Mss(*v),
            Opt::WScale(v) => TcpOption::WScale(*v),
            Opt::SackOk => TcpOption::SackOk,
            Opt::Ts(v, e) => TcpOption::Timestamp(*v, *e),
            Opt::Sack(b) => TcpOption::Sack(b.clone()),
        })
        .collect()
}

/// Checks the kernel's packet against an outbound line, in packetdrill's
/// order: IP length and ECN, TCP header length, flags, seq, ack, window,
/// urgent pointer, options, payload. `ts_tick_usecs` and `tolerance_usecs`
/// check TS val as packetdrill's `--tcp_ts_tick_usecs` does.
pub fn verify(
    spec: &PacketSpec,
    live: &Packet,
    map: &Mapping,
    ts_tick_usecs: Option<i64>,
    tolerance_usecs: i64,
) -> Result<(), Diff> {
    let (Some(ip), Some(tcp)) = (live.ip(), live.tcp()) else {
        return Err(("protocol".into(), "TCP".into(), "another protocol".into()));
    };
    let payload = live.payload().len() as i64;
    let script_opts = encode_options(&spec_options(spec));
    let opt_len = if spec.options.is_some() {
        script_opts.len() as i64
    } else {
        tcp.options.len() as i64
    };
    let ihl = ip.header_len() as i64;
    let tot = ip.len.map(i64::from).unwrap_or(0);
    check(
        "ipv4_total_length",
        ihl + 20 + opt_len + spec.len as i64,
        tot,
    )?;
    if let Some(e) = spec.ecn {
        let got = ip.tos.unwrap_or(0) & 3;
        let ok = match e {
            Ecn::Ect01 => got == 1 || got == 2,
            e => got == tos_of(e),
        };
        if !ok {
            return Err((
                "ip_ecn".into(),
                format!("{e:?}").to_lowercase(),
                format!("{got:02b}"),
            ));
        }
    }
    check(
        "tcp_data_offset",
        (20 + opt_len) / 4,
        tcp.header_len() as i64 / 4,
    )?;
    let f = tcp.flag_bits();
    for (name, bit) in [
        ("tcp_fin", flags::FIN),
        ("tcp_syn", flags::SYN),
        ("tcp_rst", flags::RST),
        ("tcp_psh", flags::PSH),
        ("tcp_ack", flags::ACK),
        ("tcp_urg", 0x20),
        ("tcp_ece", 0x40),
        ("tcp_cwr", 0x80),
    ] {
        check(name, (spec.flags & bit != 0) as i64, (f & bit != 0) as i64)?;
    }
    let isn = map.isn.unwrap_or(0);
    check(
        "tcp_seq",
        spec.seq.wrapping_add(isn) as i64,
        tcp.seq.unwrap_or(0) as i64,
    )?;
    if spec.flags & flags::ACK != 0 || spec.ack.is_some() {
        check(
            "tcp_ack_seq",
            spec.ack.unwrap_or(0) as i64,
            tcp.ack.unwrap_or(0) as i64,
        )?;
    }
    if let Some(w) = spec.win {
        check("tcp_window", w as i64, tcp.window.unwrap_or(0) as i64)?;
    }
    check(
        "tcp_urg_ptr",
        spec.urg.unwrap_or(0) as i64,
        tcp.urgptr.unwrap_or(0) as i64,
    )?;
    if spec.options.is_some() {
        let want = spec_options(spec);
        let (got, _) = decode_options(&tcp.options);
        let got: Vec<TcpOption> = got.into_iter().filter(|o| *o != TcpOption::Eol).collect();
        let kinds = |v: &[TcpOption]| {
            v.iter()
                .map(|o| o.short().split(' ').next().unwrap_or("").to_string())
                .collect::<Vec<_>>()
        };
        if kinds(&want) != kinds(&got) {
            return Err((
                "TCP options".into(),
                options_text(&want),
                options_text(&got),
            ));
        }
        for (w, g) in want.iter().zip(&got) {
            match (w, g) {
                (TcpOption::Timestamp(sv, _), TcpOption::Timestamp(lv, _)) => {
                    if let (Some(tick), Some((s0, l0))) = (ts_tick_usecs, map.first_ts) {
                        let as_script = lv.wrapping_sub(l0).wrapping_add(s0);
                        let dev = (as_script.wrapping_sub(*sv) as i32).unsigned_abs() as i64;
                        if dev * tick > tolerance_usecs {
                            return Err((
                                "TCP timestamp value".into(),
                                format!("TS val {sv}"),
                                format!("TS val {as_script} (tolerance {tolerance_usecs} us)"),
                            ));
                        }
                    }
                }
                (w, g) if w != g => {
                    return Err(("TCP option".into(), w.short(), g.short()));
                }
                _ => {}
            }
        }
    }
    check("payload length", spec.len as i64, payload)?;
    Ok(())
}

fn options_text(v: &[TcpOption]) -> String {
    let s: Vec<String> = v
        .iter()
        .map(|o| match o {
            TcpOption::Sack(b) => {
                let b: Vec<String> = b.iter().map(|(l, r)| format!("{l}:{r}")).collect();
                format!("sack {}", b.join(" "))
            }
            o => o.short(),
        })
        .collect();
    format!("<{}>", s.join(","))
}

/// Flag letters as packetdrill writes them: `S.`, `P.`, `F.`, `R`.
pub fn flags_text(f: u16) -> String {
    let mut s = String::new();
    for (bit, c) in [
        (flags::FIN, 'F'),
        (flags::SYN, 'S'),
        (flags::RST, 'R'),
        (flags::PSH, 'P'),
        (flags::ACK, '.'),
        (0x20, 'U'),
        (0x40, 'E'),
        (0x80, 'W'),
    ] {
        if f & bit != 0 {
            s.push(c);
        }
    }
    s
}

/// A script line's packet as packetdrill shows it.
pub fn show_spec(spec: &PacketSpec) -> String {
    let mut s = format!(
        "{} {}:{}({})",
        spec.flags_text,
        spec.seq,
        spec.seq.wrapping_add(spec.len),
        spec.len
    );
    if let Some(a) = spec.ack {
        s += &format!(" ack {a}");
    }
    if let Some(w) = spec.win {
        s += &format!(" win {w}");
    }
    match &spec.options {
        None => s += " <...>",
        Some(o) if o.is_empty() => {}
        Some(_) => s += &format!(" {}", options_text(&spec_options(spec))),
    }
    s
}

/// The kernel's packet as packetdrill shows it, its sequence numbers
/// relative to the kernel's ISN.
pub fn show_live(live: &Packet, map: &Mapping) -> String {
    let Some(tcp) = live.tcp() else {
        return crate::render::summary(live);
    };
    let len = live.payload().len() as u32;
    let seq = tcp.seq.unwrap_or(0).wrapping_sub(map.isn.unwrap_or(0));
    let f = tcp.flag_bits();
    let mut s = format!("{} {seq}:{}({len})", flags_text(f), seq.wrapping_add(len));
    if f & flags::ACK != 0 {
        s += &format!(" ack {}", tcp.ack.unwrap_or(0));
    }
    s += &format!(" win {}", tcp.window.unwrap_or(0));
    let (opts, _) = decode_options(&tcp.options);
    if !opts.is_empty() {
        s += &format!(" {}", options_text(&opts));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drill::ast::Dir;

    fn spec(line: &str) -> PacketSpec {
        let s = crate::drill::parse::parse(line).unwrap();
        match &s.events[0].action {
            crate::drill::ast::Action::Packet(p) => p.clone(),
            _ => panic!(),
        }
    }

    fn flow() -> Flow {
        Flow {
            local: Ipv4Addr::new(127, 1, 0, 1),
            remote: Ipv4Addr::new(127, 2, 0, 1),
            lport: Some(8080),
            rport: 40000,
        }
    }

    #[test]
    fn inbound_maps_ack_sack_and_ecr() {
        let mut map = Mapping::default();
        let p = spec("+0 < . 1:1(0) ack 1 win 257");
        assert!(inbound(&p, &flow(), &map).unwrap_err().contains("ISN"));
        let out = spec("+0 > S. 0:0(0) ack 1 <TS val 100 ecr 5>");
        let mut live = Tcp {
            seq: Some(5000),
            options: encode_options(&[TcpOption::Timestamp(777, 5)]),
            ..Default::default()
        };
        map.learn(&out, &live);
        assert_eq!(map.isn, Some(5000));
        let p = spec("+0 < . 1:1(0) ack 1 win 257 <nop,nop,TS val 6 ecr 100,nop,nop,sack 1:2>");
        let pkt = inbound(&p, &flow(), &map).unwrap();
        let t = pkt.tcp().unwrap();
        assert_eq!(
            (t.ack, t.window, t.dport, t.sport),
            (Some(5001), Some(257), Some(8080), Some(40000))
        );
        let (o, _) = decode_options(&t.options);
        assert_eq!(o[2], TcpOption::Timestamp(6, 777));
        assert_eq!(o[5], TcpOption::Sack(vec![(5001, 5002)]));
        live.seq = Some(5001);
        assert_eq!(p.dir, Dir::In);
    }

    fn seg(seq: u32, len: usize, f: u16) -> Packet {
        Packet::ether_ip_tcp(
            Ipv4 {
                len: Some((40 + len) as u16),
                ..Default::default()
            },
            Tcp {
                seq: Some(seq),
                ack: Some(1),
                flags: Some(f),
                window: Some(256),
                ..Default::default()
            },
            &vec![7u8; len],
        )
    }

    #[test]
    fn segments_aggregate_as_packetdrill_joins_them() {
        let a = flags::ACK;
        let pa = flags::PSH | flags::ACK;
        let whole = aggregate(
            &[seg(1001, 2000, a), seg(3001, 2000, a), seg(5001, 1000, pa)],
            5000,
        )
        .unwrap();
        let map = Mapping {
            isn: Some(1000),
            ..Default::default()
        };
        assert_eq!(
            verify(
                &spec("+0 > P. 1:5001(5000) ack 1"),
                &whole,
                &map,
                None,
                4000
            ),
            Ok(())
        );
        assert_eq!(show_live(&whole, &map), "P. 1:5001(5000) ack 1 win 256");
        assert!(
            aggregate(&[seg(1001, 2000, a), seg(3002, 2000, a)], 4000)
                .unwrap_err()
                .contains("not where")
        );
        assert!(
            aggregate(
                &[seg(1001, 2000, a), seg(3001, 1000, a), seg(4001, 2000, a)],
                5000
            )
            .unwrap_err()
            .contains("fragment payload")
        );
    }

    #[test]
    fn verify_names_the_first_difference() {
        let map = Mapping {
            isn: Some(1000),
            ..Default::default()
        };
        let s = spec("+0 > . 1:1(0) ack 1001");
        let ok = Packet::ether_ip_tcp(
            Ipv4 {
                len: Some(40),
                ..Default::default()
            },
            Tcp {
                seq: Some(1001),
                ack: Some(1001),
                flags: Some(flags::ACK),
                window: Some(256),
                ..Default::default()
            },
            &[],
        );
        assert_eq!(verify(&s, &ok, &map, None, 4000), Ok(()));
        let s = spec("+0 > . 1:1(0) ack 10001");
        let d = verify(&s, &ok, &map, None, 4000).unwrap_err();
        assert_eq!(
            d,
            (
                "tcp_ack_seq".into(),
                "10001 (0x2711)".into(),
                "1001 (0x3e9)".into()
            )
        );
        let s = spec("+0 > . 1:1(0) ack 1001 <nop>");
        assert_eq!(
            verify(&s, &ok, &map, None, 4000).unwrap_err().0,
            "ipv4_total_length"
        );
        assert_eq!(show_live(&ok, &map), ". 1:1(0) ack 1001 win 256");
        assert_eq!(show_spec(&s), ". 1:1(0) ack 1001 <nop>");
    }
}
