//! `craft scan --ports 1-65535`: a SYN scan, like `nmap -sS`, on the
//! language's `sr()` path (probes in sendmmsg batches, answers matched as
//! `sr1` matches). No RST guard: the kernel answers each SYN-ACK with a RST,
//! which ends every half-open connection the scan made.

use super::syn::syn_packet;
use crate::engine::{Error, EvalResult, Runtime};
use crate::lang::Pos;
use crate::live::Live;
use crate::outcome::Outcome;
use crate::render::json::{J, object};
use crate::session::isn::initial_seq;
use crate::wire::tcp::flags;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

/// What to scan.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// Destination address.
    pub dst: Ipv4Addr,
    /// Port list as given: `1-1024,8080`.
    pub ports: String,
    /// Wait after the last probe.
    pub timeout: Duration,
    /// Rounds for probes nothing answered.
    pub retry: usize,
    /// List closed ports too.
    pub all: bool,
    /// JSON objects instead of lines.
    pub json: bool,
}

/// What a port's probe found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortState {
    /// SYN-ACK: something listens.
    Open,
    /// RST: nothing listens.
    Closed,
    /// No answer, or an ICMP error.
    Filtered,
}

impl PortState {
    /// nmap's word for it.
    pub fn name(self) -> &'static str {
        match self {
            PortState::Open => "open",
            PortState::Closed => "closed",
            PortState::Filtered => "filtered",
        }
    }
}

/// Parses `22`, `1-1024`, `22,80,8000-8100` into ports in order, without repeats.
pub fn parse_ports(s: &str) -> Result<Vec<u16>, String> {
    let mut seen = vec![false; 65536];
    let mut out = Vec::new();
    let num = |t: &str| -> Result<u16, String> {
        match t.trim().parse::<u32>() {
            Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
            _ => Err(format!(
                "--ports {s}: '{}' is not a port (1-65535)",
                t.trim()
            )),
        }
    };
    for part in s.split(',').filter(|p| !p.trim().is_empty()) {
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None => (num(part)?, num(part)?),
        };
        if lo > hi {
            return Err(format!("--ports {s}: {lo}-{hi} runs backwards"));
        }
        for p in lo..=hi {
            if !std::mem::replace(&mut seen[usize::from(p)], true) {
                out.push(p);
            }
        }
    }
    if out.is_empty() {
        return Err(format!(
            "--ports '{s}': name ports, like 1-1024 or 22,80,443"
        ));
    }
    Ok(out)
}

/// Scans; success whatever the ports' states (a scan that ran is a success).
pub fn run(rt: &mut Runtime, o: &ScanOptions) -> EvalResult<Outcome> {
    let pos = Pos::default();
    let ports = parse_ports(&o.ports).map_err(Error::usage)?;
    rt.live(pos)?.guard_rst = false;
    let sport = rt.with_link(pos, Live::default_sport)?;
    // Only answers reach the socket: not our own probes' looped-back copies
    // (half of what lo would queue for us), nor anything else on lo.
    let answers = crate::wire::bpf::Filter::parse(&format!("tcp dst port {sport} or icmp"))
        .map_err(Error::usage)?;
    let filtered = rt.with_link(pos, |live| live.filter_in_kernel(&answers))?;
    let seq = initial_seq();
    let probes: Vec<_> = ports
        .iter()
        .map(|&p| syn_packet(o.dst.into(), sport, p, seq))
        .collect();
    let start = Instant::now();
    let mut states = vec![PortState::Filtered; ports.len()];
    let mut todo: Vec<usize> = (0..ports.len()).collect();
    for _ in 0..=o.retry {
        let round: Vec<_> = todo.iter().map(|&i| probes[i].clone()).collect();
        let results = rt.with_link(pos, |live| {
            live.sr(&round, o.timeout, Duration::ZERO, !filtered)
        })?;
        let mut again = Vec::new();
        for (&i, (_, reply)) in todo.iter().zip(results) {
            let state = match reply
                .as_ref()
                .and_then(|(r, _)| r.pkt.tcp().map(|t| t.flag_bits()))
            {
                Some(f) if f & (flags::SYN | flags::ACK) == flags::SYN | flags::ACK => {
                    PortState::Open
                }
                Some(f) if f & flags::RST != 0 => PortState::Closed,
                _ => PortState::Filtered,
            };
            states[i] = state;
            if reply.is_none() {
                again.push(i);
            }
        }
        todo = again;
        if todo.is_empty() {
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let count = |s: PortState| states.iter().filter(|x| **x == s).count();
    for (p, s) in ports.iter().zip(&states) {
        if *s == PortState::Closed && !o.all {
            continue;
        }
        let line = if o.json {
            object(&[
                ("port", J::Int((*p).into())),
                ("state", J::Str(s.name().into())),
            ])
        } else {
            format!("{p}/tcp {}", s.name())
        };
        rt.print(&line)?;
    }
    let (open, closed, filtered) = (
        count(PortState::Open),
        count(PortState::Closed),
        count(PortState::Filtered),
    );
    let summary = if o.json {
        object(&[
            ("dst", J::Str(o.dst.to_string())),
            ("ports", J::Int(ports.len() as i64)),
            ("open", J::Int(open as i64)),
            ("closed", J::Int(closed as i64)),
            ("filtered", J::Int(filtered as i64)),
            ("seconds", J::Num(secs)),
        ])
    } else {
        format!(
            "scanned {} ports of {} in {secs:.2} s: {open} open, {closed} closed, {filtered} filtered",
            ports.len(),
            o.dst
        )
    };
    rt.print(&summary)?;
    Ok(Outcome::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_parse_as_nmap_writes_them() {
        assert_eq!(parse_ports("22").unwrap(), [22]);
        assert_eq!(parse_ports("1-3,2,80").unwrap(), [1, 2, 3, 80]);
        assert_eq!(parse_ports("1-65535").unwrap().len(), 65535);
        assert!(parse_ports("0").unwrap_err().contains("'0' is not a port"));
        assert!(parse_ports("10-1").unwrap_err().contains("runs backwards"));
        assert!(parse_ports("x").is_err());
        assert!(parse_ports(",").is_err());
    }
}
