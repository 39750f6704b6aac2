//! `#[tollgate::api(kdl = "api.kdl")] impl H { … }`: a KDL API whose handler integrations are
//! the methods of `H`.
//!
//! ```text
//! api.kdl ─► tollgate_dsl::load ─► ir::Api (checked) ─► codegen (trait signatures)
//! syn::ItemImpl ─► methods by name ─► bindings against the signatures ─► glue
//! ```
//!
//! Each handler integration needs a method of its name whose path parameters exist in the KDL
//! route and have its types; a mismatch is a compile error naming the KDL route.

use crate::expand::{emit, stub};
use crate::lower::{self, Binding, Bound};
use crate::model::{self, ApiDef, ArgKind};
use crate::options::Errors;
use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{ImplItem, ItemImpl, LitStr};
use tollgate_dsl::ir::{self, Integration, SegmentKind};

/// Expands a KDL-bound API.
pub(crate) fn expand(
    kdl: &LitStr,
    def: &ApiDef,
    mut item: ItemImpl,
    mut errors: Errors,
    base_dir: Option<std::path::PathBuf>,
) -> TokenStream {
    // The file declares the API: the attribute only says where it is.
    if def.name.is_some()
        || def.flavor.is_some()
        || !def.stages.is_empty()
        || def.throttle.is_some()
        || def.validator.is_some()
        || !def.models.is_empty()
        || !def.usage_plans.is_empty()
    {
        errors.at(
            def.span,
            "with `kdl = …` the KDL file declares the API; write its stages, models and limits there\nhelp: keep only `kdl = \"…\"` in `#[tollgate::api]`",
        );
    }
    let file = kdl.value();
    // `local_file` may be relative to the compiler's working directory; `include_bytes!` below
    // resolves relative paths against the source file, so make it absolute.
    let base_dir = base_dir.map(|d| {
        if d.is_relative() {
            std::env::current_dir().unwrap_or_default().join(d)
        } else {
            d
        }
    });
    let path = match &base_dir {
        Some(dir) if std::path::Path::new(&file).is_relative() => dir.join(&file),
        _ => std::env::var_os("CARGO_MANIFEST_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_default()
            .join(&file),
    };
    // Methods by name, with their parameter attributes removed.
    let mut methods = Vec::new();
    for impl_item in &mut item.items {
        let ImplItem::Fn(f) = impl_item else { continue };
        let is_route = |a: &syn::Attribute| model::route_attr(a).is_some();
        for a in f.attrs.iter().filter(|a| is_route(a)) {
            errors.at(
                a.path().span(),
                format!("with `kdl = …` the routes come from `{file}`\nhelp: remove this attribute; the method is bound by its name to the KDL route's `integration handler name=…`"),
            );
        }
        f.attrs.retain(|a| !is_route(a));
        let args = model::read_args(&mut f.sig, true, &mut errors);
        methods.push((f.sig.clone(), args));
    }
    if !errors.is_empty() {
        return stub(errors, &item);
    }
    let checked = match tollgate_dsl::load(&path) {
        Ok(c) => c,
        Err(tollgate_dsl::LoadError::Io { source, .. }) => {
            errors.at(
                kdl.span(),
                format!("cannot read `{}`: {source}", path.display()),
            );
            return stub(errors, &item);
        }
        Err(tollgate_dsl::LoadError::Invalid(d)) => {
            errors.at(
                kdl.span(),
                format!("`{file}` has errors\n{}", d.render().trim_end()),
            );
            return stub(errors, &item);
        }
    };
    let warned = crate::expand::warnings(&checked.warnings, |_| Some(kdl.span()), true);
    let api = checked.api;
    let generated = match tollgate_codegen::generate_tokens(&api) {
        Ok(g) => g,
        Err(e) => {
            errors.at(kdl.span(), format!("{e}"));
            return stub(errors, &item);
        }
    };
    let self_ty = &item.self_ty;
    let self_text = lower::type_text(self_ty);
    let mut bindings = Vec::new();
    for sig in &generated.handlers {
        let routes: Vec<&ir::Route> = api
            .routes
            .iter()
            .filter(|r| matches!(&r.integration, Integration::Handler { name, .. } if name.value == sig.name))
            .collect();
        let Some(route) = routes.first() else {
            continue;
        };
        let route_name = format!("`{} {}` of `{file}`", route.method.value, route.path);
        let Some((fn_sig, args)) = methods.iter().find(|(s, _)| s.ident == sig.name) else {
            let params: Vec<String> = sig
                .params
                .iter()
                .map(|(n, ty)| {
                    format!(
                        ", {}: {}",
                        lower::snake_case(n),
                        ty.to_string()
                            .replace(' ', "")
                            .replace("::std::string::", "")
                    )
                })
                .collect();
            errors.at(
                self_ty.span(),
                format!(
                    "`{self_text}` has no method `{}` for the KDL route {route_name}\nhelp: add `async fn {}(&self{}) -> tollgate::HandlerResult` to this impl block",
                    sig.name,
                    sig.name,
                    params.concat()
                ),
            );
            continue;
        };
        if fn_sig.asyncness.is_none() {
            errors.at(
                fn_sig.fn_token.span,
                format!(
                    "handler `{}` of the KDL route {route_name} must be an `async fn`",
                    sig.name
                ),
            );
            continue;
        }
        let mut bound = Vec::new();
        for arg in args {
            let name = arg.ident.to_string();
            let b = match &arg.kind {
                ArgKind::Request { by_ref } => Bound::Request { by_ref: *by_ref },
                ArgKind::Context { by_ref } => Bound::Context { by_ref: *by_ref },
                ArgKind::Query(n) | ArgKind::Header(n) => {
                    let (inner, optional) = match lower::option_inner(&arg.ty) {
                        Some(t) => (t.clone(), true),
                        None => (arg.ty.clone(), false),
                    };
                    if matches!(arg.kind, ArgKind::Query(_)) {
                        Bound::Query {
                            name: n.value(),
                            inner,
                            optional,
                        }
                    } else {
                        Bound::Header {
                            name: n.value(),
                            inner,
                            optional,
                        }
                    }
                }
                ArgKind::Plain | ArgKind::Body => {
                    let param = sig
                        .params
                        .iter()
                        .map(|(n, _)| n)
                        .find(|n| **n == name || lower::snake_case(n) == name);
                    match param {
                        Some(p) if matches!(arg.kind, ArgKind::Plain) => {
                            let expected = route.path.param(p).map(|s| match &s.kind {
                                SegmentKind::Param { ty, .. } => *ty,
                                _ => ir::ParamType::String,
                            });
                            let found = lower::param_type(&arg.ty);
                            if found != expected {
                                let expected = expected.unwrap_or(ir::ParamType::String);
                                let rust = match expected {
                                    ir::ParamType::String => "String",
                                    other => other.as_str(),
                                };
                                errors.at(
                                    arg.ty.span(),
                                    format!(
                                        "`{name}: {}` does not match the KDL route {route_name}, whose `{{{p}}}` is {}\nhelp: write `{name}: {rust}`, or change the parameter's type in the KDL file (`param {p} type=…`)",
                                        lower::type_text(&arg.ty),
                                        expected.as_str()
                                    ),
                                );
                                continue;
                            }
                            Bound::Path(p.clone())
                        }
                        _ if sig.body.is_some() && !lower::scalar_like(&arg.ty) => Bound::TraitBody,
                        _ => {
                            let known: Vec<String> = sig
                                .params
                                .iter()
                                .map(|(n, _)| format!("`{{{n}}}`"))
                                .collect();
                            errors.at(
                                arg.ident.span(),
                                format!(
                                    "`{name}` is not a path parameter of the KDL route {route_name}\nhelp: {}; a query parameter needs `#[query]`, a header `#[header(\"name\")]`",
                                    if known.is_empty() {
                                        "the route has no path parameters".to_owned()
                                    } else {
                                        format!("the route has {}", known.join(", "))
                                    }
                                ),
                            );
                            continue;
                        }
                    }
                }
            };
            bound.push((arg.ident.clone(), b, arg.ty.span()));
        }
        bindings.push(Binding {
            ident: fn_sig.ident.clone(),
            args: bound,
            ret: model::return_span(fn_sig),
        });
    }
    crate::expand::authorizer_methods(&api, &item, |_| None, &mut errors);
    if !errors.is_empty() {
        return stub(errors, &item);
    }
    // Cargo rebuilds the crate when the KDL file or a schema file it reads changes.
    let mut files = vec![path.display().to_string()];
    let dir = path
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    for m in &api.models {
        if let ir::ModelOrigin::File { path: schema, .. } = &m.origin {
            files.push(dir.join(schema).display().to_string());
        }
    }
    let extra = quote! {
        const _: () = { #(let _ = ::core::include_bytes!(#files);)* };
        #warned
    };
    emit(&item, &api, &generated, &bindings, extra)
}
