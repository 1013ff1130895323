//! Packet patterns for `expect_packet`: the fields a pattern sets must match,
//! the ones it leaves out match anything (packetdrill's idea, scapy's syntax).
//! How a pattern and its differences read is `render::pattern`'s job.

use crate::wire::{FieldKind, FieldValue, Layer, Packet};

/// One way a candidate differs from a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Difference {
    /// The candidate has no layer of this name (after those matched before).
    MissingLayer(&'static str),
    /// A field the pattern sets holds something else.
    Field {
        /// Layer name ("TCP").
        layer: &'static str,
        /// Field name ("flags").
        field: &'static str,
        /// The field's type, for showing the values.
        kind: FieldKind,
        /// What the pattern wants.
        want: FieldValue,
        /// What the candidate has (None: unset).
        got: Option<FieldValue>,
    },
}

/// Every difference of a candidate from a pattern, in the pattern's order.
pub type Diff = Vec<Difference>;

/// Compares `cand` with `pat`: None when it matches, else what differs.
/// A pattern layer missing from the candidate is reported as such.
pub fn mismatch(pat: &Packet, cand: &Packet) -> Option<Diff> {
    let mut diff = Vec::new();
    let mut from = 0;
    for pl in &pat.layers {
        let kind = pl.kind();
        let Some(i) = cand
            .layers
            .iter()
            .skip(from)
            .position(|l| l.kind() == kind)
            .map(|i| i + from)
        else {
            diff.push(Difference::MissingLayer(kind.name()));
            return Some(diff);
        };
        from = i + 1;
        let cl = &cand.layers[i];
        for (fi, spec) in kind.fields().iter().enumerate() {
            let Some(want) = pl.slot(fi) else { continue };
            // Empty options and payloads in a pattern mean "not given".
            if matches!(&want, FieldValue::Bytes(b) if b.is_empty()) && !matches!(pl, Layer::Raw(_))
            {
                continue;
            }
            let got = cl.slot(fi);
            if got.as_ref() != Some(&want) {
                diff.push(Difference::Field {
                    layer: kind.name(),
                    field: spec.name,
                    kind: spec.kind,
                    want,
                    got,
                });
            }
        }
    }
    (!diff.is_empty()).then_some(diff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Tcp;

    #[test]
    fn unset_fields_match_anything() {
        let pat = Packet::of(Layer::Tcp(Tcp {
            flags: Some(0x12),
            ..Tcp::default()
        }));
        let c = Packet::of(Layer::Tcp(Tcp {
            flags: Some(0x12),
            seq: Some(9),
            sport: Some(1),
            ..Tcp::default()
        }))
        .resolved();
        assert_eq!(mismatch(&pat, &c), None);
        let c2 = Packet::of(Layer::Tcp(Tcp {
            flags: Some(0x14),
            ..Tcp::default()
        }))
        .resolved();
        let d = mismatch(&pat, &c2).unwrap();
        assert_eq!(
            d,
            vec![Difference::Field {
                layer: "TCP",
                field: "flags",
                kind: FieldKind::TcpFlags,
                want: FieldValue::Flags(0x12),
                got: Some(FieldValue::Flags(0x14)),
            }]
        );
        let udp = Packet::of(Layer::Udp(crate::wire::Udp::default()));
        assert_eq!(
            mismatch(&udp, &c),
            Some(vec![Difference::MissingLayer("UDP")])
        );
    }
}
