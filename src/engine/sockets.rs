//! Kernel sockets in the language: `k = tcp_connect(host, port)` and
//! `k.write(data)`, `k.read(timeout=2)`, `k.shutdown("w")`, `k.close()`.
//! The syscalls are `host::ksock`'s; here they become values and errors
//! that name the line. Every socket is closed at the end of the run.

use super::args::Args;
use super::value::{SocketRef, Value};
use super::{Engine, Error, EvalResult};
use crate::host::ksock::{KernelSocket, SockError};
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
    let host = match a.req("host")? {
        Value::Ip(ip) => ip,
        Value::Str(s) => {
            let t = String::from_utf8_lossy(&s).into_owned();
            if t == "localhost" {
                Ipv4Addr::LOCALHOST
            } else {
                t.parse().map_err(|_| {
                    Error::eval(
                        pos,
                        format!("tcp_connect(): \"{t}\" is not an IPv4 address"),
                    )
                })?
            }
        }
        v => {
            return Err(Error::eval(
                pos,
                format!(
                    "tcp_connect(): host is an address like \"127.0.0.1\", not {}",
                    v.repr()
                ),
            ));
        }
    };
    if !host.is_loopback() {
        return Err(Error::eval(
            pos,
            format!("tcp_connect(): craft connects within 127.0.0.0/8 only, not {host}"),
        ));
    }
    let port = match a.req("port")? {
        Value::Int(p) if (1..=65535).contains(&p) => p as u16,
        v => {
            return Err(Error::eval(
                pos,
                format!("tcp_connect(): the port is 1 to 65535, not {}", v.repr()),
            ));
        }
    };
    let k = KernelSocket::connect(SocketAddrV4::new(host, port)).map_err(|e| sock_error(e, pos))?;
    let r = SocketRef(Rc::new(RefCell::new(k)));
    eng.rt.track_socket(&r.0);
    Ok(Value::Socket(r))
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
    Ok(Value::Str(b))
}

/// `k.shutdown("w")`: our FIN; reading goes on.
pub fn shutdown(_eng: &mut Engine, k: &SocketRef, a: &mut Args) -> EvalResult<Value> {
    let pos = a.pos();
    match a.given("how") {
        None => {}
        Some(Value::Str(s)) if s == b"w" => {}
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

/// `k.close()`.
pub fn close(_eng: &mut Engine, k: &SocketRef, _a: &mut Args) -> EvalResult<Value> {
    k.0.borrow_mut().close();
    Ok(Value::None)
}
