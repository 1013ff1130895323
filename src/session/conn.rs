//! A TCP conversation driven by hand: craft is the client ([`Conn::new`],
//! then `syn`, `ack`) or the server ([`Conn::accepted`] from the client's
//! SYN, then `syn_ack`) and keeps the arithmetic (seq, ack, windows, MSS),
//! while every segment it sends and receives is logged and reported as an
//! [`Event`] for the caller to show. Each helper is one step of the lesson:
//! `syn`, `ack`, `syn_ack`, `send`, `recv`, `close`, `rst`; after the
//! handshake both sides are the same conversation.
//!
//! Enough TCP for real servers: the peer's MSS and window are honoured (window
//! scale when both sides offer it), data is split into segments and sent as the
//! window allows, the peer's data is acknowledged in order (duplicates re-ACKed,
//! out-of-order held until the gap fills), our segments are retransmitted on
//! timeout (bounded, shown), and FIN from either side, simultaneous close and
//! RST move the state as RFC 793 says.

use super::event::Event;
pub use super::event::{Dir, State};
use super::rtt::{self, Rtt};
use super::sack;
use super::window;
use crate::live::{Live, LiveError};
use crate::wire::tcp::{Relative, TcpOption, encode_options, flags};
use crate::wire::{Ipv4, Ipv6, Packet, Tcp};
use bytes::{Bytes, BytesMut};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// One direction's run of the stream (see `Conn::stream`).
#[derive(Debug)]
enum Run {
    /// Bytes we sent.
    Out(Vec<u8>),
    /// This many bytes received (kept in `taken` + `pending`).
    In(usize),
}

/// How the connection is set up.
#[derive(Clone, Debug)]
pub struct ConnConfig {
    /// The peer's address (the server's, or for a server session the
    /// client's), IPv4 or IPv6: the segments' IP layer follows it.
    pub dst: IpAddr,
    /// The peer's port.
    pub dport: u16,
    /// Our port (reserved and guarded by the caller).
    pub sport: u16,
    /// Our initial sequence number.
    pub iss: u32,
    /// Our receive window in bytes.
    pub window: u32,
    /// The MSS we advertise.
    pub mss: u16,
    /// Window scale we offer (None: no option, windows unscaled both ways).
    pub wscale: Option<u8>,
    /// The retransmission timeout until round trips are measured (RFC
    /// 6298); doubles on each retry.
    pub rto: Duration,
    /// Retransmissions (or unanswered zero-window probes) before giving up.
    pub retries: u32,
    /// At most this many bytes a segment (below the peer's MSS), by default.
    pub segment: Option<u16>,
    /// At most this many segments unacknowledged, by default (1: stop-and-wait).
    pub flight: Option<u32>,
    /// Offer SACK (RFC 2018): when the peer agrees, its SACK blocks spare
    /// retransmissions and ours name the out-of-order data we hold.
    pub sack: bool,
    /// Offer timestamps (RFC 7323): when the peer agrees, every segment
    /// carries TSval and echoes the peer's latest as TSecr.
    pub timestamps: bool,
    /// Show each segment as it goes (for the caller: events are reported either way).
    pub verbose: bool,
}

/// One segment of the conversation.
#[derive(Clone, Debug)]
pub struct LogEntry {
    /// Which way.
    pub dir: Dir,
    /// When (kernel receive time, or send time).
    pub ts: SystemTime,
    /// The segment, every field filled in (shared with its event).
    pub pkt: Arc<Packet>,
    /// "retransmission", "duplicate", "out of order", ...
    pub note: Option<&'static str>,
}

/// Why a helper refused or failed.
#[derive(Debug)]
pub enum ConnError {
    /// The helper does not fit the state (e.g. send before the handshake).
    State(String),
    /// The link failed.
    Live(LiveError),
}

impl From<LiveError> for ConnError {
    fn from(e: LiveError) -> Self {
        ConnError::Live(e)
    }
}

/// A TCP conversation, from the client's side or the server's.
#[derive(Debug)]
pub struct Conn {
    /// Setup.
    pub cfg: ConnConfig,
    /// True for a session started from the server side (the peer's SYN).
    pub server: bool,
    /// Our address when it is not the IP layer's default (a server session
    /// answers from the address the client connected to).
    pub local: Option<IpAddr>,
    /// Current state.
    pub state: State,
    /// True when the peer's RST ended it.
    pub reset: bool,
    /// True when our RST (`rst()`) ended it.
    pub aborted: bool,
    /// The peer's initial sequence number, once known.
    pub irs: Option<u32>,
    /// Oldest unacknowledged sequence number.
    pub snd_una: u32,
    /// Next sequence number to send.
    pub snd_nxt: u32,
    /// Next sequence number expected from the peer.
    pub rcv_nxt: u32,
    /// The peer's MSS (536 if it sent none).
    pub peer_mss: u16,
    /// The peer's window scale, when both sides offered one.
    pub peer_wscale: Option<u8>,
    /// The peer's window in bytes (scaled).
    pub peer_window: u32,
    /// The largest window the peer has offered (for SWS avoidance).
    pub max_window: u32,
    /// The retransmission timeout, from measured round trips.
    pub rtt: Rtt,
    /// Both sides offered SACK.
    pub sack_ok: bool,
    /// The peer's latest TSval, once both sides offered timestamps.
    pub ts_recent: Option<u32>,
    /// Our timestamp clock starts here (TSval: milliseconds since).
    ts_clock: Instant,
    /// What the peer SACKed of our data.
    scoreboard: sack::Scoreboard,
    /// Where the latest out-of-order segment we hold starts (first SACK block).
    ooo_latest: Option<u32>,
    /// Data segments taken in order whose ACK is delayed (at most one).
    delayed: u32,
    /// In-order data segments still ACKed at once (Linux's quick-ACK mode
    /// at the start of a connection), before ACKs are delayed.
    quick_acks: u32,
    /// When the delayed ACK goes at the latest.
    ack_due: Option<Instant>,
    /// Every segment, in the order they crossed the link (kernel timestamps).
    pub log: Vec<LogEntry>,
    /// The data both ways in the order it went, as runs of one direction;
    /// inbound runs are lengths into `taken` + `pending` (one copy of the
    /// received stream, shared with what `recv` returned).
    runs: Vec<Run>,
    /// Data received in order and returned by a `recv`, in order.
    taken: Vec<Bytes>,
    /// Data received in order and not yet returned by a `recv`.
    pending: BytesMut,
    /// How much of `pending` a `recv(until=)` has searched already.
    searched: usize,
    ooo: BTreeMap<u32, Vec<u8>>,
    synack_seen: bool,
    /// Server side: the client sent its SYN again (our SYN-ACK was lost).
    syn_again: bool,
    peer_fin: bool,
    fin_sent: bool,
    fin_acked: bool,
    events: Vec<Event>,
}

fn seq_lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

fn seq_le(a: u32, b: u32) -> bool {
    a == b || seq_lt(a, b)
}

/// Most out-of-order data held before dropping more.
const OOO_LIMIT: usize = 8 << 20;

/// The longest an ACK of in-order data waits for a second segment to
/// acknowledge with it (RFC 1122 4.2.3.2 allows 500 ms; Linux takes ~40).
const DELAYED_ACK: Duration = Duration::from_millis(40);

/// In-order data segments ACKed at once at the start of a connection, as
/// Linux's quick-ACK mode does (TCP_MAX_QUICKACKS): a conversation's first
/// exchanges show no delayed ACK.
const QUICK_ACKS: u32 = 16;

/// Duplicate ACKs that mean a segment was lost (RFC 5681 3.2).
const DUPACK_THRESHOLD: u32 = 3;

/// The longest the sender waits for a window worth a segment with nothing
/// in flight before it sends what fits (RFC 9293 3.8.6.2.1: 0.1 to 1 s).
const SWS_OVERRIDE: Duration = Duration::from_millis(200);

/// How long after a shut window (or an answered probe) the next zero-window
/// probe goes: the RTO, doubled for each probe, at most [`rtt::RTO_MAX`].
fn persist_interval(rtt: &Rtt, probes: u32) -> Duration {
    rtt.rto()
        .saturating_mul(1u32 << probes.min(16))
        .min(rtt::RTO_MAX)
}

/// One `send()`'s progress: timers, probes, duplicate ACKs, recovery.
#[derive(Default)]
struct Sender {
    /// The last ACK from the peer.
    last_ack: Option<Packet>,
    /// Offset past the highest byte of the data sent so far.
    sent_upto: usize,
    /// When the oldest unacknowledged segment is due again.
    rexmit_at: Option<Instant>,
    /// When the next zero-window probe goes.
    persist_at: Option<Instant>,
    /// When a too-small segment goes anyway (nothing in flight).
    sws_at: Option<Instant>,
    /// A probe is out, waiting for its answer.
    probing: bool,
    /// Probes since the window shut (the persist backoff).
    probes: u32,
    /// Probes in a row with no answer.
    unanswered: u32,
    /// Timeouts in a row with no progress.
    retries: u32,
    /// Duplicate ACKs since the last progress.
    dupacks: u32,
    /// Fast recovery until this sequence number is acknowledged.
    recover: Option<u32>,
    /// The segment being timed: its end and when it went (sent once only).
    timing: Option<(u32, Instant)>,
}

impl Conn {
    /// A connection that has sent nothing yet.
    pub fn new(cfg: ConnConfig) -> Conn {
        let iss = cfg.iss;
        let rtt = Rtt::new(cfg.rto);
        Conn {
            cfg,
            server: false,
            local: None,
            state: State::Closed,
            reset: false,
            aborted: false,
            irs: None,
            snd_una: iss,
            snd_nxt: iss,
            rcv_nxt: 0,
            peer_mss: 536,
            peer_wscale: None,
            peer_window: 0,
            max_window: 0,
            rtt,
            sack_ok: false,
            ts_recent: None,
            ts_clock: Instant::now(),
            scoreboard: sack::Scoreboard::default(),
            ooo_latest: None,
            delayed: 0,
            quick_acks: QUICK_ACKS,
            ack_due: None,
            log: Vec::new(),
            runs: Vec::new(),
            taken: Vec::new(),
            pending: BytesMut::new(),
            searched: 0,
            ooo: BTreeMap::new(),
            synack_seen: false,
            syn_again: false,
            peer_fin: false,
            fin_sent: false,
            fin_acked: false,
            events: Vec::new(),
        }
    }

    /// A server session started from the client's SYN (received at `ts`):
    /// the SYN is logged, the client's MSS, window and window scale (taken
    /// when `cfg.wscale` offers one) are noted, and the state is
    /// SYN-RECEIVED; [`Conn::syn_ack`] answers it. `cfg.dst`/`cfg.dport` are
    /// the client's, `cfg.sport` the listening port.
    pub fn accepted(cfg: ConnConfig, local: IpAddr, syn: &Packet, ts: SystemTime) -> Conn {
        let mut c = Conn::new(cfg);
        c.server = true;
        c.local = Some(local);
        let t = syn.tcp().cloned().unwrap_or_default();
        let seq = t.seq.unwrap_or(0);
        c.irs = Some(seq);
        c.rcv_nxt = seq.wrapping_add(1);
        c.peer_mss = t.mss().unwrap_or(536);
        c.peer_wscale = match (c.cfg.wscale, t.wscale()) {
            (Some(_), Some(w)) => Some(w.min(14)),
            _ => None,
        };
        c.negotiate(&t);
        // The window of a SYN is never scaled.
        c.peer_window = u32::from(t.window.unwrap_or(0));
        c.max_window = c.peer_window;
        c.record(Dir::In, ts, syn.clone(), None);
        c.set_state(State::SynReceived);
        c
    }

    /// Why the connection ended, when something other than the FIN
    /// exchange ended it: "reset by peer", "reset by us".
    pub fn reason(&self) -> Option<&'static str> {
        if self.reset {
            Some("reset by peer")
        } else if self.aborted && self.state == State::Closed {
            Some("reset by us")
        } else {
            None
        }
    }

    /// The state with its reason, for printed lines: `ESTABLISHED`,
    /// `CLOSED (reset by peer)`. (`state.name()` is the plain RFC name.)
    pub fn state_line(&self) -> String {
        match self.reason() {
            Some(r) => format!("{} ({r})", self.state.name()),
            None => self.state.name().to_string(),
        }
    }

    /// What happened since the last call, in order, taken once.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Moves to state `to`, reporting the change.
    fn set_state(&mut self, to: State) {
        let from = self.state;
        self.state = to;
        self.report_state(from);
    }

    /// Reports a state change from `from` to the current state, if any.
    fn report_state(&mut self, from: State) {
        if from != self.state {
            self.events.push(Event::StateChange {
                from,
                to: self.state,
            });
        }
    }

    /// Relative-number bases for a segment in direction `dir`.
    pub fn relative(&self, dir: Dir) -> Relative {
        let irs = self.irs.unwrap_or(0);
        match dir {
            Dir::Out => Relative {
                seq_base: self.cfg.iss,
                ack_base: irs,
            },
            Dir::In => Relative {
                seq_base: irs,
                ack_base: self.cfg.iss,
            },
        }
    }

    /// True when `p` is a TCP segment from the peer to us.
    pub fn is_from_peer(&self, p: &Packet) -> bool {
        let (Some((src, _)), Some(t)) = (p.ip_ends(), p.tcp()) else {
            return false;
        };
        src == Some(self.cfg.dst)
            && t.sport == Some(self.cfg.dport)
            && t.dport == Some(self.cfg.sport)
    }

    /// True when `p` is a TCP segment from us to the peer.
    pub fn is_to_peer(&self, p: &Packet) -> bool {
        let (Some((_, dst)), Some(t)) = (p.ip_ends(), p.tcp()) else {
            return false;
        };
        dst == Some(self.cfg.dst)
            && t.dport == Some(self.cfg.dport)
            && t.sport == Some(self.cfg.sport)
    }

    fn our_window_field(&self) -> u16 {
        let shift = if self.peer_wscale.is_some() {
            self.cfg.wscale.unwrap_or(0)
        } else {
            0
        };
        (self.cfg.window >> shift).min(0xffff) as u16
    }

    /// A segment from us with the given flags, sequence number and payload.
    /// Over IPv6 when the peer's address is IPv6.
    pub fn segment(&self, fl: u16, seq: u32, payload: &[u8], options: Vec<u8>) -> Packet {
        let tcp = Tcp {
            sport: Some(self.cfg.sport),
            dport: Some(self.cfg.dport),
            seq: Some(seq),
            ack: Some(if fl & flags::ACK != 0 {
                self.rcv_nxt
            } else {
                0
            }),
            flags: Some(fl),
            window: Some(if fl & flags::SYN != 0 {
                self.cfg.window.min(0xffff) as u16
            } else {
                self.our_window_field()
            }),
            options,
            ..Tcp::default()
        };
        ip_tcp(self.local, self.cfg.dst, tcp, payload)
    }

    fn record(&mut self, dir: Dir, ts: SystemTime, pkt: Packet, note: Option<&'static str>) {
        let pkt = Arc::new(pkt);
        self.events.push(Event::Segment {
            dir,
            ts,
            pkt: pkt.clone(),
            rel: self.relative(dir),
            note,
        });
        self.log_entry(LogEntry { dir, ts, pkt, note });
    }

    /// Adds a segment to the log in the order the segments crossed the link
    /// (by kernel timestamp): a reply read after we sent more segments was
    /// on the wire before them.
    fn log_entry(&mut self, e: LogEntry) {
        let at = self
            .log
            .iter()
            .rposition(|x| x.ts <= e.ts)
            .map_or(0, |i| i + 1);
        self.log.insert(at, e);
    }

    fn transmit(
        &mut self,
        live: &mut Live,
        pkt: &Packet,
        note: Option<&'static str>,
    ) -> Result<Packet, ConnError> {
        let sent = match self.with_options(pkt) {
            Some(p) => live.send(&p)?,
            None => live.send(pkt)?,
        };
        if pkt.tcp().is_some_and(|t| t.flag_bits() & flags::ACK != 0) {
            // It acknowledges everything taken so far.
            self.delayed = 0;
            self.ack_due = None;
        }
        self.record(Dir::Out, sent.ts, sent.pkt.clone(), note);
        Ok(sent.pkt)
    }

    /// Notes what the peer's SYN or SYN-ACK agreed to: SACK, timestamps.
    fn negotiate(&mut self, t: &Tcp) {
        let (opts, _) = t.decoded_options();
        self.sack_ok = self.cfg.sack && opts.contains(&TcpOption::SackOk);
        self.ts_recent = if self.cfg.timestamps {
            t.timestamp().map(|(v, _)| v)
        } else {
            None
        };
    }

    /// Our TSval now: milliseconds on the connection's clock (from 1).
    fn ts_val(&self) -> u32 {
        (self.ts_clock.elapsed().as_millis() as u32).wrapping_add(1)
    }

    /// Keeps the peer's TSval to echo (RFC 7323 4.3: from a segment that is
    /// not ahead of what we acknowledge, and not older than the one kept).
    fn take_timestamp(&mut self, t: &Tcp, seq: u32) {
        let Some(recent) = self.ts_recent else { return };
        if let Some((v, _)) = t.timestamp()
            && seq_le(seq, self.rcv_nxt)
            && !seq_lt(v, recent)
        {
            self.ts_recent = Some(v);
        }
    }

    /// `pkt` with the options the connection agreed to (timestamps; SACK
    /// blocks for data held out of order), or None when it needs none. A
    /// SYN carries its own.
    fn with_options(&self, pkt: &Packet) -> Option<Packet> {
        let t = pkt.tcp()?;
        if t.flag_bits() & flags::SYN != 0 {
            return None;
        }
        let held: Vec<(u32, usize)> = if self.sack_ok {
            self.ooo.iter().map(|(&s, d)| (s, d.len())).collect()
        } else {
            Vec::new()
        };
        if self.ts_recent.is_none() && held.is_empty() {
            return None;
        }
        let mut opts = Vec::new();
        if let Some(recent) = self.ts_recent {
            opts.extend([TcpOption::Nop, TcpOption::Nop]);
            opts.push(TcpOption::Timestamp(self.ts_val(), recent));
        }
        if !held.is_empty() {
            // 40 bytes of options: 3 blocks beside timestamps, else 4.
            let max = if self.ts_recent.is_some() { 3 } else { 4 };
            opts.extend([TcpOption::Nop, TcpOption::Nop]);
            opts.push(TcpOption::Sack(sack::blocks(&held, self.ooo_latest, max)));
        }
        let mut p = pkt.clone();
        let tcp = p.tcp_mut()?;
        tcp.options.extend_from_slice(&encode_options(&opts));
        Some(p)
    }

    fn send_ack(
        &mut self,
        live: &mut Live,
        note: Option<&'static str>,
    ) -> Result<Packet, ConnError> {
        let p = self.segment(flags::ACK, self.snd_nxt, &[], Vec::new());
        self.transmit(live, &p, note)
    }

    /// Waits until `deadline` for one segment from the peer and takes it in
    /// (acknowledging data and FIN). Returns it, or None on timeout.
    fn wait_segment(
        &mut self,
        live: &mut Live,
        deadline: Instant,
    ) -> Result<Option<Packet>, ConnError> {
        let me = (self.cfg.dst, self.cfg.dport, self.cfg.sport);
        let quick = |b: &[u8]| quick_from(b, me);
        loop {
            let until = self.ack_due.map_or(deadline, |t| t.min(deadline));
            // A segment with a wrong checksum is not the peer's: the kernel would drop it too.
            let got = live.recv_matching(until, quick, |p| {
                self.is_from_peer(p) && crate::wire::matcher::transport_checksum_ok(p)
            })?;
            let Some(r) = got else {
                if self.ack_due.is_some_and(|t| Instant::now() >= t) {
                    self.flush_ack(live)?;
                    if Instant::now() < deadline {
                        continue;
                    }
                }
                return Ok(None);
            };
            let fin = r.pkt.tcp().is_some_and(|t| t.flag_bits() & flags::FIN != 0);
            match self.absorb(&r.pkt, r.frame.ts) {
                // In-order data after the first ones: one ACK for every
                // second segment (RFC 9293 3.8.6.3), or when the delay runs out.
                Some(None) if !fin && self.delayed == 0 && self.quick_acks == 0 => {
                    self.delayed = 1;
                    self.ack_due = Some(Instant::now() + DELAYED_ACK);
                }
                Some(note) => {
                    if note.is_none() {
                        self.quick_acks = self.quick_acks.saturating_sub(1);
                    }
                    self.send_ack(live, note)?;
                }
                None => {}
            }
            return Ok(Some(r.pkt));
        }
    }

    /// Sends the ACK that was being delayed, if one is.
    fn flush_ack(&mut self, live: &mut Live) -> Result<(), ConnError> {
        if self.delayed > 0 {
            self.send_ack(live, None)?;
        }
        Ok(())
    }

    /// Takes a segment from the peer into account. Returns Some(note) when it
    /// must be acknowledged (note says why, e.g. a duplicate).
    pub fn absorb(&mut self, pkt: &Packet, ts: SystemTime) -> Option<Option<&'static str>> {
        let t = pkt.tcp().cloned()?;
        let fl = t.flag_bits();
        let seq = t.seq.unwrap_or(0);
        let ack = t.ack.unwrap_or(0);
        let payload = pkt.payload();
        let mut note = None;
        let mut need_ack = false;
        // State changes are reported after the segment that caused them.
        let from = self.state;
        if fl & flags::RST != 0 {
            self.record(Dir::In, ts, pkt.clone(), None);
            let acceptable = if self.state == State::SynSent && !self.synack_seen {
                fl & flags::ACK != 0 && ack == self.snd_nxt
            } else {
                self.irs.is_none()
                    || seq == self.rcv_nxt
                    || seq_lt(self.rcv_nxt, seq)
                        && seq_lt(seq, self.rcv_nxt.wrapping_add(self.cfg.window))
            };
            if acceptable {
                self.reset = true;
                self.set_state(State::Closed);
            }
            return None;
        }
        if fl & flags::SYN != 0 && fl & flags::ACK == 0 && self.server {
            // The client's SYN again: our SYN-ACK was lost, or is slow.
            self.record(Dir::In, ts, pkt.clone(), Some("retransmission"));
            if self.state == State::SynReceived {
                self.syn_again = true;
                return None;
            }
            return Some(Some("duplicate SYN"));
        }
        if fl & flags::SYN != 0 && fl & flags::ACK != 0 {
            if self.state == State::SynSent && ack == self.snd_nxt && !self.synack_seen {
                self.irs = Some(seq);
                self.rcv_nxt = seq.wrapping_add(1);
                self.snd_una = ack;
                self.synack_seen = true;
                self.peer_mss = t.mss().unwrap_or(536);
                self.peer_wscale = if self.cfg.wscale.is_some() {
                    t.wscale().map(|w| w.min(14))
                } else {
                    None
                };
                self.negotiate(&t);
                self.peer_window = u32::from(t.window.unwrap_or(0));
                self.max_window = self.max_window.max(self.peer_window);
                self.record(Dir::In, ts, pkt.clone(), None);
                return None;
            }
            // A retransmitted SYN-ACK: our ACK was lost or not sent yet.
            self.record(Dir::In, ts, pkt.clone(), Some("retransmission"));
            return (self.state != State::SynSent).then_some(Some("duplicate SYN-ACK"));
        }
        self.take_timestamp(&t, seq);
        if fl & flags::ACK != 0 {
            if seq_lt(self.snd_una, ack) && seq_le(ack, self.snd_nxt) {
                self.snd_una = ack;
                self.scoreboard.advance(ack);
            }
            if self.sack_ok {
                let blocks = t.sack_blocks();
                if !blocks.is_empty() {
                    self.scoreboard.add(&blocks, self.snd_una, self.snd_nxt);
                }
            }
            if self.fin_sent && ack == self.snd_nxt {
                self.fin_acked = true;
            }
            if self.state == State::SynReceived && ack == self.snd_nxt && self.synack_seen {
                // The client's ACK of our SYN-ACK: the handshake is done.
                self.state = State::Established;
            }
            self.peer_window = u32::from(t.window.unwrap_or(0)) << self.peer_wscale.unwrap_or(0);
            self.max_window = self.max_window.max(self.peer_window);
        }
        if !payload.is_empty() {
            need_ack = true;
            let end = seq.wrapping_add(payload.len() as u32);
            if seq == self.rcv_nxt {
                self.deliver(payload);
            } else if seq_le(end, self.rcv_nxt) {
                note = Some("duplicate");
            } else if seq_lt(seq, self.rcv_nxt) {
                // Overlaps what we have: take the new part.
                let skip = self.rcv_nxt.wrapping_sub(seq) as usize;
                self.deliver(&payload[skip..]);
                note = Some("partly duplicate");
            } else {
                let held: usize = self.ooo.values().map(Vec::len).sum();
                if held + payload.len() <= OOO_LIMIT {
                    self.ooo.insert(seq, payload.to_vec());
                    self.ooo_latest = Some(seq);
                }
                note = Some("out of order: held");
            }
        }
        if fl & flags::FIN != 0 {
            need_ack = true;
            let fin_seq = seq.wrapping_add(payload.len() as u32);
            if fin_seq == self.rcv_nxt && !self.peer_fin {
                self.rcv_nxt = self.rcv_nxt.wrapping_add(1);
                self.peer_fin = true;
                self.state = match self.state {
                    State::Established | State::SynSent | State::SynReceived => State::CloseWait,
                    State::FinWait1 if self.fin_acked => State::TimeWait,
                    State::FinWait1 => State::Closing,
                    State::FinWait2 => State::TimeWait,
                    s => s,
                };
            } else if self.peer_fin {
                note = Some("duplicate FIN");
            }
        }
        if self.fin_acked {
            self.state = match self.state {
                State::FinWait1 => State::FinWait2,
                State::Closing => State::TimeWait,
                State::LastAck => State::Closed,
                s => s,
            };
        }
        self.record(Dir::In, ts, pkt.clone(), note);
        self.report_state(from);
        need_ack.then_some(note)
    }

    fn deliver(&mut self, data: &[u8]) {
        self.pending.extend_from_slice(data);
        self.rcv_nxt = self.rcv_nxt.wrapping_add(data.len() as u32);
        self.push_inbound(data.len());
        // Held segments that now fit.
        while let Some((&s, _)) = self.ooo.iter().next() {
            if seq_lt(self.rcv_nxt, s) {
                break;
            }
            let d = self.ooo.remove(&s).unwrap_or_default();
            let skip = self.rcv_nxt.wrapping_sub(s) as usize;
            if skip < d.len() {
                let fresh = &d[skip..];
                self.pending.extend_from_slice(fresh);
                self.rcv_nxt = self.rcv_nxt.wrapping_add(fresh.len() as u32);
                self.push_inbound(fresh.len());
            }
        }
    }

    /// Records `n` bytes just added to `pending` in the stream's runs.
    fn push_inbound(&mut self, n: usize) {
        match self.runs.last_mut() {
            Some(Run::In(len)) => *len += n,
            _ => self.runs.push(Run::In(n)),
        }
    }

    /// Records data we sent in the stream's runs.
    fn push_outbound(&mut self, data: &[u8]) {
        match self.runs.last_mut() {
            Some(Run::Out(buf)) => buf.extend_from_slice(data),
            _ => self.runs.push(Run::Out(data.to_vec())),
        }
    }

    /// The data both ways in the order it went: (direction, bytes), for
    /// `follow()`.
    pub fn stream(&self) -> Vec<(Dir, Vec<u8>)> {
        let inbound = self.received();
        let mut at = 0;
        self.runs
            .iter()
            .map(|run| match run {
                Run::Out(b) => (Dir::Out, b.clone()),
                Run::In(n) => {
                    let end = (at + n).min(inbound.len());
                    let bytes = inbound[at.min(end)..end].to_vec();
                    at = end;
                    (Dir::In, bytes)
                }
            })
            .collect()
    }

    /// How many bytes we sent as data (each byte once).
    pub fn sent_bytes(&self) -> usize {
        self.runs
            .iter()
            .map(|run| match run {
                Run::Out(b) => b.len(),
                Run::In(_) => 0,
            })
            .sum()
    }

    /// Keeps the view in step with a segment the user sent by hand on our ports.
    pub fn observe_sent(&mut self, pkt: &Packet, ts: SystemTime) {
        let Some(t) = pkt.tcp() else { return };
        let fl = t.flag_bits();
        let seq = t.seq.unwrap_or(0);
        let len = crate::wire::matcher::seg_len(t, pkt.payload().len());
        if fl & flags::SYN != 0 && self.state == State::Closed && self.log.is_empty() {
            self.cfg.iss = seq;
            self.snd_una = seq;
            self.snd_nxt = seq;
            self.set_state(State::SynSent);
        }
        let end = seq.wrapping_add(len);
        // Only a segment that starts within what we have sent continues the
        // stream; one beyond it leaves a gap the peer will not acknowledge.
        let contiguous = seq_le(self.snd_una, seq) && seq_le(seq, self.snd_nxt);
        if contiguous && seq_lt(self.snd_nxt, end) {
            if !pkt.payload().is_empty() {
                self.push_outbound(pkt.payload());
            }
            self.snd_nxt = end;
        }
        if fl & flags::ACK != 0 && self.state == State::SynSent && self.synack_seen {
            self.set_state(State::Established);
        }
        if fl & flags::RST != 0 {
            self.set_state(State::Closed);
        }
        self.log_entry(LogEntry {
            dir: Dir::Out,
            ts,
            pkt: Arc::new(pkt.clone()),
            note: None,
        });
    }

    fn refuse_unless(&self, ok: bool, what: &str) -> Result<(), ConnError> {
        if self.reset {
            return Err(ConnError::State(format!(
                "{what}: the connection was reset by the peer (state {})",
                self.state_line()
            )));
        }
        if ok {
            Ok(())
        } else {
            Err(ConnError::State(format!(
                "{what}: not possible in state {}",
                self.state_line()
            )))
        }
    }

    /// Sends SYN and waits for the SYN-ACK (or RST), retransmitting the SYN on
    /// timeout. Returns the answer, or None if none came.
    pub fn syn(&mut self, live: &mut Live) -> Result<Option<Packet>, ConnError> {
        self.refuse_unless(self.state == State::Closed && self.log.is_empty(), "syn()")?;
        // Linux's order: MSS, SACK permitted, timestamps, NOP, window scale.
        let mut opts = vec![TcpOption::Mss(self.cfg.mss)];
        if self.cfg.sack {
            opts.push(TcpOption::SackOk);
        }
        if self.cfg.timestamps {
            opts.push(TcpOption::Timestamp(self.ts_val(), 0));
        }
        if let Some(ws) = self.cfg.wscale {
            opts.push(TcpOption::Nop);
            opts.push(TcpOption::WScale(ws));
        }
        let syn = self.segment(flags::SYN, self.cfg.iss, &[], encode_options(&opts));
        self.snd_nxt = self.cfg.iss.wrapping_add(1);
        self.set_state(State::SynSent);
        let mut rto = self.cfg.rto;
        for attempt in 0..=self.cfg.retries {
            self.transmit(live, &syn, (attempt > 0).then_some("retransmission"))?;
            let deadline = Instant::now() + rto;
            while let Some(p) = self.wait_segment(live, deadline)? {
                if self.synack_seen || self.reset {
                    return Ok(Some(p));
                }
            }
            if attempt < self.cfg.retries {
                self.events.push(Event::Retransmission {
                    what: "SYN",
                    rto,
                    attempt: attempt + 1,
                });
            }
            rto *= 2;
        }
        Ok(None)
    }

    /// Server side: answers the client's SYN with a SYN-ACK (our MSS, the
    /// window scale when the client offered one) and waits for its ACK,
    /// sending the SYN-ACK again on timeout or when the SYN comes again.
    /// True when the handshake completed.
    pub fn syn_ack(&mut self, live: &mut Live) -> Result<bool, ConnError> {
        self.refuse_unless(
            self.server && self.state == State::SynReceived && !self.synack_seen,
            "syn_ack()",
        )?;
        let mut opts = vec![TcpOption::Mss(self.cfg.mss)];
        if self.sack_ok {
            opts.push(TcpOption::SackOk);
        }
        if let Some(recent) = self.ts_recent {
            opts.push(TcpOption::Timestamp(self.ts_val(), recent));
        }
        if let (Some(ws), Some(_)) = (self.cfg.wscale, self.peer_wscale) {
            opts.push(TcpOption::Nop);
            opts.push(TcpOption::WScale(ws));
        }
        let synack = self.segment(
            flags::SYN | flags::ACK,
            self.cfg.iss,
            &[],
            encode_options(&opts),
        );
        self.snd_nxt = self.cfg.iss.wrapping_add(1);
        // From here on our SYN is out: an ACK of it completes the handshake.
        self.synack_seen = true;
        let mut rto = self.cfg.rto;
        for attempt in 0..=self.cfg.retries {
            self.transmit(live, &synack, (attempt > 0).then_some("retransmission"))?;
            let deadline = Instant::now() + rto;
            while let Some(_p) = self.wait_segment(live, deadline)? {
                if self.state != State::SynReceived || self.reset {
                    return Ok(!self.reset);
                }
                if std::mem::take(&mut self.syn_again) {
                    break;
                }
            }
            if attempt < self.cfg.retries {
                self.events.push(Event::Retransmission {
                    what: "SYN-ACK",
                    rto,
                    attempt: attempt + 1,
                });
            }
            rto *= 2;
        }
        Ok(false)
    }

    /// Completes the handshake with an ACK. Returns it.
    pub fn ack(&mut self, live: &mut Live) -> Result<Packet, ConnError> {
        self.refuse_unless(self.synack_seen && !self.server, "ack()")?;
        let p = self.send_ack(live, None)?;
        if self.state == State::SynSent {
            self.set_state(State::Established);
        }
        Ok(p)
    }

    /// The largest segment: the peer's MSS, what fits in the interface (lo:
    /// 65536 - 40), and `limit` when the user asks for smaller ones.
    fn segment_size(&self, limit: Option<u16>) -> usize {
        let mss = usize::from(self.peer_mss).clamp(1, 65495);
        limit.map_or(mss, |l| mss.min(usize::from(l).max(1)))
    }

    /// Sends data with the connection's defaults (`cfg.segment`, `cfg.flight`).
    pub fn send(&mut self, live: &mut Live, data: &[u8]) -> Result<Option<Packet>, ConnError> {
        self.send_with(live, data, self.cfg.segment, self.cfg.flight)
    }

    /// Sends data: split to the peer's MSS (or `segment` bytes), no more in
    /// flight than its window (and `flight` segments) allows, no silly small
    /// segments; lost segments are sent again on three duplicate ACKs (fast
    /// retransmit, RFC 5681) or on the retransmission timeout (RFC 6298,
    /// estimated from measured round trips). A zero window is probed, with
    /// backoff, for as long as the peer answers the probes (RFC 9293
    /// 3.8.6.1); when it opens, sending resumes from the first byte not
    /// acknowledged. Waits until all is acknowledged; returns the last ACK.
    pub fn send_with(
        &mut self,
        live: &mut Live,
        data: &[u8],
        segment: Option<u16>,
        flight: Option<u32>,
    ) -> Result<Option<Packet>, ConnError> {
        self.refuse_unless(
            matches!(self.state, State::Established | State::CloseWait),
            "send()",
        )?;
        if data.is_empty() {
            return Err(ConnError::State(
                "send(): no data to send (c.ack() sends a segment without data)".into(),
            ));
        }
        let base = self.snd_nxt;
        let seg_size = self.segment_size(segment);
        // Bytes sent before this call (by hand, on our ports) and not yet
        // acknowledged: they count in flight, and this data follows them.
        let earlier = self.snd_nxt.wrapping_sub(self.snd_una);
        let mut s = Sender::default();
        loop {
            if self.reset {
                return Err(ConnError::State(format!(
                    "send(): the connection was reset by the peer after {} of {} bytes",
                    self.snd_una.wrapping_sub(base),
                    data.len()
                )));
            }
            // Offsets into `data`: none of it is acknowledged while the peer's
            // ACK is still short of where it starts.
            let offset = |seq: u32| {
                if seq_lt(seq, base) {
                    0
                } else {
                    (seq.wrapping_sub(base) as usize).min(data.len())
                }
            };
            if offset(self.snd_una) == data.len() {
                self.flush_ack(live)?;
                return Ok(s.last_ack);
            }
            let now = Instant::now();
            // Send what the window, the flight limit and SWS avoidance allow.
            let mut blocked = window::Next::WindowFull;
            while !s.probing {
                let next = offset(self.snd_nxt);
                // Going back over what was sent: skip what the peer SACKed.
                if next < s.sent_upto
                    && let Some(end) = self.scoreboard.covers(self.snd_nxt)
                {
                    let top = base.wrapping_add(s.sent_upto as u32);
                    self.snd_nxt = if seq_lt(top, end) { top } else { end };
                    continue;
                }
                let in_flight = self.snd_nxt.wrapping_sub(self.snd_una) as usize;
                let decision = window::next(window::Sending {
                    remaining: data.len() - next,
                    in_flight,
                    window: self.peer_window as usize,
                    max_window: self.max_window as usize,
                    segment: seg_size,
                    flight,
                    override_due: s.sws_at.is_some_and(|t| now >= t),
                });
                let window::Next::Send(n) = decision else {
                    blocked = decision;
                    break;
                };
                let retrans = next < s.sent_upto;
                let note = retrans.then_some("retransmission");
                self.send_data(live, data, base, next..next + n, note, !retrans)?;
                if !retrans && s.timing.is_none() {
                    s.timing = Some((base.wrapping_add((next + n) as u32), Instant::now()));
                }
                s.sent_upto = s.sent_upto.max(next + n);
                s.sws_at = None;
                s.rexmit_at
                    .get_or_insert_with(|| Instant::now() + self.rtt.rto());
            }
            let in_flight = self.snd_nxt.wrapping_sub(self.snd_una);
            // What to wait for, and until when.
            let deadline = if s.probing || (in_flight == 0 && self.peer_window == 0) {
                // The window is shut: probe it, backing off (RFC 1122 4.2.2.17).
                s.rexmit_at = None;
                *s.persist_at
                    .get_or_insert_with(|| now + persist_interval(&self.rtt, s.probes))
            } else if in_flight == 0 && blocked == window::Next::TooSmall {
                *s.sws_at
                    .get_or_insert_with(|| now + self.rtt.rto().min(SWS_OVERRIDE))
            } else {
                *s.rexmit_at.get_or_insert_with(|| now + self.rtt.rto())
            };
            let before = self.snd_una;
            let mut answered = false;
            loop {
                let window_before = self.peer_window;
                let Some(p) = self.wait_segment(live, deadline)? else {
                    break;
                };
                let Some(t) = p.tcp() else { continue };
                if t.flag_bits() & flags::ACK == 0 {
                    continue;
                }
                answered = true;
                s.last_ack = Some(p.clone());
                self.max_window = self.max_window.max(self.peer_window);
                if self.snd_una != before || self.reset {
                    break;
                }
                let pure = p.payload().is_empty() && t.flag_bits() & (flags::SYN | flags::FIN) == 0;
                // A duplicate ACK: the window unchanged (RFC 5681), or, with
                // SACK, news of data the peer holds above a hole (RFC 6675).
                let sacks = self.sack_ok && !t.sack_blocks().is_empty();
                if pure
                    && in_flight > 0
                    && !s.probing
                    && (self.peer_window == window_before || sacks)
                {
                    s.dupacks += 1;
                    if s.dupacks == DUPACK_THRESHOLD {
                        break; // fast retransmit
                    }
                    continue;
                }
                let unsent = (self.snd_nxt.wrapping_sub(base) as usize) < data.len();
                if s.probing || (self.peer_window > in_flight && unsent) {
                    break; // the probe is answered, or the window opened: send more
                }
            }
            if s.probing {
                if answered {
                    // The peer is alive: its window stays shut (or opened).
                    // What it did not take of the probe is sent again later.
                    s.probing = false;
                    s.unanswered = 0;
                    if seq_lt(self.snd_una, self.snd_nxt) {
                        self.snd_nxt = self.snd_una;
                    }
                    if self.peer_window > 0 {
                        s.probes = 0;
                    }
                    continue;
                }
                if Instant::now() < deadline {
                    continue;
                }
                s.unanswered += 1;
                if s.unanswered > self.cfg.retries {
                    return Err(ConnError::State(format!(
                        "send(): the peer's window is shut and it did not answer {} window probes \
                         ({} of {} bytes acknowledged)",
                        s.unanswered,
                        offset(self.snd_una),
                        data.len()
                    )));
                }
            }
            if self.snd_una != before {
                // Progress: the timers start again, the backoff ends (a
                // round trip measured from a segment sent once is a sample).
                if let Some((end, at)) = s.timing
                    && seq_le(end, self.snd_una)
                {
                    self.rtt.sample(at.elapsed());
                    s.timing = None;
                }
                self.rtt.reset_backoff();
                s.retries = 0;
                s.dupacks = 0;
                s.rexmit_at = None;
                s.persist_at = None;
                s.probes = 0;
                // NewReno (RFC 6582): a partial ACK during recovery means the
                // next hole is lost too: send it at once.
                if let Some(recover) = s.recover {
                    if seq_lt(self.snd_una, recover) {
                        self.resend_first(live, data, base, seg_size, "fast retransmission")?;
                        s.timing = None;
                    } else {
                        s.recover = None;
                    }
                }
                continue;
            }
            if s.dupacks >= DUPACK_THRESHOLD && s.recover.is_none() {
                // Three duplicate ACKs: the first unacknowledged segment is lost.
                s.recover = Some(self.snd_nxt);
                s.timing = None;
                self.resend_first(live, data, base, seg_size, "fast retransmission")?;
                s.rexmit_at = Some(Instant::now() + self.rtt.rto());
                continue;
            }
            if Instant::now() < deadline {
                continue; // the window opened, or an ACK changed nothing
            }
            if self.peer_window == 0 || s.probing {
                // Persist timer: one byte past the shut window, from the
                // first byte not acknowledged (what was past the window is
                // dropped by the peer; an unanswered probe goes again).
                self.go_back(base);
                s.rexmit_at = None;
                s.persist_at = None;
                s.probes += 1;
                let next = offset(self.snd_nxt);
                let fresh = next >= s.sent_upto;
                self.send_data(
                    live,
                    data,
                    base,
                    next..next + 1,
                    Some("zero-window probe"),
                    fresh,
                )?;
                s.sent_upto = s.sent_upto.max(next + 1);
                s.probing = true;
                s.timing = None;
                continue;
            }
            if self.snd_nxt == self.snd_una {
                continue; // the SWS override timer ran out: send what fits
            }
            // Retransmission timeout: go back to the oldest unacknowledged byte.
            s.retries += 1;
            s.rexmit_at = None;
            s.timing = None;
            s.recover = None;
            s.dupacks = 0;
            if s.retries > self.cfg.retries {
                // What was not acknowledged is given up: the next send
                // starts from the first byte of it again.
                let acked = offset(self.snd_una);
                self.go_back(base);
                let why = if seq_lt(self.snd_una, base) {
                    format!(
                        "; the {earlier} bytes sent by hand before it were never acknowledged either, \
                         so the peer waits for them (seq {})",
                        self.snd_una.wrapping_sub(self.cfg.iss)
                    )
                } else {
                    String::new()
                };
                return Err(ConnError::State(format!(
                    "send(): no ACK after {} retransmissions ({acked} of {} bytes acknowledged, \
                     the rest given up: c.seq is back at the first of them){why}",
                    self.cfg.retries,
                    data.len()
                )));
            }
            self.go_back(base);
            self.events.push(Event::Retransmission {
                what: "data",
                rto: self.rtt.rto(),
                attempt: s.retries,
            });
            self.rtt.back_off();
        }
    }

    /// Moves `snd_nxt` back to the first byte not acknowledged of the data
    /// that starts at `base` (bytes sent by hand before it are not ours to
    /// resend).
    fn go_back(&mut self, base: u32) {
        self.snd_nxt = if seq_lt(self.snd_una, base) {
            base
        } else {
            self.snd_una
        };
    }

    /// Sends the bytes `span` of `data` (which starts at sequence number
    /// `base`) and moves `snd_nxt` past them; `fresh` when they go for the
    /// first time.
    fn send_data(
        &mut self,
        live: &mut Live,
        data: &[u8],
        base: u32,
        span: std::ops::Range<usize>,
        note: Option<&'static str>,
        fresh: bool,
    ) -> Result<(), ConnError> {
        let (at, end) = (span.start, span.end);
        let fl = flags::ACK | if end == data.len() { flags::PSH } else { 0 };
        let seg = self.segment(fl, base.wrapping_add(at as u32), &data[at..end], Vec::new());
        self.transmit(live, &seg, note)?;
        if fresh {
            // The stream has each byte once, when it first goes.
            self.push_outbound(&data[at..end]);
        }
        let end_seq = base.wrapping_add(end as u32);
        if seq_lt(self.snd_nxt, end_seq) {
            self.snd_nxt = end_seq;
        }
        Ok(())
    }

    /// Sends the first unacknowledged segment of `data` again, leaving
    /// `snd_nxt` where it is.
    fn resend_first(
        &mut self,
        live: &mut Live,
        data: &[u8],
        base: u32,
        seg_size: usize,
        note: &'static str,
    ) -> Result<(), ConnError> {
        if seq_lt(self.snd_una, base) {
            return Ok(()); // bytes sent by hand are not ours to resend
        }
        let at = (self.snd_una.wrapping_sub(base) as usize).min(data.len());
        let sent = (self.snd_nxt.wrapping_sub(base) as usize).min(data.len());
        let n = seg_size.min(sent.saturating_sub(at));
        if n == 0 {
            return Ok(());
        }
        self.send_data(live, data, base, at..at + n, Some(note), false)
    }

    /// Takes the peer's data, acknowledging it, until its FIN or until none has
    /// come for `idle`. Returns the bytes not returned before.
    pub fn recv(&mut self, live: &mut Live, idle: Duration) -> Result<Bytes, ConnError> {
        self.recv_until(live, idle, None)
    }

    /// As [`Conn::recv`], also stopping as soon as the bytes not returned
    /// before contain `until` (an HTTP request's blank line, say): then
    /// they are returned up to and including it, and the rest waits for the
    /// next call.
    pub fn recv_until(
        &mut self,
        live: &mut Live,
        idle: Duration,
        until: Option<&[u8]>,
    ) -> Result<Bytes, ConnError> {
        self.recv_upto(live, idle, until, None)
    }

    /// Like [`Conn::recv_until`], and with `size` also as soon as that many
    /// unread bytes have come (exactly `size` returned, the rest waits).
    pub fn recv_upto(
        &mut self,
        live: &mut Live,
        idle: Duration,
        until: Option<&[u8]>,
        size: Option<usize>,
    ) -> Result<Bytes, ConnError> {
        if self.state == State::Closed && !self.reset && self.log.is_empty() {
            return Err(ConnError::State(
                "recv(): not connected (call syn() and ack() first)".into(),
            ));
        }
        let mut deadline = Instant::now() + idle;
        while !self.peer_fin && !self.reset {
            if let Some(end) = self.ready(until, size) {
                self.flush_ack(live)?;
                return Ok(self.take_pending(end));
            }
            let before = self.pending.len();
            match self.wait_segment(live, deadline)? {
                None => break,
                Some(_) => {
                    if self.pending.len() > before {
                        deadline = Instant::now() + idle;
                    }
                }
            }
        }
        self.flush_ack(live)?;
        let end = self.ready(until, size).unwrap_or(self.pending.len());
        Ok(self.take_pending(end))
    }

    /// Where a `recv` with `until`/`size` may end in the unread bytes, if
    /// they hold enough. Each byte is searched for `until` once.
    fn ready(&mut self, until: Option<&[u8]>, size: Option<usize>) -> Option<usize> {
        let marker = until.filter(|u| !u.is_empty()).and_then(|u| {
            // A marker may straddle what was searched and what is new.
            let from = self.searched.saturating_sub(u.len() - 1);
            let at = self.pending[from..]
                .windows(u.len())
                .position(|w| w == u)
                .map(|i| from + i + u.len());
            self.searched = self.pending.len();
            at
        });
        let sized = size.filter(|&n| self.pending.len() >= n);
        match (marker, sized) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The first `end` unread bytes, now read. No copy: what is returned
    /// shares its bytes with the stream kept for `c.received`.
    fn take_pending(&mut self, end: usize) -> Bytes {
        self.searched = 0;
        let end = end.min(self.pending.len());
        let taken = self.pending.split_to(end).freeze();
        if !taken.is_empty() {
            self.taken.push(taken.clone());
        }
        taken
    }

    /// All the data received in order so far (returned by `recv` or not);
    /// shared, not copied, when one `recv` returned all of it.
    pub fn received(&self) -> Bytes {
        match (self.taken.as_slice(), self.pending.is_empty()) {
            ([], _) => Bytes::copy_from_slice(&self.pending),
            ([one], true) => one.clone(),
            (pieces, _) => {
                let mut all = BytesMut::with_capacity(
                    pieces.iter().map(Bytes::len).sum::<usize>() + self.pending.len(),
                );
                for p in pieces {
                    all.extend_from_slice(p);
                }
                all.extend_from_slice(&self.pending);
                all.freeze()
            }
        }
    }

    /// Closes our side: FIN, then waits for its ACK and the peer's FIN (which
    /// is acknowledged). Returns the peer's FIN (or the last segment seen).
    pub fn close(
        &mut self,
        live: &mut Live,
        timeout: Duration,
    ) -> Result<Option<Packet>, ConnError> {
        self.refuse_unless(
            matches!(self.state, State::Established | State::CloseWait),
            "close()",
        )?;
        let fin = self.segment(flags::FIN | flags::ACK, self.snd_nxt, &[], Vec::new());
        self.snd_nxt = self.snd_nxt.wrapping_add(1);
        self.fin_sent = true;
        self.set_state(if self.state == State::CloseWait {
            State::LastAck
        } else {
            State::FinWait1
        });
        let mut last = None;
        let mut rto = self.cfg.rto;
        let end = Instant::now() + timeout;
        let mut attempts = 0;
        self.transmit(live, &fin, None)?;
        loop {
            let done = self.fin_acked && self.peer_fin || self.reset || self.state == State::Closed;
            if done {
                return Ok(last);
            }
            let deadline = (Instant::now() + rto).min(end);
            match self.wait_segment(live, deadline)? {
                Some(p) => last = Some(p),
                None if Instant::now() >= end => return Ok(last),
                None => {
                    if !self.fin_acked && attempts < self.cfg.retries {
                        attempts += 1;
                        self.events.push(Event::Retransmission {
                            what: "FIN",
                            rto,
                            attempt: attempts,
                        });
                        self.transmit(live, &fin, Some("retransmission"))?;
                        rto *= 2;
                    }
                }
            }
        }
    }

    /// Sends a RST: the connection is over at once.
    pub fn rst(&mut self, live: &mut Live) -> Result<Packet, ConnError> {
        let p = self.segment(flags::RST | flags::ACK, self.snd_nxt, &[], Vec::new());
        let p = self.transmit(live, &p, None)?;
        self.aborted = true;
        self.set_state(State::Closed);
        Ok(p)
    }

    /// The last segment sent and received.
    pub fn last(&self, dir: Dir) -> Option<&Packet> {
        self.log
            .iter()
            .rev()
            .find(|e| e.dir == dir)
            .map(|e| &*e.pkt)
    }
}

/// Ether / IP (IPv4, don't-fragment set, or IPv6: the family of `dst`) /
/// `tcp` / `payload`, from `local` (None: the IP layer's default).
fn ip_tcp(local: Option<IpAddr>, dst: IpAddr, tcp: Tcp, payload: &[u8]) -> Packet {
    match dst {
        IpAddr::V4(dst) => {
            let ip = Ipv4 {
                src: local.and_then(|a| match a {
                    IpAddr::V4(a) => Some(a),
                    IpAddr::V6(_) => None,
                }),
                dst: Some(dst),
                flags: Some(2),
                ..Ipv4::default()
            };
            Packet::ether_ip_tcp(ip, tcp, payload)
        }
        IpAddr::V6(dst) => {
            let ip = Ipv6 {
                src: local.and_then(|a| match a {
                    IpAddr::V6(a) => Some(a),
                    IpAddr::V4(_) => None,
                }),
                dst: Some(dst),
                ..Ipv6::default()
            };
            Packet::ether_ip6_tcp(ip, tcp, payload)
        }
    }
}

/// The quick (no decode) test that frame `b` may be a segment from
/// `peer`: (address, port, our port). An IPv6 frame with extension headers
/// passes, for the full decode to judge.
fn quick_from(b: &[u8], peer: (IpAddr, u16, u16)) -> bool {
    use crate::wire::view::{Tcp6, TcpView, tcp6};
    match peer.0 {
        IpAddr::V4(a) => TcpView::new_checked(b)
            .is_ok_and(|v| v.src() == a && v.sport() == peer.1 && v.dport() == peer.2),
        IpAddr::V6(a) => match tcp6(b) {
            Tcp6::NotIpv6 => false,
            Tcp6::Other => true,
            Tcp6::Tcp { src, sport, dport } => {
                *src == a.octets() && sport == peer.1 && dport == peer.2
            }
        },
    }
}

/// The quick test that frame `b` may be a TCP segment to `port` (IPv4 or
/// IPv6; extension headers pass, for the full decode to judge).
fn quick_to_port(b: &[u8], port: u16) -> bool {
    use crate::wire::view::{Tcp6, TcpView, tcp6};
    match tcp6(b) {
        Tcp6::NotIpv6 => TcpView::new_checked(b).is_ok_and(|v| v.dport() == port),
        Tcp6::Other => true,
        Tcp6::Tcp { dport, .. } => dport == port,
    }
}

/// Server side: the first SYN to `addr:port` before `deadline` (one kept in
/// the link's backlog or queue first), skipping the clients in `skip`
/// (address, port, initial sequence number: SYNs of connections already
/// accepted, sent again). A SYN with a wrong checksum is nobody's.
pub fn wait_syn(
    live: &mut Live,
    addr: IpAddr,
    port: u16,
    deadline: Instant,
    skip: &[(IpAddr, u16, u32)],
) -> Result<Option<crate::live::Received>, LiveError> {
    let quick = |b: &[u8]| quick_to_port(b, port);
    live.recv_matching(deadline, quick, |p| {
        let (Some((src, dst)), Some(t)) = (p.ip_ends(), p.tcp()) else {
            return false;
        };
        let key = (
            src.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            t.sport.unwrap_or(0),
            t.seq.unwrap_or(0),
        );
        dst == Some(addr)
            && t.flag_bits() & (flags::SYN | flags::ACK | flags::RST) == flags::SYN
            && !skip.contains(&key)
            && crate::wire::matcher::transport_checksum_ok(p)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::MemLink;
    use std::sync::{Arc, Mutex};

    const PEER_ISN: u32 = 5000;

    /// What the scripted peer saw.
    #[derive(Default)]
    struct Seen {
        data: Vec<u8>,
        max_payload: usize,
        max_in_flight: u32,
        drops_left: u32,
        fins: u32,
    }

    /// A tiny TCP server: MSS `mss`, window `window`; drops the first
    /// `drops` data segments; sends `reply` after the first data; FIN after ours.
    fn peer(mss: u16, window: u16, drops: u32, reply: &'static [u8]) -> (Live, Arc<Mutex<Seen>>) {
        let seen = Arc::new(Mutex::new(Seen {
            drops_left: drops,
            ..Seen::default()
        }));
        let s2 = seen.clone();
        let mut rcv_nxt = 0u32;
        let mut replied = false;
        let link = MemLink::with_responder(move |frame: &[u8]| {
            let p = Packet::parse(frame);
            let Some(t) = p.tcp() else { return vec![] };
            let mut seen = s2.lock().unwrap();
            let fl = t.flag_bits();
            let seq = t.seq.unwrap_or(0);
            let mk = |fl: u16, seq: u32, ack: u32, opts: Vec<u8>, data: &[u8]| {
                let ip = Ipv4 {
                    src: Some(Ipv4Addr::LOCALHOST),
                    dst: Some(Ipv4Addr::LOCALHOST),
                    ..Ipv4::default()
                };
                let tcp = Tcp {
                    sport: t.dport,
                    dport: t.sport,
                    seq: Some(seq),
                    ack: Some(ack),
                    flags: Some(fl),
                    window: Some(window),
                    options: opts,
                    ..Tcp::default()
                };
                Packet::ether_ip_tcp(ip, tcp, data).emit()
            };
            if fl & flags::SYN != 0 {
                rcv_nxt = seq.wrapping_add(1);
                return vec![mk(
                    flags::SYN | flags::ACK,
                    PEER_ISN,
                    rcv_nxt,
                    encode_options(&[TcpOption::Mss(mss)]),
                    &[],
                )];
            }
            let payload = p.payload();
            let mut out = vec![];
            if !payload.is_empty() {
                if seen.drops_left > 0 {
                    seen.drops_left -= 1;
                    return vec![];
                }
                seen.max_payload = seen.max_payload.max(payload.len());
                let in_flight = seq.wrapping_add(payload.len() as u32).wrapping_sub(rcv_nxt);
                seen.max_in_flight = seen.max_in_flight.max(in_flight);
                if seq == rcv_nxt {
                    seen.data.extend_from_slice(payload);
                    rcv_nxt = rcv_nxt.wrapping_add(payload.len() as u32);
                }
                out.push(mk(flags::ACK, PEER_ISN + 1, rcv_nxt, vec![], &[]));
                if !replied && !reply.is_empty() {
                    replied = true;
                    // Out of order on purpose: the second half first.
                    let half = reply.len() / 2;
                    out.push(mk(
                        flags::PSH | flags::ACK,
                        PEER_ISN + 1 + half as u32,
                        rcv_nxt,
                        vec![],
                        &reply[half..],
                    ));
                    out.push(mk(
                        flags::ACK,
                        PEER_ISN + 1,
                        rcv_nxt,
                        vec![],
                        &reply[..half],
                    ));
                }
            }
            if fl & flags::FIN != 0 {
                seen.fins += 1;
                rcv_nxt = rcv_nxt.wrapping_add(1);
                let my_seq = PEER_ISN + 1 + if replied { reply.len() as u32 } else { 0 };
                out.push(mk(flags::FIN | flags::ACK, my_seq, rcv_nxt, vec![], &[]));
            }
            out
        });
        (Live::with_link(Box::new(link)), seen)
    }

    /// An event in a few words: `out PA (retransmission)`, `CLOSED > SYN-SENT`.
    fn brief(e: &Event) -> String {
        match e {
            Event::Segment { dir, pkt, note, .. } => {
                let d = if *dir == Dir::Out { "out" } else { "in" };
                let fl = crate::wire::tcp_flags_str(pkt.tcp().map_or(0, Tcp::flag_bits));
                match note {
                    Some(n) => format!("{d} {fl} ({n})"),
                    None => format!("{d} {fl}"),
                }
            }
            Event::Retransmission { what, rto, attempt } => {
                format!("retransmit {what} #{attempt} after {rto:?}")
            }
            Event::StateChange { from, to } => format!("{} > {}", from.name(), to.name()),
        }
    }

    #[test]
    fn a_conversation_reports_its_segments_and_states_in_order() {
        let (mut live, _) = peer(1460, 65535, 0, b"");
        let mut c = conn();
        c.syn(&mut live).unwrap();
        c.ack(&mut live).unwrap();
        c.send(&mut live, b"hi").unwrap();
        c.close(&mut live, Duration::from_millis(50)).unwrap();
        let events = c.take_events();
        let words: Vec<String> = events.iter().map(brief).collect();
        assert_eq!(
            words,
            [
                "CLOSED > SYN-SENT",
                "out S",
                "in SA",
                "out A",
                "SYN-SENT > ESTABLISHED",
                "out PA",
                "in A",
                "ESTABLISHED > FIN-WAIT-1",
                "out FA",
                // The peer's FIN acknowledges ours: straight to TIME-WAIT,
                // reported after the segment that did it.
                "in FA",
                "FIN-WAIT-1 > TIME-WAIT",
                "out A",
            ]
        );
        // Segments carry the relative-number bases in effect when they went:
        // the peer's ISN is unknown (0) for our SYN, known from its SYN-ACK on.
        let rels: Vec<(Dir, Relative)> = events
            .iter()
            .filter_map(|e| match e {
                Event::Segment { dir, rel, .. } => Some((*dir, *rel)),
                _ => None,
            })
            .collect();
        let out = Relative {
            seq_base: 1000,
            ack_base: PEER_ISN,
        };
        let inb = Relative {
            seq_base: PEER_ISN,
            ack_base: 1000,
        };
        assert_eq!(
            rels[0],
            (
                Dir::Out,
                Relative {
                    seq_base: 1000,
                    ack_base: 0
                }
            )
        );
        assert_eq!(rels[1], (Dir::In, inb));
        assert!(
            rels[2..]
                .iter()
                .all(|r| *r == (Dir::Out, out) || *r == (Dir::In, inb))
        );
        // The segments reported are the ones logged, with their timestamps.
        let segs: Vec<(Dir, SystemTime, &Packet)> = events
            .iter()
            .filter_map(|e| match e {
                Event::Segment { dir, ts, pkt, .. } => Some((*dir, *ts, &**pkt)),
                _ => None,
            })
            .collect();
        let logged: Vec<(Dir, SystemTime, &Packet)> =
            c.log.iter().map(|e| (e.dir, e.ts, &*e.pkt)).collect();
        assert_eq!(segs, logged);
    }

    fn conn() -> Conn {
        Conn::new(ConnConfig {
            dst: Ipv4Addr::LOCALHOST.into(),
            dport: 1234,
            sport: 40000,
            iss: 1000,
            window: 65535,
            mss: 65495,
            wscale: None,
            rto: Duration::from_millis(2),
            retries: 5,
            segment: None,
            flight: None,
            sack: false,
            timestamps: false,
            verbose: true,
        })
    }

    #[test]
    fn splits_to_the_peer_mss_and_keeps_to_its_window() {
        let (mut live, seen) = peer(100, 300, 0, b"");
        let mut c = conn();
        let synack = c.syn(&mut live).unwrap().unwrap();
        assert_eq!(synack.tcp().unwrap().flags, Some(0x12));
        assert_eq!((c.peer_mss, c.peer_window), (100, 300));
        c.ack(&mut live).unwrap();
        assert_eq!(c.state, State::Established);
        let data: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        c.send(&mut live, &data).unwrap();
        let s = seen.lock().unwrap();
        assert_eq!(s.data, data);
        assert_eq!(s.max_payload, 100);
        assert!(s.max_in_flight <= 300, "{}", s.max_in_flight);
        assert_eq!(c.snd_una, c.snd_nxt);
        assert_eq!(c.snd_nxt, 1001 + 1000);
    }

    #[test]
    fn retransmits_lost_segments_and_says_so() {
        let (mut live, seen) = peer(1460, 65535, 2, b"");
        let mut c = conn();
        c.syn(&mut live).unwrap();
        c.ack(&mut live).unwrap();
        c.send(&mut live, b"hello\n").unwrap();
        assert_eq!(seen.lock().unwrap().data, b"hello\n");
        let retrans = c
            .log
            .iter()
            .filter(|e| e.note == Some("retransmission"))
            .count();
        assert_eq!(retrans, 2);
        // Each retransmission is reported: the timeout, then the segment again.
        let events: Vec<String> = c.take_events().iter().map(brief).collect();
        assert_eq!(
            events,
            [
                "CLOSED > SYN-SENT",
                "out S",
                "in SA",
                "out A",
                "SYN-SENT > ESTABLISHED",
                "out PA",
                "retransmit data #1 after 2ms",
                "out PA (retransmission)",
                "retransmit data #2 after 4ms",
                "out PA (retransmission)",
                "in A",
            ]
        );
        assert!(c.take_events().is_empty(), "taken once");
    }

    #[test]
    fn send_after_a_segment_sent_by_hand_sends_its_data_after_it() {
        let (mut live, seen) = peer(1460, 65535, 0, b"");
        let mut c = conn();
        c.syn(&mut live).unwrap();
        c.ack(&mut live).unwrap();
        // The user sends "abc" by hand on the session's ports; the session keeps in step.
        let by_hand = c.segment(flags::PSH | flags::ACK, c.snd_nxt, b"abc", Vec::new());
        let sent = live.send(&by_hand).unwrap();
        c.observe_sent(&sent.pkt, sent.ts);
        assert_eq!(c.snd_nxt, 1001 + 3);
        let before = c.log.len();
        let ack = c.send(&mut live, b"hello").unwrap().unwrap();
        assert!(c.log.len() > before, "send() sent something");
        assert_eq!(seen.lock().unwrap().data, b"abchello");
        assert_eq!(ack.tcp().unwrap().ack, Some(1001 + 8));
        assert_eq!((c.snd_una, c.snd_nxt), (1001 + 8, 1001 + 8));
    }

    #[test]
    fn send_after_one_that_gave_up_sends_again() {
        let (mut live, seen) = peer(1460, 65535, 100, b"");
        let mut c = conn();
        c.cfg.retries = 2;
        c.syn(&mut live).unwrap();
        c.ack(&mut live).unwrap();
        let e = c.send(&mut live, b"lost").unwrap_err();
        assert!(
            matches!(&e, ConnError::State(m) if m.contains("no ACK after 2 retransmissions")),
            "{e:?}"
        );
        // What was not acknowledged is given up: the next send starts there.
        assert_eq!(c.snd_nxt, c.snd_una);
        seen.lock().unwrap().drops_left = 0;
        let sent_before = c.log.iter().filter(|e| e.dir == Dir::Out).count();
        c.send(&mut live, b"again").unwrap();
        assert!(c.log.iter().filter(|e| e.dir == Dir::Out).count() > sent_before);
        assert_eq!(seen.lock().unwrap().data, b"again");
        assert_eq!(c.snd_una, 1001 + 5);
    }

    #[test]
    fn send_of_nothing_says_so() {
        let (mut live, _) = peer(1460, 65535, 0, b"");
        let mut c = conn();
        c.syn(&mut live).unwrap();
        c.ack(&mut live).unwrap();
        let e = c.send(&mut live, b"").unwrap_err();
        assert!(
            matches!(&e, ConnError::State(m) if m.contains("no data")),
            "{e:?}"
        );
    }

    #[test]
    fn send_when_bytes_sent_by_hand_are_never_acknowledged_fails_saying_so() {
        let (mut live, seen) = peer(1460, 65535, 0, b"");
        let mut c = conn();
        c.cfg.retries = 1;
        c.syn(&mut live).unwrap();
        c.ack(&mut live).unwrap();
        // Bytes "sent by hand" that never reached the peer.
        let lost = c
            .segment(flags::ACK, c.snd_nxt, b"gap", Vec::new())
            .resolved();
        c.observe_sent(&lost, SystemTime::now());
        let e = c.send(&mut live, b"after").unwrap_err();
        assert!(
            matches!(&e, ConnError::State(m) if m.contains("3 bytes sent by hand before it were never acknowledged")),
            "{e:?}"
        );
        assert!(seen.lock().unwrap().data.is_empty());
    }

    #[test]
    fn out_of_order_data_is_held_then_delivered_in_order() {
        let (mut live, _) = peer(1460, 65535, 0, b"0123456789");
        let mut c = conn();
        c.syn(&mut live).unwrap();
        c.ack(&mut live).unwrap();
        c.send(&mut live, b"x").unwrap();
        let got = c.recv(&mut live, Duration::from_millis(5)).unwrap();
        assert_eq!(got, &b"0123456789"[..]);
        assert_eq!(c.rcv_nxt, PEER_ISN + 1 + 10);
        assert!(c.log.iter().any(|e| e.note == Some("out of order: held")));
    }

    #[test]
    fn recv_until_returns_up_to_the_marker_and_keeps_the_rest() {
        let (mut live, _) = peer(1460, 65535, 0, b"0123456789");
        let mut c = conn();
        c.syn(&mut live).unwrap();
        c.ack(&mut live).unwrap();
        c.send(&mut live, b"x").unwrap();
        let t = Duration::from_millis(5);
        assert_eq!(
            c.recv_until(&mut live, t, Some(b"345")).unwrap(),
            &b"012345"[..]
        );
        assert_eq!(
            c.recv_until(&mut live, t, Some(b"zz")).unwrap(),
            &b"6789"[..]
        );
        assert_eq!(c.recv(&mut live, t).unwrap(), &b""[..]);
    }

    #[test]
    fn the_stream_keeps_one_copy_of_received_data_shared_with_recv() {
        let (mut live, _) = peer(1460, 65535, 0, b"0123456789");
        let mut c = conn();
        c.syn(&mut live).unwrap();
        c.ack(&mut live).unwrap();
        c.send(&mut live, b"hi").unwrap();
        let got = c.recv(&mut live, Duration::from_millis(5)).unwrap();
        // One recv returned everything: c.received is the same bytes.
        assert_eq!(c.received().as_ptr(), got.as_ptr());
        assert_eq!(
            c.stream(),
            vec![
                (Dir::Out, b"hi".to_vec()),
                (Dir::In, b"0123456789".to_vec())
            ]
        );
        assert_eq!(c.sent_bytes(), 2);
    }

    #[test]
    fn received_and_the_stream_join_pieces_read_and_unread() {
        let mut c = conn();
        c.push_outbound(b"GET");
        for piece in [&b"ab"[..], b"cd", b"ef"] {
            c.pending.extend_from_slice(piece);
            c.push_inbound(piece.len());
        }
        assert_eq!(c.take_pending(3), &b"abc"[..]);
        c.push_outbound(b"!");
        c.pending.extend_from_slice(b"gh");
        c.push_inbound(2);
        assert_eq!(c.received(), &b"abcdefgh"[..]);
        assert_eq!(
            c.stream(),
            vec![
                (Dir::Out, b"GET".to_vec()),
                (Dir::In, b"abcdef".to_vec()),
                (Dir::Out, b"!".to_vec()),
                (Dir::In, b"gh".to_vec()),
            ]
        );
    }

    #[test]
    fn a_marker_split_across_two_arrivals_is_found_and_each_byte_searched_once() {
        let mut c = conn();
        c.pending = BytesMut::from(&b"0123"[..]);
        assert_eq!(c.ready(Some(b"345"), None), None);
        assert_eq!(c.searched, 4);
        c.pending.extend_from_slice(b"456789");
        assert_eq!(c.ready(Some(b"345"), None), Some(6));
        assert_eq!(c.take_pending(6), &b"012345"[..]);
        assert_eq!(c.take_pending(100), &b"6789"[..]);
        assert!(c.pending.is_empty());
    }

    #[test]
    fn recv_size_returns_exactly_that_many_bytes() {
        let (mut live, _) = peer(1460, 65535, 0, b"0123456789");
        let mut c = conn();
        c.syn(&mut live).unwrap();
        c.ack(&mut live).unwrap();
        c.send(&mut live, b"x").unwrap();
        let t = Duration::from_millis(5);
        assert_eq!(
            c.recv_upto(&mut live, t, None, Some(4)).unwrap(),
            &b"0123"[..]
        );
        // The marker or the size, whichever comes first.
        assert_eq!(
            c.recv_upto(&mut live, t, Some(b"56"), Some(5)).unwrap(),
            &b"456"[..]
        );
        assert_eq!(
            c.recv_upto(&mut live, t, Some(b"zz"), Some(2)).unwrap(),
            &b"78"[..]
        );
        // Fewer than asked when the peer is done.
        assert_eq!(c.recv_upto(&mut live, t, None, Some(9)).unwrap(), &b"9"[..]);
    }

    #[test]
    fn close_goes_through_fin_wait_to_time_wait() {
        let (mut live, seen) = peer(1460, 65535, 0, b"");
        let mut c = conn();
        c.syn(&mut live).unwrap();
        c.ack(&mut live).unwrap();
        let fin = c
            .close(&mut live, Duration::from_millis(50))
            .unwrap()
            .unwrap();
        assert_eq!(fin.tcp().unwrap().flag_bits() & flags::FIN, flags::FIN);
        assert_eq!(c.state, State::TimeWait);
        assert_eq!(seen.lock().unwrap().fins, 1);
        // The last ACK acknowledges the peer's FIN.
        let last = c.last(Dir::Out).unwrap().tcp().unwrap().clone();
        assert_eq!(last.ack, Some(PEER_ISN + 2));
        // Helpers refuse to go on.
        assert!(matches!(
            c.send(&mut live, b"late"),
            Err(ConnError::State(_))
        ));
    }

    /// The client's SYN for a server session: MSS 1000, window 4000, wscale 2.
    fn client_syn() -> Packet {
        Packet::ether_ip_tcp(
            Ipv4 {
                src: Some(Ipv4Addr::LOCALHOST),
                dst: Some(Ipv4Addr::LOCALHOST),
                ..Ipv4::default()
            },
            Tcp {
                sport: Some(40000),
                dport: Some(1234),
                seq: Some(PEER_ISN),
                flags: Some(flags::SYN),
                window: Some(4000),
                options: encode_options(&[
                    TcpOption::Mss(1000),
                    TcpOption::Nop,
                    TcpOption::WScale(2),
                ]),
                ..Tcp::default()
            },
            &[],
        )
        .resolved()
    }

    #[test]
    fn a_server_session_answers_the_syn_and_then_talks_like_a_client_one() {
        // A scripted client: loses the first SYN-ACK, ACKs the second with
        // "GET" in it, ACKs data, answers our FIN with its own.
        let got = Arc::new(Mutex::new(Vec::<u8>::new()));
        let g2 = got.clone();
        let mut synacks = 0;
        let link = MemLink::with_responder(move |frame: &[u8]| {
            let p = Packet::parse(frame);
            let Some(t) = p.tcp().cloned() else {
                return vec![];
            };
            let mk = |fl: u16, seq: u32, ack: u32, data: &[u8]| {
                let ip = Ipv4 {
                    src: Some(Ipv4Addr::LOCALHOST),
                    dst: Some(Ipv4Addr::LOCALHOST),
                    ..Ipv4::default()
                };
                let tcp = Tcp {
                    sport: Some(40000),
                    dport: Some(1234),
                    seq: Some(seq),
                    ack: Some(ack),
                    flags: Some(fl),
                    window: Some(1000), // << 2: 4000 bytes
                    ..Tcp::default()
                };
                Packet::ether_ip_tcp(ip, tcp, data).emit()
            };
            let fl = t.flag_bits();
            let ack = t.seq.unwrap_or(0).wrapping_add(1);
            if fl == flags::SYN | flags::ACK {
                synacks += 1;
                assert_eq!(t.mss(), Some(65495));
                assert_eq!(t.wscale(), Some(7));
                if synacks == 1 {
                    return vec![];
                }
                return vec![mk(flags::PSH | flags::ACK, PEER_ISN + 1, ack, b"GET")];
            }
            let data = p.payload();
            let mut g = g2.lock().unwrap();
            g.extend_from_slice(data);
            let rcv = t.seq.unwrap_or(0).wrapping_add(data.len() as u32);
            if fl & flags::FIN != 0 {
                return vec![mk(flags::FIN | flags::ACK, PEER_ISN + 4, rcv + 1, b"")];
            }
            if data.is_empty() {
                return vec![];
            }
            vec![mk(flags::ACK, PEER_ISN + 4, rcv, b"")]
        });
        let mut live = Live::with_link(Box::new(link));
        let mut cfg = conn().cfg;
        cfg.wscale = Some(7);
        cfg.iss = 9000;
        cfg.dport = 40000;
        cfg.sport = 1234;
        let mut c = Conn::accepted(
            cfg,
            Ipv4Addr::LOCALHOST.into(),
            &client_syn(),
            SystemTime::now(),
        );
        assert_eq!(c.state, State::SynReceived);
        assert_eq!(
            (c.peer_mss, c.peer_window, c.peer_wscale),
            (1000, 4000, Some(2))
        );
        assert!(c.syn_ack(&mut live).unwrap());
        assert_eq!(c.state, State::Established);
        assert_eq!(c.peer_window, 4000);
        assert_eq!(
            c.recv(&mut live, Duration::from_millis(5)).unwrap(),
            &b"GET"[..]
        );
        let data = vec![b'x'; 2500];
        c.send(&mut live, &data).unwrap();
        assert_eq!(*got.lock().unwrap(), data);
        c.close(&mut live, Duration::from_millis(50)).unwrap();
        assert_eq!(c.state, State::TimeWait);
        let words: Vec<String> = c.take_events().iter().map(brief).collect();
        assert_eq!(
            words[..6],
            [
                "in S",
                "CLOSED > SYN-RECEIVED",
                "out SA",
                "retransmit SYN-ACK #1 after 2ms",
                "out SA (retransmission)",
                "in PA",
            ]
        );
        // Segments of at most the client's MSS.
        assert!(
            c.log
                .iter()
                .filter(|e| e.dir == Dir::Out)
                .all(|e| e.pkt.payload().len() <= 1000)
        );
        // A client helper is refused on a server session.
        assert!(matches!(c.syn(&mut live), Err(ConnError::State(_))));
    }

    #[test]
    fn a_rst_ends_it_and_helpers_refuse() {
        let mut c = conn();
        let (mut live, _) = peer(1460, 65535, 0, b"");
        c.syn(&mut live).unwrap();
        let rst = Packet::ether_ip_tcp(
            Ipv4 {
                src: Some(Ipv4Addr::LOCALHOST),
                dst: Some(Ipv4Addr::LOCALHOST),
                ..Ipv4::default()
            },
            Tcp {
                sport: Some(1234),
                dport: Some(40000),
                seq: Some(c.rcv_nxt),
                flags: Some(flags::RST),
                ..Tcp::default()
            },
            &[],
        )
        .resolved();
        c.absorb(&rst, SystemTime::now());
        assert!(c.reset);
        assert_eq!(c.state, State::Closed);
        assert_eq!(c.state.name(), "CLOSED");
        assert_eq!(c.reason(), Some("reset by peer"));
        assert_eq!(c.state_line(), "CLOSED (reset by peer)");
        let e = c.ack(&mut live).unwrap_err();
        assert!(matches!(e, ConnError::State(m) if m.contains("reset by the peer")));
    }

    /// How the scripted receiver behaves.
    #[derive(Clone, Default)]
    struct Script {
        mss: u16,
        /// Its receive buffer: the window is what is free of it.
        buffer: usize,
        /// The application reads nothing until this long after the
        /// handshake (the window fills and stays shut); then all at once.
        pause: Duration,
        /// Zero-window probes it ignores (the first N).
        ignore_probes: u32,
        /// Data segments (by number as they come, from 0, retransmissions
        /// counted) it never sees.
        lose: Vec<usize>,
        /// Agrees to SACK when offered, and reports the data it holds.
        sack: bool,
        /// Agrees to timestamps when offered, echoing the latest TSval.
        timestamps: bool,
    }

    /// What the scripted receiver saw.
    #[derive(Default)]
    struct Took {
        /// The data in order.
        data: Vec<u8>,
        /// Every data segment: (seq offset from the first data byte, length).
        segments: Vec<(u32, usize)>,
        /// When each probe into its shut window came, since the handshake.
        probes: Vec<Duration>,
    }

    /// A receiver with a buffer the application drains (after `pause`): it
    /// advertises what is free, holds out-of-order segments (answering
    /// each with a duplicate ACK), and answers a probe into a shut window
    /// with an ACK of what it has (the probe byte dropped).
    fn receiver(script: Script) -> (Live, Arc<Mutex<Took>>) {
        let took = Arc::new(Mutex::new(Took::default()));
        let t2 = took.clone();
        let mut rcv_nxt = 0u32;
        let mut first = 0u32;
        let mut buffered = 0usize;
        let mut held: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
        let mut start = Instant::now();
        let mut seen_segments = 0usize;
        let mut ignored = 0u32;
        let mut sack_ok = false;
        let mut ts_on = false;
        let mut their_ts = 0u32;
        let mut my_ts = 100u32;
        let link = MemLink::with_responder(move |frame: &[u8]| {
            let p = Packet::parse(frame);
            let Some(t) = p.tcp() else { return vec![] };
            let mut took = t2.lock().unwrap();
            let fl = t.flag_bits();
            let seq = t.seq.unwrap_or(0);
            if start.elapsed() >= script.pause {
                buffered = 0; // the application reads everything
            }
            let free = script.buffer.saturating_sub(buffered);
            let (theirs, _) = t.decoded_options();
            for o in &theirs {
                match o {
                    TcpOption::SackOk if script.sack => sack_ok = true,
                    TcpOption::Timestamp(v, _) if script.timestamps => {
                        ts_on = true;
                        their_ts = *v;
                    }
                    _ => {}
                }
            }
            my_ts += 1;
            let mut extra = Vec::new();
            if ts_on {
                extra.push(TcpOption::Timestamp(my_ts, their_ts));
            }
            let mk = |fl: u16, ack: u32, window: usize, opts: Vec<u8>| {
                let ip = Ipv4 {
                    src: Some(Ipv4Addr::LOCALHOST),
                    dst: Some(Ipv4Addr::LOCALHOST),
                    ..Ipv4::default()
                };
                let tcp = Tcp {
                    sport: t.dport,
                    dport: t.sport,
                    seq: Some(PEER_ISN + 1 - u32::from(fl & flags::SYN != 0)),
                    ack: Some(ack),
                    flags: Some(fl),
                    window: Some(window.min(0xffff) as u16),
                    options: opts,
                    ..Tcp::default()
                };
                Packet::ether_ip_tcp(ip, tcp, &[]).emit()
            };
            if fl & flags::SYN != 0 {
                rcv_nxt = seq.wrapping_add(1);
                first = rcv_nxt;
                start = Instant::now();
                let mut opts = vec![TcpOption::Mss(script.mss)];
                if sack_ok {
                    opts.push(TcpOption::SackOk);
                }
                opts.extend(extra);
                return vec![mk(
                    flags::SYN | flags::ACK,
                    rcv_nxt,
                    free,
                    encode_options(&opts),
                )];
            }
            let payload = p.payload();
            if payload.is_empty() {
                return vec![];
            }
            let n = seen_segments;
            seen_segments += 1;
            if free == 0 {
                took.probes.push(start.elapsed());
                if ignored < script.ignore_probes {
                    ignored += 1;
                    return vec![];
                }
                return vec![mk(flags::ACK, rcv_nxt, 0, vec![])];
            }
            let off = seq.wrapping_sub(first);
            if script.lose.contains(&n) {
                return vec![];
            }
            took.segments.push((off, payload.len()));
            if seq == rcv_nxt {
                let take = payload.len().min(free);
                took.data.extend_from_slice(&payload[..take]);
                rcv_nxt = rcv_nxt.wrapping_add(take as u32);
                buffered += take;
                while let Some(d) = held.remove(&rcv_nxt) {
                    took.data.extend_from_slice(&d);
                    rcv_nxt = rcv_nxt.wrapping_add(d.len() as u32);
                    buffered += d.len();
                }
            } else if seq_lt(rcv_nxt, seq) {
                held.insert(seq, payload.to_vec());
            }
            let free = script.buffer.saturating_sub(buffered);
            if sack_ok && !held.is_empty() {
                let spans: Vec<(u32, usize)> = held.iter().map(|(&s, d)| (s, d.len())).collect();
                extra.push(TcpOption::Sack(sack::blocks(&spans, Some(seq), 3)));
            }
            vec![mk(flags::ACK, rcv_nxt, free, encode_options(&extra))]
        });
        (Live::with_link(Box::new(link)), took)
    }

    fn established(script: Script, rto_ms: u64, retries: u32) -> (Conn, Live, Arc<Mutex<Took>>) {
        let (mut live, took) = receiver(script);
        let mut c = conn();
        c.cfg.rto = Duration::from_millis(rto_ms);
        c.rtt = Rtt::new(c.cfg.rto);
        c.cfg.retries = retries;
        c.syn(&mut live).unwrap();
        c.ack(&mut live).unwrap();
        (c, live, took)
    }

    fn noted(c: &Conn, note: &str) -> usize {
        c.log.iter().filter(|e| e.note == Some(note)).count()
    }

    fn timeouts(c: &mut Conn) -> usize {
        c.take_events()
            .iter()
            .filter(|e| matches!(e, Event::Retransmission { .. }))
            .count()
    }

    #[test]
    fn a_shut_window_is_probed_with_backoff_for_as_long_as_the_peer_answers() {
        // RFC 1122 4.2.2.17: the connection stays open while probes are
        // answered, however many retries are allowed.
        let script = Script {
            mss: 1000,
            buffer: 4000,
            pause: Duration::from_millis(150),
            ..Script::default()
        };
        let (mut c, mut live, took) = established(script, 2, 2);
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        c.send(&mut live, &data).unwrap();
        let took = took.lock().unwrap();
        assert_eq!(took.data, data, "byte-exact");
        let probes = noted(&c, "zero-window probe");
        assert!(probes > 2, "more probes ({probes}) than retries (2)");
        // Backoff: each wait at least as long as the one before.
        let gaps: Vec<Duration> = took.probes.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(
            gaps.windows(2)
                .all(|g| g[1] + Duration::from_millis(1) >= g[0]),
            "{gaps:?}"
        );
        // Every probe but the last found the window shut (the last one came
        // after the application read, and was taken as data).
        assert!(
            probes - took.probes.len() <= 1,
            "{probes} {:?}",
            took.probes
        );
        assert_eq!(timeouts(&mut c), 0, "probes are not retransmissions");
    }

    #[test]
    fn when_the_window_opens_sending_resumes_from_the_first_byte_not_acknowledged() {
        let script = Script {
            mss: 1000,
            buffer: 3000,
            pause: Duration::from_millis(30),
            ..Script::default()
        };
        let (mut c, mut live, took) = established(script, 2, 3);
        let data: Vec<u8> = (0..6000u32).map(|i| (i % 253) as u8).collect();
        c.send(&mut live, &data).unwrap();
        let took = took.lock().unwrap();
        assert_eq!(took.data, data);
        // The probe byte was dropped: the first segment after the pause
        // starts where the acknowledged data ends (3000), not past it.
        let after: Vec<&(u32, usize)> = took.segments.iter().filter(|s| s.0 >= 3000).collect();
        assert_eq!(
            after.first().map(|s| s.0),
            Some(3000),
            "{:?}",
            took.segments
        );
        assert_eq!(c.snd_una, c.snd_nxt);
    }

    #[test]
    fn unanswered_probes_count_as_retries_and_then_it_says_so() {
        let script = Script {
            mss: 1000,
            buffer: 1000,
            pause: Duration::from_secs(3600),
            ignore_probes: 100,
            ..Script::default()
        };
        let (mut c, mut live, _) = established(script, 1, 2);
        let e = c.send(&mut live, &[7u8; 3000]).unwrap_err();
        let ConnError::State(m) = e else {
            panic!("{e:?}")
        };
        assert!(
            m.contains("window is shut") && m.contains("3 window probes"),
            "{m}"
        );
        assert!(m.contains("1000 of 3000 bytes acknowledged"), "{m}");
    }

    #[test]
    fn an_ignored_probe_is_sent_again() {
        let script = Script {
            mss: 1000,
            buffer: 1000,
            pause: Duration::from_millis(20),
            ignore_probes: 1,
            ..Script::default()
        };
        let (mut c, mut live, took) = established(script, 2, 3);
        c.send(&mut live, &[9u8; 2000]).unwrap();
        assert_eq!(took.lock().unwrap().data, vec![9u8; 2000]);
        assert!(noted(&c, "zero-window probe") >= 2);
    }

    /// Sends 10 segments to a receiver that loses `lose` (by number) with a
    /// timeout of a second: only fast retransmissions finish in time.
    fn recovers_without_a_timeout(lose: Vec<usize>, fast: usize) {
        let script = Script {
            mss: 1000,
            buffer: 1 << 20,
            lose,
            ..Script::default()
        };
        let (mut c, mut live, took) = established(script, 1000, 3);
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 249) as u8).collect();
        let t0 = Instant::now();
        c.send(&mut live, &data).unwrap();
        let took_time = t0.elapsed();
        assert!(took_time < Duration::from_millis(500), "{took_time:?}");
        assert_eq!(took.lock().unwrap().data, data);
        assert_eq!(noted(&c, "fast retransmission"), fast);
        assert_eq!(timeouts(&mut c), 0);
    }

    #[test]
    fn three_duplicate_acks_resend_the_lost_segment_before_any_timeout() {
        // Segment 1 (bytes 1000..2000) is lost; 2..9 each bring a duplicate ACK.
        recovers_without_a_timeout(vec![1], 1);
    }

    #[test]
    fn a_partial_ack_in_recovery_resends_the_next_hole_at_once() {
        // NewReno (RFC 6582): segments 1 and 4 lost.
        recovers_without_a_timeout(vec![1, 4], 2);
    }

    #[test]
    fn no_silly_small_segments_while_a_full_one_is_coming() {
        // A 2500-byte window and 1000-byte segments: never a 500-byte sliver
        // to fill it, only full segments and the last piece of the data.
        let script = Script {
            mss: 1000,
            buffer: 2500,
            ..Script::default()
        };
        let (mut c, mut live, took) = established(script, 2, 3);
        let data = vec![1u8; 10_500];
        c.send(&mut live, &data).unwrap();
        let took = took.lock().unwrap();
        assert_eq!(took.data, data);
        let sizes: Vec<usize> = took.segments.iter().map(|s| s.1).collect();
        let (last, rest) = sizes.split_last().unwrap();
        assert!(rest.iter().all(|&n| n == 1000), "{sizes:?}");
        assert_eq!(*last, 500);
    }

    #[test]
    fn segment_and_flight_limits_give_stop_and_wait() {
        let script = Script {
            mss: 1460,
            buffer: 1 << 20,
            ..Script::default()
        };
        let (mut c, mut live, took) = established(script, 2, 3);
        c.send_with(&mut live, &[b'A'; 4500], Some(1000), Some(1))
            .unwrap();
        let sizes: Vec<usize> = took.lock().unwrap().segments.iter().map(|s| s.1).collect();
        assert_eq!(sizes, [1000, 1000, 1000, 1000, 500]);
        // Each data segment waits for the ACK of the one before it.
        let data_then: Vec<&str> = c
            .log
            .iter()
            .skip(3)
            .map(|e| match (e.dir, e.pkt.payload().is_empty()) {
                (Dir::Out, false) => "data",
                (Dir::In, true) => "ack",
                _ => "other",
            })
            .collect();
        assert_eq!(data_then, ["data", "ack"].repeat(5));
    }

    #[test]
    fn the_timeout_comes_from_measured_round_trips() {
        let script = Script {
            mss: 1000,
            buffer: 1 << 20,
            ..Script::default()
        };
        let (mut c, mut live, _) = established(script, 50, 3);
        assert_eq!(c.rtt.srtt(), None);
        c.send(&mut live, &[3u8; 5000]).unwrap();
        let srtt = c.rtt.srtt().expect("a round trip measured");
        assert!(srtt < Duration::from_millis(50), "{srtt:?}");
        assert!(c.rtt.rto() <= Duration::from_millis(50));
    }

    #[test]
    fn a_v6_peer_gets_ipv6_segments_and_is_recognised_both_ways() {
        use std::net::Ipv6Addr;
        let mut c = conn();
        c.cfg.dst = Ipv6Addr::LOCALHOST.into();
        let p = c.segment(flags::SYN, 1000, b"", Vec::new());
        assert!(p.ip().is_none());
        let ip6 = p.ipv6().expect("an IPv6 layer");
        assert_eq!((ip6.src, ip6.dst), (None, Some(Ipv6Addr::LOCALHOST)));
        assert!(c.is_to_peer(&p));
        // Decoded, our own segment is not the peer's (direction first).
        let b = p.emit();
        let d = Packet::parse(&b);
        assert!(c.is_to_peer(&d) && !c.is_from_peer(&d));
        assert!(!quick_from(&b, (c.cfg.dst, 1234, 40000)));
        // The peer's answer: recognised by the quick filter and by decode.
        let back = Packet::ether_ip6_tcp(
            Ipv6::default(),
            Tcp {
                sport: Some(1234),
                dport: Some(40000),
                flags: Some(flags::SYN | flags::ACK),
                ..Tcp::default()
            },
            b"",
        );
        let bb = back.emit();
        assert!(quick_from(&bb, (c.cfg.dst, 1234, 40000)));
        assert!(c.is_from_peer(&Packet::parse(&bb)));
        assert!(quick_to_port(&bb, 40000) && !quick_to_port(&bb, 40001));
        // An IPv4 frame of the same ports is not a v6 peer's.
        let v4 = conn().segment(flags::ACK, 1, b"", Vec::new()).emit();
        assert!(!quick_from(&v4, (c.cfg.dst, 40000, 1234)));
        // Extension headers: the quick filter defers to the full decode.
        let mut ext = bb.clone();
        ext[20] = 0;
        assert!(quick_from(&ext, (c.cfg.dst, 1, 2)) && quick_to_port(&ext, 2));
        // A server session answers from the address the client connected to.
        c.local = Some(Ipv6Addr::LOCALHOST.into());
        let p = c.segment(flags::ACK, 1, b"", Vec::new());
        assert_eq!(p.ipv6().unwrap().src, Some(Ipv6Addr::LOCALHOST));
    }

    #[test]
    fn a_v4_peer_keeps_ipv4_segments_with_dont_fragment() {
        let c = conn();
        let p = c.segment(flags::SYN, 1000, b"", Vec::new());
        assert!(p.ipv6().is_none());
        let ip = p.ip().expect("an IPv4 layer");
        assert_eq!((ip.dst, ip.flags), (Some(Ipv4Addr::LOCALHOST), Some(2)));
        let back = conn().segment(flags::ACK, 1, b"", Vec::new());
        let mut t = back.tcp().cloned().unwrap();
        (t.sport, t.dport) = (Some(1234), Some(40000));
        let b = Packet::ether_ip_tcp(Ipv4::default(), t, b"").emit();
        assert!(quick_from(&b, (c.cfg.dst, 1234, 40000)));
        assert!(!quick_from(
            &b,
            (std::net::Ipv6Addr::LOCALHOST.into(), 1234, 40000)
        ));
        assert!(quick_to_port(&b, 40000));
    }

    #[test]
    fn sack_and_timestamps_are_offered_agreed_and_echoed() {
        let script = Script {
            mss: 1000,
            buffer: 1 << 20,
            sack: true,
            timestamps: true,
            ..Script::default()
        };
        let (mut live, _) = receiver(script);
        let mut c = conn();
        c.cfg.sack = true;
        c.cfg.timestamps = true;
        c.syn(&mut live).unwrap();
        let syn = c.log[0].pkt.tcp().unwrap().decoded_options().0;
        assert!(
            matches!(
                syn.as_slice(),
                [
                    TcpOption::Mss(65495),
                    TcpOption::SackOk,
                    TcpOption::Timestamp(_, 0),
                    ..
                ]
            ),
            "{syn:?}"
        );
        assert!(c.sack_ok);
        assert_eq!(c.ts_recent, Some(101));
        c.ack(&mut live).unwrap();
        c.send(&mut live, &[1u8; 3000]).unwrap();
        c.send(&mut live, b"more").unwrap();
        // Every segment after the SYN carries a timestamp echoing a TSval the
        // peer sent before it, never going back, and the echo follows the
        // peer's clock (not only its SYN-ACK's value).
        let mut seen = vec![];
        let mut last_ecr = 0;
        for e in &c.log {
            let ts = e.pkt.tcp().unwrap().timestamp();
            match e.dir {
                Dir::In => seen.extend(ts.map(|t| t.0)),
                Dir::Out if e.pkt.tcp().unwrap().flag_bits() & flags::SYN == 0 => {
                    let (_, ecr) = ts.expect("a timestamp on every segment");
                    assert!(seen.contains(&ecr) && ecr >= last_ecr, "{ecr} {seen:?}");
                    last_ecr = ecr;
                }
                Dir::Out => {}
            }
        }
        assert!(last_ecr > 101, "{last_ecr}");
    }

    #[test]
    fn without_the_offer_no_options_go() {
        let script = Script {
            mss: 1000,
            buffer: 1 << 20,
            sack: true,
            timestamps: true,
            ..Script::default()
        };
        let (mut c, mut live, _) = established(script, 2, 3);
        c.send(&mut live, b"plain").unwrap();
        assert!(!c.sack_ok && c.ts_recent.is_none());
        assert!(c.log.iter().all(|e| e.dir == Dir::In
            || e.pkt.tcp().unwrap().flag_bits() & flags::SYN != 0
            || e.pkt.tcp().unwrap().options.is_empty()));
    }

    /// Segments the receiver took when segment 1 and its fast
    /// retransmission are lost and the timeout sends the data again.
    fn after_a_timeout(sack: bool) -> (Vec<(u32, usize)>, Vec<u8>) {
        let script = Script {
            mss: 1000,
            buffer: 1 << 20,
            lose: vec![1, 10],
            sack: true,
            ..Script::default()
        };
        let (mut live, took) = receiver(script);
        let mut c = conn();
        c.cfg.sack = sack;
        c.cfg.rto = Duration::from_millis(5);
        c.rtt = Rtt::new(c.cfg.rto);
        c.syn(&mut live).unwrap();
        c.ack(&mut live).unwrap();
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 241) as u8).collect();
        c.send(&mut live, &data).unwrap();
        assert_eq!(noted(&c, "fast retransmission"), 1);
        assert_eq!(timeouts(&mut c), 1);
        let took = took.lock().unwrap();
        assert_eq!(took.data, data);
        (took.segments.clone(), data)
    }

    #[test]
    fn after_a_timeout_what_the_peer_sacked_is_not_sent_again() {
        let (with, _) = after_a_timeout(true);
        // Nine first transmissions, then only the hole.
        assert_eq!(with.len(), 10, "{with:?}");
        assert_eq!(with.last(), Some(&(1000, 1000)));
        // Without SACK the timeout sends everything after the hole again.
        let (without, _) = after_a_timeout(false);
        assert_eq!(without.len(), 18, "{without:?}");
    }
}
