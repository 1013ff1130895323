//! The script grammar (packetdrill's, as its `syntax.md` and `parser.y`
//! give it) read by a scanner that knows which part of an event it is in:
//! times, packet lines, system calls, `` `shell` `` and `%{ assert }%`.
//! Errors name the line; features craft does not run are errors of their own
//! kind, naming the feature.

use super::ast::*;
use crate::wire::tcp::flags;

/// Why a script was not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The line.
    pub line: usize,
    /// What is wrong.
    pub msg: String,
    /// True when the script is well formed but uses a feature craft lacks.
    pub unsupported: bool,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.unsupported {
            "unsupported"
        } else {
            "syntax error"
        };
        write!(f, "{}: {kind}: {}", self.line, self.msg)
    }
}

type R<T> = Result<T, ParseError>;

/// Reads a script.
pub fn parse(text: &str) -> R<Script> {
    parse_with(text, &[])
}

/// Reads a script with `-D NAME=VALUE` definitions: as in packetdrill, a
/// word of the script that is a defined NAME stands for its value (a
/// number where a number goes, `win WIN`; a symbol in a call, `[SNDBUF]`).
pub fn parse_with(text: &str, defines: &[(String, String)]) -> R<Script> {
    let mut s = Scanner {
        c: text.chars().collect(),
        i: 0,
        line: 1,
        defines: defines.to_vec(),
    };
    let mut script = Script::default();
    loop {
        s.skip_space();
        if s.at_end() {
            break;
        }
        if s.looking_at("--") {
            if !script.events.is_empty() {
                return Err(s.err("a --option line after the first event"));
            }
            let line = s.line;
            s.i += 2;
            let rest = s.rest_of_line();
            let rest = rest.split("//").next().unwrap_or("").trim().to_string();
            let (k, v) = match rest.split_once('=') {
                Some((k, v)) => (k.trim().to_string(), v.trim().to_string()),
                None => (rest.clone(), String::new()),
            };
            script.options.push((k, v, line));
            continue;
        }
        script.events.push(s.event()?);
    }
    Ok(script)
}

struct Scanner {
    c: Vec<char>,
    i: usize,
    line: usize,
    defines: Vec<(String, String)>,
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl Scanner {
    fn at_end(&self) -> bool {
        self.i >= self.c.len()
    }

    fn peek(&self) -> Option<char> {
        self.c.get(self.i).copied()
    }

    fn peek2(&self) -> Option<char> {
        self.c.get(self.i + 1).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += 1;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    fn looking_at(&self, s: &str) -> bool {
        s.chars()
            .enumerate()
            .all(|(k, ch)| self.c.get(self.i + k) == Some(&ch))
    }

    fn err(&self, msg: impl Into<String>) -> ParseError {
        ParseError {
            line: self.line,
            msg: msg.into(),
            unsupported: false,
        }
    }

    fn unsupported(&self, line: usize, msg: impl Into<String>) -> ParseError {
        ParseError {
            line,
            msg: msg.into(),
            unsupported: true,
        }
    }

    fn rest_of_line(&mut self) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if c == '\n' {
                break;
            }
            out.push(c);
            self.i += 1;
        }
        out
    }

    /// Skips blanks, newlines and comments (`//`, `/* */`).
    fn skip_space(&mut self) {
        loop {
            match self.peek() {
                Some(c) if c.is_whitespace() => {
                    self.bump();
                }
                Some('/') if self.peek2() == Some('/') => {
                    self.rest_of_line();
                }
                Some('/') if self.peek2() == Some('*') => {
                    self.i += 2;
                    while !self.at_end() && !self.looking_at("*/") {
                        self.bump();
                    }
                    self.i = (self.i + 2).min(self.c.len());
                }
                _ => return,
            }
        }
    }

    fn expect(&mut self, ch: char, what: &str) -> R<()> {
        self.skip_space();
        if self.peek() == Some(ch) {
            self.bump();
            Ok(())
        } else {
            Err(self.err(format!("expected {what}, found {}", self.found())))
        }
    }

    fn found(&self) -> String {
        match self.peek() {
            None => "the end of the script".into(),
            Some('\n') => "the end of the line".into(),
            Some(_) => {
                let w: String = self.c[self.i..]
                    .iter()
                    .take_while(|c| !c.is_whitespace())
                    .take(20)
                    .collect();
                format!("'{w}'")
            }
        }
    }

    fn ident(&mut self) -> Option<String> {
        self.skip_space();
        if !self.peek().is_some_and(is_ident_start) {
            return None;
        }
        let mut s = String::new();
        while let Some(c) = self.peek().filter(|c| is_ident(*c)) {
            s.push(c);
            self.i += 1;
        }
        Some(s)
    }

    /// A time in seconds (`1`, `.1`, `0.200`), as µs.
    fn seconds(&mut self) -> R<i64> {
        self.skip_space();
        let mut s = String::new();
        while let Some(c) = self.peek().filter(|c| c.is_ascii_digit() || *c == '.') {
            if c == '.' && self.looking_at("...") {
                break;
            }
            s.push(c);
            self.i += 1;
        }
        let v: f64 = s.parse().map_err(|_| {
            self.err(format!(
                "expected a time in seconds, found {}",
                self.found()
            ))
        })?;
        Ok((v * 1e6).round() as i64)
    }

    /// An integer: decimal, `0x` hex, or negative.
    fn defined(&self, word: &str) -> Option<String> {
        self.defines
            .iter()
            .find(|(k, _)| k == word)
            .map(|(_, v)| v.clone())
    }

    fn int(&mut self) -> R<i64> {
        self.skip_space();
        if self.peek().is_some_and(is_ident_start) {
            let save = self.i;
            let w = self.ident().unwrap_or_default();
            if let Some(v) = self.defined(&w) {
                return parse_int(&v)
                    .ok_or_else(|| self.err(format!("{w} is defined as '{v}', not a number")));
            }
            self.i = save;
        }
        let neg = self.peek() == Some('-');
        if neg {
            self.i += 1;
        }
        let v = if self.looking_at("0x") || self.looking_at("0X") {
            self.i += 2;
            let mut s = String::new();
            while let Some(c) = self.peek().filter(|c| c.is_ascii_hexdigit()) {
                s.push(c);
                self.i += 1;
            }
            i64::from_str_radix(&s, 16).map_err(|_| self.err("expected a hex number"))?
        } else {
            let mut s = String::new();
            while let Some(c) = self.peek().filter(|c| c.is_ascii_digit()) {
                s.push(c);
                self.i += 1;
            }
            s.parse::<i64>()
                .map_err(|_| self.err(format!("expected a number, found {}", self.found())))?
        };
        Ok(if neg { -v } else { v })
    }

    fn uint<T: TryFrom<i64>>(&mut self, what: &str) -> R<T> {
        let v = self.int()?;
        T::try_from(v).map_err(|_| self.err(format!("{what} {v} is out of range")))
    }

    fn event(&mut self) -> R<Event> {
        let line = self.line;
        self.skip_space();
        // A shell command may stand without a time (before the clock starts).
        let time = if self.peek() == Some('`') {
            Time {
                kind: TimeKind::Untimed,
                usecs: 0,
                end: 0,
            }
        } else {
            self.time()?
        };
        self.skip_space();
        let end = if self.looking_at("...") {
            self.i += 3;
            Some(self.seconds()?)
        } else {
            None
        };
        self.skip_space();
        let action = match self.peek() {
            Some('<') => {
                self.i += 1;
                Action::Packet(self.packet(Dir::In)?)
            }
            Some('>') => {
                self.i += 1;
                Action::Packet(self.packet(Dir::Out)?)
            }
            Some('`') => {
                self.i += 1;
                let mut s = String::new();
                loop {
                    match self.bump() {
                        None => return Err(self.err("a shell command without its closing '`'")),
                        Some('`') => break,
                        Some(c) => s.push(c),
                    }
                }
                Action::Shell(s)
            }
            Some('%') if self.peek2() == Some('{') => {
                self.i += 2;
                let start = self.line;
                let mut s = String::new();
                loop {
                    if self.at_end() {
                        return Err(self.err("a %{ block without its closing }%"));
                    }
                    if self.looking_at("}%") {
                        self.i += 2;
                        break;
                    }
                    s.extend(self.bump());
                }
                Action::Assert(asserts(&s, start)?)
            }
            Some(c) if is_ident_start(c) => Action::Syscall(self.syscall(line, end)?),
            _ => {
                return Err(self.err(format!(
                    "expected an event after the time, found {}",
                    self.found()
                )));
            }
        };
        if end.is_some() && !matches!(action, Action::Syscall(_)) {
            return Err(self.err("only a system call can block ('...')"));
        }
        let outbound = matches!(&action, Action::Packet(p) if p.dir == Dir::Out);
        match time.kind {
            TimeKind::Any if !outbound => {
                return Err(ParseError {
                    line,
                    msg: "event time * can only be used with outbound packets".into(),
                    unsupported: false,
                });
            }
            TimeKind::AbsoluteRange | TimeKind::RelativeRange if !outbound => {
                return Err(ParseError {
                    line,
                    msg: "event time range can only be used with outbound packets".into(),
                    unsupported: false,
                });
            }
            _ => {}
        }
        if time.end < time.usecs {
            return Err(ParseError {
                line,
                msg: "time range is backwards".into(),
                unsupported: false,
            });
        }
        Ok(Event { line, time, action })
    }

    fn time(&mut self) -> R<Time> {
        self.skip_space();
        match self.peek() {
            Some('*') => {
                self.i += 1;
                Ok(Time {
                    kind: TimeKind::Any,
                    usecs: 0,
                    end: 0,
                })
            }
            Some('+') => {
                self.i += 1;
                let t = self.seconds()?;
                self.skip_space();
                if self.peek() == Some('~') {
                    self.i += 1;
                    self.expect('+', "'+' after '~' in a relative range")?;
                    let e = self.seconds()?;
                    return Ok(Time {
                        kind: TimeKind::RelativeRange,
                        usecs: t,
                        end: e,
                    });
                }
                Ok(Time {
                    kind: TimeKind::Relative,
                    usecs: t,
                    end: t,
                })
            }
            Some(c) if c.is_ascii_digit() || c == '.' => {
                let t = self.seconds()?;
                self.skip_space();
                if self.peek() == Some('~') {
                    self.i += 1;
                    let e = self.seconds()?;
                    return Ok(Time {
                        kind: TimeKind::AbsoluteRange,
                        usecs: t,
                        end: e,
                    });
                }
                Ok(Time {
                    kind: TimeKind::Absolute,
                    usecs: t,
                    end: t,
                })
            }
            _ => Err(self.err(format!("expected an event time, found {}", self.found()))),
        }
    }

    fn packet(&mut self, dir: Dir) -> R<PacketSpec> {
        let line = self.line;
        self.skip_space();
        let mut ecn = None;
        if self.peek() == Some('[') {
            self.i += 1;
            let w = self.ident().unwrap_or_default();
            ecn = Some(match w.as_str() {
                "noecn" => Ecn::NoEcn,
                "ect0" => Ecn::Ect0,
                "ect1" => Ecn::Ect1,
                "ect01" => Ecn::Ect01,
                "ce" => Ecn::Ce,
                _ => return Err(self.unsupported(line, format!("the IP mark [{w}...]"))),
            });
            self.expect(']', "']' after the ECN mark")?;
            self.skip_space();
        }
        let mut flags_text = String::new();
        while let Some(c) = self.peek().filter(|c| !c.is_whitespace()) {
            if c.is_ascii_digit() {
                break;
            }
            flags_text.push(c);
            self.i += 1;
        }
        match flags_text.as_str() {
            "udp" | "icmp" | "IP" | "GRE" | "MPLS" => {
                return Err(self.unsupported(
                    line,
                    format!("{flags_text} packets (craft drill runs TCP packets)"),
                ));
            }
            "" => return Err(self.err("expected TCP flags after the direction")),
            _ => {}
        }
        let mut bits = 0u16;
        for ch in flags_text.chars() {
            bits |= match ch {
                'S' => flags::SYN,
                'F' => flags::FIN,
                'R' => flags::RST,
                'P' => flags::PSH,
                '.' => flags::ACK,
                'U' => 0x20,
                'E' => 0x40,
                'W' => 0x80,
                '-' => 0,
                _ => return Err(self.err(format!("unknown TCP flag '{ch}' in '{flags_text}'"))),
            };
        }
        let seq = self.uint::<u32>("sequence number")?;
        self.expect(':', "':' in start:end(length)")?;
        let end = self.uint::<u32>("sequence number")?;
        self.expect('(', "'(' in start:end(length)")?;
        let len = self.uint::<u32>("length")?;
        self.expect(')', "')' in start:end(length)")?;
        if len > 65_495 {
            return Err(self.err(format!(
                "a segment of {len} bytes does not fit in an IPv4 packet"
            )));
        }
        if end.wrapping_sub(seq) != len {
            return Err(self.err(format!(
                "inconsistent segment: {seq}:{end} is not {len} bytes"
            )));
        }
        let mut p = PacketSpec {
            dir,
            ecn,
            flags: bits,
            flags_text,
            seq,
            len,
            ack: None,
            win: None,
            urg: None,
            // No list is an empty list, checked as such; `<...>` is None.
            options: Some(Vec::new()),
        };
        loop {
            self.skip_line_space();
            if !self.peek().is_some_and(is_ident_start) {
                break;
            }
            let save = (self.i, self.line);
            match self.ident().as_deref() {
                Some("ack") => p.ack = Some(self.uint("ack")?),
                Some("win") => p.win = Some(self.uint("window")?),
                Some("urg") => p.urg = Some(self.uint("urgent pointer")?),
                Some(w) => {
                    return Err(self.unsupported(line, format!("the packet field '{w}'")));
                }
                None => {
                    (self.i, self.line) = save;
                    break;
                }
            }
        }
        self.skip_line_space();
        if self.peek() == Some('<') {
            self.i += 1;
            self.skip_space();
            if self.looking_at("...") {
                self.i += 3;
                self.expect('>', "'>' after '<...'")?;
                p.options = None;
            } else {
                p.options = Some(self.options(line)?);
            }
        }
        Ok(p)
    }

    /// Skips blanks but not newlines (a packet line ends at its newline).
    fn skip_line_space(&mut self) {
        while let Some(c) = self.peek() {
            if c == ' ' || c == '\t' || c == '\r' {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    fn options(&mut self, line: usize) -> R<Vec<Opt>> {
        let mut out = Vec::new();
        loop {
            self.skip_space();
            if self.peek() == Some('>') {
                self.i += 1;
                return Ok(out);
            }
            let Some(w) = self.ident() else {
                return Err(self.err(format!("expected a TCP option, found {}", self.found())));
            };
            out.push(match w.as_str() {
                "nop" => Opt::Nop,
                "eol" => Opt::Eol,
                "sackOK" => Opt::SackOk,
                "mss" => Opt::Mss(self.uint("mss")?),
                "wscale" => Opt::WScale(self.uint("wscale")?),
                "TS" => {
                    if self.ident().as_deref() != Some("val") {
                        return Err(self.err("expected 'val' after TS"));
                    }
                    let v = self.uint("TS val")?;
                    if self.ident().as_deref() != Some("ecr") {
                        return Err(self.err("expected 'ecr' after TS val N"));
                    }
                    Opt::Ts(v, self.uint("TS ecr")?)
                }
                "sack" => {
                    let mut blocks = Vec::new();
                    loop {
                        self.skip_space();
                        if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                            break;
                        }
                        let a = self.uint("sack edge")?;
                        self.expect(':', "':' in a sack block")?;
                        blocks.push((a, self.uint("sack edge")?));
                    }
                    Opt::Sack(blocks)
                }
                _ => return Err(self.unsupported(line, format!("the TCP option '{w}'"))),
            });
            self.skip_space();
            if self.peek() == Some(',') {
                self.i += 1;
            }
        }
    }

    fn syscall(&mut self, line: usize, end: Option<i64>) -> R<Syscall> {
        let name = self.ident().unwrap_or_default();
        self.expect('(', &format!("'(' after {name}"))?;
        let mut args = Vec::new();
        self.skip_space();
        if self.peek() == Some(')') {
            self.i += 1;
        } else {
            loop {
                args.push(self.expr()?);
                self.skip_space();
                match self.bump() {
                    Some(',') => {}
                    Some(')') => break,
                    _ => return Err(self.err(format!("expected ',' or ')' in {name}(...)"))),
                }
            }
        }
        self.expect('=', &format!("'= RESULT' after {name}(...)"))?;
        self.skip_space();
        let ret = if self.looking_at("...") {
            self.i += 3;
            None
        } else {
            Some(self.int()?)
        };
        self.skip_line_space();
        let errno = if self.peek().is_some_and(is_ident_start) {
            self.ident()
        } else {
            None
        };
        self.skip_line_space();
        if self.peek() == Some('(') {
            // The errno's text or a note: `(Operation now in progress)`.
            let mut depth = 0;
            while let Some(c) = self.bump() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    '\n' => return Err(self.err("an unclosed '(' after the result")),
                    _ => {}
                }
            }
        }
        let _ = line;
        Ok(Syscall {
            name,
            args,
            ret,
            errno,
            end,
        })
    }

    fn expr(&mut self) -> R<Expr> {
        let first = self.term()?;
        self.skip_space();
        if self.peek() != Some('|') {
            return Ok(first);
        }
        let mut v = vec![first];
        while self.peek() == Some('|') {
            self.i += 1;
            v.push(self.term()?);
            self.skip_space();
        }
        Ok(Expr::Or(v))
    }

    fn term(&mut self) -> R<Expr> {
        self.skip_space();
        match self.peek() {
            Some('.') if self.looking_at("...") => {
                self.i += 3;
                Ok(Expr::Ellipsis)
            }
            Some('[') => {
                self.i += 1;
                let mut v = Vec::new();
                self.skip_space();
                if self.peek() == Some(']') {
                    self.i += 1;
                    return Ok(Expr::List(v));
                }
                loop {
                    v.push(self.expr()?);
                    self.skip_space();
                    match self.bump() {
                        Some(',') => {}
                        Some(']') => return Ok(Expr::List(v)),
                        _ => return Err(self.err("expected ',' or ']' in a list")),
                    }
                }
            }
            Some('{') => {
                self.i += 1;
                let mut v = Vec::new();
                loop {
                    self.skip_space();
                    if self.peek() == Some('}') {
                        self.i += 1;
                        return Ok(Expr::Struct(v));
                    }
                    // `name=value`, `name(len)=value`, or a value alone.
                    let save = (self.i, self.line);
                    let named = self.ident().filter(|_| {
                        self.skip_space();
                        matches!(self.peek(), Some('=') | Some('('))
                    });
                    let Some(k) = named else {
                        (self.i, self.line) = save;
                        v.push((String::new(), self.expr()?));
                        self.skip_space();
                        if self.peek() == Some(',') {
                            self.i += 1;
                        } else if self.peek() != Some('}') {
                            return Err(self.err("expected ',' or '}' in {...}"));
                        }
                        continue;
                    };
                    self.skip_space();
                    if self.peek() == Some('(') {
                        // A length before the value: `msg_iov(1)=[...]`.
                        self.i += 1;
                        self.expr()?;
                        self.expect(')', "')' after a field's length")?;
                    }
                    self.expect('=', "'=' after a field name")?;
                    v.push((k, self.expr()?));
                    self.skip_space();
                    if self.peek() == Some(',') {
                        self.i += 1;
                    }
                }
            }
            Some('"') => {
                self.i += 1;
                let mut s = String::new();
                loop {
                    match self.bump() {
                        None | Some('\n') => return Err(self.err("an unclosed string")),
                        Some('"') => return Ok(Expr::Str(s)),
                        Some(c) => s.push(c),
                    }
                }
            }
            Some(c) if c.is_ascii_digit() || c == '-' => Ok(Expr::Int(self.int()?)),
            Some(c) if is_ident_start(c) => {
                let w = self.ident().unwrap_or_default();
                if self.peek() == Some('(') {
                    self.i += 1;
                    let mut args = Vec::new();
                    self.skip_space();
                    if self.peek() == Some(')') {
                        self.i += 1;
                    } else {
                        loop {
                            args.push(self.expr()?);
                            self.skip_space();
                            match self.bump() {
                                Some(',') => {}
                                Some(')') => break,
                                _ => {
                                    return Err(
                                        self.err(format!("expected ',' or ')' in {w}(...)"))
                                    );
                                }
                            }
                        }
                    }
                    return Ok(Expr::Call(w, args));
                }
                Ok(match self.defined(&w) {
                    Some(v) => parse_int(&v).map(Expr::Int).unwrap_or(Expr::Sym(v)),
                    None => Expr::Sym(w),
                })
            }
            _ => Err(self.err(format!("expected an argument, found {}", self.found()))),
        }
    }
}

/// A decimal, `0x` hex or negative integer.
fn parse_int(v: &str) -> Option<i64> {
    let (neg, v) = match v.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, v),
    };
    let n = match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(h) => i64::from_str_radix(h, 16).ok()?,
        None => v.parse().ok()?,
    };
    Some(if neg { -n } else { n })
}

/// The statements of a `%{ }%` block starting on `line`: `assert` chains of
/// comparisons, `;`- or newline-separated, `\` continuing a line, `#`
/// comments; any other Python is unsupported.
fn asserts(code: &str, line: usize) -> R<Vec<Assert>> {
    let mut out = Vec::new();
    let joined = code.replace("\\\n", " \n");
    for (k, raw_line) in joined.split('\n').enumerate() {
        let here = line + k;
        let no_comment = raw_line.split('#').next().unwrap_or("");
        for stmt in no_comment.split(';') {
            let stmt = stmt.trim();
            if stmt.is_empty() {
                continue;
            }
            let Some(body) = stmt.strip_prefix("assert ") else {
                return Err(ParseError {
                    line: here,
                    msg: format!("Python code other than 'assert' in %{{ }}%: '{stmt}'"),
                    unsupported: true,
                });
            };
            // The message after the first top-level comma is not evaluated.
            let cond = body.split(',').next().unwrap_or("").trim();
            out.push(assert_chain(cond, here)?);
        }
    }
    Ok(out)
}

fn assert_chain(cond: &str, line: usize) -> R<Assert> {
    let bad = |m: String| ParseError {
        line,
        msg: m,
        unsupported: true,
    };
    let mut operands = Vec::new();
    let mut cmps = Vec::new();
    let toks: Vec<&str> = tokens(cond);
    for (k, t) in toks.iter().enumerate() {
        if k % 2 == 1 {
            cmps.push(match *t {
                "==" => Cmp::Eq,
                "!=" => Cmp::Ne,
                "<" => Cmp::Lt,
                "<=" => Cmp::Le,
                ">" => Cmp::Gt,
                ">=" => Cmp::Ge,
                _ => {
                    return Err(bad(format!(
                        "'{t}' in an assert (only comparisons are evaluated)"
                    )));
                }
            });
        } else if let Ok(n) = t.parse::<i64>() {
            operands.push(Operand::Num(n));
        } else if t.chars().next().is_some_and(is_ident_start) && t.chars().all(is_ident) {
            operands.push(Operand::Name(t.to_string()));
        } else {
            return Err(bad(format!(
                "'{t}' in an assert (only numbers and tcpi_ fields are evaluated)"
            )));
        }
    }
    if cmps.is_empty() || operands.len() != cmps.len() + 1 {
        return Err(bad(format!(
            "the assert '{cond}' (craft evaluates comparisons: a OP b [OP c])"
        )));
    }
    Ok(Assert {
        line,
        text: cond.to_string(),
        operands,
        cmps,
    })
}

/// Splits an assert into operands and comparison operators.
fn tokens(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if b"=!<>".contains(&b[i]) {
            i += 1;
            if i < b.len() && b[i] == b'=' {
                i += 1;
            }
        } else {
            while i < b.len() && !b[i].is_ascii_whitespace() && !b"=!<>".contains(&b[i]) {
                i += 1;
            }
        }
        out.push(&s[start..i]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(src: &str) -> Event {
        let s = parse(src).unwrap();
        assert_eq!(s.events.len(), 1, "{src}");
        s.events[0].clone()
    }

    #[test]
    fn times() {
        assert_eq!(one("0 close(3) = 0").time.kind, TimeKind::Absolute);
        let e = one("+.1 close(3) = 0");
        assert_eq!((e.time.kind, e.time.usecs), (TimeKind::Relative, 100_000));
        let e = one("+.3~+.303 > . 1:1(0) ack 1");
        assert_eq!((e.time.usecs, e.time.end), (300_000, 303_000));
        assert_eq!(e.time.kind, TimeKind::RelativeRange);
        assert_eq!(one("* > . 1:1(0) ack 1").time.kind, TimeKind::Any);
        let e = one("+0...0.200 accept(3, ..., ...) = 4");
        let Action::Syscall(c) = e.action else {
            panic!()
        };
        assert_eq!(c.end, Some(200_000));
        assert_eq!(c.args, vec![Expr::Int(3), Expr::Ellipsis, Expr::Ellipsis]);
    }

    #[test]
    fn packets() {
        let e = one("+0 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>");
        let Action::Packet(p) = e.action else {
            panic!()
        };
        assert_eq!(p.dir, Dir::In);
        assert_eq!(p.flags, flags::SYN);
        assert_eq!(p.win, Some(32792));
        assert_eq!(
            p.options.unwrap(),
            vec![
                Opt::Mss(1000),
                Opt::SackOk,
                Opt::Nop,
                Opt::Nop,
                Opt::Nop,
                Opt::WScale(7)
            ]
        );
        let e = one("+0 > P. 1:2001(2000) ack 1 <nop,nop,TS val 100 ecr 7,sack 3:4 5:6>");
        let Action::Packet(p) = e.action else {
            panic!()
        };
        assert_eq!((p.seq, p.len, p.ack), (1, 2000, Some(1)));
        assert_eq!(p.flags, flags::PSH | flags::ACK);
        assert_eq!(
            p.options.unwrap()[2..],
            [Opt::Ts(100, 7), Opt::Sack(vec![(3, 4), (5, 6)])]
        );
        let e = one("+0 > [ect0] S 0:0(0) <...>\n");
        let Action::Packet(p) = e.action else {
            panic!()
        };
        assert_eq!((p.ecn, p.options), (Some(Ecn::Ect0), None));
    }

    #[test]
    fn syscalls_and_results() {
        let e = one("+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0   // note");
        let Action::Syscall(c) = e.action else {
            panic!()
        };
        assert_eq!(
            c.args[2],
            Expr::Or(vec![
                Expr::Sym("O_RDWR".into()),
                Expr::Sym("O_NONBLOCK".into())
            ])
        );
        let e = one("+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)");
        let Action::Syscall(c) = e.action else {
            panic!()
        };
        assert_eq!((c.ret, c.errno.as_deref()), (Some(-1), Some("EINPROGRESS")));
        let e = one("+0 fcntl(3, F_GETFL) = 0x2 (flags O_RDWR)");
        let Action::Syscall(c) = e.action else {
            panic!()
        };
        assert_eq!(c.ret, Some(2));
        let e = one(
            "+0 sendmsg(4, {msg_name(...)=..., msg_iov(1)=[{iov_base=..., iov_len=10}], msg_flags=0}, 0) = 10",
        );
        let Action::Syscall(c) = e.action else {
            panic!()
        };
        assert!(matches!(&c.args[1], Expr::Struct(f) if f.len() == 3));
        let e = one("+0 recvmsg(3, {msg_iov(1)=[{..., 1000}], msg_flags=0}, 0) = 1000");
        let Action::Syscall(c) = e.action else {
            panic!()
        };
        assert!(matches!(&c.args[1], Expr::Struct(f) if f[0].0 == "msg_iov"));
        let e = one("+0 bind(3, {sa_family=AF_INET, sin_port=htons(8080)}, 16) = 0");
        let Action::Syscall(c) = e.action else {
            panic!()
        };
        assert!(
            matches!(&c.args[1], Expr::Struct(f) if f[1].1 == Expr::Call("htons".into(), vec![Expr::Int(8080)]))
        );
        let e = one("+0 getsockopt(3, SOL_TCP, TCP_MAXSEG, [1100], [4]) = 0");
        let Action::Syscall(c) = e.action else {
            panic!()
        };
        assert_eq!(c.args[3], Expr::List(vec![Expr::Int(1100)]));
    }

    #[test]
    fn shell_and_asserts() {
        let s = parse("`echo a\necho b`\n+0 %{\nassert 1 <= tcpi_rtt <= 5, tcpi_rtt  # c\nassert tcpi_ca_state == TCP_CA_Open;\\\n assert tcpi_lost != 0 }%\n").unwrap();
        assert_eq!(s.events.len(), 2);
        assert_eq!(s.events[0].action, Action::Shell("echo a\necho b".into()));
        let Action::Assert(a) = &s.events[1].action else {
            panic!()
        };
        assert_eq!(a.len(), 3);
        assert_eq!(a[0].cmps, vec![Cmp::Le, Cmp::Le]);
        assert_eq!(a[0].line, 4);
        assert_eq!(a[1].operands[1], Operand::Name("TCP_CA_Open".into()));
    }

    #[test]
    fn defines_stand_for_their_values() {
        let d = vec![
            ("WIN".to_string(), "257".to_string()),
            ("OPT".to_string(), "TCP_NODELAY".to_string()),
        ];
        let s = parse_with(
            "+0 < . 1:1(0) ack 1 win WIN\n+0 setsockopt(4, SOL_TCP, OPT, [WIN], 4) = 0\n",
            &d,
        )
        .unwrap();
        let Action::Packet(p) = &s.events[0].action else {
            panic!()
        };
        assert_eq!(p.win, Some(257));
        let Action::Syscall(c) = &s.events[1].action else {
            panic!()
        };
        assert_eq!(c.args[2], Expr::Sym("TCP_NODELAY".into()));
        assert_eq!(c.args[3], Expr::List(vec![Expr::Int(257)]));
        let d = vec![("WIN".to_string(), "wide".to_string())];
        assert!(
            parse_with("+0 < . 1:1(0) ack 1 win WIN\n", &d)
                .unwrap_err()
                .msg
                .contains("not a number")
        );
    }

    #[test]
    fn options_lines() {
        let s = parse("--tolerance_usecs=10000\n0 close(3) = 0\n").unwrap();
        assert_eq!(
            s.options,
            vec![("tolerance_usecs".into(), "10000".into(), 1)]
        );
    }

    #[test]
    fn errors_name_the_line_and_kind() {
        let e = parse("0 close(3) = 0\n+0 < S 0:0(1) win 1\n").unwrap_err();
        assert_eq!((e.line, e.unsupported), (2, false));
        assert!(e.msg.contains("0:0 is not 1 bytes"), "{}", e.msg);
        let e = parse("0 close(3) = 0\n\n+0 < udp (10)\n").unwrap_err();
        assert_eq!((e.line, e.unsupported), (3, true));
        assert!(e.msg.contains("udp"));
        let e = parse("+0 < S 0:0(0) win 1 <md5 abc>\n").unwrap_err();
        assert!(e.unsupported && e.msg.contains("md5"));
        let e = parse("+0 < . 1:4000000001(4000000000) ack 1 win 1\n").unwrap_err();
        assert!(e.msg.contains("does not fit"), "{}", e.msg);
        let e = parse("+0 %{ print(tcpi_rtt) }%").unwrap_err();
        assert!(e.unsupported && e.msg.contains("print"));
        let e = parse("+0 < S 0:0(0)\n+0 wat").unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse("* write(3, ..., 1) = 1").unwrap_err();
        assert!(e.msg.contains("outbound"));
        assert!(parse("+0 close(3 = 0").is_err());
        assert!(parse("`never closed").is_err());
    }

    #[test]
    fn no_input_panics() {
        // Every prefix of a script using each construct, and each with one
        // byte changed, reads or fails with a line: never a panic.
        let src = "--tolerance_usecs=10000\n`sysctl -q a=1`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n\
                   +0...0.2 accept(3, ..., ...) = 4\n+.1 < [ect0] S. 0:0(0) ack 1 win 257 <mss 1000,sackOK,TS val 1 ecr 0,nop,wscale 7,sack 1:2 3:4,eol>\n\
                   * > P. 1:11(10) ack 1 <...>\n+.3~+.303 > F. 1:1(0) ack 1\n/* c */ +0 poll([{fd=4, events=POLLIN, revents=0}], 1, 0) = 0\n\
                   +0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n+0 %{ assert 1 <= tcpi_rtt <= 2, x ; assert tcpi_lost == 0 # c\n}%\n";
        let chars: Vec<char> = src.chars().collect();
        for k in 0..=chars.len() {
            let prefix: String = chars[..k].iter().collect();
            let _ = parse(&prefix);
            for sub in [
                '(', ')', '<', '>', '.', '~', '+', '%', '`', '\n', '9', '-', ':', '[', '{',
            ] {
                let mut v = chars.clone();
                if k < v.len() {
                    v[k] = sub;
                    let _ = parse(&v.iter().collect::<String>());
                }
            }
        }
        assert!(parse(src).is_ok(), "{:?}", parse(src));
    }
}
