//! pcap-filter text to [`Expr`]. Errors read `filter: at column N: ...`.
//!
//! The grammar is libpcap's, for what craft compiles: primitives with
//! qualifiers (`[proto] [src|dst|src or dst|src and dst] [host|net|port|portrange] id`),
//! a bare id after `and`/`or` taking the qualifiers before it (`port 80 or 443`),
//! `[ip|ip6] proto N`, `ether proto N`, `greater N`, `less N`, relations
//! between arithmetic expressions over `proto[offset:size]`, `len` and named
//! constants, and `and`/`&&`, `or`/`||` (equal precedence, left to right) and
//! `not`/`!` with parentheses.

use super::ast::{Arith, Dir, Expr, Net, Op, Prim, Proto, Rel};
use super::{MAX_DEPTH, MAX_WORDS};
use std::net::{Ipv4Addr, Ipv6Addr};

/// Parses a filter; the empty text is `All([])` (everything passes).
pub fn parse(s: &str) -> Result<Expr, String> {
    let toks = lex(s)?;
    if toks.is_empty() {
        return Ok(Expr::All(vec![]));
    }
    let end = s.chars().count() + 1;
    let mut p = P {
        toks,
        i: 0,
        depth: 0,
        last: None,
        end,
    };
    let e = p.expr()?;
    if let Some(t) = p.toks.get(p.i) {
        let what = match t.t.as_str() {
            ")" => "')' without its '('".to_string(),
            w => format!("unexpected '{w}' (expected and, or or the end)"),
        };
        return Err(err(t.col, what));
    }
    Ok(e)
}

fn err(col: usize, msg: impl std::fmt::Display) -> String {
    format!("filter: at column {col}: {msg}")
}

#[derive(Clone, Debug, PartialEq)]
struct Tok {
    /// The text; a symbol is its own text.
    t: String,
    /// A word (not a symbol).
    word: bool,
    /// Written with a backslash (`\tcp`): a name, never a keyword.
    escaped: bool,
    /// 1-based column of the first character.
    col: usize,
}

const SYMS2: [&str; 8] = ["<<", ">>", "==", "!=", "<=", ">=", "&&", "||"];
const SYMS1: &str = "()[]:+-*/%&|^=<>!";

fn word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-')
}

/// Words and symbols with their columns. Brackets nest at most [`MAX_DEPTH`]
/// deep (checked first, so a deep filter is named as such even when it is also
/// long) and there are at most [`MAX_WORDS`] tokens.
fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let cs: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut count = 0usize;
    let mut open = 0usize;
    let mut i = 0;
    let mut push = |out: &mut Vec<Tok>, t: Tok| {
        count += 1;
        if out.len() <= MAX_WORDS {
            out.push(t);
        }
    };
    while i < cs.len() {
        let c = cs[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let two: String = cs[i..cs.len().min(i + 2)].iter().collect();
        if SYMS2.contains(&two.as_str()) {
            push(&mut out, sym(&two, col));
            i += 2;
            continue;
        }
        let starts_word = c.is_ascii_alphanumeric()
            || c == '_'
            || c == '.'
            || (c == ':' && cs.get(i + 1) == Some(&':'))
            || (c == '\\' && cs.get(i + 1).is_some_and(|&n| word_char(n)));
        if starts_word {
            let escaped = c == '\\';
            let start = if escaped { i + 1 } else { i };
            let mut j = start;
            while j < cs.len() && word_char(cs[j]) {
                j += 1;
            }
            let w: String = cs[start..j].iter().collect();
            // `2:2` inside brackets is offset, ':', size; an IPv6 or MAC address keeps its colons.
            if w.contains(':') && !is_colon_word(&w) {
                let mut c0 = start + 1;
                for (n, part) in w.split(':').enumerate() {
                    if n > 0 {
                        push(&mut out, sym(":", c0 - 1));
                    }
                    if !part.is_empty() {
                        push(&mut out, word(part, escaped && n == 0, c0));
                    }
                    c0 += part.chars().count() + 1;
                }
            } else {
                push(&mut out, word(&w, escaped, col));
            }
            i = j;
            continue;
        }
        if SYMS1.contains(c) {
            match c {
                '(' | '[' => {
                    open += 1;
                    if open > MAX_DEPTH {
                        return Err(err(
                            col,
                            format!(
                                "nested too deeply (more than {MAX_DEPTH} levels of brackets or not)"
                            ),
                        ));
                    }
                }
                ')' | ']' => open = open.saturating_sub(1),
                _ => {}
            }
            push(&mut out, sym(&c.to_string(), col));
            i += 1;
            continue;
        }
        return Err(err(col, format!("unexpected character '{c}'")));
    }
    if count > MAX_WORDS {
        return Err(format!(
            "filter: too long ({count} words; at most {MAX_WORDS})"
        ));
    }
    Ok(out)
}

fn sym(s: &str, col: usize) -> Tok {
    Tok {
        t: s.to_string(),
        word: false,
        escaped: false,
        col,
    }
}

fn word(s: &str, escaped: bool, col: usize) -> Tok {
    Tok {
        t: s.to_string(),
        word: true,
        escaped,
        col,
    }
}

fn is_colon_word(w: &str) -> bool {
    w.parse::<Ipv6Addr>().is_ok()
        || w.split_once('/')
            .is_some_and(|(a, _)| a.parse::<Ipv6Addr>().is_ok())
        || parse_mac(w).is_some()
}

fn parse_mac(w: &str) -> Option<[u8; 6]> {
    let parts: Vec<&str> = w.split([':', '-', '.']).collect();
    if parts.len() != 6 {
        return None;
    }
    let mut m = [0u8; 6];
    for (d, p) in m.iter_mut().zip(&parts) {
        if p.is_empty() || p.len() > 2 {
            return None;
        }
        *d = u8::from_str_radix(p, 16).ok()?;
    }
    Some(m)
}

/// A number as libpcap reads one: `0x` hex, a leading `0` octal, else decimal.
fn parse_num(w: &str) -> Option<Result<u32, ()>> {
    let (digits, radix) = if let Some(h) = w.strip_prefix("0x").or_else(|| w.strip_prefix("0X")) {
        (h, 16)
    } else if w.len() > 1 && w.starts_with('0') {
        (&w[1..], 8)
    } else {
        (w, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    Some(u32::from_str_radix(digits, radix).map_err(|_| ()))
}

/// Named constants of pcap-filter(7).
fn constant(w: &str) -> Option<u32> {
    Some(match w {
        "icmptype" | "icmp6type" => 0,
        "icmpcode" | "icmp6code" => 1,
        "icmp-echoreply" => 0,
        "icmp-unreach" => 3,
        "icmp-sourcequench" => 4,
        "icmp-redirect" => 5,
        "icmp-echo" => 8,
        "icmp-routeradvert" => 9,
        "icmp-routersolicit" => 10,
        "icmp-timxceed" => 11,
        "icmp-paramprob" => 12,
        "icmp-tstamp" => 13,
        "icmp-tstampreply" => 14,
        "icmp-ireq" => 15,
        "icmp-ireqreply" => 16,
        "icmp-maskreq" => 17,
        "icmp-maskreply" => 18,
        "icmp6-destinationunreach" => 1,
        "icmp6-packettoobig" => 2,
        "icmp6-timeexceeded" => 3,
        "icmp6-parameterproblem" => 4,
        "icmp6-echo" => 128,
        "icmp6-echoreply" => 129,
        "icmp6-multicastlistenerquery" => 130,
        "icmp6-multicastlistenerreportv1" => 131,
        "icmp6-multicastlistenerdone" => 132,
        "icmp6-routersolicit" => 133,
        "icmp6-routeradvert" => 134,
        "icmp6-neighborsolicit" => 135,
        "icmp6-neighboradvert" => 136,
        "icmp6-redirect" => 137,
        "tcpflags" => 13,
        "tcp-fin" => 0x01,
        "tcp-syn" => 0x02,
        "tcp-rst" => 0x04,
        "tcp-push" => 0x08,
        "tcp-ack" => 0x10,
        "tcp-urg" => 0x20,
        "tcp-ece" => 0x40,
        "tcp-cwr" => 0x80,
        _ => return None,
    })
}

fn proto_name(w: &str) -> Option<Proto> {
    Some(match w {
        "ether" | "link" => Proto::Ether,
        "ip" => Proto::Ip,
        "ip6" => Proto::Ip6,
        "arp" => Proto::Arp,
        "rarp" => Proto::Rarp,
        "tcp" => Proto::Tcp,
        "udp" => Proto::Udp,
        "sctp" => Proto::Sctp,
        "icmp" => Proto::Icmp,
        "icmp6" => Proto::Icmp6,
        "igmp" => Proto::Igmp,
        _ => return None,
    })
}

/// IP protocol names accepted after `proto` (`ip proto \tcp`; craft also takes `ip proto tcp`).
fn ip_proto_name(w: &str) -> Option<u8> {
    Some(match w {
        "icmp" => 1,
        "igmp" => 2,
        "tcp" => 6,
        "udp" => 17,
        "ipv6" | "ip6" => 41,
        "gre" => 47,
        "esp" => 50,
        "ah" => 51,
        "icmp6" | "ipv6-icmp" => 58,
        "pim" => 103,
        "sctp" => 132,
        _ => return None,
    })
}

/// Ethertype names accepted after `ether proto`.
fn ethertype_name(w: &str) -> Option<u16> {
    Some(match w {
        "ip" => 0x0800,
        "arp" => 0x0806,
        "rarp" => 0x8035,
        "ip6" => 0x86dd,
        _ => return None,
    })
}

/// Well-known service names for `port` (a few; numbers always work).
fn service(w: &str) -> Option<u16> {
    Some(match w {
        "ftp-data" => 20,
        "ftp" => 21,
        "ssh" => 22,
        "telnet" => 23,
        "smtp" => 25,
        "domain" => 53,
        "bootps" => 67,
        "bootpc" => 68,
        "tftp" => 69,
        "http" | "www" => 80,
        "pop3" => 110,
        "ntp" => 123,
        "imap" => 143,
        "snmp" => 161,
        "bgp" => 179,
        "https" => 443,
        _ => return None,
    })
}

/// pcap-filter words craft's compiler does not support (named as such, not "unknown").
const UNSUPPORTED: &[&str] = &[
    "gateway",
    "broadcast",
    "multicast",
    "vlan",
    "mpls",
    "pppoed",
    "pppoes",
    "geneve",
    "vxlan",
    "inbound",
    "outbound",
    "ifindex",
    "ifname",
    "on",
    "protochain",
    "llc",
    "atalk",
    "aarp",
    "decnet",
    "iso",
    "stp",
    "ipx",
    "netbeui",
    "lat",
    "moprc",
    "mopdl",
    "sca",
    "fddi",
    "tr",
    "wlan",
    "radio",
    "ppp",
    "slip",
    "esis",
    "isis",
    "clnp",
    "ah",
    "esp",
    "pim",
    "vrrp",
    "carp",
    "igrp",
    "type",
    "subtype",
    "dir",
    "ra",
    "ta",
    "addr1",
    "addr2",
    "addr3",
    "addr4",
    "rnr",
    "rulenum",
    "reason",
    "rset",
    "ruleset",
    "srnr",
    "subrulenum",
    "action",
    "hdlc",
    "lane",
    "metac",
    "bcc",
    "oam",
    "oamf4",
    "sc",
    "ilmic",
    "connectmsg",
    "metaconnect",
    "vpi",
    "vci",
    "fisu",
    "lssu",
    "msu",
    "sio",
    "opc",
    "dpc",
    "sls",
];

/// What a bare id means: the qualifiers of the last primitive that had them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Host,
    Net,
    Port,
    Portrange,
}

#[derive(Clone, Copy, Debug)]
struct Qual {
    proto: Option<Proto>,
    dir: Option<Dir>,
    kind: Kind,
}

struct P {
    toks: Vec<Tok>,
    i: usize,
    /// Brackets, `not`s and unary minus open here.
    depth: usize,
    last: Option<Qual>,
    /// The column just past the text (for "at the end").
    end: usize,
}

fn is_arith_sym(t: &str) -> bool {
    matches!(
        t,
        "+" | "-" | "*" | "/" | "%" | "&" | "|" | "^" | "<<" | ">>"
    ) || is_relop(t)
}

fn is_relop(t: &str) -> bool {
    matches!(t, "==" | "=" | "!=" | "<" | "<=" | ">" | ">=")
}

impl P {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i)
    }

    fn peek_at(&self, n: usize) -> Option<&Tok> {
        self.toks.get(self.i + n)
    }

    fn col(&self) -> usize {
        self.peek().map_or(self.end, |t| t.col)
    }

    fn is(&self, s: &str) -> bool {
        self.peek().is_some_and(|t| t.t == s && !t.escaped)
    }

    fn is_kw(&self, n: usize, s: &str) -> bool {
        self.peek_at(n)
            .is_some_and(|t| t.word && !t.escaped && t.t == s)
    }

    fn err_here(&self, what: impl std::fmt::Display) -> String {
        match self.peek() {
            Some(t) => err(t.col, format!("{what}, not '{}'", t.t)),
            None => err(self.end, format!("{what} at the end")),
        }
    }

    fn expect(&mut self, s: &str) -> Result<(), String> {
        if self.is(s) && self.peek().is_some_and(|t| !t.word) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err_here(format!("expected '{s}'")))
        }
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err(
                self.col(),
                format!("nested too deeply (more than {MAX_DEPTH} levels of brackets or not)"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// `and` and `or` chains; each switch between them nests the tree one
    /// level deeper, and counts as a level of depth (as a bracket does).
    fn expr(&mut self) -> Result<Expr, String> {
        let mut cur = self.term()?;
        let entered = self.depth;
        let r = self.chain(&mut cur);
        self.depth = entered;
        r.map(|()| cur)
    }

    fn chain(&mut self, cur: &mut Expr) -> Result<(), String> {
        loop {
            let and = if self.is_kw(0, "and") || self.is("&&") {
                true
            } else if self.is_kw(0, "or") || self.is("||") {
                false
            } else {
                return Ok(());
            };
            let col = self.col();
            self.i += 1;
            let rhs = self.term()?;
            match (and, &mut *cur) {
                (true, Expr::All(v)) | (false, Expr::Any(v)) if !v.is_empty() => v.push(rhs),
                _ => {
                    self.depth += 1;
                    if self.depth > MAX_DEPTH {
                        return Err(err(
                            col,
                            format!(
                                "nested too deeply (more than {MAX_DEPTH} levels of brackets, not, or and/or alternating)"
                            ),
                        ));
                    }
                    let l = std::mem::replace(cur, Expr::All(vec![]));
                    *cur = if and {
                        Expr::All(vec![l, rhs])
                    } else {
                        Expr::Any(vec![l, rhs])
                    };
                }
            }
        }
    }

    fn term(&mut self) -> Result<Expr, String> {
        if self.is_kw(0, "not") || self.is("!") {
            self.i += 1;
            self.enter()?;
            let t = self.term()?;
            self.leave();
            return Ok(Expr::Not(Box::new(t)));
        }
        if self.is("(") {
            if self.group_is_arith() {
                return self.relation();
            }
            self.i += 1;
            self.enter()?;
            let e = self.expr()?;
            if !self.is(")") {
                return Err(self.err_here("expected ')' or and/or"));
            }
            self.i += 1;
            self.leave();
            return Ok(e);
        }
        if self.starts_relation() {
            return self.relation();
        }
        self.primitive()
    }

    /// At a '(': whether an arithmetic operator or comparison follows its ')'.
    fn group_is_arith(&self) -> bool {
        let mut open = 0usize;
        for (j, t) in self.toks[self.i..].iter().enumerate() {
            if t.word {
                continue;
            }
            match t.t.as_str() {
                "(" => open += 1,
                ")" => {
                    open -= 1;
                    if open == 0 {
                        return self
                            .peek_at(j + 1)
                            .is_some_and(|n| !n.word && is_arith_sym(&n.t));
                    }
                }
                _ => {}
            }
        }
        false
    }

    fn starts_relation(&self) -> bool {
        let Some(t) = self.peek() else { return false };
        if !t.word {
            return t.t == "-";
        }
        if t.escaped {
            return false;
        }
        let next_arith = self
            .peek_at(1)
            .is_some_and(|n| !n.word && is_arith_sym(&n.t));
        let w = t.t.as_str();
        (parse_num(w).is_some() && next_arith)
            || w == "len"
            || constant(w).is_some()
            || (proto_name(w).is_some() && self.peek_at(1).is_some_and(|n| n.t == "[" && !n.word))
    }

    fn relation(&mut self) -> Result<Expr, String> {
        let l = self.arith(0)?;
        let rel = match self.peek() {
            Some(t) if !t.word && is_relop(&t.t) => match t.t.as_str() {
                "==" | "=" => Rel::Eq,
                "!=" => Rel::Ne,
                "<" => Rel::Lt,
                "<=" => Rel::Le,
                ">" => Rel::Gt,
                _ => Rel::Ge,
            },
            _ => {
                return Err(self.err_here(
                    "expected a comparison (==, !=, <, <=, >, >=) after the arithmetic",
                ));
            }
        };
        self.i += 1;
        let r = self.arith(0)?;
        Ok(Expr::Rel(l, rel, r))
    }

    fn binop(&self) -> Option<(Op, u8)> {
        let t = self.peek()?;
        if t.word {
            return None;
        }
        Some(match t.t.as_str() {
            "|" => (Op::Or, 0),
            "^" => (Op::Xor, 1),
            "&" => (Op::And, 2),
            "<<" => (Op::Shl, 3),
            ">>" => (Op::Shr, 3),
            "+" => (Op::Add, 4),
            "-" => (Op::Sub, 4),
            "*" => (Op::Mul, 5),
            "/" => (Op::Div, 5),
            "%" => (Op::Mod, 5),
            _ => return None,
        })
    }

    /// Arithmetic at or above precedence `min`, left to right.
    /// Each operator nests the tree one level deeper and counts as a level of depth.
    fn arith(&mut self, min: u8) -> Result<Arith, String> {
        let entered = self.depth;
        let r = self.arith_chain(min);
        self.depth = entered;
        r
    }

    fn arith_chain(&mut self, min: u8) -> Result<Arith, String> {
        let mut l = self.unary()?;
        while let Some((op, prec)) = self.binop() {
            if prec < min {
                break;
            }
            let col = self.col();
            self.enter()?;
            self.i += 1;
            let r = self.arith(prec + 1)?;
            l = Arith::Bin(op, Box::new(l), Box::new(r), col);
        }
        Ok(l)
    }

    fn unary(&mut self) -> Result<Arith, String> {
        if self.is("-") && self.peek().is_some_and(|t| !t.word) {
            self.i += 1;
            self.enter()?;
            let a = self.unary()?;
            self.leave();
            return Ok(Arith::Neg(Box::new(a)));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Arith, String> {
        const WANT: &str = "expected a number, len, a named constant (tcpflags, tcp-syn, icmp-echo, ...) or proto[offset]";
        let Some(t) = self.peek().cloned() else {
            return Err(self.err_here(WANT));
        };
        if !t.word {
            if t.t == "(" {
                self.i += 1;
                self.enter()?;
                let a = self.arith(0)?;
                self.expect(")")?;
                self.leave();
                return Ok(a);
            }
            return Err(self.err_here(WANT));
        }
        let w = t.t.as_str();
        if let Some(n) = parse_num(w) {
            self.i += 1;
            return n.map(Arith::Num).map_err(|()| {
                err(
                    t.col,
                    format!("'{w}' is too large (numbers are 32 bits: at most 4294967295)"),
                )
            });
        }
        if t.escaped {
            return Err(self.err_here(WANT));
        }
        if w == "len" {
            self.i += 1;
            return Ok(Arith::Len);
        }
        if let Some(n) = constant(w) {
            self.i += 1;
            return Ok(Arith::Num(n));
        }
        if let Some(p) = proto_name(w) {
            if !self.peek_at(1).is_some_and(|n| n.t == "[" && !n.word) {
                return Err(err(
                    t.col,
                    format!("'{w}' in arithmetic needs an offset: {w}[N] or {w}[N:size]"),
                ));
            }
            self.i += 2;
            self.enter()?;
            let idx = self.arith(0)?;
            let mut size = 1u8;
            if self.is(":") {
                self.i += 1;
                let st = self.peek().cloned();
                size = match st.as_ref().map(|s| s.t.as_str()) {
                    Some("1") => 1,
                    Some("2") => 2,
                    Some("4") => 4,
                    _ => return Err(self.err_here("expected a size of 1, 2 or 4 after ':'")),
                };
                self.i += 1;
            }
            self.expect("]")?;
            self.leave();
            return Ok(Arith::Load(p, Box::new(idx), size));
        }
        if w.contains('-') {
            return Err(err(
                t.col,
                format!("unknown word '{w}' (to subtract, put spaces around '-')"),
            ));
        }
        Err(err(
            t.col,
            format!("unknown word '{w}' in arithmetic ({WANT})"),
        ))
    }

    fn primitive(&mut self) -> Result<Expr, String> {
        const KNOWN: &str = "known: tcp udp icmp ip ip6 arp, [src|dst] host A, net A/len, [src|dst] port N, portrange N-M, ip proto N, greater N, less N, proto[offset] comparisons, and or not, parentheses";
        let Some(first) = self.peek().cloned() else {
            return Err(self.err_here(format!("expected a primitive ({KNOWN})")));
        };
        if !first.word {
            return Err(self.err_here(format!("expected a primitive ({KNOWN})")));
        }
        let start = first.col;
        if !first.escaped {
            if UNSUPPORTED.contains(&first.t.as_str()) {
                return Err(err(
                    start,
                    format!(
                        "'{}' is pcap-filter syntax that craft's compiler does not support ({KNOWN})",
                        first.t
                    ),
                ));
            }
            if first.t == "greater" || first.t == "less" {
                self.i += 1;
                let n = self.number("a length")?;
                return Ok(Expr::Prim(Prim::Len(first.t == "greater", n)));
            }
        }
        let mut proto = None;
        if !first.escaped
            && let Some(p) = proto_name(&first.t)
        {
            proto = Some(p);
            self.i += 1;
        }
        let mut dir = None;
        if self.is_kw(0, "src") || self.is_kw(0, "dst") {
            let src = self.is_kw(0, "src");
            self.i += 1;
            let other = if src { "dst" } else { "src" };
            dir = Some(if src { Dir::Src } else { Dir::Dst });
            if (self.is_kw(0, "or") || self.is_kw(0, "and")) && self.is_kw(1, other) {
                dir = Some(if self.is_kw(0, "or") {
                    Dir::Either
                } else {
                    Dir::Both
                });
                self.i += 2;
            }
        }
        let kind_word = self
            .peek()
            .filter(|t| t.word && !t.escaped)
            .map(|t| t.t.clone());
        let kind = match kind_word.as_deref() {
            Some("host") => Some(Kind::Host),
            Some("net") => Some(Kind::Net),
            Some("port") => Some(Kind::Port),
            Some("portrange") => Some(Kind::Portrange),
            Some("proto") => {
                self.i += 1;
                if dir.is_some() {
                    return Err(err(start, "src/dst does not go with proto"));
                }
                return self.proto_number(proto, start);
            }
            Some(w) if UNSUPPORTED.contains(&w) => {
                return Err(err(
                    self.col(),
                    format!("'{w}' is pcap-filter syntax that craft's compiler does not support"),
                ));
            }
            _ => None,
        };
        if kind.is_some() {
            self.i += 1;
        }
        let at_end = self.peek().is_none_or(|t| {
            (!t.word && (t.t == ")" || t.t == "&&" || t.t == "||"))
                || (t.word && !t.escaped && (t.t == "and" || t.t == "or"))
        });
        if let (Some(p), None, None, true) = (proto, dir, kind, at_end) {
            return Ok(Expr::Prim(Prim::Proto(p)));
        }
        let q = match (proto, dir, kind) {
            (None, None, None) => {
                // A bare id: the qualifiers before it, or host.
                let looks_like_value = first.escaped
                    || first.t.starts_with(|c: char| c.is_ascii_digit())
                    || first.t.contains(['.', ':']);
                if !looks_like_value {
                    let hint = if first.t.contains('-') {
                        " (to subtract, put spaces around '-')".to_string()
                    } else {
                        format!(" ({KNOWN})")
                    };
                    return Err(err(start, format!("unknown word '{}'{hint}", first.t)));
                }
                self.last.unwrap_or(Qual {
                    proto: None,
                    dir: None,
                    kind: Kind::Host,
                })
            }
            (proto, dir, kind) => Qual {
                proto,
                dir,
                kind: kind.unwrap_or(Kind::Host),
            },
        };
        self.last = Some(q);
        let dir = q.dir.unwrap_or(Dir::Either);
        match q.kind {
            Kind::Host | Kind::Net => self.host_or_net(q.proto, dir, q.kind == Kind::Net, start),
            Kind::Port | Kind::Portrange => {
                match q.proto {
                    None | Some(Proto::Tcp | Proto::Udp | Proto::Sctp | Proto::Ip | Proto::Ip6) => {
                    }
                    Some(p) => {
                        return Err(err(
                            start,
                            format!("'{}' does not go with port", proto_word(p)),
                        ));
                    }
                }
                let (lo, hi) = if q.kind == Kind::Port {
                    let p = self.port()?;
                    (p, p)
                } else {
                    self.portrange()?
                };
                Ok(Expr::Prim(Prim::Port(q.proto, dir, lo, hi)))
            }
        }
    }

    fn number(&mut self, what: &str) -> Result<u32, String> {
        let Some(t) = self.peek().cloned() else {
            return Err(self.err_here(format!("expected {what}")));
        };
        match parse_num(&t.t) {
            Some(Ok(n)) if t.word => {
                self.i += 1;
                Ok(n)
            }
            Some(Err(())) => Err(err(t.col, format!("'{}' is too large for {what}", t.t))),
            _ => Err(self.err_here(format!("expected {what} (a number)"))),
        }
    }

    fn proto_number(&mut self, proto: Option<Proto>, start: usize) -> Result<Expr, String> {
        let Some(t) = self.peek().cloned().filter(|t| t.word) else {
            return Err(self.err_here("expected a protocol number or name after proto"));
        };
        if proto == Some(Proto::Ether) {
            let n = match parse_num(&t.t) {
                Some(Ok(n)) if n <= 0xffff => n as u16,
                Some(_) => {
                    return Err(err(
                        t.col,
                        format!("'{}' is not an ethertype (0..=0xffff)", t.t),
                    ));
                }
                None => ethertype_name(&t.t).ok_or_else(|| {
                    err(
                        t.col,
                        format!(
                            "'{}' is not an ethertype (a number, or ip, ip6, arp, rarp)",
                            t.t
                        ),
                    )
                })?,
            };
            self.i += 1;
            return Ok(Expr::Prim(Prim::EtherProto(n)));
        }
        match proto {
            None | Some(Proto::Ip | Proto::Ip6) => {}
            Some(p) => {
                return Err(err(
                    start,
                    format!("'{}' does not go with proto", proto_word(p)),
                ));
            }
        }
        let n = match parse_num(&t.t) {
            Some(Ok(n)) if n <= 255 => n as u8,
            Some(_) => return Err(err(t.col, format!("'{}' is not an IP protocol (0..=255)", t.t))),
            None => ip_proto_name(&t.t).ok_or_else(|| {
                err(t.col, format!("'{}' is not an IP protocol (a number, or tcp, udp, icmp, icmp6, igmp, sctp, ...)", t.t))
            })?,
        };
        self.i += 1;
        Ok(Expr::Prim(Prim::IpProto(proto, n)))
    }

    fn port(&mut self) -> Result<u16, String> {
        let Some(t) = self.peek().cloned().filter(|t| t.word) else {
            return Err(self.err_here("expected a port number"));
        };
        let p = port_value(&t.t).ok_or_else(|| {
            err(
                t.col,
                format!(
                    "'{}' is not a port number (0..=65535) or known service name",
                    t.t
                ),
            )
        })?;
        self.i += 1;
        Ok(p)
    }

    fn portrange(&mut self) -> Result<(u16, u16), String> {
        let Some(t) = self.peek().cloned().filter(|t| t.word) else {
            return Err(self.err_here("expected a port range like 1000-2000"));
        };
        let bad = || {
            err(
                t.col,
                format!("'{}' is not a port range like 1000-2000", t.t),
            )
        };
        let (a, b) = t.t.split_once('-').ok_or_else(bad)?;
        let a = port_value(a).ok_or_else(bad)?;
        let b = port_value(b).ok_or_else(bad)?;
        self.i += 1;
        Ok((a.min(b), a.max(b)))
    }

    fn host_or_net(
        &mut self,
        proto: Option<Proto>,
        dir: Dir,
        net: bool,
        start: usize,
    ) -> Result<Expr, String> {
        let what = if net { "net" } else { "host" };
        let Some(t) = self.peek().cloned().filter(|t| t.word) else {
            return Err(self.err_here(format!("expected an address after {what}")));
        };
        self.i += 1;
        let w = t.t.as_str();
        if proto == Some(Proto::Ether) {
            if net {
                return Err(err(start, "'ether' does not go with net"));
            }
            let m = parse_mac(w).ok_or_else(|| {
                err(
                    t.col,
                    format!("'{w}' is not an Ethernet address like 00:11:22:33:44:55"),
                )
            })?;
            return Ok(Expr::Prim(Prim::EtherHost(dir, m)));
        }
        match proto {
            None | Some(Proto::Ip | Proto::Ip6 | Proto::Arp | Proto::Rarp) => {}
            Some(p) => {
                return Err(err(
                    start,
                    format!("'{}' does not go with {what}", proto_word(p)),
                ));
            }
        }
        let (addr, len) = match w.split_once('/') {
            Some((a, l)) => (a, Some((l, t.col))),
            None => (w, None),
        };
        // `net A/len`, `net A mask M`, `net A` (its dotted parts are the prefix).
        let mut len = len.map(|(l, c)| (l.to_string(), c));
        if !net && self.is("/") {
            return Err(err(
                t.col,
                format!("'{w}/' has a prefix length: use net, not host"),
            ));
        }
        if net && len.is_none() && self.is("/") && self.peek().is_some_and(|t| !t.word) {
            self.i += 1;
            let l = self
                .peek()
                .cloned()
                .filter(|t| t.word)
                .ok_or_else(|| self.err_here("expected a prefix length after '/'"))?;
            self.i += 1;
            len = Some((l.t, l.col));
        }
        let mut mask: Option<(Ipv4Addr, usize)> = None;
        if net && len.is_none() && self.is_kw(0, "mask") {
            self.i += 1;
            let m = self
                .peek()
                .cloned()
                .filter(|t| t.word)
                .ok_or_else(|| self.err_here("expected a mask like 255.255.0.0 after mask"))?;
            self.i += 1;
            let a =
                m.t.parse::<Ipv4Addr>()
                    .map_err(|_| err(m.col, format!("'{}' is not a mask like 255.255.0.0", m.t)))?;
            mask = Some((a, m.col));
        }
        if !net && len.is_some() {
            return Err(err(
                t.col,
                format!("'{w}' has a prefix length: use net, not host"),
            ));
        }
        if let Ok(a6) = addr.parse::<Ipv6Addr>() {
            if matches!(proto, Some(Proto::Ip | Proto::Arp | Proto::Rarp)) {
                return Err(err(
                    t.col,
                    format!(
                        "'{w}' is an IPv6 address, not {}",
                        proto_word(proto.unwrap_or(Proto::Ip))
                    ),
                ));
            }
            if mask.is_some() {
                return Err(err(t.col, "an IPv6 net takes /len, not mask"));
            }
            let plen = match &len {
                None => 128,
                Some((l, c)) => match l.parse::<u8>() {
                    Ok(n) if n <= 128 => n,
                    _ => return Err(err(*c, format!("'{l}' is not a prefix length (0..=128)"))),
                },
            };
            let bits = u128::from(a6);
            let m = if plen == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(plen))
            };
            if bits & !m != 0 {
                return Err(err(t.col, format!("non-network bits set in '{w}'")));
            }
            return Ok(Expr::Prim(Prim::Net(proto, dir, Net::V6(a6, plen))));
        }
        if proto == Some(Proto::Ip6) {
            return Err(err(t.col, format!("'{w}' is not an IPv6 address")));
        }
        let (a4, parts) = if w == "localhost" && !net {
            (Ipv4Addr::LOCALHOST, 4)
        } else {
            parse_v4(addr, net).ok_or_else(|| {
                err(
                    t.col,
                    format!("'{addr}' is not an IPv4 or IPv6 address (craft does not resolve host names)"),
                )
            })?
        };
        let m = if let Some((l, c)) = &len {
            match l.parse::<u32>() {
                Ok(0) => 0,
                Ok(n) if n <= 32 => u32::MAX << (32 - n),
                _ => return Err(err(*c, format!("'{l}' is not a prefix length (0..=32)"))),
            }
        } else if let Some((m, _)) = mask {
            u32::from(m)
        } else if net {
            if parts == 4 {
                u32::MAX
            } else {
                u32::MAX << (32 - 8 * parts)
            }
        } else {
            u32::MAX
        };
        if u32::from(a4) & !m != 0 {
            return Err(err(t.col, format!("non-network bits set in '{w}'")));
        }
        Ok(Expr::Prim(Prim::Net(proto, dir, Net::V4(a4, m))))
    }
}

fn proto_word(p: Proto) -> &'static str {
    match p {
        Proto::Ether => "ether",
        Proto::Ip => "ip",
        Proto::Ip6 => "ip6",
        Proto::Arp => "arp",
        Proto::Rarp => "rarp",
        Proto::Tcp => "tcp",
        Proto::Udp => "udp",
        Proto::Sctp => "sctp",
        Proto::Icmp => "icmp",
        Proto::Icmp6 => "icmp6",
        Proto::Igmp => "igmp",
    }
}

fn port_value(w: &str) -> Option<u16> {
    match parse_num(w) {
        Some(Ok(n)) => u16::try_from(n).ok(),
        Some(Err(())) => None,
        None => service(w),
    }
}

/// A dotted IPv4 address; for a net, 1 to 4 parts (`10`, `10.1`), returned
/// with how many there were.
fn parse_v4(s: &str, partial: bool) -> Option<(Ipv4Addr, u32)> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 || (!partial && parts.len() != 4) {
        return None;
    }
    let mut b = [0u8; 4];
    for (d, p) in b.iter_mut().zip(&parts) {
        if p.is_empty() || p.len() > 3 || !p.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        *d = p.parse().ok()?;
    }
    Some((Ipv4Addr::from(b), parts.len() as u32))
}
