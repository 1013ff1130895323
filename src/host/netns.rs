//! A private network namespace for `craft drill`: the calling thread (and
//! every thread and child it starts afterwards) leaves the host's network
//! for a fresh one whose `lo` is up. `lo` keeps its 64 KiB MTU (so large
//! inbound segments can be injected, as a GRO'd packet would arrive) and its
//! segmentation offloads (the kernel's packets are seen before segmentation,
//! as packetdrill sees them on its tun device); the route to 127/8 carries
//! the path MTU a script expects instead (1500 by default: MSS 1460), and
//! the address the kernel sends from (127.1.0.1, packetdrill's local one).

use super::HostError;

#[repr(C)]
struct IfreqFlags {
    name: [u8; 16],
    flags: libc::c_short,
    _pad: [u8; 22],
}

fn ifname(n: &str) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[..n.len().min(15)].copy_from_slice(&n.as_bytes()[..n.len().min(15)]);
    a
}

fn last(context: &str) -> HostError {
    HostError::io(context.to_string(), std::io::Error::last_os_error())
}

/// Enters a new network namespace (needs CAP_SYS_ADMIN), sets its `lo`
/// up, and routes 127/8 with path MTU `mtu` from `src` (with `ip route`).
pub fn enter_private(mtu: i32, src: std::net::Ipv4Addr) -> Result<(), HostError> {
    // SAFETY: unshare takes flags only; it changes this thread's namespace.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(last("unshare(CLONE_NEWNET)"));
    }
    lo_up()?;
    let route = format!(
        "local 127.0.0.0/8 dev lo table local proto kernel scope host src {src} mtu lock {mtu} advmss {}",
        mtu - 40
    );
    let out = std::process::Command::new("ip")
        .args(["route", "replace"])
        .args(route.split(' '))
        .output()
        .map_err(|e| HostError::io("running ip route", e))?;
    if !out.status.success() {
        return Err(HostError::io(
            format!("ip route replace {route}"),
            std::io::Error::other(String::from_utf8_lossy(&out.stderr).trim().to_string()),
        ));
    }
    Ok(())
}

/// A `tun0` device (packetdrill's), which scripts' setup commands expect
/// to find (`tc qdisc add dev tun0 ...`); it carries nothing and lasts
/// while the returned descriptor is open.
pub fn tun0() -> Result<std::os::fd::OwnedFd, HostError> {
    use std::os::fd::{FromRawFd, OwnedFd};
    const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
    let path = c"/dev/net/tun";
    // SAFETY: a valid C string path; a new descriptor or -1.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(last("opening /dev/net/tun"));
    }
    // SAFETY: fd was just opened and is owned here alone.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut rq = IfreqFlags {
        name: ifname("tun0"),
        flags: (libc::IFF_TUN | libc::IFF_NO_PI) as libc::c_short,
        _pad: [0; 22],
    };
    // SAFETY: rq is a live ifreq-sized struct with the name and ifr_flags.
    if unsafe { libc::ioctl(fd, TUNSETIFF, &mut rq) } != 0 {
        return Err(last("creating tun0"));
    }
    Ok(owned)
}

/// Sets `lo` up.
pub fn lo_up() -> Result<(), HostError> {
    // SAFETY: a plain datagram socket for interface ioctls.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(last("socket for interface ioctls"));
    }
    let result = (|| {
        let mut fl = IfreqFlags {
            name: ifname("lo"),
            flags: 0,
            _pad: [0; 22],
        };
        // SAFETY: fl is a live ifreq-sized struct; SIOCGIFFLAGS writes ifr_flags.
        if unsafe { libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut fl) } != 0 {
            return Err(last("reading lo's flags"));
        }
        fl.flags |= libc::IFF_UP as libc::c_short;
        // SAFETY: as above, the flags with IFF_UP.
        if unsafe { libc::ioctl(fd, libc::SIOCSIFFLAGS, &mut fl) } != 0 {
            return Err(last("setting lo up"));
        }
        Ok(())
    })();
    // SAFETY: fd is ours.
    unsafe { libc::close(fd) };
    result
}
