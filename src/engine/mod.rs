//! The engine: evaluates the language. An [`Engine`] is one interpreter
//! state ([`Interp`]: variables, the include stack, parameters; one per
//! recipe file) on one [`Runtime`] (the live link, output and options; one
//! per process). The REPL, recipes, piped input and the one-shot commands all
//! run on it.
//!
//! Where things are: every builtin, method, attribute and keyword is a row of
//! `table.rs`; their implementations are in `builtins.rs` (offline),
//! `net.rs` (live) and `session.rs` (TCP sessions); `eval.rs` evaluates
//! statements; `burst.rs` sends many frames; `complete.rs` answers the
//! shell's completion and hints; `check.rs` is `craft run --check`.

pub mod args;
pub mod builtins;
pub mod burst;
pub mod capture;
pub mod check;
pub mod complete;
pub mod error;
mod eval;
pub mod fields;
pub mod frag;
pub mod net;
pub mod runtime;
pub mod session;
pub mod set;
pub mod sockets;
pub mod source;
pub mod suggest;
pub mod table;
pub mod value;

pub use error::{Error, ErrorKind, EvalResult, live_error};
pub use runtime::{RunOptions, Runtime};
pub use value::{FlagSet, PacketView, Value};

use crate::lang::{Pos, parse_program};
use crate::output::{Output, warn};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The interpreter state of one recipe file (or of the shell's session):
/// what `craft run a b c` starts afresh for each file.
#[derive(Default)]
pub struct Interp {
    vars: BTreeMap<String, Value>,
    /// The recipe files being run, innermost include last.
    files: Vec<PathBuf>,
    /// Values given from outside (`--var name=value`), read by `param()`.
    params: BTreeMap<String, Value>,
    /// Parameter names `param()` asked for.
    asked: std::collections::BTreeSet<String>,
    /// Failed expects recorded while going on (--keep-going).
    failures: Vec<Error>,
    /// Set by calls that showed their result already (session helpers).
    shown: bool,
}

/// The evaluator: one interpreter state on one runtime.
pub struct Engine {
    /// The process's runtime: live link, output, options.
    pub rt: Runtime,
    interp: Interp,
}

impl Engine {
    /// An offline engine writing its output to `out` (tests, `craft show`).
    pub fn new(out: Box<dyn Write>) -> Engine {
        Engine::on(Runtime::offline(Output::to(out)))
    }

    /// An engine on a given runtime.
    pub fn on(rt: Runtime) -> Engine {
        Engine {
            rt,
            interp: Interp::default(),
        }
    }

    /// Starts a fresh interpreter state (the next recipe file of a run) on
    /// the same runtime, with the same parameters.
    pub fn fresh_file(&mut self) {
        let params = std::mem::take(&mut self.interp.params);
        self.interp = Interp::default();
        for (k, v) in params {
            self.set_param(&k, v);
        }
    }

    /// Writes text to the output.
    pub fn print(&mut self, s: &str) -> EvalResult<()> {
        self.rt.print(s)
    }

    /// Names of variables, for completion.
    pub fn var_names(&self) -> impl Iterator<Item = &str> {
        self.interp.vars.keys().map(String::as_str)
    }

    /// A variable's value.
    pub fn var(&self, name: &str) -> Option<&Value> {
        self.interp.vars.get(name)
    }

    /// Sets a parameter from outside (`--var name=value`): `param(name, ...)`
    /// returns it, and the variable is set too.
    pub fn set_param(&mut self, name: &str, v: Value) {
        self.interp.params.insert(name.to_string(), v.clone());
        self.interp.vars.insert(name.to_string(), v);
    }

    /// The parameter `name` (`param()`): given with --var, or a variable of that name.
    pub fn param(&mut self, name: &str) -> Option<Value> {
        self.interp.asked.insert(name.to_string());
        self.interp
            .params
            .get(name)
            .or(self.interp.vars.get(name))
            .cloned()
    }

    /// Failed expects recorded while going on (--keep-going).
    pub fn failures(&self) -> &[Error] {
        &self.interp.failures
    }

    /// Runs source text (a recipe, a REPL line, piped input). `file` names it in
    /// errors ("" for the REPL). Stops at the first failure.
    pub fn run_source(&mut self, file: &str, src: &str) -> EvalResult<()> {
        let prog = parse_program(src).map_err(|e| Error::syntax(e).in_file(file))?;
        self.run_program(file, &prog)
    }

    /// Runs parsed statements of `file`. Stops at the first failure (but for
    /// failed expects under --keep-going).
    pub fn run_program(&mut self, file: &str, prog: &[crate::lang::Stmt]) -> EvalResult<()> {
        for stmt in prog {
            match self.exec(stmt).map_err(|e| e.in_file(file)) {
                Err(e) if e.kind == ErrorKind::Expect && self.rt.opts.keep_going => {
                    warn(&e.to_string());
                    self.interp.failures.push(e);
                }
                r => r?,
            }
        }
        Ok(())
    }

    /// Runs a recipe file (relative includes resolve against its folder).
    pub fn run_file(&mut self, path: &Path) -> EvalResult<()> {
        if self.interp.files.len() > source::MAX_INCLUDE_DEPTH {
            return Err(source::too_deep(path));
        }
        let src = source::read(path)?;
        self.interp.files.push(path.to_path_buf());
        let r = self.run_source(&path.display().to_string(), &src);
        self.interp.files.pop();
        r
    }

    /// Runs `include "file"` at `pos`.
    fn include(&mut self, file: &str, pos: Pos) -> EvalResult<()> {
        let path = source::resolve_include(self.interp.files.last().map(PathBuf::as_path), file)
            .map_err(|m| Error::eval(pos, m))?;
        self.run_file(&path)
    }

    /// Parses and evaluates one expression (CLI arguments).
    pub fn eval_str(&mut self, src: &str) -> EvalResult<Value> {
        let e = crate::lang::parse_expr(src).map_err(Error::syntax)?;
        self.eval(&e)
    }
}
