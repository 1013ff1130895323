//! `craft drill SCRIPT.pkt`: a packetdrill script against the local kernel
//! over lo, in a network namespace of its own (made here; `--here` runs in
//! the current one). Exit 0 when every event happened as scripted, 1 at the
//! first difference (`file:line: expected ... got ...`), 2 for a script
//! craft cannot read or a feature it does not run (named).

use crate::drill::parse::parse_with;
use crate::drill::run::{self, Config, Failure, Runner};
use crate::engine::{EvalResult, Runtime};
use crate::live::{Live, LiveOptions};
use crate::outcome::Outcome;
use crate::output::warn;
use std::path::PathBuf;

/// What `craft drill` was asked.
#[derive(Clone, Debug, Default)]
pub struct DrillOptions {
    /// The script.
    pub script: PathBuf,
    /// `-D NAME=VALUE`.
    pub defines: Vec<(String, String)>,
    /// `--tolerance-usecs`.
    pub tolerance_usecs: Option<i64>,
    /// `--verbose`: each event as it happens.
    pub verbose: bool,
    /// Run in the current network namespace instead of a new one.
    pub here: bool,
    /// Write every frame to this pcap.
    pub pcap: Option<PathBuf>,
    /// Print the script as a craft recipe instead of running it.
    pub to_recipe: bool,
}

/// Reads, checks and runs the script.
pub fn run(rt: &mut Runtime, o: &DrillOptions) -> EvalResult<Outcome> {
    let name = o.script.display().to_string();
    let text = match std::fs::read_to_string(&o.script) {
        Ok(t) => t,
        Err(e) => {
            warn(&format!("{name}: {e}"));
            return Ok(Outcome::Error);
        }
    };
    let script = match parse_with(&text, &o.defines) {
        Ok(s) => s,
        Err(e) => {
            warn(&format!("{name}:{e}"));
            return Ok(Outcome::Error);
        }
    };
    if o.to_recipe {
        let lines: Vec<&str> = text.lines().collect();
        rt.print(&crate::drill::recipe::to_recipe(&script, &name, &lines))?;
        return Ok(Outcome::Success);
    }
    let mut cfg = Config {
        defines: o.defines.clone(),
        dir: o
            .script
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(".")),
        verbose: o.verbose,
        ..Config::default()
    };
    let prepared = run::apply_options(&script, &mut cfg).and_then(|mtu| {
        run::check_supported(&script)?;
        Ok(mtu)
    });
    let mtu = match prepared {
        Ok(m) => m,
        Err(f) => return report(rt, &name, f),
    };
    if let Some(t) = o.tolerance_usecs {
        cfg.tolerance_usecs = t;
    }
    if !o.here
        && let Err(e) = crate::host::netns::enter_private(mtu.unwrap_or(1500), run::LOCAL_IP)
    {
        warn(&format!(
            "{name}: a network namespace of its own: {e} (craft drill needs root; --here runs in the current namespace)"
        ));
        return Ok(if e.is_permission() {
            Outcome::NotPermitted
        } else {
            Outcome::Error
        });
    }
    // Setup commands written for packetdrill expect its tun0 to exist.
    let _tun0 = if o.here {
        None
    } else {
        match crate::host::netns::tun0() {
            Ok(fd) => Some(fd),
            Err(e) => {
                warn(&format!("{name}: note: no tun0 for setup commands: {e}"));
                None
            }
        }
    };
    if o.here
        && let Some(m) = mtu
    {
        warn(&format!(
            "{name}: note: --here leaves the route's MTU as it is (the script asks for {m})"
        ));
    }
    let mut live = Live::new(LiveOptions {
        iface: "lo".into(),
        setup: true,
        pcap: o.pcap.clone(),
    });
    // --verbose lines are printed as the events happen (a closed stdout
    // is noticed by the next print after the run).
    let result = {
        let mut say = |s: &str| {
            let _ = rt.print(s);
        };
        let mut r = Runner::new(&cfg, &mut live, &mut say);
        r.run(&script)
    };
    for w in live.finish_fast() {
        warn(&w);
    }
    match result {
        Ok(()) => {
            rt.print(&format!(
                "{name}: {} events as scripted",
                script.events.len()
            ))?;
            Ok(Outcome::Success)
        }
        Err(f) => report(rt, &name, f),
    }
}

fn report(_rt: &mut Runtime, name: &str, f: Failure) -> EvalResult<Outcome> {
    Ok(match f {
        Failure::Mismatch { line, msg, detail } => {
            warn(&format!("{name}:{line}: {msg}"));
            for d in detail {
                warn(&d);
            }
            Outcome::CheckFailed
        }
        Failure::Unsupported { line, msg } => {
            warn(&format!("{name}:{line}: unsupported: {msg}"));
            Outcome::Error
        }
        Failure::Setup(m) => {
            warn(&format!("{name}: {m}"));
            Outcome::Error
        }
        Failure::NotPermitted(m) => {
            warn(&format!("{name}: {m}"));
            Outcome::NotPermitted
        }
        Failure::Interrupted => Outcome::Interrupted,
    })
}
