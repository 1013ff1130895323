//! The interactive shell: rustyline with history, completion and hints asked
//! of the same engine that evaluates. When stdin is not a terminal, input is
//! read whole and run like a recipe.

use crate::engine::{Engine, ErrorKind, complete};
use crate::lang::parse_program;
use crate::outcome::Outcome;
use crate::output::warn;
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Editor, Helper};
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

struct ReplHelper {
    engine: Rc<RefCell<Engine>>,
}

impl Completer for ReplHelper {
    type Candidate = Pair;
    fn complete(
        &self,
        line: &str,
        pos: usize,
        _: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let (start, cands) = complete::complete(&self.engine.borrow(), line, pos);
        Ok((
            start,
            cands
                .into_iter()
                .map(|c| Pair {
                    display: c.display,
                    replacement: c.replacement,
                })
                .collect(),
        ))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
    fn hint(&self, line: &str, pos: usize, _: &Context<'_>) -> Option<String> {
        complete::hint(&self.engine.borrow(), line, pos)
    }
}

impl Highlighter for ReplHelper {}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        // Unclosed brackets or strings continue on the next line.
        match parse_program(ctx.input()) {
            Err(e) if e.incomplete => Ok(ValidationResult::Incomplete),
            _ => Ok(ValidationResult::Valid(None)),
        }
    }
}

impl Helper for ReplHelper {}

fn history_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(base.join("craft").join("history"))
}

/// Consecutive read errors after which the shell gives up (a broken terminal).
const MAX_READ_ERRORS: u32 = 100;

/// Runs the interactive shell until Ctrl-D.
pub fn run_interactive(engine: Engine) -> Outcome {
    let engine = Rc::new(RefCell::new(engine));
    let config = rustyline::Config::builder()
        .completion_type(rustyline::CompletionType::List)
        .build();
    let mut rl: Editor<ReplHelper, DefaultHistory> = match Editor::with_config(config) {
        Ok(r) => r,
        Err(e) => {
            warn(&format!("craft: cannot start the line editor: {e}"));
            return Outcome::Error;
        }
    };
    rl.set_helper(Some(ReplHelper {
        engine: engine.clone(),
    }));
    let hist = history_path();
    if let Some(h) = &hist {
        let _ = rl.load_history(h);
    }
    let banner = format!(
        "craft {}: build packets layer by layer. help() lists what there is; Tab completes; Ctrl-D leaves.",
        env!("CARGO_PKG_VERSION")
    );
    let mut outcome = Outcome::Success;
    if engine.borrow_mut().print(&banner).is_err() {
        return Outcome::OutputClosed;
    }
    let mut errors = 0;
    loop {
        match rl.readline("craft> ") {
            Ok(line) => {
                errors = 0;
                if line.trim().is_empty() {
                    continue;
                }
                let _ = rl.add_history_entry(line.as_str());
                crate::link::interrupted().store(false, std::sync::atomic::Ordering::SeqCst);
                if let Err(e) = engine.borrow_mut().run_source("", &line) {
                    match e.kind {
                        ErrorKind::OutputClosed => {
                            outcome = Outcome::OutputClosed;
                            break;
                        }
                        ErrorKind::Expect => warn(&e.to_string()),
                        _ => warn(&format!("error: {e}")),
                    }
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                // Bytes that are not UTF-8, say: say so and read on.
                errors += 1;
                warn(&format!("craft: {e} (ignored)"));
                if errors >= MAX_READ_ERRORS {
                    outcome = Outcome::Error;
                    break;
                }
            }
        }
    }
    if let Some(h) = &hist {
        if let Some(dir) = h.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = rl.save_history(h);
    }
    outcome
}
