//! The system calls `craft drill` makes on a script's behalf, on plain file
//! descriptors: each returns the kernel's result and errno as they are, for
//! the script to check (nothing here retries or interprets).

use std::net::Ipv4Addr;

/// A system call's result: its return value and, when it is -1, errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ret {
    /// The return value.
    pub value: i64,
    /// errno when `value` is -1, else 0.
    pub errno: i32,
}

fn ret(v: i64) -> Ret {
    let errno = if v < 0 {
        std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
    } else {
        0
    };
    Ret { value: v, errno }
}

fn sockaddr(ip: Ipv4Addr, port: u16) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(ip).to_be(),
        },
        sin_zero: [0; 8],
    }
}

const SIN_LEN: libc::socklen_t = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;

/// `socket(domain, type, protocol)`.
pub fn socket(domain: i32, ty: i32, proto: i32) -> Ret {
    // SAFETY: plain integers in, a new descriptor (or -1) out.
    ret(unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, proto) } as i64)
}

/// `bind(fd, ip:port)`.
pub fn bind(fd: i32, ip: Ipv4Addr, port: u16) -> Ret {
    let sa = sockaddr(ip, port);
    // SAFETY: sa is a live sockaddr_in of SIN_LEN bytes.
    ret(unsafe { libc::bind(fd, (&sa as *const libc::sockaddr_in).cast(), SIN_LEN) } as i64)
}

/// `connect(fd, ip:port)`.
pub fn connect(fd: i32, ip: Ipv4Addr, port: u16) -> Ret {
    let sa = sockaddr(ip, port);
    // SAFETY: sa is a live sockaddr_in of SIN_LEN bytes.
    ret(unsafe { libc::connect(fd, (&sa as *const libc::sockaddr_in).cast(), SIN_LEN) } as i64)
}

/// `listen(fd, backlog)`.
pub fn listen(fd: i32, backlog: i32) -> Ret {
    // SAFETY: plain integers.
    ret(unsafe { libc::listen(fd, backlog) } as i64)
}

/// `accept(fd, NULL, NULL)`, the new descriptor close-on-exec.
pub fn accept(fd: i32) -> Ret {
    // SAFETY: null address pointers are allowed: the peer is not returned.
    ret(unsafe {
        libc::accept4(
            fd,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            libc::SOCK_CLOEXEC,
        )
    } as i64)
}

/// `setsockopt(fd, level, name, value, value.len())`.
pub fn setsockopt(fd: i32, level: i32, name: i32, value: &[u8]) -> Ret {
    // SAFETY: value is a live buffer of the length passed.
    ret(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            value.as_ptr().cast(),
            value.len() as libc::socklen_t,
        )
    } as i64)
}

/// `getsockopt(fd, level, name, buf, &len)` with a buffer of `len` bytes:
/// the result and the bytes the kernel wrote.
pub fn getsockopt(fd: i32, level: i32, name: i32, len: usize) -> (Ret, Vec<u8>) {
    let mut buf = vec![0u8; len];
    let mut l = len as libc::socklen_t;
    // SAFETY: buf is a live buffer of l bytes; the kernel writes at most l
    // and says how many in l.
    let r =
        ret(unsafe { libc::getsockopt(fd, level, name, buf.as_mut_ptr().cast(), &mut l) } as i64);
    buf.truncate(l as usize);
    (r, buf)
}

/// `fcntl(fd, cmd[, arg])`.
pub fn fcntl(fd: i32, cmd: i32, arg: i64) -> Ret {
    // SAFETY: F_GETFL/F_SETFL and the like take an integer argument.
    ret(unsafe { libc::fcntl(fd, cmd, arg as libc::c_long) } as i64)
}

/// `send(fd, buf, len, flags)` of `len` zero bytes (`write` is flags 0).
pub fn send(fd: i32, len: usize, flags: i32) -> Ret {
    let buf = vec![0u8; len];
    // SAFETY: buf is a live buffer of len bytes.
    ret(unsafe { libc::send(fd, buf.as_ptr().cast(), len, flags | libc::MSG_NOSIGNAL) } as i64)
}

/// `recv(fd, buf, len, flags)` into a scratch buffer (`read` is flags 0).
pub fn recv(fd: i32, len: usize, flags: i32) -> Ret {
    let mut buf = vec![0u8; len];
    // SAFETY: buf is a live buffer of len bytes.
    ret(unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), len, flags) } as i64)
}

/// `shutdown(fd, how)`.
pub fn shutdown(fd: i32, how: i32) -> Ret {
    // SAFETY: plain integers.
    ret(unsafe { libc::shutdown(fd, how) } as i64)
}

/// `poll(fds, timeout_ms)` on (fd, events) pairs: the result and each
/// descriptor's revents.
pub fn poll(fds: &[(i32, i16)], timeout_ms: i32) -> (Ret, Vec<i16>) {
    let mut v: Vec<libc::pollfd> = fds
        .iter()
        .map(|&(fd, events)| libc::pollfd {
            fd,
            events,
            revents: 0,
        })
        .collect();
    // SAFETY: v is a live array of v.len() pollfd structs for the kernel to fill.
    let r = ret(unsafe { libc::poll(v.as_mut_ptr(), v.len() as libc::nfds_t, timeout_ms) } as i64);
    (r, v.iter().map(|p| p.revents).collect())
}

/// `close(fd)`.
pub fn close(fd: i32) -> Ret {
    // SAFETY: the caller owns fd (a descriptor a script's call made).
    ret(unsafe { libc::close(fd) } as i64)
}

/// The kernel's `struct tcp_info` for `fd`, as bytes (as long as this
/// kernel's is).
pub fn tcp_info(fd: i32) -> Option<Vec<u8>> {
    let (r, b) = getsockopt(fd, libc::IPPROTO_TCP, libc::TCP_INFO, 512);
    (r.value == 0).then_some(b)
}

/// The errno names scripts use, with their numbers.
pub const ERRNOS: &[(&str, i32)] = &[
    ("EPERM", libc::EPERM),
    ("ENOENT", libc::ENOENT),
    ("EINTR", libc::EINTR),
    ("EBADF", libc::EBADF),
    ("EAGAIN", libc::EAGAIN),
    ("EWOULDBLOCK", libc::EWOULDBLOCK),
    ("ENOMEM", libc::ENOMEM),
    ("EFAULT", libc::EFAULT),
    ("EINVAL", libc::EINVAL),
    ("EPIPE", libc::EPIPE),
    ("ENOTSOCK", libc::ENOTSOCK),
    ("EMSGSIZE", libc::EMSGSIZE),
    ("ENOPROTOOPT", libc::ENOPROTOOPT),
    ("EOPNOTSUPP", libc::EOPNOTSUPP),
    ("EADDRINUSE", libc::EADDRINUSE),
    ("EADDRNOTAVAIL", libc::EADDRNOTAVAIL),
    ("ENETUNREACH", libc::ENETUNREACH),
    ("ECONNABORTED", libc::ECONNABORTED),
    ("ECONNRESET", libc::ECONNRESET),
    ("EISCONN", libc::EISCONN),
    ("ENOTCONN", libc::ENOTCONN),
    ("ETIMEDOUT", libc::ETIMEDOUT),
    ("ECONNREFUSED", libc::ECONNREFUSED),
    ("EHOSTUNREACH", libc::EHOSTUNREACH),
    ("EALREADY", libc::EALREADY),
    ("EINPROGRESS", libc::EINPROGRESS),
];

/// The name of errno `e` (`EAGAIN`), or its number.
pub fn errno_name(e: i32) -> String {
    ERRNOS
        .iter()
        .find(|(_, n)| *n == e)
        .map(|(s, _)| s.to_string())
        .unwrap_or_else(|| format!("errno {e}"))
}

/// The number of the errno called `name`.
pub fn errno_by_name(name: &str) -> Option<i32> {
    ERRNOS.iter().find(|(s, _)| *s == name).map(|(_, n)| *n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_and_errnos_come_back_as_they_are() {
        let fd = socket(libc::AF_INET, libc::SOCK_STREAM, libc::IPPROTO_TCP);
        assert!(fd.value >= 0);
        let fd = fd.value as i32;
        let r = send(fd, 10, 0);
        assert_eq!((r.value, errno_name(r.errno).as_str()), (-1, "EPIPE"));
        assert_eq!(
            setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_REUSEADDR,
                &1i32.to_ne_bytes()
            )
            .value,
            0
        );
        let (r, b) = getsockopt(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 4);
        assert_eq!((r.value, b), (0, 1i32.to_ne_bytes().to_vec()));
        assert_eq!(fcntl(fd, libc::F_GETFL, 0).value, libc::O_RDWR as i64);
        assert_eq!(close(fd).value, 0);
        assert_eq!(errno_name(close(fd).errno), "EBADF");
        assert_eq!(errno_by_name("EINPROGRESS"), Some(libc::EINPROGRESS));
    }
}
