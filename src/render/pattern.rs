//! How `expect_packet` patterns and their differences read: fields as a
//! pattern writes them, flags as their letters.

use super::field_str;
use crate::session::pattern::Difference;
use crate::wire::{FieldKind, FieldValue, Packet, ip_flags_str, tcp_flags_str};

/// A field value as a pattern writes it: flags as their letters.
fn short(kind: FieldKind, v: &FieldValue) -> String {
    match (kind, v) {
        (FieldKind::TcpFlags, FieldValue::Flags(b)) => format!("\"{}\"", tcp_flags_str(*b)),
        (FieldKind::IpFlags, FieldValue::Flags(b)) => format!("\"{}\"", ip_flags_str(*b)),
        _ => field_str(kind, v),
    }
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

/// A difference as (layer, field, expected, got): `("TCP", "flags", "\"SA\"",
/// "\"RA\"")`; a missing layer has no field, expected "present", got "missing".
pub fn difference(d: &Difference) -> (&'static str, &'static str, String, String) {
    match d {
        Difference::MissingLayer(layer) => (layer, "", "present".into(), "missing".into()),
        Difference::Field {
            layer,
            field,
            kind,
            want,
            got,
        } => (
            layer,
            field,
            short(*kind, want),
            got.as_ref()
                .map_or("unset".to_string(), |g| short(*kind, g)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::pattern::mismatch;
    use crate::wire::{Layer, Tcp};

    #[test]
    fn patterns_and_differences_read_as_written() {
        let pat = Packet::of(Layer::Tcp(Tcp {
            flags: Some(0x12),
            ..Tcp::default()
        }));
        let c2 = Packet::of(Layer::Tcp(Tcp {
            flags: Some(0x14),
            ..Tcp::default()
        }))
        .resolved();
        let d = mismatch(&pat, &c2).unwrap();
        let d: Vec<_> = d.iter().map(difference).collect();
        assert_eq!(
            d,
            vec![("TCP", "flags", "\"SA\"".to_string(), "\"RA\"".to_string())]
        );
        assert_eq!(describe(&pat), "TCP(flags=\"SA\")");
        let missing = difference(&Difference::MissingLayer("UDP"));
        assert_eq!(missing, ("UDP", "", "present".into(), "missing".into()));
    }
}
