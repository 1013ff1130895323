//! craft: the command line. Parses arguments, runs the engine, maps outcomes
//! to exit codes: 0 ok, 1 a check failed, 2 usage/syntax/evaluation error,
//! 3 no reply in time, 4 not permitted, 130 interrupted.

use clap::{Args as ClapArgs, Parser, Subcommand};
use craft::commands::{self, live_exit, report};
use craft::engine::{Engine, ErrorKind, Value};
use craft::live::{Live, LiveOptions};
use craft::render::json::{J, object};
use std::io::{IsTerminal, Read};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "craft",
    version,
    about = "Build packets layer by layer, send them on lo, match the replies, answer them.",
    long_about = "Build packets layer by layer, send them on lo, match the replies, answer them.\n\n\
        With no command, craft starts its interactive shell; with input piped in, it runs it like a recipe.\n\n\
        Exit codes: 0 ok, 1 a check failed (an expect, a RST to syn), 2 usage/syntax/evaluation error, \
        3 no reply in time, 4 not permitted (needs CAP_NET_RAW), 130 interrupted."
)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(ClapArgs, Clone)]
struct Common {
    /// Interface to send and receive on.
    #[arg(long, global = true, default_value = "lo")]
    iface: String,
    /// Write every frame sent and received to this pcap file.
    #[arg(long, global = true, value_name = "FILE")]
    pcap: Option<PathBuf>,
    /// Touch no sysctl and no firewall rule (prepare lo yourself).
    #[arg(long, global = true)]
    no_setup: bool,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build a packet from an expression and show it (offline; needs no privileges).
    Show {
        /// A packet expression, e.g. 'Ether()/IP()/TCP(flags="S")'.
        expr: String,
        /// Print the whole frame as one line of lowercase hex, nothing else.
        #[arg(long)]
        hex: bool,
        /// Print the hexdump instead of the field view.
        #[arg(long, conflicts_with = "hex")]
        dump: bool,
    },
    /// Run recipe files; exit 0 when every expect holds.
    Run {
        /// Recipe files (.craft).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Parse and check only; send nothing (exit 2 on a syntax error).
        #[arg(long)]
        check: bool,
        /// Set a variable before the recipe runs: --var port=1234 (the value is an expression).
        #[arg(long = "var", value_name = "NAME=VALUE")]
        vars: Vec<String>,
        /// Go on after a failed expect (the file still fails).
        #[arg(long)]
        keep_going: bool,
        /// One JSON object per file instead of the summary lines.
        #[arg(long)]
        json: bool,
    },
    /// Send SYN probes and print each reply with its RTT, then statistics.
    Syn {
        /// Destination port.
        #[arg(long)]
        dport: u16,
        /// Destination address.
        #[arg(long, default_value = "127.0.0.1")]
        dst: Ipv4Addr,
        /// Source port (default: a free port craft reserves and guards).
        #[arg(long)]
        sport: Option<u16>,
        /// Number of probes.
        #[arg(long, short = 'c', default_value_t = 1)]
        count: u32,
        /// Seconds between probes.
        #[arg(long, default_value_t = 1.0)]
        interval: f64,
        /// Seconds to wait for each reply.
        #[arg(long, default_value_t = 2.0)]
        timeout: f64,
        /// One JSON object per probe, then a summary object.
        #[arg(long)]
        json: bool,
        /// Send --count SYNs as fast as possible (or at --rate), each with its own seq; no replies read.
        #[arg(long)]
        flood: bool,
        /// With --flood: frames per second.
        #[arg(long, requires = "flood")]
        rate: Option<f64>,
    },
    /// A TCP conversation, printed as a ladder as it happens. Without --dport,
    /// craft starts its own echo listener on a free lo port and talks to it.
    Handshake {
        /// Server port (default: craft's own listener).
        #[arg(long)]
        dport: Option<u16>,
        /// Server address.
        #[arg(long, default_value = "127.0.0.1")]
        dst: Ipv4Addr,
        /// Data to send after the handshake (escapes: 'hello\n').
        #[arg(long)]
        data: Option<String>,
        /// Wait for the peer's data and print it.
        #[arg(long)]
        recv: bool,
        /// Close gracefully (FIN both ways) instead of aborting with RST.
        #[arg(long)]
        close: bool,
        /// One JSON object per segment, then a summary.
        #[arg(long)]
        json: bool,
        /// Seconds to wait for the peer's data and FIN.
        #[arg(long, default_value_t = 2.0)]
        timeout: f64,
    },
    /// Send a packet built from an expression; with --count N, in batches, each frame built anew.
    Send {
        /// A packet expression.
        expr: String,
        /// How many frames.
        #[arg(long, short = 'c', default_value_t = 1)]
        count: u64,
        /// Frames per second (default: as fast as the kernel takes them).
        #[arg(long)]
        rate: Option<f64>,
        /// Vary a field per frame: tcp.seq=1-100000 (repeatable).
        #[arg(long, value_name = "LAYER.FIELD=LO-HI")]
        vary: Vec<String>,
        /// A JSON summary.
        #[arg(long)]
        json: bool,
    },
    /// Print packets seen on the interface.
    Sniff {
        /// Stop after this many packets.
        #[arg(long, short = 'c')]
        count: Option<usize>,
        /// Stop after this many seconds.
        #[arg(long)]
        timeout: Option<f64>,
        /// tcpdump-like filter: 'tcp port 1234', 'udp or icmp', 'src host 127.0.0.1'.
        #[arg(long)]
        filter: Option<String>,
    },
    /// Decode a capture file (pcap or pcapng).
    Read {
        /// The capture.
        file: PathBuf,
        /// Every field of every frame.
        #[arg(long)]
        show: bool,
        /// Hexdump of every frame.
        #[arg(long, conflicts_with = "show")]
        hex: bool,
        /// The first TCP conversation as a ladder diagram.
        #[arg(long, conflicts_with_all = ["show", "hex"])]
        flow: bool,
    },
    /// Check what stands between you and a working raw socket on lo.
    Doctor,
    /// Print a shell completion script: craft completions bash > /etc/bash_completion.d/craft
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let c = cli.common.clone();
    let code = match cli.cmd {
        None => repl_or_stdin(&c),
        Some(Cmd::Show { expr, hex, dump }) => show(&expr, hex, dump),
        Some(Cmd::Run {
            files,
            check,
            vars,
            keep_going,
            json,
        }) => run(
            &c,
            &files,
            &RunOptions {
                check,
                vars,
                keep_going,
                json,
            },
        ),
        Some(Cmd::Syn {
            dport,
            dst,
            sport,
            count,
            flood: true,
            rate,
            json,
            ..
        }) => {
            let mut pkt = commands::syn::syn_packet(dst, 0, dport, 0);
            if let Some(t) = pkt.tcp_mut() {
                t.sport = sport;
            }
            let seq = craft::wire::LayerKind::Tcp.field_index("seq").unwrap_or(2);
            let o = commands::flood::FloodOptions {
                count: u64::from(count),
                rate,
                vary: vec![commands::flood::Vary::scattered(2, seq, 32)],
                json,
            };
            with_live(&c, |live| {
                live.guard_rst = false;
                commands::flood::run(live, &pkt, &o)
            })
        }
        Some(Cmd::Syn {
            dport,
            dst,
            sport,
            count,
            interval,
            timeout,
            json,
            ..
        }) => {
            let o = commands::syn::SynOptions {
                dst,
                dport,
                sport,
                count: count.max(1),
                interval: secs(interval),
                timeout: secs(timeout),
                json,
            };
            with_live(&c, |live| {
                // A probe wants the kernel's RST to end the half-open connection: no guard.
                live.guard_rst = false;
                commands::syn::run(live, &o)
            })
        }
        Some(Cmd::Handshake {
            dport,
            dst,
            data,
            recv,
            close,
            json,
            timeout,
        }) => {
            let data = match data.map(|d| craft::lang::unescape(&d)).transpose() {
                Ok(d) => d,
                Err(e) => {
                    eprintln!("craft: --data: {e}");
                    return ExitCode::from(2);
                }
            };
            let own = dport.is_none();
            let o = commands::handshake::HandshakeOptions {
                dst,
                dport,
                // craft's own listener echoes: say something and read it back.
                data: data.or_else(|| own.then(|| b"hello\n".to_vec())),
                recv: recv || own,
                close: close || own,
                json,
                timeout: secs(timeout),
            };
            with_live(&c, |live| commands::handshake::run(live, &o))
        }
        Some(Cmd::Send {
            expr,
            count,
            rate,
            vary,
            json,
        }) if count > 1 || rate.is_some() || !vary.is_empty() || json => {
            let mut eng = new_engine(None);
            let pkt = match eng
                .eval_str(&expr)
                .and_then(|v| craft::engine::builtins::packet_arg("send", v, Default::default()))
            {
                Ok(p) => p.to_packet(),
                Err(e) => return ExitCode::from(report(&e) as u8),
            };
            if let Some(r) = rate.filter(|r| !(r.is_finite() && *r > 0.0)) {
                eprintln!("craft: --rate {r}: give frames per second, more than 0");
                return ExitCode::from(2);
            }
            with_live(&c, |live| {
                // Defaults (Ether layer, source port) first, so --vary can name every layer.
                let full = live.ready(&pkt)?;
                let vary = match vary
                    .iter()
                    .map(|v| commands::flood::Vary::parse(v, &full))
                    .collect::<Result<Vec<_>, _>>()
                {
                    Ok(v) => v,
                    Err(m) => {
                        eprintln!("craft: {m}");
                        return Ok(2);
                    }
                };
                commands::flood::run(
                    live,
                    &full,
                    &commands::flood::FloodOptions {
                        count,
                        rate,
                        vary,
                        json,
                    },
                )
            })
        }
        Some(Cmd::Send { expr, .. }) => eval_live(&c, &format!("send({expr})")),
        Some(Cmd::Sniff {
            count,
            timeout,
            filter,
        }) => {
            let filter =
                match craft::session::filter::Filter::parse(filter.as_deref().unwrap_or("")) {
                    Ok(f) => f,
                    Err(m) => {
                        eprintln!("craft: --filter: {m}");
                        return ExitCode::from(2);
                    }
                };
            with_live(&c, |live| {
                use std::io::Write as _;
                let mut out = std::io::stdout().lock();
                // Nothing is kept: a long capture stays flat in memory.
                live.sniff(
                    count,
                    timeout.map(secs),
                    false,
                    |p| filter.matches(p),
                    |r| {
                        let _ = writeln!(out, "{}", craft::render::summary(&r.pkt));
                    },
                )?;
                if let Ok((_, drops)) = live.link_mut()?.stats()
                    && drops > 0
                {
                    eprintln!(
                        "craft: the kernel dropped {drops} frames: the receive queue overflowed"
                    );
                }
                Ok(0)
            })
        }
        Some(Cmd::Read {
            file,
            show,
            hex,
            flow,
        }) => {
            let style = if flow {
                commands::read::ReadStyle::Flow
            } else if show {
                commands::read::ReadStyle::Show
            } else if hex {
                commands::read::ReadStyle::Hex
            } else {
                commands::read::ReadStyle::Summary
            };
            commands::read::run(&file, style, color())
        }
        Some(Cmd::Doctor) => commands::doctor::run(&c.iface),
        Some(Cmd::Completions { shell }) => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "craft", &mut std::io::stdout());
            0
        }
    };
    ExitCode::from(code.clamp(0, 255) as u8)
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(if s.is_finite() && s >= 0.0 {
        s.min(86400.0)
    } else {
        0.0
    })
}

fn color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn live_options(c: &Common) -> LiveOptions {
    LiveOptions {
        iface: c.iface.clone(),
        setup: !c.no_setup,
        pcap: c.pcap.clone(),
    }
}

/// SIGINT and SIGTERM set the interrupt flag: waits end, the run unwinds, and
/// the host preparation is undone on the way out.
fn install_signal_handlers() {
    extern "C" fn on_signal(_: libc::c_int) {
        craft::link::interrupted().store(true, std::sync::atomic::Ordering::SeqCst);
    }
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_signal as *const () as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGINT, &sa, std::ptr::null_mut());
        libc::sigaction(libc::SIGTERM, &sa, std::ptr::null_mut());
    }
}

fn with_live(c: &Common, f: impl FnOnce(&mut Live) -> Result<i32, craft::live::LiveError>) -> i32 {
    install_signal_handlers();
    let mut live = Live::new(live_options(c));
    let code = match f(&mut live) {
        Ok(code) => code,
        Err(e) => live_exit(e),
    };
    for w in live.finish_fast() {
        eprintln!("craft: {w}");
    }
    code
}

fn new_engine(c: Option<&Common>) -> Engine {
    let mut e = Engine::new(Box::new(std::io::stdout()));
    e.color = color();
    if let Some(c) = c {
        e.live = Some(Live::new(live_options(c)));
    }
    e
}

fn finish(mut eng: Engine, code: i32) -> i32 {
    if let Some(live) = eng.live.take() {
        for w in live.finish_fast() {
            eprintln!("craft: {w}");
        }
    }
    code
}

fn eval_live(c: &Common, src: &str) -> i32 {
    install_signal_handlers();
    let mut eng = new_engine(Some(c));
    eng.report_expects = false;
    let code = match eng.run_source("", src) {
        Ok(()) => 0,
        Err(e) if e.kind == ErrorKind::Interrupted => 130,
        Err(e) => report(&e),
    };
    finish(eng, code)
}

fn show(expr: &str, hex: bool, dump: bool) -> i32 {
    let mut eng = new_engine(None);
    let v = match eng.eval_str(expr) {
        Ok(v) => v,
        Err(e) => return report(&e),
    };
    let pkt = match craft::engine::builtins::packet_arg("show", v, Default::default()) {
        Ok(p) => p.to_packet(),
        Err(e) => return report(&e),
    };
    let text = if hex {
        craft::render::hex_line(&pkt)
    } else if dump {
        craft::render::hexdump(&pkt, eng.color)
    } else {
        craft::render::show(&pkt)
    };
    eng.print(&text);
    0
}

struct RunOptions {
    check: bool,
    vars: Vec<String>,
    keep_going: bool,
    json: bool,
}

fn run(c: &Common, files: &[PathBuf], o: &RunOptions) -> i32 {
    let names: Vec<String> = o
        .vars
        .iter()
        .filter_map(|v| v.split_once('=').map(|(n, _)| n.trim().to_string()))
        .collect();
    if o.check {
        return commands_check(files, &names);
    }
    install_signal_handlers();
    let mut worst = 0;
    for f in files {
        let mut eng = new_engine(Some(c));
        eng.keep_going = o.keep_going;
        for v in &o.vars {
            let Some((name, value)) = v.split_once('=') else {
                eprintln!("craft: --var {v}: write it as name=value");
                return 2;
            };
            let val = eng
                .eval_str(value)
                .unwrap_or_else(|_| Value::Str(value.as_bytes().to_vec()));
            eng.set_var(name.trim(), val);
        }
        let r = eng.run_file(f);
        let first_failure = eng.failures.first().cloned();
        let failures = eng.failures.len();
        let (code, err) = match (r, first_failure) {
            (Ok(()), None) => (0, None),
            (Ok(()), Some(e)) => (1, Some(e)),
            (Err(e), _) => {
                let code = report(&e);
                (code, Some(e))
            }
        };
        let file = f.display().to_string();
        if o.json {
            let mut fields = vec![
                ("file", J::Str(file.clone())),
                (
                    "result",
                    J::Str(
                        match code {
                            0 => "passed",
                            1 => "failed",
                            130 => "interrupted",
                            _ => "error",
                        }
                        .into(),
                    ),
                ),
                ("exit", J::Int(code.into())),
                (
                    "failures",
                    J::Int((failures.max(usize::from(code == 1))) as i64),
                ),
            ];
            if let Some(e) = &err {
                fields.push((
                    "at",
                    J::Str(format!(
                        "{}:{}:{}",
                        if e.file.is_empty() { &file } else { &e.file },
                        e.pos.line,
                        e.pos.col
                    )),
                ));
                fields.push(("message", J::Str(e.msg.clone())));
            }
            println!("{}", object(&fields));
        } else {
            match &err {
                None => println!("{file}: passed"),
                Some(e) => println!(
                    "{file}: failed at {}:{}",
                    if e.file.is_empty() { &file } else { &e.file },
                    e.pos.line
                ),
            }
        }
        finish(eng, 0);
        if code == 130 {
            return 130;
        }
        if worst == 0 || code == 2 || code == 4 {
            worst = code;
        }
    }
    worst
}

fn commands_check(files: &[PathBuf], given: &[String]) -> i32 {
    let mut worst = 0;
    for f in files {
        match craft::engine::check::check_file(f, given) {
            Ok(()) => println!("{}: ok", f.display()),
            Err(e) => {
                eprintln!("craft: {e}");
                worst = 2;
            }
        }
    }
    worst
}

fn repl_or_stdin(c: &Common) -> i32 {
    install_signal_handlers();
    let mut eng = new_engine(Some(c));
    if std::io::stdin().is_terminal() {
        let code = craft::repl::run_interactive(eng);
        return code;
    }
    let mut src = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut src) {
        eprintln!("craft: cannot read standard input: {e}");
        return 2;
    }
    let code = match eng.run_source("<stdin>", &src) {
        Ok(()) => 0,
        Err(e) => report(&e),
    };
    finish(eng, code)
}
