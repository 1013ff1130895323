//! [`PacketSocket`]: an `AF_PACKET`/`SOCK_RAW` socket bound to one interface.
//!
//! Built directly on `libc` (see the module doc of [`crate::link`] for why not
//! pnet). What it sets up:
//!
//! - bound to one ifindex, receiving every ethertype (`ETH_P_ALL`);
//! - `PACKET_IGNORE_OUTGOING`: the kernel's `PACKET_OUTGOING` copies of other
//!   sockets' and the stack's frames are not delivered (if the kernel lacks the
//!   option, they are dropped in user space instead);
//! - `SO_TIMESTAMPNS`: each frame carries its kernel receive time;
//! - a 4 MiB receive queue (`SO_RCVBUFFORCE` as root, else `SO_RCVBUF`);
//! - a read buffer of at least 256 KiB (MTU + headers if larger), with
//!   `MSG_TRUNC` so a truncated frame still reports its real length;
//! - non-blocking, with `ppoll` against the caller's deadline in slices of at
//!   most 100 ms so the [`interrupted`] flag is noticed.
//!
//! On `lo` the socket that sent a frame does not get its own `PACKET_OUTGOING`
//! copy, but it does receive the looped-back `PACKET_HOST` copy of it. That
//! copy is reported as it is ([`Direction::Host`]); telling a probe from its
//! reply is the matcher's job (by addresses), not this module's.
//!
//! Cost: opening and closing is slow on current kernels because `close()` waits
//! for an RCU grace period (`synchronize_net`). Open one socket and keep it.

use std::io;
use std::mem::{size_of, size_of_val, zeroed};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::link::{Direction, Frame, Interface, Link, LinkError, interrupted};

/// `ETH_P_ALL`: every protocol.
const ETH_P_ALL: u16 = 0x0003;
/// Frames read per recvmmsg call.
pub const RX_BATCH: usize = 8;
/// `SOL_PACKET` socket option level.
const SOL_PACKET: libc::c_int = 263;
/// `PACKET_STATISTICS` (struct tpacket_stats).
const PACKET_STATISTICS: libc::c_int = 6;
/// `PACKET_QDISC_BYPASS` (Linux 3.14+).
const PACKET_QDISC_BYPASS: libc::c_int = 20;
/// `PACKET_IGNORE_OUTGOING` (Linux 4.20+).
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
/// Receive queue size asked for.
const RCVBUF_BYTES: libc::c_int = 4 << 20;
/// Smallest read buffer: above `lo`'s 65536 MTU and GRO-sized frames.
pub const MIN_READ_BUF: usize = 256 * 1024;
/// Longest single wait, so Ctrl-C (the [`interrupted`] flag) is seen promptly.
const POLL_SLICE: Duration = Duration::from_millis(100);
/// `sendmmsg` handles at most `UIO_MAXIOV` messages per call.
const MAX_BATCH: usize = 1024;

#[repr(C)]
#[derive(Default)]
struct TpacketStats {
    tp_packets: u32,
    tp_drops: u32,
}

/// An `AF_PACKET` raw socket bound to one interface; implements [`Link`].
#[derive(Debug)]
pub struct PacketSocket {
    fd: OwnedFd,
    iface: Interface,
    /// One read buffer per slot of a batched receive (recvmmsg).
    bufs: Vec<Vec<u8>>,
    /// Frames read in the last batch, not yet handed out.
    rxq: std::collections::VecDeque<Frame>,
    /// True when the kernel lacks `PACKET_IGNORE_OUTGOING`: drop those here.
    filter_outgoing: bool,
}

impl PacketSocket {
    /// Opens a raw socket on the interface named `iface`.
    ///
    /// Errors: [`LinkError::NoSuchInterface`] for an unknown name,
    /// [`LinkError::NotPermitted`] without `CAP_NET_RAW`, and
    /// [`LinkError::InterfaceDown`] if the interface is not up.
    pub fn open(iface: &str) -> Result<PacketSocket, LinkError> {
        PacketSocket::open_interface(Interface::by_name(iface)?, true)
    }

    /// Opens a raw socket that only sends (a burst that reads nothing):
    /// bound with protocol 0, so the kernel queues no frame for it, with the
    /// queueing layer bypassed, and without receive timestamps: once any
    /// socket has asked for them the kernel stamps every frame it receives
    /// until that socket is closed (for each SYN sent, the SYN and the RST
    /// it answers with).
    pub fn open_sender(iface: &str) -> Result<PacketSocket, LinkError> {
        let s = PacketSocket::open_interface(Interface::by_name(iface)?, false)?;
        let _ = setsockopt_int(s.fd.as_raw_fd(), SOL_PACKET, PACKET_QDISC_BYPASS, 1);
        Ok(s)
    }

    /// Opens a raw socket on an interface already looked up; `receive`
    /// false: for sending only (see [`PacketSocket::open_sender`]).
    pub fn open_interface(iface: Interface, receive: bool) -> Result<PacketSocket, LinkError> {
        let name = iface.name.clone();
        // Protocol 0 at socket(): nothing is received until bind() names the
        // interface, so no frame from another interface slips in, and bind()
        // need not unhook a running socket (that costs an RCU grace period).
        // SAFETY: socket() takes no pointers; the result is checked.
        let raw = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
                0,
            )
        };
        if raw < 0 {
            return Err(LinkError::from_os(
                format!("open an AF_PACKET socket on {name}"),
                io::Error::last_os_error(),
            ));
        }
        // SAFETY: socket() just returned this descriptor and nothing else owns
        // it, so the OwnedFd may close it.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let f = fd.as_raw_fd();

        // Options first, so they hold for the first frame bind() lets in.
        let ignore_outgoing = if receive {
            setsockopt_int(f, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
        } else {
            Ok(())
        };
        let filter_outgoing = match ignore_outgoing {
            Ok(()) => false,
            Err(e) if e.raw_os_error() == Some(libc::ENOPROTOOPT) => true,
            Err(e) => {
                return Err(LinkError::from_os(
                    format!("set PACKET_IGNORE_OUTGOING on {name}"),
                    e,
                ));
            }
        };
        if receive {
            setsockopt_int(f, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1)
                .map_err(|e| LinkError::from_os(format!("set SO_TIMESTAMPNS on {name}"), e))?;
            if setsockopt_int(f, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, RCVBUF_BYTES).is_err() {
                // Not privileged for FORCE: take what net.core.rmem_max allows.
                let _ = setsockopt_int(f, libc::SOL_SOCKET, libc::SO_RCVBUF, RCVBUF_BYTES);
            }
        }

        let sll = sockaddr_ll(iface.index, if receive { ETH_P_ALL } else { 0 });
        // SAFETY: sll is a valid sockaddr_ll of the given length.
        let rc = unsafe {
            libc::bind(
                f,
                &sll as *const libc::sockaddr_ll as *const libc::sockaddr,
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::ENODEV) {
                return Err(LinkError::NoSuchInterface { name });
            }
            return Err(LinkError::from_os(
                format!("bind the AF_PACKET socket to {name}"),
                err,
            ));
        }
        // A bind to a down interface succeeds but leaves ENETDOWN pending.
        let pending = getsockopt_int(f, libc::SOL_SOCKET, libc::SO_ERROR).unwrap_or(0);
        if pending == libc::ENETDOWN || !Interface::by_name(&name).map(|i| i.is_up).unwrap_or(true)
        {
            return Err(LinkError::InterfaceDown { name });
        }

        let len = (iface.mtu as usize + 256).max(MIN_READ_BUF);
        Ok(PacketSocket {
            fd,
            iface,
            // Zeroed allocations: pages the kernel never writes stay unmapped.
            bufs: (0..RX_BATCH).map(|_| vec![0; len]).collect(),
            rxq: std::collections::VecDeque::with_capacity(RX_BATCH),
            filter_outgoing,
        })
    }

    /// Attaches a classic BPF program (`SO_ATTACH_FILTER`), replacing the one
    /// before. The kernel checks it and refuses (EINVAL) a malformed one or one
    /// of more than 4096 instructions. Frames already queued stay queued.
    fn set_filter(&mut self, code: &[(u16, u8, u8, u32)]) -> io::Result<()> {
        let mut insns: Vec<libc::sock_filter> = code
            .iter()
            .map(|&(code, jt, jf, k)| libc::sock_filter { code, jt, jf, k })
            .collect();
        let len = u16::try_from(insns.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "BPF program too long"))?;
        let prog = libc::sock_fprog {
            len,
            filter: insns.as_mut_ptr(),
        };
        // SAFETY: prog points at `len` valid sock_filter structs, alive for the
        // call; the kernel copies the program.
        let r = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ATTACH_FILTER,
                (&prog as *const libc::sock_fprog).cast(),
                std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
            )
        };
        if r != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// The interface this socket is bound to.
    pub fn interface(&self) -> &Interface {
        &self.iface
    }

    /// Size of the read buffer: longer frames come back truncated (`orig_len` tells).
    pub fn read_buffer_len(&self) -> usize {
        self.bufs[0].len()
    }

    /// Sets the read buffer size (at least 64 bytes).
    pub fn set_read_buffer_len(&mut self, len: usize) {
        for b in &mut self.bufs {
            b.resize(len.max(64), 0);
        }
    }

    /// Discards every frame already queued; returns how many.
    pub fn drain(&mut self) -> io::Result<usize> {
        let mut n = 0;
        while self.try_recv()?.is_some() {
            n += 1;
        }
        Ok(n)
    }

    /// Sends several whole frames with `sendmmsg`; returns how many were sent.
    ///
    /// Fewer than `frames.len()` means an error stopped the rest (the error
    /// itself is returned only if nothing at all was sent).
    pub fn send_batch(&mut self, frames: &[&[u8]]) -> io::Result<usize> {
        let mut sent = 0;
        while sent < frames.len() {
            let chunk = &frames[sent..frames.len().min(sent + MAX_BATCH)];
            let mut iovs: Vec<libc::iovec> = chunk
                .iter()
                .map(|f| libc::iovec {
                    iov_base: f.as_ptr() as *mut libc::c_void,
                    iov_len: f.len(),
                })
                .collect();
            let mut msgs: Vec<libc::mmsghdr> = iovs
                .iter_mut()
                .map(|iov| {
                    // SAFETY: mmsghdr is plain old data; all-zero is valid.
                    let mut m: libc::mmsghdr = unsafe { zeroed() };
                    m.msg_hdr.msg_iov = iov;
                    m.msg_hdr.msg_iovlen = 1;
                    m
                })
                .collect();
            // SAFETY: msgs points at chunk.len() initialised headers whose iovecs
            // borrow frames that outlive the call.
            let rc = unsafe {
                libc::sendmmsg(
                    self.fd.as_raw_fd(),
                    msgs.as_mut_ptr(),
                    msgs.len() as libc::c_uint,
                    0,
                )
            };
            if rc < 0 {
                let err = io::Error::last_os_error();
                match err.raw_os_error() {
                    Some(libc::EINTR) => continue,
                    Some(libc::EAGAIN) => {
                        self.wait_writable()?;
                        continue;
                    }
                    _ if sent > 0 => return Ok(sent),
                    _ => return Err(self.send_error(err, chunk[0].len())),
                }
            }
            sent += rc as usize;
        }
        Ok(sent)
    }

    /// Packets received and dropped (queue full) since the last call; reading resets them.
    pub fn stats(&mut self) -> io::Result<(u32, u32)> {
        let mut st = TpacketStats::default();
        let mut len = size_of::<TpacketStats>() as libc::socklen_t;
        // SAFETY: st is a tpacket_stats-sized buffer and len its size.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                SOL_PACKET,
                PACKET_STATISTICS,
                &mut st as *mut TpacketStats as *mut libc::c_void,
                &mut len,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((st.tp_packets, st.tp_drops))
    }

    /// Reads one frame if one is queued; never blocks.
    /// The next queued frame, reading up to [`RX_BATCH`] at once with
    /// recvmmsg when none is left from the last batch (a flood of replies
    /// costs one syscall per batch, not per frame).
    fn try_recv(&mut self) -> io::Result<Option<Frame>> {
        loop {
            if let Some(f) = self.rxq.pop_front() {
                return Ok(Some(f));
            }
            let n = self.bufs.len();
            // SAFETY: all-zero is valid for these plain C structs.
            let mut addrs: Vec<libc::sockaddr_ll> = (0..n).map(|_| unsafe { zeroed() }).collect();
            let mut cmsgs = vec![[0u64; 16]; n];
            let mut iovs: Vec<libc::iovec> = self
                .bufs
                .iter_mut()
                .map(|b| libc::iovec {
                    iov_base: b.as_mut_ptr() as *mut libc::c_void,
                    iov_len: b.len(),
                })
                .collect();
            let mut msgs: Vec<libc::mmsghdr> = (0..n)
                .map(|k| {
                    // SAFETY: all-zero is a valid mmsghdr; fields set below.
                    let mut m: libc::mmsghdr = unsafe { zeroed() };
                    m.msg_hdr.msg_name =
                        &mut addrs[k] as *mut libc::sockaddr_ll as *mut libc::c_void;
                    m.msg_hdr.msg_namelen = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
                    m.msg_hdr.msg_iov = &mut iovs[k];
                    m.msg_hdr.msg_iovlen = 1;
                    m.msg_hdr.msg_control = cmsgs[k].as_mut_ptr() as *mut libc::c_void;
                    m.msg_hdr.msg_controllen = size_of_val(&cmsgs[k]) as _;
                    m
                })
                .collect();
            // SAFETY: msgs points at n live headers whose buffers outlive the call.
            let got = unsafe {
                libc::recvmmsg(
                    self.fd.as_raw_fd(),
                    msgs.as_mut_ptr(),
                    n as libc::c_uint,
                    libc::MSG_TRUNC | libc::MSG_DONTWAIT,
                    std::ptr::null_mut(),
                )
            };
            if got < 0 {
                let err = io::Error::last_os_error();
                return match err.raw_os_error() {
                    Some(libc::EINTR) => continue,
                    Some(libc::EAGAIN) => Ok(None),
                    _ => Err(err),
                };
            }
            for (k, m) in msgs.iter().enumerate().take(got as usize) {
                let direction = Direction::from_pkttype(addrs[k].sll_pkttype);
                if self.filter_outgoing && direction == Direction::Outgoing {
                    continue;
                }
                let orig_len = m.msg_len as usize;
                let ts = timestamp(&m.msg_hdr).unwrap_or_else(SystemTime::now);
                let buf = &self.bufs[k];
                self.rxq.push_back(Frame {
                    data: buf[..orig_len.min(buf.len())].to_vec(),
                    direction,
                    ts,
                    orig_len,
                });
            }
        }
    }

    /// Waits until `events` are ready on the socket or `timeout` passes.
    fn wait(&self, events: libc::c_short, timeout: Duration) -> io::Result<()> {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events,
            revents: 0,
        };
        let ts = libc::timespec {
            tv_sec: timeout.as_secs() as libc::time_t,
            tv_nsec: timeout.subsec_nanos() as libc::c_long,
        };
        // SAFETY: one valid pollfd, a valid timespec, no signal mask.
        let rc = unsafe { libc::ppoll(&mut pfd, 1, &ts, std::ptr::null()) };
        if rc < 0 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EINTR) {
                return Err(err);
            }
        }
        Ok(())
    }

    /// Waits (in slices, watching the interrupt flag) until the socket can send.
    fn wait_writable(&self) -> io::Result<()> {
        check_interrupted()?;
        self.wait(libc::POLLOUT, POLL_SLICE)
    }

    /// Adds context to a send error.
    fn send_error(&self, err: io::Error, len: usize) -> io::Error {
        match err.raw_os_error() {
            Some(libc::EMSGSIZE) => io::Error::new(
                err.kind(),
                format!(
                    "frame of {len} bytes is too long for {} (MTU {}): {err}",
                    self.iface.name, self.iface.mtu
                ),
            ),
            Some(libc::ENETDOWN) | Some(libc::ENXIO) => io::Error::new(
                err.kind(),
                format!("interface {} is down: {err}", self.iface.name),
            ),
            _ => err,
        }
    }
}

impl Link for PacketSocket {
    fn send_batch(&mut self, frames: &[&[u8]]) -> io::Result<usize> {
        PacketSocket::send_batch(self, frames)
    }

    fn stop_receiving(&mut self) -> io::Result<()> {
        // A classic BPF filter of one instruction, "return 0": the kernel
        // drops every frame before copying it for this socket.
        self.set_filter(&[(0x06, 0, 0, 0)])?;
        let _ = self.drain();
        // Bound again with protocol 0, the socket leaves the kernel's list of
        // receivers: no frame reaches it, not even to be filtered out (the
        // filter above covers the moment between). Sending is unchanged: lo
        // reads each frame's type from its Ethernet header.
        let sll = sockaddr_ll(self.iface.index, 0);
        // SAFETY: sll is a valid sockaddr_ll of the given length.
        let rc = unsafe {
            libc::bind(
                self.fd.as_raw_fd(),
                &sll as *const libc::sockaddr_ll as *const libc::sockaddr,
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        // Nothing to receive, so no need for the queueing layer either: frames
        // go straight to the driver, as the C ceiling sends them. Older
        // kernels lack the option; sending works without it.
        let _ = setsockopt_int(self.fd.as_raw_fd(), SOL_PACKET, PACKET_QDISC_BYPASS, 1);
        Ok(())
    }

    fn attach_filter(&mut self, code: &[(u16, u8, u8, u32)]) -> io::Result<bool> {
        self.set_filter(code)?;
        Ok(true)
    }

    fn stats(&mut self) -> io::Result<(u32, u32)> {
        PacketSocket::stats(self)
    }

    fn send(&mut self, frame: &[u8]) -> io::Result<SystemTime> {
        let mut nobufs = 0;
        loop {
            let t = SystemTime::now();
            // SAFETY: frame is a valid buffer of frame.len() bytes.
            let n = unsafe {
                libc::send(
                    self.fd.as_raw_fd(),
                    frame.as_ptr() as *const libc::c_void,
                    frame.len(),
                    0,
                )
            };
            if n >= 0 {
                if n as usize != frame.len() {
                    return Err(io::Error::other(format!(
                        "short send: {n} of {} bytes",
                        frame.len()
                    )));
                }
                return Ok(t);
            }
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EINTR) => {}
                Some(libc::EAGAIN) => self.wait_writable()?,
                // The device queue was full: back off briefly, a bounded number of times.
                Some(libc::ENOBUFS) if nobufs < 100 => {
                    nobufs += 1;
                    check_interrupted()?;
                    std::thread::sleep(Duration::from_millis(1));
                }
                _ => return Err(self.send_error(err, frame.len())),
            }
        }
    }

    /// Frames already queued are returned even if `deadline` has passed.
    fn recv(&mut self, deadline: Option<Instant>) -> io::Result<Option<Frame>> {
        loop {
            check_interrupted()?;
            if let Some(frame) = self.try_recv()? {
                return Ok(Some(frame));
            }
            let slice = match deadline {
                None => POLL_SLICE,
                Some(d) => {
                    let now = Instant::now();
                    if d <= now {
                        return Ok(None);
                    }
                    (d - now).min(POLL_SLICE)
                }
            };
            self.wait(libc::POLLIN, slice)?;
        }
    }
}

impl AsFd for PacketSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for PacketSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

fn check_interrupted() -> io::Result<()> {
    if interrupted().load(Ordering::Relaxed) {
        return Err(io::Error::new(io::ErrorKind::Interrupted, "interrupted"));
    }
    Ok(())
}

fn sockaddr_ll(ifindex: u32, protocol: u16) -> libc::sockaddr_ll {
    // SAFETY: all-zero is a valid sockaddr_ll.
    let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = protocol.to_be();
    sll.sll_ifindex = ifindex as i32;
    sll
}

fn setsockopt_int(
    fd: RawFd,
    level: libc::c_int,
    opt: libc::c_int,
    val: libc::c_int,
) -> io::Result<()> {
    // SAFETY: val is a c_int of the stated size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            opt,
            &val as *const libc::c_int as *const libc::c_void,
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn getsockopt_int(fd: RawFd, level: libc::c_int, opt: libc::c_int) -> io::Result<libc::c_int> {
    let mut val: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: val is a c_int and len its size.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            level,
            opt,
            &mut val as *mut libc::c_int as *mut libc::c_void,
            &mut len,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(val)
    }
}

/// The `SCM_TIMESTAMPNS` control message of a received frame, if present.
fn timestamp(msg: &libc::msghdr) -> Option<SystemTime> {
    // SAFETY: msg was filled by recvmsg; CMSG_* walk within msg_controllen.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET
                && (*c).cmsg_type == libc::SCM_TIMESTAMPNS
                && (*c).cmsg_len as usize
                    >= libc::CMSG_LEN(size_of::<libc::timespec>() as u32) as usize
            {
                let ts: libc::timespec =
                    std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::timespec);
                if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
                    return None;
                }
                return UNIX_EPOCH.checked_add(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32));
            }
            c = libc::CMSG_NXTHDR(msg, c);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::testutil::{IN_NETNS, netns_test};
    use std::process::Command;

    /// A dummy Ethernet frame: zero MACs, ethertype 0x88b5 (local experimental), `len` bytes.
    fn dummy_frame(len: usize, tag: u8) -> Vec<u8> {
        let mut f = vec![0u8; len];
        f[12] = 0x88;
        f[13] = 0xb5;
        for (i, b) in f[14..].iter_mut().enumerate() {
            *b = tag.wrapping_add(i as u8);
        }
        f
    }

    /// Receives until a frame equal to `want` arrives (skipping others) or 2 s pass.
    fn recv_exact(sock: &mut PacketSocket, want: &[u8]) -> Frame {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let f = sock
                .recv(Some(deadline))
                .expect("recv")
                .unwrap_or_else(|| panic!("frame of {} bytes not received", want.len()));
            if f.data == want {
                return f;
            }
        }
    }

    fn assert_plausible_ts(f: &Frame, before: SystemTime) {
        let after = SystemTime::now();
        assert!(
            f.ts >= before - Duration::from_millis(5) && f.ts <= after,
            "timestamp {:?} outside [{before:?}, {after:?}]",
            f.ts
        );
    }

    netns_test! {
        fn loopback_send_receive_whole_frames() {
            let mut a = PacketSocket::open("lo").expect("open lo");
            let mut b = PacketSocket::open("lo").expect("open lo twice");
            assert_eq!(a.interface().mtu, 65536, "lo MTU");
            assert!(a.interface().is_loopback);
            assert!(a.read_buffer_len() >= 65536 + 14);

            for (len, tag) in [(60usize, 1u8), (30000, 2)] {
                let frame = dummy_frame(len, tag);
                let before = SystemTime::now();
                let sent_at = a.send(&frame).expect("send");
                assert!(sent_at >= before);

                // The sender gets the looped-back copy, as PACKET_HOST ...
                let mine = recv_exact(&mut a, &frame);
                assert_eq!(mine.direction, Direction::Host);
                assert_eq!(mine.orig_len, len);
                assert!(!mine.is_truncated());
                assert_plausible_ts(&mine, before);

                // ... and a second socket sees it too, also only as PACKET_HOST
                // (PACKET_IGNORE_OUTGOING hides the outgoing copy).
                let other = recv_exact(&mut b, &frame);
                assert_eq!(other.direction, Direction::Host);
                assert_eq!(other.orig_len, len);
                assert_plausible_ts(&other, before);
            }
            // Exactly one copy each: nothing else queued.
            assert!(a.recv(Some(Instant::now() + Duration::from_millis(50))).unwrap().is_none());
            assert!(b.recv(Some(Instant::now() + Duration::from_millis(50))).unwrap().is_none());
        }
    }

    netns_test! {
        fn a_send_only_socket_sends_receives_nothing_and_asks_for_no_timestamps() {
            let mut tx = PacketSocket::open_sender("lo").expect("open lo to send");
            let mut rx = PacketSocket::open("lo").expect("open lo");
            let frame = dummy_frame(60, 7);
            tx.send(&frame).expect("send");
            let got = recv_exact(&mut rx, &frame);
            assert_eq!(got.orig_len, 60);
            // Bound with protocol 0: not even its own looped-back copy.
            assert!(tx.recv(Some(Instant::now() + Duration::from_millis(50))).unwrap().is_none());
            let fd = tx.fd.as_raw_fd();
            assert_eq!(getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS).unwrap(), 0);
            assert_eq!(getsockopt_int(rx.fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_TIMESTAMPNS).unwrap(), 1);
            assert_eq!(getsockopt_int(fd, SOL_PACKET, PACKET_QDISC_BYPASS).unwrap(), 1);
        }
    }

    netns_test! {
        fn loopback_sender_gets_no_outgoing_copy_even_without_ignore_outgoing() {
            // The fact LOOPBACK.md states, checked on a socket without
            // PACKET_IGNORE_OUTGOING: the sender sees only the PACKET_HOST copy
            // of its own frame, while another socket sees both copies.
            let mut a = PacketSocket::open("lo").unwrap();
            let mut b = PacketSocket::open("lo").unwrap();
            for s in [&a, &b] {
                setsockopt_int(s.as_raw_fd(), SOL_PACKET, PACKET_IGNORE_OUTGOING, 0).unwrap();
            }
            let frame = dummy_frame(100, 7);
            a.send(&frame).unwrap();
            let collect = |s: &mut PacketSocket| {
                let mut dirs = Vec::new();
                while let Some(f) = s.recv(Some(Instant::now() + Duration::from_millis(200))).unwrap() {
                    if f.data == frame {
                        dirs.push(f.direction);
                    }
                }
                dirs
            };
            assert_eq!(collect(&mut a), vec![Direction::Host], "sender");
            let mut other = collect(&mut b);
            other.sort_by_key(|d| d.pkttype());
            assert_eq!(other, vec![Direction::Host, Direction::Outgoing], "other socket");
        }
    }

    netns_test! {
        fn truncated_frame_reports_real_length() {
            let mut a = PacketSocket::open("lo").unwrap();
            a.set_read_buffer_len(100);
            let frame = dummy_frame(1000, 3);
            a.send(&frame).unwrap();
            let f = a.recv(Some(Instant::now() + Duration::from_secs(2))).unwrap().unwrap();
            assert_eq!(f.data, &frame[..100]);
            assert_eq!(f.orig_len, 1000);
            assert!(f.is_truncated());
        }
    }

    netns_test! {
        fn recv_deadline_times_out() {
            let mut a = PacketSocket::open("lo").unwrap();
            a.drain().unwrap();
            for ms in [0u64, 30, 250] {
                let start = Instant::now();
                let got = a.recv(Some(start + Duration::from_millis(ms))).unwrap();
                let took = start.elapsed();
                assert!(got.is_none());
                assert!(took >= Duration::from_millis(ms), "{ms} ms deadline returned after {took:?}");
                assert!(took < Duration::from_millis(ms + 150), "{ms} ms deadline returned after {took:?}");
            }
        }
    }

    netns_test! {
        fn recv_notices_interrupt_flag() {
            let mut a = PacketSocket::open("lo").unwrap();
            let start = Instant::now();
            let setter = std::thread::spawn(|| {
                std::thread::sleep(Duration::from_millis(50));
                interrupted().store(true, Ordering::SeqCst);
            });
            let err = a.recv(None).unwrap_err();
            interrupted().store(false, Ordering::SeqCst);
            setter.join().unwrap();
            assert_eq!(err.kind(), io::ErrorKind::Interrupted);
            assert!(start.elapsed() < Duration::from_millis(300), "{:?}", start.elapsed());
        }
    }

    netns_test! {
        fn send_batch_sends_all() {
            let mut a = PacketSocket::open("lo").unwrap();
            let mut b = PacketSocket::open("lo").unwrap();
            a.stats().unwrap();
            b.stats().unwrap();
            let frames: Vec<Vec<u8>> = (0..50).map(|i| dummy_frame(64 + i, i as u8)).collect();
            let refs: Vec<&[u8]> = frames.iter().map(|f| f.as_slice()).collect();
            assert_eq!(a.send_batch(&refs).unwrap(), 50);
            for f in &frames {
                let got = b.recv(Some(Instant::now() + Duration::from_secs(2))).unwrap().expect("batch frame");
                assert_eq!(&got.data, f, "in order");
            }
            let (packets, drops) = b.stats().unwrap();
            assert_eq!((packets, drops), (50, 0));
            assert_eq!(a.send_batch(&[]).unwrap(), 0);
        }
    }

    netns_test! {
        fn oversized_frame_is_a_clear_error() {
            let mut a = PacketSocket::open("lo").unwrap();
            let err = a.send(&dummy_frame(70000, 0)).unwrap_err();
            assert!(err.to_string().contains("70000 bytes"), "{err}");
            assert!(err.to_string().contains("MTU 65536"), "{err}");
        }
    }

    netns_test! {
        fn open_errors_are_clear() {
            let e = PacketSocket::open("bogus0").unwrap_err();
            assert!(matches!(e, LinkError::NoSuchInterface { .. }), "{e:?}");
            assert!(e.to_string().contains("bogus0"), "{e}");

            // A down interface: a dummy link exists but is not up.
            Command::new("ip").args(["link", "set", "lo", "down"]).status().unwrap();
            let e = PacketSocket::open("lo").unwrap_err();
            Command::new("ip").args(["link", "set", "lo", "up"]).status().unwrap();
            assert!(matches!(e, LinkError::InterfaceDown { .. }), "{e:?}");
            assert!(e.to_string().contains("ip link set lo up"), "{e}");
        }
    }

    /// Inside the capability-less child: opening must fail with NotPermitted.
    const NOCAP_CHILD: &str = "CRAFT_NOCAP_CHILD";

    netns_test! {
        fn open_without_cap_net_raw_is_not_permitted() {
            if std::env::var_os(NOCAP_CHILD).is_some() {
                let e = PacketSocket::open("lo").unwrap_err();
                assert!(e.is_permission(), "{e:?}");
                let msg = e.to_string();
                assert!(msg.contains("CAP_NET_RAW"), "{msg}");
                assert!(msg.contains("sudo setcap cap_net_raw,cap_net_admin+ep $(which craft)"), "{msg}");
                println!("child error message: {msg}");
                return;
            }
            let exe = std::env::current_exe().unwrap();
            let module = module_path!().split_once("::").map_or("", |m| m.1);
            let this_test = format!("{module}::open_without_cap_net_raw_is_not_permitted");
            let out = Command::new("setpriv")
                .args(["--inh-caps=-all", "--bounding-set=-net_raw,-net_admin", "--"])
                .arg(exe)
                .args(["--exact", &this_test, "--nocapture", "--include-ignored"])
                .env(NOCAP_CHILD, "1")
                .env(IN_NETNS, "1")
                .output()
                .expect("run setpriv");
            let stdout = String::from_utf8_lossy(&out.stdout);
            println!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
            assert!(out.status.success());
            assert!(stdout.contains("test result: ok. 1 passed"));
            assert!(stdout.contains("child error message: cannot open an AF_PACKET socket on lo"));
        }
    }

    /// Timing of socket()/bind()/close() in several variants; run with
    /// `cargo test afpacket_timing -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn afpacket_timing() {
        crate::link::testutil::run_in_netns(module_path!(), "afpacket_timing", timing_body);
    }

    fn timing_body() {
        const N: usize = 20;
        let ifindex = Interface::by_name("lo").unwrap().index;
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        let sock = |proto: u16| {
            // SAFETY: socket() takes no pointers; the result is checked.
            let fd = unsafe {
                libc::socket(
                    libc::AF_PACKET,
                    libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                    proto.to_be() as i32,
                )
            };
            assert!(fd >= 0, "{}", io::Error::last_os_error());
            fd
        };
        let bind = |fd: i32| {
            let sll = sockaddr_ll(ifindex, ETH_P_ALL);
            // SAFETY: the pointer and length describe `sll`, a live
            // sockaddr_ll; fd is the socket just opened.
            let rc = unsafe {
                libc::bind(
                    fd,
                    &sll as *const _ as *const libc::sockaddr,
                    size_of::<libc::sockaddr_ll>() as u32,
                )
            };
            assert_eq!(rc, 0);
        };
        let report = |label: &str, cols: &[(&str, Vec<Duration>)]| {
            let mut line = format!("{label:<44}");
            for (name, v) in cols {
                let mut s: Vec<f64> = v.iter().map(|d| us(*d)).collect();
                s.sort_by(|a, b| a.partial_cmp(b).unwrap());
                let mean = s.iter().sum::<f64>() / s.len() as f64;
                line += &format!(
                    " {name}: mean {mean:>8.0} us, median {:>8.0} us;",
                    s[s.len() / 2]
                );
            }
            println!("{line}");
        };
        for (label, proto, do_bind) in [
            ("socket(ETH_P_ALL)+bind(ETH_P_ALL)+close", ETH_P_ALL, true),
            ("socket(0)+bind(ETH_P_ALL)+close", 0, true),
            ("socket(ETH_P_ALL)+close (no bind)", ETH_P_ALL, false),
            ("socket(0)+close (no bind)", 0, false),
        ] {
            let (mut ts, mut tb, mut tc) = (vec![], vec![], vec![]);
            for _ in 0..N {
                let t0 = Instant::now();
                let fd = sock(proto);
                let t1 = Instant::now();
                if do_bind {
                    bind(fd);
                }
                let t2 = Instant::now();
                // SAFETY: fd is the socket opened above, closed once, not used after.
                unsafe { libc::close(fd) };
                let t3 = Instant::now();
                ts.push(t1 - t0);
                tb.push(t2 - t1);
                tc.push(t3 - t2);
            }
            report(label, &[("socket", ts), ("bind", tb), ("close", tc)]);
        }
        // The whole PacketSocket::open (with its options) and drop.
        let (mut to, mut td) = (vec![], vec![]);
        for _ in 0..N {
            let t0 = Instant::now();
            let s = PacketSocket::open("lo").unwrap();
            let t1 = Instant::now();
            drop(s);
            to.push(t1 - t0);
            td.push(t1.elapsed());
        }
        report("PacketSocket::open + drop", &[("open", to), ("drop", td)]);

        // Leaving the close to process exit: fork a child that opens (or not)
        // and _exit()s; the parent times fork -> waitpid.
        for (label, mode) in [
            ("child: _exit only", 0),
            ("child: socket(0)+bind, _exit without close", 1),
            ("child: socket(0)+bind+close, _exit", 2),
        ] {
            let mut tw = vec![];
            for _ in 0..N {
                let t0 = Instant::now();
                // SAFETY: the child runs only async-signal-safe syscalls on
                // its own stack and _exit()s (see below), so forking this
                // multi-threaded test process cannot deadlock it.
                let pid = unsafe { libc::fork() };
                if pid == 0 {
                    // SAFETY: in the child only async-signal-safe syscalls
                    // (socket, bind, close, _exit), with a pointer/length pair
                    // describing the live `sll` on this stack.
                    unsafe {
                        if mode >= 1 {
                            let fd = libc::socket(libc::AF_PACKET, libc::SOCK_RAW, 0);
                            let sll = sockaddr_ll(ifindex, ETH_P_ALL);
                            libc::bind(
                                fd,
                                &sll as *const _ as *const libc::sockaddr,
                                size_of::<libc::sockaddr_ll>() as u32,
                            );
                            if mode == 2 {
                                libc::close(fd);
                            }
                        }
                        libc::_exit(0);
                    }
                }
                let mut status = 0;
                // SAFETY: `status` is a live c_int for waitpid to write.
                unsafe { libc::waitpid(pid, &mut status, 0) };
                tw.push(t0.elapsed());
            }
            report(label, &[("fork..waitpid", tw)]);
        }
    }
}
