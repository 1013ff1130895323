//! Recursive-descent parser: tokens to statements.
//!
//! Precedence, lowest first: `or`, `and`, `not`, comparisons (`== != < <= > >= in`),
//! `+ -`, `* / %` (`/` also stacks layers), unary `-`, then calls, `.attr` and `[i]`.

use super::ast::{BinOp, Expr, ExprKind, Stmt, StmtKind, UnOp};
use super::lexer::{Tok, Token, lex, lex_at};
use super::{Pos, SyntaxError};

/// Words that cannot be variable names.
pub const KEYWORDS: &[&str] = &[
    "expect", "include", "for", "if", "else", "and", "or", "not", "in", "none", "true", "false",
];

/// Parses a whole program (a recipe, a REPL line, piped input).
pub fn parse_program(src: &str) -> Result<Vec<Stmt>, SyntaxError> {
    parse_program_at(src, 1)
}

/// Parses statements whose text starts at line `first_line` of a longer
/// input (piped input, run as it comes), so positions name that input's lines.
pub fn parse_program_at(src: &str, first_line: u32) -> Result<Vec<Stmt>, SyntaxError> {
    let toks = lex_at(src, first_line)?;
    let mut p = Parser {
        toks,
        i: 0,
        src,
        depth: 0,
    };
    let mut out = Vec::new();
    while !p.at_eof() {
        if p.eat_newline() {
            continue;
        }
        if p.is_punct("}") {
            return Err(p.unexpected("a statement ('}' closes nothing here)"));
        }
        out.push(p.statement()?);
    }
    Ok(out)
}

/// Parses one expression (a CLI argument such as `craft show EXPR`).
pub fn parse_expr(src: &str) -> Result<Expr, SyntaxError> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        i: 0,
        src,
        depth: 0,
    };
    while p.eat_newline() {}
    let e = p.expr()?;
    while p.eat_newline() {}
    if !p.at_eof() {
        return Err(p.unexpected("the end of the expression"));
    }
    Ok(e)
}

/// Deeper than this, expressions and blocks are refused: evaluating and
/// dropping a syntax tree recurse once per level.
const MAX_DEPTH: usize = 100;

struct Parser<'a> {
    toks: Vec<Token>,
    i: usize,
    src: &'a str,
    /// How deep the tree being parsed is (see `MAX_DEPTH`).
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.toks[self.i.min(self.toks.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.i < self.toks.len() - 1 {
            self.i += 1;
        }
        t
    }

    fn at_eof(&self) -> bool {
        self.peek().tok == Tok::Eof
    }

    /// One level deeper; an error beyond `MAX_DEPTH`. Callers put `depth` back.
    fn enter(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(SyntaxError {
                pos: self.peek().pos,
                msg: format!("expression nested too deeply (more than {MAX_DEPTH} levels)"),
                incomplete: false,
            });
        }
        Ok(())
    }

    fn eat_newline(&mut self) -> bool {
        if self.peek().tok == Tok::Newline {
            self.next();
            true
        } else {
            false
        }
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(&self.peek().tok, Tok::Punct(q) if *q == p)
    }

    fn eat_punct(&mut self, p: &str) -> bool {
        if self.is_punct(p) {
            self.next();
            true
        } else {
            false
        }
    }

    /// True when the next token is a keyword alone in brackets, `(not)`:
    /// it names itself (for `help(not)`) rather than starting an expression.
    fn keyword_named(&self) -> bool {
        self.i > 0
            && self.toks[self.i - 1].tok == Tok::Punct("(")
            && self
                .toks
                .get(self.i + 1)
                .is_some_and(|t| t.tok == Tok::Punct(")"))
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(s) if s == w)
    }

    fn unexpected(&self, expected: &str) -> SyntaxError {
        let t = self.peek();
        SyntaxError {
            pos: t.pos,
            msg: format!("expected {expected}, found {}", t.tok.describe()),
            incomplete: t.tok == Tok::Eof,
        }
    }

    fn expect_punct(&mut self, p: &str, what: &str) -> Result<Pos, SyntaxError> {
        if self.is_punct(p) {
            Ok(self.next().pos)
        } else {
            Err(self.unexpected(what))
        }
    }

    fn statement(&mut self) -> Result<Stmt, SyntaxError> {
        let start = self.peek().clone();
        let kind = if self.is_word("for") {
            self.next();
            let mut vars = Vec::new();
            loop {
                let t = self.next();
                let Tok::Ident(var) = t.tok else {
                    self.i -= 1;
                    return Err(self.unexpected("a loop variable name after for"));
                };
                if KEYWORDS.contains(&var.as_str()) {
                    return Err(SyntaxError {
                        pos: t.pos,
                        msg: format!("'{var}' is a reserved name"),
                        incomplete: false,
                    });
                }
                vars.push(var);
                if !self.is_punct(",") {
                    break;
                }
                self.next();
            }
            if !self.is_word("in") {
                return Err(
                    self.unexpected("'in' after the loop variable (for x in range(1, 10) { ... })")
                );
            }
            self.next();
            let iter = self.expr()?;
            let body = self.block()?;
            StmtKind::For { vars, iter, body }
        } else if self.is_word("if") {
            self.if_rest()?
        } else if self.is_word("expect") {
            self.next();
            StmtKind::Expect(self.expr()?)
        } else if self.is_word("include") {
            self.next();
            match self.next().tok {
                Tok::Str(s) => StmtKind::Include(String::from_utf8_lossy(&s).into_owned()),
                _ => {
                    self.i -= 1;
                    return Err(self.unexpected("a file name in quotes after include"));
                }
            }
        } else {
            let e = self.expr()?;
            if self.is_punct(",") && matches!(e.kind, ExprKind::Var(_)) {
                self.unpack_rest(e)?
            } else if self.is_punct("=") {
                let eq = self.next();
                let (var, path) = assign_target(&e).ok_or_else(|| SyntaxError {
                    pos: eq.pos,
                    msg: "only a name or a field (p.tcp.seq) can be assigned to; use == to compare"
                        .into(),
                    incomplete: false,
                })?;
                if KEYWORDS.contains(&var.as_str()) || path.is_empty() && is_reserved_name(&var) {
                    return Err(SyntaxError {
                        pos: e.pos,
                        msg: format!("'{var}' is a reserved name"),
                        incomplete: false,
                    });
                }
                let value = self.expr()?;
                StmtKind::Assign { var, path, value }
            } else {
                StmtKind::Expr(e)
            }
        };
        let end = self.peek().offset;
        if !self.eat_newline() && !self.at_eof() && !self.is_punct("}") {
            return Err(self.unexpected("the end of the statement"));
        }
        let text = self
            .src
            .get(start.offset..end)
            .unwrap_or("")
            .trim()
            .to_string();
        Ok(Stmt {
            kind,
            pos: start.pos,
            text,
        })
    }

    /// `a, b = value`, the first name parsed as `first` and a comma next.
    fn unpack_rest(&mut self, first: Expr) -> Result<StmtKind, SyntaxError> {
        let mut vars = Vec::new();
        let mut e = first;
        loop {
            let ExprKind::Var(v) = &e.kind else {
                return Err(SyntaxError {
                    pos: e.pos,
                    msg: "only names can be unpacked into (a, b = pair)".into(),
                    incomplete: false,
                });
            };
            if KEYWORDS.contains(&v.as_str()) {
                return Err(SyntaxError {
                    pos: e.pos,
                    msg: format!("'{v}' is a reserved name"),
                    incomplete: false,
                });
            }
            vars.push(v.clone());
            if !self.is_punct(",") {
                break;
            }
            self.next();
            e = self.postfix()?;
        }
        if !self.is_punct("=") {
            return Err(self.unexpected("'=' after the names to unpack into (a, b = pair)"));
        }
        self.next();
        let value = self.expr()?;
        Ok(StmtKind::Unpack { vars, value })
    }

    /// `if cond { ... } [else { ... } | else if ...]`, the `if` not yet taken.
    fn if_rest(&mut self) -> Result<StmtKind, SyntaxError> {
        self.next();
        let cond = self.expr()?;
        let then = self.block()?;
        // `else` may follow on the same line or the next.
        let save = self.i;
        while self.eat_newline() {}
        let els = if self.is_word("else") {
            self.next();
            if self.is_word("if") {
                let start = self.peek().clone();
                let kind = self.if_rest()?;
                vec![Stmt {
                    kind,
                    pos: start.pos,
                    text: String::new(),
                }]
            } else {
                self.block()?
            }
        } else {
            self.i = save;
            Vec::new()
        };
        Ok(StmtKind::If { cond, then, els })
    }

    /// `{ statements }`.
    fn block(&mut self) -> Result<Vec<Stmt>, SyntaxError> {
        if !self.is_punct("{") {
            return Err(self.unexpected("'{' to open the block"));
        }
        let depth = self.depth;
        self.enter()?;
        let open = self.next().pos;
        let mut body = Vec::new();
        loop {
            while self.eat_newline() {}
            if self.eat_punct("}") {
                self.depth = depth;
                return Ok(body);
            }
            if self.at_eof() {
                return Err(SyntaxError {
                    pos: open,
                    msg: "'{' is never closed (expected '}')".into(),
                    incomplete: true,
                });
            }
            body.push(self.statement()?);
        }
    }

    fn expr(&mut self) -> Result<Expr, SyntaxError> {
        let depth = self.depth;
        self.enter()?;
        let e = self.or_expr()?;
        self.depth = depth;
        Ok(e)
    }

    fn or_expr(&mut self) -> Result<Expr, SyntaxError> {
        let depth = self.depth;
        let mut l = self.and_expr()?;
        while self.is_word("or") {
            self.enter()?;
            self.next();
            let r = self.and_expr()?;
            l = bin(BinOp::Or, l, r);
        }
        self.depth = depth;
        Ok(l)
    }

    fn and_expr(&mut self) -> Result<Expr, SyntaxError> {
        let depth = self.depth;
        let mut l = self.not_expr()?;
        while self.is_word("and") {
            self.enter()?;
            self.next();
            let r = self.not_expr()?;
            l = bin(BinOp::And, l, r);
        }
        self.depth = depth;
        Ok(l)
    }

    fn not_expr(&mut self) -> Result<Expr, SyntaxError> {
        if self.is_word("not") && !self.keyword_named() {
            let depth = self.depth;
            self.enter()?;
            let pos = self.next().pos;
            let e = self.not_expr()?;
            self.depth = depth;
            return Ok(Expr {
                kind: ExprKind::Unary(UnOp::Not, Box::new(e)),
                pos,
            });
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, SyntaxError> {
        let l = self.additive()?;
        let op = match &self.peek().tok {
            Tok::Punct("==") => BinOp::Eq,
            Tok::Punct("!=") => BinOp::Ne,
            Tok::Punct("<") => BinOp::Lt,
            Tok::Punct("<=") => BinOp::Le,
            Tok::Punct(">") => BinOp::Gt,
            Tok::Punct(">=") => BinOp::Ge,
            Tok::Ident(s) if s == "in" => BinOp::In,
            _ => return Ok(l),
        };
        self.next();
        let r = self.additive()?;
        Ok(bin(op, l, r))
    }

    fn additive(&mut self) -> Result<Expr, SyntaxError> {
        let depth = self.depth;
        let mut l = self.multiplicative()?;
        loop {
            let op = match self.peek().tok {
                Tok::Punct("+") => BinOp::Add,
                Tok::Punct("-") => BinOp::Sub,
                _ => {
                    self.depth = depth;
                    return Ok(l);
                }
            };
            self.enter()?;
            self.next();
            let r = self.multiplicative()?;
            l = bin(op, l, r);
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, SyntaxError> {
        let depth = self.depth;
        let mut l = self.unary()?;
        loop {
            let op = match self.peek().tok {
                Tok::Punct("*") => BinOp::Mul,
                Tok::Punct("/") => BinOp::Div,
                Tok::Punct("%") => BinOp::Rem,
                _ => {
                    self.depth = depth;
                    return Ok(l);
                }
            };
            self.enter()?;
            self.next();
            let r = self.unary()?;
            l = bin(op, l, r);
        }
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        if self.is_punct("-") {
            let depth = self.depth;
            self.enter()?;
            let pos = self.next().pos;
            let e = self.unary()?;
            self.depth = depth;
            return Ok(Expr {
                kind: ExprKind::Unary(UnOp::Neg, Box::new(e)),
                pos,
            });
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Expr, SyntaxError> {
        let depth = self.depth;
        let mut e = self.primary()?;
        loop {
            if self.is_punct(".") || self.is_punct("(") || self.is_punct("[") {
                self.enter()?;
            }
            if self.eat_punct(".") {
                let t = self.next();
                match t.tok {
                    Tok::Ident(name) => {
                        e = Expr {
                            kind: ExprKind::Attr(Box::new(e), name),
                            pos: t.pos,
                        }
                    }
                    _ => {
                        self.i -= 1;
                        return Err(self.unexpected("a field or layer name after '.'"));
                    }
                }
            } else if self.is_punct("(") {
                let pos = self.next().pos;
                let (args, kwargs) = self.call_args()?;
                e = Expr {
                    kind: ExprKind::Call {
                        func: Box::new(e),
                        args,
                        kwargs,
                    },
                    pos,
                };
            } else if self.is_punct("[") {
                let pos = self.next().pos;
                let idx = self.expr()?;
                self.expect_punct("]", "']'")?;
                e = Expr {
                    kind: ExprKind::Index(Box::new(e), Box::new(idx)),
                    pos,
                };
            } else {
                self.depth = depth;
                return Ok(e);
            }
        }
    }

    #[allow(clippy::type_complexity)]
    fn call_args(&mut self) -> Result<(Vec<Expr>, Vec<(String, Expr, Pos)>), SyntaxError> {
        let mut args = Vec::new();
        let mut kwargs: Vec<(String, Expr, Pos)> = Vec::new();
        loop {
            if self.eat_punct(")") {
                return Ok((args, kwargs));
            }
            let is_kw = matches!(self.peek().tok, Tok::Ident(_))
                && matches!(
                    self.toks.get(self.i + 1).map(|t| &t.tok),
                    Some(Tok::Punct("="))
                );
            if is_kw {
                let t = self.next();
                let Tok::Ident(name) = t.tok else {
                    unreachable!()
                };
                self.next();
                if kwargs.iter().any(|(k, _, _)| *k == name) {
                    return Err(SyntaxError {
                        pos: t.pos,
                        msg: format!("'{name}' is given twice"),
                        incomplete: false,
                    });
                }
                let v = self.expr()?;
                kwargs.push((name, v, t.pos));
            } else {
                if !kwargs.is_empty() {
                    return Err(SyntaxError {
                        pos: self.peek().pos,
                        msg: "a positional argument cannot follow keyword arguments".into(),
                        incomplete: false,
                    });
                }
                args.push(self.expr()?);
            }
            if !self.eat_punct(",") && !self.is_punct(")") {
                return Err(self.unexpected("',' or ')'"));
            }
        }
    }

    fn primary(&mut self) -> Result<Expr, SyntaxError> {
        // next() stays put at the end of input, so step back to here, not by one.
        let at = self.i;
        let t = self.next();
        let pos = t.pos;
        let kind = match t.tok {
            Tok::Int(v) => ExprKind::Int(v),
            Tok::Float(v) => ExprKind::Float(v),
            Tok::Str(s) => ExprKind::Str(s),
            Tok::Ip(a) => ExprKind::Ip(a),
            Tok::Mac(m) => ExprKind::Mac(m),
            Tok::Ident(s) => match s.as_str() {
                "none" | "None" => ExprKind::None,
                "true" | "True" => ExprKind::Bool(true),
                "false" | "False" => ExprKind::Bool(false),
                // A keyword alone in brackets names itself: `help(expect)`.
                "expect" | "include" | "for" | "if" | "else" | "and" | "or" | "not" | "in"
                    if self.is_punct(")") && at > 0 && self.toks[at - 1].tok == Tok::Punct("(") =>
                {
                    ExprKind::Var(s)
                }
                "expect" | "include" | "for" | "if" | "else" | "and" | "or" | "not" | "in" => {
                    self.i = at;
                    return Err(self.unexpected("a value"));
                }
                _ => ExprKind::Var(s),
            },
            Tok::Punct("(") => {
                if self.eat_punct(")") {
                    ExprKind::Tuple(Vec::new())
                } else {
                    let first = self.expr()?;
                    if self.eat_punct(")") {
                        return Ok(first);
                    }
                    let mut items = vec![first];
                    while self.eat_punct(",") {
                        if self.is_punct(")") {
                            break;
                        }
                        items.push(self.expr()?);
                    }
                    self.expect_punct(")", "',' or ')'")?;
                    ExprKind::Tuple(items)
                }
            }
            Tok::Punct("[") => {
                let mut items = Vec::new();
                while !self.eat_punct("]") {
                    items.push(self.expr()?);
                    if !self.eat_punct(",") && !self.is_punct("]") {
                        return Err(self.unexpected("',' or ']'"));
                    }
                }
                ExprKind::List(items)
            }
            _ => {
                self.i = at;
                return Err(self.unexpected(
                    "a value (a number, \"string\", address, name or layer like TCP())",
                ));
            }
        };
        Ok(Expr { kind, pos })
    }
}

fn bin(op: BinOp, l: Expr, r: Expr) -> Expr {
    let pos = l.pos;
    Expr {
        kind: ExprKind::Binary(op, Box::new(l), Box::new(r)),
        pos,
    }
}

fn is_reserved_name(_name: &str) -> bool {
    false
}

/// `name` or `name.a.b` → (name, [a, b]).
fn assign_target(e: &Expr) -> Option<(String, Vec<(String, Pos)>)> {
    match &e.kind {
        ExprKind::Var(v) => Some((v.clone(), Vec::new())),
        ExprKind::Attr(base, name) => {
            let (v, mut path) = assign_target(base)?;
            path.push((name.clone(), e.pos));
            Some((v, path))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_contract_lines() {
        let src = r#"
p = Ether() / IP(dst="127.0.0.1") / TCP(sport=40000, dport=1234, flags="S", seq=1000)
show(p)
p.tcp.seq = 2000
expect r.tcp.flags == "SA"
a = Ether()/IP(dst="127.0.0.1")/TCP(sport=40000, dport=1234, flags="A", seq=r.tcp.ack, ack=r.tcp.seq + 1)
expect d.tcp.ack == r.tcp.ack + 6
"#;
        let prog = parse_program(src).expect("parses");
        assert_eq!(prog.len(), 6);
        assert!(
            matches!(&prog[2].kind, StmtKind::Assign { var, path, .. } if var == "p" && path.len() == 2)
        );
        assert!(matches!(prog[3].kind, StmtKind::Expect(_)));
        assert_eq!(prog[1].text, "show(p)");
        assert_eq!(prog[2].pos, Pos { line: 4, col: 1 });
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = parse_program("p = TCP(dport=80\n").unwrap_err();
        assert_eq!(e.pos, Pos { line: 1, col: 8 });
        assert!(e.incomplete);
        let e = parse_program("x = 1\ny = (2 +)\n").unwrap_err();
        assert_eq!(e.pos, Pos { line: 2, col: 9 });
        assert!(e.msg.contains("expected a value"), "{}", e.msg);
        let e = parse_program("s = \"abc").unwrap_err();
        assert_eq!(e.pos, Pos { line: 1, col: 5 });
        assert!(e.msg.contains("unclosed string"));
        let e = parse_program("1 = 2").unwrap_err();
        assert!(e.msg.contains("assigned"));
    }

    #[test]
    fn literals() {
        let e = parse_expr("[0x10, 1.5, 127.0.0.1, 00:11:22:aa:bb:cc, \"a\\x00\\n\", none, true]")
            .unwrap();
        let ExprKind::List(items) = e.kind else {
            panic!()
        };
        assert_eq!(items[0].kind, ExprKind::Int(16));
        assert_eq!(items[1].kind, ExprKind::Float(1.5));
        assert_eq!(items[2].kind, ExprKind::Ip("127.0.0.1".parse().unwrap()));
        assert_eq!(
            items[3].kind,
            ExprKind::Mac([0, 0x11, 0x22, 0xaa, 0xbb, 0xcc])
        );
        assert_eq!(items[4].kind, ExprKind::Str(b"a\0\n".to_vec()));
        assert_eq!(items[5].kind, ExprKind::None);
        assert!(
            parse_expr("99999999999999999999")
                .unwrap_err()
                .msg
                .contains("too large")
        );
    }

    #[test]
    fn stacking_binds_like_division() {
        let e = parse_expr("Ether()/IP()/TCP()/\"x\"").unwrap();
        let ExprKind::Binary(BinOp::Div, l, r) = e.kind else {
            panic!()
        };
        assert_eq!(r.kind, ExprKind::Str(b"x".to_vec()));
        assert!(matches!(l.kind, ExprKind::Binary(BinOp::Div, _, _)));
    }
}
