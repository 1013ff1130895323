//! IPv6 header (RFC 8200 3), fields and defaults as scapy's `IPv6`.

use super::{DecodeError, FieldKind, FieldSpec, FieldValue, put16};
use pnet_packet::ipv6::Ipv6Packet;
use std::net::Ipv6Addr;

/// Indices of [`Ipv6::FIELDS`], for [`Ipv6::slot`] and [`Ipv6::put`].
pub mod field {
    /// `version`: IP version.
    pub const VERSION: usize = 0;
    /// `tc`: traffic class.
    pub const TC: usize = 1;
    /// `fl`: flow label.
    pub const FL: usize = 2;
    /// `plen`: payload length.
    pub const PLEN: usize = 3;
    /// `nh`: next header.
    pub const NH: usize = 4;
    /// `hlim`: hop limit.
    pub const HLIM: usize = 5;
    /// `src`: source address.
    pub const SRC: usize = 6;
    /// `dst`: destination address.
    pub const DST: usize = 7;
}

/// An IPv6 header. `None` fields are computed (plen, nh: the layer above,
/// 59 "no next header" when none) or take defaults (hlim 64, src and dst ::1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ipv6 {
    /// Version (4 bits).
    pub version: Option<u8>,
    /// Traffic class (DSCP, ECN).
    pub tc: Option<u8>,
    /// Flow label (20 bits).
    pub fl: Option<u32>,
    /// Payload length: everything after this header (extension headers too).
    pub plen: Option<u16>,
    /// Next header: the protocol or extension header that follows.
    pub nh: Option<u8>,
    /// Hop limit.
    pub hlim: Option<u8>,
    /// Source address.
    pub src: Option<Ipv6Addr>,
    /// Destination address.
    pub dst: Option<Ipv6Addr>,
}

/// Default address for src and dst: loopback.
pub const DEFAULT_ADDR: Ipv6Addr = Ipv6Addr::LOCALHOST;

/// Next header value when nothing follows (RFC 8200 4.7), scapy's default.
pub const NO_NEXT_HEADER: u8 = 59;

impl Ipv6 {
    /// Header length.
    pub const LEN: usize = 40;

    /// Field table, in wire order.
    pub const FIELDS: &'static [FieldSpec] = &{
        let mut t = [FieldSpec::UNSET; 8];
        t[field::VERSION] = FieldSpec {
            name: "version",
            kind: FieldKind::UInt(4),
            default: "6",
            doc: "IP version",
        };
        t[field::TC] = FieldSpec {
            name: "tc",
            kind: FieldKind::UInt(8),
            default: "0",
            doc: "traffic class (DSCP, ECN)",
        };
        t[field::FL] = FieldSpec {
            name: "fl",
            kind: FieldKind::UInt(20),
            default: "0",
            doc: "flow label",
        };
        t[field::PLEN] = FieldSpec {
            name: "plen",
            kind: FieldKind::UInt(16),
            default: "auto",
            doc: "payload length, extension headers included",
        };
        t[field::NH] = FieldSpec {
            name: "nh",
            kind: FieldKind::UInt(8),
            default: "auto",
            doc: "next header: 6 TCP, 17 UDP, 58 ICMPv6, 0/43/44/60 extension headers, 59 none",
        };
        t[field::HLIM] = FieldSpec {
            name: "hlim",
            kind: FieldKind::UInt(8),
            default: "64",
            doc: "hop limit (255 below a neighbour discovery message, as RFC 4861 wants)",
        };
        t[field::SRC] = FieldSpec {
            name: "src",
            kind: FieldKind::Ipv6,
            default: "::1",
            doc: "source address",
        };
        t[field::DST] = FieldSpec {
            name: "dst",
            kind: FieldKind::Ipv6,
            default: "::1",
            doc: "destination address (ff02::1, or ff02::2 for a router solicitation, below neighbour discovery)",
        };
        t
    };

    /// Parses the header; returns it and its length (40).
    #[inline(always)]
    pub fn parse(b: &[u8]) -> Result<(Ipv6, usize), DecodeError> {
        let err = |msg: String| DecodeError {
            layer: "IPv6",
            offset: 0,
            msg,
        };
        // Craft's bounds check first; pnet reads within the fixed array.
        let Some(fixed) = b.first_chunk::<{ Self::LEN }>() else {
            return Err(err(format!("truncated: {} of 40 header bytes", b.len())));
        };
        let Some(p) = Ipv6Packet::new(fixed) else {
            return Err(err(format!("truncated: {} of 40 header bytes", b.len())));
        };
        let version = p.get_version();
        if version != 6 {
            return Err(err(format!("version {version}, expected 6")));
        }
        Ok((
            Ipv6 {
                version: Some(version),
                tc: Some(p.get_traffic_class()),
                fl: Some(p.get_flow_label()),
                plen: Some(p.get_payload_length()),
                nh: Some(p.get_next_header().0),
                hlim: Some(p.get_hop_limit()),
                src: Some(p.get_source()),
                dst: Some(p.get_destination()),
            },
            Self::LEN,
        ))
    }

    /// Appends the header with a provisional (zero) payload length when it
    /// is computed; `next` is the next header implied by the layer above, and
    /// `nd` the hop limit and destination a neighbour discovery message above
    /// gives when they are unset.
    pub fn emit(&self, out: &mut Vec<u8>, next: u8, nd: Option<(u8, Ipv6Addr)>) {
        let tc = self.tc.unwrap_or(0);
        let fl = self.fl.unwrap_or(0) & 0xf_ffff;
        let word = (u32::from(self.version.unwrap_or(6) & 0xf) << 28) | (u32::from(tc) << 20) | fl;
        out.extend_from_slice(&word.to_be_bytes());
        out.extend_from_slice(&self.plen.unwrap_or(0).to_be_bytes());
        out.push(self.nh.unwrap_or(next));
        let (hlim, dst) = nd.unwrap_or((64, DEFAULT_ADDR));
        out.push(self.hlim.unwrap_or(hlim));
        out.extend_from_slice(&self.src.unwrap_or(DEFAULT_ADDR).octets());
        out.extend_from_slice(&self.dst.unwrap_or(dst).octets());
    }

    /// Why the payload length cannot be computed: `datagram` is this header
    /// and what follows it, in bytes (jumbograms, RFC 2675, are not built).
    pub fn check_len(&self, datagram: usize) -> Result<(), String> {
        let payload = datagram.saturating_sub(Self::LEN);
        if self.plen.is_none() && payload > usize::from(u16::MAX) {
            return Err(format!(
                "IPv6.plen: the payload is {payload} bytes, over IPv6's 65,535 (send less data, or fragment it)"
            ));
        }
        Ok(())
    }

    /// Fills in the computed payload length. `buf` runs from this header's
    /// first byte to the end of its payload.
    pub fn finalize(&self, buf: &mut [u8]) {
        if self.plen.is_none() && buf.len() >= Self::LEN {
            put16(buf, 4, (buf.len() - Self::LEN).min(0xffff) as u16);
        }
    }

    /// Reads field `i` of [`Self::FIELDS`].
    pub fn slot(&self, i: usize) -> Option<FieldValue> {
        let int = |v: Option<u64>| v.map(FieldValue::Int);
        match i {
            field::VERSION => int(self.version.map(u64::from)),
            field::TC => int(self.tc.map(u64::from)),
            field::FL => int(self.fl.map(u64::from)),
            field::PLEN => int(self.plen.map(u64::from)),
            field::NH => int(self.nh.map(u64::from)),
            field::HLIM => int(self.hlim.map(u64::from)),
            field::SRC => self.src.map(FieldValue::Ip6),
            field::DST => self.dst.map(FieldValue::Ip6),
            _ => None,
        }
    }

    /// Sets (or with `None` unsets) field `i`; the value was checked against its kind.
    pub fn put(&mut self, i: usize, v: Option<FieldValue>) {
        let n = v.as_ref().and_then(FieldValue::as_int);
        let ip = match &v {
            Some(FieldValue::Ip6(a)) => Some(*a),
            _ => None,
        };
        match i {
            field::VERSION => self.version = n.map(|x| x as u8),
            field::TC => self.tc = n.map(|x| x as u8),
            field::FL => self.fl = n.map(|x| x as u32),
            field::PLEN => self.plen = n.map(|x| x as u16),
            field::NH => self.nh = n.map(|x| x as u8),
            field::HLIM => self.hlim = n.map(|x| x as u8),
            field::SRC => self.src = ip,
            field::DST => self.dst = ip,
            _ => {}
        }
    }
}

/// The source and destination addresses of an emitted IPv6 header (at
/// least 40 bytes of `h`), None when it is shorter.
pub fn addrs(h: &[u8]) -> Option<(Ipv6Addr, Ipv6Addr)> {
    let src: [u8; 16] = h.get(8..24)?.try_into().ok()?;
    let dst: [u8; 16] = h.get(24..40)?.try_into().ok()?;
    Some((src.into(), dst.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_constants_name_their_fields() {
        for (i, name) in [
            (field::VERSION, "version"),
            (field::TC, "tc"),
            (field::FL, "fl"),
            (field::PLEN, "plen"),
            (field::NH, "nh"),
            (field::HLIM, "hlim"),
            (field::SRC, "src"),
            (field::DST, "dst"),
        ] {
            assert_eq!(Ipv6::FIELDS[i].name, name);
        }
    }

    #[test]
    fn defaults_are_scapys() {
        // scapy 2.8: bytes(IPv6()).
        let mut out = Vec::new();
        Ipv6::default().emit(&mut out, NO_NEXT_HEADER, None);
        assert_eq!(
            hex::encode(&out),
            "6000000000003b400000000000000000000000000000000100000000000000000000000000000001"
        );
        let (back, n) = Ipv6::parse(&out).unwrap();
        assert_eq!((n, back.nh, back.dst), (40, Some(59), Some(DEFAULT_ADDR)));
        assert!(Ipv6::parse(&out[..39]).is_err());
    }
}
