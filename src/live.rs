//! The live side of the engine: one link (AF_PACKET on an interface, opened
//! once per run), the host preparation it needs, the pcap tap, and sending and
//! receiving with replies matched to what was sent.

use crate::host::{HostError, HostGuard, PortReservation, ports};
use crate::link::pcap::PcapWriter;
use crate::link::{Frame, Link, LinkError, PacketSocket, interrupted};
use crate::wire::bpf::Filter;
use crate::wire::matcher;
use crate::wire::{Ether, Layer, LayerKind, Packet};
use std::collections::VecDeque;
use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

/// How to go live.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// Interface (default `lo`).
    pub iface: String,
    /// Prepare the host (sysctls, RST guard); false with `--no-setup`.
    pub setup: bool,
    /// Write every frame sent and received here.
    pub pcap: Option<PathBuf>,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            iface: "lo".into(),
            setup: true,
            pcap: None,
        }
    }
}

/// Why a live operation failed.
#[derive(Debug)]
pub enum LiveError {
    /// No CAP_NET_RAW / CAP_NET_ADMIN: exit 4, with how to get it.
    NotPermitted(String),
    /// Ctrl-C or SIGTERM.
    Interrupted,
    /// Anything else, explained.
    Other(String),
}

impl From<LinkError> for LiveError {
    fn from(e: LinkError) -> Self {
        if e.is_permission() {
            LiveError::NotPermitted(e.to_string())
        } else {
            LiveError::Other(e.to_string())
        }
    }
}

/// The hint when preparing the host is refused: that needs CAP_NET_ADMIN.
pub const ADMIN_HINT: &str = "craft needs CAP_NET_ADMIN to prepare lo (two sysctls and an nftables \
     table, all undone on exit): run as root (sudo craft ...) or grant it once: \
     sudo setcap cap_net_raw,cap_net_admin+ep $(which craft); or prepare lo yourself and \
     pass --no-setup (craft doctor prints the commands)";

/// What to add to "no reply" when craft did not prepare the host.
pub const NO_SETUP_HINT: &str = "with --no-setup the kernel drops crafted frames on lo unless it is prepared by hand: craft doctor says what is missing";

impl From<HostError> for LiveError {
    fn from(e: HostError) -> Self {
        if e.is_permission() {
            LiveError::NotPermitted(format!("preparing lo: {e}\n{ADMIN_HINT}"))
        } else {
            LiveError::Other(format!("preparing the host: {e}"))
        }
    }
}

fn io_err(what: &str, e: std::io::Error) -> LiveError {
    if e.kind() == std::io::ErrorKind::Interrupted {
        LiveError::Interrupted
    } else {
        LiveError::Other(format!("{what}: {e}"))
    }
}

/// A received frame, decoded.
fn decoded(frame: Frame) -> Received {
    let (pkt, _) = Packet::decode(&frame.data);
    Received { pkt, frame }
}

/// For a TCP probe, whether the frame could answer it judging by its ports
/// alone (read in place, not decoded). Frames that are not plain Ether/IP/TCP
/// (ICMP errors, say) are left to the full check.
fn quick_ports(sent: &Packet, frame: &[u8]) -> bool {
    let (Some(t), Ok(v)) = (sent.tcp(), crate::wire::view::TcpView::new_checked(frame)) else {
        return true;
    };
    Some(v.sport()) == t.dport && Some(v.dport()) == t.sport
}

/// A failed pcap write: the file is cut back to its last whole frame.
fn pcap_failed(w: &mut PcapWriter<File>, e: std::io::Error) -> LiveError {
    let _ = w.truncate_to_whole();
    LiveError::Other(format!(
        "writing the pcap: {e} (the file keeps every whole frame before that)"
    ))
}

/// A frame craft sent.
#[derive(Clone, Debug)]
pub struct Sent {
    /// The packet as sent, every field filled in.
    pub pkt: Packet,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// When it was handed to the kernel.
    pub ts: SystemTime,
}

/// A probe of [`Live::sr`] as sent, with its answer and round-trip time.
pub type Probed = (Sent, Option<(Received, Duration)>);

/// A frame received from the link, decoded.
#[derive(Clone, Debug)]
pub struct Received {
    /// The decoded packet.
    pub pkt: Packet,
    /// The frame with direction and kernel timestamp.
    pub frame: Frame,
}

/// What one read from the link gave.
enum Incoming {
    /// The looped-back copy of a frame we sent, with its kernel timestamp.
    Echo(Vec<u8>, SystemTime),
    /// Anything else, not decoded yet.
    Frame(Frame),
}

/// The live context: link, host guard, pcap tap.
pub struct Live {
    opts: LiveOptions,
    link: Option<Box<dyn Link>>,
    iface_mac: Option<[u8; 6]>,
    iface_ip: Option<std::net::Ipv4Addr>,
    loopback: bool,
    host: HostGuard,
    pcap: Option<PcapWriter<File>>,
    sport: Option<u16>,
    sport_reservation: Option<PortReservation>,
    /// Frames sent on a loopback whose looped-back copies are still to come.
    echoes: VecDeque<Echo>,
    /// Frames received while waiting for something else, kept for sniff().
    backlog: VecDeque<Frame>,
    announced: bool,
    /// Guard TCP source ports against the kernel's RSTs (sessions need it;
    /// a SYN probe does not: the kernel's RST tears the half-open connection down).
    pub guard_rst: bool,
    /// The run only sends (a one-shot burst): its socket opens for sending
    /// alone (`PacketSocket::open_sender`).
    pub send_only: bool,
    raw_fd: Option<std::os::fd::RawFd>,
    /// Host notes go here (stderr by default).
    pub notes: Vec<String>,
    /// What the socket's kernel filter lets through.
    narrowing: Narrowing,
}

/// The kernel filter on the link's socket. Sessions narrow it to their own
/// ports, so that the kernel does not copy every frame on `lo` to every
/// craft process (ten downloads at once would overflow each other's
/// queues); anything that wants other frames (`sr1`, `sniff`, a packet
/// sent by hand off the sessions' ports) opens it for the rest of the run.
#[derive(Debug, Default)]
struct Narrowing {
    /// The sessions' and listeners' TCP ports.
    ports: std::collections::BTreeSet<u16>,
    /// Opened for good: every frame is wanted (or a caller set its own filter).
    open: bool,
    /// The ports the attached filter passes (None: no filter, or opened).
    attached: Option<std::collections::BTreeSet<u16>>,
}

/// A classic BPF program that takes every frame whole.
const ACCEPT_ALL: [(u16, u8, u8, u32); 1] = [(0x06, 0, 0, u32::MAX)];

/// A frame sent on a loopback whose looped-back copies are still to come.
#[derive(Debug)]
struct Echo {
    bytes: Vec<u8>,
    /// How many copies (a burst sends one frame many times).
    copies: u64,
    /// Written to the pcap tap when its copy comes, stamped with the kernel's
    /// time for it: then the capture is in the order the frames crossed the
    /// link, as tcpdump sees it. (A burst taps its frames as it sends them.)
    tap: bool,
}

const ECHO_MEMORY: usize = 256;
/// How long `send` waits for a frame's looped-back copy (it is normally
/// queued before the send call returns).
const ECHO_WAIT: Duration = Duration::from_millis(5);
const BACKLOG_MAX: usize = 4096;
/// Probes per sendmmsg batch in `sr`: their looped-back copies are read
/// before the next batch, so the socket's queue never holds many.
const SR_BATCH: usize = 64;

impl Live {
    /// A live context that opens its link on first use.
    pub fn new(opts: LiveOptions) -> Live {
        let loopback = opts.iface == "lo" || crate::host::is_loopback(&opts.iface);
        Live {
            host: HostGuard::new(&opts.iface, opts.setup),
            opts,
            link: None,
            iface_mac: None,
            iface_ip: None,
            loopback,
            pcap: None,
            sport: None,
            sport_reservation: None,
            echoes: VecDeque::new(),
            backlog: VecDeque::new(),
            announced: false,
            guard_rst: true,
            send_only: false,
            raw_fd: None,
            notes: Vec::new(),
            narrowing: Narrowing::default(),
        }
    }

    /// A live context over a given link (tests: an in-memory peer). No host setup.
    pub fn with_link(link: Box<dyn Link>) -> Live {
        let mut l = Live::new(LiveOptions {
            setup: false,
            ..LiveOptions::default()
        });
        l.link = Some(link);
        l
    }

    /// True when craft prepares the host itself (no `--no-setup`).
    pub fn prepares_host(&self) -> bool {
        self.opts.setup
    }

    /// The interface name.
    pub fn iface(&self) -> &str {
        &self.opts.iface
    }

    fn ensure_link(&mut self) -> Result<(), LiveError> {
        if self.link.is_some() {
            return Ok(());
        }
        if let Ok(Some(msg)) = self.host.recover_stale() {
            self.notes.push(if msg.starts_with("craft:") {
                msg
            } else {
                format!("craft: {msg}")
            });
        }
        let sock = if self.send_only {
            PacketSocket::open_sender(&self.opts.iface)?
        } else {
            PacketSocket::open(&self.opts.iface)?
        };
        self.raw_fd = Some(std::os::fd::AsRawFd::as_raw_fd(&sock));
        let ifc = sock.interface();
        self.loopback = ifc.is_loopback;
        if !ifc.is_loopback {
            self.iface_mac = Some(ifc.mac);
            self.iface_ip = ifc.ipv4;
        }
        self.link = Some(Box::new(sock));
        self.narrow()?;
        if let Some(path) = &self.opts.pcap {
            let w = PcapWriter::create(path)
                .map_err(|e| LiveError::Other(format!("--pcap {}: {e}", path.display())))?;
            self.pcap = Some(w);
        }
        Ok(())
    }

    /// The free source port given to TCP layers that set none; reserved on first use.
    pub fn default_sport(&mut self) -> Result<u16, LiveError> {
        if let Some(p) = self.sport {
            return Ok(p);
        }
        let r = ports::reserve_ephemeral()?;
        let p = r.port();
        self.sport = Some(p);
        self.sport_reservation = Some(r);
        Ok(p)
    }

    /// Fills what follows the interface: a missing Ether layer, the source port
    /// craft reserves, and on other interfaces their own MAC and address.
    pub fn fill_defaults(&mut self, pkt: &mut Packet) -> Result<(), LiveError> {
        if pkt.layers.first().map(Layer::kind) != Some(LayerKind::Ether) {
            pkt.layers.insert(0, Layer::Ether(Ether::default()));
        }
        let needs_sport = pkt
            .layers
            .iter()
            .any(|l| matches!(l, Layer::Tcp(t) if t.sport.is_none()));
        if needs_sport {
            let p = self.default_sport()?;
            for l in &mut pkt.layers {
                if let Layer::Tcp(t) = l {
                    t.sport.get_or_insert(p);
                }
            }
        }
        if let (Some(mac), Some(Layer::Ether(e))) = (self.iface_mac, pkt.layers.first_mut()) {
            e.src.get_or_insert(mac);
        }
        if let Some(ip) = self.iface_ip {
            for l in &mut pkt.layers {
                if let Layer::Ip(h) = l {
                    h.src.get_or_insert(ip);
                    break;
                }
            }
        }
        // Off lo, the Ethernet destination is the neighbour's MAC (the
        // destination's, or the gateway's), as the kernel's ARP table has it.
        let dst = pkt
            .ip()
            .map(|h| h.dst.unwrap_or(crate::wire::ipv4::DEFAULT_ADDR));
        if let (false, Some(dst), Some(Layer::Ether(e))) =
            (self.loopback, dst, pkt.layers.first_mut())
            && e.dst.is_none()
        {
            match crate::link::neigh::neighbour_mac(&self.opts.iface, dst) {
                Some(mac) => e.dst = Some(mac),
                None => {
                    return Err(LiveError::Other(format!(
                        "no neighbour MAC for {dst} on {} in the ARP table: ping it once, or set Ether(dst=...)",
                        self.opts.iface
                    )));
                }
            }
        }
        Ok(())
    }

    /// Prepares the host for `pkt`: guards its TCP source port (or just the
    /// sysctls for other frames), printing one line the first time.
    fn prepare(&mut self, pkt: &Packet) -> Result<(), LiveError> {
        let mut notes = Vec::new();
        if !self.guard_rst {
            notes.extend(self.host.prepare_sysctls()?);
            self.announce(notes);
            return Ok(());
        }
        match pkt.tcp().and_then(|t| t.sport) {
            Some(port) if !self.host.is_guarded(port) => {
                if Some(port) == self.sport {
                    if let Some(r) = self.sport_reservation.take() {
                        notes.extend(self.host.prepare_reserved(r)?);
                    } else {
                        notes.extend(self.host.prepare_port(port)?);
                    }
                } else {
                    notes.extend(self.host.prepare_port(port)?);
                }
            }
            Some(_) => {}
            None => notes.extend(self.host.prepare_base()?),
        }
        self.announce(notes);
        Ok(())
    }

    /// Queues one line telling the user what was prepared.
    fn announce(&mut self, notes: Vec<String>) {
        if notes.is_empty() {
            return;
        }
        let head = if self.announced {
            "craft: also "
        } else {
            "craft: "
        };
        let tail = if self.announced {
            ""
        } else {
            " (all undone on exit)"
        };
        self.notes.push(format!("{head}{}{tail}", notes.join("; ")));
        self.announced = true;
    }

    /// Reserves and guards a source port for a session (a fresh free one when
    /// `port` is None). Sends nothing.
    pub fn session_port(&mut self, port: Option<u16>) -> Result<u16, LiveError> {
        let (p, notes) = match port {
            Some(p) => (p, self.host.prepare_port(p)?),
            None => self.host.prepare_ephemeral()?,
        };
        self.announce(notes);
        self.narrowing.ports.insert(p);
        self.narrow()?;
        Ok(p)
    }

    /// Has the kernel pass this socket only the frames of the sessions'
    /// ports (both ways: our own frames' looped-back copies too), unless
    /// the filter was opened. Nothing to do before the link is open.
    fn narrow(&mut self) -> Result<(), LiveError> {
        let n = &self.narrowing;
        if n.open || n.ports.is_empty() || n.attached.as_ref() == Some(&n.ports) {
            return Ok(());
        }
        let Some(link) = self.link.as_mut() else {
            return Ok(());
        };
        let expr = n
            .ports
            .iter()
            .map(|p| format!("tcp port {p}"))
            .collect::<Vec<_>>()
            .join(" or ");
        let f = Filter::parse(&expr)
            .map_err(|e| LiveError::Other(format!("the sessions' filter {expr}: {e}")))?;
        let code = f.program().kernel_code();
        if code.len() > crate::wire::bpf::KERNEL_MAX_INSNS {
            // More sessions than one program can name: take everything.
            self.narrowing.open = true;
            return Ok(());
        }
        if link
            .attach_filter(&code)
            .map_err(|e| LiveError::Other(format!("attaching the sessions' filter: {e}")))?
        {
            self.narrowing.attached = Some(self.narrowing.ports.clone());
        }
        Ok(())
    }

    /// Lets every frame through from now on (for `sr1`, `sniff`,
    /// `expect_packet` and packets sent by hand off the sessions' ports).
    pub fn open_filter(&mut self) -> Result<(), LiveError> {
        self.narrowing.open = true;
        if self.narrowing.attached.take().is_some()
            && let Some(link) = self.link.as_mut()
        {
            link.attach_filter(&ACCEPT_ALL)
                .map_err(|e| LiveError::Other(format!("opening the socket's filter: {e}")))?;
        }
        Ok(())
    }

    /// True when the narrowed filter passes `pkt` (TCP on a session's port).
    fn passes_narrowing(&self, pkt: &Packet) -> bool {
        self.narrowing.attached.is_none()
            || pkt.tcp().is_some_and(|t| {
                [t.sport, t.dport]
                    .iter()
                    .flatten()
                    .any(|p| self.narrowing.ports.contains(p))
            })
    }

    /// Sends a packet: fills defaults, prepares the host, emits, sends, taps.
    /// On a loopback the frame's time is the kernel's, from its looped-back
    /// copy (read here: frames that came before it are kept, in order), so
    /// that sent and received frames sort by the time they crossed the link.
    pub fn send(&mut self, pkt: &Packet) -> Result<Sent, LiveError> {
        self.ensure_link()?;
        let mut pkt = pkt.clone();
        self.fill_defaults(&mut pkt)?;
        self.prepare(&pkt)?;
        if !self.passes_narrowing(&pkt) {
            // Its copy, and whatever answers it, must reach us.
            self.open_filter()?;
        }
        let bytes = pkt.emit();
        if !self.loopback {
            // No copy of our frame comes back: take in what came before it
            // so that the capture keeps the order.
            self.take_queued()?;
        }
        let link = self.link.as_mut().expect("ensured");
        let sent_at = link
            .send(&bytes)
            .map_err(|e| io_err(&format!("sending on {}", self.opts.iface), e))?;
        let ts = if self.loopback {
            self.echoes.push_back(Echo {
                bytes: bytes.clone(),
                copies: 1,
                tap: true,
            });
            self.forget_old_echoes();
            self.wait_echo(&bytes)?
        } else {
            None
        };
        let ts = match ts {
            Some(ts) => ts,
            None => {
                // No copy seen (or none to come): tap it now, at the send time.
                if let Some(e) = self.echoes.iter_mut().rev().find(|e| e.bytes == bytes) {
                    e.tap = false;
                }
                self.tap(sent_at, &bytes)?;
                sent_at
            }
        };
        Ok(Sent {
            pkt: pkt.resolved(),
            bytes,
            ts,
        })
    }

    /// Reads until the looped-back copy of `bytes` (frames before it are
    /// kept), for at most [`ECHO_WAIT`]. Its kernel timestamp, if it came.
    fn wait_echo(&mut self, bytes: &[u8]) -> Result<Option<SystemTime>, LiveError> {
        let deadline = Instant::now() + ECHO_WAIT;
        loop {
            match self.recv_any(Some(deadline))? {
                None => return Ok(None),
                Some(Incoming::Echo(b, ts)) if b == bytes => return Ok(Some(ts)),
                Some(Incoming::Echo(..)) => {}
                Some(Incoming::Frame(f)) => self.keep(f),
            }
        }
    }

    /// Reads every frame already queued on the link, keeping them in order.
    pub fn take_queued(&mut self) -> Result<(), LiveError> {
        while let Some(i) = self.recv_any(Some(Instant::now()))? {
            if let Incoming::Frame(f) = i {
                self.keep(f);
            }
        }
        Ok(())
    }

    fn forget_old_echoes(&mut self) {
        while self.echoes.len() > ECHO_MEMORY {
            self.echoes.pop_front();
        }
    }

    /// Notes that `copies` copies of `bytes` were sent (by a burst, which taps
    /// them itself): their looped-back copies are craft's own, not frames to
    /// show or match.
    pub fn expect_echo(&mut self, bytes: &[u8], copies: u64) {
        if !self.loopback || copies == 0 {
            return;
        }
        if let Some(e) = self.echoes.iter_mut().find(|e| !e.tap && e.bytes == bytes) {
            e.copies += copies;
            return;
        }
        self.echoes.push_back(Echo {
            bytes: bytes.to_vec(),
            copies,
            tap: false,
        });
        self.forget_old_echoes();
    }

    fn recv_any(&mut self, deadline: Option<Instant>) -> Result<Option<Incoming>, LiveError> {
        self.ensure_link()?;
        let link = self.link.as_mut().expect("ensured");
        let Some(frame) = link.recv(deadline).map_err(|e| io_err("receiving", e))? else {
            return Ok(None);
        };
        if let Some(i) = self.echoes.iter().position(|e| e.bytes == frame.data) {
            let e = &mut self.echoes[i];
            e.copies -= 1;
            let tap = e.tap;
            let bytes = if e.copies == 0 {
                self.echoes.remove(i).map(|e| e.bytes).unwrap_or_default()
            } else {
                e.bytes.clone()
            };
            if tap && let Some(w) = &mut self.pcap {
                w.write_frame(frame.ts, &frame.data, frame.orig_len)
                    .map_err(|e| pcap_failed(w, e))?;
            }
            return Ok(Some(Incoming::Echo(bytes, frame.ts)));
        }
        if let Some(w) = &mut self.pcap {
            w.write_frame(frame.ts, &frame.data, frame.orig_len)
                .map_err(|e| pcap_failed(w, e))?;
        }
        Ok(Some(Incoming::Frame(frame)))
    }

    fn keep(&mut self, f: Frame) {
        self.backlog.push_back(f);
        if self.backlog.len() > BACKLOG_MAX {
            self.backlog.pop_front();
        }
    }

    /// Sends `pkt` and waits up to `timeout` for the first frame that answers it.
    /// Returns what was sent and the reply with its round-trip time (kernel
    /// timestamps: our frame's looped-back copy to the reply, on `lo`).
    pub fn sr1(
        &mut self,
        pkt: &Packet,
        timeout: Duration,
    ) -> Result<(Sent, Option<(Received, Duration)>), LiveError> {
        self.ensure_link()?;
        self.open_filter()?;
        let sent = self.send(pkt)?;
        let deadline = Instant::now() + timeout;
        let t0 = sent.ts;
        loop {
            if interrupted().load(Ordering::SeqCst) {
                return Err(LiveError::Interrupted);
            }
            match self.recv_any(Some(deadline))? {
                None => return Ok((sent, None)),
                Some(Incoming::Echo(..)) => {}
                Some(Incoming::Frame(f)) => {
                    // Most frames are not the answer: ports first, without decoding.
                    if !quick_ports(&sent.pkt, &f.data) {
                        self.keep(f);
                        continue;
                    }
                    let r = decoded(f);
                    // A frame with a wrong checksum answers nothing: the kernel would drop it.
                    if matcher::answers(&sent.pkt, &r.pkt) && matcher::transport_checksum_ok(&r.pkt)
                    {
                        let rtt = r.frame.ts.duration_since(t0).unwrap_or_default();
                        return Ok((sent, Some((r, rtt))));
                    }
                    self.keep(r.frame);
                }
            }
        }
    }

    /// Sends every probe in sendmmsg batches (or one at a time `inter`
    /// apart), then waits up to `timeout` after the last for their answers,
    /// the probes' send times taken from their looped-back copies when
    /// `echoes` (false when a socket filter keeps those copies out),
    /// matched as [`Live::sr1`] matches (direction first, checksum right).
    /// Returns each probe as sent with its answer and round-trip time, in
    /// the probes' order; frames that answer nothing stay queued for `sniff`.
    pub fn sr(
        &mut self,
        probes: &[Packet],
        timeout: Duration,
        inter: Duration,
        echoes: bool,
    ) -> Result<Vec<Probed>, LiveError> {
        use std::collections::HashMap;
        self.ensure_link()?;
        self.open_filter()?;
        let mut sent = Vec::with_capacity(probes.len());
        for p in probes {
            let mut p = p.clone();
            self.fill_defaults(&mut p)?;
            self.prepare(&p)?;
            let bytes = p.emit();
            sent.push(Sent {
                pkt: p.resolved(),
                bytes,
                ts: SystemTime::now(),
            });
        }
        // Probes by the ports their answers come back on; portless ones apart.
        let mut by_key: HashMap<(u16, u16), Vec<usize>> = HashMap::new();
        let mut portless = Vec::new();
        for (i, s) in sent.iter().enumerate() {
            match matcher::probe_key(&s.pkt) {
                Some(k) => by_key.entry(k).or_default().push(i),
                None => portless.push(i),
            }
        }
        let mut answers: Vec<Option<(Received, Duration)>> = vec![None; sent.len()];
        let mut left = sent.len();
        let by_echo: HashMap<Vec<u8>, usize> = if echoes && self.loopback {
            sent.iter()
                .enumerate()
                .map(|(i, s)| (s.bytes.clone(), i))
                .collect()
        } else {
            HashMap::new()
        };
        let batch = if inter.is_zero() { SR_BATCH } else { 1 };
        let mut next = 0;
        let mut deadline = Instant::now();
        loop {
            if interrupted().load(Ordering::SeqCst) {
                return Err(LiveError::Interrupted);
            }
            if left == 0 {
                break;
            }
            // While probes are left, take what is queued, then send the next
            // batch; after the last, wait for answers until the deadline.
            let sending = next < sent.len();
            let until = if sending { Instant::now() } else { deadline };
            let Some(incoming) = self.recv_any(Some(until))? else {
                if !sending {
                    break;
                }
                let end = (next + batch).min(sent.len());
                for s in &sent[next..end] {
                    if self.loopback && echoes {
                        self.echoes.push_back(Echo {
                            bytes: s.bytes.clone(),
                            copies: 1,
                            tap: true,
                        });
                    } else {
                        self.tap(SystemTime::now(), &s.bytes)?;
                    }
                }
                let frames: Vec<&[u8]> =
                    sent[next..end].iter().map(|s| s.bytes.as_slice()).collect();
                let now = SystemTime::now();
                let link = self.link.as_mut().expect("ensured");
                let went = link
                    .send_batch(&frames)
                    .map_err(|e| io_err(&format!("sending on {}", self.opts.iface), e))?;
                for s in &mut sent[next..next + went] {
                    s.ts = now;
                }
                next += went.max(1);
                if next >= sent.len() {
                    deadline = Instant::now() + timeout;
                } else if !inter.is_zero() {
                    std::thread::sleep(inter);
                }
                continue;
            };
            let f = match incoming {
                Incoming::Echo(b, ts) => {
                    if let Some(&i) = by_echo.get(&b) {
                        sent[i].ts = ts;
                    }
                    continue;
                }
                Incoming::Frame(f) => f,
            };
            let r = decoded(f);
            let candidates = match matcher::reply_key(&r.pkt) {
                Some(k) => by_key.get(&k).map_or(&[][..], Vec::as_slice),
                None => portless.as_slice(),
            };
            let hit = candidates.iter().copied().find(|&i| {
                answers[i].is_none()
                    && matcher::answers(&sent[i].pkt, &r.pkt)
                    && matcher::transport_checksum_ok(&r.pkt)
            });
            match hit {
                Some(i) => {
                    let rtt = r.frame.ts.duration_since(sent[i].ts).unwrap_or_default();
                    answers[i] = Some((r, rtt));
                    left -= 1;
                }
                None => self.keep(r.frame),
            }
        }
        // Echoes still owed (a probe sent but its copy not read) are forgotten.
        self.forget_old_echoes();
        Ok(sent.into_iter().zip(answers).collect())
    }

    /// The first frame for which `quick` (on the bytes) and then `want` (on
    /// the decoded packet) hold, before `deadline`; frames that do not pass are
    /// kept for `sniff`. Craft's own looped-back frames are skipped.
    pub fn recv_matching(
        &mut self,
        deadline: Instant,
        mut quick: impl FnMut(&[u8]) -> bool,
        mut want: impl FnMut(&Packet) -> bool,
    ) -> Result<Option<Received>, LiveError> {
        let mut found = None;
        for (i, f) in self.backlog.iter().enumerate() {
            if quick(&f.data) && want(&Packet::parse(&f.data)) {
                found = Some(i);
                break;
            }
        }
        if let Some(f) = found.and_then(|i| self.backlog.remove(i)) {
            return Ok(Some(decoded(f)));
        }
        loop {
            if interrupted().load(Ordering::SeqCst) {
                return Err(LiveError::Interrupted);
            }
            match self.recv_any(Some(deadline))? {
                None => return Ok(None),
                Some(Incoming::Echo(..)) => {}
                Some(Incoming::Frame(f)) => {
                    if !quick(&f.data) {
                        self.keep(f);
                        continue;
                    }
                    let r = decoded(f);
                    if want(&r.pkt) {
                        return Ok(Some(r));
                    }
                    self.keep(r.frame);
                }
            }
        }
    }

    /// Frames that pass `want` (asked of the frame as read, before it is
    /// decoded: what does not pass is never decoded), until `count` have passed or `timeout` ends
    /// (or Ctrl-C, or `each` returning false), oldest first: frames already
    /// read and kept (while waiting for something else) come first. Each goes
    /// to `each`; with `keep` they are also returned (the language's
    /// `sniff()`), and the frames it does not take stay queued, in arrival
    /// order, for the next `sniff` or `expect_packet`. Without `keep` nothing
    /// accumulates (`craft sniff` on a long flood stays flat).
    pub fn sniff(
        &mut self,
        count: Option<usize>,
        timeout: Option<Duration>,
        keep: bool,
        mut want: impl FnMut(&Frame) -> bool,
        mut each: impl FnMut(&Received) -> bool,
    ) -> Result<Vec<Received>, LiveError> {
        let deadline = timeout.map(|t| Instant::now() + t);
        self.ensure_link()?;
        self.open_filter()?;
        let mut out = Vec::new();
        let mut seen = 0usize;
        let mut stopped = false;
        let full = |n: usize| count.is_some_and(|c| n >= c);
        let mut take = |r: Received, out: &mut Vec<Received>, seen: &mut usize| {
            let go_on = each(&r);
            *seen += 1;
            if keep {
                out.push(r);
            }
            go_on
        };
        let mut left = VecDeque::new();
        while let Some(f) = self.backlog.pop_front() {
            if stopped || full(seen) {
                left.push_back(f);
                continue;
            }
            if want(&f) {
                stopped = !take(decoded(f), &mut out, &mut seen);
            } else {
                left.push_back(f);
            }
        }
        self.backlog = left;
        while !stopped && !full(seen) {
            if interrupted().load(Ordering::SeqCst) {
                break;
            }
            match self.recv_any(deadline) {
                Ok(None) => break,
                Ok(Some(Incoming::Echo(..))) => {}
                Ok(Some(Incoming::Frame(f))) => {
                    if want(&f) {
                        stopped = !take(decoded(f), &mut out, &mut seen);
                    } else if keep {
                        self.keep(f);
                    }
                }
                Err(LiveError::Interrupted) => break,
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Has the kernel filter what this link receives with `f`'s program
    /// (`SO_ATTACH_FILTER`): frames that do not pass are not even copied for
    /// craft. Only for a link used for nothing but capturing (`craft sniff`):
    /// replies a session or `sr1` waits for would be filtered away too.
    /// Ok(false) when the program is not attached (a link that cannot, or a
    /// program longer than the kernel takes); the caller still checks each
    /// frame with `f`, which also covers frames queued before the filter.
    pub fn filter_in_kernel(&mut self, f: &Filter) -> Result<bool, LiveError> {
        let code = f.program().kernel_code();
        if f.is_any() || code.len() > crate::wire::bpf::KERNEL_MAX_INSNS {
            return Ok(false);
        }
        // The caller's filter replaces the sessions' for good.
        self.narrowing.open = true;
        self.narrowing.attached = None;
        self.link_mut()?
            .attach_filter(&code)
            .map_err(|e| LiveError::Other(format!("attaching the filter to the socket: {e}")))
    }

    /// Frames the kernel dropped for this socket since the counters were
    /// last read (PACKET_STATISTICS), when there were any.
    pub fn kernel_drops(&mut self) -> Option<u32> {
        let (_, drops) = self.link.as_mut()?.stats().ok()?;
        (drops > 0).then_some(drops)
    }

    /// Host notes not yet shown.
    pub fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }

    /// Undoes the host preparation now (also done on drop).
    pub fn release(&mut self) -> Vec<String> {
        self.host.release()
    }
}

impl Live {
    /// Ends the run without waiting for the AF_PACKET socket's close: the
    /// kernel makes the last close of one wait for an RCU grace period (about
    /// 16 ms here), which a one-shot command would otherwise add to its run
    /// time; the RST guard's owner socket likewise. A child process inherits
    /// both, waits for this process to exit, and closes them then (also when
    /// this process is killed: its exit wakes the child). Host preparation is
    /// undone first, here: the guard's table deleted by a batch, the sysctls
    /// restored.
    pub fn finish_fast(mut self) -> Vec<String> {
        // The RST guard's table is deleted by a batch now (so it is gone
        // when this process exits); its owner socket's close still waits for
        // the kernel (tens of ms with a session), so it goes to the child.
        let guard = self.host.take_guard_socket();
        let mut warnings = self.release();
        if let Some(drops) = self.kernel_drops() {
            warnings.push(format!(
                "the kernel dropped {drops} frames meant for this run: its socket's receive queue overflowed"
            ));
        }
        let packet = self.raw_fd.take();
        let guard_fd = guard.as_ref().map(std::os::fd::AsRawFd::as_raw_fd);
        if packet.is_none() && guard_fd.is_none() {
            return warnings;
        }
        let keep = [packet.unwrap_or(-1), guard_fd.unwrap_or(-1)];
        let mut pipe = [0; 2];
        // SAFETY: `pipe` is the 2-int array pipe2() fills. After fork() the child
        // touches only its stack and calls only async-signal-safe functions
        // (close, read, _exit); the parent closes descriptors it owns, and
        // forgets the link so that its drop does not close the packet socket
        // a second time (the guard's OwnedFd is dropped, closing it once).
        unsafe {
            if libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
                return warnings;
            }
            match libc::fork() {
                0 => {
                    // Child: keep only the sockets and the pipe's read end.
                    for i in 0..1024 {
                        if !keep.contains(&i) && i != pipe[0] {
                            libc::close(i);
                        }
                    }
                    let mut b = [0u8; 1];
                    // EOF when the parent has exited.
                    while libc::read(pipe[0], b.as_mut_ptr().cast(), 1) < 0 {}
                    for fd in keep {
                        if fd >= 0 {
                            libc::close(fd);
                        }
                    }
                    libc::_exit(0);
                }
                pid if pid > 0 => {
                    libc::close(pipe[0]);
                    // Not the last references now: these closes are quick.
                    // The write end closes when we exit, waking the child.
                    if let Some(fd) = packet {
                        std::mem::forget(self.link.take());
                        libc::close(fd);
                    }
                    drop(guard);
                }
                _ => {
                    libc::close(pipe[0]);
                    libc::close(pipe[1]);
                }
            }
        }
        warnings
    }
}

impl Live {
    /// Readies link and host for sending `pkt` (many times): defaults filled,
    /// ports guarded. Returns the packet as it will be sent.
    pub fn ready(&mut self, pkt: &Packet) -> Result<Packet, LiveError> {
        self.ensure_link()?;
        self.open_filter()?;
        let mut pkt = pkt.clone();
        self.fill_defaults(&mut pkt)?;
        self.prepare(&pkt)?;
        Ok(pkt)
    }

    /// The open link (after [`Live::ready`]).
    pub fn link_mut(&mut self) -> Result<&mut dyn Link, LiveError> {
        self.ensure_link()?;
        Ok(self.link.as_deref_mut().expect("ensured"))
    }

    /// Writes a sent frame to the pcap tap, if there is one.
    pub fn tap(&mut self, ts: SystemTime, bytes: &[u8]) -> Result<(), LiveError> {
        if let Some(w) = &mut self.pcap {
            w.write_frame(ts, bytes, bytes.len())
                .map_err(|e| pcap_failed(w, e))?;
        }
        Ok(())
    }

    /// True when frames are written to a pcap.
    pub fn tapping(&self) -> bool {
        self.opts.pcap.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::MemLink;
    use crate::wire::{Ipv4, Tcp, Udp};

    fn tcp(dport: u16) -> Vec<u8> {
        let t = Tcp {
            dport: Some(dport),
            ..Tcp::default()
        };
        Packet::ether_ip_tcp(Ipv4::default(), t, b"").emit()
    }

    fn udp(dport: u16) -> Vec<u8> {
        Packet {
            layers: vec![
                Layer::Ether(Ether::default()),
                Layer::Ip(Ipv4::default()),
                Layer::Udp(Udp {
                    dport: Some(dport),
                    ..Udp::default()
                }),
            ],
        }
        .emit()
    }

    fn dport(r: &Received) -> u16 {
        r.pkt
            .tcp()
            .and_then(|t| t.dport)
            .or_else(|| r.pkt.udp().and_then(|u| u.dport))
            .unwrap_or(0)
    }

    /// A live context whose link has delivered `frames`, all kept unread
    /// (read while waiting for something that never came).
    fn with_backlog(frames: Vec<Vec<u8>>) -> Live {
        let mut link = MemLink::new();
        for f in frames {
            link.push_rx(f);
        }
        let mut live = Live::with_link(Box::new(link));
        let got = live
            .recv_matching(Instant::now(), |_| true, |_| false)
            .unwrap();
        assert!(got.is_none());
        live
    }

    #[test]
    fn sniff_takes_what_it_counts_and_leaves_the_rest_queued_in_order() {
        let mut live = with_backlog(vec![udp(1), tcp(2), tcp(3), udp(4), tcp(5)]);
        let is_tcp = |f: &Frame| Packet::parse(&f.data).tcp().is_some();
        let first = live
            .sniff(Some(1), Some(Duration::ZERO), true, is_tcp, |_| true)
            .unwrap();
        assert_eq!(first.iter().map(dport).collect::<Vec<_>>(), [2]);
        // Nothing else was consumed: the next sniff gets the rest, in order.
        let rest = live
            .sniff(None, Some(Duration::ZERO), true, |_| true, |_| true)
            .unwrap();
        assert_eq!(rest.iter().map(dport).collect::<Vec<_>>(), [1, 3, 4, 5]);
        let none = live
            .sniff(None, Some(Duration::ZERO), true, |_| true, |_| true)
            .unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn frames_a_sniff_filters_out_stay_for_expect_packet() {
        let mut link = MemLink::new();
        for f in [udp(1), tcp(2), udp(3)] {
            link.push_rx(f);
        }
        let mut live = Live::with_link(Box::new(link));
        let got = live
            .sniff(
                None,
                Some(Duration::ZERO),
                true,
                |f| Packet::parse(&f.data).tcp().is_some(),
                |_| true,
            )
            .unwrap();
        assert_eq!(got.iter().map(dport).collect::<Vec<_>>(), [2]);
        let r = live
            .recv_matching(Instant::now(), |_| true, |p| p.udp().is_some())
            .unwrap()
            .unwrap();
        assert_eq!(dport(&r), 1);
        let r = live
            .recv_matching(Instant::now(), |_| true, |p| p.udp().is_some())
            .unwrap()
            .unwrap();
        assert_eq!(dport(&r), 3);
    }
}
