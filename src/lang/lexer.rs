//! Lexer: text to tokens with positions. Newlines end statements except inside
//! brackets. Never panics; errors name line:column.

use super::{Pos, SyntaxError};
use std::net::Ipv4Addr;

/// Token kinds.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// Integer.
    Int(i64),
    /// Decimal with a fraction.
    Float(f64),
    /// String, escapes decoded.
    Str(Vec<u8>),
    /// IPv4 address.
    Ip(Ipv4Addr),
    /// MAC address.
    Mac([u8; 6]),
    /// Name or keyword.
    Ident(String),
    /// Punctuation or operator.
    Punct(&'static str),
    /// End of a statement (newline or `;`).
    Newline,
    /// End of input.
    Eof,
}

impl Tok {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Tok::Int(v) => format!("number {v}"),
            Tok::Float(v) => format!("number {v}"),
            Tok::Str(_) => "a string".into(),
            Tok::Ip(a) => format!("address {a}"),
            Tok::Mac(_) => "a MAC address".into(),
            Tok::Ident(s) => format!("'{s}'"),
            Tok::Punct(p) => format!("'{p}'"),
            Tok::Newline => "end of line".into(),
            Tok::Eof => "end of input".into(),
        }
    }
}

/// A token and where it starts; `offset` is its byte offset in the source.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// The token.
    pub tok: Tok,
    /// Where.
    pub pos: Pos,
    /// Byte offset.
    pub offset: usize,
}

const PUNCTS: [&str; 22] = [
    "{", "}", "==", "!=", "<=", ">=", "(", ")", "[", "]", ",", ".", "=", "<", ">", "+", "-", "*",
    "/", "%", ";", ":",
];

/// Splits `src` into tokens.
pub fn lex(src: &str) -> Result<Vec<Token>, SyntaxError> {
    lex_at(src, 1)
}

/// Splits `src`, whose first line is line `first_line` of a longer input, into tokens.
pub fn lex_at(src: &str, first_line: u32) -> Result<Vec<Token>, SyntaxError> {
    let mut lx = Lexer {
        src,
        chars: src.char_indices().collect(),
        i: 0,
        line: first_line,
        col: 1,
        depth: Vec::new(),
    };
    lx.run()
}

struct Lexer<'a> {
    src: &'a str,
    chars: Vec<(usize, char)>,
    i: usize,
    line: u32,
    col: u32,
    depth: Vec<(char, Pos)>,
}

impl Lexer<'_> {
    fn peek(&self, k: usize) -> Option<char> {
        self.chars.get(self.i + k).map(|c| c.1)
    }

    fn offset(&self) -> usize {
        self.chars.get(self.i).map_or(self.src.len(), |c| c.0)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek(0)?;
        self.i += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            col: self.col,
        }
    }

    fn err(&self, pos: Pos, msg: impl Into<String>) -> SyntaxError {
        SyntaxError {
            pos,
            msg: msg.into(),
            incomplete: false,
        }
    }

    fn run(&mut self) -> Result<Vec<Token>, SyntaxError> {
        let mut out: Vec<Token> = Vec::new();
        loop {
            let pos = self.pos();
            let offset = self.offset();
            let Some(c) = self.peek(0) else { break };
            let tok = match c {
                ' ' | '\t' | '\r' => {
                    self.bump();
                    continue;
                }
                '\\' if self.peek(1) == Some('\n') => {
                    self.bump();
                    self.bump();
                    continue;
                }
                '#' => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.bump();
                    }
                    continue;
                }
                '\n' => {
                    self.bump();
                    if !self.depth.is_empty()
                        || matches!(
                            out.last(),
                            None | Some(Token {
                                tok: Tok::Newline,
                                ..
                            })
                        )
                    {
                        continue;
                    }
                    Tok::Newline
                }
                '"' | '\'' => self.string(c)?,
                _ if self.mac_ahead() => self.mac(),
                '0'..='9' => self.number()?,
                c if c.is_ascii_alphabetic() || c == '_' => {
                    let mut s = String::new();
                    while let Some(c) = self
                        .peek(0)
                        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                    {
                        s.push(c);
                        self.bump();
                    }
                    Tok::Ident(s)
                }
                _ => {
                    let rest = &self.src[offset..];
                    let Some(p) = PUNCTS.iter().find(|p| rest.starts_with(**p)) else {
                        let shown = if c.is_control() {
                            format!("\\u{{{:x}}}", c as u32)
                        } else {
                            c.to_string()
                        };
                        return Err(self.err(pos, format!("unexpected character '{shown}'")));
                    };
                    for _ in 0..p.len() {
                        self.bump();
                    }
                    match *p {
                        "(" | "[" => self.depth.push((p.chars().next().unwrap_or('('), pos)),
                        ")" | "]" => {
                            let want = if *p == ")" { '(' } else { '[' };
                            match self.depth.pop() {
                                Some((open, _)) if open == want => {}
                                Some((open, opos)) => {
                                    return Err(self.err(
                                        pos,
                                        format!(
                                            "'{p}' does not close the '{open}' opened at {opos}"
                                        ),
                                    ));
                                }
                                None => {
                                    return Err(self.err(
                                        pos,
                                        format!("'{p}' without a matching opening bracket"),
                                    ));
                                }
                            }
                        }
                        ";" => {
                            out.push(Token {
                                tok: Tok::Newline,
                                pos,
                                offset,
                            });
                            continue;
                        }
                        _ => {}
                    }
                    Tok::Punct(p)
                }
            };
            out.push(Token { tok, pos, offset });
        }
        if let Some((open, opos)) = self.depth.last() {
            let close = if *open == '(' { ')' } else { ']' };
            return Err(SyntaxError {
                pos: *opos,
                msg: format!("'{open}' is never closed (expected '{close}')"),
                incomplete: true,
            });
        }
        let pos = self.pos();
        if !matches!(
            out.last(),
            None | Some(Token {
                tok: Tok::Newline,
                ..
            })
        ) {
            out.push(Token {
                tok: Tok::Newline,
                pos,
                offset: self.src.len(),
            });
        }
        out.push(Token {
            tok: Tok::Eof,
            pos,
            offset: self.src.len(),
        });
        Ok(out)
    }

    fn string(&mut self, quote: char) -> Result<Tok, SyntaxError> {
        let start = self.pos();
        self.bump();
        let mut out = Vec::new();
        loop {
            let pos = self.pos();
            let Some(c) = self.bump() else {
                return Err(SyntaxError {
                    pos: start,
                    msg: format!("unclosed string (expected a closing {quote})"),
                    incomplete: true,
                });
            };
            match c {
                c if c == quote => return Ok(Tok::Str(out)),
                '\n' => return Err(self.err(
                    start,
                    format!(
                        "unclosed string (expected a closing {quote} before the end of the line)"
                    ),
                )),
                '\\' => {
                    let e = self.bump();
                    match e {
                        Some('n') => out.push(b'\n'),
                        Some('r') => out.push(b'\r'),
                        Some('t') => out.push(b'\t'),
                        Some('0') => out.push(0),
                        Some('\\') => out.push(b'\\'),
                        Some('"') => out.push(b'"'),
                        Some('\'') => out.push(b'\''),
                        Some('x') => {
                            let h: String = [self.bump(), self.bump()].iter().flatten().collect();
                            match u8::from_str_radix(&h, 16) {
                                Ok(v) if h.len() == 2 => out.push(v),
                                _ => {
                                    return Err(
                                        self.err(pos, "\\x needs two hex digits, e.g. \\x0a")
                                    );
                                }
                            }
                        }
                        Some(o) => {
                            return Err(self.err(
                                pos,
                                format!("unknown escape \\{o} (use \\n \\r \\t \\\\ \\\" \\xNN)"),
                            ));
                        }
                        None => {
                            return Err(SyntaxError {
                                pos: start,
                                msg: "unclosed string".into(),
                                incomplete: true,
                            });
                        }
                    }
                }
                c => {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
    }

    /// True when a MAC address (six hex pairs joined by ':') starts here.
    fn mac_ahead(&self) -> bool {
        let hex = |k| self.peek(k).is_some_and(|c: char| c.is_ascii_hexdigit());
        for g in 0..6 {
            let b = g * 3;
            if !hex(b) || !hex(b + 1) || (g < 5 && self.peek(b + 2) != Some(':')) {
                return false;
            }
        }
        !self
            .peek(17)
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    }

    fn mac(&mut self) -> Tok {
        let mut m = [0u8; 6];
        for (g, byte) in m.iter_mut().enumerate() {
            let h: String = [self.bump(), self.bump()].iter().flatten().collect();
            *byte = u8::from_str_radix(&h, 16).unwrap_or(0);
            if g < 5 {
                self.bump();
            }
        }
        Tok::Mac(m)
    }

    fn number(&mut self) -> Result<Tok, SyntaxError> {
        let pos = self.pos();
        if self.peek(0) == Some('0') && matches!(self.peek(1), Some('x' | 'X')) {
            self.bump();
            self.bump();
            let mut s = String::new();
            while let Some(c) = self
                .peek(0)
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            {
                s.push(c);
                self.bump();
            }
            let digits = s.replace('_', "");
            if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(self.err(pos, format!("'0x{s}' is not a hex number")));
            }
            return i64::from_str_radix(&digits, 16).map(Tok::Int).map_err(|_| {
                self.err(
                    pos,
                    format!("0x{s} is too large (the limit is 0x7fffffffffffffff)"),
                )
            });
        }
        let mut s = String::new();
        while let Some(c) = self
            .peek(0)
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
        {
            if c == '.' && !self.peek(1).is_some_and(|d| d.is_ascii_digit()) {
                break; // `1.` followed by a name: attribute access is not on numbers, leave it to the parser
            }
            s.push(c);
            self.bump();
        }
        let dots = s.matches('.').count();
        if dots == 3 {
            return s
                .parse::<Ipv4Addr>()
                .map(Tok::Ip)
                .map_err(|_| self.err(pos, format!("'{s}' is not an IPv4 address")));
        }
        if dots == 1 {
            return s
                .parse::<f64>()
                .map(Tok::Float)
                .map_err(|_| self.err(pos, format!("'{s}' is not a number")));
        }
        let digits = s.replace('_', "");
        if dots != 0 || digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(self.err(pos, format!("'{s}' is not a number or an IPv4 address")));
        }
        digits
            .parse::<i64>()
            .map(Tok::Int)
            .map_err(|_| self.err(pos, format!("{s} is too large (the limit is {})", i64::MAX)))
    }
}
