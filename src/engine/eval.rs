//! The evaluator: statements and expressions of the language, run on an
//! [`Engine`] (this file's interpreter state and the process's runtime).

use super::args::Args;
use super::set::PacketSet;
use super::suggest::did_you_mean;
use super::table::{self, Known};
use super::value::SessionRef;
use super::value::{self, PacketView, Value};
use super::{Engine, Error, ErrorKind, EvalResult, fields, live_error};
use crate::lang::{BinOp, Expr, ExprKind, Pos, Stmt, StmtKind, UnOp};
use crate::wire::{Layer, LayerKind, Packet};

impl Engine {
    /// Executes one statement.
    pub fn exec(&mut self, stmt: &Stmt) -> EvalResult<()> {
        match &stmt.kind {
            StmtKind::Expr(e) => {
                self.interp.shown = false;
                let v = self.eval(e)?;
                let v = match v {
                    Value::Packet(p) => Value::Packet(self.as_sent(p, stmt.pos)?),
                    other => other,
                };
                if self.rt.opts.echo && v != Value::None && !std::mem::take(&mut self.interp.shown)
                {
                    self.print(&v.repr())?;
                }
            }
            StmtKind::Assign { var, path, value } => {
                let v = self.eval(value)?;
                self.assign(var, path, v, stmt.pos)?;
            }
            StmtKind::Expect(cond) => self.expect(cond, &stmt.text, stmt.pos)?,
            StmtKind::Unpack { vars, value } => {
                let v = self.eval(value)?;
                self.unpack(vars, v, value.pos)?;
            }
            StmtKind::For { vars, iter, body } => {
                let items: Box<dyn Iterator<Item = Value>> = match self.eval(iter)? {
                    Value::List(v) | Value::Tuple(v) => Box::new(v.into_iter()),
                    Value::Str(s) => Box::new(s.into_iter().map(|b| Value::Int(b.into()))),
                    Value::Set(set) => Box::new(
                        (0..set.len()).map(move |i| Value::Packet(PacketView::whole(set.get(i)))),
                    ),
                    other => {
                        return Err(Error::eval(
                            iter.pos,
                            format!(
                                "for: cannot iterate over {} (use a list, range(a, b), a packet set or a string)",
                                other.type_name()
                            ),
                        ));
                    }
                };
                for item in items {
                    if crate::link::interrupted().load(std::sync::atomic::Ordering::SeqCst) {
                        return Err(live_error(crate::live::LiveError::Interrupted, stmt.pos));
                    }
                    self.unpack(vars, item, iter.pos)?;
                    for s in body {
                        self.exec(s)?;
                    }
                }
            }
            StmtKind::If { cond, then, els } => {
                let branch = if self.eval(cond)?.truthy() { then } else { els };
                for s in branch {
                    self.exec(s)?;
                }
            }
            StmtKind::Include(file) => self.include(file, stmt.pos)?,
        }
        Ok(())
    }

    /// Binds `v` to one name, or unpacks a list or tuple of as many items into several.
    fn unpack(&mut self, vars: &[String], v: Value, pos: Pos) -> EvalResult<()> {
        if let [one] = vars {
            return self.assign(one, &[], v, pos);
        }
        let items = match v {
            Value::List(items) | Value::Tuple(items) => items,
            other => {
                return Err(Error::eval(
                    pos,
                    format!(
                        "cannot unpack {} into {} names ({})",
                        other.type_name(),
                        vars.len(),
                        vars.join(", ")
                    ),
                ));
            }
        };
        if items.len() != vars.len() {
            return Err(Error::eval(
                pos,
                format!(
                    "cannot unpack {} items into {} names ({})",
                    items.len(),
                    vars.len(),
                    vars.join(", ")
                ),
            ));
        }
        for (name, item) in vars.iter().zip(items) {
            self.assign(name, &[], item, pos)?;
        }
        Ok(())
    }

    fn expect(&mut self, cond: &Expr, text: &str, pos: Pos) -> EvalResult<()> {
        let shown = text.strip_prefix("expect").map_or(text, str::trim);
        // For a comparison, keep both sides to show them when it fails.
        let (ok, detail) = match &cond.kind {
            ExprKind::Binary(
                op @ (BinOp::Eq
                | BinOp::Ne
                | BinOp::Lt
                | BinOp::Le
                | BinOp::Gt
                | BinOp::Ge
                | BinOp::In),
                l,
                r,
            ) => {
                let lv = self.eval(l)?;
                let rv = self.eval(r)?;
                let ok = self.binary(*op, lv.clone(), rv.clone(), cond.pos)?.truthy();
                let mut d = format!("  left:  {}\n  right: {}", describe(&lv), describe(&rv));
                if let (Value::Packet(a), Value::Packet(b)) = (&lv, &rv) {
                    d = format!(
                        "  expected: {}\n  actual:   {}",
                        crate::render::summary(&b.to_packet()),
                        crate::render::summary(&a.to_packet())
                    );
                }
                (ok, d)
            }
            _ => {
                let v = self.eval(cond)?;
                (v.truthy(), format!("  value: {}", describe(&v)))
            }
        };
        if ok {
            if self.rt.opts.report_expects {
                self.print(&format!("ok: {shown}"))?;
            }
            Ok(())
        } else {
            Err(Error {
                kind: ErrorKind::Expect,
                file: String::new(),
                pos,
                msg: format!("expect failed: {shown}\n{detail}"),
            })
        }
    }

    fn assign(&mut self, var: &str, path: &[(String, Pos)], v: Value, pos: Pos) -> EvalResult<()> {
        if path.is_empty() {
            if table::is_reserved(var) {
                return Err(Error::eval(
                    pos,
                    format!("'{var}' is a builtin name; choose another variable name"),
                ));
            }
            self.interp.vars.insert(var.to_string(), v);
            return Ok(());
        }
        let Some(Value::Packet(mut view)) = self.interp.vars.get(var).cloned() else {
            return Err(match self.interp.vars.get(var) {
                None => Error::eval(pos, format!("unknown variable '{var}'")),
                Some(other) => Error::eval(
                    path[0].1,
                    format!(
                        "'{var}' is {}, not a packet: its fields cannot be set",
                        other.type_name()
                    ),
                ),
            });
        };
        let mut start = view.start;
        let (last, lpos) = &path[path.len() - 1];
        for (name, npos) in &path[..path.len() - 1] {
            start = layer_index(&view, start, name)
                .ok_or_else(|| no_layer(&view, start, name, *npos))?;
        }
        // `p.tcp = TCP(...)` replaces that layer and what follows it.
        if let Some(kind) = LayerKind::from_name(last).filter(|k| k.attr() == last) {
            let idx = view.pkt.layers[start..]
                .iter()
                .position(|l| l.kind() == kind)
                .map(|i| i + start);
            let Some(idx) = idx else {
                return Err(no_layer(&view, start, last, *lpos));
            };
            let new_layers = match v {
                Value::Packet(p) => p.to_packet().layers,
                Value::Layer(k) => vec![Layer::new(k)],
                other => {
                    return Err(Error::eval(
                        *lpos,
                        format!(
                            "p.{last} takes a layer such as {}(), not {}",
                            kind.name(),
                            other.type_name()
                        ),
                    ));
                }
            };
            view.pkt.layers.truncate(idx);
            view.pkt.layers.extend(new_layers);
        } else {
            let found = (start..view.pkt.layers.len()).find_map(|i| {
                view.pkt.layers[i]
                    .kind()
                    .field_index(last)
                    .map(|fi| (i, fi))
            });
            let Some((li, fi)) = found else {
                return Err(Error::eval(*lpos, no_field_msg(&view, start, last)));
            };
            let kind = view.pkt.layers[li].kind();
            let fv = if v == Value::None {
                None
            } else {
                Some(
                    fields::to_field(&v, &kind.fields()[fi], kind)
                        .map_err(|m| Error::eval(*lpos, m))?,
                )
            };
            view.pkt.layers[li].put(fi, fv);
        }
        self.interp
            .vars
            .insert(var.to_string(), Value::Packet(view));
        Ok(())
    }

    /// Evaluates an expression.
    pub fn eval(&mut self, e: &Expr) -> EvalResult<Value> {
        Ok(match &e.kind {
            ExprKind::Int(n) => Value::Int(*n),
            ExprKind::Float(f) => Value::Float(*f),
            ExprKind::Str(s) => Value::Str(s.clone().into()),
            ExprKind::Ip(a) => Value::Ip(*a),
            ExprKind::Mac(m) => Value::Mac(*m),
            ExprKind::Bool(b) => Value::Bool(*b),
            ExprKind::None => Value::None,
            ExprKind::Var(name) => self.lookup(name, e.pos)?,
            ExprKind::List(items) | ExprKind::Tuple(items) => {
                let vals = items
                    .iter()
                    .map(|i| self.eval(i))
                    .collect::<EvalResult<Vec<_>>>()?;
                let v = if matches!(e.kind, ExprKind::List(_)) {
                    Value::List(vals)
                } else {
                    Value::Tuple(vals)
                };
                check_nesting(v, e.pos)?
            }
            ExprKind::Attr(base, name) => {
                let b = self.eval(base)?;
                self.attr(b, name, e.pos)?
            }
            ExprKind::Index(base, idx) => {
                let b = self.eval(base)?;
                let i = self.eval(idx)?;
                index(b, i, e.pos)?
            }
            ExprKind::Call { func, args, kwargs } => {
                // `c.syn()`: a method of a session.
                let mut session = None;
                // `ans.summary()`: a builtin of VALUE_METHODS, the value its first argument.
                let mut receiver = None;
                // `l.accept()`: a method of a listener.
                let mut listener = None;
                // `k.write()`: a method of a kernel socket.
                let mut socket = None;
                // `srv.accept()`: a method of a kernel listener.
                let mut klistener = None;
                let f = match &func.kind {
                    ExprKind::Attr(base, name) => match self.eval(base)? {
                        Value::Session(s) => {
                            session = Some((s, name.clone()));
                            Value::None
                        }
                        Value::Listener(l) => {
                            listener = Some((l, name.clone()));
                            Value::None
                        }
                        Value::Socket(k) => {
                            socket = Some((k, name.clone()));
                            Value::None
                        }
                        Value::KernelListener(k) => {
                            klistener = Some((k, name.clone()));
                            Value::None
                        }
                        b if table::VALUE_METHODS.contains(&name.as_str())
                            && matches!(b, Value::List(_) | Value::Set(_) | Value::Packet(_)) =>
                        {
                            receiver = Some(b);
                            table::builtin(name).map_or(Value::None, |r| Value::Builtin(r.sig.name))
                        }
                        b => self.attr(b, name, func.pos)?,
                    },
                    _ => self.eval(func)?,
                };
                let args = receiver
                    .into_iter()
                    .map(Ok)
                    .chain(args.iter().map(|a| self.eval(a)))
                    .collect::<EvalResult<Vec<_>>>()?;
                let mut kw = Vec::with_capacity(kwargs.len());
                for (k, v, p) in kwargs {
                    kw.push((k.clone(), self.eval(v)?, *p));
                }
                if let Some((k, name)) = klistener {
                    let Some(m) = table::klistener_method(&name) else {
                        let names = table::KLISTENER_METHODS.iter().map(|m| m.sig.name);
                        return Err(Error::eval(
                            e.pos,
                            format!(
                                "a kernel listener has no method '{name}'{} (methods: accept, close)",
                                did_you_mean(&name, names)
                            ),
                        ));
                    };
                    let mut a = Args::bind(&m.sig, e.pos, args, kw)?;
                    return (m.run)(self, &k, &mut a);
                }
                if let Some((k, name)) = socket {
                    let Some(m) = table::socket_method(&name) else {
                        let names = table::SOCKET_METHODS.iter().map(|m| m.sig.name);
                        return Err(Error::eval(
                            e.pos,
                            format!(
                                "a kernel socket has no method '{name}'{} (methods: write, read, shutdown, close)",
                                did_you_mean(&name, names)
                            ),
                        ));
                    };
                    let mut a = Args::bind(&m.sig, e.pos, args, kw)?;
                    return (m.run)(self, &k, &mut a);
                }
                match (session, listener) {
                    (Some((s, name)), _) => self.call_method(&s, &name, args, kw, e.pos)?,
                    (None, Some((l, name))) => {
                        let Some(m) = table::listener_method(&name) else {
                            let names = table::LISTENER_METHODS.iter().map(|m| m.sig.name);
                            return Err(Error::eval(
                                e.pos,
                                format!(
                                    "a listener has no method '{name}'{} (methods: accept)",
                                    did_you_mean(&name, names)
                                ),
                            ));
                        };
                        let mut a = Args::bind(&m.sig, e.pos, args, kw)?;
                        (m.run)(self, &l, &mut a)?
                    }
                    (None, None) => self.call(f, args, kw, e.pos)?,
                }
            }
            ExprKind::Unary(UnOp::Neg, x) => match self.eval(x)? {
                Value::Int(n) => Value::Int(
                    n.checked_neg()
                        .ok_or_else(|| Error::eval(e.pos, "integer overflow"))?,
                ),
                Value::Float(f) => Value::Float(-f),
                other => {
                    return Err(Error::eval(
                        e.pos,
                        format!("cannot negate {}", other.type_name()),
                    ));
                }
            },
            ExprKind::Unary(UnOp::Not, x) => Value::Bool(!self.eval(x)?.truthy()),
            ExprKind::Binary(BinOp::And, l, r) => {
                let lv = self.eval(l)?;
                if !lv.truthy() { lv } else { self.eval(r)? }
            }
            ExprKind::Binary(BinOp::Or, l, r) => {
                let lv = self.eval(l)?;
                if lv.truthy() { lv } else { self.eval(r)? }
            }
            ExprKind::Binary(op, l, r) => {
                let lv = self.eval(l)?;
                let rv = self.eval(r)?;
                self.binary(*op, lv, rv, e.pos)?
            }
        })
    }

    fn lookup(&self, name: &str, pos: Pos) -> EvalResult<Value> {
        if let Some(v) = self.interp.vars.get(name) {
            return Ok(v.clone());
        }
        match table::known(name) {
            Some(Known::Layer(k)) => return Ok(Value::Layer(k)),
            Some(Known::Builtin(b)) => return Ok(Value::Builtin(b.sig.name)),
            Some(Known::Keyword(k)) => return Ok(Value::Keyword(k.name)),
            None => {}
        }
        let mut names: Vec<&str> = self.interp.vars.keys().map(String::as_str).collect();
        for n in table::all_names() {
            names.push(n);
        }
        let mut msg = format!("unknown name '{name}'");
        match did_you_mean(name, names) {
            hint if hint.is_empty() => msg.push_str(" (type help() for the builtins and layers)"),
            hint => msg.push_str(&hint),
        }
        Err(Error::eval(pos, msg))
    }

    fn attr(&mut self, b: Value, name: &str, pos: Pos) -> EvalResult<Value> {
        match b {
            Value::Record(fields) => {
                let names: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
                match fields.into_iter().find(|(k, _)| *k == name) {
                    Some((_, v)) => Ok(v),
                    None => Err(Error::eval(
                        pos,
                        format!(
                            "the record has no field '{name}'{} (fields: {})",
                            did_you_mean(name, names.iter().copied()),
                            names.join(", ")
                        ),
                    )),
                }
            }
            Value::Packet(view) => {
                if let Some(i) = layer_index(&view, view.start, name) {
                    return Ok(Value::Packet(PacketView { start: i, ..view }));
                }
                if LayerKind::from_name(name).is_some_and(|k| k.attr() == name) {
                    return Err(no_layer(&view, view.start, name, pos));
                }
                if LayerKind::ALL.iter().any(|k| k.field_index(name).is_some()) {
                    let view = self.as_sent(view.clone(), pos)?;
                    if let Some(v) = fields::read_field(&view, name) {
                        return Ok(v);
                    }
                }
                if let Some(v) = fields::read_field(&view, name) {
                    return Ok(v);
                }
                match name {
                    "payload" => Ok(Value::Str(view.to_packet().payload().to_vec().into())),
                    "layers" => Ok(Value::List(
                        view.pkt.layers[view.start..]
                            .iter()
                            .map(|l| Value::Str(l.kind().name().as_bytes().into()))
                            .collect(),
                    )),
                    _ => Err(Error::eval(pos, no_field_msg(&view, view.start, name))),
                }
            }
            Value::Listener(l) => {
                let l = l.0.borrow();
                match name {
                    "port" => Ok(Value::Int(l.port.into())),
                    "addr" => Ok(super::value::ip_value(l.addr)),
                    "accepted" => Ok(Value::Int(l.accepted.len() as i64)),
                    _ => {
                        let names = table::LISTENER_ATTRS.iter().map(|a| a.0);
                        Err(Error::eval(
                            pos,
                            format!(
                                "a listener has no attribute '{name}'{}",
                                did_you_mean(name, names)
                            ),
                        ))
                    }
                }
            }
            Value::Session(s) => match table::attr(name) {
                Some(a) => Ok((a.read)(&s.0.borrow())),
                None => {
                    let names: Vec<&str> = table::ATTRS.iter().map(|a| a.name).collect();
                    Err(Error::eval(
                        pos,
                        format!(
                            "a session has no attribute '{name}'{} (attributes: {})",
                            did_you_mean(name, names.iter().copied()),
                            names.join(", ")
                        ),
                    ))
                }
            },
            Value::None => Err(Error::eval(
                pos,
                format!("cannot read .{name} of none (nothing answered in time?)"),
            )),
            other => Err(Error::eval(
                pos,
                format!("{} has no attribute '{name}'", other.type_name()),
            )),
        }
    }

    fn call(
        &mut self,
        f: Value,
        args: Vec<Value>,
        kwargs: Vec<(String, Value, Pos)>,
        pos: Pos,
    ) -> EvalResult<Value> {
        match f {
            Value::Layer(kind) => super::builtins::construct(kind, args, kwargs, pos),
            Value::Builtin(name) => {
                let Some(b) = table::builtin(name) else {
                    return Err(Error::eval(pos, format!("no builtin '{name}'")));
                };
                let mut a = Args::bind(&b.sig, pos, args, kwargs)?;
                (b.run)(self, &mut a)
            }
            other => Err(Error::eval(
                pos,
                format!("{} is not callable", other.type_name()),
            )),
        }
    }

    /// A method call on a session, `c.syn()`: bound against the method's row in the table.
    fn call_method(
        &mut self,
        s: &SessionRef,
        name: &str,
        args: Vec<Value>,
        kwargs: Vec<(String, Value, Pos)>,
        pos: Pos,
    ) -> EvalResult<Value> {
        let Some(m) = table::method(name) else {
            let names: Vec<&str> = table::METHODS.iter().map(|m| m.sig.name).collect();
            let hint = did_you_mean(name, names.iter().copied());
            return Err(Error::eval(
                pos,
                format!(
                    "a session has no method '{name}'{hint} (methods: {})",
                    names.join(", ")
                ),
            ));
        };
        let mut a = Args::bind(&m.sig, pos, args, kwargs)?;
        (m.run)(self, s, &mut a)
    }

    /// The packet as it will be sent: in a live run, a TCP layer without a
    /// source port shows the free port craft reserved for it. The value itself
    /// keeps the field unset (a pattern for `expect_packet` stays a pattern).
    pub fn as_sent(&mut self, mut view: PacketView, pos: Pos) -> EvalResult<PacketView> {
        if let Some(live) = self.rt.live.as_mut()
            && view
                .pkt
                .layers
                .iter()
                .any(|l| matches!(l, Layer::Tcp(t) if t.sport.is_none()))
        {
            let p = live.default_sport().map_err(|e| live_error(e, pos))?;
            for l in &mut view.pkt.layers {
                if let Layer::Tcp(t) = l {
                    t.sport.get_or_insert(p);
                }
            }
        }
        Ok(view)
    }

    fn binary(&mut self, op: BinOp, l: Value, r: Value, pos: Pos) -> EvalResult<Value> {
        use Value as V;
        let err = |m: String| Error::eval(pos, m);
        let mismatch = |l: &Value, r: &Value| {
            err(format!(
                "cannot apply '{}' to {} and {}",
                op.symbol(),
                l.type_name(),
                r.type_name()
            ))
        };
        Ok(match op {
            BinOp::Eq => V::Bool(l.equals(&r).map_err(err)?),
            BinOp::Ne => V::Bool(!l.equals(&r).map_err(err)?),
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let (a, b) = match (num(&l), num(&r)) {
                    (Some(a), Some(b)) => (a, b),
                    _ => return Err(mismatch(&l, &r)),
                };
                V::Bool(match op {
                    BinOp::Lt => a < b,
                    BinOp::Le => a <= b,
                    BinOp::Gt => a > b,
                    _ => a >= b,
                })
            }
            BinOp::In => V::Bool(match (&l, &r) {
                (V::Str(s), V::Flags(bits, set)) => {
                    let want = value::parse_flags(s, *set).map_err(err)?;
                    bits & want == want
                }
                (V::Str(a), V::Str(b)) => a.is_empty() || b.windows(a.len()).any(|w| w == &a[..]),
                (V::Str(a), V::Packet(p)) => {
                    let pl = p.to_packet().payload().to_vec();
                    a.is_empty() || pl.windows(a.len()).any(|w| w == &a[..])
                }
                (x, V::List(items)) | (x, V::Tuple(items)) => {
                    let mut found = false;
                    for it in items {
                        if x.equals(it).map_err(err)? {
                            found = true;
                            break;
                        }
                    }
                    found
                }
                _ => return Err(mismatch(&l, &r)),
            }),
            BinOp::Div if is_stackable(&l) => stack(l, r).map_err(err)?,
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => match (&l, &r) {
                (V::Int(a), V::Int(b)) => {
                    let v = match op {
                        BinOp::Add => a.checked_add(*b),
                        BinOp::Sub => a.checked_sub(*b),
                        BinOp::Mul => a.checked_mul(*b),
                        BinOp::Div if *b == 0 => return Err(err("division by zero".into())),
                        BinOp::Rem if *b == 0 => return Err(err("division by zero".into())),
                        BinOp::Div => a.checked_div(*b),
                        _ => a.checked_rem(*b),
                    };
                    V::Int(v.ok_or_else(|| err("integer overflow".into()))?)
                }
                (V::Str(a), V::Str(b)) if op == BinOp::Add => {
                    V::Str([&a[..], &b[..]].concat().into())
                }
                (V::Str(a), V::Int(n)) if op == BinOp::Mul => {
                    if *n < 0 || (*n as u128) * (a.len() as u128) > 16 << 20 {
                        return Err(err(format!(
                            "string repetition of {n} is out of range (at most 16 MiB)"
                        )));
                    }
                    V::Str(a.repeat(*n as usize).into())
                }
                (V::List(a), V::List(b)) if op == BinOp::Add => {
                    V::List([a.clone(), b.clone()].concat())
                }
                _ => match (num(&l), num(&r)) {
                    (Some(a), Some(b)) => {
                        if matches!(op, BinOp::Div | BinOp::Rem) && b == 0.0 {
                            return Err(err("division by zero".into()));
                        }
                        V::Float(match op {
                            BinOp::Add => a + b,
                            BinOp::Sub => a - b,
                            BinOp::Mul => a * b,
                            BinOp::Div => a / b,
                            _ => a % b,
                        })
                    }
                    _ => return Err(mismatch(&l, &r)),
                },
            },
            BinOp::And | BinOp::Or => unreachable!("short-circuit operators are evaluated in eval"),
        })
    }
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Int(n) => Some(*n as f64),
        Value::Float(f) => Some(*f),
        Value::Flags(b, _) => Some(f64::from(*b)),
        _ => None,
    }
}

fn is_stackable(v: &Value) -> bool {
    matches!(v, Value::Packet(_) | Value::Layer(_) | Value::Set(_))
}

/// `a / b`: stacks layers; a string on the right becomes the payload.
/// With a set on either side the result is a set.
fn stack(l: Value, r: Value) -> Result<Value, String> {
    if matches!(l, Value::Set(_)) || matches!(r, Value::Set(_)) {
        let as_set = |v: Value| -> Result<PacketSet, String> {
            match v {
                Value::Set(s) => Ok(s),
                Value::Str(s) => Ok(PacketSet {
                    base: Packet::of(Layer::raw(s)),
                    fields: Vec::new(),
                }),
                other => match stack_single(other) {
                    Some(p) => Ok(PacketSet {
                        base: p,
                        fields: Vec::new(),
                    }),
                    None => Err("cannot stack that onto a packet set".into()),
                },
            }
        };
        return PacketSet::stack(as_set(l)?, as_set(r)?).map(Value::Set);
    }
    let mut pkt = match l {
        Value::Packet(v) => v.to_packet(),
        Value::Layer(k) => Packet::of(Layer::new(k)),
        other => return Err(format!("cannot stack onto {}", other.type_name())),
    };
    match r {
        Value::Packet(v) => pkt.layers.extend(v.to_packet().layers),
        Value::Layer(k) => pkt.layers.push(Layer::new(k)),
        Value::Str(s) => pkt.layers.push(Layer::raw(s)),
        other => {
            return Err(format!(
                "cannot stack {} {} onto a packet (use a layer like TCP() or a \"string\" payload)",
                other.type_name(),
                other.repr()
            ));
        }
    }
    Ok(Value::Packet(PacketView::whole(pkt)))
}

/// A packet or a layer as a packet, for stacking with a set.
fn stack_single(v: Value) -> Option<Packet> {
    match v {
        Value::Packet(p) => Some(p.to_packet()),
        Value::Layer(k) => Some(Packet::of(Layer::new(k))),
        _ => None,
    }
}

fn index(b: Value, i: Value, pos: Pos) -> EvalResult<Value> {
    match (&b, &i) {
        (Value::List(v) | Value::Tuple(v), Value::Int(n)) => {
            let idx = if *n < 0 { v.len() as i64 + n } else { *n };
            v.get(usize::try_from(idx).unwrap_or(usize::MAX))
                .cloned()
                .ok_or_else(|| {
                    Error::eval(
                        pos,
                        format!("index {n} is out of range (length {})", v.len()),
                    )
                })
        }
        (Value::Str(s), Value::Int(n)) => {
            let idx = if *n < 0 { s.len() as i64 + n } else { *n };
            s.get(usize::try_from(idx).unwrap_or(usize::MAX))
                .map(|b| Value::Int(i64::from(*b)))
                .ok_or_else(|| {
                    Error::eval(
                        pos,
                        format!("index {n} is out of range (length {})", s.len()),
                    )
                })
        }
        (Value::Packet(view), Value::Layer(k)) => view.pkt.layers[view.start..]
            .iter()
            .position(|l| l.kind() == *k)
            .map(|i| {
                Value::Packet(PacketView {
                    start: view.start + i,
                    ..view.clone()
                })
            })
            .ok_or_else(|| no_layer(view, view.start, k.attr(), pos)),
        _ => Err(Error::eval(
            pos,
            format!("cannot index {} with {}", b.type_name(), i.type_name()),
        )),
    }
}

/// Index of the first layer named `name` (an attribute name like `tcp`) at or after `start`.
fn layer_index(view: &PacketView, start: usize, name: &str) -> Option<usize> {
    let kind = LayerKind::from_name(name).filter(|k| k.attr() == name)?;
    view.pkt
        .layers
        .iter()
        .enumerate()
        .skip(start)
        .find(|(_, l)| l.kind() == kind)
        .map(|(i, _)| i)
}

fn layer_names(view: &PacketView, start: usize) -> String {
    view.pkt.layers[start.min(view.pkt.layers.len())..]
        .iter()
        .map(|l| l.kind().name())
        .collect::<Vec<_>>()
        .join("/")
}

fn no_layer(view: &PacketView, start: usize, name: &str, pos: Pos) -> Error {
    Error::eval(
        pos,
        format!(
            "the packet has no {name} layer (it has {})",
            layer_names(view, start)
        ),
    )
}

fn no_field_msg(view: &PacketView, start: usize, name: &str) -> String {
    let mut known: Vec<&str> = Vec::new();
    for l in &view.pkt.layers[start.min(view.pkt.layers.len())..] {
        known.push(l.kind().attr());
        known.extend(l.kind().fields().iter().map(|f| f.name));
    }
    known.dedup();
    format!(
        "no field or layer '{name}' in {} (known here: {})",
        layer_names(view, start),
        known.join(", ")
    )
}

/// A value with its type, for expect failure messages.
fn describe(v: &Value) -> String {
    match v {
        Value::Packet(p) => crate::render::summary(&p.to_packet()),
        other => other.repr(),
    }
}

/// Lists and tuples nest at most this deep: printing, comparing and dropping a
/// value recurse once per level (`x = [x]` on 100k lines overflowed the stack).
const MAX_NESTING: usize = 100;

fn check_nesting(v: Value, pos: Pos) -> EvalResult<Value> {
    fn depth(v: &Value) -> usize {
        match v {
            Value::List(items) | Value::Tuple(items) => {
                1 + items.iter().map(depth).max().unwrap_or(0)
            }
            _ => 0,
        }
    }
    if depth(&v) > MAX_NESTING {
        return Err(Error::eval(
            pos,
            format!("value nested too deeply (lists and tuples more than {MAX_NESTING} levels)"),
        ));
    }
    Ok(v)
}
