//! Minimal JSON output: one object per line, stable field names.

use std::fmt::Write as _;

/// A JSON value to write.
#[derive(Clone, Debug)]
pub enum J {
    /// null
    Null,
    /// true/false
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A decimal (written with 3 decimals).
    Num(f64),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<J>),
}

/// Writes an object from key/value pairs, on one line.
pub fn object(fields: &[(&str, J)]) -> String {
    let mut s = String::from("{");
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{}:", quote(k));
        value(&mut s, v);
    }
    s.push('}');
    s
}

fn value(s: &mut String, v: &J) {
    match v {
        J::Null => s.push_str("null"),
        J::Bool(b) => s.push_str(if *b { "true" } else { "false" }),
        J::Int(n) => {
            let _ = write!(s, "{n}");
        }
        J::Num(f) if f.is_finite() => {
            let _ = write!(s, "{f:.3}");
        }
        J::Num(_) => s.push_str("null"),
        J::Str(t) => s.push_str(&quote(t)),
        J::Arr(items) => {
            s.push('[');
            for (i, it) in items.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                value(s, it);
            }
            s.push(']');
        }
    }
}

/// A JSON string literal.
pub fn quote(t: &str) -> String {
    let mut s = String::with_capacity(t.len() + 2);
    s.push('"');
    for c in t.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(s, "\\u{:04x}", c as u32);
            }
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_objects() {
        let o = object(&[
            ("flags", J::Str("SA".into())),
            ("rtt_us", J::Num(41.5)),
            ("x", J::Arr(vec![J::Int(1), J::Null])),
        ]);
        assert_eq!(o, r#"{"flags":"SA","rtt_us":41.500,"x":[1,null]}"#);
        assert_eq!(quote("a\"\n\u{1}"), r#""a\"\n\u0001""#);
    }
}
