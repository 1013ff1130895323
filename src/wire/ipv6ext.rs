//! IPv6 extension headers (RFC 8200 4), scapy's names and fields:
//! `IPv6ExtHdrHopByHop` and `IPv6ExtHdrDestOpt` ([`OptsHdr`]: options kept
//! as bytes, padded with Pad1/PadN to 8 bytes as scapy's autopad does),
//! `IPv6ExtHdrRouting` ([`Routing`], type 0: a list of addresses) and
//! `IPv6ExtHdrFragment` ([`Fragment`]). Each one's `nh` follows the layer
//! above unless set.

use super::{DecodeError, FieldKind, FieldSpec, FieldValue};
use std::net::Ipv6Addr;

const fn spec(
    name: &'static str,
    kind: FieldKind,
    default: &'static str,
    doc: &'static str,
) -> FieldSpec {
    FieldSpec {
        name,
        kind,
        default,
        doc,
    }
}

const NH: FieldSpec = spec(
    "nh",
    FieldKind::UInt(8),
    "auto",
    "next header (the layer above; 59 none)",
);

fn truncated(layer: &'static str, have: usize, want: usize) -> DecodeError {
    DecodeError {
        layer,
        offset: 0,
        msg: format!("truncated: {have} of {want} header bytes"),
    }
}

fn int_of(v: &Option<FieldValue>) -> Option<u64> {
    v.as_ref().and_then(FieldValue::as_int)
}

/// A Hop-by-Hop or Destination Options header: next header, length in
/// 8-byte units after the first 8, options (TLVs, raw).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OptsHdr {
    /// Next header.
    pub nh: Option<u8>,
    /// Length in 8-byte units, not counting the first 8.
    pub len: Option<u8>,
    /// Options as bytes; emitting pads them to the 8-byte boundary.
    pub options: Vec<u8>,
}

impl OptsHdr {
    /// Field table, in wire order.
    pub const FIELDS: &'static [FieldSpec] = &[
        NH,
        spec(
            "len",
            FieldKind::UInt(8),
            "auto",
            "length in 8-byte units after the first 8",
        ),
        spec(
            "options",
            FieldKind::Bytes,
            "\"\"",
            "options (type, length, value), raw; padded with Pad1/PadN",
        ),
    ];

    /// Header length on the wire: options padded to the 8-byte boundary.
    pub fn header_len(&self) -> usize {
        (2 + self.options.len()).div_ceil(8) * 8
    }

    /// Parses the header; `layer` names it in errors.
    pub fn parse(layer: &'static str, b: &[u8]) -> Result<(OptsHdr, usize), DecodeError> {
        let [nh, len, ..] = *b else {
            return Err(truncated(layer, b.len(), 8));
        };
        let total = (usize::from(len) + 1) * 8;
        let Some(options) = b.get(2..total) else {
            return Err(truncated(layer, b.len(), total));
        };
        Ok((
            OptsHdr {
                nh: Some(nh),
                len: Some(len),
                options: options.to_vec(),
            },
            total,
        ))
    }

    /// Appends the header, padding the options (Pad1 for one byte, PadN
    /// otherwise).
    pub fn emit(&self, out: &mut Vec<u8>, next: u8) {
        let total = self.header_len();
        out.push(self.nh.unwrap_or(next));
        out.push(self.len.unwrap_or((total / 8 - 1).min(255) as u8));
        out.extend_from_slice(&self.options);
        match total - 2 - self.options.len() {
            0 => {}
            1 => out.push(0),
            n => {
                out.extend_from_slice(&[1, (n - 2) as u8]);
                out.resize(out.len() + n - 2, 0);
            }
        }
    }

    /// Why the header cannot be built as set; `name` is the layer's.
    pub fn check(&self, name: &str) -> Result<(), String> {
        if self.len.is_none() && self.header_len() > 256 * 8 {
            return Err(format!(
                "{name}.options: {} bytes of options, over the 2,046 a header holds",
                self.options.len()
            ));
        }
        Ok(())
    }

    /// Reads field `i` of [`Self::FIELDS`].
    pub fn slot(&self, i: usize) -> Option<FieldValue> {
        match i {
            0 => self.nh.map(|v| FieldValue::Int(v.into())),
            1 => self.len.map(|v| FieldValue::Int(v.into())),
            2 => Some(FieldValue::Bytes(self.options.clone())),
            _ => None,
        }
    }

    /// Sets (or with `None` unsets) field `i`.
    pub fn put(&mut self, i: usize, v: Option<FieldValue>) {
        match i {
            0 => self.nh = int_of(&v).map(|x| x as u8),
            1 => self.len = int_of(&v).map(|x| x as u8),
            2 => {
                self.options = match v {
                    Some(FieldValue::Bytes(b)) => b,
                    _ => Vec::new(),
                }
            }
            _ => {}
        }
    }
}

/// A Routing header of type 0's layout: next header, length, routing type,
/// segments left, 32 reserved bits, addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Routing {
    /// Next header.
    pub nh: Option<u8>,
    /// Length in 8-byte units after the first 8 (two per address).
    pub len: Option<u8>,
    /// Routing type.
    pub rtype: Option<u8>,
    /// Segments left (the number of addresses unless set).
    pub segleft: Option<u8>,
    /// Reserved.
    pub reserved: Option<u32>,
    /// The addresses still to visit, in order.
    pub addresses: Vec<Ipv6Addr>,
}

impl Routing {
    /// Field table, in wire order.
    pub const FIELDS: &'static [FieldSpec] = &[
        NH,
        spec(
            "len",
            FieldKind::UInt(8),
            "auto",
            "length in 8-byte units after the first 8",
        ),
        spec("type", FieldKind::UInt(8), "0", "routing type"),
        spec(
            "segleft",
            FieldKind::UInt(8),
            "auto",
            "segments left (the number of addresses)",
        ),
        spec("reserved", FieldKind::UInt(32), "0", "reserved"),
        spec(
            "addresses",
            FieldKind::Ipv6List,
            "[]",
            "addresses to visit, the last one the final destination",
        ),
    ];

    /// Parses the header.
    pub fn parse(b: &[u8]) -> Result<(Routing, usize), DecodeError> {
        let Some(fixed) = b.first_chunk::<8>() else {
            return Err(truncated("IPv6ExtHdrRouting", b.len(), 8));
        };
        let total = (usize::from(fixed[1]) + 1) * 8;
        let Some(body) = b.get(8..total) else {
            return Err(truncated("IPv6ExtHdrRouting", b.len(), total));
        };
        if body.len() % 16 != 0 {
            return Err(DecodeError {
                layer: "IPv6ExtHdrRouting",
                offset: 1,
                msg: format!(
                    "length {} holds no whole list of 16-byte addresses",
                    fixed[1]
                ),
            });
        }
        let addresses = body
            .chunks_exact(16)
            .filter_map(|c| <[u8; 16]>::try_from(c).ok().map(Ipv6Addr::from))
            .collect();
        Ok((
            Routing {
                nh: Some(fixed[0]),
                len: Some(fixed[1]),
                rtype: Some(fixed[2]),
                segleft: Some(fixed[3]),
                reserved: Some(u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]])),
                addresses,
            },
            total,
        ))
    }

    /// Appends the header.
    pub fn emit(&self, out: &mut Vec<u8>, next: u8) {
        let n = self.addresses.len();
        out.push(self.nh.unwrap_or(next));
        out.push(self.len.unwrap_or((2 * n).min(255) as u8));
        out.push(self.rtype.unwrap_or(0));
        out.push(self.segleft.unwrap_or(n.min(255) as u8));
        out.extend_from_slice(&self.reserved.unwrap_or(0).to_be_bytes());
        for a in &self.addresses {
            out.extend_from_slice(&a.octets());
        }
    }

    /// Why the header cannot be built as set.
    pub fn check(&self) -> Result<(), String> {
        if self.len.is_none() && self.addresses.len() > 127 {
            return Err(format!(
                "IPv6ExtHdrRouting.addresses: {} addresses, over the 127 a header holds",
                self.addresses.len()
            ));
        }
        Ok(())
    }

    /// Reads field `i` of [`Self::FIELDS`].
    pub fn slot(&self, i: usize) -> Option<FieldValue> {
        let int = |v: Option<u64>| v.map(FieldValue::Int);
        match i {
            0 => int(self.nh.map(u64::from)),
            1 => int(self.len.map(u64::from)),
            2 => int(self.rtype.map(u64::from)),
            3 => int(self.segleft.map(u64::from)),
            4 => int(self.reserved.map(u64::from)),
            5 => Some(FieldValue::Ip6List(self.addresses.clone())),
            _ => None,
        }
    }

    /// Sets (or with `None` unsets) field `i`.
    pub fn put(&mut self, i: usize, v: Option<FieldValue>) {
        let n = int_of(&v);
        match i {
            0 => self.nh = n.map(|x| x as u8),
            1 => self.len = n.map(|x| x as u8),
            2 => self.rtype = n.map(|x| x as u8),
            3 => self.segleft = n.map(|x| x as u8),
            4 => self.reserved = n.map(|x| x as u32),
            5 => {
                self.addresses = match v {
                    Some(FieldValue::Ip6List(a)) => a,
                    _ => Vec::new(),
                }
            }
            _ => {}
        }
    }
}

/// The final destination an emitted routing header `h` names: its last
/// address while segments are left (RFC 8200 8.1: the pseudo header
/// carries it), None when none are.
pub fn final_destination(h: &[u8]) -> Option<Ipv6Addr> {
    if *h.get(3)? == 0 {
        return None;
    }
    let n = (h.len().checked_sub(8)?) / 16;
    let last = h.get(8 + (n.checked_sub(1)?) * 16..8 + n * 16)?;
    <[u8; 16]>::try_from(last).ok().map(Ipv6Addr::from)
}

/// A Fragment header: next header, reserved, offset in 8-byte units, two
/// reserved bits, more-fragments, identification.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fragment {
    /// Next header.
    pub nh: Option<u8>,
    /// Reserved byte.
    pub res1: Option<u8>,
    /// Fragment offset in 8-byte units (13 bits).
    pub offset: Option<u16>,
    /// Reserved bits (2).
    pub res2: Option<u8>,
    /// More fragments follow (1 bit).
    pub m: Option<u8>,
    /// Identification.
    pub id: Option<u32>,
}

impl Fragment {
    /// Header length.
    pub const LEN: usize = 8;

    /// Field table, in wire order.
    pub const FIELDS: &'static [FieldSpec] = &[
        NH,
        spec("res1", FieldKind::UInt(8), "0", "reserved"),
        spec(
            "offset",
            FieldKind::UInt(13),
            "0",
            "fragment offset (8-byte units)",
        ),
        spec("res2", FieldKind::UInt(2), "0", "reserved"),
        spec("m", FieldKind::UInt(1), "0", "more fragments"),
        spec("id", FieldKind::UInt(32), "0", "identification"),
    ];

    /// Parses the header.
    pub fn parse(b: &[u8]) -> Result<(Fragment, usize), DecodeError> {
        let Some(f) = b.first_chunk::<8>() else {
            return Err(truncated("IPv6ExtHdrFragment", b.len(), 8));
        };
        let w = u16::from_be_bytes([f[2], f[3]]);
        Ok((
            Fragment {
                nh: Some(f[0]),
                res1: Some(f[1]),
                offset: Some(w >> 3),
                res2: Some(((w >> 1) & 3) as u8),
                m: Some((w & 1) as u8),
                id: Some(u32::from_be_bytes([f[4], f[5], f[6], f[7]])),
            },
            Self::LEN,
        ))
    }

    /// True when this is not a whole datagram: an offset or more to come.
    pub fn is_fragment(&self) -> bool {
        self.offset.unwrap_or(0) != 0 || self.m.unwrap_or(0) != 0
    }

    /// Appends the header.
    pub fn emit(&self, out: &mut Vec<u8>, next: u8) {
        let w = ((self.offset.unwrap_or(0) & 0x1fff) << 3)
            | (u16::from(self.res2.unwrap_or(0) & 3) << 1)
            | u16::from(self.m.unwrap_or(0) & 1);
        out.push(self.nh.unwrap_or(next));
        out.push(self.res1.unwrap_or(0));
        out.extend_from_slice(&w.to_be_bytes());
        out.extend_from_slice(&self.id.unwrap_or(0).to_be_bytes());
    }

    /// Reads field `i` of [`Self::FIELDS`].
    pub fn slot(&self, i: usize) -> Option<FieldValue> {
        let v: Option<u64> = match i {
            0 => self.nh.map(u64::from),
            1 => self.res1.map(u64::from),
            2 => self.offset.map(u64::from),
            3 => self.res2.map(u64::from),
            4 => self.m.map(u64::from),
            5 => self.id.map(u64::from),
            _ => None,
        };
        v.map(FieldValue::Int)
    }

    /// Sets (or with `None` unsets) field `i`.
    pub fn put(&mut self, i: usize, v: Option<FieldValue>) {
        let n = int_of(&v);
        match i {
            0 => self.nh = n.map(|x| x as u8),
            1 => self.res1 = n.map(|x| x as u8),
            2 => self.offset = n.map(|x| x as u16),
            3 => self.res2 = n.map(|x| x as u8),
            4 => self.m = n.map(|x| x as u8),
            5 => self.id = n.map(|x| x as u32),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_emit_scapys_bytes() {
        // scapy 2.8: bytes(IPv6ExtHdrHopByHop()), bytes(IPv6ExtHdrRouting()),
        // bytes(IPv6ExtHdrFragment()).
        let mut o = Vec::new();
        OptsHdr::default().emit(&mut o, 59);
        assert_eq!(hex::encode(&o), "3b00010400000000");
        let mut r = Vec::new();
        Routing::default().emit(&mut r, 59);
        assert_eq!(hex::encode(&r), "3b00000000000000");
        let mut f = Vec::new();
        Fragment::default().emit(&mut f, 59);
        assert_eq!(hex::encode(&f), "3b00000000000000");
    }

    #[test]
    fn options_pad_with_pad1_or_padn() {
        let mut o = Vec::new();
        let h = OptsHdr {
            options: vec![5, 2, 0, 0, 9],
            ..OptsHdr::default()
        };
        h.emit(&mut o, 6);
        assert_eq!(hex::encode(&o), "0600050200000900");
        let (back, n) = OptsHdr::parse("IPv6ExtHdrHopByHop", &o).unwrap();
        assert_eq!(n, 8);
        let mut again = Vec::new();
        back.emit(&mut again, 0);
        assert_eq!(again, o);
    }

    #[test]
    fn routing_final_destination_is_the_last_address_while_segments_are_left() {
        let a: Ipv6Addr = "::2".parse().unwrap();
        let b: Ipv6Addr = "::3".parse().unwrap();
        let mut out = Vec::new();
        Routing {
            addresses: vec![a, b],
            ..Routing::default()
        }
        .emit(&mut out, 6);
        assert_eq!(out.len(), 40);
        assert_eq!(final_destination(&out), Some(b));
        out[3] = 0;
        assert_eq!(final_destination(&out), None);
        assert_eq!(final_destination(&out[..3]), None);
        let (back, n) = Routing::parse(&out).unwrap();
        assert_eq!((n, back.addresses), (40, vec![a, b]));
        assert!(Routing::parse(&[6, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
    }
}
