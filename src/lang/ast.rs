//! Syntax tree.

use super::Pos;
use std::net::Ipv4Addr;

/// An expression with its position.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it starts.
    pub pos: Pos,
}

/// Expression forms.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// Integer literal.
    Int(i64),
    /// Decimal literal with a fraction (timeouts, intervals).
    Float(f64),
    /// String literal, escapes decoded.
    Str(Vec<u8>),
    /// IPv4 address literal.
    Ip(Ipv4Addr),
    /// MAC address literal.
    Mac([u8; 6]),
    /// `true` / `false`.
    Bool(bool),
    /// `none`.
    None,
    /// A name.
    Var(String),
    /// `[a, b]`.
    List(Vec<Expr>),
    /// `(a, b)` or `(a,)`.
    Tuple(Vec<Expr>),
    /// `base.name`.
    Attr(Box<Expr>, String),
    /// `base[index]`.
    Index(Box<Expr>, Box<Expr>),
    /// `f(args, key=value)`.
    Call {
        /// What is called.
        func: Box<Expr>,
        /// Positional arguments.
        args: Vec<Expr>,
        /// Keyword arguments with their positions.
        kwargs: Vec<(String, Expr, Pos)>,
    },
    /// `-x`, `not x`.
    Unary(UnOp, Box<Expr>),
    /// `a op b`.
    Binary(BinOp, Box<Expr>, Box<Expr>),
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// `-`
    Neg,
    /// `not`
    Not,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`: division of numbers, stacking of layers.
    Div,
    /// `%`
    Rem,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in`
    In,
    /// `and`
    And,
    /// `or`
    Or,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::In => "in",
            BinOp::And => "and",
            BinOp::Or => "or",
        }
    }
}

/// A statement with its position and source text (for messages).
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    /// What it is.
    pub kind: StmtKind,
    /// Where it starts.
    pub pos: Pos,
    /// Its source text.
    pub text: String,
}

/// Statement forms.
#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// An expression; its value is shown in the REPL.
    Expr(Expr),
    /// `name = value` or `name.a.b = value`.
    Assign {
        /// The variable.
        var: String,
        /// Attribute path after the variable (may be empty).
        path: Vec<(String, Pos)>,
        /// The value.
        value: Expr,
    },
    /// `a, b = value`: a list or tuple unpacked into names.
    Unpack {
        /// The names, in order.
        vars: Vec<String>,
        /// The value.
        value: Expr,
    },
    /// `expect cond`.
    Expect(Expr),
    /// `include "file"`.
    Include(String),
    /// `for name in iterable { ... }`, or `for a, b in pairs { ... }`.
    For {
        /// The loop variables: one, or several to unpack each item into.
        vars: Vec<String>,
        /// What is iterated: a list, a tuple or a string.
        iter: Expr,
        /// The body.
        body: Vec<Stmt>,
    },
    /// `if cond { ... } else { ... }`.
    If {
        /// The condition.
        cond: Expr,
        /// When it holds.
        then: Vec<Stmt>,
        /// Otherwise (empty when there is no else).
        els: Vec<Stmt>,
    },
}
