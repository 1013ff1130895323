//! `craft handshake`: a TCP conversation in one command, printed as a ladder
//! as it happens. With no `--dport` it starts its own listener on a free `lo`
//! port inside the process (an echo server), so it works on a fresh machine.

use crate::live::{Live, LiveError};
use crate::render::flow::{Ends, FlowEntry, Ladder};
use crate::render::json::{J, object};
use crate::session::conn::{Conn, ConnConfig, ConnError, Dir};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::time::Duration;

/// What to do.
#[derive(Clone, Debug)]
pub struct HandshakeOptions {
    /// Server address.
    pub dst: Ipv4Addr,
    /// Server port; None starts craft's own echo listener.
    pub dport: Option<u16>,
    /// Data to send after the handshake.
    pub data: Option<Vec<u8>>,
    /// Wait for and print the peer's data.
    pub recv: bool,
    /// Close gracefully (FIN both ways); otherwise the connection is aborted with RST.
    pub close: bool,
    /// JSON lines instead of the ladder.
    pub json: bool,
    /// How long `--recv` waits for more data, and close for the peer's FIN.
    pub timeout: Duration,
}

/// Starts an echo listener on a free port of 127.0.0.1; returns the port.
fn start_listener() -> Result<u16, LiveError> {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| LiveError::Other(format!("starting a listener on 127.0.0.1: {e}")))?;
    let port = l
        .local_addr()
        .map_err(|e| LiveError::Other(e.to_string()))?
        .port();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = l.accept() {
            let mut buf = [0u8; 65536];
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 || s.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    });
    Ok(port)
}

struct Printer {
    ladder: Ladder,
    shown: usize,
    json: bool,
}

impl Printer {
    fn flush(&mut self, c: &mut Conn) {
        let _ = c.take_events();
        for e in &c.log[self.shown..] {
            let fe = FlowEntry {
                ts: e.ts,
                from_client: e.dir == Dir::Out,
                pkt: &e.pkt,
                note: e.note,
            };
            if self.json {
                println!("{}", self.ladder.json_row(&fe));
            } else {
                print!("{}", self.ladder.row(&fe));
            }
        }
        self.shown = c.log.len();
    }
}

/// Runs the conversation; exit code 0 when it went as asked, 1 on RST, 3 when
/// the SYN got no answer.
pub fn run(live: &mut Live, o: &HandshakeOptions) -> Result<i32, LiveError> {
    let own = o.dport.is_none();
    let dport = match o.dport {
        Some(p) => p,
        None => start_listener()?,
    };
    let sport = live.session_port(None)?;
    for n in live.take_notes() {
        eprintln!("{n}");
    }
    if own && !o.json {
        println!(
            "craft: no --dport given: listening on 127.0.0.1:{dport} (an echo server inside craft)"
        );
    }
    let cfg = ConnConfig {
        dst: o.dst,
        dport,
        sport,
        iss: crate::session::isn::initial_seq(),
        window: 65535,
        mss: 65495,
        wscale: None,
        rto: Duration::from_millis(200),
        retries: 3,
        verbose: false,
    };
    let mut c = Conn::new(cfg);
    let mut p = Printer {
        ladder: Ladder::learning(Ends {
            client: (Ipv4Addr::LOCALHOST, sport),
            server: (o.dst, dport),
            client_isn: c.cfg.iss,
            server_isn: 0,
        }),
        shown: 0,
        json: o.json,
    };
    if !o.json {
        print!("{}", p.ladder.header());
    }
    let code = conversation(live, &mut c, &mut p, o);
    p.flush(&mut c);
    let code = match code {
        Ok(code) => code,
        Err(ConnError::Live(e)) => return Err(e),
        Err(ConnError::State(m)) => {
            eprintln!("craft: {m}");
            if c.reset { 1 } else { 2 }
        }
    };
    let received = String::from_utf8_lossy(&c.received).into_owned();
    if o.json {
        println!(
            "{}",
            object(&[
                ("summary", J::Bool(true)),
                ("state", J::Str(c.state_name())),
                (
                    "sent_bytes",
                    J::Int(
                        c.stream
                            .iter()
                            .filter(|(d, _)| *d == Dir::Out)
                            .map(|(_, b)| b.len() as i64)
                            .sum()
                    )
                ),
                ("received_bytes", J::Int(c.received.len() as i64)),
                ("received", J::Str(received)),
            ])
        );
    } else {
        if o.recv {
            println!(
                "received {} bytes: {}",
                c.received.len(),
                crate::lang::escape_bytes(&c.received)
            );
        }
        println!("state {}", c.state_name());
    }
    Ok(code)
}

fn conversation(
    live: &mut Live,
    c: &mut Conn,
    p: &mut Printer,
    o: &HandshakeOptions,
) -> Result<i32, ConnError> {
    let answer = c.syn(live)?;
    p.flush(c);
    match answer {
        None => return Ok(3),
        Some(_) if c.reset => return Ok(1),
        Some(_) => {}
    }
    c.ack(live)?;
    p.flush(c);
    if let Some(d) = &o.data {
        c.send(live, d)?;
        p.flush(c);
    }
    if o.recv {
        // craft's own echo listener answers at once: no need to wait long.
        let idle = if o.dport.is_none() {
            o.timeout.min(Duration::from_millis(200))
        } else {
            o.timeout
        };
        c.recv(live, idle)?;
        p.flush(c);
    }
    if o.close {
        c.close(live, o.timeout)?;
    } else if !c.reset {
        c.rst(live)?;
        if !o.json {
            p.flush(c);
            println!(
                "(aborted with RST so the peer is not left waiting; --close closes gracefully)"
            );
        }
    }
    p.flush(c);
    Ok(if c.reset { 1 } else { 0 })
}
