//! Network interface facts (index, MTU, MAC, IPv4 address, flags), read with
//! `SIOCGIF*` ioctls on a plain UDP socket: no privileges needed.

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::link::LinkError;

/// `ARPHRD_ETHER`: the interface carries Ethernet frames.
pub const ARPHRD_ETHER: u16 = 1;
/// `ARPHRD_LOOPBACK`: `lo` (Ethernet header with zero addresses).
pub const ARPHRD_LOOPBACK: u16 = 772;

/// What the kernel knows about one network interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// The name, e.g. `lo` or `eth0`.
    pub name: String,
    /// The interface index (`ifindex`).
    pub index: u32,
    /// The MTU in bytes (65536 on `lo`).
    pub mtu: u32,
    /// The hardware address (all zero on `lo`).
    pub mac: [u8; 6],
    /// The first IPv4 address, if any.
    pub ipv4: Option<Ipv4Addr>,
    /// `IFF_LOOPBACK` is set.
    pub is_loopback: bool,
    /// `IFF_UP` is set.
    pub is_up: bool,
    /// The `ARPHRD_*` hardware type: [`ARPHRD_ETHER`], [`ARPHRD_LOOPBACK`], ...
    pub hw_type: u16,
}

impl Interface {
    /// Looks up an interface by name in the current network namespace.
    pub fn by_name(name: &str) -> Result<Interface, LinkError> {
        check_name(name)?;
        let sock = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        if sock < 0 {
            return Err(LinkError::from_os(
                "open a socket to query interfaces",
                io::Error::last_os_error(),
            ));
        }
        // SAFETY: socket() returned a fresh descriptor that we own.
        let sock = unsafe { OwnedFd::from_raw_fd(sock) };
        let fd = sock.as_raw_fd();

        let index = ioctl(fd, name, libc::SIOCGIFINDEX, "index")
            .map(|r| unsafe { r.ifr_ifru.ifru_ifindex } as u32)?;
        let mtu = ioctl(fd, name, libc::SIOCGIFMTU, "MTU")
            .map(|r| unsafe { r.ifr_ifru.ifru_mtu }.max(0) as u32)?;
        let flags = ioctl(fd, name, libc::SIOCGIFFLAGS, "flags")
            .map(|r| unsafe { r.ifr_ifru.ifru_flags } as u16 as i32)?;
        let (mac, hw_type) = ioctl(fd, name, libc::SIOCGIFHWADDR, "hardware address").map(|r| {
            let sa = unsafe { r.ifr_ifru.ifru_hwaddr };
            let mut mac = [0u8; 6];
            for (m, c) in mac.iter_mut().zip(sa.sa_data.iter()) {
                *m = *c as u8;
            }
            (mac, sa.sa_family)
        })?;
        let ipv4 = match ioctl(fd, name, libc::SIOCGIFADDR, "IPv4 address") {
            Ok(r) => {
                let sa = unsafe { r.ifr_ifru.ifru_addr };
                if sa.sa_family as i32 == libc::AF_INET {
                    // sockaddr_in: port (2 bytes) then the address (4 bytes).
                    let d = &sa.sa_data;
                    Some(Ipv4Addr::new(
                        d[2] as u8, d[3] as u8, d[4] as u8, d[5] as u8,
                    ))
                } else {
                    None
                }
            }
            Err(LinkError::Io { source, .. })
                if source.raw_os_error() == Some(libc::EADDRNOTAVAIL) =>
            {
                None
            }
            Err(e) => return Err(e),
        };
        Ok(Interface {
            name: name.to_string(),
            index,
            mtu,
            mac,
            ipv4,
            is_loopback: flags & libc::IFF_LOOPBACK != 0,
            is_up: flags & libc::IFF_UP != 0,
            hw_type,
        })
    }

    /// Names of all interfaces in the current network namespace, by index.
    pub fn names() -> io::Result<Vec<String>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir("/sys/class/net")? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            out.push(name);
        }
        out.sort_by_key(|n| Interface::by_name(n).map(|i| i.index).unwrap_or(u32::MAX));
        Ok(out)
    }

    /// The MAC address as `aa:bb:cc:dd:ee:ff`.
    pub fn mac_string(&self) -> String {
        let m = self.mac;
        format!(
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

/// Refuses names the kernel could never accept, with a reason.
fn check_name(name: &str) -> Result<(), LinkError> {
    let reason = if name.is_empty() {
        "empty"
    } else if name.len() >= libc::IFNAMSIZ {
        "longer than 15 bytes"
    } else if name
        .bytes()
        .any(|b| b == 0 || b == b'/' || b.is_ascii_whitespace())
    {
        "contains NUL, '/' or whitespace"
    } else {
        return Ok(());
    };
    Err(LinkError::BadInterfaceName {
        name: name.to_string(),
        reason,
    })
}

/// Runs one `SIOCGIF*` ioctl for `name` (already checked by `check_name`).
fn ioctl(fd: i32, name: &str, req: libc::c_ulong, what: &str) -> Result<libc::ifreq, LinkError> {
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in ifr.ifr_name.iter_mut().zip(name.bytes()) {
        *dst = src as libc::c_char;
    }
    // SAFETY: fd is a valid socket and ifr a properly sized ifreq.
    let rc = unsafe { libc::ioctl(fd, req as _, &mut ifr) };
    if rc < 0 {
        let err = io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::ENODEV) {
            return Err(LinkError::NoSuchInterface {
                name: name.to_string(),
            });
        }
        return Err(LinkError::from_os(
            format!("read the {what} of interface {name}"),
            err,
        ));
    }
    Ok(ifr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_facts() {
        let lo = Interface::by_name("lo").expect("lo exists");
        assert_eq!(lo.name, "lo");
        assert!(lo.index >= 1);
        assert!(lo.is_loopback);
        assert_eq!(lo.mac, [0; 6]);
        assert_eq!(lo.hw_type, ARPHRD_LOOPBACK);
        assert!(lo.mtu >= 1500, "lo mtu {}", lo.mtu);
        if lo.is_up {
            assert_eq!(lo.ipv4, Some(Ipv4Addr::LOCALHOST));
        }
        assert_eq!(lo.mac_string(), "00:00:00:00:00:00");
        assert!(Interface::names().unwrap().contains(&"lo".to_string()));
    }

    #[test]
    fn unknown_interface_is_named() {
        let e = Interface::by_name("nosuchif0").unwrap_err();
        assert!(matches!(e, LinkError::NoSuchInterface { .. }), "{e:?}");
        assert!(e.to_string().contains("\"nosuchif0\""), "{e}");
        assert!(!e.is_permission());
    }

    #[test]
    fn bad_names_refused() {
        for bad in ["", "a/b", "way-too-long-name0", "a\0b", "a b"] {
            let e = Interface::by_name(bad).unwrap_err();
            assert!(
                matches!(e, LinkError::BadInterfaceName { .. }),
                "{bad:?}: {e:?}"
            );
        }
    }
}
