//! A zero-copy view of an Ether/IPv4/TCP frame (and [`tcp6`], the addresses
//! and ports of an Ether/IPv6/TCP one): checked once, then fields are
//! read straight from the bytes through pnet_packet's getters. For hot paths
//! that look at many frames and keep few: reply matching, filters. Anything
//! that keeps or shows a frame decodes it into a [`super::Packet`].
//!
//! pnet's getters are read only over headers whose lengths craft checked
//! first: the view keeps each fixed header as a 20-byte array, so pnet's own
//! length check in `new` is known to pass and compiles away, and no getter
//! can index past the frame.

use super::DecodeError;
use pnet_packet::ethernet::{EtherTypes, EthernetPacket};
use pnet_packet::ip::IpNextHeaderProtocols;
use pnet_packet::ipv4::Ipv4Packet;
use pnet_packet::tcp::TcpPacket;
use std::net::Ipv4Addr;

/// A checked Ether/IPv4/TCP frame.
#[derive(Clone, Copy, Debug)]
pub struct TcpView<'a> {
    /// The fixed IPv4 header.
    ip: &'a [u8; 20],
    /// The fixed TCP header.
    tcp: &'a [u8; 20],
    /// The TCP payload, within the IP total length.
    payload: &'a [u8],
}

impl<'a> TcpView<'a> {
    /// Checks that `b` holds Ethernet, IPv4 (any options) and a whole TCP
    /// header; after this, no getter can read out of bounds.
    #[inline]
    pub fn new_checked(b: &'a [u8]) -> Result<TcpView<'a>, DecodeError> {
        let err = |layer, offset, msg: &str| DecodeError {
            layer,
            offset,
            msg: msg.to_string(),
        };
        let ip = 14;
        // Ethernet and a fixed IPv4 header are there; pnet reads within them.
        let (Some(eth), Some(ip_fixed)) = (
            b.first_chunk::<14>().and_then(|h| EthernetPacket::new(h)),
            b.get(ip..).and_then(<[u8]>::first_chunk::<20>),
        ) else {
            return Err(err("Ether", 0, "too short for Ether/IP"));
        };
        if eth.get_ethertype() != EtherTypes::Ipv4 {
            return Err(err("Ether", 12, "not IPv4"));
        }
        let Some(iph) = ipv4(ip_fixed) else {
            return Err(err("Ether", 0, "too short for Ether/IP"));
        };
        if iph.get_version() != 4 || iph.get_header_length() < 5 {
            return Err(err("IP", ip, "not a valid IPv4 header"));
        }
        if iph.get_next_level_protocol() != IpNextHeaderProtocols::Tcp {
            return Err(err("IP", ip + 9, "not TCP"));
        }
        let tcp = ip + usize::from(iph.get_header_length()) * 4;
        let total = usize::from(iph.get_total_length());
        let end = (ip + total).min(b.len());
        if tcp + 20 > end {
            return Err(err("TCP", tcp, "truncated TCP header"));
        }
        // tcp + 20 <= end <= b.len(): the segment, within the IP total length,
        // holds a fixed TCP header (neither fallback below is ever taken).
        let seg = b.get(tcp..end).unwrap_or_default();
        let Some(tcp_fixed) = seg.first_chunk::<20>() else {
            return Err(err("TCP", tcp, "truncated TCP header"));
        };
        let hlen = tcp_header(tcp_fixed).map_or(0, |t| usize::from(t.get_data_offset()) * 4);
        if hlen < 20 || hlen > seg.len() {
            return Err(err("TCP", tcp + 12, "bad data offset"));
        }
        Ok(TcpView {
            ip: ip_fixed,
            tcp: tcp_fixed,
            payload: seg.get(hlen..).unwrap_or_default(),
        })
    }

    /// IPv4 source.
    #[inline]
    pub fn src(&self) -> Ipv4Addr {
        ipv4(self.ip).map_or(Ipv4Addr::UNSPECIFIED, |p| p.get_source())
    }

    /// IPv4 destination.
    #[inline]
    pub fn dst(&self) -> Ipv4Addr {
        ipv4(self.ip).map_or(Ipv4Addr::UNSPECIFIED, |p| p.get_destination())
    }

    /// TCP source port.
    #[inline]
    pub fn sport(&self) -> u16 {
        tcp_header(self.tcp).map_or(0, |t| t.get_source())
    }

    /// TCP destination port.
    #[inline]
    pub fn dport(&self) -> u16 {
        tcp_header(self.tcp).map_or(0, |t| t.get_destination())
    }

    /// Sequence number.
    #[inline]
    pub fn seq(&self) -> u32 {
        tcp_header(self.tcp).map_or(0, |t| t.get_sequence())
    }

    /// Acknowledgment number.
    #[inline]
    pub fn ack(&self) -> u32 {
        tcp_header(self.tcp).map_or(0, |t| t.get_acknowledgement())
    }

    /// Flags (9 bits: pnet's 8, and NS, the low bit of its 4 reserved bits).
    #[inline]
    pub fn flags(&self) -> u16 {
        tcp_header(self.tcp).map_or(0, |t| {
            (u16::from(t.get_reserved() & 1) << 8) | u16::from(t.get_flags())
        })
    }

    /// Window.
    #[inline]
    pub fn window(&self) -> u16 {
        tcp_header(self.tcp).map_or(0, |t| t.get_window())
    }

    /// The TCP payload (within the IP total length).
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }
}

/// What a quick filter needs of an Ether/IPv6 frame, read straight from
/// the bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tcp6<'a> {
    /// Not IPv6 (or too short for its fixed header).
    NotIpv6,
    /// IPv6 with an extension header (or not TCP) next: only a full decode
    /// can tell what it carries.
    Other,
    /// IPv6 straight to a whole fixed TCP header: source and destination
    /// addresses, source and destination ports.
    Tcp {
        /// The IPv6 source address's bytes.
        src: &'a [u8; 16],
        /// TCP source port.
        sport: u16,
        /// TCP destination port.
        dport: u16,
    },
}

/// Reads an Ether/IPv6 frame's source address and TCP ports, when TCP
/// follows the fixed header directly. Never reads out of bounds.
pub fn tcp6(b: &[u8]) -> Tcp6<'_> {
    let Some(h) = b.first_chunk::<{ 14 + 40 }>() else {
        return Tcp6::NotIpv6;
    };
    if h[12..14] != [0x86, 0xdd] || h[14] >> 4 != 6 {
        return Tcp6::NotIpv6;
    }
    if h[14 + 6] != 6 {
        return Tcp6::Other;
    }
    let (Some(src), Some(ports)) = (
        h[22..].first_chunk::<16>(),
        b.get(54..).and_then(<[u8]>::first_chunk::<20>),
    ) else {
        return Tcp6::Other;
    };
    Tcp6::Tcp {
        src,
        sport: u16::from_be_bytes([ports[0], ports[1]]),
        dport: u16::from_be_bytes([ports[2], ports[3]]),
    }
}

/// pnet's IPv4 view of a fixed header. 20 bytes are its minimum size, so this
/// is always `Some`: the compiler sees the length, drops the check, and the
/// callers' `map_or` defaults are dead code (no panic path either way).
#[inline(always)]
fn ipv4(h: &[u8; 20]) -> Option<Ipv4Packet<'_>> {
    Ipv4Packet::new(h)
}

/// pnet's TCP view of a fixed header (20 bytes, its minimum: always `Some`).
#[inline(always)]
fn tcp_header(h: &[u8; 20]) -> Option<TcpPacket<'_>> {
    TcpPacket::new(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Packet;

    #[test]
    fn reads_what_decode_reads_and_refuses_what_decode_cannot_take() {
        let syn = hex::decode("00000000000000000000000008004500003cc03e400040067c7b7f0000017f000001dbf004d2f8dea4d900000000a002ffd7fe3000000204ffd70402080a29657126000000000103030a").unwrap();
        let v = TcpView::new_checked(&syn).unwrap();
        let p = Packet::parse(&syn);
        let t = p.tcp().unwrap();
        assert_eq!(
            (
                Some(v.sport()),
                Some(v.dport()),
                Some(v.seq()),
                Some(v.ack())
            ),
            (t.sport, t.dport, t.seq, t.ack)
        );
        assert_eq!((Some(v.flags()), Some(v.window())), (t.flags, t.window));
        assert_eq!(
            (Some(v.src()), Some(v.dst())),
            (p.ip().unwrap().src, p.ip().unwrap().dst)
        );
        assert!(v.payload().is_empty());
        for cut in 0..syn.len() {
            // Never panics; a header cut short is refused.
            let r = TcpView::new_checked(&syn[..cut]);
            if cut < 14 + 20 + 40 {
                assert!(r.is_err(), "{cut}");
            }
        }
    }

    #[test]
    fn tcp6_reads_a_v6_syn_as_decode_does_and_defers_extension_headers() {
        use crate::wire::{Ipv6, Tcp};
        let p = Packet::ether_ip6_tcp(
            Ipv6::default(),
            Tcp {
                sport: Some(40000),
                dport: Some(1234),
                ..Tcp::default()
            },
            b"hi",
        );
        let b = p.emit();
        let d = Packet::parse(&b);
        let want = d.ipv6().unwrap().src.unwrap().octets();
        assert_eq!(
            tcp6(&b),
            Tcp6::Tcp {
                src: &want,
                sport: 40000,
                dport: 1234
            }
        );
        for cut in 0..b.len() {
            // Never panics; short frames are not read as TCP.
            if cut < 74 {
                assert!(!matches!(tcp6(&b[..cut]), Tcp6::Tcp { .. }), "{cut}");
            }
        }
        let mut ext = b.clone();
        ext[20] = 0; // hop-by-hop next
        assert_eq!(tcp6(&ext), Tcp6::Other);
        let syn4 = hex::decode("00000000000000000000000008004500003cc03e400040067c7b7f0000017f000001dbf004d2f8dea4d900000000a002ffd7fe3000000204ffd70402080a29657126000000000103030a").unwrap();
        assert_eq!(tcp6(&syn4), Tcp6::NotIpv6);
    }

    /// The view as craft read it before pnet, byte by byte: the oracle.
    #[allow(clippy::type_complexity)]
    fn by_hand(b: &[u8]) -> Option<(Ipv4Addr, Ipv4Addr, u16, u16, u32, u32, u16, u16, &[u8])> {
        let be16 = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        let be32 = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        if b.len() < 34 || be16(12) != 0x0800 || b[14] >> 4 != 4 || b[14] & 0xf < 5 || b[23] != 6 {
            return None;
        }
        let tcp = 14 + usize::from(b[14] & 0xf) * 4;
        let end = (14 + usize::from(be16(16))).min(b.len());
        if tcp + 20 > end {
            return None;
        }
        let hlen = usize::from(b[tcp + 12] >> 4) * 4;
        if hlen < 20 || tcp + hlen > end {
            return None;
        }
        let addr = |i: usize| Ipv4Addr::new(b[i], b[i + 1], b[i + 2], b[i + 3]);
        Some((
            addr(26),
            addr(30),
            be16(tcp),
            be16(tcp + 2),
            be32(tcp + 4),
            be32(tcp + 8),
            (u16::from(b[tcp + 12] & 1) << 8) | u16::from(b[tcp + 13]),
            be16(tcp + 14),
            &b[tcp + hlen..end],
        ))
    }

    proptest::proptest! {
        /// Hostile frames (a SYN with bytes overwritten, then cut anywhere):
        /// the view never panics, and accepts and reads exactly what the
        /// byte-by-byte reading does.
        #[test]
        fn agrees_with_reading_by_hand_on_hostile_frames(
            edits in proptest::collection::vec((0usize..80, proptest::num::u8::ANY), 0..6),
            extra in proptest::collection::vec(proptest::num::u8::ANY, 0..40),
            cut in 0usize..130,
        ) {
            let mut f = hex::decode("00000000000000000000000008004500003cc03e400040067c7b7f0000017f000001dbf004d2f8dea4d900000000a002ffd7fe3000000204ffd70402080a29657126000000000103030a").unwrap();
            f.extend_from_slice(&extra);
            for (i, v) in edits {
                if let Some(b) = f.get_mut(i) {
                    *b = v;
                }
            }
            f.truncate(cut);
            let got = TcpView::new_checked(&f).ok().map(|v| {
                (v.src(), v.dst(), v.sport(), v.dport(), v.seq(), v.ack(), v.flags(), v.window(), v.payload())
            });
            proptest::prop_assert_eq!(got, by_hand(&f));
        }
    }
}
