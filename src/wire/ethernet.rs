//! Ethernet II header: dst, src, ethertype.

use super::{DecodeError, FieldKind, FieldSpec, FieldValue, Mac};
use pnet_packet::ethernet::EthernetPacket;

/// Indices of [`Ether::FIELDS`], for [`Ether::slot`] and [`Ether::put`].
pub mod field {
    /// `dst`: destination MAC.
    pub const DST: usize = 0;
    /// `src`: source MAC.
    pub const SRC: usize = 1;
    /// `type`: EtherType.
    pub const TYPE: usize = 2;
}

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
    pub const FIELDS: &'static [FieldSpec] = &{
        let mut t = [FieldSpec::UNSET; 3];
        t[field::DST] = FieldSpec {
            name: "dst",
            kind: FieldKind::Mac,
            default: "00:00:00:00:00:00",
            doc: "destination MAC (all zero on lo)",
        };
        t[field::SRC] = FieldSpec {
            name: "src",
            kind: FieldKind::Mac,
            default: "00:00:00:00:00:00",
            doc: "source MAC (all zero on lo)",
        };
        t[field::TYPE] = FieldSpec {
            name: "type",
            kind: FieldKind::UInt(16),
            default: "auto",
            doc: "EtherType: 0x0800 when IPv4 follows",
        };
        t
    };

    /// Parses the header; returns it and its length.
    #[inline(always)]
    pub fn parse(b: &[u8]) -> Result<(Ether, usize), DecodeError> {
        let truncated = || DecodeError {
            layer: "Ether",
            offset: 0,
            msg: format!("truncated: {} of 14 header bytes", b.len()),
        };
        // Craft's bounds check first: the whole fixed header is there. pnet
        // gets it as a fixed-size array, so its `new` cannot fail and its
        // getters read within it.
        let Some(fixed) = b.first_chunk::<{ Self::LEN }>() else {
            return Err(truncated());
        };
        let Some(e) = EthernetPacket::new(fixed) else {
            return Err(truncated());
        };
        Ok((
            Ether {
                dst: Some(e.get_destination().octets()),
                src: Some(e.get_source().octets()),
                ethertype: Some(e.get_ethertype().0),
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
            field::DST => self.dst.map(FieldValue::Mac),
            field::SRC => self.src.map(FieldValue::Mac),
            field::TYPE => self.ethertype.map(|v| FieldValue::Int(v.into())),
            _ => None,
        }
    }

    /// Sets (or with `None` unsets) field `i`; the value was checked against its kind.
    pub fn put(&mut self, i: usize, v: Option<FieldValue>) {
        match i {
            field::DST => self.dst = v.and_then(mac_of),
            field::SRC => self.src = v.and_then(mac_of),
            field::TYPE => self.ethertype = v.and_then(|v| v.as_int()).map(|x| x as u16),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_constants_name_their_fields() {
        for (i, name) in [
            (field::DST, "dst"),
            (field::SRC, "src"),
            (field::TYPE, "type"),
        ] {
            assert_eq!(Ether::FIELDS[i].name, name);
        }
        assert!(Ether::FIELDS.iter().all(|f| !f.name.is_empty()));
    }
}
