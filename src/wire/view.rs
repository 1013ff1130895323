//! A zero-copy view of an Ether/IPv4/TCP frame: checked once, then fields are
//! read straight from the bytes (smoltcp's `Packet<T>` idea). For hot paths
//! that look at many frames and keep few: reply matching, filters. Anything
//! that keeps or shows a frame decodes it into a [`super::Packet`].

use super::{DecodeError, be16, be32};
use std::net::Ipv4Addr;

/// A checked Ether/IPv4/TCP frame.
#[derive(Clone, Copy, Debug)]
pub struct TcpView<'a> {
    b: &'a [u8],
    ip: usize,
    tcp: usize,
    end: usize,
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
        if b.len() < 14 + 20 {
            return Err(err("Ether", 0, "too short for Ether/IP"));
        }
        if be16(b, 12) != 0x0800 {
            return Err(err("Ether", 12, "not IPv4"));
        }
        let ip = 14;
        let v = b[ip];
        if v >> 4 != 4 || v & 0x0f < 5 {
            return Err(err("IP", ip, "not a valid IPv4 header"));
        }
        if b[ip + 9] != 6 {
            return Err(err("IP", ip + 9, "not TCP"));
        }
        let tcp = ip + usize::from(v & 0x0f) * 4;
        let total = usize::from(be16(b, ip + 2));
        let end = (ip + total).min(b.len());
        if tcp + 20 > end {
            return Err(err("TCP", tcp, "truncated TCP header"));
        }
        let hlen = usize::from(b[tcp + 12] >> 4) * 4;
        if hlen < 20 || tcp + hlen > end {
            return Err(err("TCP", tcp + 12, "bad data offset"));
        }
        Ok(TcpView { b, ip, tcp, end })
    }

    /// IPv4 source.
    #[inline]
    pub fn src(&self) -> Ipv4Addr {
        let b = &self.b[self.ip + 12..self.ip + 16];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    /// IPv4 destination.
    #[inline]
    pub fn dst(&self) -> Ipv4Addr {
        let b = &self.b[self.ip + 16..self.ip + 20];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    /// TCP source port.
    #[inline]
    pub fn sport(&self) -> u16 {
        be16(self.b, self.tcp)
    }

    /// TCP destination port.
    #[inline]
    pub fn dport(&self) -> u16 {
        be16(self.b, self.tcp + 2)
    }

    /// Sequence number.
    #[inline]
    pub fn seq(&self) -> u32 {
        be32(self.b, self.tcp + 4)
    }

    /// Acknowledgment number.
    #[inline]
    pub fn ack(&self) -> u32 {
        be32(self.b, self.tcp + 8)
    }

    /// Flags (9 bits).
    #[inline]
    pub fn flags(&self) -> u16 {
        (u16::from(self.b[self.tcp + 12] & 1) << 8) | u16::from(self.b[self.tcp + 13])
    }

    /// Window.
    #[inline]
    pub fn window(&self) -> u16 {
        be16(self.b, self.tcp + 14)
    }

    /// The TCP payload (within the IP total length).
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        let hlen = usize::from(self.b[self.tcp + 12] >> 4) * 4;
        &self.b[self.tcp + hlen..self.end]
    }
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
}
