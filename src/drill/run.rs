//! Plays a script against the kernel: the script's clock (packetdrill's
//! rules: relative times count from when the previous event finished,
//! consecutive inbound packets from the previous one's scripted time; a
//! tolerance of `tolerance_usecs` or `tolerance_percent` of the interval,
//! whichever is larger), system calls on a thread of their own (a blocking
//! call runs while the packets that unblock it are played), inbound packets
//! sent through `Live`, the kernel's packets read from it and checked, and
//! the `%{ assert }%` blocks evaluated at the end on TCP_INFO as it was at
//! their time, as packetdrill runs its Python at the end.

use super::ast::*;
use super::info;
use super::packet::{self, Flow, Mapping};
use super::symbols;
use crate::host::rawsys::{self, Ret};
use crate::live::Live;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

mod calls;
use calls::{Pending, SYSCALLS, check_expr};

/// The kernel's address in scripts that bind (packetdrill's --local_ip).
pub const LOCAL_IP: Ipv4Addr = Ipv4Addr::new(127, 1, 0, 1);
/// The remote peer's address (packetdrill's --remote_ip).
pub const REMOTE_IP: Ipv4Addr = Ipv4Addr::new(127, 2, 0, 1);
/// The port `bind(fd, ..., ...)` binds and `connect(fd, ..., ...)` connects to.
pub const SCRIPT_PORT: u16 = 8080;

/// How a run is set up.
#[derive(Clone, Debug)]
pub struct Config {
    /// Fixed timing tolerance, µs.
    pub tolerance_usecs: i64,
    /// Tolerance as a share of the interval since the previous event, %.
    pub tolerance_percent: f64,
    /// `--tcp_ts_tick_usecs`: check outbound TS val against the clock.
    pub ts_tick_usecs: Option<i64>,
    /// `-D NAME=VALUE`, in the environment of shell commands.
    pub defines: Vec<(String, String)>,
    /// Where shell commands run (the script's directory).
    pub dir: PathBuf,
    /// Print each event as it happens.
    pub verbose: bool,
    /// `--strict_segments`: one kernel segment per `>` line, never joined.
    pub strict_segments: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            tolerance_usecs: 4000,
            tolerance_percent: 12.5,
            ts_tick_usecs: None,
            defines: Vec::new(),
            dir: PathBuf::from("."),
            verbose: false,
            strict_segments: false,
        }
    }
}

/// Why a run stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// An event did not happen as scripted (exit 1): the line, the
    /// `expected ... got ...` text, and lines showing both sides.
    Mismatch {
        /// The script line.
        line: usize,
        /// `expected ... got ...`.
        msg: String,
        /// Further lines (the packets as packetdrill shows them).
        detail: Vec<String>,
    },
    /// A feature craft does not run (exit 2).
    Unsupported {
        /// The script line.
        line: usize,
        /// The feature.
        msg: String,
    },
    /// The run could not go on (exit 2): the link, the host.
    Setup(String),
    /// A capability is missing (exit 4).
    NotPermitted(String),
    /// Ctrl-C or SIGTERM (exit 130).
    Interrupted,
}

fn mismatch(line: usize, msg: impl Into<String>) -> Failure {
    Failure::Mismatch {
        line,
        msg: msg.into(),
        detail: Vec::new(),
    }
}

fn unsupported(line: usize, msg: impl Into<String>) -> Failure {
    Failure::Unsupported {
        line,
        msg: msg.into(),
    }
}

/// Applies the script's `--name=value` lines to `cfg`; the path MTU a
/// `--mtu=N` line asks for, if any.
pub fn apply_options(script: &Script, cfg: &mut Config) -> Result<Option<i32>, Failure> {
    let mut mtu = None;
    for (k, v, line) in &script.options {
        let n = || {
            v.parse::<f64>()
                .map_err(|_| unsupported(*line, format!("--{k}={v}: not a number")))
        };
        match k.as_str() {
            "tolerance_usecs" => cfg.tolerance_usecs = n()? as i64,
            "tolerance_percent" => cfg.tolerance_percent = n()?,
            "tcp_ts_tick_usecs" => cfg.ts_tick_usecs = Some(n()? as i64),
            // packetdrill's --mss segments its inbound TSO packets; craft
            // injects each inbound packet whole, as one segment.
            "mss" => {
                n()?;
            }
            "mtu" => mtu = Some(n()? as i32),
            "ip_version" if v == "ipv4" => {}
            "strict_segments" => cfg.strict_segments = true,
            _ => return Err(unsupported(*line, format!("the option --{k}"))),
        }
    }
    Ok(mtu)
}

/// Checks, before anything runs, that every call, constant and tcpi_ field
/// the script names is one craft knows: unsupported features are reported
/// up front (exit 2), not halfway through a run.
pub fn check_supported(script: &Script) -> Result<(), Failure> {
    for e in &script.events {
        match &e.action {
            Action::Syscall(c) => {
                if !SYSCALLS.contains(&c.name.as_str()) {
                    return Err(unsupported(e.line, format!("the system call {}()", c.name)));
                }
                for a in &c.args {
                    check_expr(a, e.line, &c.name)?;
                }
                if let Some(n) = &c.errno
                    && rawsys::errno_by_name(n).is_none()
                {
                    return Err(unsupported(e.line, format!("the errno {n}")));
                }
            }
            Action::Assert(list) => {
                for a in list {
                    for o in &a.operands {
                        if let Operand::Name(n) = o
                            && !info::known(n)
                            && symbols::lookup(n).is_none()
                        {
                            return Err(unsupported(
                                a.line,
                                format!(
                                    "'{n}' in an assert (craft evaluates tcpi_ fields of TCP_INFO)"
                                ),
                            ));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// A `%{ }%` block's TCP_INFO at its time, evaluated at the end.
struct Snapshot {
    line: usize,
    asserts: Vec<Assert>,
    info: Option<Vec<u8>>,
}

/// The last part of a wait that is spun rather than slept, µs.
const SPIN_USECS: i64 = 200;

/// One run of one script.
pub struct Runner<'a> {
    cfg: &'a Config,
    live: &'a mut Live,
    start: Instant,
    start_sys: SystemTime,
    fds: HashMap<i64, i32>,
    flow: Flow,
    flow_known: bool,
    map: Mapping,
    under_test: Option<i32>,
    pending: Option<Pending>,
    snapshots: Vec<Snapshot>,
    last_time: Option<i64>,
    last_anchored: bool,
    /// When the last inbound packet crossed lo (script µs): the next
    /// relative event counts from it, not from the end of craft's own
    /// bookkeeping after the send (packetdrill's write to its tun returns
    /// at once).
    injected_at: Option<i64>,
    say: &'a mut dyn FnMut(&str),
}

impl<'a> Runner<'a> {
    /// A runner on `live`; `say` prints verbose lines.
    pub fn new(cfg: &'a Config, live: &'a mut Live, say: &'a mut dyn FnMut(&str)) -> Runner<'a> {
        Runner {
            cfg,
            live,
            start: Instant::now(),
            start_sys: SystemTime::now(),
            fds: HashMap::new(),
            flow: Flow {
                local: LOCAL_IP,
                remote: REMOTE_IP,
                lport: None,
                rport: 0,
            },
            flow_known: false,
            map: Mapping::default(),
            under_test: None,
            pending: None,
            snapshots: Vec::new(),
            last_time: None,
            last_anchored: false,
            injected_at: None,
            say,
        }
    }

    fn now_us(&self) -> i64 {
        self.start.elapsed().as_micros() as i64
    }

    fn verbose(&mut self, s: String) {
        if self.cfg.verbose {
            (self.say)(&s);
        }
    }

    /// Runs the script; Ok when every event happened as scripted.
    pub fn run(&mut self, script: &Script) -> Result<(), Failure> {
        let mut events = script.events.iter().peekable();
        while let Some(e) = events.next_if(|e| e.time.kind == TimeKind::Untimed) {
            if let Action::Shell(cmd) = &e.action {
                self.shell(e.line, cmd)?;
            }
        }
        // The host is prepared (sysctls, the RST guard for the peer's port:
        // milliseconds of netlink) and the link open before the clock
        // starts: a kernel packet sent by the first call's thread must not
        // come before craft listens, nor the first events run late.
        let server = script
            .events
            .iter()
            .find_map(|e| match &e.action {
                Action::Syscall(c) if c.name == "connect" => Some(false),
                Action::Syscall(c) if c.name == "bind" => Some(true),
                Action::Packet(_) => Some(true),
                _ => None,
            })
            .unwrap_or(true);
        self.learn_side(server)?;
        self.live
            .take_queued()
            .map_err(|e| live_failure("opening lo".into(), e))?;
        self.start = Instant::now();
        self.start_sys = SystemTime::now();
        let mut first = true;
        for e in events {
            let res = self.event(e, first);
            first = false;
            if let Err(f) = res {
                self.abandon();
                return Err(f);
            }
        }
        self.finish_pending()?;
        self.evaluate()
    }

    /// Closes what the script left open (a stuck call's thread is left).
    fn abandon(&mut self) {
        self.pending = None;
        for fd in self.fds.values() {
            rawsys::close(*fd);
        }
        self.fds.clear();
    }

    /// (start, end, interval start) of an event in script µs.
    fn times(&self, e: &Event) -> (i64, i64) {
        let anchored = matches!(&e.action, Action::Packet(p) if p.dir == Dir::In);
        match e.time.kind {
            TimeKind::Absolute | TimeKind::AbsoluteRange | TimeKind::Untimed => {
                (e.time.usecs, e.time.end)
            }
            TimeKind::Relative | TimeKind::RelativeRange | TimeKind::Any => {
                let off = match self.last_time {
                    Some(t) if self.last_anchored && anchored => t,
                    _ => match self.injected_at {
                        Some(at) if self.last_anchored => at.min(self.now_us()),
                        _ => self.now_us(),
                    },
                };
                (off + e.time.usecs, off + e.time.end)
            }
        }
    }

    fn tolerance(&self, t: i64) -> i64 {
        let delta = self.last_time.map(|l| t - l).unwrap_or(0);
        let dynamic = (self.cfg.tolerance_percent / 100.0 * delta as f64) as i64;
        self.cfg.tolerance_usecs.max(dynamic)
    }

    /// Sleeps until just before `t` and spins the rest (as packetdrill
    /// does: the scheduler does not wake a sleeper precisely).
    fn wait_until(&self, t: i64) {
        let left = t - self.now_us();
        if left > SPIN_USECS {
            std::thread::sleep(Duration::from_micros((left - SPIN_USECS) as u64));
        }
        while self.now_us() < t {
            std::hint::spin_loop();
        }
    }

    /// packetdrill's check that an event started on time.
    fn check_start(&self, line: usize, what: &str, t: i64, first: bool) -> Result<(), Failure> {
        let now = self.now_us();
        let tol = self.tolerance(t);
        if !first && (now - t).abs() > tol {
            return Err(mismatch(
                line,
                format!(
                    "expected {what} at {:.6} sec got it at {:.6} sec (timing error; tolerance {:.6} sec)",
                    secs(t),
                    secs(now),
                    secs(tol)
                ),
            ));
        }
        Ok(())
    }

    fn event(&mut self, e: &Event, first: bool) -> Result<(), Failure> {
        let (t, t_end) = self.times(e);
        match &e.action {
            Action::Packet(p) if p.dir == Dir::In => {
                self.wait_until(t);
                self.check_start(e.line, "inbound packet", t, first)?;
                self.inject(e.line, p)?;
            }
            Action::Packet(p) => self.expect_packet(e, p, t, t_end)?,
            Action::Syscall(c) => {
                self.finish_pending()?;
                self.wait_until(t);
                self.check_start(e.line, "system call start", t, first)?;
                self.syscall(e.line, c, t, t - e.time.usecs)?;
            }
            Action::Shell(cmd) => {
                self.wait_until(t);
                self.check_start(e.line, "command", t, first)?;
                self.shell(e.line, cmd)?;
            }
            Action::Assert(list) => {
                self.wait_until(t);
                self.check_start(e.line, "data collection for code", t, first)?;
                let info = self.under_test.and_then(rawsys::tcp_info);
                self.snapshots.push(Snapshot {
                    line: e.line,
                    asserts: list.clone(),
                    info,
                });
            }
        }
        self.last_time = Some(t);
        self.last_anchored = matches!(&e.action, Action::Packet(p) if p.dir == Dir::In);
        Ok(())
    }

    fn shell(&mut self, line: usize, cmd: &str) -> Result<(), Failure> {
        self.verbose(format!("{:.6} `{}`", secs(self.now_us()), cmd.trim()));
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .current_dir(&self.cfg.dir)
            .envs(
                self.cfg
                    .defines
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            )
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| Failure::Setup(format!("{line}: running sh: {e}")))?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let mut f = mismatch(
                line,
                format!(
                    "expected the command `{}` to succeed got {}",
                    cmd.trim(),
                    out.status
                ),
            );
            if let Failure::Mismatch { detail, .. } = &mut f {
                detail.extend(err.lines().take(5).map(|l| format!("  {l}")));
            }
            return Err(f);
        }
        Ok(())
    }

    /// Sets up the flow's ports when the script first binds or connects.
    fn learn_side(&mut self, server: bool) -> Result<(), Failure> {
        if self.flow_known {
            return Ok(());
        }
        self.flow_known = true;
        let port = if server {
            self.flow.lport = Some(SCRIPT_PORT);
            None
        } else {
            Some(SCRIPT_PORT)
        };
        // The kernel's reaction to its own packets reaching the remote's
        // address (a RST from the remote port) is dropped, as for sessions.
        self.flow.rport = self
            .live
            .session_port(port)
            .map_err(|e| live_failure("preparing lo".into(), e))?;
        for n in self.live.take_notes() {
            self.verbose(format!("note: {n}"));
        }
        Ok(())
    }

    fn inject(&mut self, line: usize, p: &PacketSpec) -> Result<(), Failure> {
        if !self.flow_known {
            self.learn_side(true)?;
        }
        let pkt = packet::inbound(p, &self.flow, &self.map).map_err(|m| unsupported(line, m))?;
        if pkt.tcp().and_then(|t| t.dport).is_none() {
            return Err(unsupported(
                line,
                "an inbound packet before the kernel's port is known",
            ));
        }
        let sent = self
            .live
            .send(&pkt)
            .map_err(|e| live_failure(format!("{line}: sending"), e))?;
        let now = self.now_us();
        self.injected_at = Some(
            sent.ts
                .duration_since(self.start_sys)
                .map(|d| d.as_micros() as i64)
                .unwrap_or(now),
        );
        self.verbose(format!("{:.6} < {}", secs(now), packet::show_spec(p)));
        Ok(())
    }

    fn expect_packet(
        &mut self,
        e: &Event,
        p: &PacketSpec,
        t: i64,
        t_end: i64,
    ) -> Result<(), Failure> {
        let tol = self.tolerance(t);
        let wait_until = if e.time.kind == TimeKind::Any {
            self.now_us() + 3_000_000
        } else {
            t_end.max(self.now_us()) + tol + 1_000_000
        };
        let deadline = self.start + Duration::from_micros(wait_until.max(0) as u64);
        let flow = self.flow;
        let client = !self.flow_known || flow.lport.is_none();
        let got = self
            .live
            .recv_matching(
                deadline,
                |_| true,
                |pkt| {
                    let (Some(ip), Some(tcp)) = (pkt.ip(), pkt.tcp()) else {
                        return false;
                    };
                    let to_remote = ip.dst == Some(flow.remote);
                    let ports = if client {
                        tcp.dport == Some(SCRIPT_PORT)
                    } else {
                        tcp.sport == flow.lport && tcp.dport == Some(flow.rport)
                    };
                    to_remote && ports
                },
            )
            .map_err(|err| live_failure(format!("{}: receiving", e.line), err))?;
        let Some(mut r) = got else {
            return Err(Failure::Mismatch {
                line: e.line,
                msg: format!(
                    "expected outbound packet by {:.6} sec got none",
                    secs(wait_until)
                ),
                detail: vec![format!(
                    "  script packet: {:.6} {}",
                    secs(t),
                    packet::show_spec(p)
                )],
            });
        };
        // As packetdrill does, consecutive segments of the same flow are
        // joined until they carry the bytes the script expects (the kernel
        // sends a TSO burst as it sees fit; the script names the total).
        let mut parts = vec![r.pkt.clone()];
        let mut carried = r.pkt.payload().len();
        while carried < p.len as usize && !self.cfg.strict_segments {
            let (lport, rport) = (
                r.pkt.tcp().and_then(|t| t.sport),
                r.pkt.tcp().and_then(|t| t.dport),
            );
            let next = self
                .live
                .recv_matching(
                    deadline,
                    |_| true,
                    |pkt| {
                        pkt.ip().is_some_and(|ip| ip.dst == Some(flow.remote))
                            && pkt
                                .tcp()
                                .is_some_and(|t| t.sport == lport && t.dport == rport)
                    },
                )
                .map_err(|err| live_failure(format!("{}: receiving", e.line), err))?;
            let Some(n) = next else { break };
            carried += n.pkt.payload().len();
            parts.push(n.pkt.clone());
            r = n;
        }
        if parts.len() > 1 {
            match packet::aggregate(&parts, p.len as usize) {
                Ok(whole) => r.pkt = whole,
                Err(why) => {
                    return Err(Failure::Mismatch {
                        line: e.line,
                        msg: format!("expected segments that join into {} bytes got {why}", p.len),
                        detail: vec![format!(
                            "  script packet: {:.6} {}",
                            secs(t),
                            packet::show_spec(p)
                        )],
                    });
                }
            }
        }
        if client && let (Some(ip), Some(tcp)) = (r.pkt.ip(), r.pkt.tcp()) {
            self.flow.local = ip.src.unwrap_or(self.flow.local);
            self.flow.lport = tcp.sport;
        }
        let actual = r
            .frame
            .ts
            .duration_since(self.start_sys)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0);
        if let Some(tcp) = r.pkt.tcp() {
            self.map.learn(p, tcp);
        }
        let shown = |m: &Mapping| {
            vec![
                format!("  script packet: {:.6} {}", secs(t), packet::show_spec(p)),
                format!(
                    "  actual packet: {:.6} {}",
                    secs(actual),
                    packet::show_live(&r.pkt, m)
                ),
            ]
        };
        let joined = if parts.len() > 1 {
            format!(" (joined from {} segments)", parts.len())
        } else {
            String::new()
        };
        self.verbose(format!(
            "{:.6} > {}{joined}",
            secs(actual),
            packet::show_live(&r.pkt, &self.map)
        ));
        if let Err((field, want, got)) =
            packet::verify(p, &r.pkt, &self.map, self.cfg.ts_tick_usecs, tol)
        {
            return Err(Failure::Mismatch {
                line: e.line,
                msg: format!("expected {field} {want} got {got}"),
                detail: shown(&self.map),
            });
        }
        let late = match e.time.kind {
            TimeKind::Any => false,
            TimeKind::AbsoluteRange | TimeKind::RelativeRange => {
                actual < t - tol || actual > t_end + tol
            }
            _ => (actual - t).abs() > tol,
        };
        if late {
            let when = if t_end != t {
                format!("in time range {:.6}~{:.6} sec", secs(t), secs(t_end))
            } else {
                format!("at {:.6} sec", secs(t))
            };
            return Err(Failure::Mismatch {
                line: e.line,
                msg: format!(
                    "expected outbound packet {when} got it at {:.6} sec (timing error; tolerance {:.6} sec)",
                    secs(actual),
                    secs(tol)
                ),
                detail: shown(&self.map),
            });
        }
        Ok(())
    }

    /// The `%{ }%` blocks, in order; the first assert that does not hold.
    fn evaluate(&mut self) -> Result<(), Failure> {
        for s in &self.snapshots {
            let Some(ti) = &s.info else {
                return Err(mismatch(
                    s.line,
                    "expected a TCP socket for TCP_INFO got none",
                ));
            };
            for a in &s.asserts {
                let vals: Vec<i64> = a
                    .operands
                    .iter()
                    .map(|o| match o {
                        Operand::Num(n) => *n,
                        Operand::Name(n) => info::value(ti, n)
                            .or_else(|| symbols::lookup(n))
                            .unwrap_or(0),
                    })
                    .collect();
                let holds = a
                    .cmps
                    .iter()
                    .enumerate()
                    .all(|(i, c)| c.holds(vals[i], vals[i + 1]));
                if !holds {
                    let got: Vec<String> = a
                        .operands
                        .iter()
                        .zip(&vals)
                        .filter_map(|(o, v)| match o {
                            Operand::Name(n) if n.starts_with("tcpi_") => {
                                Some(format!("{n} = {v}"))
                            }
                            _ => None,
                        })
                        .collect();
                    return Err(mismatch(
                        s.line, // the block's line, as packetdrill names it
                        format!(
                            "expected {} got {} (assert in %{{ }}%)",
                            a.text,
                            got.join(", ")
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A link or host failure: not permitted (exit 4), or the run cannot go on.
fn live_failure(what: String, e: crate::live::LiveError) -> Failure {
    match e {
        crate::live::LiveError::NotPermitted(m) => Failure::NotPermitted(format!("{what}: {m}")),
        crate::live::LiveError::Other(m) => Failure::Setup(format!("{what}: {m}")),
        crate::live::LiveError::Interrupted => Failure::Interrupted,
    }
}

fn secs(us: i64) -> f64 {
    us as f64 / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::mem::MemLink;
    use crate::wire::ipv4::Ipv4;
    use crate::wire::stack::Packet;
    use crate::wire::tcp::{Tcp, TcpOption, encode_options, flags};
    use std::sync::{Arc, Mutex};

    /// A kernel stand-in: answers a SYN with a SYN-ACK (ISN 5000, MSS 1460),
    /// keeping every frame craft sent in `sent`.
    fn kernel(sent: Arc<Mutex<Vec<Vec<u8>>>>) -> MemLink {
        MemLink::with_responder(move |f: &[u8]| {
            sent.lock().unwrap().push(f.to_vec());
            let p = Packet::parse(f);
            let Some(t) = p.tcp() else { return vec![] };
            if t.flag_bits() != flags::SYN {
                return vec![];
            }
            let ip = Ipv4 {
                src: Some(LOCAL_IP),
                dst: Some(REMOTE_IP),
                ..Default::default()
            };
            let tcp = Tcp {
                sport: t.dport,
                dport: t.sport,
                seq: Some(5000),
                ack: Some(t.seq.unwrap_or(0).wrapping_add(1)),
                flags: Some(flags::SYN | flags::ACK),
                window: Some(65535),
                options: encode_options(&[TcpOption::Mss(1460)]),
                ..Default::default()
            };
            vec![Packet::ether_ip_tcp(ip, tcp, &[]).emit()]
        })
    }

    fn run(src: &str) -> (Result<(), Failure>, Vec<Packet>, Duration) {
        let script = crate::drill::parse::parse(src).unwrap();
        let frames = Arc::new(Mutex::new(Vec::new()));
        let mut live = Live::with_link(Box::new(kernel(frames.clone())));
        let cfg = Config::default();
        let mut say = |_: &str| {};
        let t0 = Instant::now();
        let r = Runner::new(&cfg, &mut live, &mut say).run(&script);
        let took = t0.elapsed();
        let sent = frames
            .lock()
            .unwrap()
            .iter()
            .map(|b| Packet::parse(b))
            .collect();
        (r, sent, took)
    }

    const SCRIPT: &str = "0 < S 0:0(0) win 1000 <mss 1000>\n+0 > S. 0:0(0) ack 1 <mss 1460>\n+.02 < . 1:1(0) ack 1 win 1000\n";

    #[test]
    fn the_isn_is_learned_and_the_clock_kept() {
        let (r, sent, took) = run(SCRIPT);
        assert_eq!(r, Ok(()));
        assert_eq!(sent.len(), 2);
        // The ACK acknowledges the kernel's ISN + 1, 20 ms after the SYN-ACK.
        assert_eq!(sent[1].tcp().unwrap().ack, Some(5001));
        assert!(took >= Duration::from_millis(20), "{took:?}");
    }

    #[test]
    fn a_wrong_field_and_a_wrong_time_fail_at_their_line() {
        let (r, _, _) = run(&SCRIPT.replace("ack 1 <mss 1460>", "ack 2 <mss 1460>"));
        let Err(Failure::Mismatch { line, msg, detail }) = r else {
            panic!("{r:?}")
        };
        assert_eq!(line, 2);
        assert_eq!(msg, "expected tcp_ack_seq 2 (0x2) got 1 (0x1)");
        assert!(
            detail[1].contains("actual packet:")
                && detail[1].contains("S. 0:0(0) ack 1 win 65535 <mss 1460>"),
            "{detail:?}"
        );
        let (r, _, _) = run(&SCRIPT.replace("+0 > S.", "+.5 > S."));
        let Err(Failure::Mismatch { line, msg, .. }) = r else {
            panic!("{r:?}")
        };
        assert_eq!(line, 2);
        assert!(msg.starts_with("expected outbound packet at 0.5"), "{msg}");
        let (r, _, _) = run(&SCRIPT.replace("<mss 1460>", "<mss 1400>"));
        let Err(Failure::Mismatch { msg, .. }) = r else {
            panic!("{r:?}")
        };
        assert_eq!(msg, "expected TCP option mss 1400 got mss 1460");
    }

    #[test]
    fn options_lines_and_unsupported_names() {
        let s = crate::drill::parse::parse(
            "--tolerance_usecs=10000\n--tcp_ts_tick_usecs=1000\n0 close(3) = 0\n",
        )
        .unwrap();
        let mut cfg = Config::default();
        assert_eq!(apply_options(&s, &mut cfg), Ok(None));
        assert_eq!(
            (cfg.tolerance_usecs, cfg.ts_tick_usecs),
            (10000, Some(1000))
        );
        let s = crate::drill::parse::parse("--strict_segments\n").unwrap();
        assert_eq!(apply_options(&s, &mut cfg), Ok(None));
        assert!(cfg.strict_segments);
        let s = crate::drill::parse::parse("--wire_server_ip=1.2.3.4\n").unwrap();
        assert!(matches!(
            apply_options(&s, &mut cfg),
            Err(Failure::Unsupported { line: 1, .. })
        ));
        let s = crate::drill::parse::parse(
            "0 setsockopt(3, SOL_TCP, TCP_FASTOPEN_NO_COOKIE, [1], 4) = 0\n",
        )
        .unwrap();
        let Err(Failure::Unsupported { msg, .. }) = check_supported(&s) else {
            panic!()
        };
        assert!(msg.contains("TCP_FASTOPEN_NO_COOKIE"), "{msg}");
        let s = crate::drill::parse::parse("0 %{ assert tcpi_bogus == 1 }%\n").unwrap();
        assert!(check_supported(&s).is_err());
    }
}
