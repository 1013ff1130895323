//! 802.1Q VLAN tag, scapy's `Dot1Q`: prio, dei, vlan, type. Its type
//! follows the layer above, as Ether's does.

use super::{DecodeError, FieldKind, FieldSpec, FieldValue};

/// An 802.1Q tag. Defaults: prio 0, dei 0, vlan 1 (scapy's), type from the
/// layer above.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dot1q {
    /// Priority code point (3 bits).
    pub prio: Option<u8>,
    /// Drop eligible indicator (1 bit; scapy's `dei`, once `id`).
    pub dei: Option<u8>,
    /// VLAN identifier (12 bits).
    pub vlan: Option<u16>,
    /// EtherType of what follows.
    pub ethertype: Option<u16>,
}

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

impl Dot1q {
    /// Tag length (after the outer EtherType 0x8100).
    pub const LEN: usize = 4;

    /// Field table, in wire order.
    pub const FIELDS: &'static [FieldSpec] = &[
        spec("prio", FieldKind::UInt(3), "0", "priority code point"),
        spec(
            "dei",
            FieldKind::UInt(1),
            "0",
            "drop eligible indicator (also `id`, scapy's older name)",
        ),
        spec("vlan", FieldKind::UInt(12), "1", "VLAN identifier"),
        spec(
            "type",
            FieldKind::UInt(16),
            "auto",
            "EtherType of what follows (0x0800 IPv4, 0x86dd IPv6, 0x0806 ARP)",
        ),
    ];

    /// Parses the tag.
    pub fn parse(b: &[u8]) -> Result<(Dot1q, usize), DecodeError> {
        let Some(f) = b.first_chunk::<{ Self::LEN }>() else {
            return Err(DecodeError {
                layer: "Dot1Q",
                offset: 0,
                msg: format!("truncated: {} of 4 bytes", b.len()),
            });
        };
        let tci = u16::from_be_bytes([f[0], f[1]]);
        Ok((
            Dot1q {
                prio: Some((tci >> 13) as u8),
                dei: Some(((tci >> 12) & 1) as u8),
                vlan: Some(tci & 0xfff),
                ethertype: Some(u16::from_be_bytes([f[2], f[3]])),
            },
            Self::LEN,
        ))
    }

    /// Appends the tag; `next_type` is the EtherType implied by the next layer.
    pub fn emit(&self, out: &mut Vec<u8>, next_type: u16) {
        let tci = (u16::from(self.prio.unwrap_or(0) & 7) << 13)
            | (u16::from(self.dei.unwrap_or(0) & 1) << 12)
            | (self.vlan.unwrap_or(1) & 0xfff);
        out.extend_from_slice(&tci.to_be_bytes());
        out.extend_from_slice(&self.ethertype.unwrap_or(next_type).to_be_bytes());
    }

    /// Reads field `i` of [`Self::FIELDS`].
    pub fn slot(&self, i: usize) -> Option<FieldValue> {
        let v: Option<u64> = match i {
            0 => self.prio.map(u64::from),
            1 => self.dei.map(u64::from),
            2 => self.vlan.map(u64::from),
            3 => self.ethertype.map(u64::from),
            _ => None,
        };
        v.map(FieldValue::Int)
    }

    /// Sets (or with `None` unsets) field `i`.
    pub fn put(&mut self, i: usize, v: Option<FieldValue>) {
        let n = v.as_ref().and_then(FieldValue::as_int);
        match i {
            0 => self.prio = n.map(|x| x as u8),
            1 => self.dei = n.map(|x| x as u8),
            2 => self.vlan = n.map(|x| x as u16),
            3 => self.ethertype = n.map(|x| x as u16),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tci_packs_as_scapy_does() {
        // scapy 2.8: bytes(Dot1Q(prio=5, dei=1, vlan=100, type=0x86dd)).
        let d = Dot1q {
            prio: Some(5),
            dei: Some(1),
            vlan: Some(100),
            ethertype: None,
        };
        let mut out = Vec::new();
        d.emit(&mut out, 0x86dd);
        assert_eq!(hex::encode(&out), "b06486dd");
        let (back, _) = Dot1q::parse(&out).unwrap();
        assert_eq!(
            (back.prio, back.dei, back.vlan),
            (Some(5), Some(1), Some(100))
        );
    }
}
