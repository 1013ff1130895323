//! craft: the command line. Parses arguments, runs the engine, maps outcomes
//! to exit codes: 0 ok, 1 a check failed, 2 usage/syntax/evaluation error,
//! 3 no reply in time, 4 not permitted.

use clap::{Parser, Subcommand};
use craft::engine::{Engine, ErrorKind};
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "craft", version, about = "Build packets layer by layer, send them on lo, match the replies, answer them.",
    long_about = "Build packets layer by layer, send them on lo, match the replies, answer them.\n\nWith no command, craft starts its interactive shell (or, with input piped in, runs it like a recipe).")]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build a packet from an expression and show it (needs no privileges).
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
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.cmd {
        None => repl_or_stdin(),
        Some(Cmd::Show { expr, hex, dump }) => show(&expr, hex, dump),
        Some(Cmd::Run { files }) => run(&files),
    };
    ExitCode::from(code as u8)
}

fn new_engine() -> Engine {
    let mut e = Engine::new(Box::new(std::io::stdout()));
    e.color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    e
}

fn report(e: &craft::engine::Error) -> i32 {
    if e.kind == ErrorKind::Expect {
        eprintln!("{e}");
    } else {
        eprintln!("craft: {e}");
    }
    e.kind.exit_code()
}

fn show(expr: &str, hex: bool, dump: bool) -> i32 {
    let mut eng = new_engine();
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

fn run(files: &[PathBuf]) -> i32 {
    let mut worst = 0;
    for f in files {
        let mut eng = new_engine();
        match eng.run_file(f) {
            Ok(()) => println!("{}: passed", f.display()),
            Err(e) => {
                let code = report(&e);
                println!("{}: failed at {}:{}", f.display(), f.display(), e.pos.line);
                if worst == 0 || code == 2 {
                    worst = code;
                }
            }
        }
    }
    worst
}

fn repl_or_stdin() -> i32 {
    let eng = new_engine();
    if std::io::stdin().is_terminal() {
        return craft::repl::run_interactive(eng);
    }
    let mut src = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut src) {
        eprintln!("craft: cannot read standard input: {e}");
        return 2;
    }
    let mut eng = eng;
    match eng.run_source("<stdin>", &src) {
        Ok(()) => 0,
        Err(e) => report(&e),
    }
}
