//! Headers of a fixed layout described by a table: each field an integer of
//! up to 32 bits at a bit offset, an IPv6 or MAC address at a byte offset, or
//! the bytes after the fixed part. The ICMPv6 messages and the neighbour
//! discovery options are such tables ([`super::icmp6`]); one reader and one
//! writer serve them all.

use super::{FieldKind, FieldSpec, FieldValue, Mac};
use std::net::Ipv6Addr;

/// Where a field lives.
#[derive(Clone, Copy, Debug)]
pub enum Part {
    /// An integer of `bits` (at most 32) starting `bit` bits into the
    /// header, big-endian; `default` None when it is computed.
    Int {
        /// Bit offset from the header's first byte.
        bit: u16,
        /// Width in bits.
        bits: u8,
        /// Value when unset (None: computed).
        default: Option<u32>,
    },
    /// An IPv6 address at a byte offset (`::` when unset).
    Addr6(u8),
    /// A MAC address at a byte offset (00:00:00:00:00:00 when unset).
    Mac(u8),
    /// The bytes after the fixed part.
    Data,
}

/// A header's layout: its fixed length, its fields as the language names
/// them, and where each one lives (the two tables in the same order).
#[derive(Debug)]
pub struct Layout {
    /// Constructor name.
    pub name: &'static str,
    /// Bytes of the fixed part.
    pub len: usize,
    /// The fields.
    pub fields: &'static [FieldSpec],
    /// Where each field lives.
    pub parts: &'static [Part],
}

/// A field spec, for the layout tables.
pub const fn spec(
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

/// An integer part.
pub const fn int(bit: u16, bits: u8, default: u32) -> Part {
    Part::Int {
        bit,
        bits,
        default: Some(default),
    }
}

/// A computed integer part.
pub const fn auto(bit: u16, bits: u8) -> Part {
    Part::Int {
        bit,
        bits,
        default: None,
    }
}

fn mask(bits: u8) -> u64 {
    (1u64 << bits.min(32)) - 1
}

/// Reads `bits` (at most 32) bits at bit offset `bit` of `b` (bytes past the
/// end read as zero).
pub fn get_bits(b: &[u8], bit: u16, bits: u8) -> u32 {
    let start = usize::from(bit / 8);
    let mut w = 0u64;
    for i in 0..8 {
        w = (w << 8) | u64::from(b.get(start + i).copied().unwrap_or(0));
    }
    let shift = 64 - u32::from(bit % 8) - u32::from(bits.min(32));
    ((w >> shift) & mask(bits)) as u32
}

/// Writes `v` into `bits` (at most 32) bits at bit offset `bit` of `b`
/// (bytes past the end are left out).
pub fn put_bits(b: &mut [u8], bit: u16, bits: u8, v: u32) {
    let start = usize::from(bit / 8);
    let shift = 64 - u32::from(bit % 8) - u32::from(bits.min(32));
    let m = mask(bits) << shift;
    let v = (u64::from(v) << shift) & m;
    for i in 0..8 {
        if let Some(byte) = b.get_mut(start + i) {
            let s = 56 - 8 * i as u32;
            *byte = (*byte & !((m >> s) as u8)) | ((v >> s) as u8);
        }
    }
}

impl Layout {
    /// The fields after parsing `b` (at least [`Layout::len`] bytes; the
    /// data part takes the rest), every one set.
    pub fn parse(&self, b: &[u8]) -> Vec<Option<FieldValue>> {
        self.parts
            .iter()
            .map(|p| {
                Some(match *p {
                    Part::Int { bit, bits, .. } => FieldValue::Int(get_bits(b, bit, bits).into()),
                    Part::Addr6(at) => FieldValue::Ip6(addr6(b, at.into())),
                    Part::Mac(at) => FieldValue::Mac(mac(b, at.into())),
                    Part::Data => FieldValue::Bytes(b.get(self.len..).unwrap_or_default().to_vec()),
                })
            })
            .collect()
    }

    /// Appends the header: each field as set, or its default (computed
    /// ones as zero, for the caller to fill in).
    pub fn emit(&self, vals: &[Option<FieldValue>], out: &mut Vec<u8>) {
        let start = out.len();
        out.resize(start + self.len, 0);
        let mut data: &[u8] = &[];
        for (i, p) in self.parts.iter().enumerate() {
            let v = vals.get(i).and_then(Option::as_ref);
            let fixed = &mut out[start..];
            match *p {
                Part::Int { bit, bits, default } => {
                    let n = v
                        .and_then(FieldValue::as_int)
                        .map_or(default.unwrap_or(0), |x| x as u32);
                    put_bits(fixed, bit, bits, n);
                }
                Part::Addr6(at) => {
                    if let Some(FieldValue::Ip6(a)) = v {
                        put(fixed, at.into(), &a.octets());
                    }
                }
                Part::Mac(at) => {
                    if let Some(FieldValue::Mac(m)) = v {
                        put(fixed, at.into(), m);
                    }
                }
                Part::Data => {
                    if let Some(FieldValue::Bytes(b)) = v {
                        data = b;
                    }
                }
            }
        }
        out.extend_from_slice(data);
    }

    /// Field `i`'s value as set, or its default (None for computed ones).
    pub fn value(&self, vals: &[Option<FieldValue>], i: usize) -> Option<FieldValue> {
        if let Some(Some(v)) = vals.get(i) {
            return Some(v.clone());
        }
        Some(match *self.parts.get(i)? {
            Part::Int { default, .. } => FieldValue::Int(default?.into()),
            Part::Addr6(_) => FieldValue::Ip6(Ipv6Addr::UNSPECIFIED),
            Part::Mac(_) => FieldValue::Mac([0; 6]),
            Part::Data => FieldValue::Bytes(Vec::new()),
        })
    }

    /// Integer field `i` as set or defaulted (0 for computed or other fields).
    pub fn int(&self, vals: &[Option<FieldValue>], i: usize) -> u64 {
        self.value(vals, i).and_then(|v| v.as_int()).unwrap_or(0)
    }

    /// The index of the field called `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// Whether the tables agree: as many parts as fields, each part's kind
    /// the field's, and every part within the fixed length. For tests.
    pub fn check(&self) -> Result<(), String> {
        if self.fields.len() != self.parts.len() {
            return Err(format!("{}: fields and parts differ in number", self.name));
        }
        for (f, p) in self.fields.iter().zip(self.parts) {
            let ok = match *p {
                Part::Int { bit, bits, default } => {
                    f.kind == FieldKind::UInt(bits)
                        && bits <= 32
                        && usize::from(bit) + usize::from(bits) <= self.len * 8
                        && (f.default == "auto") == default.is_none()
                }
                Part::Addr6(at) => f.kind == FieldKind::Ipv6 && usize::from(at) + 16 <= self.len,
                Part::Mac(at) => f.kind == FieldKind::Mac && usize::from(at) + 6 <= self.len,
                Part::Data => f.kind == FieldKind::Bytes,
            };
            if !ok {
                return Err(format!("{}.{}: its part does not fit", self.name, f.name));
            }
        }
        Ok(())
    }
}

fn put(b: &mut [u8], at: usize, v: &[u8]) {
    if let Some(dst) = b.get_mut(at..at + v.len()) {
        dst.copy_from_slice(v);
    }
}

fn addr6(b: &[u8], at: usize) -> Ipv6Addr {
    let mut a = [0u8; 16];
    if let Some(s) = b.get(at..at + 16) {
        a.copy_from_slice(s);
    }
    Ipv6Addr::from(a)
}

fn mac(b: &[u8], at: usize) -> Mac {
    let mut a = [0u8; 6];
    if let Some(s) = b.get(at..at + 6) {
        a.copy_from_slice(s);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_go_in_and_out_at_any_offset() {
        let mut b = [0u8; 8];
        put_bits(&mut b, 0, 1, 1);
        put_bits(&mut b, 3, 29, 0x1234_5678 & 0x1fff_ffff);
        assert_eq!(get_bits(&b, 0, 1), 1);
        assert_eq!(get_bits(&b, 3, 29), 0x1234_5678 & 0x1fff_ffff);
        assert_eq!(get_bits(&b, 1, 2), 0);
        put_bits(&mut b, 32, 32, u32::MAX);
        assert_eq!(&b[4..], &[0xff; 4]);
        // Bits past the end read as zero and are not written.
        let mut short = [0u8; 2];
        put_bits(&mut short, 8, 16, 0xabcd);
        assert_eq!(short, [0, 0xab]);
        assert_eq!(get_bits(&short, 8, 16), 0xab00);
    }
}
