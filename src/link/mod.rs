//! Link layer: whole Ethernet frames in and out of an interface, plus a pcap tap.
//!
//! Everything above this module (reply matching, the TCP conversation) talks to
//! the small [`Link`] trait: send one frame, receive the next frame with its
//! [`Direction`] and timestamp before a deadline. Three implementations:
//!
//! - [`PacketSocket`]: an `AF_PACKET`/`SOCK_RAW` socket bound to one interface;
//! - [`MemLink`]: a scripted in-memory peer, for unit tests without root;
//! - a pcap file ([`PcapReader`] / [`PcapWriter`]) to replay or record frames.
//!
//! # Where pnet is used, and why not for the socket
//!
//! Interface discovery is `pnet_datalink::interfaces()` ([`iface`]); only the
//! MTU and hardware type, which it lacks, are ioctls. The `AF_PACKET` socket is
//! craft's own, with `libc`: pnet 0.35's `datalink` channel drops the
//! `sockaddr_ll`, so a reader cannot tell a frame that came in (`PACKET_HOST`)
//! from one going out (`PACKET_OUTGOING`) — on `lo` every frame is seen both
//! ways; it has no per-frame kernel timestamps (`SO_TIMESTAMPNS`), no
//! `PACKET_IGNORE_OUTGOING`, no `recvmmsg`/`sendmmsg`, no BPF filter; it reads
//! into a 4 KiB buffer by default and silently truncates longer frames (`lo`
//! has MTU 65536); and its read timeout is fixed when the channel is created,
//! while a reply matcher needs its own deadline per call. So the socket here
//! has: direction from `sll_pkttype`, kernel receive timestamps, a receive
//! buffer sized for the MTU with `MSG_TRUNC` to learn the real length, batches,
//! and `ppoll` against a caller-supplied deadline.
//!
//! # Interrupts
//!
//! [`interrupted()`] is a process-wide flag. The program's SIGINT handler sets
//! it; [`PacketSocket::recv`] notices it within 100 ms and returns
//! `Err(io::ErrorKind::Interrupted)`.

use std::fmt;
use std::io;
use std::sync::atomic::AtomicBool;
use std::time::{Instant, SystemTime};

pub mod afpacket;
pub mod iface;
pub mod mem;
pub mod neigh;
pub mod pcap;

pub use afpacket::PacketSocket;
pub use iface::Interface;
pub use mem::MemLink;
pub use pcap::{PcapError, PcapErrorKind, PcapReader, PcapWriter};

/// Which way a frame was going when the kernel handed it to us (`sll_pkttype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `PACKET_HOST`: addressed to this host (on `lo`: every looped-back frame).
    Host,
    /// `PACKET_BROADCAST`: link-layer broadcast.
    Broadcast,
    /// `PACKET_MULTICAST`: link-layer multicast.
    Multicast,
    /// `PACKET_OTHERHOST`: for another host, seen in promiscuous mode.
    OtherHost,
    /// `PACKET_OUTGOING`: sent by this host (another socket's frame, or the kernel's).
    Outgoing,
    /// Any other `sll_pkttype` value (loopback, user, kernel, ...).
    Other(u8),
}

impl Direction {
    /// Maps a raw `sll_pkttype` to a direction.
    pub fn from_pkttype(pkttype: u8) -> Direction {
        match pkttype {
            0 => Direction::Host,
            1 => Direction::Broadcast,
            2 => Direction::Multicast,
            3 => Direction::OtherHost,
            4 => Direction::Outgoing,
            other => Direction::Other(other),
        }
    }

    /// The raw `sll_pkttype` value.
    pub fn pkttype(self) -> u8 {
        match self {
            Direction::Host => 0,
            Direction::Broadcast => 1,
            Direction::Multicast => 2,
            Direction::OtherHost => 3,
            Direction::Outgoing => 4,
            Direction::Other(v) => v,
        }
    }

    /// True for frames arriving at this host (host, broadcast, multicast, other host).
    pub fn is_incoming(self) -> bool {
        !matches!(self, Direction::Outgoing)
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Direction::Host => f.write_str("host"),
            Direction::Broadcast => f.write_str("broadcast"),
            Direction::Multicast => f.write_str("multicast"),
            Direction::OtherHost => f.write_str("otherhost"),
            Direction::Outgoing => f.write_str("outgoing"),
            Direction::Other(v) => write!(f, "pkttype {v}"),
        }
    }
}

/// One received frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The frame's bytes, starting at the Ethernet header (possibly truncated).
    pub data: Vec<u8>,
    /// Which way the frame was going.
    pub direction: Direction,
    /// Kernel receive timestamp (`SO_TIMESTAMPNS`), or the time it was read if none.
    pub ts: SystemTime,
    /// Length on the wire; greater than `data.len()` if the frame was truncated.
    pub orig_len: usize,
}

impl Frame {
    /// True if `data` holds less than the whole frame.
    pub fn is_truncated(&self) -> bool {
        self.orig_len > self.data.len()
    }
}

/// A place frames go out to and come in from.
pub trait Link {
    /// Sends one whole frame; returns the time it was handed to the kernel.
    fn send(&mut self, frame: &[u8]) -> io::Result<SystemTime>;
    /// Next received frame before `deadline` (None = wait forever), or Ok(None) on timeout.
    fn recv(&mut self, deadline: Option<Instant>) -> io::Result<Option<Frame>>;
    /// Sends several frames at once; returns how many went. One by one unless
    /// the link can batch (AF_PACKET: sendmmsg).
    fn send_batch(&mut self, frames: &[&[u8]]) -> io::Result<usize> {
        for f in frames {
            self.send(f)?;
        }
        Ok(frames.len())
    }
    /// Stops receiving (a pure sender need not pay for copies of every frame).
    fn stop_receiving(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// Has the kernel queue only the frames a classic BPF program accepts
    /// (instructions as `struct sock_filter`: code, jt, jf, k), in place of
    /// any filter set before. Ok(false): this link cannot filter, the caller does.
    fn attach_filter(&mut self, _code: &[(u16, u8, u8, u32)]) -> io::Result<bool> {
        Ok(false)
    }
    /// Kernel counters since the last call: (frames queued to us, frames dropped).
    fn stats(&mut self) -> io::Result<(u32, u32)> {
        Ok((0, 0))
    }
}

impl<L: Link + ?Sized> Link for &mut L {
    fn send(&mut self, frame: &[u8]) -> io::Result<SystemTime> {
        (**self).send(frame)
    }
    fn recv(&mut self, deadline: Option<Instant>) -> io::Result<Option<Frame>> {
        (**self).recv(deadline)
    }
}

impl<L: Link + ?Sized> Link for Box<L> {
    fn send(&mut self, frame: &[u8]) -> io::Result<SystemTime> {
        (**self).send(frame)
    }
    fn recv(&mut self, deadline: Option<Instant>) -> io::Result<Option<Frame>> {
        (**self).recv(deadline)
    }
    fn send_batch(&mut self, frames: &[&[u8]]) -> io::Result<usize> {
        (**self).send_batch(frames)
    }
    fn stop_receiving(&mut self) -> io::Result<()> {
        (**self).stop_receiving()
    }
    fn attach_filter(&mut self, code: &[(u16, u8, u8, u32)]) -> io::Result<bool> {
        (**self).attach_filter(code)
    }
    fn stats(&mut self) -> io::Result<(u32, u32)> {
        (**self).stats()
    }
}

/// The process-wide "interrupted" flag: the SIGINT handler sets it (a plain
/// atomic store is async-signal-safe); blocking receives check it at least every
/// 100 ms and return `Err(io::ErrorKind::Interrupted)` while it is set.
pub fn interrupted() -> &'static AtomicBool {
    static INTERRUPTED: AtomicBool = AtomicBool::new(false);
    &INTERRUPTED
}

/// Makes SIGINT and SIGTERM set the [`interrupted()`] flag instead of killing
/// the process: waits end, the run unwinds, and what craft changed on the host
/// is undone on the way out. Called once a run may go live.
pub fn catch_interrupts() {
    extern "C" fn on_signal(_: libc::c_int) {
        interrupted().store(true, std::sync::atomic::Ordering::SeqCst);
    }
    // SAFETY: `sa` is zero-initialised and then filled as sigaction(2) wants;
    // the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_signal as *const () as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGINT, &sa, std::ptr::null_mut());
        libc::sigaction(libc::SIGTERM, &sa, std::ptr::null_mut());
    }
}

/// Sleeps for `d`, waking every 50 ms to watch the interrupt flag; returns
/// `Err(Interrupted)` when it is set.
pub fn sleep_interruptible(d: std::time::Duration) -> io::Result<()> {
    let until = Instant::now() + d;
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        if interrupted().load(std::sync::atomic::Ordering::SeqCst) {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "interrupted"));
        }
        std::thread::sleep(left.min(std::time::Duration::from_millis(50)));
    }
    Ok(())
}

/// The hint printed when `CAP_NET_RAW` is missing.
pub const CAP_HINT: &str = "craft needs CAP_NET_RAW: run as root (sudo craft ...) or grant it once: \
     sudo setcap cap_net_raw,cap_net_admin+ep $(which craft)";

/// Errors from opening a link or looking up an interface.
#[derive(Debug)]
pub enum LinkError {
    /// The kernel refused for lack of privilege (EPERM/EACCES); see [`CAP_HINT`].
    NotPermitted {
        /// What was being done, e.g. "open an AF_PACKET socket on lo".
        what: String,
        /// The underlying OS error.
        source: io::Error,
    },
    /// No interface by that name exists (in this network namespace).
    NoSuchInterface {
        /// The name asked for.
        name: String,
    },
    /// The interface exists but is not up.
    InterfaceDown {
        /// The interface's name.
        name: String,
    },
    /// The name cannot be an interface name (empty, too long, NUL or '/').
    BadInterfaceName {
        /// The name given.
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// Any other OS error.
    Io {
        /// What was being done.
        what: String,
        /// The underlying OS error.
        source: io::Error,
    },
}

impl LinkError {
    /// True if this is a missing-privilege error.
    pub fn is_permission(&self) -> bool {
        matches!(self, LinkError::NotPermitted { .. })
    }

    /// Builds the right variant for an OS error hit while doing `what`.
    pub(crate) fn from_os(what: impl Into<String>, err: io::Error) -> LinkError {
        match err.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EACCES) => LinkError::NotPermitted {
                what: what.into(),
                source: err,
            },
            _ => LinkError::Io {
                what: what.into(),
                source: err,
            },
        }
    }
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::NotPermitted { what, source } => {
                write!(f, "cannot {what}: {source}; {CAP_HINT}")
            }
            LinkError::NoSuchInterface { name } => write!(
                f,
                "no such network interface: {name:?} (see `ip link` for the names here)"
            ),
            LinkError::InterfaceDown { name } => write!(
                f,
                "network interface {name} is down (bring it up: ip link set {name} up)"
            ),
            LinkError::BadInterfaceName { name, reason } => {
                write!(f, "invalid interface name {name:?}: {reason}")
            }
            LinkError::Io { what, source } => write!(f, "cannot {what}: {source}"),
        }
    }
}

impl std::error::Error for LinkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LinkError::NotPermitted { source, .. } | LinkError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<LinkError> for io::Error {
    fn from(e: LinkError) -> io::Error {
        let kind = match &e {
            LinkError::NotPermitted { .. } => io::ErrorKind::PermissionDenied,
            LinkError::NoSuchInterface { .. } => io::ErrorKind::NotFound,
            LinkError::BadInterfaceName { .. } => io::ErrorKind::InvalidInput,
            LinkError::InterfaceDown { .. } => io::ErrorKind::NetworkDown,
            LinkError::Io { source, .. } => source.kind(),
        };
        io::Error::new(kind, e)
    }
}

#[cfg(test)]
pub(crate) mod testutil;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_roundtrip() {
        for v in 0..=255u8 {
            assert_eq!(Direction::from_pkttype(v).pkttype(), v);
        }
        assert_eq!(Direction::from_pkttype(0), Direction::Host);
        assert_eq!(Direction::from_pkttype(4), Direction::Outgoing);
        assert_eq!(Direction::from_pkttype(5), Direction::Other(5));
        assert!(!Direction::Outgoing.is_incoming());
        assert!(Direction::Host.is_incoming());
    }

    #[test]
    fn permission_error_names_capability() {
        let e = LinkError::from_os(
            "open an AF_PACKET socket on lo",
            io::Error::from_raw_os_error(libc::EPERM),
        );
        assert!(e.is_permission());
        let msg = e.to_string();
        assert!(msg.contains("CAP_NET_RAW"), "{msg}");
        assert!(msg.contains("sudo setcap cap_net_raw,cap_net_admin+ep $(which craft)"));
        let e = LinkError::from_os("x", io::Error::from_raw_os_error(libc::ENOMEM));
        assert!(!e.is_permission());
        let io: io::Error = LinkError::NoSuchInterface {
            name: "eth9".into(),
        }
        .into();
        assert_eq!(io.kind(), io::ErrorKind::NotFound);
        assert!(io.to_string().contains("eth9"));
    }
}
