//! Signatures (a builtin's or method's parameters, as the table gives them)
//! and a call's arguments bound to them:
//! positional ones in order, keyword ones by name. Binding refuses extra
//! arguments, unknown names and a parameter given twice, before anything runs.

use super::suggest::did_you_mean;
use super::value::Value;
use super::{Error, EvalResult};
use crate::lang::Pos;

/// One parameter of a builtin or method.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    /// Its name, also the keyword to give it by.
    pub name: &'static str,
    /// The default as written in help; None when it must be given.
    pub default: Option<&'static str>,
}

/// How a builtin or method is called: its name and parameters, in order.
#[derive(Clone, Copy, Debug)]
pub struct Signature {
    /// The name.
    pub name: &'static str,
    /// Parameters, positional in this order or by name.
    pub params: &'static [Param],
    /// Takes any number of further positional values (`print`).
    pub rest: bool,
}

impl Signature {
    /// The call form for help and hints: `sr1(packet, timeout=2)`.
    pub fn usage(&self) -> String {
        let mut parts: Vec<String> = self
            .params
            .iter()
            .map(|p| match p.default {
                None => p.name.to_string(),
                Some(d) => format!("{}={d}", p.name),
            })
            .collect();
        if self.rest {
            parts.push("...".into());
        }
        format!("{}({})", self.name, parts.join(", "))
    }

    /// The error for an argument `k` this signature does not take.
    pub fn no_argument(&self, k: &str) -> String {
        let hint = did_you_mean(k, self.params.iter().map(|p| p.name));
        format!(
            "{}() has no argument '{k}'{hint}: {}",
            self.name,
            self.usage()
        )
    }

    /// The parameter called `name`.
    pub fn param(&self, name: &str) -> Option<&'static Param> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// The bound arguments of one call.
pub struct Args {
    sig: &'static Signature,
    pos: Pos,
    /// One slot per parameter: the value and where it was written.
    slots: Vec<Option<(Value, Pos)>>,
    rest: Vec<Value>,
}

impl Args {
    /// Binds positional `args` and keyword `kwargs` to `sig`'s parameters.
    pub fn bind(
        sig: &'static Signature,
        pos: Pos,
        args: Vec<Value>,
        kwargs: Vec<(String, Value, Pos)>,
    ) -> EvalResult<Args> {
        let n = sig.params.len();
        let mut slots: Vec<Option<(Value, Pos)>> = (0..n).map(|_| None).collect();
        let mut rest = Vec::new();
        for (i, v) in args.into_iter().enumerate() {
            if i < n {
                slots[i] = Some((v, pos));
            } else if sig.rest {
                rest.push(v);
            } else {
                return Err(Error::eval(
                    pos,
                    format!(
                        "{}() got too many arguments (argument {} is extra): {}",
                        sig.name,
                        i + 1,
                        sig.usage()
                    ),
                ));
            }
        }
        for (k, v, kpos) in kwargs {
            let Some(i) = sig.params.iter().position(|p| p.name == k) else {
                return Err(Error::eval(kpos, sig.no_argument(&k)));
            };
            if slots[i].is_some() {
                return Err(Error::eval(
                    kpos,
                    format!("{}(): '{k}' is given twice", sig.name),
                ));
            }
            slots[i] = Some((v, kpos));
        }
        Ok(Args {
            sig,
            pos,
            slots,
            rest,
        })
    }

    /// The argument `name`, if given (`none` counts as given).
    pub fn opt(&mut self, name: &str) -> Option<Value> {
        let i = self.sig.params.iter().position(|p| p.name == name);
        // Callers name their own parameters (the table's tests call each one).
        debug_assert!(i.is_some(), "{}() has no parameter {name}", self.sig.name);
        self.slots.get_mut(i?)?.take().map(|(v, _)| v)
    }

    /// The argument `name`, if given and not `none`.
    pub fn given(&mut self, name: &str) -> Option<Value> {
        self.opt(name).filter(|v| *v != Value::None)
    }

    /// A required argument.
    pub fn req(&mut self, name: &str) -> EvalResult<Value> {
        self.opt(name).ok_or_else(|| {
            Error::eval(
                self.pos,
                format!("{}() needs {name}: {}", self.sig.name, self.sig.usage()),
            )
        })
    }

    /// A number of seconds, if given.
    pub fn secs(&mut self, name: &str) -> EvalResult<Option<f64>> {
        match self.given(name) {
            None => Ok(None),
            Some(Value::Int(n)) if n >= 0 => Ok(Some(n as f64)),
            Some(Value::Float(f)) if f >= 0.0 && f.is_finite() => Ok(Some(f)),
            Some(v) => Err(Error::eval(
                self.pos,
                format!(
                    "{}(): {name} must be seconds (a number ≥ 0), not {}",
                    self.sig.name,
                    v.repr()
                ),
            )),
        }
    }

    /// An integer in `0..=max`, if given.
    pub fn int(&mut self, name: &str, max: i64) -> EvalResult<Option<i64>> {
        match self.given(name) {
            None => Ok(None),
            Some(Value::Int(n)) if (0..=max).contains(&n) => Ok(Some(n)),
            Some(v) => Err(Error::eval(
                self.pos,
                format!(
                    "{}(): {name} must be an integer in 0..={max}, not {}",
                    self.sig.name,
                    v.repr()
                ),
            )),
        }
    }

    /// The positional values after the parameters (`print`).
    pub fn rest(&mut self) -> Vec<Value> {
        std::mem::take(&mut self.rest)
    }

    /// Where the call is.
    pub fn pos(&self) -> Pos {
        self.pos
    }

    /// The callee's name.
    pub fn name(&self) -> &'static str {
        self.sig.name
    }
}
