//! Kernel sockets in the language: `k = tcp_connect(host, port)` and
//! `k.write(data)`, `k.read(timeout=2)`, `k.shutdown("w")`, `k.close()`;
//! `srv = tcp_listen(port)`, `srv.accept(timeout=2)`, `srv.close()`.
//! The syscalls are `host::ksock`'s; here they become values and errors
//! that name the line. Every socket is closed at the end of the run.

use super::args::Args;
use super::value::{KListenerRef, SocketRef, Value};
use super::{Engine, Error, EvalResult};
use crate::host::ksock::{KernelListener, KernelSocket, SockError};
use crate::lang::Pos;
use std::cell::RefCell;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::rc::Rc;
use std::time::Duration;

fn sock_error(e: SockError, pos: Pos) -> Error {
    Error::eval(pos, e.to_string())
}

/// `tcp_connect(host, port)`: a kernel TCP socket; the kernel sends the SYN.
pub fn tcp_connect(eng: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    let (host, port) = host_port("tcp_connect", a.req("host")?, a.req("port")?, pos)?;
    let k = KernelSocket::connect(SocketAddrV4::new(host, port)).map_err(|e| sock_error(e, pos))?;
    let r = SocketRef(Rc::new(RefCell::new(k)));
    eng.rt.track_socket(&r.0);
    Ok(Value::Socket(r))
}

/// `tcp_listen(port)` or `tcp_listen(addr, port)`: a kernel TCP listener.
pub fn tcp_listen(eng: &mut Engine, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    let (host, port) = match (a.req("addr")?, a.opt("port")) {
        (Value::Int(p), None) => host_port(
            "tcp_listen",
            Value::Ip(Ipv4Addr::LOCALHOST),
            Value::Int(p),
            pos,
        )?,
        (h, Some(p)) => host_port("tcp_listen", h, p, pos)?,
        (v, None) => {
            return Err(Error::eval(
                pos,
                format!(
                    "tcp_listen() takes a port, e.g. tcp_listen(8080), not {}",
                    v.repr()
                ),
            ));
        }
    };
    let l = KernelListener::bind(SocketAddrV4::new(host, port)).map_err(|e| sock_error(e, pos))?;
    let r = KListenerRef(Rc::new(RefCell::new(l)));
    eng.rt.track_klistener(&r.0);
    Ok(Value::KernelListener(r))
}

/// `srv.accept(timeout=2)`: the next connection the kernel accepted, or none.
pub fn kaccept(eng: &mut Engine, l: &KListenerRef, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    let t = timeout(a)?;
    let got = l.0.borrow_mut().accept(t).map_err(|e| sock_error(e, pos))?;
    Ok(got.map_or(Value::None, |k| {
        let r = SocketRef(Rc::new(RefCell::new(k)));
        eng.rt.track_socket(&r.0);
        Value::Socket(r)
    }))
}

/// `srv.close()`.
pub fn kclose(_eng: &mut Engine, l: &KListenerRef, _a: &mut Args) -> EvalResult<Value> {
    l.0.borrow_mut().close();
    Ok(Value::None)
}

fn host_port(name: &str, host: Value, port: Value, pos: Pos) -> EvalResult<(Ipv4Addr, u16)> {
    let host =
        super::fields::address(name, "the address is", host).map_err(|m| Error::eval(pos, m))?;
    if !host.is_loopback() {
        return Err(Error::eval(
            pos,
            format!("{name}(): craft stays within 127.0.0.0/8, not {host}"),
        ));
    }
    let port = match port {
        Value::Int(p) if (1..=65535).contains(&p) => p as u16,
        v => {
            return Err(Error::eval(
                pos,
                format!("{name}(): the port is 1 to 65535, not {}", v.repr()),
            ));
        }
    };
    Ok((host, port))
}

fn timeout(a: &mut Args) -> EvalResult<Duration> {
    Ok(Duration::from_secs_f64(
        a.secs("timeout")?.unwrap_or(2.0).min(86400.0),
    ))
}

/// `k.write(data, timeout=2)`: the number of bytes written.
pub fn write(_eng: &mut Engine, k: &SocketRef, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    let data = match a.req("data")? {
        Value::Str(b) => b,
        v => {
            return Err(Error::eval(
                pos,
                format!("write() takes the data as a string, not {}", v.repr()),
            ));
        }
    };
    let t = timeout(a)?;
    let n =
        k.0.borrow_mut()
            .write(&data, t)
            .map_err(|e| sock_error(e, pos))?;
    Ok(Value::Int(n as i64))
}

/// `k.read(timeout=2)`: what the peer sent ("" at its FIN or when nothing came).
pub fn read(_eng: &mut Engine, k: &SocketRef, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    let t = timeout(a)?;
    let b = k.0.borrow_mut().read(t).map_err(|e| sock_error(e, pos))?;
    Ok(Value::Str(b.into()))
}

/// `k.shutdown("w")`: our FIN; reading goes on.
pub fn shutdown(_eng: &mut Engine, k: &SocketRef, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    match a.given("how") {
        None => {}
        Some(Value::Str(s)) if s == b"w"[..] => {}
        Some(v) => {
            return Err(Error::eval(
                pos,
                format!(
                    "shutdown(): \"w\" (our FIN) is the one kind, not {}",
                    v.repr()
                ),
            ));
        }
    }
    k.0.borrow_mut()
        .shutdown_write()
        .map_err(|e| sock_error(e, pos))?;
    Ok(Value::None)
}

/// `k.info()`: TCP_INFO as a record (`i.rtt`, `i.snd_cwnd`, ...; times in µs).
pub fn info(_eng: &mut Engine, k: &SocketRef, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    let i = k.0.borrow().info().map_err(|e| sock_error(e, pos))?;
    let n = |v: u32| Value::Int(i64::from(v));
    Ok(Value::Record(vec![
        (
            "state",
            Value::Str(crate::host::ksock::state_name(i.state).into()),
        ),
        ("rtt", n(i.rtt_us)),
        ("rttvar", n(i.rttvar_us)),
        ("rto", n(i.rto_us)),
        ("snd_mss", n(i.snd_mss)),
        ("rcv_mss", n(i.rcv_mss)),
        ("snd_cwnd", n(i.snd_cwnd)),
        ("snd_ssthresh", n(i.snd_ssthresh)),
        ("retransmits", n(u32::from(i.retransmits))),
        ("total_retrans", n(i.total_retrans)),
        ("unacked", n(i.unacked)),
        ("lost", n(i.lost)),
        ("pmtu", n(i.pmtu)),
        ("rcv_space", n(i.rcv_space)),
    ]))
}

/// `k.close()`.
pub fn close(_eng: &mut Engine, k: &SocketRef, _a: &mut Args) -> EvalResult<Value> {
    k.0.borrow_mut().close();
    Ok(Value::None)
}
