//! A small tcpdump-like filter, checked in user space: `tcp port 1234`,
//! `src host 127.0.0.1 and not icmp`, `udp or (tcp and dst port 80)`.
//! Primitives: `ip tcp udp icmp`, `[src|dst] port N`, `[src|dst] host A`,
//! `portrange N-M`; joined with `and`/`&&`, `or`/`||`, `not`/`!`, parentheses.

use crate::wire::Packet;
use std::net::Ipv4Addr;

/// A parsed filter.
#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    /// Matches everything.
    Any,
    /// Has this protocol layer.
    Proto(&'static str),
    /// Port in a range, by direction.
    Port(Dir, u16, u16),
    /// Address, by direction.
    Host(Dir, Ipv4Addr),
    /// Both.
    And(Box<Filter>, Box<Filter>),
    /// Either.
    Or(Box<Filter>, Box<Filter>),
    /// Negation.
    Not(Box<Filter>),
}

/// Which side of a packet a primitive looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Source.
    Src,
    /// Destination.
    Dst,
    /// Either.
    Either,
}

impl Filter {
    /// Parses a filter expression; errors name the word and what was expected.
    pub fn parse(s: &str) -> Result<Filter, String> {
        let spaced = s
            .replace('(', " ( ")
            .replace(')', " ) ")
            .replace("&&", " and ")
            .replace("||", " or ")
            .replace('!', " not ");
        let words: Vec<&str> = spaced.split_whitespace().collect();
        if words.is_empty() {
            return Ok(Filter::Any);
        }
        // Brackets first: a deep one is named as such even when also long.
        let mut open = 0usize;
        for (i, w) in words.iter().enumerate() {
            match *w {
                "(" => open += 1,
                ")" => open = open.saturating_sub(1),
                _ => {}
            }
            if open > MAX_DEPTH {
                return Err(format!(
                    "filter: nested too deeply at word {} (more than {MAX_DEPTH} levels of brackets or not)",
                    i + 1
                ));
            }
        }
        if words.len() > MAX_WORDS {
            return Err(format!(
                "filter: too long ({} words; at most {MAX_WORDS})",
                words.len()
            ));
        }
        let mut p = P {
            w: words,
            i: 0,
            depth: 0,
        };
        let f = p.or()?;
        if p.i < p.w.len() {
            return Err(format!(
                "filter: unexpected '{}' (word {})",
                p.w[p.i],
                p.i + 1
            ));
        }
        Ok(f)
    }

    /// True when `p` passes.
    pub fn matches(&self, p: &Packet) -> bool {
        match self {
            Filter::Any => true,
            Filter::Proto(n) => match *n {
                "ip" => p.ip().is_some(),
                "tcp" => p.tcp().is_some(),
                "udp" => p.udp().is_some(),
                _ => p.icmp().is_some(),
            },
            Filter::Port(d, lo, hi) => {
                let ports = p
                    .tcp()
                    .map(|t| (t.sport, t.dport))
                    .or_else(|| p.udp().map(|u| (u.sport, u.dport)));
                let Some((s, dp)) = ports else { return false };
                let inr = |x: Option<u16>| x.is_some_and(|x| (*lo..=*hi).contains(&x));
                match d {
                    Dir::Src => inr(s),
                    Dir::Dst => inr(dp),
                    Dir::Either => inr(s) || inr(dp),
                }
            }
            Filter::Host(d, a) => {
                let Some(ip) = p.ip() else { return false };
                match d {
                    Dir::Src => ip.src == Some(*a),
                    Dir::Dst => ip.dst == Some(*a),
                    Dir::Either => ip.src == Some(*a) || ip.dst == Some(*a),
                }
            }
            Filter::And(a, b) => a.matches(p) && b.matches(p),
            Filter::Or(a, b) => a.matches(p) || b.matches(p),
            Filter::Not(a) => !a.matches(p),
        }
    }
}

/// Words a filter may have: matching and dropping a filter recurse once per
/// `and`/`or`, so its length bounds their depth.
const MAX_WORDS: usize = 4096;

/// Brackets and `not`s nest at most this deep (parsing recurses once per level).
const MAX_DEPTH: usize = 100;

struct P<'a> {
    w: Vec<&'a str>,
    i: usize,
    /// Brackets and `not`s open here.
    depth: usize,
}

impl P<'_> {
    fn peek(&self) -> Option<&str> {
        self.w.get(self.i).copied()
    }

    fn or(&mut self) -> Result<Filter, String> {
        let mut l = self.and()?;
        while self.peek() == Some("or") {
            self.i += 1;
            l = Filter::Or(Box::new(l), Box::new(self.and()?));
        }
        Ok(l)
    }

    fn and(&mut self) -> Result<Filter, String> {
        let mut l = self.not()?;
        loop {
            match self.peek() {
                Some("and") => self.i += 1,
                // tcpdump lets primitives follow each other: `tcp port 80` = `tcp and port 80`.
                Some(w) if w != "or" && w != ")" => {}
                _ => return Ok(l),
            }
            l = Filter::And(Box::new(l), Box::new(self.not()?));
        }
    }

    /// Enters one more level of brackets or `not`.
    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!(
                "filter: nested too deeply at word {} (more than {MAX_DEPTH} levels of brackets or not)",
                self.i + 1
            ));
        }
        Ok(())
    }

    fn not(&mut self) -> Result<Filter, String> {
        if self.peek() == Some("not") {
            self.i += 1;
            self.enter()?;
            let f = Filter::Not(Box::new(self.not()?));
            self.depth -= 1;
            return Ok(f);
        }
        self.prim()
    }

    fn word(&mut self, what: &str) -> Result<String, String> {
        let w = self
            .peek()
            .ok_or_else(|| format!("filter: expected {what} at the end"))?
            .to_string();
        self.i += 1;
        Ok(w)
    }

    fn prim(&mut self) -> Result<Filter, String> {
        let w = self.word("a primitive (tcp, udp, icmp, ip, port N, host A)")?;
        let dir = match w.as_str() {
            "src" => Some(Dir::Src),
            "dst" => Some(Dir::Dst),
            _ => None,
        };
        let w = if dir.is_some() {
            self.word("port or host after src/dst")?
        } else {
            w
        };
        let dir = dir.unwrap_or(Dir::Either);
        match w.as_str() {
            "(" => {
                self.enter()?;
                let f = self.or()?;
                if self.word("')'")? != ")" {
                    return Err("filter: expected ')'".into());
                }
                self.depth -= 1;
                Ok(f)
            }
            "ip" => Ok(Filter::Proto("ip")),
            "tcp" => Ok(Filter::Proto("tcp")),
            "udp" => Ok(Filter::Proto("udp")),
            "icmp" => Ok(Filter::Proto("icmp")),
            "port" => {
                let n = self.word("a port number")?;
                let p = n
                    .parse::<u16>()
                    .map_err(|_| format!("filter: '{n}' is not a port number (0..=65535)"))?;
                Ok(Filter::Port(dir, p, p))
            }
            "portrange" => {
                let n = self.word("a port range like 1000-2000")?;
                let (a, b) = n
                    .split_once('-')
                    .ok_or_else(|| format!("filter: '{n}' is not a range like 1000-2000"))?;
                let a = a
                    .parse::<u16>()
                    .map_err(|_| format!("filter: '{a}' is not a port number"))?;
                let b = b
                    .parse::<u16>()
                    .map_err(|_| format!("filter: '{b}' is not a port number"))?;
                Ok(Filter::Port(dir, a.min(b), a.max(b)))
            }
            "host" => {
                let n = self.word("an IPv4 address")?;
                let a = if n == "localhost" {
                    Ipv4Addr::LOCALHOST
                } else {
                    n.parse()
                        .map_err(|_| format!("filter: '{n}' is not an IPv4 address"))?
                };
                Ok(Filter::Host(dir, a))
            }
            other => Err(format!(
                "filter: unknown word '{other}' (known: tcp udp icmp ip [src|dst] port N, portrange N-M, [src|dst] host A, and or not, parentheses)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Layer, Tcp};

    #[test]
    fn filters() {
        let t = Tcp {
            sport: Some(40000),
            dport: Some(1234),
            ..Tcp::default()
        };
        let p = Packet {
            layers: vec![
                Layer::Ether(Default::default()),
                Layer::Ip(Default::default()),
                Layer::Tcp(t),
            ],
        }
        .resolved();
        for (f, want) in [
            ("tcp port 1234", true),
            ("tcp and dst port 1234", true),
            ("src port 1234", false),
            ("udp or (tcp && port 40000)", true),
            ("not tcp", false),
            ("host 127.0.0.1 and portrange 1000-2000", true),
            ("", true),
        ] {
            assert_eq!(Filter::parse(f).unwrap().matches(&p), want, "{f}");
        }
        assert!(
            Filter::parse("tcp port x")
                .unwrap_err()
                .contains("'x' is not a port")
        );
        assert!(Filter::parse("frob").unwrap_err().contains("unknown word"));
        assert!(Filter::parse("(tcp").is_err());
    }

    #[test]
    fn deep_or_long_filters_are_refused_not_a_crash() {
        let deep = format!("{}tcp{}", "(".repeat(200_000), ")".repeat(200_000));
        let e = Filter::parse(&deep).unwrap_err();
        assert!(e.contains("nested too deeply"), "{e}");
        let nots = format!("{}tcp", "not ".repeat(200));
        assert!(
            Filter::parse(&nots)
                .unwrap_err()
                .contains("nested too deeply")
        );
        let nots = format!("{}tcp", "not ".repeat(200_000));
        assert!(Filter::parse(&nots).unwrap_err().contains("too long"));
        let long = vec!["tcp"; 100_000].join(" and ");
        assert!(Filter::parse(&long).unwrap_err().contains("too long"));
        // Within the limits, deep is fine.
        let ok = format!("{}tcp{}", "(".repeat(100), ")".repeat(100));
        assert!(Filter::parse(&ok).is_ok());
        let ok = vec!["tcp"; 2000].join(" and ");
        assert!(Filter::parse(&ok).is_ok());
    }
}
