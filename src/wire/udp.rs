//! UDP header.

use super::checksum;
use super::{DecodeError, FieldKind, FieldSpec, FieldValue, be16, put16};
use std::net::Ipv4Addr;

/// A UDP header. `len` and `chksum` are computed unless set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Udp {
    /// Source port.
    pub sport: Option<u16>,
    /// Destination port.
    pub dport: Option<u16>,
    /// Length of header and data.
    pub len: Option<u16>,
    /// Checksum (0 = none; a computed 0 is sent as 0xffff).
    pub chksum: Option<u16>,
}

impl Udp {
    /// Header length.
    pub const LEN: usize = 8;

    /// Field table, in wire order.
    pub const FIELDS: &'static [FieldSpec] = &[
        FieldSpec {
            name: "sport",
            kind: FieldKind::UInt(16),
            default: "53",
            doc: "source port",
        },
        FieldSpec {
            name: "dport",
            kind: FieldKind::UInt(16),
            default: "53",
            doc: "destination port",
        },
        FieldSpec {
            name: "len",
            kind: FieldKind::UInt(16),
            default: "auto",
            doc: "length of header and data",
        },
        FieldSpec {
            name: "chksum",
            kind: FieldKind::UInt(16),
            default: "auto",
            doc: "checksum (0 means none)",
        },
    ];

    /// Parses the header.
    #[inline(always)]
    pub fn parse(b: &[u8]) -> Result<(Udp, usize), DecodeError> {
        if b.len() < Self::LEN {
            return Err(DecodeError {
                layer: "UDP",
                offset: 0,
                msg: format!("truncated: {} of 8 header bytes", b.len()),
            });
        }
        Ok((
            Udp {
                sport: Some(be16(b, 0)),
                dport: Some(be16(b, 2)),
                len: Some(be16(b, 4)),
                chksum: Some(be16(b, 6)),
            },
            Self::LEN,
        ))
    }

    /// Appends the header with provisional length and checksum.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.sport.unwrap_or(53).to_be_bytes());
        out.extend_from_slice(&self.dport.unwrap_or(53).to_be_bytes());
        out.extend_from_slice(&self.len.unwrap_or(0).to_be_bytes());
        out.extend_from_slice(&self.chksum.unwrap_or(0).to_be_bytes());
    }

    /// Fills in length and checksum over `seg` (header to end of datagram).
    pub fn finalize(&self, seg: &mut [u8], addrs: Option<(Ipv4Addr, Ipv4Addr)>) {
        if self.len.is_none() {
            put16(seg, 4, seg.len().min(0xffff) as u16);
        }
        if self.chksum.is_none() {
            let (s, d) = addrs.unwrap_or((super::ipv4::DEFAULT_ADDR, super::ipv4::DEFAULT_ADDR));
            put16(seg, 6, 0);
            let c = checksum::transport_checksum(s, d, 17, seg);
            put16(seg, 6, if c == 0 { 0xffff } else { c });
        }
    }

    /// Reads field `i` of [`Self::FIELDS`].
    pub fn slot(&self, i: usize) -> Option<FieldValue> {
        [self.sport, self.dport, self.len, self.chksum]
            .get(i)
            .copied()
            .flatten()
            .map(|v| FieldValue::Int(v.into()))
    }

    /// Sets (or with `None` unsets) field `i`.
    pub fn put(&mut self, i: usize, v: Option<FieldValue>) {
        let n = v.as_ref().and_then(FieldValue::as_int).map(|x| x as u16);
        match i {
            0 => self.sport = n,
            1 => self.dport = n,
            2 => self.len = n,
            3 => self.chksum = n,
            _ => {}
        }
    }
}
