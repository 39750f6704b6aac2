//! The reference interpreter: walks the AST with the same `tollgate_vtl` operations the
//! generated code calls. `tollgate template render` uses it, and tests check that compiled
//! templates give byte-identical output.

use crate::ast::{BinOp, Expr, Node, Part, Reference, Template};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use tollgate_vtl::env::{Env, Loop, MAX_LOOP, Output, RenderError};
use tollgate_vtl::value::Object;
use tollgate_vtl::{JsonPath, Value, methods, ops, util};

/// Renders `template` over `env` into `out`. On error, `out` holds what rendered before it.
pub fn render(template: &Template, env: &Env<'_>, out: &mut Output) -> Result<(), RenderError> {
    let mut it = Interpreter {
        env,
        vars: HashMap::new(),
        loops: Vec::new(),
    };
    it.nodes(&template.body, out).map(|_| ())
}

enum Flow {
    Next,
    Break,
    Stop,
}

struct Interpreter<'e, 'a> {
    env: &'e Env<'a>,
    vars: HashMap<String, Value>,
    loops: Vec<Loop>,
}

impl Interpreter<'_, '_> {
    fn nodes(&mut self, nodes: &[Node], out: &mut Output) -> Result<Flow, RenderError> {
        for n in nodes {
            match self.node(n, out)? {
                Flow::Next => {}
                flow => return Ok(flow),
            }
        }
        Ok(Flow::Next)
    }

    fn node(&mut self, node: &Node, out: &mut Output) -> Result<Flow, RenderError> {
        match node {
            Node::Text { text } => out.text(text),
            Node::Ref { reference } => {
                if let Some(path) = input_json_direct(reference) {
                    let path = self.path_arg(path, out)?;
                    self.env.write_input_json(&path, &mut out.body)?;
                } else if let Some(arg) = escape_direct(reference) {
                    let v = self.expr(arg, out)?;
                    util::write_escape_javascript(&v, &mut out.body);
                } else {
                    let v = self.reference(reference, out)?;
                    out.value(&v);
                }
            }
            Node::Set { target, value, .. } => {
                let v = self.expr(value, out)?;
                self.set(target, v, out)?;
            }
            Node::If {
                branches,
                otherwise,
                ..
            } => {
                for b in branches {
                    let c = self.expr(&b.condition, out)?;
                    if ops::truthy(&c) {
                        return self.nodes(&b.body, out);
                    }
                }
                if let Some(o) = otherwise {
                    return self.nodes(o, out);
                }
            }
            Node::Foreach {
                var,
                iterable,
                body,
                ..
            } => {
                let items = match keyset_receiver(iterable) {
                    Some(r) => self.reference(&r, out)?.iter_keys(),
                    None => self.expr(iterable, out)?.iter_values(),
                };
                let len = items.len().min(MAX_LOOP);
                let saved = self.vars.remove(var);
                let mut flow = Flow::Next;
                for (index, item) in items.into_iter().take(MAX_LOOP).enumerate() {
                    out.step()?;
                    self.vars.insert(var.clone(), item);
                    self.loops.push(Loop { index, len });
                    let f = self.nodes(body, out);
                    self.loops.pop();
                    match f? {
                        Flow::Next => {}
                        Flow::Break => break,
                        Flow::Stop => {
                            flow = Flow::Stop;
                            break;
                        }
                    }
                }
                match saved {
                    Some(v) => self.vars.insert(var.clone(), v),
                    None => self.vars.remove(var),
                };
                return Ok(flow);
            }
            Node::Break { .. } => return Ok(Flow::Break),
            Node::Stop { .. } => return Ok(Flow::Stop),
        }
        Ok(Flow::Next)
    }

    fn set(&mut self, target: &Reference, v: Value, out: &mut Output) -> Result<(), RenderError> {
        if target.root == "context" {
            let path: Vec<&str> = target
                .parts
                .iter()
                .filter_map(|p| match p {
                    Part::Property { name } => Some(name.as_str()),
                    _ => None,
                })
                .collect();
            return out.set_context(&path, v);
        }
        match target.parts.split_last() {
            None => {
                // Velocity 1.7: a null right-hand side leaves the variable as it was.
                if !v.is_null() {
                    self.vars.insert(target.root.clone(), v);
                }
            }
            Some((Part::Property { name }, init)) => {
                if init.is_empty()
                    && let Some(v) = self.vars.get_mut(&target.root)
                {
                    v.make_mutable();
                }
                let mut obj = self.vars.get(&target.root).cloned().unwrap_or_default();
                for p in init {
                    obj = self.part(obj, p, out)?;
                }
                set_property(&obj, name, v);
            }
            Some(_) => {}
        }
        Ok(())
    }

    fn path_arg(&mut self, arg: &Expr, out: &mut Output) -> Result<JsonPath, RenderError> {
        let v = self.expr(arg, out)?;
        self.env.dyn_path(&v)
    }

    fn args(&mut self, args: &[Expr], out: &mut Output) -> Result<Vec<Value>, RenderError> {
        args.iter().map(|a| self.expr(a, out)).collect()
    }

    fn reference(&mut self, r: &Reference, out: &mut Output) -> Result<Value, RenderError> {
        let mut parts = r.parts.iter();
        let mut v = match r.root.as_str() {
            "input" => match parts.next() {
                Some(Part::Property { name }) if name == "body" => self.env.input_body(),
                Some(Part::Method { name, args, .. }) => match (name.as_str(), args.as_slice()) {
                    ("json", [a]) => {
                        let p = self.path_arg(a, out)?;
                        self.env.input_json(&p)?
                    }
                    ("path", [a]) => {
                        let p = self.path_arg(a, out)?;
                        self.env.input_path(&p)?
                    }
                    ("params", []) => self.env.input_params(),
                    ("params", [a]) => {
                        let name = self.expr(a, out)?;
                        self.env.input_param(&name)
                    }
                    _ => Value::Null,
                },
                _ => Value::Null,
            },
            "util" => match parts.next() {
                Some(Part::Method { name, args, .. }) => {
                    let args = self.args(args, out)?;
                    util::call(name, &args)?
                }
                _ => Value::Null,
            },
            "context" => match parts.clone().next() {
                Some(Part::Property { name }) => {
                    parts.next();
                    self.env.context_property(name)
                }
                _ => self.env.context(),
            },
            "stageVariables" => self.env.stage_variables(),
            "foreach" => {
                let mut depth = self.loops.len();
                let mut value = Value::Null;
                for p in parts.by_ref() {
                    match p {
                        Part::Property { name } if name == "parent" && depth > 1 => depth -= 1,
                        Part::Property { name } if depth > 0 => {
                            value = self.loops[depth - 1].property(name);
                            break;
                        }
                        _ => break,
                    }
                }
                value
            }
            "velocityCount" => self
                .loops
                .last()
                .map(|l| l.property("count"))
                .unwrap_or_default(),
            name => self.vars.get(name).cloned().unwrap_or_default(),
        };
        for p in parts {
            v = self.part(v, p, out)?;
        }
        Ok(v)
    }

    fn part(&mut self, v: Value, p: &Part, out: &mut Output) -> Result<Value, RenderError> {
        Ok(match p {
            Part::Property { name } => v.property(name),
            Part::Method { name, args, .. } => {
                let args = self.args(args, out)?;
                methods::call(&v, name, &args)?
            }
            Part::Index { index } => {
                let i = self.expr(index, out)?;
                v.index(&i)
            }
        })
    }

    fn expr(&mut self, e: &Expr, out: &mut Output) -> Result<Value, RenderError> {
        Ok(match e {
            Expr::Bool { value } => Value::Bool(*value),
            Expr::Int { value } => Value::Int(*value),
            Expr::Float { value } => Value::Float(*value),
            Expr::Str { value, .. } => Value::str(value.as_str()),
            Expr::Interp { parts } => {
                let mut sub = Output::new();
                std::mem::swap(&mut sub.overrides, &mut out.overrides);
                let r = self.nodes(parts, &mut sub);
                std::mem::swap(&mut sub.overrides, &mut out.overrides);
                r?;
                Value::str(sub.body)
            }
            Expr::List { items } => {
                let items = self.args(items, out)?;
                Value::List(Rc::new(RefCell::new(items)))
            }
            Expr::Range { from, to } => {
                let a = self.expr(from, out)?;
                let b = self.expr(to, out)?;
                ops::range(&a, &b)
            }
            Expr::Map { entries } => {
                let mut o = Object::with_capacity(entries.len());
                for (k, v) in entries {
                    let k = self.expr(k, out)?.to_java_string();
                    let v = self.expr(v, out)?;
                    o.insert(Rc::from(k), v);
                }
                Value::Map(Rc::new(RefCell::new(o)))
            }
            Expr::Ref { reference } => self.reference(reference, out)?,
            Expr::Not { operand } => Value::Bool(!ops::truthy(&self.expr(operand, out)?)),
            Expr::Neg { operand } => ops::neg(&self.expr(operand, out)?),
            Expr::Binary { op, left, right } => {
                let l = self.expr(left, out)?;
                match op {
                    BinOp::Or => {
                        if ops::truthy(&l) {
                            return Ok(Value::Bool(true));
                        }
                        Value::Bool(ops::truthy(&self.expr(right, out)?))
                    }
                    BinOp::And => {
                        if !ops::truthy(&l) {
                            return Ok(Value::Bool(false));
                        }
                        Value::Bool(ops::truthy(&self.expr(right, out)?))
                    }
                    _ => {
                        let r = self.expr(right, out)?;
                        binary(*op, &l, &r)
                    }
                }
            }
        })
    }
}

/// A non-short-circuit binary operator, shared with generated code's semantics.
pub fn binary(op: BinOp, l: &Value, r: &Value) -> Value {
    use std::cmp::Ordering::*;
    match op {
        BinOp::Eq => Value::Bool(ops::eq(l, r)),
        BinOp::Ne => Value::Bool(!ops::eq(l, r)),
        BinOp::Lt => Value::Bool(ops::cmp(l, r) == Some(Less)),
        BinOp::Le => Value::Bool(matches!(ops::cmp(l, r), Some(Less | Equal))),
        BinOp::Gt => Value::Bool(ops::cmp(l, r) == Some(Greater)),
        BinOp::Ge => Value::Bool(matches!(ops::cmp(l, r), Some(Greater | Equal))),
        BinOp::Add => ops::add(l, r),
        BinOp::Sub => ops::sub(l, r),
        BinOp::Mul => ops::mul(l, r),
        BinOp::Div => ops::div(l, r),
        BinOp::Rem => ops::rem(l, r),
        BinOp::Or => Value::Bool(ops::truthy(l) || ops::truthy(r)),
        BinOp::And => Value::Bool(ops::truthy(l) && ops::truthy(r)),
    }
}

/// `#set($map.key = v)` on a template map; JSON objects from a body are read-only.
pub fn set_property(target: &Value, name: &str, v: Value) {
    if let Value::Map(m) = target {
        m.borrow_mut().insert(Rc::from(name), v);
    }
}

/// `#foreach($k in $m.keySet())`: the reference `$m`, iterated by key without building the
/// key list.
pub fn keyset_receiver(iterable: &Expr) -> Option<Reference> {
    let Expr::Ref { reference } = iterable else {
        return None;
    };
    match reference.parts.split_last() {
        Some((Part::Method { name, args, .. }, init)) if name == "keySet" && args.is_empty() => {
            // `$util.keySet()` / `$input.keySet()` are not maps.
            if init.is_empty() && matches!(reference.root.as_str(), "util" | "input") {
                return None;
            }
            Some(Reference {
                parts: init.to_vec(),
                ..reference.clone()
            })
        }
        _ => None,
    }
}

/// `$util.escapeJavaScript(arg)` rendered on its own: escaped straight into the output.
pub fn escape_direct(r: &Reference) -> Option<&Expr> {
    match (r.root.as_str(), r.parts.as_slice()) {
        ("util", [Part::Method { name, args, .. }])
            if name == "escapeJavaScript" && args.len() == 1 =>
        {
            args.first()
        }
        _ => None,
    }
}

/// `$input.json(arg)` rendered on its own: written straight into the output.
pub fn input_json_direct(r: &Reference) -> Option<&Expr> {
    match (r.root.as_str(), r.parts.as_slice()) {
        ("input", [Part::Method { name, args, .. }]) if name == "json" && args.len() == 1 => {
            args.first()
        }
        _ => None,
    }
}
