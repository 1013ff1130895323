//! craft: the command line. Flags become a plan; the plan runs on the engine
//! and runtime the language uses; its outcome becomes the exit code in one
//! place (`Outcome::exit_code`), and an error is printed once, here.

use clap::{Args as ClapArgs, Parser, Subcommand};
use craft::commands::{self, handshake, listen, read, run, scan, send, show, sniff, syn};
use craft::engine::{Engine, Error, EvalResult, Runtime};
use craft::live::LiveOptions;
use craft::outcome::Outcome;
use craft::output::Output;
use std::io::IsTerminal;
use std::net::{IpAddr, Ipv4Addr};
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
    /// For the shell and piped input (also accepted before a command that goes live).
    #[command(flatten)]
    live: LiveFlags,
    #[command(flatten)]
    color: ColorFlag,
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

/// The flags of the commands that send and receive.
#[derive(ClapArgs, Clone, Default)]
struct LiveFlags {
    /// Interface to send and receive on [default: lo].
    #[arg(long, value_name = "NAME")]
    iface: Option<String>,
    /// Write every frame sent and received to this pcap file.
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
    /// Touch no sysctl and no firewall rule (prepare lo yourself).
    #[arg(long)]
    no_setup: bool,
}

impl LiveFlags {
    /// These flags given after the command, over those given before it.
    fn over(&self, top: &LiveFlags) -> LiveFlags {
        LiveFlags {
            iface: self.iface.clone().or_else(|| top.iface.clone()),
            pcap: self.pcap.clone().or_else(|| top.pcap.clone()),
            no_setup: self.no_setup || top.no_setup,
        }
    }

    fn given(&self) -> Option<&'static str> {
        if self.iface.is_some() {
            Some("--iface")
        } else if self.pcap.is_some() {
            Some("--pcap")
        } else if self.no_setup {
            Some("--no-setup")
        } else {
            None
        }
    }
}

/// When to colour output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set (and not empty) or TERM is dumb.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

#[derive(ClapArgs, Clone, Default)]
struct ColorFlag {
    /// Colour hexdumps and followed streams: auto, always, never [default: auto].
    #[arg(long, value_enum, value_name = "WHEN")]
    color: Option<ColorChoice>,
}

impl ColorFlag {
    fn over(&self, top: &ColorFlag) -> ColorChoice {
        self.color.or(top.color).unwrap_or_default()
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Build a packet from an expression and show it (offline; needs no privileges).
    Show {
        #[command(flatten)]
        color: ColorFlag,
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
        #[command(flatten)]
        live: LiveFlags,
        #[command(flatten)]
        color: ColorFlag,
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
        #[command(flatten)]
        live: LiveFlags,
        /// Destination port.
        #[arg(long)]
        dport: u16,
        /// Destination address (127.0.0.0/8 or ::1).
        #[arg(long, default_value = "127.0.0.1")]
        dst: IpAddr,
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
    /// A SYN scan (like nmap -sS): probes in sendmmsg batches, each port open,
    /// closed or filtered; the kernel's RST ends each half-open connection.
    Scan {
        #[command(flatten)]
        live: LiveFlags,
        /// Ports: 1-65535, 22,80,443, 8000-8100.
        #[arg(long, short = 'p')]
        ports: String,
        /// Destination address.
        #[arg(long, default_value = "127.0.0.1")]
        dst: Ipv4Addr,
        /// Seconds to wait for answers after the last probe.
        #[arg(long, default_value_t = 1.0)]
        timeout: f64,
        /// Rounds for the probes nothing answered.
        #[arg(long, default_value_t = 0)]
        retry: usize,
        /// List closed ports too (by default only open and filtered ones).
        #[arg(long)]
        all: bool,
        /// One JSON object per port listed, then a summary object.
        #[arg(long)]
        json: bool,
    },
    /// A TCP conversation, printed as a ladder as it happens. Without --dport,
    /// craft starts its own echo listener on a free lo port and talks to it.
    Handshake {
        #[command(flatten)]
        live: LiveFlags,
        /// Server port (default: craft's own listener).
        #[arg(long)]
        dport: Option<u16>,
        /// Server address (127.0.0.0/8 or ::1).
        #[arg(long, default_value = "127.0.0.1")]
        dst: IpAddr,
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
        /// Seconds to wait for the peer's data and FIN (with --listen, for the client too).
        #[arg(long, default_value_t = 2.0)]
        timeout: f64,
        /// Play the server: wait on this port for one client (nc, curl), answer
        /// its handshake and draw the ladder; the same as `craft listen --once`.
        #[arg(long, value_name = "PORT", conflicts_with_all = ["dport", "recv", "close"])]
        listen: Option<u16>,
    },
    /// craft as the server: waits for a client's SYN on --port, answers with
    /// crafted segments and draws the ladder as it happens; exit 0 after clean
    /// closes, 3 when no client came within --timeout.
    Listen {
        #[command(flatten)]
        live: LiveFlags,
        /// The port to answer on.
        #[arg(long)]
        port: u16,
        /// The address clients connect to (127.0.0.0/8 or ::1).
        #[arg(long, default_value = "127.0.0.1")]
        addr: IpAddr,
        /// Data to send after the handshake (escapes: 'hi\n').
        #[arg(long)]
        data: Option<String>,
        /// Send back what the client sends.
        #[arg(long)]
        echo: bool,
        /// End after the first connection.
        #[arg(long)]
        once: bool,
        /// One JSON object per segment, then a summary per connection.
        #[arg(long)]
        json: bool,
        /// Seconds to wait for a client, and for its data and FIN.
        #[arg(long, default_value_t = 30.0)]
        timeout: f64,
    },
    /// Send a packet built from an expression; with --count N, in batches, each frame built anew.
    Send {
        #[command(flatten)]
        live: LiveFlags,
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
        /// Send an odd stack as it is (TCP, UDP or ICMP with no IP layer below it).
        #[arg(long)]
        raw: bool,
    },
    /// Print packets seen on the interface.
    Sniff {
        #[command(flatten)]
        live: LiveFlags,
        /// Stop after this many packets.
        #[arg(long, short = 'c')]
        count: Option<usize>,
        /// Stop after this many seconds.
        #[arg(long)]
        timeout: Option<f64>,
        /// A tcpdump filter (pcap-filter syntax), run by the kernel: 'tcp port 1234',
        /// 'udp or icmp', 'tcp[tcpflags] & tcp-syn != 0'.
        #[arg(long)]
        filter: Option<String>,
    },
    /// Decode a capture file (pcap or pcapng).
    Read {
        #[command(flatten)]
        color: ColorFlag,
        /// The capture.
        file: PathBuf,
        /// Every field of every frame.
        #[arg(long)]
        show: bool,
        /// Hexdump of every frame.
        #[arg(long, conflicts_with = "show")]
        hex: bool,
        /// A TCP conversation as a ladder diagram (the first; --stream N for another).
        #[arg(long, conflicts_with_all = ["show", "hex"])]
        flow: bool,
        /// A TCP conversation's data both ways, like Wireshark's Follow TCP Stream.
        #[arg(long, conflicts_with_all = ["show", "hex", "flow"])]
        follow: bool,
        /// Which TCP conversation for --flow or --follow: 0 is the first, as Wireshark's tcp.stream.
        #[arg(long, default_value_t = 0, value_name = "N")]
        stream: usize,
        /// Only the frames a tcpdump filter (pcap-filter syntax) takes: 'tcp port 80'.
        #[arg(long)]
        filter: Option<String>,
    },
    /// Run a packetdrill script against the local kernel over lo: exit 0 when
    /// every event happened as scripted, 1 at the first difference, 2 for a
    /// script craft cannot read or run (needs root: a network namespace of its own).
    Drill {
        /// The script (.pkt).
        script: PathBuf,
        /// Define NAME=VALUE: the word NAME in the script stands for VALUE (also in shell commands' environment).
        #[arg(short = 'D', value_name = "NAME=VALUE")]
        defines: Vec<String>,
        /// Timing tolerance in microseconds (or 12.5 % of the interval, whichever is larger).
        #[arg(long, value_name = "N")]
        tolerance_usecs: Option<i64>,
        /// Print each event as it happens.
        #[arg(long, short = 'v')]
        verbose: bool,
        /// Run in the current network namespace instead of a new one.
        #[arg(long)]
        here: bool,
        /// Write every frame sent and received to this pcap file.
        #[arg(long, value_name = "FILE")]
        pcap: Option<PathBuf>,
        /// Print the script as a commented craft recipe instead (offline).
        #[arg(long)]
        to_recipe: bool,
    },
    /// Check what stands between you and a working raw socket on lo.
    Doctor {
        /// The interface to check [default: lo].
        #[arg(long, value_name = "NAME")]
        iface: Option<String>,
    },
    /// Print a shell completion script: craft completions bash > /etc/bash_completion.d/craft
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match dispatch(cli) {
        Ok(o) => o,
        Err(e) => {
            e.report();
            e.outcome()
        }
    };
    ExitCode::from(outcome.exit_code())
}

/// Runs the command the flags name.
fn dispatch(cli: Cli) -> EvalResult<Outcome> {
    let top = cli.live;
    let tc = cli.color;
    // Flags before an offline command would mean nothing: say so.
    let offline_cmd = |name: &str| -> EvalResult<()> {
        match top.given() {
            Some(flag) => Err(Error::usage(format!(
                "{flag} means nothing for craft {name} (it sends and receives nothing)"
            ))),
            None => Ok(()),
        }
    };
    match cli.cmd {
        None => shell_or_stdin(&top, tc.over(&ColorFlag::default())),
        Some(Cmd::Show {
            color,
            expr,
            hex,
            dump,
        }) => {
            offline_cmd("show")?;
            let style = if hex {
                show::ShowStyle::Hex
            } else if dump {
                show::ShowStyle::Dump
            } else {
                show::ShowStyle::Fields
            };
            show::run(&mut Engine::on(offline(color.over(&tc))), &expr, style)
        }
        Some(Cmd::Run {
            live: l,
            color,
            files,
            check,
            vars,
            keep_going,
            json,
        }) => {
            let plan = run::RunPlan {
                files,
                vars: vars
                    .iter()
                    .map(|v| run::parse_var(v))
                    .collect::<Result<_, _>>()?,
                json,
            };
            if check {
                return run::check(&mut Engine::on(offline(color.over(&tc))), &plan);
            }
            let mut eng = Engine::on(live(&l.over(&top), color.over(&tc)));
            eng.rt.opts.keep_going = keep_going;
            run::run(&mut eng, &plan)
        }
        Some(Cmd::Syn {
            live: l,
            dport,
            dst,
            sport,
            count,
            flood: true,
            rate,
            json,
            ..
        }) => {
            let o = syn::FloodOptions {
                dst,
                dport,
                sport,
                count: u64::from(count),
                rate,
                json,
            };
            syn::flood(&mut live(&l.over(&top), ColorChoice::Never), &o)
        }
        Some(Cmd::Syn {
            live: l,
            dport,
            dst,
            sport,
            count,
            interval,
            timeout,
            json,
            ..
        }) => {
            let o = syn::SynOptions {
                dst,
                dport,
                sport,
                count: count.max(1),
                interval: secs(interval),
                timeout: secs(timeout),
                json,
            };
            syn::run(&mut live(&l.over(&top), ColorChoice::Never), &o)
        }
        Some(Cmd::Scan {
            live: l,
            ports,
            dst,
            timeout,
            retry,
            all,
            json,
        }) => {
            let o = scan::ScanOptions {
                dst,
                ports,
                timeout: secs(timeout),
                retry: retry.min(100),
                all,
                json,
            };
            scan::run(&mut live(&l.over(&top), ColorChoice::Never), &o)
        }
        Some(Cmd::Handshake {
            live: l,
            dst,
            data,
            json,
            timeout,
            listen: Some(port),
            ..
        }) => {
            let data = data
                .map(|d| craft::lang::unescape(&d))
                .transpose()
                .map_err(|e| Error::usage(format!("--data: {e}")))?;
            let o = listen::ListenOptions {
                addr: dst,
                port,
                data,
                echo: false,
                once: true,
                json,
                timeout: secs(timeout),
            };
            listen::run(&mut live(&l.over(&top), ColorChoice::Never), &o)
        }
        Some(Cmd::Handshake {
            live: l,
            dport,
            dst,
            data,
            recv,
            close,
            json,
            timeout,
            listen: None,
        }) => {
            let data = data
                .map(|d| craft::lang::unescape(&d))
                .transpose()
                .map_err(|e| Error::usage(format!("--data: {e}")))?;
            let own = dport.is_none();
            let o = handshake::HandshakeOptions {
                dst,
                dport,
                // craft's own listener echoes: say something and read it back.
                data: data.or_else(|| own.then(|| b"hello\n".to_vec())),
                recv: recv || own,
                close: close || own,
                json,
                timeout: secs(timeout),
            };
            handshake::run(&mut live(&l.over(&top), ColorChoice::Never), &o)
        }
        Some(Cmd::Listen {
            live: l,
            port,
            addr,
            data,
            echo,
            once,
            json,
            timeout,
        }) => {
            let data = data
                .map(|d| craft::lang::unescape(&d))
                .transpose()
                .map_err(|e| Error::usage(format!("--data: {e}")))?;
            let o = listen::ListenOptions {
                addr,
                port,
                data,
                echo,
                once,
                json,
                timeout: secs(timeout),
            };
            listen::run(&mut live(&l.over(&top), ColorChoice::Never), &o)
        }
        Some(Cmd::Send {
            live: l,
            expr,
            count,
            rate,
            vary,
            json,
            raw,
        }) => {
            let o = send::SendOptions {
                expr,
                count,
                rate,
                vary,
                json,
                raw,
            };
            send::run(&mut Engine::on(live(&l.over(&top), ColorChoice::Never)), &o)
        }
        Some(Cmd::Sniff {
            live: l,
            count,
            timeout,
            filter,
        }) => {
            let o = sniff::SniffOptions {
                count,
                timeout: timeout.map(secs),
                filter: filter.unwrap_or_default(),
            };
            sniff::run(&mut live(&l.over(&top), ColorChoice::Never), &o)
        }
        Some(Cmd::Read {
            color,
            file,
            show,
            hex,
            flow,
            follow,
            stream,
            filter,
        }) => {
            offline_cmd("read")?;
            let style = if flow || follow {
                read::ReadStyle::Flow { stream, follow }
            } else if show {
                read::ReadStyle::Show
            } else if hex {
                read::ReadStyle::Hex
            } else {
                read::ReadStyle::Summary
            };
            let filter = craft::wire::bpf::Filter::parse(filter.as_deref().unwrap_or(""))
                .map_err(|m| Error::usage(format!("--filter: {m}")))?;
            read::run(&mut offline(color.over(&tc)), &file, style, &filter)
        }
        Some(Cmd::Drill {
            script,
            defines,
            tolerance_usecs,
            verbose,
            here,
            pcap,
            to_recipe,
        }) => {
            let defines = defines
                .iter()
                .map(|d| {
                    d.split_once('=')
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .ok_or_else(|| Error::usage(format!("-D {d}: expected NAME=VALUE")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let o = commands::drill::DrillOptions {
                script,
                defines,
                tolerance_usecs,
                verbose,
                here,
                pcap: pcap.or(top.pcap),
                to_recipe,
            };
            commands::drill::run(&mut offline(ColorChoice::Never), &o)
        }
        Some(Cmd::Doctor { iface }) => {
            if top.pcap.is_some() || top.no_setup {
                offline_cmd("doctor")?;
            }
            let iface = iface.or(top.iface).unwrap_or_else(|| "lo".into());
            commands::doctor::run(&mut offline(ColorChoice::Never), &iface)
        }
        Some(Cmd::Completions { shell }) => {
            offline_cmd("completions")?;
            use clap::CommandFactory;
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "craft", &mut script);
            offline(ColorChoice::Never).print_raw(&String::from_utf8_lossy(&script))?;
            Ok(Outcome::Success)
        }
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(if s.is_finite() && s >= 0.0 {
        s.min(86400.0)
    } else {
        0.0
    })
}

/// Whether to colour: `--color`, else on a terminal unless NO_COLOR is set
/// to something (no-color.org: an empty NO_COLOR counts as unset) or TERM is dumb.
fn color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => craft::output::auto_color(
            std::io::stdout().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
            std::env::var_os("TERM").as_deref(),
        ),
    }
}

/// A runtime that sends nothing, printing to stdout.
fn offline(c: ColorChoice) -> Runtime {
    let mut rt = Runtime::offline(Output::stdout());
    rt.opts.color = color(c);
    rt
}

/// A runtime that may send on the interface the flags name.
fn live(l: &LiveFlags, c: ColorChoice) -> Runtime {
    let mut rt = Runtime::on_interface(
        Output::stdout(),
        LiveOptions {
            iface: l.iface.clone().unwrap_or_else(|| "lo".into()),
            setup: !l.no_setup,
            pcap: l.pcap.clone(),
        },
    );
    rt.opts.color = color(c);
    rt
}

/// The shell on a terminal; piped input runs like a recipe.
fn shell_or_stdin(l: &LiveFlags, c: ColorChoice) -> EvalResult<Outcome> {
    let mut eng = Engine::on(live(l, c));
    if std::io::stdin().is_terminal() {
        return Ok(craft::repl::run_interactive(eng));
    }
    run::stdin(&mut eng, std::io::stdin().lock())
}
