//! Host preparation for crafted TCP on loopback, and its undoing.
//!
//! Why this exists (see LOOPBACK.md):
//!
//! 1. Frames injected through AF_PACKET on `lo` carry no route, so `ip_rcv`
//!    drops them silently unless `net.ipv4.conf.lo.route_localnet=1`
//!    (127/8 destination) and `accept_local=1` (local source) are set
//!    ([`sysctl`]).
//! 2. The peer's SYN-ACK reaches a port with no kernel socket, so the kernel
//!    answers RST before user space can ACK. An nftables rule on the output
//!    hook dropping RSTs from the crafted source port fixes that; crafted
//!    frames leave through AF_PACKET and never pass that hook ([`nft`]).
//! 3. The table is created with `flags owner` over our own netlink socket, so
//!    the kernel deletes it when the socket closes, even after `kill -9`.
//! 4. The source port is reserved with a bound kernel socket so no other
//!    program is handed it meanwhile ([`ports`]).
//!
//! [`HostGuard`] does all of this lazily on the first TCP port used on a
//! loopback interface, reports it in one line and undoes it on release/drop.
//! [`doctor_report`] checks each piece for `craft doctor`.

pub mod ksock;
pub mod netns;
pub mod nft;
pub mod ports;
pub mod rawsys;
pub mod sysctl;

#[cfg(test)]
mod testns;

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

pub use nft::RstGuard;
pub use ports::PortReservation;
pub use sysctl::SysctlLease;

/// Errors from preparing the host.
#[derive(Debug)]
#[non_exhaustive]
pub enum HostError {
    /// The operation needs CAP_NET_ADMIN (EPERM on the batch, or on /proc/sys).
    NeedsNetAdmin {
        /// What was being done.
        what: &'static str,
    },
    /// nf_tables is not available (EOPNOTSUPP on the batch).
    NfTablesMissing,
    /// nfnetlink is not available (`socket()` failed with EPROTONOSUPPORT).
    NfnetlinkMissing,
    /// A table of that name exists: held by another live owner socket
    /// (EPERM) or a plain table (EEXIST).
    TableExists {
        /// Table name (family inet).
        name: String,
        /// True when another process's owner socket holds it.
        owned_by_other: bool,
    },
    /// nf_tables refused a message.
    Netlink {
        /// What was being done.
        op: &'static str,
        /// Positive errno.
        errno: i32,
        /// The kernel's extended-ack message, if any.
        detail: Option<String>,
    },
    /// A reply that makes no sense, or a missing reply.
    Protocol(String),
    /// Another socket holds 127.0.0.1:port.
    PortInUse {
        /// The port.
        port: u16,
    },
    /// No such network interface.
    NoSuchInterface(String),
    /// A name that cannot be used (interface or table).
    InvalidName {
        /// What kind of name.
        what: &'static str,
        /// The name.
        name: String,
    },
    /// A state file craft cannot use.
    State {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// Another I/O failure.
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: io::Error,
    },
}

impl HostError {
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> HostError {
        HostError::Io {
            context: context.into(),
            source,
        }
    }

    /// True when the failure is a missing privilege (CAP_NET_ADMIN / root).
    pub fn is_permission(&self) -> bool {
        match self {
            HostError::NeedsNetAdmin { .. } => true,
            HostError::Netlink { errno, .. } => matches!(*errno, libc::EPERM | libc::EACCES),
            HostError::Io { source, .. } => source.kind() == io::ErrorKind::PermissionDenied,
            _ => false,
        }
    }
}

fn errno_name(errno: i32) -> String {
    io::Error::from_raw_os_error(errno).to_string()
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::NeedsNetAdmin { what } => write!(
                f,
                "{what} needs CAP_NET_ADMIN (run as root, or use --no-setup and prepare lo yourself)"
            ),
            HostError::NfTablesMissing => write!(
                f,
                "nf_tables is not available in this kernel: load it with `modprobe nf_tables` (or use --no-setup)"
            ),
            HostError::NfnetlinkMissing => write!(
                f,
                "nfnetlink is not available (socket(NETLINK_NETFILTER) failed with EPROTONOSUPPORT): \
                 load it with `modprobe nfnetlink nf_tables` (or use --no-setup)"
            ),
            HostError::TableExists {
                name,
                owned_by_other: true,
            } => write!(
                f,
                "nftables table inet {name} belongs to another running process (owner table); use another name"
            ),
            HostError::TableExists {
                name,
                owned_by_other: false,
            } => write!(
                f,
                "nftables table inet {name} already exists and was not made by this run; \
                 remove it with `nft delete table inet {name}`"
            ),
            HostError::Netlink { op, errno, detail } => {
                write!(f, "{op} failed: {}", errno_name(*errno))?;
                if let Some(d) = detail {
                    write!(f, " ({d})")?;
                }
                Ok(())
            }
            HostError::Protocol(m) => write!(f, "netlink: {m}"),
            HostError::PortInUse { port } => write!(
                f,
                "another program holds 127.0.0.1:{port}; the kernel may answer or reset segments for that port"
            ),
            HostError::NoSuchInterface(i) => write!(f, "no network interface named {i}"),
            HostError::InvalidName { what, name } => write!(f, "invalid {what} name {name:?}"),
            HostError::State { path, detail } => write!(f, "{}: {detail}", path.display()),
            HostError::Io { context, source } => write!(f, "{context}: {source}"),
        }
    }
}

impl std::error::Error for HostError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HostError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------
// Interface facts
// ---------------------------------------------------------------------------

const IFF_UP: u32 = 0x1;
const IFF_LOOPBACK: u32 = 0x8;

/// Interface flags (IFF_*), None if there is no such interface. Listed with
/// getifaddrs (netlink), so the answer is for this process's network namespace
/// (`/sys/class/net` shows the namespace sysfs was mounted in); falls back to
/// `/sys/class/net/<iface>/flags` when the list cannot be had.
pub fn iface_flags(iface: &str) -> Option<u32> {
    crate::link::iface::validate_name(iface).ok()?;
    if let Ok(f) = crate::link::iface::flags(iface) {
        return f;
    }
    let text = std::fs::read_to_string(format!("/sys/class/net/{iface}/flags")).ok()?;
    let t = text.trim();
    u32::from_str_radix(t.strip_prefix("0x").unwrap_or(t), 16).ok()
}

/// True for `lo` or any interface with IFF_LOOPBACK.
pub fn is_loopback(iface: &str) -> bool {
    iface == "lo" || iface_flags(iface).is_some_and(|f| f & IFF_LOOPBACK != 0)
}

/// Effective capabilities (CapEff of /proc/self/status).
fn cap_eff() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_capeff(&status)
}

pub(crate) fn parse_capeff(status: &str) -> Option<u64> {
    let line = status.lines().find_map(|l| l.strip_prefix("CapEff:"))?;
    u64::from_str_radix(line.trim(), 16).ok()
}

const CAP_NET_ADMIN: u32 = 12;
const CAP_NET_RAW: u32 = 13;

// ---------------------------------------------------------------------------
// HostGuard
// ---------------------------------------------------------------------------

static TABLE_COUNTER: AtomicU32 = AtomicU32::new(0);

/// A table name unique in this process: `craft_<pid>`, then `craft_<pid>_<n>`.
fn unique_table_name() -> String {
    let n = TABLE_COUNTER.fetch_add(1, Ordering::Relaxed);
    if n == 0 {
        format!("craft_{}", std::process::id())
    } else {
        format!("craft_{}_{n}", std::process::id())
    }
}

/// Prepares the host on first use of a TCP source port and undoes it all on
/// [`release`](HostGuard::release) or drop. Creating it does nothing.
#[derive(Debug)]
pub struct HostGuard {
    iface: String,
    setup: bool,
    loopback: Option<bool>,
    lease: Option<SysctlLease>,
    nft: Option<RstGuard>,
    /// Guarded ports and their reservation (None: reservation failed).
    ports: BTreeMap<u16, Option<PortReservation>>,
}

impl HostGuard {
    /// A guard for `iface`; `setup == false` (`--no-setup`) makes it inert.
    pub fn new(iface: &str, setup: bool) -> HostGuard {
        HostGuard {
            iface: iface.to_string(),
            setup,
            loopback: None,
            lease: None,
            nft: None,
            ports: BTreeMap::new(),
        }
    }

    fn wants_setup(&mut self) -> bool {
        if !self.setup {
            return false;
        }
        *self
            .loopback
            .get_or_insert_with(|| is_loopback(&self.iface))
    }

    /// Sysctl lease and RST table, once.
    fn ensure_base(&mut self, notes: &mut Vec<String>) -> Result<(), HostError> {
        if self.nft.is_some() {
            return Ok(());
        }
        let lease = match self.lease.take() {
            Some(l) => l,
            None => {
                let l = SysctlLease::acquire(&self.iface)?;
                notes.push(l.report());
                l
            }
        };
        // All or nothing: without the table, give the sysctls back too.
        let guard = RstGuard::new(&unique_table_name())?;
        self.lease = Some(lease);
        self.nft = Some(guard);
        Ok(())
    }

    /// Only the sysctls (no RST guard): for probes such as `craft syn` that
    /// want the kernel's RST to tear the half-open connection down.
    pub fn prepare_sysctls(&mut self) -> Result<Vec<String>, HostError> {
        let mut notes = Vec::new();
        if self.wants_setup() && self.lease.is_none() {
            let l = SysctlLease::acquire(&self.iface)?;
            notes.push(l.report());
            self.lease = Some(l);
        }
        Ok(notes)
    }

    /// Prepares the host without guarding a port (sysctls and the RST table),
    /// for frames that are not TCP. Does nothing with `setup == false` or on
    /// other interfaces.
    pub fn prepare_base(&mut self) -> Result<Vec<String>, HostError> {
        let mut notes = Vec::new();
        if self.wants_setup() {
            self.ensure_base(&mut notes)?;
        }
        Ok(notes)
    }

    /// True when a TCP source port is guarded already.
    pub fn is_guarded(&self, port: u16) -> bool {
        self.nft
            .as_ref()
            .is_some_and(|g| g.guarded_ports().contains(&port))
    }

    /// Restores sysctls left changed by a killed run (see
    /// [`sysctl::recover_stale`]); call at the start of a live run. Does
    /// nothing with `setup == false` or on other interfaces.
    pub fn recover_stale(&mut self) -> Result<Option<String>, HostError> {
        if !self.wants_setup() {
            return Ok(None);
        }
        sysctl::recover_stale(&self.iface)
    }

    /// Called before the first frame from TCP source `port` leaves: on a
    /// loopback interface, prepares the host (first call) and guards and
    /// reserves `port`. Returns notes for one line of output; a failed
    /// reservation is a `warning: ...` note, not an error. Does nothing with
    /// `setup == false` or on other interfaces.
    pub fn prepare_port(&mut self, port: u16) -> Result<Vec<String>, HostError> {
        self.prepare(port, None)
    }

    /// Like [`prepare_port`](Self::prepare_port) for a port the caller has
    /// already reserved; the guard keeps the reservation until release.
    pub fn prepare_reserved(
        &mut self,
        reservation: PortReservation,
    ) -> Result<Vec<String>, HostError> {
        let port = reservation.port();
        self.prepare(port, Some(reservation))
    }

    /// Picks a free port (reserved even with `setup == false`: that changes
    /// nothing on the host), then prepares it. Returns the port and notes.
    pub fn prepare_ephemeral(&mut self) -> Result<(u16, Vec<String>), HostError> {
        let r = ports::reserve_ephemeral()?;
        let port = r.port();
        if !self.wants_setup() {
            self.ports.insert(port, Some(r));
            return Ok((port, Vec::new()));
        }
        Ok((port, self.prepare(port, Some(r))?))
    }

    fn prepare(
        &mut self,
        port: u16,
        held: Option<PortReservation>,
    ) -> Result<Vec<String>, HostError> {
        if !self.wants_setup() {
            return Ok(Vec::new());
        }
        let mut notes = Vec::new();
        if self
            .nft
            .as_ref()
            .is_some_and(|g| g.guarded_ports().contains(&port))
        {
            // Already guarded; keep a reservation handed in if we hold none.
            if let Some(r) = held
                && self.ports.get(&port).is_none_or(|r| r.is_none())
            {
                self.ports.insert(port, Some(r));
            }
            return Ok(notes);
        }
        self.ensure_base(&mut notes)?;
        let nft = self.nft.as_mut().expect("set by ensure_base");
        nft.guard_port(port)?;
        notes.push(format!(
            "nftables table inet {} drops kernel RSTs from tcp sport {port}",
            nft.table_name()
        ));
        let reservation = match held.or_else(|| self.ports.remove(&port).flatten()) {
            Some(r) => Some(r),
            None => match ports::reserve(port) {
                Ok(r) => {
                    notes.push(format!("reserved 127.0.0.1:{port}"));
                    Some(r)
                }
                Err(e) => {
                    notes.push(format!("warning: {e}"));
                    None
                }
            },
        };
        self.ports.insert(port, reservation);
        Ok(notes)
    }

    /// One line describing what is prepared, or None if nothing is.
    pub fn summary(&self) -> Option<String> {
        let nft = self.nft.as_ref()?;
        let vals = sysctl::read_current(&self.iface).ok();
        let show = |v: Option<i64>| v.map_or("?".to_string(), |v| v.to_string());
        let ports: Vec<String> = nft.guarded_ports().iter().map(|p| p.to_string()).collect();
        let rules = if ports.is_empty() {
            format!("nftables table {} ready", nft.table_name())
        } else {
            format!(
                "nftables table {} drops kernel RSTs from tcp sport {}",
                nft.table_name(),
                ports.join(",")
            )
        };
        Some(format!(
            "craft: prepared {} (route_localnet={}, accept_local={}, {rules}); undone on exit",
            self.iface,
            show(vals.map(|v| v.route_localnet)),
            show(vals.map(|v| v.accept_local)),
        ))
    }

    /// The guarded ports, ascending.
    pub fn guarded_ports(&self) -> Vec<u16> {
        self.nft
            .as_ref()
            .map(|g| g.guarded_ports())
            .unwrap_or_default()
    }

    /// Undoes everything (table, reservations, sysctls); idempotent. Returns
    /// warnings for anything that could not be undone.
    /// Removes the RST guard's table now (a quick batch) and hands over its
    /// owner socket, whose close still waits for the kernel (tens of ms),
    /// for a process that can afford to wait.
    pub fn take_guard_socket(&mut self) -> Option<std::os::fd::OwnedFd> {
        self.nft.take().map(RstGuard::delete_into_socket)
    }

    pub fn release(&mut self) -> Vec<String> {
        let mut warnings = Vec::new();
        self.nft = None; // closing the socket deletes the owner table
        self.ports.clear();
        if let Some(lease) = self.lease.take()
            && let Err(e) = lease.release()
        {
            warnings.push(format!("warning: restoring {} sysctls: {e}", self.iface));
        }
        warnings
    }
}

impl Drop for HostGuard {
    fn drop(&mut self) {
        let _ = self.release();
    }
}

// ---------------------------------------------------------------------------
// Doctor
// ---------------------------------------------------------------------------

/// One line of `craft doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Short name of what is checked.
    pub name: String,
    /// True when this is no obstacle.
    pub ok: bool,
    /// What was found.
    pub detail: String,
    /// How to fix it, when not ok.
    pub fix: Option<String>,
}

fn check(name: &str, ok: bool, detail: String, fix: Option<String>) -> Check {
    Check {
        name: name.to_string(),
        ok,
        detail,
        fix: if ok { None } else { fix },
    }
}

/// Whether IPv6 frames injected on loopback `iface` are answered: the
/// kernel has IPv6, it is enabled on `iface`, and `iface` holds ::1 (no
/// sysctl beyond that is needed, unlike IPv4's route_localnet/accept_local).
fn ipv6_check(iface: &str) -> Check {
    let fix = Some(format!(
        "sudo sysctl -w net.ipv6.conf.{iface}.disable_ipv6=0 (and ip link set {iface} up, which adds ::1)"
    ));
    let disabled = std::fs::read_to_string(format!("/proc/sys/net/ipv6/conf/{iface}/disable_ipv6"));
    let (ok, detail) = match disabled.as_deref().map(str::trim) {
        Err(_) => (
            false,
            "the kernel has no IPv6 (booted with ipv6.disable=1?): IPv6 frames go unanswered"
                .to_string(),
        ),
        Ok("0") => {
            // /proc/net/if_inet6: address in 32 hex digits, ..., interface name.
            let has = std::fs::read_to_string("/proc/net/if_inet6").is_ok_and(|t| {
                t.lines().any(|l| {
                    let f: Vec<&str> = l.split_whitespace().collect();
                    f.first() == Some(&"00000000000000000000000000000001")
                        && f.last() == Some(&iface)
                })
            });
            if has {
                (true, format!("enabled on {iface}, which holds ::1"))
            } else {
                (
                    false,
                    format!("enabled, but {iface} holds no ::1: IPv6 frames to ::1 go unanswered"),
                )
            }
        }
        Ok(v) => (
            false,
            format!("net.ipv6.conf.{iface}.disable_ipv6={v}: IPv6 frames go unanswered"),
        ),
    };
    check("ipv6", ok, detail, fix)
}

/// Checks everything between the user and a working raw socket on `iface`.
/// Changes nothing except creating and dropping a test owner table.
pub fn doctor_report(iface: &str) -> Vec<Check> {
    let mut out = Vec::new();
    let caps = cap_eff();
    let setcap = "run as root, or `sudo setcap cap_net_raw,cap_net_admin+ep $(command -v craft)`"
        .to_string();
    for (name, bit, why) in [
        (
            "CAP_NET_RAW",
            CAP_NET_RAW,
            "needed to open AF_PACKET sockets",
        ),
        (
            "CAP_NET_ADMIN",
            CAP_NET_ADMIN,
            "needed to prepare lo (sysctls, nftables)",
        ),
    ] {
        let have = caps.is_some_and(|c| c & (1u64 << bit) != 0);
        out.push(check(
            name,
            have,
            if have {
                "in the effective set".to_string()
            } else {
                format!("missing from the effective set ({why})")
            },
            Some(setcap.clone()),
        ));
    }
    let has_admin = caps.is_some_and(|c| c & (1u64 << CAP_NET_ADMIN) != 0);

    let flags = iface_flags(iface);
    let up = flags.is_some_and(|f| f & IFF_UP != 0);
    out.push(check(
        "interface",
        up,
        match flags {
            None => format!("{iface} does not exist"),
            Some(_) if up => format!("{iface} exists and is up"),
            Some(_) => format!("{iface} is down"),
        },
        Some(if flags.is_none() {
            "pick an existing interface with --iface (see `ip link`)".to_string()
        } else {
            format!("ip link set {iface} up")
        }),
    ));
    if flags.is_none() {
        return out;
    }
    let loopback = is_loopback(iface);
    if loopback {
        match sysctl::read_current(iface) {
            Ok(v) => {
                for name in sysctl::NAMES {
                    let val = if name == "route_localnet" {
                        v.route_localnet
                    } else {
                        v.accept_local
                    };
                    let ok = val == 1 || has_admin;
                    let detail = if val == 1 {
                        format!("net.ipv4.conf.{iface}.{name}=1")
                    } else if has_admin {
                        format!(
                            "net.ipv4.conf.{iface}.{name}={val}; craft sets it to 1 during a run and restores it"
                        )
                    } else {
                        format!(
                            "net.ipv4.conf.{iface}.{name}={val}: frames injected on {iface} are dropped"
                        )
                    };
                    out.push(check(
                        name,
                        ok,
                        detail,
                        Some(format!(
                            "run craft as root, or `sudo sysctl -w net.ipv4.conf.{iface}.{name}=1` and use --no-setup"
                        )),
                    ));
                }
            }
            Err(e) => out.push(check("sysctls", false, e.to_string(), None)),
        }
        out.push(ipv6_check(iface));
        let name = format!("craft_doctor_{}", std::process::id());
        let r = RstGuard::new(&name).and_then(|mut g| g.guard_port(9));
        out.push(check(
            "nf_tables",
            r.is_ok(),
            match &r {
                Ok(()) => "an owner table with an RST rule can be created".to_string(),
                Err(e) => e.to_string(),
            },
            Some(match &r {
                Err(HostError::NfTablesMissing) | Err(HostError::NfnetlinkMissing) => {
                    "modprobe nf_tables".to_string()
                }
                _ => {
                    "run as root, or use --no-setup and drop the kernel's RSTs yourself".to_string()
                }
            }),
        ));
        match sysctl::state_status(iface) {
            Ok(None) => out.push(check(
                "state",
                true,
                "no craft sysctl state pending".to_string(),
                None,
            )),
            Ok(Some(sysctl::StateStatus {
                originals: orig,
                live,
                dead,
            })) => {
                let ok = !live.is_empty();
                let pids = |v: &[sysctl::Owner]| {
                    v.iter()
                        .map(|o| o.pid.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                out.push(check(
                    "state",
                    ok,
                    if ok {
                        format!("sysctls leased by running craft pid {}", pids(&live))
                    } else {
                        format!(
                            "left by a killed craft run (pid {}): originals route_localnet={}, accept_local={}",
                            pids(&dead),
                            orig.route_localnet,
                            orig.accept_local
                        )
                    },
                    Some(format!(
                        "the next live craft run restores them; or by hand: \
                         sysctl -w net.ipv4.conf.{iface}.route_localnet={} net.ipv4.conf.{iface}.accept_local={}",
                        orig.route_localnet, orig.accept_local
                    )),
                ));
            }
            Err(e) => out.push(check("state", false, e.to_string(), None)),
        }
    }
    match nft::list_tables() {
        Ok(tables) => {
            let ours: Vec<&nft::TableInfo> = tables
                .iter()
                .filter(|t| t.name.starts_with("craft_") && !t.name.starts_with("craft_doctor_"))
                .collect();
            let leftover: Vec<&&nft::TableInfo> = ours.iter().filter(|t| !t.is_owned()).collect();
            let ok = leftover.is_empty();
            let detail = if ours.is_empty() {
                "no craft_* nftables tables".to_string()
            } else if ok {
                let names: Vec<&str> = ours.iter().map(|t| t.name.as_str()).collect();
                format!("owned by running craft processes: {}", names.join(", "))
            } else {
                let names: Vec<String> = leftover
                    .iter()
                    .map(|t| format!("{} {}", t.family_name(), t.name))
                    .collect();
                format!("leftover tables without an owner: {}", names.join(", "))
            };
            let fix = leftover
                .iter()
                .map(|t| format!("nft delete table {} {}", t.family_name(), t.name))
                .collect::<Vec<_>>()
                .join("; ");
            out.push(check("leftover tables", ok, detail, Some(fix)));
        }
        Err(e) => out.push(check(
            "leftover tables",
            !loopback && !e.is_permission(),
            format!("cannot list nftables tables: {e}"),
            Some("run as root".to_string()),
        )),
    }
    out
}

#[cfg(test)]
mod tests;
