//! Ethernet II header: dst, src, ethertype.

use super::{DecodeError, FieldKind, FieldSpec, FieldValue, Mac, be16};

/// An Ethernet II header. `None` fields take defaults: on `lo` both addresses
/// are 00:00:00:00:00:00 (a broadcast destination is dropped by TCP there) and
/// the type follows the next layer (0x0800 for IPv4).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ether {
    /// Destination address.
    pub dst: Option<Mac>,
    /// Source address.
    pub src: Option<Mac>,
    /// EtherType.
    pub ethertype: Option<u16>,
}

impl Ether {
    /// Header length.
    pub const LEN: usize = 14;

    /// Field table, in wire order.
    pub const FIELDS: &'static [FieldSpec] = &[
        FieldSpec {
            name: "dst",
            kind: FieldKind::Mac,
            default: "00:00:00:00:00:00",
            doc: "destination MAC (all zero on lo)",
        },
        FieldSpec {
            name: "src",
            kind: FieldKind::Mac,
            default: "00:00:00:00:00:00",
            doc: "source MAC (all zero on lo)",
        },
        FieldSpec {
            name: "type",
            kind: FieldKind::UInt(16),
            default: "auto",
            doc: "EtherType: 0x0800 when IPv4 follows",
        },
    ];

    /// Parses the header; returns it and its length.
    #[inline(always)]
    pub fn parse(b: &[u8]) -> Result<(Ether, usize), DecodeError> {
        if b.len() < Self::LEN {
            return Err(DecodeError {
                layer: "Ether",
                offset: 0,
                msg: format!("truncated: {} of 14 header bytes", b.len()),
            });
        }
        let mut dst = [0u8; 6];
        let mut src = [0u8; 6];
        dst.copy_from_slice(&b[0..6]);
        src.copy_from_slice(&b[6..12]);
        Ok((
            Ether {
                dst: Some(dst),
                src: Some(src),
                ethertype: Some(be16(b, 12)),
            },
            Self::LEN,
        ))
    }

    /// Appends the header; `next_type` is the EtherType implied by the next layer.
    pub fn emit(&self, out: &mut Vec<u8>, next_type: u16) {
        out.extend_from_slice(&self.dst.unwrap_or_default());
        out.extend_from_slice(&self.src.unwrap_or_default());
        out.extend_from_slice(&self.ethertype.unwrap_or(next_type).to_be_bytes());
    }

    /// Reads field `i` of [`Self::FIELDS`].
    pub fn slot(&self, i: usize) -> Option<FieldValue> {
        match i {
            0 => self.dst.map(FieldValue::Mac),
            1 => self.src.map(FieldValue::Mac),
            2 => self.ethertype.map(|v| FieldValue::Int(v.into())),
            _ => None,
        }
    }

    /// Sets (or with `None` unsets) field `i`; the value was checked against its kind.
    pub fn put(&mut self, i: usize, v: Option<FieldValue>) {
        match i {
            0 => self.dst = v.and_then(mac_of),
            1 => self.src = v.and_then(mac_of),
            2 => self.ethertype = v.and_then(|v| v.as_int()).map(|x| x as u16),
            _ => {}
        }
    }
}

fn mac_of(v: FieldValue) -> Option<Mac> {
    match v {
        FieldValue::Mac(m) => Some(m),
        _ => None,
    }
}
