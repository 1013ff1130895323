//! The loopback sysctls `net.ipv4.conf.<iface>.route_localnet` and
//! `accept_local` (LOOPBACK.md §1), shared safely between concurrent craft
//! runs and recovered after a `kill -9`.
//!
//! Several craft processes may run at once in one network namespace, so the
//! values found before the first run are kept in a state file under
//! `/run/craft/` (or `$TMPDIR/craft-<uid>/` when `/run` is not writable; the
//! `CRAFT_STATE_DIR` environment variable overrides both), keyed by the network
//! namespace inode and the interface. The file lists the live owners as
//! `pid starttime` (field 22 of `/proc/<pid>/stat`, so a reused pid is not
//! mistaken for a live owner), and the namespace cookie (`SO_NETNS_COOKIE`),
//! so a file left in a destroyed namespace is never applied to a new one that
//! got the same inode. Every read-modify-write holds an exclusive
//! `flock` on `<dir>/lock`. The last owner to leave restores the originals and
//! deletes the file; a run killed with `-9` leaves a file without live owners,
//! which [`recover_stale`] (or the next [`SysctlLease::acquire`]) deals with.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::HostError;

/// The two sysctls craft sets to 1 on a loopback interface.
pub const NAMES: [&str; 2] = ["route_localnet", "accept_local"];

/// Current values of the two loopback sysctls of one interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SysctlValues {
    /// `net.ipv4.conf.<iface>.route_localnet`
    pub route_localnet: i64,
    /// `net.ipv4.conf.<iface>.accept_local`
    pub accept_local: i64,
}

impl SysctlValues {
    fn get(&self, name: &str) -> i64 {
        if name == "route_localnet" {
            self.route_localnet
        } else {
            self.accept_local
        }
    }
}

/// Refuses a name the kernel could never give an interface (it would also
/// name a path outside `/proc/sys/net/ipv4/conf`).
fn check_iface(iface: &str) -> Result<(), HostError> {
    crate::link::iface::validate_name(iface).map_err(|_| HostError::InvalidName {
        what: "interface",
        name: iface.to_string(),
    })
}

/// `/proc/sys/net/ipv4/conf/<iface>/<name>`
pub fn sysctl_path(iface: &str, name: &str) -> PathBuf {
    Path::new("/proc/sys/net/ipv4/conf").join(iface).join(name)
}

fn read_one(iface: &str, name: &str) -> Result<i64, HostError> {
    let path = sysctl_path(iface, name);
    let text = fs::read_to_string(&path).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            HostError::NoSuchInterface(iface.to_string())
        } else {
            HostError::io(format!("reading {}", path.display()), e)
        }
    })?;
    text.trim().parse::<i64>().map_err(|_| {
        HostError::Protocol(format!(
            "{} holds {:?}, not a number",
            path.display(),
            text.trim()
        ))
    })
}

fn write_one(iface: &str, name: &str, value: i64) -> Result<(), HostError> {
    let path = sysctl_path(iface, name);
    let r = OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|mut f| f.write_all(format!("{value}\n").as_bytes()));
    r.map_err(|e| match e.raw_os_error() {
        Some(libc::EACCES) | Some(libc::EPERM) | Some(libc::EROFS) => HostError::NeedsNetAdmin {
            what: "setting the loopback sysctls",
        },
        Some(libc::ENOENT) => HostError::NoSuchInterface(iface.to_string()),
        _ => HostError::io(format!("writing {value} to {}", path.display()), e),
    })
}

/// Reads `route_localnet` and `accept_local` of `iface` (for `craft doctor`).
pub fn read_current(iface: &str) -> Result<SysctlValues, HostError> {
    check_iface(iface)?;
    Ok(SysctlValues {
        route_localnet: read_one(iface, "route_localnet")?,
        accept_local: read_one(iface, "accept_local")?,
    })
}

// ---------------------------------------------------------------------------
// Owners and state file
// ---------------------------------------------------------------------------

/// A process, identified by pid and start time (clock ticks since boot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    /// Process id.
    pub pid: u32,
    /// Field 22 of `/proc/<pid>/stat`.
    pub start: u64,
}

/// Field 22 (starttime) of a `/proc/<pid>/stat` line. The command name may
/// hold spaces and parentheses, so fields are counted after the last `)`.
pub(crate) fn parse_stat_starttime(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // After ')' come fields 3 (state), 4, ...: field 22 is the 20th.
    rest.split_whitespace().nth(19)?.parse().ok()
}

fn start_time(pid: u32) -> Option<u64> {
    parse_stat_starttime(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

impl Owner {
    fn me() -> Result<Owner, HostError> {
        let stat = fs::read_to_string("/proc/self/stat")
            .map_err(|e| HostError::io("reading /proc/self/stat", e))?;
        let start = parse_stat_starttime(&stat)
            .ok_or_else(|| HostError::Protocol("cannot parse /proc/self/stat".to_string()))?;
        Ok(Owner {
            pid: std::process::id(),
            start,
        })
    }

    fn alive(&self) -> bool {
        start_time(self.pid) == Some(self.start)
    }
}

/// What a state file records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct State {
    pub netns: String,
    /// SO_NETNS_COOKIE of the namespace (never reused, unlike the inode).
    pub cookie: Option<u64>,
    pub iface: String,
    pub originals: SysctlValues,
    pub owners: Vec<Owner>,
}

impl State {
    pub(crate) fn render(&self) -> String {
        let mut s =
            String::from("# craft: loopback sysctls to restore when the last owner exits\n");
        s += &format!("netns {}\niface {}\n", self.netns, self.iface);
        if let Some(c) = self.cookie {
            s += &format!("cookie {c}\n");
        }
        s += &format!("route_localnet {}\n", self.originals.route_localnet);
        s += &format!("accept_local {}\n", self.originals.accept_local);
        for o in &self.owners {
            s += &format!("owner {} {}\n", o.pid, o.start);
        }
        s
    }

    pub(crate) fn parse(text: &str) -> Option<State> {
        let (mut netns, mut iface, mut rl, mut al) = (None, None, None, None);
        let mut cookie = None;
        let mut owners = Vec::new();
        for line in text.lines() {
            let mut w = line.split_whitespace();
            match (w.next(), w.next(), w.next()) {
                (Some("netns"), Some(v), None) => netns = Some(v.to_string()),
                (Some("iface"), Some(v), None) => iface = Some(v.to_string()),
                (Some("cookie"), Some(v), None) => cookie = Some(v.parse().ok()?),
                (Some("route_localnet"), Some(v), None) => rl = v.parse().ok(),
                (Some("accept_local"), Some(v), None) => al = v.parse().ok(),
                (Some("owner"), Some(p), Some(t)) => owners.push(Owner {
                    pid: p.parse().ok()?,
                    start: t.parse().ok()?,
                }),
                _ => {}
            }
        }
        Some(State {
            netns: netns?,
            cookie,
            iface: iface?,
            originals: SysctlValues {
                route_localnet: rl?,
                accept_local: al?,
            },
            owners,
        })
    }

    /// Drops owners that are no longer running; returns them.
    fn prune(&mut self) -> Vec<Owner> {
        let (live, dead): (Vec<Owner>, Vec<Owner>) = self.owners.iter().partition(|o| o.alive());
        self.owners = live;
        dead
    }
}

/// The network namespace identity, e.g. `net:[4026531840]`.
pub fn netns_id() -> Result<String, HostError> {
    let link = fs::read_link("/proc/self/ns/net")
        .map_err(|e| HostError::io("readlink /proc/self/ns/net", e))?;
    Ok(link.to_string_lossy().into_owned())
}

/// The network namespace cookie (SO_NETNS_COOKIE, Linux 5.14+): unlike the
/// inode it is never reused, so a state file left in a namespace that has
/// since been destroyed is not applied to a new one that got the same inode.
pub fn netns_cookie() -> Option<u64> {
    const SO_NETNS_COOKIE: libc::c_int = 71;
    // SAFETY: socket() takes no pointers; the result is checked.
    let fd = unsafe { libc::socket(libc::AF_UNIX, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return None;
    }
    // SAFETY: socket() just returned this descriptor and nothing else owns
    // it, so the OwnedFd may close it.
    let fd = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let mut v: u64 = 0;
    let mut len = std::mem::size_of::<u64>() as libc::socklen_t;
    // SAFETY: pointer/len describe `v`.
    let r = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_NETNS_COOKIE,
            (&mut v as *mut u64).cast(),
            &mut len,
        )
    };
    (r == 0 && len as usize == std::mem::size_of::<u64>()).then_some(v)
}

fn netns_inode(id: &str) -> String {
    id.chars().filter(|c| c.is_ascii_digit()).collect()
}

fn euid() -> u32 {
    // SAFETY: geteuid() takes nothing and cannot fail.
    unsafe { libc::geteuid() }
}

/// Creates `dir` (0700) if needed and checks it is ours and private.
fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let md = fs::symlink_metadata(dir)?;
    if !md.is_dir() || md.uid() != euid() {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} is not a directory owned by uid {}",
                dir.display(),
                euid()
            ),
        ));
    }
    if md.mode() & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// The directory holding state files and the lock file.
pub fn state_dir() -> Result<PathBuf, HostError> {
    if let Some(d) = std::env::var_os("CRAFT_STATE_DIR") {
        let d = PathBuf::from(d);
        ensure_private_dir(&d)
            .map_err(|e| HostError::io(format!("state directory {}", d.display()), e))?;
        return Ok(d);
    }
    let run = PathBuf::from("/run/craft");
    if ensure_private_dir(&run).is_ok() && writable(&run) {
        return Ok(run);
    }
    let tmp = std::env::temp_dir().join(format!("craft-{}", euid()));
    ensure_private_dir(&tmp)
        .map_err(|e| HostError::io(format!("state directory {}", tmp.display()), e))?;
    Ok(tmp)
}

fn writable(dir: &Path) -> bool {
    let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).unwrap_or_default();
    // SAFETY: `c` is a live NUL-terminated string; access() only reads it.
    unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) == 0 }
}

/// Path of the state file for `iface` in the current network namespace.
pub fn state_path(iface: &str) -> Result<PathBuf, HostError> {
    check_iface(iface)?;
    let ns = netns_inode(&netns_id()?);
    Ok(state_dir()?.join(format!("net-{ns}-{iface}.state")))
}

/// An exclusive flock on `<state dir>/lock`, released on drop.
struct Lock {
    _file: File,
}

impl Lock {
    fn take() -> Result<Lock, HostError> {
        let path = state_dir()?.join("lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(&path)
            .map_err(|e| HostError::io(format!("opening {}", path.display()), e))?;
        loop {
            // SAFETY: `file` stays open for the call; flock() takes no pointers.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
                return Ok(Lock { _file: file });
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(HostError::io(format!("flock {}", path.display()), e));
            }
        }
    }
}

/// Loads the state file (under the lock). A file whose namespace cookie is
/// not ours was left in a namespace that no longer exists and whose inode
/// was reused: it is deleted, never applied here.
fn load(path: &Path) -> Result<Option<State>, HostError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(HostError::io(format!("reading {}", path.display()), e)),
    };
    let state = State::parse(&text).ok_or_else(|| HostError::State {
        path: path.to_path_buf(),
        detail: "unreadable state file; check the sysctls by hand, then delete it".to_string(),
    })?;
    if let (Some(theirs), Some(ours)) = (state.cookie, netns_cookie())
        && theirs != ours
    {
        remove(path)?;
        return Ok(None);
    }
    Ok(Some(state))
}

/// Writes atomically (temporary file + rename), mode 0600.
fn store(path: &Path, state: &State) -> Result<(), HostError> {
    let tmp = path.with_extension("state.tmp");
    let r = (|| {
        let mut f = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(&tmp)?;
        // No fsync: the file must survive a killed process (the rename is
        // atomic), not a power loss (/run is a tmpfs and sysctls reset on boot).
        f.write_all(state.render().as_bytes())?;
        fs::rename(&tmp, path)
    })();
    r.map_err(|e| HostError::io(format!("writing {}", path.display()), e))
}

fn remove(path: &Path) -> Result<(), HostError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(HostError::io(format!("removing {}", path.display()), e)),
    }
}

/// Writes the originals back where they differ; a vanished interface has
/// nothing to restore.
fn restore(iface: &str, originals: &SysctlValues) -> Result<Vec<String>, HostError> {
    let mut done = Vec::new();
    for name in NAMES {
        let cur = match read_one(iface, name) {
            Ok(v) => v,
            Err(HostError::NoSuchInterface(_)) => return Ok(done),
            Err(e) => return Err(e),
        };
        let want = originals.get(name);
        if cur != want {
            write_one(iface, name, want)?;
            done.push(format!("{name} {cur}→{want}"));
        }
    }
    Ok(done)
}

/// A share in the loopback sysctls of one interface: while any lease is
/// alive (in any process) both are 1; the last one out restores the values
/// found before the first. Dropping the lease releases it.
#[derive(Debug)]
pub struct SysctlLease {
    iface: String,
    path: PathBuf,
    me: Owner,
    /// (name, old, new) for each sysctl this lease changed.
    changed: Vec<(&'static str, i64, i64)>,
    released: bool,
}

impl SysctlLease {
    /// Takes a lease: records the original values if no other run has,
    /// sets both sysctls to 1 if they are not, and registers this process.
    pub fn acquire(iface: &str) -> Result<SysctlLease, HostError> {
        check_iface(iface)?;
        let path = state_path(iface)?;
        let me = Owner::me()?;
        let _lock = Lock::take()?;
        let current = read_current(iface)?;
        let mut state = match load(&path)? {
            Some(mut s) => {
                s.prune();
                s
            }
            None => State {
                netns: netns_id()?,
                cookie: netns_cookie(),
                iface: iface.to_string(),
                originals: current,
                owners: Vec::new(),
            },
        };
        state.owners.push(me);
        // Record first, change second: a kill between the two leaves a file
        // that still knows the originals.
        store(&path, &state)?;
        let mut changed = Vec::new();
        for name in NAMES {
            let old = current.get(name);
            if old != 1 {
                if let Err(e) = write_one(iface, name, 1) {
                    // Undo our registration (and anything we changed).
                    remove_owner(&mut state.owners, me);
                    if state.owners.is_empty() {
                        let _ = restore(iface, &state.originals);
                        let _ = remove(&path);
                    } else {
                        let _ = store(&path, &state);
                    }
                    return Err(e);
                }
                changed.push((name, old, 1));
            }
        }
        Ok(SysctlLease {
            iface: iface.to_string(),
            path,
            me,
            changed,
            released: false,
        })
    }

    /// The interface this lease is for.
    pub fn iface(&self) -> &str {
        &self.iface
    }

    /// What acquiring changed, e.g. `set lo route_localnet 0→1, accept_local 0→1`
    /// (or `lo route_localnet and accept_local already 1`).
    pub fn report(&self) -> String {
        if self.changed.is_empty() {
            return format!("{} route_localnet and accept_local already 1", self.iface);
        }
        let parts: Vec<String> = self
            .changed
            .iter()
            .map(|(n, old, new)| format!("{n} {old}→{new}"))
            .collect();
        format!("set {} {}", self.iface, parts.join(", "))
    }

    /// The sysctls this lease changed, as `(name, old, new)`.
    pub fn changed(&self) -> &[(&'static str, i64, i64)] {
        &self.changed
    }

    /// Releases the lease now; the last live owner restores the originals.
    pub fn release(mut self) -> Result<(), HostError> {
        self.release_inner()
    }

    fn release_inner(&mut self) -> Result<(), HostError> {
        if self.released {
            return Ok(());
        }
        self.released = true;
        let _lock = Lock::take()?;
        let Some(mut state) = load(&self.path)? else {
            return Ok(()); // someone recovered it already
        };
        remove_owner(&mut state.owners, self.me);
        state.prune();
        if state.owners.is_empty() {
            // Keep the file if restoring fails, so recover_stale can retry.
            restore(&self.iface, &state.originals)?;
            remove(&self.path)
        } else {
            store(&self.path, &state)
        }
    }
}

impl Drop for SysctlLease {
    fn drop(&mut self) {
        let _ = self.release_inner();
    }
}

fn remove_owner(owners: &mut Vec<Owner>, me: Owner) {
    if let Some(i) = owners.iter().position(|o| *o == me) {
        owners.remove(i);
    }
}

/// If a state file for `iface` exists in this namespace with no live owner
/// (a run was killed), restores the recorded originals, deletes the file and
/// says what it did. Call at the start of every live run.
pub fn recover_stale(iface: &str) -> Result<Option<String>, HostError> {
    check_iface(iface)?;
    let path = state_path(iface)?;
    let _lock = Lock::take()?;
    let Some(mut state) = load(&path)? else {
        return Ok(None);
    };
    let dead = state.prune();
    if !state.owners.is_empty() {
        if !dead.is_empty() {
            store(&path, &state)?;
        }
        return Ok(None);
    }
    let done = restore(iface, &state.originals)?;
    remove(&path)?;
    let pids: Vec<String> = dead.iter().map(|o| o.pid.to_string()).collect();
    let what = if done.is_empty() {
        "nothing to restore".to_string()
    } else {
        format!("restored {}", done.join(", "))
    };
    Ok(Some(format!(
        "craft: {iface} sysctls left by a craft run that did not exit cleanly (pid {}): {what}",
        if pids.is_empty() {
            "unknown".to_string()
        } else {
            pids.join(", ")
        }
    )))
}

/// What a state file says, for `craft doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateStatus {
    /// The values to restore when the last owner leaves.
    pub originals: SysctlValues,
    /// Owners still running.
    pub live: Vec<Owner>,
    /// Owners that are gone (killed runs).
    pub dead: Vec<Owner>,
}

/// What the state file of `iface` in this namespace says (None: no file).
/// Changes nothing.
pub fn state_status(iface: &str) -> Result<Option<StateStatus>, HostError> {
    check_iface(iface)?;
    let path = state_path(iface)?;
    let _lock = Lock::take()?;
    Ok(load(&path)?.map(|mut s| {
        let dead = s.prune();
        StateStatus {
            originals: s.originals,
            live: s.owners,
            dead,
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starttime_after_odd_comm() {
        let stat =
            "1234 (a) b (c)) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(parse_stat_starttime(stat), Some(987654));
        assert_eq!(parse_stat_starttime("garbage"), None);
        assert_eq!(parse_stat_starttime("1 (x) S 1"), None);
        assert_eq!(parse_stat_starttime(""), None);
        let me = fs::read_to_string("/proc/self/stat").unwrap();
        assert!(parse_stat_starttime(&me).is_some());
    }

    #[test]
    fn state_roundtrip_and_garbage() {
        let s = State {
            netns: "net:[4026531840]".into(),
            cookie: Some(99),
            iface: "lo".into(),
            originals: SysctlValues {
                route_localnet: 0,
                accept_local: 1,
            },
            owners: vec![Owner { pid: 42, start: 7 }, Owner { pid: 43, start: 8 }],
        };
        assert_eq!(State::parse(&s.render()), Some(s));
        assert_eq!(State::parse(""), None);
        assert_eq!(State::parse("netns x\niface lo\nroute_localnet 0\n"), None);
        assert_eq!(
            State::parse("netns x\niface lo\nroute_localnet 0\naccept_local 0\nowner x y\n"),
            None
        );
    }

    #[test]
    fn own_process_is_alive_and_bogus_is_not() {
        let me = Owner::me().unwrap();
        assert!(me.alive());
        assert!(
            !Owner {
                pid: me.pid,
                start: me.start + 1
            }
            .alive()
        );
        assert!(
            !Owner {
                pid: u32::MAX - 1,
                start: 1
            }
            .alive()
        );
    }

    #[test]
    fn bad_iface_names_rejected() {
        for bad in ["", ".", "..", "a/b", "lo lo", "0123456789abcdef"] {
            assert!(check_iface(bad).is_err(), "{bad:?}");
        }
        assert!(check_iface("lo").is_ok());
    }
}
