//! Source-port reservation: a kernel TCP socket bound to `127.0.0.1:port`
//! (no listen) held for the session, so the kernel hands that port to no
//! other program meanwhile (LOOPBACK.md §4).

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::HostError;

/// A TCP port on 127.0.0.1 held by a bound, non-listening kernel socket.
/// Dropping it frees the port.
#[derive(Debug)]
pub struct PortReservation {
    _fd: OwnedFd,
    port: u16,
}

impl PortReservation {
    /// The reserved port.
    pub fn port(&self) -> u16 {
        self.port
    }
}

/// Reserves `127.0.0.1:port`. `HostError::PortInUse` when another socket
/// holds it.
pub fn reserve(port: u16) -> Result<PortReservation, HostError> {
    bind_loopback(port)
}

/// Reserves a port the kernel chooses from its ephemeral range.
pub fn reserve_ephemeral() -> Result<PortReservation, HostError> {
    bind_loopback(0)
}

fn bind_loopback(port: u16) -> Result<PortReservation, HostError> {
    // SAFETY: socket() takes no pointers; the result is checked.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(HostError::io(
            "socket(AF_INET, SOCK_STREAM)",
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
    Ok(PortReservation {
        _fd: fd,
        port: u16::from_be(got.sin_port),
    })
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
    fn port_in_use_message_names_the_port() {
        let msg = HostError::PortInUse { port: 40000 }.to_string();
        assert!(msg.contains("40000"), "{msg}");
    }
}
