//! `craft syn`: SYN probes with RTT statistics, like hping3 -S / nping --tcp.

use super::report_burst;
use crate::engine::burst::{Burst, Vary, send_many};
use crate::engine::{Error, ErrorKind, EvalResult, Runtime};
use crate::lang::Pos;
use crate::live::Live;
use crate::outcome::Outcome;
use crate::render::json::{J, object};
use crate::render::ms;
use crate::session::isn::initial_seq;
use crate::wire::LayerKind;
use crate::wire::tcp::{Tcp, flags};
use crate::wire::{Ipv4, Ipv6, Packet};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// What to probe and how.
#[derive(Clone, Debug)]
pub struct SynOptions {
    /// Destination address (IPv4 or IPv6).
    pub dst: IpAddr,
    /// Destination port.
    pub dport: u16,
    /// Source port (default: a free port craft reserves).
    pub sport: Option<u16>,
    /// Number of probes.
    pub count: u32,
    /// Time between probes.
    pub interval: Duration,
    /// Wait for each reply.
    pub timeout: Duration,
    /// One JSON object per probe, then a summary.
    pub json: bool,
}

/// Runs the probes: success when a SYN-ACK came back, a failed check when
/// only RSTs did, no reply otherwise. Interrupted, it prints the statistics
/// gathered so far, then ends as interrupted.
pub fn run(rt: &mut Runtime, o: &SynOptions) -> EvalResult<Outcome> {
    let pos = Pos::default();
    // A probe wants the kernel's RST to end the half-open connection: no guard.
    rt.live(pos)?.guard_rst = false;
    let sport = match o.sport {
        Some(p) => p,
        None => rt.with_link(pos, Live::default_sport)?,
    };
    let mut st = Stats::default();
    let iss_base = initial_seq();
    let mut interrupted = false;
    for i in 0..o.count {
        if i > 0 && crate::link::sleep_interruptible(o.interval).is_err() {
            interrupted = true;
            break;
        }
        let seq = iss_base.wrapping_add(i.wrapping_mul(0x0100_0000));
        match probe(rt, o, sport, seq) {
            Ok(reply) => {
                let line = st.record(o, i, sport, reply, &rt.no_reply_hint());
                rt.print(&line)?;
            }
            Err(e) if e.kind == ErrorKind::Interrupted => {
                interrupted = true;
                break;
            }
            Err(e) => return Err(e),
        }
    }
    rt.print(&st.summary(o))?;
    Ok(if interrupted {
        Outcome::Interrupted
    } else if st.synacks > 0 {
        Outcome::Success
    } else if st.rsts > 0 {
        Outcome::CheckFailed
    } else {
        Outcome::NoReply
    })
}

/// One probe: the SYN, the reply and its RTT; a SYN-ACK's half-open
/// connection is torn down with a RST when the kernel would not do it.
fn probe(
    rt: &mut Runtime,
    o: &SynOptions,
    sport: u16,
    seq: u32,
) -> EvalResult<Option<(Tcp, Duration)>> {
    let pos = Pos::default();
    let syn = syn_packet(o.dst, sport, o.dport, seq);
    let (_, reply) = rt.with_link(pos, |live| live.sr1(&syn, o.timeout))?;
    let Some((r, rtt)) = reply else {
        return Ok(None);
    };
    let t = r.pkt.tcp().cloned().unwrap_or_default();
    let fl = t.flag_bits();
    let synack = fl & (flags::SYN | flags::ACK) == flags::SYN | flags::ACK;
    if synack && rt.live(pos)?.guard_rst {
        // The kernel's RST is dropped for us: tear the half-open connection down.
        let mut rst = syn_packet(o.dst, sport, o.dport, t.ack.unwrap_or(0));
        if let Some(tt) = rst.tcp_mut() {
            tt.flags = Some(flags::RST);
            tt.window = Some(0);
            tt.options.clear();
        }
        rt.with_link(pos, |live| live.send(&rst))?;
    }
    Ok(Some((t, rtt)))
}

/// What the probes gathered.
#[derive(Default)]
struct Stats {
    sent: u32,
    rtts: Vec<Duration>,
    synacks: u32,
    rsts: u32,
}

impl Stats {
    /// Counts probe `i`'s reply; returns its line (text or JSON).
    fn record(
        &mut self,
        o: &SynOptions,
        i: u32,
        sport: u16,
        reply: Option<(Tcp, Duration)>,
        hint: &str,
    ) -> String {
        self.sent += 1;
        let Some((t, rtt)) = reply else {
            return if o.json {
                object(&[
                    ("probe", J::Int(i64::from(i) + 1)),
                    ("flags", J::Null),
                    ("timeout", J::Bool(true)),
                ])
            } else {
                format!(
                    "{} no reply within {} s{hint}",
                    SocketAddr::new(o.dst, o.dport),
                    o.timeout.as_secs_f64()
                )
            };
        };
        let fl = t.flag_bits();
        self.rtts.push(rtt);
        if fl & flags::RST != 0 {
            self.rsts += 1;
        } else if fl & (flags::SYN | flags::ACK) == flags::SYN | flags::ACK {
            self.synacks += 1;
        }
        let opts: Vec<String> = t.decoded_options().0.iter().map(|o| o.short()).collect();
        let fl_s = crate::wire::tcp_flags_str(fl);
        if o.json {
            object(&[
                ("probe", J::Int(i64::from(i) + 1)),
                ("dst", J::Str(o.dst.to_string())),
                ("dport", J::Int(o.dport.into())),
                ("sport", J::Int(sport.into())),
                ("flags", J::Str(fl_s)),
                ("seq", J::Int(t.seq.unwrap_or(0).into())),
                ("ack", J::Int(t.ack.unwrap_or(0).into())),
                ("window", J::Int(t.window.unwrap_or(0).into())),
                ("options", J::Arr(opts.into_iter().map(J::Str).collect())),
                ("rtt_us", J::Num(rtt.as_secs_f64() * 1e6)),
            ])
        } else {
            let opts_s = if opts.is_empty() {
                String::new()
            } else {
                format!(" options [{}]", opts.join(","))
            };
            format!(
                "{} flags={fl_s} seq={} ack={} win={}{opts_s} rtt={}",
                SocketAddr::new(o.dst, o.dport),
                t.seq.unwrap_or(0),
                t.ack.unwrap_or(0),
                t.window.unwrap_or(0),
                ms(rtt)
            )
        }
    }

    /// The statistics line(s).
    fn summary(&self, o: &SynOptions) -> String {
        let received = self.rtts.len() as u32;
        let loss = if self.sent == 0 {
            0.0
        } else {
            100.0 * f64::from(self.sent - received) / f64::from(self.sent)
        };
        let us = |d: &Duration| d.as_secs_f64() * 1e6;
        let min = self.rtts.iter().min();
        let max = self.rtts.iter().max();
        let avg = (!self.rtts.is_empty())
            .then(|| self.rtts.iter().map(us).sum::<f64>() / self.rtts.len() as f64);
        if o.json {
            return object(&[
                ("summary", J::Bool(true)),
                ("sent", J::Int(self.sent.into())),
                ("received", J::Int(received.into())),
                ("synack", J::Int(self.synacks.into())),
                ("rst", J::Int(self.rsts.into())),
                ("loss_pct", J::Num(loss)),
                ("rtt_min_us", min.map_or(J::Null, |d| J::Num(us(d)))),
                ("rtt_avg_us", avg.map_or(J::Null, J::Num)),
                ("rtt_max_us", max.map_or(J::Null, |d| J::Num(us(d)))),
            ]);
        }
        let mut s = format!(
            "--- {} ---\n{} sent, {received} received ({} SYN-ACK, {} RST), {loss:.0}% loss",
            SocketAddr::new(o.dst, o.dport),
            self.sent,
            self.synacks,
            self.rsts
        );
        if let (Some(mn), Some(a), Some(mx)) = (min, avg, max) {
            s.push_str(&format!(
                ", rtt min/avg/max = {:.3}/{:.3}/{:.3} ms",
                us(mn) / 1000.0,
                a / 1000.0,
                us(mx) / 1000.0
            ));
        }
        s
    }
}

/// What `craft syn --flood` sends.
#[derive(Clone, Debug)]
pub struct FloodOptions {
    /// Destination address (IPv4 or IPv6).
    pub dst: IpAddr,
    /// Destination port.
    pub dport: u16,
    /// Source port (default: craft's reserved one).
    pub sport: Option<u16>,
    /// SYNs to send.
    pub count: u64,
    /// Frames per second; None = as fast as possible.
    pub rate: Option<f64>,
    /// A JSON summary.
    pub json: bool,
}

/// `craft syn --flood`: SYNs as fast as the kernel takes them (or at a
/// rate), each with its own sequence number; replies are not read.
pub fn flood(rt: &mut Runtime, o: &FloodOptions) -> EvalResult<Outcome> {
    let pos = Pos::default();
    let mut pkt = syn_packet(o.dst, 0, o.dport, 0);
    if let Some(t) = pkt.tcp_mut() {
        t.sport = o.sport;
    }
    let seq = Vary::scattered(&pkt, LayerKind::Tcp, "seq", 32).map_err(Error::usage)?;
    let burst = Burst {
        count: o.count,
        rate: o.rate,
        vary: vec![seq],
        keep_receiving: false,
    };
    let live = rt.live(pos)?;
    live.guard_rst = false;
    live.send_only = true;
    let r = rt.with_link(pos, |live| send_many(live, &pkt, &burst))?;
    report_burst(rt, &r, o.json)
}

/// Ether/IP/TCP SYN from `sport` to `dst:dport` with sequence number
/// `seq`, over IPv6 when `dst` is IPv6.
pub fn syn_packet(dst: IpAddr, sport: u16, dport: u16, seq: u32) -> Packet {
    let tcp = Tcp {
        sport: Some(sport),
        dport: Some(dport),
        seq: Some(seq),
        flags: Some(flags::SYN),
        window: Some(64240),
        options: crate::wire::tcp::encode_options(&[crate::wire::TcpOption::Mss(1460)]),
        ..Tcp::default()
    };
    match dst {
        IpAddr::V4(dst) => Packet::ether_ip_tcp(
            Ipv4 {
                dst: Some(dst),
                ..Ipv4::default()
            },
            tcp,
            &[],
        ),
        IpAddr::V6(dst) => Packet::ether_ip6_tcp(
            Ipv6 {
                dst: Some(dst),
                ..Ipv6::default()
            },
            tcp,
            &[],
        ),
    }
}
