//! Network interface facts (index, MTU, MAC, IPv4 address, flags) and the
//! kernel's rule for interface names.
//!
//! Discovery is `pnet_datalink::interfaces()` (getifaddrs: index, MAC,
//! addresses, flags, all for this process's network namespace). It lacks the
//! MTU and the `ARPHRD_*` hardware type, so those two are asked with
//! `SIOCGIFMTU` and `SIOCGIFHWADDR` ioctls on a plain UDP socket: no privileges
//! needed.

use std::io;
use std::net::{IpAddr, Ipv4Addr};
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
        validate_name(name)?;
        let found = all()?.into_iter().find(|i| i.name == name);
        let Some(ni) = found else {
            return Err(LinkError::NoSuchInterface {
                name: name.to_string(),
            });
        };
        let (mtu, hw_type) = mtu_and_hw_type(name)?;
        Ok(Interface {
            name: ni.name.clone(),
            index: ni.index,
            mtu,
            mac: ni.mac.map_or([0; 6], |m| m.octets()),
            ipv4: ni.ips.iter().find_map(|n| match n.ip() {
                IpAddr::V4(a) => Some(a),
                IpAddr::V6(_) => None,
            }),
            is_loopback: ni.is_loopback(),
            is_up: ni.is_up(),
            hw_type,
        })
    }

    /// Names of all interfaces in the current network namespace, by index.
    pub fn names() -> io::Result<Vec<String>> {
        let mut all = all().map_err(io::Error::from)?;
        all.sort_by_key(|i| i.index);
        Ok(all.into_iter().map(|i| i.name).collect())
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

/// The `IFF_*` flags of interface `name`; `Ok(None)` if there is none by that
/// name (or the name is invalid) in this network namespace.
pub fn flags(name: &str) -> Result<Option<u32>, LinkError> {
    if validate_name(name).is_err() {
        return Ok(None);
    }
    Ok(all()?.into_iter().find(|i| i.name == name).map(|i| i.flags))
}

/// Every interface of this network namespace, as pnet_datalink lists them.
/// The list always holds `lo`, so an empty one means getifaddrs failed.
fn all() -> Result<Vec<pnet_datalink::NetworkInterface>, LinkError> {
    let all = pnet_datalink::interfaces();
    if all.is_empty() {
        return Err(LinkError::from_os(
            "list the network interfaces (getifaddrs)",
            io::Error::last_os_error(),
        ));
    }
    Ok(all)
}

/// Checks `name` against the kernel's rule for interface names
/// (`dev_valid_name`): not empty, shorter than `IFNAMSIZ` (16) bytes, not `.`
/// or `..`, and no NUL, `/`, `:` or whitespace. Errors say which rule.
pub fn validate_name(name: &str) -> Result<(), LinkError> {
    let reason = if name.is_empty() {
        "empty"
    } else if name.len() >= libc::IFNAMSIZ {
        "longer than 15 bytes"
    } else if name == "." || name == ".." {
        "'.' and '..' are not interface names"
    } else if name
        .bytes()
        // The kernel's isspace() also counts \v (0x0b), Rust's does not.
        .any(|b| b == 0 || b == b'/' || b == b':' || b.is_ascii_whitespace() || b == 0x0b)
    {
        "contains NUL, '/', ':' or whitespace"
    } else {
        return Ok(());
    };
    Err(LinkError::BadInterfaceName {
        name: name.to_string(),
        reason,
    })
}

/// The MTU and `ARPHRD_*` type of `name` (valid), which pnet_datalink lacks.
fn mtu_and_hw_type(name: &str) -> Result<(u32, u16), LinkError> {
    // SAFETY: socket() takes no pointers; the result is checked below.
    let sock = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if sock < 0 {
        return Err(LinkError::from_os(
            "open a socket to query interfaces",
            io::Error::last_os_error(),
        ));
    }
    // SAFETY: socket() returned a fresh descriptor that nothing else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(sock) };
    let fd = sock.as_raw_fd();
    let mtu = ioctl(fd, name, libc::SIOCGIFMTU, "MTU").map(|r| {
        // SAFETY: SIOCGIFMTU succeeded, so the kernel wrote ifru_mtu; any
        // bit pattern is a valid c_int.
        let mtu = unsafe { r.ifr_ifru.ifru_mtu };
        mtu.max(0) as u32
    })?;
    let hw_type = ioctl(fd, name, libc::SIOCGIFHWADDR, "hardware type").map(|r| {
        // SAFETY: SIOCGIFHWADDR succeeded, so the kernel wrote ifru_hwaddr, a
        // sockaddr of plain integers (any bit pattern is valid).
        let sa = unsafe { r.ifr_ifru.ifru_hwaddr };
        sa.sa_family
    })?;
    Ok((mtu, hw_type))
}

/// Runs one `SIOCGIF*` ioctl for `name` (already checked by [`validate_name`]).
fn ioctl(fd: i32, name: &str, req: libc::c_ulong, what: &str) -> Result<libc::ifreq, LinkError> {
    // SAFETY: ifreq is plain old data (integers, arrays and unions of them);
    // all-zero is a valid value.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    // The name is under 16 bytes, so the zeroed last byte stays its NUL.
    for (dst, src) in ifr.ifr_name.iter_mut().zip(name.bytes()) {
        *dst = src as libc::c_char;
    }
    // SAFETY: fd is an open socket, and `ifr` a live, properly sized ifreq
    // with a NUL-terminated name: what these SIOCGIF* requests read and write.
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
        let f = flags("lo").unwrap().expect("lo has flags");
        assert_ne!(f & libc::IFF_LOOPBACK as u32, 0);
        assert_eq!(f & libc::IFF_UP as u32 != 0, lo.is_up);
        assert_eq!(flags("nosuchif0").unwrap(), None);
        assert_eq!(flags("../lo").unwrap(), None);
    }

    #[test]
    fn unknown_interface_is_named() {
        let e = Interface::by_name("nosuchif0").unwrap_err();
        assert!(matches!(e, LinkError::NoSuchInterface { .. }), "{e:?}");
        assert!(e.to_string().contains("\"nosuchif0\""), "{e}");
        assert!(!e.is_permission());
    }

    #[test]
    fn names_follow_the_kernels_rule() {
        for good in [
            "lo",
            "eth0",
            "veth-craft.1",
            "a",
            "fifteen-bytes-x",
            "wlp0s20f3",
            "ünï",
        ] {
            assert!(validate_name(good).is_ok(), "{good:?}");
        }
        for (bad, why) in [
            ("", "empty"),
            ("sixteen-bytes-xx", "longer"),
            ("ünïcödé-lööng", "longer"),
            (".", "'.'"),
            ("..", "'.'"),
            ("a/b", "'/'"),
            ("a:1", "':'"),
            ("a b", "whitespace"),
            ("a\tb", "whitespace"),
            ("a\nb", "whitespace"),
            ("a\u{0b}b", "whitespace"),
            ("a\0b", "NUL"),
        ] {
            match validate_name(bad) {
                Err(LinkError::BadInterfaceName { name, reason }) => {
                    assert_eq!(name, bad);
                    assert!(reason.contains(why), "{bad:?}: {reason}");
                }
                other => panic!("{bad:?} accepted: {other:?}"),
            }
        }
        assert!(validate_name("...").is_ok(), "only . and .. are special");
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
