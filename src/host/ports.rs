//! Source-port reservation: kernel TCP sockets bound to `127.0.0.1:port`
//! and `[::1]:port` (no listen) held for the session, so the kernel hands
//! that port to no other program meanwhile, over IPv4 or IPv6 (LOOPBACK.md §4).

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::HostError;

/// A TCP port on 127.0.0.1 and ::1 held by bound, non-listening kernel
/// sockets (the IPv6 one absent when the host has no ::1). Dropping it
/// frees the port.
#[derive(Debug)]
pub struct PortReservation {
    _fd: OwnedFd,
    _fd6: Option<OwnedFd>,
    port: u16,
}

impl PortReservation {
    /// The reserved port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// Reserves `127.0.0.1:port` and `[::1]:port`. `HostError::PortInUse` when
/// another socket holds either.
pub fn reserve(port: u16) -> Result<PortReservation, HostError> {
    let (fd, port) = bind_loopback(port)?;
    let fd6 = bind_loopback6(port)?;
    Ok(PortReservation {
        _fd: fd,
        _fd6: fd6,
        port,
    })
}

/// Reserves a port the kernel chooses from its ephemeral range (on both
/// addresses: a port taken on ::1 only is skipped for another).
pub fn reserve_ephemeral() -> Result<PortReservation, HostError> {
    let mut last = None;
    for _ in 0..16 {
        let (fd, port) = bind_loopback(0)?;
        match bind_loopback6(port) {
            Ok(fd6) => {
                return Ok(PortReservation {
                    _fd: fd,
                    _fd6: fd6,
                    port,
                });
            }
            Err(e @ HostError::PortInUse { .. }) => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or(HostError::PortInUse { port: 0 }))
}

/// A TCP socket of `family`, close-on-exec, SO_REUSEADDR off.
fn tcp_socket(family: libc::c_int) -> Result<OwnedFd, HostError> {
    // SAFETY: socket() takes no pointers; the result is checked.
    let fd = unsafe { libc::socket(family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(HostError::io(
            "socket(SOCK_STREAM)",
            io::Error::last_os_error(),
        ));
    }
    // SAFETY: socket() just returned this descriptor and nothing else owns
    // it, so the OwnedFd may close it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let off: libc::c_int = 0;
    // SAFETY: valid fd, pointer/len to a c_int. SO_REUSEADDR is off by default;
    // set it explicitly so the reservation is exclusive.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_REUSEADDR,
            &off as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
    Ok(fd)
}

/// Binds `[::1]:port`. None when the host has no ::1 (IPv6 off): nothing
/// to reserve there.
fn bind_loopback6(port: u16) -> Result<Option<OwnedFd>, HostError> {
    let fd = match tcp_socket(libc::AF_INET6) {
        Ok(fd) => fd,
        Err(HostError::Io { source, .. }) if source.raw_os_error() == Some(libc::EAFNOSUPPORT) => {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    // SAFETY: zeroed sockaddr_in6 is valid.
    let mut sa: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
    sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
    sa.sin6_port = port.to_be();
    sa.sin6_addr.s6_addr = Ipv6Addr::LOCALHOST.octets();
    let len = std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
    // SAFETY: pointer/len describe `sa`.
    let r = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            &sa as *const libc::sockaddr_in6 as *const libc::sockaddr,
            len,
        )
    };
    if r < 0 {
        let e = io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::EADDRINUSE) => Err(HostError::PortInUse { port }),
            Some(libc::EADDRNOTAVAIL) => Ok(None),
            _ => Err(HostError::io(format!("bind([::1]:{port})"), e)),
        };
    }
    Ok(Some(fd))
}

fn bind_loopback(port: u16) -> Result<(OwnedFd, u16), HostError> {
    let fd = tcp_socket(libc::AF_INET)?;
    // SAFETY: zeroed sockaddr_in is valid.
    let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    sa.sin_family = libc::AF_INET as libc::sa_family_t;
    sa.sin_port = port.to_be();
    sa.sin_addr.s_addr = u32::from(Ipv4Addr::LOCALHOST).to_be();
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: pointer/len describe `sa`.
    let r = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            &sa as *const libc::sockaddr_in as *const libc::sockaddr,
            len,
        )
    };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EADDRINUSE) {
            return Err(HostError::PortInUse { port });
        }
        return Err(HostError::io(format!("bind(127.0.0.1:{port})"), e));
    }
    // SAFETY: sockaddr_in is plain integers; all-zero is a valid value.
    let mut got: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    let mut got_len = len;
    // SAFETY: pointer/len describe `got`.
    let r = unsafe {
        libc::getsockname(
            fd.as_raw_fd(),
            &mut got as *mut libc::sockaddr_in as *mut libc::sockaddr,
            &mut got_len,
        )
    };
    if r < 0 {
        return Err(HostError::io("getsockname", io::Error::last_os_error()));
    }
    Ok((fd, u16::from_be(got.sin_port)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ephemeral_then_same_port_is_in_use() {
        let r = reserve_ephemeral().expect("reserve ephemeral");
        assert_ne!(r.port(), 0);
        match reserve(r.port()) {
            Err(HostError::PortInUse { port }) => assert_eq!(port, r.port()),
            other => panic!("expected PortInUse, got {other:?}"),
        }
        let p = r.port();
        drop(r);
        let again = reserve(p).expect("port free again after drop");
        assert_eq!(again.port(), p);
    }

    #[test]
    fn a_port_reserved_is_taken_on_both_loopback_addresses() {
        let r = reserve_ephemeral().expect("reserve ephemeral");
        let v4 = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, r.port()));
        assert!(v4.is_err(), "127.0.0.1:{} was free", r.port());
        if std::net::TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_ok() {
            let v6 = std::net::TcpListener::bind((Ipv6Addr::LOCALHOST, r.port()));
            assert!(v6.is_err(), "[::1]:{} was free", r.port());
        } else {
            eprintln!("NOTE: no ::1 here; only the IPv4 reservation was checked");
        }
    }

    #[test]
    fn a_port_held_on_v6_only_is_in_use() {
        let Ok(l) = std::net::TcpListener::bind((Ipv6Addr::LOCALHOST, 0)) else {
            eprintln!("NOTE: no ::1 here; skipped");
            return;
        };
        let p = l.local_addr().expect("addr").port();
        match reserve(p) {
            Err(HostError::PortInUse { port }) => assert_eq!(port, p),
            other => panic!("expected PortInUse, got {other:?}"),
        }
    }

    #[test]
    fn port_in_use_message_names_the_port() {
        let msg = HostError::PortInUse { port: 40000 }.to_string();
        assert!(msg.contains("40000"), "{msg}");
    }
}
