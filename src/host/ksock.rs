//! Kernel TCP sockets for the language's `tcp_connect()` and `tcp_listen()`:
//! the kernel is the client (or the server), so a recipe can drive both ends
//! of a conversation (craft's `listen()` or `connect()` on one, the kernel on
//! the other) with nothing else started.
//!
//! The connect is non-blocking: `connect` sends the SYN and waits only a
//! moment (a refusal on lo is immediate); the first `write` or `read` waits
//! for the handshake to finish. So a script can `tcp_connect()` to its own
//! `listen()` and then `accept()` the connection.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddrV4, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// Why a kernel socket operation failed, in words for the user.
#[derive(Debug)]
pub enum SockError {
    /// The peer answered the SYN with a RST.
    Refused(SocketAddrV4),
    /// The handshake did not finish in time.
    Timeout(SocketAddrV4, Duration),
    /// The peer reset the connection.
    Reset(SocketAddrV4),
    /// Used after close().
    Closed(SocketAddrV4),
    /// Anything else.
    Io(String, io::Error),
}

impl std::fmt::Display for SockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SockError::Refused(a) => write!(f, "connection to {a} refused (RST to the SYN)"),
            SockError::Timeout(a, t) => write!(
                f,
                "connection to {a}: no answer to the SYN in {}s",
                t.as_secs_f64()
            ),
            SockError::Reset(a) => write!(f, "connection to {a} reset by the peer"),
            SockError::Closed(a) => write!(f, "the socket to {a} is closed"),
            SockError::Io(what, e) => write!(f, "{what}: {e}"),
        }
    }
}

/// How long `connect` waits for the handshake before returning anyway.
const CONNECT_PEEK: Duration = Duration::from_millis(200);

/// A kernel TCP client socket.
#[derive(Debug)]
pub struct KernelSocket {
    peer: SocketAddrV4,
    stream: Option<TcpStream>,
    connected: bool,
}

impl KernelSocket {
    /// Starts a connection to `peer` (the kernel sends the SYN) and waits a
    /// moment for it. A refusal in that moment is an error; a handshake not
    /// finished yet is finished by the first `write` or `read`.
    pub fn connect(peer: SocketAddrV4) -> Result<KernelSocket, SockError> {
        // SAFETY: socket() takes no pointers; the result is checked.
        let fd = unsafe {
            libc::socket(
                libc::AF_INET,
                libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                0,
            )
        };
        if fd < 0 {
            return Err(SockError::Io(
                "socket(AF_INET, SOCK_STREAM)".into(),
                io::Error::last_os_error(),
            ));
        }
        // SAFETY: socket() just returned this descriptor and nothing else
        // owns it, so the OwnedFd may close it.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let sa = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: peer.port().to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from(*peer.ip()).to_be(),
            },
            sin_zero: [0; 8],
        };
        // SAFETY: valid fd; the pointer and length describe `sa`, a
        // sockaddr_in that lives across the call.
        let r = unsafe {
            libc::connect(
                fd.as_raw_fd(),
                &sa as *const libc::sockaddr_in as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        };
        let mut s = KernelSocket {
            peer,
            stream: Some(TcpStream::from(fd)),
            connected: false,
        };
        if r == 0 {
            s.connected = true;
            s.blocking()?;
            return Ok(s);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINPROGRESS) => {
                s.wait_connected(CONNECT_PEEK)?;
                Ok(s)
            }
            Some(libc::ECONNREFUSED) => Err(SockError::Refused(peer)),
            _ => Err(SockError::Io(format!("connect to {peer}"), e)),
        }
    }

    /// A socket the kernel's listener accepted.
    fn accepted(stream: TcpStream, peer: SocketAddrV4) -> Result<KernelSocket, SockError> {
        let s = KernelSocket {
            peer,
            stream: Some(stream),
            connected: true,
        };
        s.blocking()?;
        Ok(s)
    }

    /// What the kernel knows of the connection (`getsockopt(TCP_INFO)`).
    pub fn info(&self) -> Result<TcpInfo, SockError> {
        let fd = self.stream()?.as_raw_fd();
        // SAFETY: all-zero is a valid tcp_info (plain integers).
        let mut ti: libc::tcp_info = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
        // SAFETY: ti is a live tcp_info of len bytes for the kernel to fill;
        // it writes at most len bytes and says how many in len.
        let r = unsafe {
            libc::getsockopt(
                fd,
                libc::IPPROTO_TCP,
                libc::TCP_INFO,
                (&mut ti as *mut libc::tcp_info).cast(),
                &mut len,
            )
        };
        if r != 0 {
            return Err(SockError::Io(
                "getsockopt(TCP_INFO)".into(),
                std::io::Error::last_os_error(),
            ));
        }
        Ok(TcpInfo {
            state: ti.tcpi_state,
            rtt_us: ti.tcpi_rtt,
            rttvar_us: ti.tcpi_rttvar,
            rto_us: ti.tcpi_rto,
            snd_mss: ti.tcpi_snd_mss,
            rcv_mss: ti.tcpi_rcv_mss,
            snd_cwnd: ti.tcpi_snd_cwnd,
            snd_ssthresh: ti.tcpi_snd_ssthresh,
            retransmits: ti.tcpi_retransmits,
            total_retrans: ti.tcpi_total_retrans,
            unacked: ti.tcpi_unacked,
            lost: ti.tcpi_lost,
            pmtu: ti.tcpi_pmtu,
            rcv_space: ti.tcpi_rcv_space,
        })
    }

    /// The peer's address.
    pub fn peer(&self) -> SocketAddrV4 {
        self.peer
    }

    /// True once the handshake finished.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// True after close().
    pub fn is_closed(&self) -> bool {
        self.stream.is_none()
    }

    fn stream(&self) -> Result<&TcpStream, SockError> {
        self.stream.as_ref().ok_or(SockError::Closed(self.peer))
    }

    fn blocking(&self) -> Result<(), SockError> {
        self.stream()?
            .set_nonblocking(false)
            .map_err(|e| SockError::Io("fcntl".into(), e))
    }

    /// Waits up to `t` for the handshake. Ok(true) when it finished.
    fn wait_connected(&mut self, t: Duration) -> Result<bool, SockError> {
        if self.connected {
            return Ok(true);
        }
        let fd = self.stream()?.as_raw_fd();
        let deadline = Instant::now() + t;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let mut p = libc::pollfd {
                fd,
                events: libc::POLLOUT,
                revents: 0,
            };
            let ms = left.as_millis().min(i32::MAX as u128) as libc::c_int;
            // SAFETY: `p` is one valid pollfd, and the count says one.
            let n = unsafe { libc::poll(&mut p, 1, ms) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted && !left.is_zero() {
                    continue;
                }
                return Err(SockError::Io("poll".into(), e));
            }
            if n == 0 {
                return Ok(false);
            }
            break;
        }
        match self.stream()?.take_error() {
            Ok(None) => {
                self.connected = true;
                self.blocking()?;
                Ok(true)
            }
            Ok(Some(e)) | Err(e) => Err(self.map(e, "connect")),
        }
    }

    fn map(&self, e: io::Error, what: &str) -> SockError {
        match e.kind() {
            io::ErrorKind::ConnectionRefused => SockError::Refused(self.peer),
            io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe => {
                SockError::Reset(self.peer)
            }
            _ => SockError::Io(format!("{what} ({})", self.peer), e),
        }
    }

    fn ensure(&mut self, t: Duration) -> Result<(), SockError> {
        if !self.wait_connected(t)? {
            return Err(SockError::Timeout(self.peer, t));
        }
        Ok(())
    }

    /// Writes all of `data`, first finishing the handshake (waiting up to `t`).
    pub fn write(&mut self, data: &[u8], t: Duration) -> Result<usize, SockError> {
        self.ensure(t)?;
        let mut s = self.stream()?;
        s.set_write_timeout(Some(t.max(Duration::from_millis(1))))
            .map_err(|e| SockError::Io("setsockopt".into(), e))?;
        s.write_all(data).map_err(|e| self.map(e, "write"))?;
        Ok(data.len())
    }

    /// What the peer sent: waits up to `t` for the first bytes, then takes
    /// what follows until none has come for a moment. Empty at the peer's FIN
    /// or when nothing came.
    pub fn read(&mut self, t: Duration) -> Result<Vec<u8>, SockError> {
        self.ensure(t)?;
        let mut out = Vec::new();
        let mut buf = vec![0u8; 65536];
        let mut wait = t.max(Duration::from_millis(1));
        loop {
            let mut s = self.stream()?;
            s.set_read_timeout(Some(wait))
                .map_err(|e| SockError::Io("setsockopt".into(), e))?;
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    out.extend_from_slice(&buf[..n]);
                    wait = Duration::from_millis(50);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.map(e, "read")),
            }
        }
        Ok(out)
    }

    /// Sends our FIN (`shutdown(SHUT_WR)`); reading still works.
    pub fn shutdown_write(&mut self) -> Result<(), SockError> {
        self.stream()?
            .shutdown(Shutdown::Write)
            .map_err(|e| self.map(e, "shutdown"))
    }

    /// Closes the socket (the kernel sends its FIN). Closing twice is fine.
    pub fn close(&mut self) {
        self.stream = None;
    }
}

/// The fields of the kernel's `struct tcp_info` craft shows (times in µs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpInfo {
    /// The kernel's state number (`TCP_ESTABLISHED` = 1 ...); see [`state_name`].
    pub state: u8,
    /// Smoothed round-trip time.
    pub rtt_us: u32,
    /// Its variation.
    pub rttvar_us: u32,
    /// Retransmission timeout.
    pub rto_us: u32,
    /// Sending MSS.
    pub snd_mss: u32,
    /// Receiving MSS.
    pub rcv_mss: u32,
    /// Congestion window, in segments.
    pub snd_cwnd: u32,
    /// Slow-start threshold.
    pub snd_ssthresh: u32,
    /// Retransmissions of the current segment.
    pub retransmits: u8,
    /// Retransmissions over the connection.
    pub total_retrans: u32,
    /// Segments sent and not yet acknowledged.
    pub unacked: u32,
    /// Segments thought lost.
    pub lost: u32,
    /// Path MTU.
    pub pmtu: u32,
    /// Receive buffer space the kernel advertises against.
    pub rcv_space: u32,
}

/// The RFC 9293 name of a Linux TCP state number, as craft's sessions name
/// theirs (`"ESTABLISHED"`, `"TIME-WAIT"`, ...).
pub fn state_name(n: u8) -> &'static str {
    match n {
        1 => "ESTABLISHED",
        2 => "SYN-SENT",
        3 => "SYN-RECEIVED",
        4 => "FIN-WAIT-1",
        5 => "FIN-WAIT-2",
        6 => "TIME-WAIT",
        7 => "CLOSED",
        8 => "CLOSE-WAIT",
        9 => "LAST-ACK",
        10 => "LISTEN",
        11 => "CLOSING",
        _ => "UNKNOWN",
    }
}

/// A kernel TCP listener (the kernel does the handshakes; `accept` takes
/// the connections from its queue).
#[derive(Debug)]
pub struct KernelListener {
    addr: SocketAddrV4,
    listener: Option<TcpListener>,
}

impl KernelListener {
    /// Listens on `addr`.
    pub fn bind(addr: SocketAddrV4) -> Result<KernelListener, SockError> {
        let l =
            TcpListener::bind(addr).map_err(|e| SockError::Io(format!("listen on {addr}"), e))?;
        l.set_nonblocking(true)
            .map_err(|e| SockError::Io("fcntl".into(), e))?;
        Ok(KernelListener {
            addr,
            listener: Some(l),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddrV4 {
        self.addr
    }

    /// True after close().
    pub fn is_closed(&self) -> bool {
        self.listener.is_none()
    }

    /// The next connection, waiting up to `t`; None when none came.
    pub fn accept(&mut self, t: Duration) -> Result<Option<KernelSocket>, SockError> {
        let closed = SockError::Closed(self.addr);
        let l = self.listener.as_ref().ok_or(closed)?;
        let deadline = Instant::now() + t;
        loop {
            match l.accept() {
                Ok((s, std::net::SocketAddr::V4(peer))) => {
                    return KernelSocket::accepted(s, peer).map(Some);
                }
                Ok((_, other)) => {
                    return Err(SockError::Io(
                        format!("accept: {other} is not IPv4"),
                        io::Error::other("not IPv4"),
                    ));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(SockError::Io(format!("accept on {}", self.addr), e)),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let mut p = libc::pollfd {
                fd: l.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = left.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
            // SAFETY: `p` is one valid pollfd, and the count says one.
            if unsafe { libc::poll(&mut p, 1, ms) } < 0 {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(SockError::Io("poll".into(), e));
                }
            }
        }
    }

    /// Stops listening. Closing twice is fine.
    pub fn close(&mut self) {
        self.listener = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, TcpListener};

    #[test]
    fn talks_to_a_kernel_listener_and_says_when_refused() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let peer = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
        let mut k = KernelSocket::connect(peer).unwrap();
        let (mut a, _) = l.accept().unwrap();
        assert_eq!(k.write(b"ping\n", Duration::from_secs(1)).unwrap(), 5);
        let mut got = [0u8; 5];
        a.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"ping\n");
        a.write_all(b"pong\n").unwrap();
        assert_eq!(k.read(Duration::from_secs(1)).unwrap(), b"pong\n");
        drop(a);
        assert_eq!(k.read(Duration::from_secs(1)).unwrap(), b"");
        k.close();
        assert!(matches!(
            k.write(b"x", Duration::ZERO),
            Err(SockError::Closed(_))
        ));
        drop(l);
        let e = KernelSocket::connect(peer).unwrap_err();
        assert!(matches!(e, SockError::Refused(_)), "{e}");
        // Both ends kernel: tcp_listen and tcp_connect.
        let mut srv = KernelListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)).unwrap();
        let at = match srv.listener.as_ref().unwrap().local_addr().unwrap() {
            std::net::SocketAddr::V4(a) => a,
            _ => unreachable!(),
        };
        assert!(srv.accept(Duration::ZERO).unwrap().is_none());
        let mut c = KernelSocket::connect(at).unwrap();
        let mut a = srv.accept(Duration::from_secs(1)).unwrap().unwrap();
        c.write(b"hi", Duration::from_secs(1)).unwrap();
        assert_eq!(a.read(Duration::from_secs(1)).unwrap(), b"hi");
        srv.close();
        drop(c);
        drop(a);
        let e = KernelSocket::connect(at).unwrap_err();
        assert!(matches!(e, SockError::Refused(_)), "{e}");
        assert!(e.to_string().contains("refused"));
    }
}
