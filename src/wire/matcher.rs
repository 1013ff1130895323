//! Does a received frame answer a sent one? By direction first (the reply
//! comes from where the probe went, to where it came from), so craft's own
//! looped-back frames on `lo` never match, then by protocol:
//! TCP: ports swapped and an ack that fits (or a RST); ICMP errors that quote
//! the probe; echo replies with the same id and seq; UDP with ports swapped.
//!
//! Pure: works on packets, so the live link and sessions both use it.

use super::checksum::ChecksumStatus;
use super::icmp6::Msg;
use super::stack::layer_status;
use super::tcp::flags;
use super::{Layer, Packet, Tcp};
use std::net::IpAddr;

/// Sequence space a TCP segment uses: its payload, plus one for SYN and for FIN.
pub fn seg_len(t: &Tcp, payload: usize) -> u32 {
    let f = t.flag_bits();
    payload as u32 + u32::from(f & flags::SYN != 0) + u32::from(f & flags::FIN != 0)
}

/// The addresses of the first IP layer (IPv4 or IPv6), and its index.
fn net(p: &Packet) -> Option<(usize, IpAddr, IpAddr)> {
    p.layers.iter().enumerate().find_map(|(i, l)| match l {
        Layer::Ip(ip) => Some((
            i,
            ip.src.unwrap_or(crate::wire::ipv4::DEFAULT_ADDR).into(),
            ip.dst.unwrap_or(crate::wire::ipv4::DEFAULT_ADDR).into(),
        )),
        Layer::Ipv6(ip) => Some((
            i,
            ip.src.unwrap_or(crate::wire::ipv6::DEFAULT_ADDR).into(),
            ip.dst.unwrap_or(crate::wire::ipv6::DEFAULT_ADDR).into(),
        )),
        _ => None,
    })
}

fn addrs(p: &Packet) -> Option<(IpAddr, IpAddr)> {
    net(p).map(|(_, s, d)| (s, d))
}

/// The protocol the first IP layer carries (IPv6: after its extension headers).
fn carried(p: &Packet) -> Option<u8> {
    let (i, ..) = net(p)?;
    let mut nh = p.layers[i].next_header();
    for l in &p.layers[i + 1..] {
        if !l.kind().is_ipv6_ext() {
            break;
        }
        nh = l.next_header();
    }
    nh
}

/// True for an ICMP or ICMPv6 error, which quotes the datagram it is about.
fn is_error(l: &Layer) -> bool {
    match l {
        Layer::Icmp(c) => crate::wire::icmp::is_error_type(c.type_num()),
        Layer::Icmp6(c) => c.msg.is_error(),
        _ => false,
    }
}

/// True unless the frame's TCP or UDP checksum is wrong. A partial
/// (offloaded) checksum, as the kernel leaves on `lo`, counts as right: the
/// kernel would accept such a segment, and drop one with a wrong checksum.
pub fn transport_checksum_ok(p: &Packet) -> bool {
    let Some((ipi, ..)) = net(p) else {
        return true;
    };
    // The transport header right after the (outer) IP header and its
    // extension headers; a header quoted inside an ICMP error is not checked.
    let ti = ipi
        + 1
        + p.layers[ipi + 1..]
            .iter()
            .take_while(|l| l.kind().is_ipv6_ext())
            .count();
    if !matches!(
        p.layers.get(ti),
        Some(Layer::Tcp(_) | Layer::Udp(_) | Layer::Icmp6(_))
    ) {
        return true;
    }
    let mut bytes = Vec::new();
    let spans = p.emit_with_spans(&mut bytes);
    !matches!(
        layer_status(&p.layers, &spans, &bytes, ti),
        Some(ChecksumStatus::Bad(_))
    )
}

/// The ports a probe goes from and to (TCP or UDP): `(sport, dport)`. The
/// key under which its answer is looked up by [`reply_key`].
pub fn probe_key(sent: &Packet) -> Option<(u16, u16)> {
    let first = sent.layers.iter().find_map(|l| match l {
        Layer::Tcp(t) => Some((t.sport?, t.dport?)),
        Layer::Udp(u) => Some((u.sport?, u.dport?)),
        Layer::Icmp(_) | Layer::Icmp6(_) => Some((0, 0)),
        _ => None,
    })?;
    (first != (0, 0)).then_some(first)
}

/// The probe key a possible answer belongs to: its own ports swapped, or for
/// an ICMP error the ports of the datagram it quotes. None when the frame has
/// no ports (an echo reply): it is checked against every portless probe.
pub fn reply_key(reply: &Packet) -> Option<(u16, u16)> {
    let mut quoted = false;
    for l in &reply.layers {
        match l {
            l if is_error(l) => quoted = true,
            Layer::Icmp(_) | Layer::Icmp6(_) => return None,
            Layer::Tcp(t) => {
                let (s, d) = (t.sport?, t.dport?);
                return Some(if quoted { (s, d) } else { (d, s) });
            }
            Layer::Udp(u) => {
                let (s, d) = (u.sport?, u.dport?);
                return Some(if quoted { (s, d) } else { (d, s) });
            }
            _ => {}
        }
    }
    None
}

/// True when `reply` answers `sent` (both fully resolved: every field set).
pub fn answers(sent: &Packet, reply: &Packet) -> bool {
    let (Some((ss, sd)), Some((rs, rd))) = (addrs(sent), addrs(reply)) else {
        return false;
    };
    if reply.layers.iter().any(is_error) {
        return quotes(sent, reply);
    }
    if rs != sd || rd != ss {
        return false;
    }
    match (sent.tcp(), reply.tcp()) {
        (Some(st), Some(rt)) => {
            if rt.sport != st.dport || rt.dport != st.sport {
                return false;
            }
            let rf = rt.flag_bits();
            let expected_ack = st
                .seq
                .unwrap_or(0)
                .wrapping_add(seg_len(st, sent.payload().len()));
            if rf & flags::RST != 0 {
                // A RST answers when it acknowledges the probe, or carries the
                // sequence number the probe acknowledged, or when the probe was a SYN.
                return (rf & flags::ACK != 0 && rt.ack == Some(expected_ack))
                    || (st.flag_bits() & flags::ACK != 0 && rt.seq == st.ack)
                    || st.flag_bits() & flags::SYN != 0;
            }
            rf & flags::ACK != 0 && rt.ack == Some(expected_ack)
        }
        (None, None) => match (sent.icmp(), reply.icmp(), sent.udp(), reply.udp()) {
            (Some(sc), Some(rc), _, _) => {
                sc.type_num() == 8 && rc.type_num() == 0 && rc.id == sc.id && rc.seq == sc.seq
            }
            _ if sent.icmp6().is_some() => match (sent.icmp6(), reply.icmp6()) {
                (Some(sc), Some(rc)) => {
                    sc.msg == Msg::EchoRequest
                        && rc.msg == Msg::EchoReply
                        && (rc.int(3), rc.int(4)) == (sc.int(3), sc.int(4))
                }
                _ => false,
            },
            (_, _, Some(su), Some(ru)) => ru.sport == su.dport && ru.dport == su.sport,
            _ => false,
        },
        _ => false,
    }
}

/// An ICMP error whose quoted datagram is `sent`'s (addresses, protocol and ports).
fn quotes(sent: &Packet, reply: &Packet) -> bool {
    let Some(i) = reply.layers.iter().position(is_error) else {
        return false;
    };
    let quoted = Packet {
        layers: reply.layers[i + 1..].to_vec(),
    };
    let (Some((qs, qd)), Some((ss, sd))) = (addrs(&quoted), addrs(sent)) else {
        return false;
    };
    if qs != ss || qd != sd {
        return false;
    }
    match (sent.tcp(), quoted.tcp(), sent.udp(), quoted.udp()) {
        (Some(a), Some(b), _, _) => a.sport == b.sport && a.dport == b.dport,
        (_, _, Some(a), Some(b)) => a.sport == b.sport && a.dport == b.dport,
        _ => carried(&quoted) == carried(sent),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(
        src: [u8; 4],
        dst: [u8; 4],
        sport: u16,
        dport: u16,
        fl: u16,
        seq: u32,
        ack: u32,
    ) -> Packet {
        let ip = crate::wire::Ipv4 {
            src: Some(src.into()),
            dst: Some(dst.into()),
            ..Default::default()
        };
        let t = Tcp {
            sport: Some(sport),
            dport: Some(dport),
            flags: Some(fl),
            seq: Some(seq),
            ack: Some(ack),
            ..Tcp::default()
        };
        Packet::ether_ip_tcp(ip, t, &[]).resolved()
    }

    const A: [u8; 4] = [127, 0, 0, 1];

    #[test]
    fn synack_answers_syn_and_own_echo_does_not() {
        let syn = tcp(A, A, 40000, 1234, flags::SYN, 1000, 0);
        assert!(answers(
            &syn,
            &tcp(A, A, 1234, 40000, flags::SYN | flags::ACK, 5, 1001)
        ));
        assert!(
            !answers(&syn, &syn),
            "our own looped-back copy is not a reply"
        );
        assert!(
            !answers(
                &syn,
                &tcp(A, A, 1234, 40000, flags::SYN | flags::ACK, 5, 1000)
            ),
            "wrong ack"
        );
        assert!(
            !answers(
                &syn,
                &tcp(A, A, 1234, 40001, flags::SYN | flags::ACK, 5, 1001)
            ),
            "other port"
        );
        assert!(answers(
            &syn,
            &tcp(A, A, 1234, 40000, flags::RST | flags::ACK, 0, 1001)
        ));
    }

    #[test]
    fn wrong_checksums_are_told_apart_from_partial_ones() {
        let good = tcp(A, A, 1234, 40000, flags::ACK, 5, 1001);
        assert!(transport_checksum_ok(&good));
        let mut bad = good.clone();
        if let Some(t) = bad.tcp_mut() {
            t.chksum = Some(t.chksum.unwrap_or(0) ^ 0x5555);
        }
        assert!(!transport_checksum_ok(&bad));
        // The pseudo-header sum alone (offloaded), as the kernel sends on lo.
        let mut partial = good.clone();
        let len = 20u32;
        let pseudo = crate::wire::checksum::fold(crate::wire::checksum::pseudo_header_sum(
            A.into(),
            A.into(),
            6,
            len as usize,
        ));
        if let Some(t) = partial.tcp_mut() {
            t.chksum = Some(pseudo);
        }
        assert!(transport_checksum_ok(&partial));
    }

    #[test]
    fn data_is_answered_by_its_ack() {
        let mut d = tcp(A, A, 40000, 1234, flags::PSH | flags::ACK, 1001, 77);
        d.layers.push(Layer::raw(b"hello\n".to_vec()));
        let d = d.resolved();
        assert!(answers(&d, &tcp(A, A, 1234, 40000, flags::ACK, 77, 1007)));
        assert!(!answers(&d, &tcp(A, A, 1234, 40000, flags::ACK, 77, 1001)));
    }

    #[test]
    fn ipv6_echo_and_errors_answer_their_probe_and_our_own_copy_does_not() {
        use crate::wire::icmp6::{Icmp6, Msg};
        use crate::wire::{Ether, Ipv6, Udp};
        let v6 = |src: &str, dst: &str| {
            Layer::Ipv6(Ipv6 {
                src: Some(src.parse().unwrap()),
                dst: Some(dst.parse().unwrap()),
                ..Ipv6::default()
            })
        };
        let echo = |msg, id| {
            let mut m = Icmp6::new(msg);
            m.put(3, Some(crate::wire::FieldValue::Int(id)));
            m.put(4, Some(crate::wire::FieldValue::Int(1)));
            Layer::Icmp6(m)
        };
        let pkt = |layers: Vec<Layer>| Packet { layers }.resolved();
        let req = pkt(vec![
            Layer::Ether(Ether::default()),
            v6("::1", "::2"),
            echo(Msg::EchoRequest, 7),
        ]);
        let rep = pkt(vec![
            Layer::Ether(Ether::default()),
            v6("::2", "::1"),
            echo(Msg::EchoReply, 7),
        ]);
        assert!(answers(&req, &rep) && transport_checksum_ok(&rep));
        assert!(!answers(&req, &req), "our own looped-back copy");
        let other = pkt(vec![
            Layer::Ether(Ether::default()),
            v6("::2", "::1"),
            echo(Msg::EchoReply, 8),
        ]);
        assert!(!answers(&req, &other), "another id");
        let mut bad = rep.clone();
        if let Some(Layer::Icmp6(m)) = bad.layers.get_mut(2) {
            m.put(
                2,
                Some(crate::wire::FieldValue::Int(u64::from(
                    m.cksum().unwrap() ^ 1,
                ))),
            );
        }
        assert!(!transport_checksum_ok(&bad));
        // A port unreachable quoting a UDP probe answers it.
        let udp = Udp {
            sport: Some(40000),
            dport: Some(9),
            ..Udp::default()
        };
        let probe = pkt(vec![
            Layer::Ether(Ether::default()),
            v6("::1", "::2"),
            Layer::Udp(udp.clone()),
        ]);
        let mut unreach = Icmp6::new(Msg::DestUnreach);
        unreach.put(1, Some(crate::wire::FieldValue::Int(4)));
        let err = pkt(vec![
            Layer::Ether(Ether::default()),
            v6("::2", "::1"),
            Layer::Icmp6(unreach),
            v6("::1", "::2"),
            Layer::Udp(udp),
        ]);
        assert!(answers(&probe, &err));
        assert_eq!(reply_key(&err), probe_key(&probe));
        assert_eq!(probe_key(&req), None);
    }
}
