//! `craft run --check`: parse a recipe and check its names without running
//! it: every name used must be assigned somewhere in the recipe (or its
//! includes, or given with --var), or be a builtin, a layer or a keyword; and
//! every argument given by name must be one the builtin or layer takes.

use super::suggest::did_you_mean;
use super::{Error, source, table};
use crate::lang::{Expr, ExprKind, Pos, Stmt, StmtKind, parse_program};
use std::collections::BTreeSet;
use std::path::Path;

/// Checks a recipe file; `given` are names set from outside (--var).
pub fn check_file(path: &Path, given: &[String]) -> Result<(), Error> {
    let mut c = Checker {
        defined: given.iter().cloned().collect(),
        uses: Vec::new(),
        params: BTreeSet::new(),
    };
    c.file(path, 0)?;
    let mut names: Vec<&str> = c.defined.iter().map(String::as_str).collect();
    for n in table::all_names() {
        names.push(n);
    }
    for (file, name, pos) in &c.uses {
        if !c.defined.contains(name) && table::known(name).is_none() {
            let hint = did_you_mean(name, names.iter().copied());
            return Err(Error::eval(
                *pos,
                format!(
                    "unknown name '{name}'{hint} (never assigned in this recipe, not a builtin or layer)"
                ),
            )
            .in_file(file));
        }
    }
    Ok(())
}

/// The names a recipe (with its includes) could take from `--var`: those
/// it asks for with `param("name", ...)` and those it reads as variables.
pub fn wanted_names(path: &Path) -> Result<BTreeSet<String>, Error> {
    let mut c = Checker {
        defined: BTreeSet::new(),
        uses: Vec::new(),
        params: BTreeSet::new(),
    };
    c.file(path, 0)?;
    let mut names = c.params;
    names.extend(c.uses.into_iter().map(|(_, n, _)| n));
    Ok(names)
}

struct Checker {
    defined: BTreeSet<String>,
    /// (file, name, where) of every name read.
    uses: Vec<(String, String, Pos)>,
    /// Names asked for with `param("name", ...)`.
    params: BTreeSet<String>,
}

impl Checker {
    fn file(&mut self, path: &Path, depth: usize) -> Result<(), Error> {
        if depth > source::MAX_INCLUDE_DEPTH {
            return Err(source::too_deep(path));
        }
        let name = path.display().to_string();
        let src = source::read(path)?;
        let prog = parse_program(&src).map_err(|e| Error::syntax(e).in_file(&name))?;
        self.stmts(&prog, path, &name, depth)
    }

    fn stmts(&mut self, prog: &[Stmt], path: &Path, file: &str, depth: usize) -> Result<(), Error> {
        for s in prog {
            match &s.kind {
                StmtKind::Expr(e) | StmtKind::Expect(e) => self.expr(e, file)?,
                StmtKind::Assign {
                    var,
                    path: fields,
                    value,
                } => {
                    self.expr(value, file)?;
                    if fields.is_empty() {
                        self.defined.insert(var.clone());
                    } else {
                        self.uses.push((file.to_string(), var.clone(), s.pos));
                    }
                }
                StmtKind::For { vars, iter, body } => {
                    self.expr(iter, file)?;
                    self.defined.extend(vars.iter().cloned());
                    self.stmts(body, path, file, depth)?;
                }
                StmtKind::Unpack { vars, value } => {
                    self.expr(value, file)?;
                    self.defined.extend(vars.iter().cloned());
                }
                StmtKind::If { cond, then, els } => {
                    self.expr(cond, file)?;
                    self.stmts(then, path, file, depth)?;
                    self.stmts(els, path, file, depth)?;
                }
                StmtKind::Include(f) => {
                    let p = source::resolve_include(Some(path), f)
                        .map_err(|m| Error::eval(s.pos, m).in_file(file))?;
                    self.file(&p, depth + 1)?;
                }
            }
        }
        Ok(())
    }

    fn expr(&mut self, e: &Expr, file: &str) -> Result<(), Error> {
        match &e.kind {
            ExprKind::Var(v) => self.uses.push((file.to_string(), v.clone(), e.pos)),
            ExprKind::List(items) | ExprKind::Tuple(items) => {
                for i in items {
                    self.expr(i, file)?;
                }
            }
            ExprKind::Attr(b, _) => self.expr(b, file)?,
            ExprKind::Index(b, i) => {
                self.expr(b, file)?;
                self.expr(i, file)?;
            }
            ExprKind::Call { func, args, kwargs } => {
                self.expr(func, file)?;
                if let (
                    ExprKind::Var(f),
                    Some(Expr {
                        kind: ExprKind::Str(name),
                        ..
                    }),
                ) = (&func.kind, args.first())
                    && f == "param"
                {
                    self.params
                        .insert(String::from_utf8_lossy(name).into_owned());
                }
                // A builtin or layer called by its own name: its argument names are known.
                if let ExprKind::Var(name) = &func.kind
                    && !self.defined.contains(name)
                {
                    for (k, _, kpos) in kwargs {
                        if let Some(msg) = table::bad_argument(name, k) {
                            return Err(Error::eval(*kpos, msg).in_file(file));
                        }
                    }
                }
                for a in args {
                    self.expr(a, file)?;
                }
                for (_, v, _) in kwargs {
                    self.expr(v, file)?;
                }
            }
            ExprKind::Unary(_, x) => self.expr(x, file)?,
            ExprKind::Binary(_, l, r) => {
                self.expr(l, file)?;
                self.expr(r, file)?;
            }
            _ => {}
        }
        Ok(())
    }
}
