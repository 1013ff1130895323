//! The craft language: one grammar for the REPL, recipe files and CLI arguments.
//!
//! Statements are one per line (newlines inside brackets continue the line; `;`
//! separates statements on one line): `name = expr`, `a.b.c = expr`,
//! `expect expr`, `include "file.craft"`, or an expression.

pub mod ast;
pub mod lexer;
pub mod parser;

pub use ast::{BinOp, Expr, ExprKind, Stmt, StmtKind, UnOp};
pub use parser::{parse_expr, parse_program, parse_program_at};

use std::fmt;

/// A position in source text, 1-based.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pos {
    /// Line.
    pub line: u32,
    /// Column, in characters.
    pub col: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A syntax error: where, and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where.
    pub pos: Pos,
    /// What was wrong and what was expected.
    pub msg: String,
    /// True when the input ended inside brackets or a string: more lines may complete it.
    pub incomplete: bool,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: syntax error: {}", self.pos, self.msg)
    }
}

impl std::error::Error for SyntaxError {}

/// Escapes bytes the way the language writes strings: printable ASCII as is,
/// `\n \r \t \\ \"`, anything else as `\xNN`.
pub fn escape_bytes(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() + 2);
    for &c in b {
        match c {
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            0x20..=0x7e => s.push(c as char),
            _ => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s
}

/// Decodes the language's string escapes in `s` (`\n \r \t \\ \" \' \0 \xNN`),
/// as used by CLI arguments such as `--data 'hello\n'`.
pub fn unescape(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len());
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match it.next() {
            Some((_, 'n')) => out.push(b'\n'),
            Some((_, 'r')) => out.push(b'\r'),
            Some((_, 't')) => out.push(b'\t'),
            Some((_, '0')) => out.push(0),
            Some((_, '\\')) => out.push(b'\\'),
            Some((_, '"')) => out.push(b'"'),
            Some((_, '\'')) => out.push(b'\''),
            Some((_, 'x')) => {
                let h: String = (0..2).filter_map(|_| it.next().map(|(_, c)| c)).collect();
                match u8::from_str_radix(&h, 16) {
                    Ok(v) if h.len() == 2 => out.push(v),
                    _ => return Err(format!("\\x at character {} needs two hex digits", i + 1)),
                }
            }
            Some((_, o)) => {
                return Err(format!(
                    "unknown escape \\{o} at character {} (use \\n \\r \\t \\\\ \\\" \\xNN)",
                    i + 1
                ));
            }
            None => return Err("a lone \\ ends the string".into()),
        }
    }
    Ok(out)
}
