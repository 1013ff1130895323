//! `craft run FILE...` and piped input: recipes on one engine. The runtime
//! (one socket, one host preparation) is shared by every file; each file
//! gets a fresh interpreter state.

use crate::engine::{Engine, Error, ErrorKind, EvalResult, Value, check};
use crate::lang::{ExprKind, parse_expr};
use crate::outcome::Outcome;
use crate::render::json::{J, object};
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
        v.unwrap_or_else(|| Value::Str(value.as_bytes().to_vec())),
    ))
}

/// `craft run --check`: parses and checks names, sends nothing.
pub fn check(eng: &mut Engine, plan: &RunPlan) -> EvalResult<Outcome> {
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

/// Runs each file; the run's outcome is the worst of the files'.
pub fn run(eng: &mut Engine, plan: &RunPlan) -> EvalResult<Outcome> {
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
        eng.print(&line)?;
        worst = worst.worst(outcome);
        if outcome == Outcome::Interrupted {
            break;
        }
    }
    Ok(worst)
}

/// Piped input: run like a recipe named `<stdin>`.
pub fn stdin(eng: &mut Engine, src: &str) -> EvalResult<Outcome> {
    eng.run_source("<stdin>", src)?;
    Ok(Outcome::Success)
}
