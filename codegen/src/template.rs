//! `ast::Template` → a Rust function that renders it.
//!
//! Each template becomes `fn(&Env, &mut Output) -> Result<(), RenderError>`: literal text is
//! written with `push_str`, every `#set` variable is a Rust local, `#foreach` a labelled `for`,
//! `$foreach.*` a field of a loop local, constant JSONPaths are parsed once per thread, and
//! `$input.json(…)` / `$input.body` print straight into the output. The semantics of each
//! operation live in `tollgate_vtl`, shared with the interpreter (`tollgate_template::interpret`).

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
use std::collections::BTreeMap;
use tollgate_template::ast::{BinOp, Expr, Node, Part, Reference, Template};

/// The tokens of a function named `name` rendering `t`.
pub fn function(vis: TokenStream, name: &Ident, t: &Template) -> TokenStream {
    let mut g = Gen::default();
    collect_vars(&t.body, &mut g.vars);
    let body = g.nodes(&t.body);
    let c = quote!(::tollgate::__codegen::vtl);
    let locals = g
        .vars
        .values()
        .map(|v| quote!(let mut #v: #c::Value = #c::Value::Null;));
    let paths = g.paths.iter().enumerate().map(|(i, p)| {
        let id = format_ident!("PATH_{}", i);
        quote!(static #id: ::core::option::Option<#c::JsonPath> = #c::JsonPath::parse(#p).ok();)
    });
    quote! {
        #[allow(unused_mut, unused_variables, unused_assignments, unused_labels, unreachable_code, clippy::all)]
        #vis fn #name(
            env: &#c::env::Env<'_>,
            out: &mut #c::env::Output,
        ) -> ::core::result::Result<(), #c::env::RenderError> {
            ::std::thread_local! { #(#paths)* }
            #(#locals)*
            #body
            ::core::result::Result::Ok(())
        }
    }
}

#[derive(Default)]
struct Gen {
    vars: BTreeMap<String, Ident>,
    paths: Vec<String>,
    /// Open loops, innermost last: (loop-state local, label).
    loops: Vec<(Ident, syn::Lifetime)>,
    next_loop: usize,
}

fn collect_vars(nodes: &[Node], vars: &mut BTreeMap<String, Ident>) {
    let add = |name: &str, vars: &mut BTreeMap<String, Ident>| {
        if !vars.contains_key(name) {
            let id = format_ident!("v{}", vars.len());
            vars.insert(name.to_owned(), id);
        }
    };
    tollgate_template::ast::walk_nodes(nodes, &mut |r: &Reference| {
        if !tollgate_template::parse::BUILTINS.contains(&r.root.as_str())
            && r.root != "velocityCount"
        {
            add(&r.root, vars);
        }
    });
    fn loops(nodes: &[Node], out: &mut Vec<String>) {
        for n in nodes {
            match n {
                Node::Foreach { var, body, .. } => {
                    out.push(var.clone());
                    loops(body, out);
                }
                Node::If {
                    branches,
                    otherwise,
                    ..
                } => {
                    for b in branches {
                        loops(&b.body, out);
                    }
                    if let Some(o) = otherwise {
                        loops(o, out);
                    }
                }
                _ => {}
            }
        }
    }
    let mut names = Vec::new();
    loops(nodes, &mut names);
    for n in names {
        add(&n, vars);
    }
}

impl Gen {
    fn c(&self) -> TokenStream {
        quote!(::tollgate::__codegen::vtl)
    }

    fn nodes(&mut self, nodes: &[Node]) -> TokenStream {
        let items: Vec<TokenStream> = nodes.iter().map(|n| self.node(n)).collect();
        quote!(#(#items)*)
    }

    fn node(&mut self, n: &Node) -> TokenStream {
        let c = self.c();
        match n {
            Node::Text { text } => quote!(out.text(#text);),
            Node::Ref { reference } => {
                if let Some(arg) = tollgate_template::interpret::input_json_direct(reference) {
                    let w =
                        self.with_path(arg, quote!(env.write_input_json(__path, &mut out.body)));
                    return quote!(#w?;);
                }
                if let Some(arg) = tollgate_template::interpret::escape_direct(reference) {
                    let v = self.expr(arg);
                    return quote!({ let __v = #v; #c::util::write_escape_javascript(&__v, &mut out.body); });
                }
                if reference.root == "input"
                    && matches!(reference.parts.as_slice(), [Part::Property { name }] if name == "body")
                {
                    return quote!(out.text(env.body_str()););
                }
                let v = self.reference(reference);
                quote!({ let __v = #v; out.value(&__v); })
            }
            Node::Set { target, value, .. } => {
                let v = self.expr(value);
                if target.root == "context" {
                    let path: Vec<&str> = target
                        .parts
                        .iter()
                        .filter_map(|p| match p {
                            Part::Property { name } => Some(name.as_str()),
                            _ => None,
                        })
                        .collect();
                    return quote!({ let __v = #v; out.set_context(&[#(#path),*], __v)?; });
                }
                let var = self.var(&target.root);
                match target.parts.split_last() {
                    None => quote!({ let __v = #v; if !__v.is_null() { #var = __v; } }),
                    Some((Part::Property { name }, init)) => {
                        let upgrade = init.is_empty().then(|| quote!(#var.make_mutable();));
                        let mut obj = quote!(#var.clone());
                        for p in init {
                            obj = self.part(obj, p);
                        }
                        quote!({
                            let __v = #v;
                            #upgrade
                            let __o = #obj;
                            if let #c::Value::Map(m) = &__o {
                                m.borrow_mut().insert(::std::rc::Rc::from(#name), __v);
                            }
                        })
                    }
                    Some(_) => quote!(),
                }
            }
            Node::If {
                branches,
                otherwise,
                ..
            } => {
                let mut arms = Vec::new();
                for b in branches {
                    let cond = self.expr(&b.condition);
                    let body = self.nodes(&b.body);
                    arms.push(quote!(if #c::ops::truthy(&#cond) { #body }));
                }
                let otherwise = otherwise.as_ref().map(|o| {
                    let body = self.nodes(o);
                    quote!(else { #body })
                });
                quote!(#(#arms)else* #otherwise)
            }
            Node::Foreach {
                var,
                iterable,
                body,
                ..
            } => {
                let items = match tollgate_template::interpret::keyset_receiver(iterable) {
                    Some(r) => {
                        let recv = self.reference(&r);
                        quote!(#recv.iter_keys())
                    }
                    None => {
                        let it = self.expr(iterable);
                        quote!(#it.iter_values())
                    }
                };
                let var = self.var(var);
                let k = self.next_loop;
                self.next_loop += 1;
                let state = format_ident!("loop{}", k);
                let label = syn::Lifetime::new(&format!("'l{k}"), Span::call_site());
                self.loops.push((state.clone(), label.clone()));
                let body = self.nodes(body);
                self.loops.pop();
                quote!({
                    let __items = #items;
                    let __len = __items.len().min(#c::env::MAX_LOOP);
                    let __saved = ::core::mem::take(&mut #var);
                    #label: for (__i, __item) in __items.into_iter().take(#c::env::MAX_LOOP).enumerate() {
                        out.step()?;
                        #var = __item;
                        let #state = #c::env::Loop { index: __i, len: __len };
                        #body
                    }
                    #var = __saved;
                })
            }
            Node::Break { .. } => match self.loops.last() {
                Some((_, label)) => quote!(break #label;),
                None => quote!(),
            },
            Node::Stop { .. } => quote!(return ::core::result::Result::Ok(());),
        }
    }

    fn var(&mut self, name: &str) -> Ident {
        if let Some(v) = self.vars.get(name) {
            return v.clone();
        }
        let id = format_ident!("v{}", self.vars.len());
        self.vars.insert(name.to_owned(), id.clone());
        id
    }

    /// An expression of type `Result<T, RenderError>` running `body` with `__path: &JsonPath`
    /// bound to the JSONPath in `arg`: parsed once per thread for a constant, per call otherwise.
    fn with_path(&mut self, arg: &Expr, body: TokenStream) -> TokenStream {
        let c = self.c();
        if let Expr::Str { value, .. } = arg {
            let i = match self.paths.iter().position(|p| p == value) {
                Some(i) => i,
                None => {
                    self.paths.push(value.clone());
                    self.paths.len() - 1
                }
            };
            let id = format_ident!("PATH_{}", i);
            quote!(#id.with(|__pp| match __pp {
                ::core::option::Option::Some(__path) => #body,
                ::core::option::Option::None => env.dyn_path(&#c::Value::str(#value)).and_then(|__path| {
                    let __path = &__path;
                    #body
                }),
            }))
        } else {
            let v = self.expr(arg);
            quote!({
                let __pv = #v;
                env.dyn_path(&__pv).and_then(|__path| {
                    let __path = &__path;
                    #body
                })
            })
        }
    }

    fn args(&mut self, args: &[Expr]) -> TokenStream {
        let items: Vec<TokenStream> = args.iter().map(|a| self.expr(a)).collect();
        quote!([#(#items),*])
    }

    fn reference(&mut self, r: &Reference) -> TokenStream {
        let c = self.c();
        let mut parts = r.parts.iter();
        let mut v = match r.root.as_str() {
            "input" => match parts.next() {
                Some(Part::Property { name }) if name == "body" => quote!(env.input_body()),
                Some(Part::Method { name, args, .. }) => match (name.as_str(), args.as_slice()) {
                    ("json", [a]) => {
                        let w = self.with_path(a, quote!(env.input_json(__path)));
                        quote!(#w?)
                    }
                    ("path", [a]) => {
                        let w = self.with_path(a, quote!(env.input_path(__path)));
                        quote!(#w?)
                    }
                    ("params", []) => quote!(env.input_params()),
                    ("params", [a]) => {
                        let a = self.expr(a);
                        quote!(env.input_param(&#a))
                    }
                    _ => quote!(#c::Value::Null),
                },
                _ => quote!(#c::Value::Null),
            },
            "util" => match parts.next() {
                Some(Part::Method { name, args, .. }) => {
                    let args = self.args(args);
                    quote!(#c::util::call(#name, &#args)?)
                }
                _ => quote!(#c::Value::Null),
            },
            "context" => match parts.clone().next() {
                Some(Part::Property { name }) => {
                    parts.next();
                    quote!(env.context_property(#name))
                }
                _ => quote!(env.context()),
            },
            "stageVariables" => quote!(env.stage_variables()),
            "foreach" => {
                let mut depth = self.loops.len();
                let mut value = quote!(#c::Value::Null);
                for p in parts.by_ref() {
                    match p {
                        Part::Property { name } if name == "parent" && depth > 1 => depth -= 1,
                        Part::Property { name } if depth > 0 => {
                            let state = &self.loops[depth - 1].0;
                            value = quote!(#state.property(#name));
                            break;
                        }
                        _ => break,
                    }
                }
                value
            }
            "velocityCount" => match self.loops.last() {
                Some((state, _)) => quote!(#state.property("count")),
                None => quote!(#c::Value::Null),
            },
            name => {
                let var = self.var(name);
                quote!(#var.clone())
            }
        };
        for p in parts {
            v = self.part(v, p);
        }
        v
    }

    fn part(&mut self, v: TokenStream, p: &Part) -> TokenStream {
        let c = self.c();
        match p {
            Part::Property { name } => quote!(#v.property(#name)),
            Part::Method { name, args, .. } => {
                let args = self.args(args);
                quote!({ let __r = #v; #c::methods::call(&__r, #name, &#args)? })
            }
            Part::Index { index } => {
                let i = self.expr(index);
                quote!({ let __r = #v; let __i = #i; __r.index(&__i) })
            }
        }
    }

    fn expr(&mut self, e: &Expr) -> TokenStream {
        let c = self.c();
        match e {
            Expr::Bool { value } => quote!(#c::Value::Bool(#value)),
            Expr::Int { value } => quote!(#c::Value::Int(#value)),
            Expr::Float { value } => quote!(#c::Value::Float(#value)),
            Expr::Str { value, .. } => quote!(#c::Value::str(#value)),
            Expr::Interp { parts } => {
                // Rendered into a fresh output that shares the overrides.
                let body = self.nodes(parts);
                quote!({
                    let mut __sub = #c::env::Output::new();
                    ::core::mem::swap(&mut __sub.overrides, &mut out.overrides);
                    let __r = (|out: &mut #c::env::Output| -> ::core::result::Result<(), #c::env::RenderError> {
                        #body
                        ::core::result::Result::Ok(())
                    })(&mut __sub);
                    ::core::mem::swap(&mut __sub.overrides, &mut out.overrides);
                    __r?;
                    #c::Value::str(__sub.body)
                })
            }
            Expr::List { items } => {
                let items: Vec<TokenStream> = items.iter().map(|i| self.expr(i)).collect();
                quote!(#c::Value::List(::std::rc::Rc::new(::core::cell::RefCell::new(::std::vec![#(#items),*]))))
            }
            Expr::Range { from, to } => {
                let a = self.expr(from);
                let b = self.expr(to);
                quote!({ let __a = #a; let __b = #b; #c::ops::range(&__a, &__b) })
            }
            Expr::Map { entries } => {
                let inserts: Vec<TokenStream> = entries
                    .iter()
                    .map(|(k, v)| {
                        let k = self.expr(k);
                        let v = self.expr(v);
                        quote!({ let __k = #k.to_java_string(); let __v = #v; __m.insert(::std::rc::Rc::from(__k), __v); })
                    })
                    .collect();
                let n = entries.len();
                quote!({
                    let mut __m = #c::Object::with_capacity(#n);
                    #(#inserts)*
                    #c::Value::Map(::std::rc::Rc::new(::core::cell::RefCell::new(__m)))
                })
            }
            Expr::Ref { reference } => self.reference(reference),
            Expr::Not { operand } => {
                let o = self.expr(operand);
                quote!(#c::Value::Bool(!#c::ops::truthy(&#o)))
            }
            Expr::Neg { operand } => {
                let o = self.expr(operand);
                quote!(#c::ops::neg(&#o))
            }
            Expr::Binary { op, left, right } => {
                let l = self.expr(left);
                let r = self.expr(right);
                let cmp = |ord: TokenStream| quote!({ let __l = #l; let __r = #r; #c::Value::Bool(#ord) });
                match op {
                    BinOp::Or => {
                        quote!(#c::Value::Bool(#c::ops::truthy(&#l) || #c::ops::truthy(&#r)))
                    }
                    BinOp::And => {
                        quote!(#c::Value::Bool(#c::ops::truthy(&#l) && #c::ops::truthy(&#r)))
                    }
                    BinOp::Eq => cmp(quote!(#c::ops::eq(&__l, &__r))),
                    BinOp::Ne => cmp(quote!(!#c::ops::eq(&__l, &__r))),
                    BinOp::Lt => cmp(
                        quote!(#c::ops::cmp(&__l, &__r) == ::core::option::Option::Some(::core::cmp::Ordering::Less)),
                    ),
                    BinOp::Le => cmp(quote!(
                        ::core::matches!(#c::ops::cmp(&__l, &__r), ::core::option::Option::Some(::core::cmp::Ordering::Less | ::core::cmp::Ordering::Equal))
                    )),
                    BinOp::Gt => cmp(
                        quote!(#c::ops::cmp(&__l, &__r) == ::core::option::Option::Some(::core::cmp::Ordering::Greater)),
                    ),
                    BinOp::Ge => cmp(quote!(
                        ::core::matches!(#c::ops::cmp(&__l, &__r), ::core::option::Option::Some(::core::cmp::Ordering::Greater | ::core::cmp::Ordering::Equal))
                    )),
                    BinOp::Add => quote!({ let __l = #l; let __r = #r; #c::ops::add(&__l, &__r) }),
                    BinOp::Sub => quote!({ let __l = #l; let __r = #r; #c::ops::sub(&__l, &__r) }),
                    BinOp::Mul => quote!({ let __l = #l; let __r = #r; #c::ops::mul(&__l, &__r) }),
                    BinOp::Div => quote!({ let __l = #l; let __r = #r; #c::ops::div(&__l, &__r) }),
                    BinOp::Rem => quote!({ let __l = #l; let __r = #r; #c::ops::rem(&__l, &__r) }),
                }
            }
        }
    }
}
