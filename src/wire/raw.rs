//! Raw payload bytes.

use super::{FieldKind, FieldSpec, FieldValue};

/// Indices of [`Raw::FIELDS`], for [`Raw::slot`] and [`Raw::put`].
pub mod field {
    /// `load`: the bytes.
    pub const LOAD: usize = 0;
}

/// Payload bytes, or trailing link-layer padding after the IP datagram.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Raw {
    /// The bytes.
    pub load: Vec<u8>,
}

impl Raw {
    /// Field table.
    pub const FIELDS: &'static [FieldSpec] = &{
        let mut t = [FieldSpec::UNSET; 1];
        t[field::LOAD] = FieldSpec {
            name: "load",
            kind: FieldKind::Bytes,
            default: "\"\"",
            doc: "the bytes",
        };
        t
    };

    /// Reads field `i`.
    pub fn slot(&self, i: usize) -> Option<FieldValue> {
        (i == field::LOAD).then(|| FieldValue::Bytes(self.load.clone()))
    }

    /// Sets field `i`.
    pub fn put(&mut self, i: usize, v: Option<FieldValue>) {
        if i == field::LOAD {
            self.load = match v {
                Some(FieldValue::Bytes(b)) => b,
                _ => Vec::new(),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_constants_name_their_fields() {
        assert_eq!(Raw::FIELDS[field::LOAD].name, "load");
        assert_eq!(Raw::FIELDS.len(), 1);
    }
}
