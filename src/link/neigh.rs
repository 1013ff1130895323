//! The neighbour's MAC for a destination on an interface other than `lo`:
//! the destination itself when a route says it is on-link, else the gateway,
//! looked up in the kernel's ARP table (`/proc/net/arp`, routes from
//! `/proc/net/route`). Pure parsing, so it is tested without a network.

use std::net::Ipv4Addr;

/// One IPv4 route of an interface: destination, mask, gateway (0 = on-link).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// Destination network.
    pub dest: Ipv4Addr,
    /// Netmask.
    pub mask: Ipv4Addr,
    /// Gateway, or 0.0.0.0 when the destination is on-link.
    pub gateway: Ipv4Addr,
}

/// `/proc/net/route` addresses are little-endian hex.
fn hex_addr(s: &str) -> Option<Ipv4Addr> {
    let v = u32::from_str_radix(s, 16).ok()?;
    Some(Ipv4Addr::from(v.swap_bytes()))
}

/// The routes of `iface` from the text of `/proc/net/route`.
pub fn parse_routes(text: &str, iface: &str) -> Vec<Route> {
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 8 || f[0] != iface {
                return None;
            }
            Some(Route {
                dest: hex_addr(f[1])?,
                gateway: hex_addr(f[2])?,
                mask: hex_addr(f[7])?,
            })
        })
        .collect()
}

/// The next hop for `dst`: the gateway of the longest matching route, or `dst` itself.
pub fn next_hop(routes: &[Route], dst: Ipv4Addr) -> Option<Ipv4Addr> {
    let d = u32::from(dst);
    routes
        .iter()
        .filter(|r| d & u32::from(r.mask) == u32::from(r.dest) & u32::from(r.mask))
        .max_by_key(|r| u32::from(r.mask).count_ones())
        .map(|r| {
            if r.gateway.is_unspecified() {
                dst
            } else {
                r.gateway
            }
        })
}

/// The MAC for `ip` on `iface` from the text of `/proc/net/arp` (complete entries only).
pub fn parse_arp(text: &str, iface: &str, ip: Ipv4Addr) -> Option<[u8; 6]> {
    text.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() < 6 || f[5] != iface || f[0].parse::<Ipv4Addr>().ok()? != ip {
            return None;
        }
        let flags = u32::from_str_radix(f[2].trim_start_matches("0x"), 16).ok()?;
        if flags & 0x2 == 0 {
            return None; // not complete
        }
        let mut mac = [0u8; 6];
        let parts: Vec<&str> = f[3].split(':').collect();
        if parts.len() != 6 {
            return None;
        }
        for (b, p) in mac.iter_mut().zip(parts) {
            *b = u8::from_str_radix(p, 16).ok()?;
        }
        Some(mac)
    })
}

/// The neighbour's MAC for sending to `dst` on `iface`, if the kernel knows it.
pub fn neighbour_mac(iface: &str, dst: Ipv4Addr) -> Option<[u8; 6]> {
    let routes = parse_routes(&std::fs::read_to_string("/proc/net/route").ok()?, iface);
    let hop = next_hop(&routes, dst)?;
    parse_arp(&std::fs::read_to_string("/proc/net/arp").ok()?, iface, hop)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTE: &str = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
        eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
        eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
    const ARP: &str = "IP address       HW type     Flags       HW address            Mask     Device\n\
        192.0.2.1        0x1         0x2         02:fc:00:00:00:05     *        eth0\n\
        192.0.2.9        0x1         0x0         00:00:00:00:00:00     *        eth0\n";

    #[test]
    fn on_link_goes_direct_the_rest_through_the_gateway() {
        let r = parse_routes(ROUTE, "eth0");
        assert_eq!(r.len(), 2);
        let gw = Ipv4Addr::new(192, 0, 2, 1);
        assert_eq!(
            next_hop(&r, Ipv4Addr::new(192, 0, 2, 77)),
            Some(Ipv4Addr::new(192, 0, 2, 77))
        );
        assert_eq!(next_hop(&r, Ipv4Addr::new(198, 51, 100, 1)), Some(gw));
        assert!(parse_routes(ROUTE, "eth1").is_empty());
        assert_eq!(parse_arp(ARP, "eth0", gw), Some([2, 0xfc, 0, 0, 0, 5]));
        assert_eq!(
            parse_arp(ARP, "eth0", Ipv4Addr::new(192, 0, 2, 9)),
            None,
            "incomplete entry"
        );
        assert_eq!(parse_arp(ARP, "eth1", gw), None);
        assert_eq!(parse_arp("garbage\n1 2 3\n", "eth0", gw), None);
    }
}
