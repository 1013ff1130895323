//! The interactive shell: rustyline with history, completion and hints asked
//! of the same engine that evaluates. When stdin is not a terminal, input is
//! read whole and run like a recipe.

use crate::engine::{Engine, ErrorKind, builtins};
use crate::lang::parse_program;
use crate::wire::LayerKind;
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

/// Completion candidates for the word ending at `line[..pos]`: builtins,
/// layers and variables, or after `x.` the layers and fields of `x`.
pub fn complete(engine: &Engine, line: &str, pos: usize) -> (usize, Vec<String>) {
    let before = &line[..pos];
    let start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .map_or(0, |i| i + 1);
    let word = &before[start..];
    if let Some(dot) = word.rfind('.') {
        let (base, prefix) = (&word[..dot], &word[dot + 1..]);
        let mut cands = attr_candidates(engine, base);
        cands.retain(|c| c.starts_with(prefix));
        cands.sort();
        cands.dedup();
        return (start + dot + 1, cands);
    }
    let mut cands: Vec<String> = builtins::BUILTINS
        .iter()
        .map(|b| b.name.to_string())
        .collect();
    cands.extend(LayerKind::ALL.iter().map(|k| k.name().to_string()));
    cands.extend(engine.var_names());
    cands.extend(["expect", "include", "none", "true", "false"].map(String::from));
    cands.retain(|c| c.starts_with(word));
    cands.sort();
    cands.dedup();
    (start, cands)
}

/// Layers and fields reachable after `base.` (e.g. `p` or `p.tcp`).
fn attr_candidates(engine: &Engine, base: &str) -> Vec<String> {
    let mut parts = base.split('.');
    let Some(var) = parts.next() else {
        return Vec::new();
    };
    let view = match engine.var(var) {
        Some(crate::engine::Value::Packet(view)) => view,
        Some(crate::engine::Value::Session(_)) => {
            let mut out: Vec<String> = crate::engine::session::ATTRS
                .iter()
                .map(|a| a.to_string())
                .collect();
            out.extend(
                crate::engine::session::METHODS
                    .iter()
                    .map(|m| format!("{m}(")),
            );
            return out;
        }
        _ => return Vec::new(),
    };
    let mut start = view.start;
    for p in parts {
        match LayerKind::from_name(p).and_then(|k| {
            view.pkt
                .layers
                .iter()
                .skip(start)
                .position(|l| l.kind() == k)
        }) {
            Some(i) => start += i,
            None => return Vec::new(),
        }
    }
    let mut out = Vec::new();
    for l in view.pkt.layers.iter().skip(start) {
        out.push(l.kind().attr().to_string());
    }
    if let Some(l) = view.pkt.layers.get(start) {
        out.extend(l.kind().fields().iter().map(|f| f.name.to_string()));
    }
    out.push("payload".into());
    out
}

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
        let (start, cands) = complete(&self.engine.borrow(), line, pos);
        Ok((
            start,
            cands
                .into_iter()
                .map(|c| Pair {
                    display: c.clone(),
                    replacement: c,
                })
                .collect(),
        ))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
    fn hint(&self, line: &str, pos: usize, _: &Context<'_>) -> Option<String> {
        if pos < line.len() {
            return None;
        }
        // After `name(`, hint the builtin's usage.
        let open = line.rfind('(')?;
        if line[open..].contains(')') {
            return None;
        }
        let name_start = line[..open]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |i| i + 1);
        let b = builtins::lookup(&line[name_start..open])?;
        (line.len() == open + 1).then(|| format!("  {}  {}", b.usage, b.doc))
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

/// Runs the interactive shell until Ctrl-D. Returns the exit code.
pub fn run_interactive(engine: Engine) -> i32 {
    let engine = Rc::new(RefCell::new(engine));
    let mut rl: Editor<ReplHelper, DefaultHistory> = match Editor::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("craft: cannot start the line editor: {e}");
            return 2;
        }
    };
    rl.set_helper(Some(ReplHelper {
        engine: engine.clone(),
    }));
    let hist = history_path();
    if let Some(h) = &hist {
        let _ = rl.load_history(h);
    }
    println!(
        "craft {}: build packets layer by layer. help() lists what there is; Ctrl-D leaves.",
        env!("CARGO_PKG_VERSION")
    );
    loop {
        match rl.readline("craft> ") {
            Ok(line) => {
                if line.trim().is_empty() {
                    continue;
                }
                let _ = rl.add_history_entry(line.as_str());
                crate::link::interrupted().store(false, std::sync::atomic::Ordering::SeqCst);
                if let Err(e) = engine.borrow_mut().run_source("", &line) {
                    let prefix = if e.kind == ErrorKind::Expect {
                        ""
                    } else {
                        "error: "
                    };
                    eprintln!("{prefix}{e}");
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("craft: {e}");
                break;
            }
        }
    }
    if let Some(h) = &hist {
        if let Some(dir) = h.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = rl.save_history(h);
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine_with(src: &str) -> Engine {
        let mut e = Engine::new(Box::new(std::io::sink()));
        e.run_source("", src).unwrap();
        e
    }

    #[test]
    fn completes_builtins_layers_variables_and_fields() {
        let e = engine_with("pkt = Ether()/IP()/TCP(dport=80)\nport = 1234");
        assert_eq!(complete(&e, "sh", 2), (0, vec!["show".to_string()]));
        assert_eq!(complete(&e, "x = TC", 6).1, vec!["TCP".to_string()]);
        assert_eq!(complete(&e, "po", 2).1, vec!["port".to_string()]);
        let (start, c) = complete(&e, "pkt.tcp.s", 9);
        assert_eq!(start, 8);
        assert_eq!(c, vec!["seq".to_string(), "sport".to_string()]);
        let (_, c) = complete(&e, "pkt.", 4);
        assert!(
            c.contains(&"ip".to_string())
                && c.contains(&"tcp".to_string())
                && c.contains(&"dst".to_string()),
            "{c:?}"
        );
        assert!(complete(&e, "nothing.", 8).1.is_empty());
    }
}
