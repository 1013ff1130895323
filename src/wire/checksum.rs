//! Internet checksums (RFC 1071): full, and the partial (offloaded) form the
//! kernel leaves in frames on `lo` (CHECKSUM_PARTIAL: the field holds only the
//! folded pseudo-header sum; the rest is never computed because no wire exists).

use std::net::{Ipv4Addr, Ipv6Addr};

/// Adds `data` to a running 32-bit one's-complement accumulator.
#[inline]
pub fn sum(mut acc: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc = acc.wrapping_add(u32::from(u16::from_be_bytes([c[0], c[1]])));
    }
    if let [last] = chunks.remainder() {
        acc = acc.wrapping_add(u32::from(*last) << 8);
    }
    acc
}

/// Folds a 32-bit accumulator into 16 bits (end-around carry).
#[inline]
pub fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// The checksum of `data`: the one's complement of its folded sum.
#[inline]
pub fn checksum(data: &[u8]) -> u16 {
    !fold(sum(0, data))
}

/// The IPv4 pseudo-header sum for a transport segment of `len` bytes.
#[inline]
pub fn pseudo_header_sum(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: usize) -> u32 {
    let mut acc = sum(0, &src.octets());
    acc = sum(acc, &dst.octets());
    acc += u32::from(proto);
    acc += (len as u32) & 0xffff;
    acc + ((len as u32) >> 16)
}

/// The addresses a transport checksum's pseudo header carries: IPv4's
/// (RFC 793, 768) or IPv6's (RFC 8200 8.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pseudo {
    /// An IPv4 source and (final) destination.
    V4(Ipv4Addr, Ipv4Addr),
    /// An IPv6 source and final destination.
    V6(Ipv6Addr, Ipv6Addr),
}

impl Pseudo {
    /// The pseudo-header sum for an upper-layer packet of `len` bytes with
    /// protocol (next header) `proto`. IPv6's carries a 32-bit length and the
    /// next header in its last byte; summed in 16-bit words both come to the
    /// same form as IPv4's.
    #[inline(always)]
    pub fn sum(self, proto: u8, len: usize) -> u32 {
        match self {
            Pseudo::V4(s, d) => pseudo_header_sum(s, d, proto, len),
            Pseudo::V6(s, d) => {
                let acc = sum(sum(0, &s.octets()), &d.octets());
                acc + u32::from(proto) + ((len as u32) & 0xffff) + ((len as u32) >> 16)
            }
        }
    }
}

/// The pseudo header of a transport layer emitted with no network layer
/// below it: IPv4 loopback, as the IP layer's defaults.
pub const LOOPBACK_V4: Pseudo = Pseudo::V4(Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST);

/// The full transport checksum over pseudo header and `segment` (whose
/// checksum field must be zero while computing).
#[inline]
pub fn transport_checksum(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, segment: &[u8]) -> u16 {
    checksum_with(Pseudo::V4(src, dst), proto, segment)
}

/// [`transport_checksum`] over either pseudo header.
#[inline(always)]
pub fn checksum_with(pseudo: Pseudo, proto: u8, segment: &[u8]) -> u16 {
    !fold(sum(pseudo.sum(proto, segment.len()), segment))
}

/// How a received checksum field compares with the data it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChecksumStatus {
    /// Correct.
    Good,
    /// Holds only the pseudo-header sum: offloaded (CHECKSUM_PARTIAL), normal on `lo`.
    Partial,
    /// Neither: wrong. The value it should have had is attached.
    Bad(u16),
}

/// Checks a transport segment's checksum stored at `field` (byte offset inside
/// `segment`) as full, partial (offloaded) or bad.
pub fn verify_transport(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    segment: &[u8],
    field: usize,
) -> ChecksumStatus {
    verify_with(Pseudo::V4(src, dst), proto, segment, field)
}

/// [`verify_transport`] over either pseudo header (ICMPv6 too: its checksum
/// covers the IPv6 pseudo header, RFC 4443 2.3).
pub fn verify_with(p: Pseudo, proto: u8, segment: &[u8], field: usize) -> ChecksumStatus {
    if segment.len() < field + 2 {
        return ChecksumStatus::Bad(0);
    }
    let stored = u16::from_be_bytes([segment[field], segment[field + 1]]);
    let pseudo = p.sum(proto, segment.len());
    if fold(sum(pseudo, segment)) == 0xffff {
        return ChecksumStatus::Good;
    }
    if stored == fold(pseudo) {
        return ChecksumStatus::Partial;
    }
    let without = fold(sum(pseudo, segment)) as u32 + u32::from(!stored);
    let expected = !fold(without);
    ChecksumStatus::Bad(if proto == 17 && expected == 0 {
        0xffff
    } else {
        expected
    })
}

/// Checks an IPv4 header checksum (`header` is the whole header with options).
pub fn verify_ip_header(header: &[u8]) -> ChecksumStatus {
    if fold(sum(0, header)) == 0xffff {
        return ChecksumStatus::Good;
    }
    let stored = if header.len() >= 12 {
        u16::from_be_bytes([header[10], header[11]])
    } else {
        0
    };
    let expected = !fold(fold(sum(0, header)) as u32 + u32::from(!stored));
    ChecksumStatus::Bad(expected)
}

/// Checks an ICMP message's checksum (`message` is header and data).
pub fn verify_icmp(message: &[u8]) -> ChecksumStatus {
    if fold(sum(0, message)) == 0xffff {
        return ChecksumStatus::Good;
    }
    let mut copy = message.to_vec();
    if let Some(field) = copy.get_mut(2..4) {
        field.fill(0);
    }
    ChecksumStatus::Bad(checksum(&copy))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3 example: sum of 0001 f203 f4f5 f6f7 = ddf2 (folded).
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(sum(0, &data)), 0xddf2);
        assert_eq!(checksum(&data), !0xddf2);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(fold(sum(0, &[0x12, 0x34, 0x56])), 0x1234 + 0x5600);
    }

    #[test]
    fn known_ip_header() {
        // 127.0.0.1 -> 127.0.0.1, TCP, len 60, id 0x1c46, DF, ttl 64 (from a lo capture).
        let mut h = vec![
            0x45, 0, 0, 0x3c, 0x1c, 0x46, 0x40, 0, 0x40, 6, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
        ];
        let c = checksum(&h);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        assert_eq!(c, 0x2074);
        assert_eq!(verify_ip_header(&h), ChecksumStatus::Good);
        h[10] ^= 1;
        assert_eq!(verify_ip_header(&h), ChecksumStatus::Bad(0x2074));
    }

    #[test]
    fn icmp_echo_request() {
        // Type 8, code 0, id 1, seq 1: the sum 0x0802 (by hand), so 0xf7fd.
        let mut m = [8u8, 0, 0, 0, 0, 1, 0, 1];
        assert_eq!(verify_icmp(&m), ChecksumStatus::Bad(0xf7fd));
        m[2..4].copy_from_slice(&0xf7fdu16.to_be_bytes());
        assert_eq!(verify_icmp(&m), ChecksumStatus::Good);
        assert_eq!(
            verify_icmp(&[8]),
            ChecksumStatus::Bad(!0x0800),
            "short: no panic"
        );
    }
}
