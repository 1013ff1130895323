//! Packet sets: a packet whose fields were given several values
//! (`TCP(dport=[22, 80, 443])`, `IP(ttl=(1, 5))`, `dport=range(2000, 2010)`)
//! stands for the product over every such field, in order (the first set
//! field varies slowest, the last fastest). Kept as a base packet and the
//! value lists, never expanded until asked for one packet.

use super::burst::Vary;
use crate::wire::{FieldValue, Packet};
use std::rc::Rc;

/// The most packets a set may hold: more is an error, not a hang.
pub const MAX_SET: u64 = 1_000_000;

/// One field given several values.
#[derive(Clone, Debug, PartialEq)]
pub struct SetField {
    /// Index of its layer in the base packet.
    pub layer: usize,
    /// Index of the field in its layer's table.
    pub field: usize,
    /// Its values, in order.
    pub values: Rc<[FieldValue]>,
}

/// A set of packets: `base` with each of `fields` taking each of its values.
#[derive(Clone, Debug, PartialEq)]
pub struct PacketSet {
    /// The packet, set fields holding their first value.
    pub base: Packet,
    /// The fields that take several values, outermost first.
    pub fields: Vec<SetField>,
}

impl PacketSet {
    /// How many packets the set holds.
    pub fn len(&self) -> u64 {
        self.fields
            .iter()
            .fold(1u64, |n, f| n.saturating_mul(f.values.len() as u64))
    }

    /// True when some field has no values (`dport=[]`).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Packet `i` of the set (0-based, `i < len()`).
    pub fn get(&self, i: u64) -> Packet {
        let mut pkt = self.base.clone();
        let mut rest = i;
        for f in self.fields.iter().rev() {
            let n = f.values.len() as u64;
            if n == 0 {
                break;
            }
            let v = f.values[(rest % n) as usize].clone();
            rest /= n;
            if let Some(l) = pkt.layers.get_mut(f.layer) {
                l.put(f.field, Some(v));
            }
        }
        pkt
    }

    /// Every packet, in order.
    pub fn iter(&self) -> impl Iterator<Item = Packet> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// The set's fields as the burst sender varies them: `send(set)` is one
    /// burst of `len()` frames, each built with packet i's values.
    pub fn varies(&self) -> Vec<Vary> {
        let mut period = 1u64;
        let mut out = Vec::with_capacity(self.fields.len());
        for f in self.fields.iter().rev() {
            out.push(Vary::values(f.layer, f.field, f.values.clone(), period));
            period = period.saturating_mul(f.values.len() as u64);
        }
        out
    }

    /// `a / b` where either side may be a set: b's set fields move up by a's
    /// layer count. Errors when the product passes [`MAX_SET`].
    pub fn stack(mut a: PacketSet, b: PacketSet) -> Result<PacketSet, String> {
        let shift = a.base.layers.len();
        a.base.layers.extend(b.base.layers);
        a.fields.extend(b.fields.into_iter().map(|mut f| {
            f.layer += shift;
            f
        }));
        a.checked()
    }

    /// The set, or an error when it holds more than [`MAX_SET`] packets.
    pub fn checked(self) -> Result<PacketSet, String> {
        let n = self.len();
        if n > MAX_SET {
            return Err(format!(
                "this set holds {n} packets, over the limit of {MAX_SET} (give fewer values)"
            ));
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Layer, LayerKind, tcp};

    fn set() -> PacketSet {
        PacketSet {
            base: Packet {
                layers: vec![Layer::new(LayerKind::Ip), Layer::new(LayerKind::Tcp)],
            },
            fields: vec![
                SetField {
                    layer: 0,
                    field: crate::wire::ipv4::field::TTL,
                    values: vec![FieldValue::Int(1), FieldValue::Int(2)].into(),
                },
                SetField {
                    layer: 1,
                    field: tcp::field::DPORT,
                    values: vec![
                        FieldValue::Int(22),
                        FieldValue::Int(80),
                        FieldValue::Int(443),
                    ]
                    .into(),
                },
            ],
        }
    }

    #[test]
    fn the_product_goes_in_order_last_field_fastest() {
        let s = set();
        assert_eq!(s.len(), 6);
        let got: Vec<(u8, u16)> = s
            .iter()
            .map(|p| {
                (
                    p.ip().unwrap().ttl.unwrap(),
                    p.tcp().unwrap().dport.unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [(1, 22), (1, 80), (1, 443), (2, 22), (2, 80), (2, 443)]
        );
    }

    #[test]
    fn the_burst_builds_the_same_packets() {
        let s = set();
        let varies = s.varies();
        for i in 0..s.len() {
            let mut p = s.base.clone();
            for v in &varies {
                v.apply(&mut p, i);
            }
            assert_eq!(p, s.get(i), "packet {i}");
        }
    }

    #[test]
    fn too_big_a_product_is_an_error() {
        let big: Rc<[FieldValue]> = (0..1001).map(FieldValue::Int).collect::<Vec<_>>().into();
        let mut s = set();
        s.fields[0].values = big.clone();
        s.fields[1].values = big;
        assert!(s.checked().unwrap_err().contains("1002001 packets"));
    }
}
