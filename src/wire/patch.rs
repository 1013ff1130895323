//! A field written straight into an emitted frame, its checksums updated
//! incrementally (RFC 1624: HC' = ~(~HC + ~m + m')), instead of the whole
//! packet emitted again: the burst sender's path for `--vary` fields that
//! have a fixed place in their header.

use super::checksum;
use super::stack::Span;
use super::{FieldValue, Layer, LayerKind, Packet};

/// Fields with a fixed place: (layer, field name, offset in the header,
/// width in bytes, in the pseudo header of the transport checksum).
const FIXED: &[(LayerKind, &str, u8, u8, bool)] = &[
    (LayerKind::Ip, "tos", 1, 1, false),
    (LayerKind::Ip, "id", 4, 2, false),
    (LayerKind::Ip, "ttl", 8, 1, false),
    (LayerKind::Ip, "src", 12, 4, true),
    (LayerKind::Ip, "dst", 16, 4, true),
    (LayerKind::Ipv6, "hlim", 7, 1, false),
    (LayerKind::Tcp, "sport", 0, 2, false),
    (LayerKind::Tcp, "dport", 2, 2, false),
    (LayerKind::Tcp, "seq", 4, 4, false),
    (LayerKind::Tcp, "ack", 8, 4, false),
    (LayerKind::Tcp, "window", 14, 2, false),
    (LayerKind::Tcp, "urgptr", 18, 2, false),
    (LayerKind::Udp, "sport", 0, 2, false),
    (LayerKind::Udp, "dport", 2, 2, false),
];

/// A checksum to keep right: its place in the frame, and whether a result
/// of 0 is sent as 0xffff (UDP).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Sum {
    at: usize,
    udp: bool,
}

/// Where one field goes in a frame, and which checksums cover it.
#[derive(Clone, Debug, PartialEq)]
pub struct Patch {
    /// First byte of the field's header in the frame.
    header: usize,
    /// The field's offset in its header.
    offset: usize,
    width: usize,
    sums: Vec<Sum>,
}

impl Patch {
    /// How to write field `field` of layer `layer` into `pkt`'s frame, whose
    /// layers lie at `spans` (from `Packet::emit_with_spans`). None when the
    /// field has no fixed place or a checksum over it was set by hand.
    pub fn new(pkt: &Packet, spans: &[Span], layer: usize, field: usize) -> Option<Patch> {
        let l = pkt.layers.get(layer)?;
        let kind = l.kind();
        let name = kind.fields().get(field)?.name;
        let &(_, _, offset, width, pseudo) =
            FIXED.iter().find(|(k, n, ..)| *k == kind && *n == name)?;
        let span = spans.get(layer)?;
        let (offset, width) = (usize::from(offset), usize::from(width));
        if span.start + offset + width > span.header_end {
            return None;
        }
        // The transport checksum of the layer at `i`, unless set by hand.
        let transport = |i: usize| -> Option<Sum> {
            let at = spans.get(i)?.start;
            match pkt.layers.get(i)? {
                Layer::Tcp(t) if t.chksum.is_none() => Some(Sum {
                    at: at + 16,
                    udp: false,
                }),
                Layer::Udp(u) if u.chksum.is_none() => Some(Sum {
                    at: at + 6,
                    udp: true,
                }),
                _ => None,
            }
        };
        let mut sums = Vec::new();
        match l {
            Layer::Ip(ip) => {
                ip.chksum.is_none().then_some(())?;
                sums.push(Sum {
                    at: span.start + 10,
                    udp: false,
                });
                // With options (a source route) the pseudo header may not
                // carry this header's addresses.
                if pseudo && !ip.options.is_empty() {
                    return None;
                }
                if pseudo {
                    match pkt.layers.get(layer + 1) {
                        Some(Layer::Icmp(_)) | None => {}
                        _ => sums.push(transport(layer + 1)?),
                    }
                }
            }
            Layer::Ipv6(_) => {}
            Layer::Tcp(_) | Layer::Udp(_) => sums.push(transport(layer)?),
            _ => return None,
        }
        Some(Patch {
            header: span.start,
            offset,
            width,
            sums,
        })
    }

    /// The value as the field's bytes would hold it, if it fits.
    pub fn value(&self, v: &FieldValue) -> Option<u64> {
        let n = match v {
            FieldValue::Int(n) => *n,
            FieldValue::Ip(a) => u64::from(u32::from(*a)),
            _ => return None,
        };
        (self.width >= 8 || n >> (8 * self.width) == 0).then_some(n)
    }

    /// Writes `value` (big-endian, the field's width) into `frame` and
    /// brings the checksums over it up to date.
    pub fn write(&self, frame: &mut [u8], value: u64) {
        let at = self.header + self.offset;
        // The 16-bit words the field touches, paired from its header's start.
        let first = self.offset & !1;
        let last = (self.offset + self.width + 1) & !1;
        if self.header + last > frame.len() {
            return;
        }
        let words = self.header + first..self.header + last;
        let old = checksum::sum(0, &frame[words.clone()]);
        let bytes = value.to_be_bytes();
        frame[at..at + self.width].copy_from_slice(&bytes[8 - self.width..]);
        let new = checksum::sum(0, &frame[words]);
        for s in &self.sums {
            let Some(c) = frame.get(s.at..s.at + 2) else {
                continue;
            };
            let hc = u16::from_be_bytes([c[0], c[1]]);
            // ~HC + ~m + m': ~m summed over k words is k*0xffff - m (at
            // most three words, so no overflow).
            let k = ((last - first) / 2) as u32;
            let mut out = !checksum::fold(u32::from(!hc) + (k * 0xffff - old) + new);
            if s.udp && out == 0 {
                out = 0xffff;
            }
            frame[s.at..s.at + 2].copy_from_slice(&out.to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Ipv4, Tcp, Udp};
    use proptest::prelude::*;

    fn syn() -> Packet {
        Packet::ether_ip_tcp(
            Ipv4 {
                dst: Some("127.0.0.1".parse().unwrap()),
                ..Ipv4::default()
            },
            Tcp {
                sport: Some(40000),
                dport: Some(9),
                flags: Some(2),
                ..Tcp::default()
            },
            b"",
        )
    }

    /// The frame patched in `field` equals the packet emitted with it set.
    fn agrees(mut pkt: Packet, kind: LayerKind, field: &str, value: FieldValue) {
        let layer = pkt.find(kind).unwrap();
        let index = kind.field_index(field).unwrap();
        let mut frame = Vec::new();
        let spans = pkt.emit_with_spans(&mut frame);
        let patch = Patch::new(&pkt, &spans, layer, index).expect("patchable");
        let n = patch.value(&value).expect("fits");
        patch.write(&mut frame, n);
        pkt.layers[layer].put(index, Some(value));
        assert_eq!(frame, pkt.emit(), "{}.{field}", kind.name());
    }

    #[test]
    fn every_fixed_field_agrees_with_emitting_the_packet_again() {
        for &(kind, field, _, width, _) in FIXED {
            let pkt = match kind {
                LayerKind::Udp => {
                    let mut p = syn();
                    p.layers[2] = Layer::Udp(Udp::default());
                    p
                }
                LayerKind::Ipv6 => {
                    let mut p = syn();
                    p.layers[1] = Layer::Ipv6(crate::wire::Ipv6::default());
                    p
                }
                _ => syn(),
            };
            for v in [0u64, 1, 0x1234, (1u64 << (8 * width)) - 1] {
                let v = v & ((1u64 << (8 * width)) - 1);
                let value = if field == "src" || field == "dst" {
                    FieldValue::Ip(std::net::Ipv4Addr::from(v as u32))
                } else {
                    FieldValue::Int(v)
                };
                agrees(pkt.clone(), kind, field, value);
            }
        }
    }

    #[test]
    fn a_checksum_set_by_hand_or_a_field_without_a_fixed_place_is_not_patched() {
        let mut pkt = syn();
        if let Layer::Tcp(t) = &mut pkt.layers[2] {
            t.chksum = Some(0x1234);
        }
        let mut frame = Vec::new();
        let spans = pkt.emit_with_spans(&mut frame);
        let seq = LayerKind::Tcp.field_index("seq").unwrap();
        assert_eq!(Patch::new(&pkt, &spans, 2, seq), None);
        let opts = LayerKind::Tcp.field_index("options").unwrap();
        assert_eq!(Patch::new(&syn(), &spans, 2, opts), None);
        // The IP address is in the TCP pseudo header, whose sum is fixed.
        let dst = LayerKind::Ip.field_index("dst").unwrap();
        assert_eq!(Patch::new(&pkt, &spans, 1, dst), None);
        let big = Patch::new(
            &syn(),
            &spans,
            2,
            LayerKind::Tcp.field_index("sport").unwrap(),
        );
        assert_eq!(big.unwrap().value(&FieldValue::Int(70000)), None);
    }

    proptest! {
        #[test]
        fn patched_frames_equal_emitted_ones(
            seq in any::<u32>(), ack in any::<u32>(), sport in any::<u16>(),
            ttl in any::<u8>(), id in any::<u16>(), dst in any::<u32>(),
            payload in proptest::collection::vec(any::<u8>(), 0..40),
            field in 0usize..6, value in any::<u32>(),
        ) {
            let mut pkt = Packet::ether_ip_tcp(
                Ipv4 { ttl: Some(ttl), id: Some(id), dst: Some(dst.into()), ..Ipv4::default() },
                Tcp { seq: Some(seq), ack: Some(ack), sport: Some(sport), ..Tcp::default() },
                &payload,
            );
            let (kind, name) = [
                (LayerKind::Tcp, "seq"), (LayerKind::Tcp, "ack"), (LayerKind::Tcp, "dport"),
                (LayerKind::Ip, "ttl"), (LayerKind::Ip, "id"), (LayerKind::Ip, "src"),
            ][field];
            let v = match name {
                "ttl" => FieldValue::Int(u64::from(value as u8)),
                "id" | "dport" => FieldValue::Int(u64::from(value as u16)),
                "src" => FieldValue::Ip(value.into()),
                _ => FieldValue::Int(u64::from(value)),
            };
            let layer = pkt.find(kind).unwrap();
            let index = kind.field_index(name).unwrap();
            let mut frame = Vec::new();
            let spans = pkt.emit_with_spans(&mut frame);
            let patch = Patch::new(&pkt, &spans, layer, index).unwrap();
            patch.write(&mut frame, patch.value(&v).unwrap());
            pkt.layers[layer].put(index, Some(v));
            prop_assert_eq!(frame, pkt.emit());
        }
    }
}
