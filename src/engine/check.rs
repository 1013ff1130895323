//! `craft run --check`: parse a recipe and check its names without running
//! it: every name used must be assigned somewhere in the recipe (or its
//! includes, or given with --var), or be a builtin or a layer.

use super::{Error, ErrorKind, builtins};
use crate::lang::{Expr, ExprKind, Pos, Stmt, StmtKind, parse_program};
use crate::wire::LayerKind;
use std::collections::BTreeSet;
use std::path::Path;

/// Checks a recipe file; `given` are names set from outside (--var).
pub fn check_file(path: &Path, given: &[String]) -> Result<(), Error> {
    let mut defined: BTreeSet<String> = given.iter().cloned().collect();
    let mut uses = Vec::new();
    collect_file(path, &mut defined, &mut uses, 0)?;
    for (file, name, pos) in uses {
        let known = defined.contains(&name)
            || builtins::lookup(&name).is_some()
            || LayerKind::from_name(&name).is_some_and(|k| k.name().eq_ignore_ascii_case(&name));
        if !known {
            return Err(Error {
                kind: ErrorKind::Eval,
                file,
                pos,
                msg: format!(
                    "unknown name '{name}' (never assigned in this recipe, not a builtin or layer)"
                ),
            });
        }
    }
    Ok(())
}

type Uses = Vec<(String, String, Pos)>;

fn collect_file(
    path: &Path,
    defined: &mut BTreeSet<String>,
    uses: &mut Uses,
    depth: usize,
) -> Result<(), Error> {
    let name = path.display().to_string();
    let err = |kind, pos, msg: String| Error {
        kind,
        file: name.clone(),
        pos,
        msg,
    };
    if depth > 16 {
        return Err(err(
            ErrorKind::Eval,
            Pos::default(),
            "includes nested too deeply (an include loop?)".into(),
        ));
    }
    let src = std::fs::read_to_string(path).map_err(|e| {
        err(
            ErrorKind::Eval,
            Pos::default(),
            format!("cannot read {name}: {e}"),
        )
    })?;
    let prog = parse_program(&src)
        .map_err(|e| err(ErrorKind::Syntax, e.pos, format!("syntax error: {}", e.msg)))?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    collect_stmts(&prog, &name, &base, defined, uses, depth)
}

fn collect_stmts(
    prog: &[Stmt],
    file: &str,
    base: &Path,
    defined: &mut BTreeSet<String>,
    uses: &mut Uses,
    depth: usize,
) -> Result<(), Error> {
    for s in prog {
        match &s.kind {
            StmtKind::Expr(e) | StmtKind::Expect(e) => expr_uses(e, file, uses),
            StmtKind::Assign { var, path, value } => {
                expr_uses(value, file, uses);
                if path.is_empty() {
                    defined.insert(var.clone());
                } else {
                    uses.push((file.to_string(), var.clone(), s.pos));
                }
            }
            StmtKind::For { var, iter, body } => {
                expr_uses(iter, file, uses);
                defined.insert(var.clone());
                collect_stmts(body, file, base, defined, uses, depth)?;
            }
            StmtKind::If { cond, then, els } => {
                expr_uses(cond, file, uses);
                collect_stmts(then, file, base, defined, uses, depth)?;
                collect_stmts(els, file, base, defined, uses, depth)?;
            }
            StmtKind::Include(f) => {
                let p = base.join(f);
                if !p.exists() {
                    return Err(Error {
                        kind: ErrorKind::Eval,
                        file: file.to_string(),
                        pos: s.pos,
                        msg: format!("include: no file {}", p.display()),
                    });
                }
                collect_file(&p, defined, uses, depth + 1)?;
            }
        }
    }
    Ok(())
}

fn expr_uses(e: &Expr, file: &str, uses: &mut Uses) {
    match &e.kind {
        ExprKind::Var(v) => uses.push((file.to_string(), v.clone(), e.pos)),
        ExprKind::List(items) | ExprKind::Tuple(items) => {
            items.iter().for_each(|i| expr_uses(i, file, uses))
        }
        ExprKind::Attr(b, _) => expr_uses(b, file, uses),
        ExprKind::Index(b, i) => {
            expr_uses(b, file, uses);
            expr_uses(i, file, uses);
        }
        ExprKind::Call { func, args, kwargs } => {
            expr_uses(func, file, uses);
            args.iter().for_each(|a| expr_uses(a, file, uses));
            kwargs.iter().for_each(|(_, v, _)| expr_uses(v, file, uses));
        }
        ExprKind::Unary(_, x) => expr_uses(x, file, uses),
        ExprKind::Binary(_, l, r) => {
            expr_uses(l, file, uses);
            expr_uses(r, file, uses);
        }
        _ => {}
    }
}
