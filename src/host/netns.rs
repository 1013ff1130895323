//! A private network namespace for `craft drill`: the calling thread (and
//! every thread and child it starts afterwards) leaves the host's network
//! for a fresh one whose `lo` is up with the MTU of an Ethernet link and no
//! segmentation offloads, so the kernel's segments are MSS-sized on the wire
//! as a script expects, not 64 KiB GSO packets.

use super::HostError;

const ETHTOOL_SGSO: u32 = 0x24;
const ETHTOOL_STSO: u32 = 0x1f;

#[repr(C)]
struct EthtoolValue {
    cmd: u32,
    data: u32,
}

#[repr(C)]
struct IfreqPtr {
    name: [u8; 16],
    data: *mut libc::c_void,
    _pad: [u8; 16],
}

#[repr(C)]
struct IfreqInt {
    name: [u8; 16],
    value: libc::c_int,
    _pad: [u8; 20],
}

fn ifname(n: &str) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[..n.len().min(15)].copy_from_slice(&n.as_bytes()[..n.len().min(15)]);
    a
}

fn last(context: &str) -> HostError {
    HostError::io(context.to_string(), std::io::Error::last_os_error())
}

/// Enters a new network namespace (needs CAP_SYS_ADMIN) and sets its `lo`
/// up with `mtu`, TSO and GSO off.
pub fn enter_private(mtu: i32) -> Result<(), HostError> {
    // SAFETY: unshare takes flags only; it changes this thread's namespace.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(last("unshare(CLONE_NEWNET)"));
    }
    prepare_lo(mtu)
}

/// Sets `lo` up with `mtu` and its segmentation offloads off.
pub fn prepare_lo(mtu: i32) -> Result<(), HostError> {
    // SAFETY: a plain datagram socket for interface ioctls.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(last("socket for interface ioctls"));
    }
    let result = (|| {
        let mut rq = IfreqInt {
            name: ifname("lo"),
            value: mtu,
            _pad: [0; 20],
        };
        // SAFETY: rq is a live ifreq-sized struct with the name and the MTU.
        if unsafe { libc::ioctl(fd, libc::SIOCSIFMTU, &mut rq) } != 0 {
            return Err(last("setting lo's MTU"));
        }
        // SAFETY: as above; SIOCGIFFLAGS writes the flags into value.
        if unsafe { libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut rq) } != 0 {
            return Err(last("reading lo's flags"));
        }
        rq.value |= libc::IFF_UP;
        // SAFETY: as above, the flags with IFF_UP.
        if unsafe { libc::ioctl(fd, libc::SIOCSIFFLAGS, &mut rq) } != 0 {
            return Err(last("setting lo up"));
        }
        for cmd in [ETHTOOL_STSO, ETHTOOL_SGSO] {
            let mut v = EthtoolValue { cmd, data: 0 };
            let mut rq = IfreqPtr {
                name: ifname("lo"),
                data: (&mut v as *mut EthtoolValue).cast(),
                _pad: [0; 16],
            };
            // SAFETY: rq points at v, a live ethtool_value for the kernel to read.
            if unsafe { libc::ioctl(fd, libc::SIOCETHTOOL, &mut rq) } != 0 {
                return Err(last("turning lo's TSO/GSO off"));
            }
        }
        Ok(())
    })();
    // SAFETY: fd is ours.
    unsafe { libc::close(fd) };
    result
}
