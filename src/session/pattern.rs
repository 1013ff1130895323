//! Packet patterns for `expect_packet`: the fields a pattern sets must match,
//! the ones it leaves out match anything (packetdrill's idea, scapy's syntax).

use crate::render::field_str;
use crate::wire::{FieldKind, FieldValue, Layer, Packet, ip_flags_str, tcp_flags_str};

/// A field value as a pattern writes it: flags as their letters.
fn short(kind: FieldKind, v: &FieldValue) -> String {
    match (kind, v) {
        (FieldKind::TcpFlags, FieldValue::Flags(b)) => format!("\"{}\"", tcp_flags_str(*b)),
        (FieldKind::IpFlags, FieldValue::Flags(b)) => format!("\"{}\"", ip_flags_str(*b)),
        _ => field_str(kind, v),
    }
}

/// Per field of the pattern: (layer name, field name, expected, actual).
pub type Diff = Vec<(&'static str, &'static str, String, String)>;

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
            diff.push((kind.name(), "", "present".into(), "missing".into()));
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
                let g = got.map_or("unset".to_string(), |g| short(spec.kind, &g));
                diff.push((kind.name(), spec.name, short(spec.kind, &want), g));
            }
        }
    }
    (!diff.is_empty()).then_some(diff)
}

/// The pattern as written: `TCP(flags="SA", dport=40000)`.
pub fn describe(pat: &Packet) -> String {
    let parts: Vec<String> = pat
        .layers
        .iter()
        .map(|l| {
            let k = l.kind();
            let fields: Vec<String> = k
                .fields()
                .iter()
                .enumerate()
                .filter_map(|(i, f)| {
                    let v = l.slot(i)?;
                    if matches!(&v, FieldValue::Bytes(b) if b.is_empty()) {
                        return None;
                    }
                    Some(format!("{}={}", f.name, short(f.kind, &v)))
                })
                .collect();
            format!("{}({})", k.name(), fields.join(", "))
        })
        .collect();
    parts.join("/")
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
            vec![("TCP", "flags", "\"SA\"".to_string(), "\"RA\"".to_string())]
        );
        assert_eq!(describe(&pat), "TCP(flags=\"SA\")");
    }
}
