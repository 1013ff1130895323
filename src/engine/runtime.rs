//! The per-process runtime: the live link (one socket, one host preparation
//! for the whole run), the output sink, the run's options, and the sessions
//! open in it. Recipes, the shell and the one-shot commands all run on it;
//! the interpreter state of each recipe file lives apart (see [`super::Interp`]).

use super::error::{EvalResult, live_error};
use crate::host::ksock::{KernelListener, KernelSocket};
use crate::lang::Pos;
use crate::live::{Live, LiveOptions};
use crate::output::{Output, warn};
use crate::session::conn::Conn;
use crate::wire::Packet;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::time::SystemTime;

/// How output looks and what is reported.
#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    /// Colour output (hexdump, follow).
    pub color: bool,
    /// Print the value of expression statements and what builtins sent (REPL, recipes).
    pub echo: bool,
    /// Print a line for each `expect` that holds.
    pub report_expects: bool,
    /// Go on after a failed `expect` (recipes with --keep-going).
    pub keep_going: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            color: false,
            echo: true,
            report_expects: true,
            keep_going: false,
        }
    }
}

/// The runtime of one craft process.
pub struct Runtime {
    /// The live link, when this run may send; None offline (`craft show`, `--check`).
    pub live: Option<Live>,
    out: Output,
    /// Options.
    pub opts: RunOptions,
    sessions: Vec<Weak<RefCell<Conn>>>,
    /// Kernel sockets from `tcp_connect()`: closed at the end of the run.
    sockets: Vec<Weak<RefCell<KernelSocket>>>,
    /// Kernel listeners from `tcp_listen()`: closed at the end of the run.
    klisteners: Vec<Weak<RefCell<KernelListener>>>,
}

impl Runtime {
    /// An offline runtime writing to `out`.
    pub fn offline(out: Output) -> Runtime {
        Runtime {
            live: None,
            out,
            opts: RunOptions::default(),
            sessions: Vec::new(),
            sockets: Vec::new(),
            klisteners: Vec::new(),
        }
    }

    /// A runtime that may send on the interface `opts` names (the link opens
    /// on first use). Ctrl-C and SIGTERM end waits from now on, so the host
    /// preparation is undone on the way out.
    pub fn on_interface(out: Output, opts: LiveOptions) -> Runtime {
        crate::link::catch_interrupts();
        Runtime::with_live(out, Live::new(opts))
    }

    /// A runtime over a given live context (tests: an in-memory link).
    pub fn with_live(out: Output, live: Live) -> Runtime {
        let mut rt = Runtime::offline(out);
        rt.live = Some(live);
        rt
    }

    /// Writes a line (or lines) to the output.
    pub fn print(&mut self, s: &str) -> EvalResult<()> {
        Ok(self.out.line(s)?)
    }

    /// Writes text as it is.
    pub fn print_raw(&mut self, s: &str) -> EvalResult<()> {
        Ok(self.out.text(s)?)
    }

    /// Puts `out` in place of the output sink; returns the one it replaces.
    pub fn swap_output(&mut self, out: Output) -> Output {
        std::mem::replace(&mut self.out, out)
    }

    /// The output sink.
    pub fn out(&mut self) -> &mut Output {
        &mut self.out
    }

    /// The live link, or an error saying this run is offline.
    pub fn live(&mut self, pos: Pos) -> EvalResult<&mut Live> {
        self.live.as_mut().ok_or_else(|| {
            super::Error::eval(
                pos,
                "this run is offline (craft show, craft run --check): sending needs `craft`, `craft run` or piped input",
            )
        })
    }

    /// The live link and the output at once (a command that prints as it goes).
    pub fn link_and_output(&mut self, pos: Pos) -> EvalResult<(&mut Live, &mut Output)> {
        self.live(pos)?;
        let live = self.live.as_mut().expect("checked above");
        Ok((live, &mut self.out))
    }

    /// Runs `f` on the live link, then shows the host preparation notes it
    /// collected; a live failure becomes an error at `pos`.
    pub fn with_link<T>(
        &mut self,
        pos: Pos,
        f: impl FnOnce(&mut Live) -> Result<T, crate::live::LiveError>,
    ) -> EvalResult<T> {
        let r = f(self.live(pos)?);
        self.flush_notes();
        r.map_err(|e| live_error(e, pos))
    }

    /// What to add to a "no reply" line: with `--no-setup`, where to look.
    pub fn no_reply_hint(&self) -> String {
        match &self.live {
            Some(l) if !l.prepares_host() => format!(" ({})", crate::live::NO_SETUP_HINT),
            _ => String::new(),
        }
    }

    /// Prints the host preparation notes the live link has collected (stderr).
    pub fn flush_notes(&mut self) {
        if let Some(live) = self.live.as_mut() {
            for n in live.take_notes() {
                warn(&n);
            }
        }
    }

    /// Remembers a session so that segments sent and received by hand keep it in step.
    pub fn track(&mut self, c: &Rc<RefCell<Conn>>) {
        self.sessions.retain(|w| w.strong_count() > 0);
        self.sessions.push(Rc::downgrade(c));
    }

    /// Remembers a kernel socket so that the end of the run closes it.
    pub fn track_socket(&mut self, k: &Rc<RefCell<KernelSocket>>) {
        self.sockets.retain(|w| w.strong_count() > 0);
        self.sockets.push(Rc::downgrade(k));
    }

    /// Remembers a kernel listener so that the end of the run closes it.
    pub fn track_klistener(&mut self, l: &Rc<RefCell<KernelListener>>) {
        self.klisteners.retain(|w| w.strong_count() > 0);
        self.klisteners.push(Rc::downgrade(l));
    }

    /// Keeps sessions in step with a segment sent by hand (`send`, `sr1`).
    pub fn observe_sent(&mut self, pkt: &Packet, ts: SystemTime) {
        self.sessions.retain(|w| w.strong_count() > 0);
        for c in self.sessions.iter().filter_map(Weak::upgrade) {
            let mut c = c.borrow_mut();
            if c.is_to_peer(pkt) {
                c.observe_sent(pkt, ts);
            }
        }
    }

    /// Keeps sessions in step with a segment received by `sr1` or `expect_packet`.
    pub fn observe_received(&mut self, pkt: &Packet, ts: SystemTime) {
        for c in self.sessions.iter().filter_map(Weak::upgrade) {
            let mut c = c.borrow_mut();
            if c.is_from_peer(pkt) {
                let _ = c.absorb(pkt, ts);
                let _ = c.take_events();
            }
        }
    }

    /// Ends the run: undoes the host preparation and hands the socket's slow
    /// close to a child (see [`Live::finish_fast`]). Warnings go to stderr.
    pub fn finish(&mut self) {
        for k in self.sockets.drain(..).filter_map(|w| w.upgrade()) {
            k.borrow_mut().close();
        }
        for l in self.klisteners.drain(..).filter_map(|w| w.upgrade()) {
            l.borrow_mut().close();
        }
        if let Some(live) = self.live.take() {
            for w in live.finish_fast() {
                warn(&format!("craft: {w}"));
            }
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.finish();
    }
}
