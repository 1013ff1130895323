//! System calls: a script's call resolved to live values (descriptors
//! mapped, constants looked up), run on a thread of its own, its result,
//! errno and out-values (getsockopt, poll) checked against the script.

use super::*;

/// Checks that an argument names only constants and shapes craft knows.
pub(super) fn check_expr(a: &Expr, line: usize, call: &str) -> Result<(), Failure> {
    match a {
        Expr::Sym(s) if symbols::lookup(s).is_none() => {
            Err(unsupported(line, format!("the constant {s} in {call}()")))
        }
        Expr::Or(v) | Expr::List(v) => v.iter().try_for_each(|x| check_expr(x, line, call)),
        Expr::Struct(fields) if call == "poll" => fields.iter().try_for_each(|(k, v)| {
            if !matches!(k.as_str(), "fd" | "events" | "revents") {
                return Err(unsupported(line, format!("the pollfd field {k}")));
            }
            check_expr(v, line, call)
        }),
        Expr::Struct(_) => Err(unsupported(line, format!("a struct argument to {call}()"))),
        Expr::Str(_) => Err(unsupported(line, format!("a string argument to {call}()"))),
        Expr::Call(f, _) => Err(unsupported(line, format!("the function {f}() in {call}()"))),
        _ => Ok(()),
    }
}

/// The system calls craft runs.
pub const SYSCALLS: &[&str] = &[
    "socket",
    "bind",
    "listen",
    "accept",
    "connect",
    "setsockopt",
    "getsockopt",
    "fcntl",
    "write",
    "send",
    "read",
    "recv",
    "close",
    "shutdown",
    "poll",
];

/// A call with its arguments resolved to live values.
#[derive(Clone, Debug)]
enum Call {
    Socket(i32, i32, i32),
    Bind(i32),
    Listen(i32, i32),
    Accept(i32),
    Connect(i32),
    SetSockOpt(i32, i32, i32, Vec<u8>),
    GetSockOpt(i32, i32, i32, usize),
    Fcntl(i32, i32, i64),
    Send(i32, usize, i32),
    Recv(i32, usize, i32),
    Close(i32),
    Shutdown(i32, i32),
    /// (fd, events) pairs and the timeout in ms.
    Poll(Vec<(i32, i16)>, i32),
}

impl Call {
    fn exec(self) -> (Ret, Vec<u8>) {
        match self {
            Call::Socket(d, t, p) => {
                let r = rawsys::socket(d, t, p);
                if r.value >= 0 {
                    // packetdrill's setup routes the remote with cubic;
                    // a namespace cannot set the sysctl here, the socket can.
                    let _ = rawsys::setsockopt(
                        r.value as i32,
                        libc::IPPROTO_TCP,
                        libc::TCP_CONGESTION,
                        b"cubic",
                    );
                }
                (r, Vec::new())
            }
            Call::Bind(fd) => (rawsys::bind(fd, LOCAL_IP, SCRIPT_PORT), Vec::new()),
            Call::Listen(fd, b) => (rawsys::listen(fd, b), Vec::new()),
            Call::Accept(fd) => (rawsys::accept(fd), Vec::new()),
            Call::Connect(fd) => (rawsys::connect(fd, REMOTE_IP, SCRIPT_PORT), Vec::new()),
            Call::SetSockOpt(fd, l, n, v) => (rawsys::setsockopt(fd, l, n, &v), Vec::new()),
            Call::GetSockOpt(fd, l, n, len) => rawsys::getsockopt(fd, l, n, len),
            Call::Fcntl(fd, c, a) => (rawsys::fcntl(fd, c, a), Vec::new()),
            Call::Send(fd, n, f) => (rawsys::send(fd, n, f), Vec::new()),
            Call::Recv(fd, n, f) => (rawsys::recv(fd, n, f), Vec::new()),
            Call::Close(fd) => (rawsys::close(fd), Vec::new()),
            Call::Shutdown(fd, h) => (rawsys::shutdown(fd, h), Vec::new()),
            Call::Poll(fds, t) => {
                let (r, revents) = rawsys::poll(&fds, t);
                (r, revents.iter().flat_map(|e| e.to_ne_bytes()).collect())
            }
        }
    }
}

/// A system call running on its thread.
pub(super) struct Pending {
    line: usize,
    call: Syscall,
    /// Script time it should return at (blocking calls).
    end: Option<i64>,
    start: i64,
    rx: mpsc::Receiver<((Ret, Vec<u8>), Instant)>,
}

/// How long a call that should not block may take before the run gives up.
const STUCK: Duration = Duration::from_secs(3);

/// The largest byte count a script's read or write may name (the buffer is
/// allocated), and the largest option length.
const MAX_COUNT: usize = 64 << 20;
const MAX_OPTLEN: usize = 4096;

impl Runner<'_> {
    /// A byte count argument, at most `max`.
    fn count(
        &self,
        line: usize,
        a: Option<&Expr>,
        call: &str,
        max: usize,
    ) -> Result<usize, Failure> {
        let n = self.int(line, a, call)?.max(0) as u64;
        if n > max as u64 {
            return Err(unsupported(
                line,
                format!("{call}() of {n} bytes (craft takes at most {max})"),
            ));
        }
        Ok(n as usize)
    }

    fn fd(&self, line: usize, a: Option<&Expr>, call: &str) -> Result<i32, Failure> {
        let n = match a {
            Some(Expr::Int(n)) => *n,
            _ => {
                return Err(unsupported(
                    line,
                    format!("{call}() without a descriptor number"),
                ));
            }
        };
        self.fds.get(&n).copied().ok_or_else(|| {
            mismatch(
                line,
                format!("expected a descriptor {n} for {call}() got none open"),
            )
        })
    }

    fn int(&self, line: usize, a: Option<&Expr>, call: &str) -> Result<i64, Failure> {
        match a {
            Some(Expr::Int(n)) => Ok(*n),
            Some(Expr::Sym(s)) => {
                symbols::lookup(s).ok_or_else(|| unsupported(line, format!("the constant {s}")))
            }
            Some(Expr::Or(v)) => v
                .iter()
                .try_fold(0, |acc, x| Ok(acc | self.int(line, Some(x), call)?)),
            Some(Expr::List(v)) if v.len() == 1 => self.int(line, v.first(), call),
            Some(Expr::Ellipsis) => Ok(0),
            _ => Err(unsupported(line, format!("an argument of {call}()"))),
        }
    }

    fn resolve(&mut self, line: usize, c: &Syscall) -> Result<Call, Failure> {
        let a = |i: usize| c.args.get(i);
        let name = c.name.as_str();
        Ok(match name {
            "socket" => {
                let d = match a(0) {
                    Some(Expr::Ellipsis) | None => libc::AF_INET as i64,
                    x => self.int(line, x, name)?,
                };
                if d != libc::AF_INET as i64 {
                    return Err(unsupported(line, "sockets other than IPv4 (AF_INET)"));
                }
                Call::Socket(
                    d as i32,
                    self.int(line, a(1), name)? as i32,
                    self.int(line, a(2), name)? as i32,
                )
            }
            "bind" => {
                self.learn_side(true)?;
                Call::Bind(self.fd(line, a(0), name)?)
            }
            "listen" => Call::Listen(
                self.fd(line, a(0), name)?,
                self.int(line, a(1), name)? as i32,
            ),
            "accept" => Call::Accept(self.fd(line, a(0), name)?),
            "connect" => {
                self.learn_side(false)?;
                Call::Connect(self.fd(line, a(0), name)?)
            }
            "setsockopt" => {
                let fd = self.fd(line, a(0), name)?;
                let level = self.int(line, a(1), name)? as i32;
                let opt = self.int(line, a(2), name)? as i32;
                let v = self.int(line, a(3), name)?;
                let len = self.count(line, a(4), name, MAX_OPTLEN)?;
                let bytes = if len >= 4 {
                    let mut b = (v as i32).to_ne_bytes().to_vec();
                    b.resize(len, 0);
                    b
                } else {
                    vec![v as u8; len.min(1)]
                };
                Call::SetSockOpt(fd, level, opt, bytes)
            }
            "getsockopt" => {
                let fd = self.fd(line, a(0), name)?;
                let level = self.int(line, a(1), name)? as i32;
                let opt = self.int(line, a(2), name)? as i32;
                let len = self.count(line, a(4), name, MAX_OPTLEN)?;
                Call::GetSockOpt(fd, level, opt, len)
            }
            "fcntl" => {
                let fd = self.fd(line, a(0), name)?;
                let cmd = self.int(line, a(1), name)? as i32;
                let arg = if c.args.len() > 2 {
                    self.int(line, a(2), name)?
                } else {
                    0
                };
                Call::Fcntl(fd, cmd, arg)
            }
            "write" | "send" => {
                let fd = self.fd(line, a(0), name)?;
                let n = self.count(line, a(2), name, MAX_COUNT)?;
                let f = if name == "send" {
                    self.int(line, a(3), name)? as i32
                } else {
                    0
                };
                Call::Send(fd, n, f)
            }
            "read" | "recv" => {
                let fd = self.fd(line, a(0), name)?;
                let n = self.count(line, a(2), name, MAX_COUNT)?;
                let f = if name == "recv" {
                    self.int(line, a(3), name)? as i32
                } else {
                    0
                };
                Call::Recv(fd, n, f)
            }
            "close" => Call::Close(self.fd(line, a(0), name)?),
            "shutdown" => Call::Shutdown(
                self.fd(line, a(0), name)?,
                self.int(line, a(1), name)? as i32,
            ),
            "poll" => {
                let Some(Expr::List(items)) = a(0) else {
                    return Err(unsupported(
                        line,
                        "poll() without a [{fd=..., events=...}] list",
                    ));
                };
                let mut fds = Vec::new();
                for it in items {
                    let Expr::Struct(fields) = it else {
                        return Err(unsupported(
                            line,
                            "a poll() entry that is not {fd=..., events=...}",
                        ));
                    };
                    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v);
                    let fd = self.fd(line, get("fd"), name)?;
                    let ev = self.int(line, get("events"), name)? as i16;
                    fds.push((fd, ev));
                }
                Call::Poll(fds, self.int(line, a(2), name)? as i32)
            }
            _ => return Err(unsupported(line, format!("the system call {name}()"))),
        })
    }

    /// Runs a call on its thread; `offset` moves a relative event's
    /// blocking end time with its start, as packetdrill does.
    pub(super) fn syscall(
        &mut self,
        line: usize,
        c: &Syscall,
        t: i64,
        offset: i64,
    ) -> Result<(), Failure> {
        let call = self.resolve(line, c)?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let r = call.exec();
            let _ = tx.send((r, Instant::now()));
        });
        let end = c.end.map(|e| e + offset);
        self.pending = Some(Pending {
            line,
            call: c.clone(),
            end,
            start: t,
            rx,
        });
        if c.end.is_none() {
            self.finish_pending()?;
        }
        Ok(())
    }

    /// Waits for the call on its thread and checks what it returned.
    pub(super) fn finish_pending(&mut self) -> Result<(), Failure> {
        let Some(p) = self.pending.take() else {
            return Ok(());
        };
        let limit = match p.end {
            Some(end) => Duration::from_micros((end - self.now_us()).max(0) as u64) + STUCK,
            None => STUCK,
        };
        let Ok(((ret, bytes), at)) = p.rx.recv_timeout(limit) else {
            return Err(mismatch(
                p.line,
                format!(
                    "expected {}() to return got no return after {:.3} sec (it blocked)",
                    p.call.name,
                    limit.as_secs_f64()
                ),
            ));
        };
        let returned = at.duration_since(self.start).as_micros() as i64;
        self.verbose(format!(
            "{:.6} {}() = {}{}",
            secs(returned),
            p.call.name,
            ret.value,
            if ret.value < 0 {
                format!(" {}", rawsys::errno_name(ret.errno))
            } else {
                String::new()
            }
        ));
        self.check_result(&p, ret, &bytes)?;
        if let Some(end) = p.end {
            let delta = end - p.start;
            let tol = self
                .cfg
                .tolerance_usecs
                .max((self.cfg.tolerance_percent / 100.0 * delta as f64) as i64);
            if (returned - end).abs() > tol {
                return Err(mismatch(
                    p.line,
                    format!(
                        "expected system call return at {:.6} sec got it at {:.6} sec (timing error; tolerance {:.6} sec)",
                        secs(end),
                        secs(returned),
                        secs(tol)
                    ),
                ));
            }
        }
        Ok(())
    }

    fn check_result(&mut self, p: &Pending, ret: Ret, bytes: &[u8]) -> Result<(), Failure> {
        let c = &p.call;
        let got = if ret.value < 0 {
            let e = std::io::Error::from_raw_os_error(ret.errno);
            let text = e.to_string();
            let text = text.split(" (os error").next().unwrap_or("").to_string();
            format!("{} {} ({text})", ret.value, rawsys::errno_name(ret.errno))
        } else {
            ret.value.to_string()
        };
        let fd_call = matches!(c.name.as_str(), "socket" | "accept");
        let want_ok = match c.ret {
            None => true,
            Some(w) if fd_call && w >= 0 => ret.value >= 0,
            Some(w) => w == ret.value,
        };
        let errno_ok = match (&c.errno, c.ret) {
            (Some(name), _) => rawsys::errno_by_name(name) == Some(ret.errno) && ret.value < 0,
            _ => true,
        };
        if !want_ok || !errno_ok {
            let want = match (c.ret, &c.errno) {
                (Some(w), Some(e)) => format!("{w} {e}"),
                (Some(w), None) => w.to_string(),
                (None, _) => "...".into(),
            };
            return Err(mismatch(
                p.line,
                format!("expected {}() = {want} got {got}", c.name),
            ));
        }
        if fd_call && ret.value >= 0 {
            let script_fd = c.ret.unwrap_or(ret.value);
            self.fds.insert(script_fd, ret.value as i32);
            if c.name == "accept" || self.under_test.is_none() || c.name == "socket" {
                self.under_test = Some(ret.value as i32);
            }
        }
        if c.name == "close"
            && let Some(Expr::Int(n)) = c.args.first()
            && ret.value == 0
        {
            self.fds.remove(n);
        }
        if c.name == "poll"
            && ret.value >= 0
            && let Some(Expr::List(items)) = c.args.first()
        {
            for (i, it) in items.iter().enumerate() {
                let Expr::Struct(fields) = it else { continue };
                let Some((_, want)) = fields.iter().find(|(n, _)| n == "revents") else {
                    continue;
                };
                let want = self.int(p.line, Some(want), "poll")?;
                let got = bytes
                    .get(i * 2..i * 2 + 2)
                    .map(|b| i16::from_ne_bytes([b[0], b[1]]) as i64)
                    .unwrap_or(0);
                if got != want {
                    return Err(mismatch(
                        p.line,
                        format!(
                            "expected poll() revents {} got {}",
                            poll_text(want),
                            poll_text(got)
                        ),
                    ));
                }
            }
        }
        if c.name == "getsockopt"
            && ret.value == 0
            && let Some(Expr::List(v)) = c.args.get(3)
            && let Some(want) = v.first()
            && *want != Expr::Ellipsis
        {
            let want = self.int(p.line, Some(want), "getsockopt")?;
            let mut b = [0u8; 4];
            for (i, x) in bytes.iter().take(4).enumerate() {
                b[i] = *x;
            }
            let got = if bytes.len() >= 4 {
                i32::from_ne_bytes(b) as i64
            } else {
                b[0] as i64
            };
            if got != want {
                return Err(mismatch(
                    p.line,
                    format!("expected getsockopt() optval {want} got {got}"),
                ));
            }
        }
        Ok(())
    }
}

/// poll bits by name: `POLLIN|POLLOUT`.
fn poll_text(v: i64) -> String {
    let names: Vec<&str> = symbols::SYMBOLS
        .iter()
        .filter(|(n, b)| n.starts_with("POLL") && *b != 0 && v & b == *b && !n.ends_with("NORM"))
        .map(|(n, _)| *n)
        .collect();
    if names.is_empty() {
        v.to_string()
    } else {
        names.join("|")
    }
}
