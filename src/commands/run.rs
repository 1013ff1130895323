//! `craft run FILE...` and piped input: recipes on one engine. The runtime
//! (one socket, one host preparation) is shared by every file; each file
//! gets a fresh interpreter state.

use crate::engine::{Engine, Error, ErrorKind, EvalResult, Value, check, source};
use crate::lang::{ExprKind, Pos, Stmt, StmtKind, parse_expr, parse_program_at};
use crate::outcome::Outcome;
use crate::output::Output;
use crate::render::json::{J, object};
use std::io::BufRead;
use std::path::PathBuf;

/// How to run recipes.
#[derive(Clone, Debug, Default)]
pub struct RunPlan {
    /// Recipe files, run in order.
    pub files: Vec<PathBuf>,
    /// `name=value` parameters.
    pub vars: Vec<(String, Value)>,
    /// One JSON object per file instead of the summary lines.
    pub json: bool,
}

/// Parses `--var name=value`: the value is a number, address or quoted
/// string as the language writes them, or else the text as it is (never a
/// builtin or a variable).
pub fn parse_var(spec: &str) -> Result<(String, Value), Error> {
    let Some((name, value)) = spec.split_once('=') else {
        return Err(Error::usage(format!(
            "--var {spec}: write it as name=value"
        )));
    };
    let name = name.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(Error::usage(format!(
            "--var {spec}: '{name}' is not a name (letters, digits, _)"
        )));
    }
    let is_literal = |k: &ExprKind| {
        matches!(
            k,
            ExprKind::Int(_)
                | ExprKind::Float(_)
                | ExprKind::Str(_)
                | ExprKind::Ip(_)
                | ExprKind::Mac(_)
                | ExprKind::Bool(_)
        )
    };
    let v = parse_expr(value)
        .ok()
        .filter(|e| match &e.kind {
            ExprKind::Unary(_, x) => is_literal(&x.kind),
            k => is_literal(k),
        })
        .and_then(|_| Engine::new(Box::new(std::io::sink())).eval_str(value).ok());
    Ok((
        name.to_string(),
        v.unwrap_or_else(|| Value::Str(value.as_bytes().to_vec().into())),
    ))
}

/// Refuses a `--var` that no file of the run asks for (a typo would
/// otherwise be silently ignored). Files that do not parse are left to the
/// run to report.
fn check_vars(plan: &RunPlan) -> EvalResult<()> {
    if plan.vars.is_empty() {
        return Ok(());
    }
    let mut wanted = std::collections::BTreeSet::new();
    for f in &plan.files {
        match check::wanted_names(f) {
            Ok(names) => wanted.extend(names),
            Err(_) => return Ok(()),
        }
    }
    for (name, _) in &plan.vars {
        if !wanted.contains(name) {
            let names: Vec<&str> = wanted.iter().map(String::as_str).collect();
            return Err(Error::usage(format!(
                "--var {name}: no recipe here asks for '{name}' (with param(\"{name}\", ...) or as a variable){}",
                crate::engine::suggest::did_you_mean(name, names)
            )));
        }
    }
    Ok(())
}

/// `craft run --check`: parses and checks names, sends nothing.
pub fn check(eng: &mut Engine, plan: &RunPlan) -> EvalResult<Outcome> {
    check_vars(plan)?;
    let given: Vec<String> = plan.vars.iter().map(|(n, _)| n.clone()).collect();
    let mut worst = Outcome::Success;
    for f in &plan.files {
        match check::check_file(f, &given) {
            Ok(()) => eng.print(&format!("{}: ok", f.display()))?,
            Err(e) => {
                e.report();
                worst = worst.worst(Outcome::Error);
            }
        }
    }
    Ok(worst)
}

/// Runs each file; the run's outcome is the worst of the files'. With
/// `--json`, stdout carries only the JSON objects: what the recipes print goes
/// to stderr.
pub fn run(eng: &mut Engine, plan: &RunPlan) -> EvalResult<Outcome> {
    check_vars(plan)?;
    if plan.json {
        let stdout = eng.rt.swap_output(Output::stderr());
        return run_files(eng, plan, Some(stdout));
    }
    run_files(eng, plan, None)
}

fn run_files(
    eng: &mut Engine,
    plan: &RunPlan,
    mut json_out: Option<Output>,
) -> EvalResult<Outcome> {
    let mut worst = Outcome::Success;
    for f in &plan.files {
        eng.fresh_file();
        for (name, v) in &plan.vars {
            eng.set_param(name, v.clone());
        }
        let r = eng.run_file(f);
        let first_failure = eng.failures().first().cloned();
        let failures = eng.failures().len();
        let (outcome, err) = match (r, first_failure) {
            (Ok(()), None) => (Outcome::Success, None),
            (Ok(()), Some(e)) => (Outcome::CheckFailed, Some(e)),
            (Err(e), _) if e.kind == ErrorKind::OutputClosed => return Err(e),
            (Err(e), _) => {
                e.report();
                (e.outcome(), Some(e))
            }
        };
        let file = f.display().to_string();
        let at = |e: &Error| {
            (
                if e.file.is_empty() {
                    file.clone()
                } else {
                    e.file.clone()
                },
                e.pos,
            )
        };
        let line = if plan.json {
            let mut fields = vec![
                ("file", J::Str(file.clone())),
                ("result", J::Str(outcome.word().into())),
                ("exit", J::Int(outcome.exit_code().into())),
                (
                    "failures",
                    J::Int(failures.max(usize::from(outcome == Outcome::CheckFailed)) as i64),
                ),
            ];
            if let Some(e) = &err {
                let (f, pos) = at(e);
                fields.push(("at", J::Str(format!("{f}:{}:{}", pos.line, pos.col))));
                fields.push(("message", J::Str(e.msg.clone())));
            }
            object(&fields)
        } else {
            match &err {
                None => format!("{file}: passed"),
                Some(e) => {
                    let (f, pos) = at(e);
                    format!("{file}: failed at {f}:{}", pos.line)
                }
            }
        };
        match json_out.as_mut() {
            Some(o) => o.line(&line)?,
            None => eng.print(&line)?,
        }
        worst = worst.worst(outcome);
        if outcome == Outcome::Interrupted {
            break;
        }
    }
    Ok(worst)
}

/// Piped input, run like a recipe named `<stdin>` but as it comes: each
/// statement runs as soon as it is complete (a program driving craft through
/// a pipe sees each answer before it writes the next line). A statement is
/// complete when its brackets and strings are closed and, after an `if`
/// block, when the next line does not start with `else`. The first error
/// stops the run, as in a recipe.
pub fn stdin(eng: &mut Engine, mut input: impl BufRead) -> EvalResult<Outcome> {
    const FILE: &str = "<stdin>";
    let mut pending = String::new();
    let mut first = 1u32;
    let mut line_no = 0u32;
    // Parsed and complete, but an `else` may still follow.
    let mut held: Option<Vec<Stmt>> = None;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = input
            .read_until(b'\n', &mut buf)
            .map_err(|e| Error::usage(format!("cannot read standard input: {e}")))?;
        if n == 0 {
            break;
        }
        line_no = line_no.saturating_add(1);
        let text = std::str::from_utf8(&buf).map_err(|e| {
            let pos = source::position_of(&buf, e.valid_up_to());
            Error::eval(
                Pos {
                    line: line_no,
                    col: pos.col,
                },
                format!(
                    "standard input is not valid UTF-8: byte 0x{:02x}",
                    buf[e.valid_up_to()]
                ),
            )
            .in_file(FILE)
        })?;
        if let Some(prog) = held.take() {
            if text.trim_start().starts_with("else") {
                pending.push_str(text);
                if let Some(prog) = complete(&pending, first, &mut held)? {
                    eng.run_program(FILE, &prog)?;
                    pending.clear();
                    first = line_no + 1;
                }
                continue;
            }
            eng.run_program(FILE, &prog)?;
            pending.clear();
            first = line_no;
        }
        pending.push_str(text);
        if let Some(prog) = complete(&pending, first, &mut held)? {
            eng.run_program(FILE, &prog)?;
            pending.clear();
            first = line_no + 1;
        }
    }
    if let Some(prog) = held.take() {
        eng.run_program(FILE, &prog)?;
    } else if !pending.trim().is_empty() {
        parse_program_at(&pending, first).map_err(|e| Error::syntax(e).in_file(FILE))?;
    }
    Ok(Outcome::Success)
}

/// The statements of `pending` when they are complete and can run now; None
/// while more lines are needed (brackets open, or an `if` that an `else` may
/// continue: then they wait in `held`).
fn complete(
    pending: &str,
    first: u32,
    held: &mut Option<Vec<Stmt>>,
) -> EvalResult<Option<Vec<Stmt>>> {
    match parse_program_at(pending, first) {
        Err(e) if e.incomplete => Ok(None),
        Err(e) => Err(Error::syntax(e).in_file("<stdin>")),
        Ok(prog)
            if matches!(
                prog.last(),
                Some(Stmt {
                    kind: StmtKind::If { .. },
                    ..
                })
            ) =>
        {
            *held = Some(prog);
            Ok(None)
        }
        Ok(prog) => Ok(Some(prog)),
    }
}
