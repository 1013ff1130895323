//! Raw payload bytes.

use super::{FieldKind, FieldSpec, FieldValue};

/// Payload bytes, or trailing link-layer padding after the IP datagram.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Raw {
    /// The bytes.
    pub load: Vec<u8>,
}

impl Raw {
    /// Field table.
    pub const FIELDS: &'static [FieldSpec] = &[FieldSpec {
        name: "load",
        kind: FieldKind::Bytes,
        default: "\"\"",
        doc: "the bytes",
    }];

    /// Reads field `i`.
    pub fn slot(&self, i: usize) -> Option<FieldValue> {
        (i == 0).then(|| FieldValue::Bytes(self.load.clone()))
    }

    /// Sets field `i`.
    pub fn put(&mut self, i: usize, v: Option<FieldValue>) {
        if i == 0 {
            self.load = match v {
                Some(FieldValue::Bytes(b)) => b,
                _ => Vec::new(),
            };
        }
    }
}
