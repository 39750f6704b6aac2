//! `ir::Api → check → codegen TokenStream` plus the glue: the generated API module, and an impl
//! of its handler trait for the user's type that extracts each parameter and calls the user's
//! method. Every error becomes a `compile_error!` on the token it is about, beside a stub (the
//! impl block without the macro's attributes) so one mistake gives one message.

use crate::lower::{self, Bound, ModelInput};
use crate::model;
use crate::options::Errors;
use crate::spans::SpanMap;
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, ItemImpl, LitStr, Type};
use tollgate_dsl::Diagnostics;
use tollgate_dsl::ir;

/// Turns diagnostics of the shared reader and checks into compile errors on the mapped spans.
pub(crate) fn report(d: &Diagnostics, spans: &SpanMap, errors: &mut Errors) {
    for item in d.items() {
        if item.severity == Some(miette::Severity::Warning) {
            continue;
        }
        let offset = item
            .labels
            .as_ref()
            .and_then(|ls| ls.iter().find(|l| l.primary()).or(ls.first()))
            .map(|l| l.offset());
        let span = offset
            .and_then(|o| spans.find(o))
            .unwrap_or_else(Span::call_site);
        let mut message = item.message.clone();
        if let Some(help) = &item.help {
            message.push_str("\nhelp: ");
            message.push_str(&door_help(item.code.as_deref().unwrap_or(""), help));
        }
        errors.at(span, message);
    }
}

/// The shared checks' warnings as compiler warnings (a use of a deprecated item whose note is
/// the warning: stable Rust has no other way for a macro to warn), each on its mapped span.
pub(crate) fn warnings(
    d: &Diagnostics,
    span_of: impl Fn(usize) -> Option<Span>,
    kdl_door: bool,
) -> TokenStream {
    let mut out = TokenStream::new();
    for item in d.items() {
        if item.severity != Some(miette::Severity::Warning) {
            continue;
        }
        let offset = item
            .labels
            .as_ref()
            .and_then(|ls| ls.iter().find(|l| l.primary()).or(ls.first()))
            .map(|l| l.offset());
        let span = offset.and_then(&span_of).unwrap_or_else(Span::call_site);
        let mut note = format!("tollgate: {}", item.message);
        if let Some(help) = &item.help {
            note.push_str(" (help: ");
            if kdl_door {
                note.push_str(help);
            } else {
                note.push_str(&door_help(item.code.as_deref().unwrap_or(""), help));
            }
            note.push(')');
        }
        out.extend(quote_spanned! {span=>
            const _: () = {
                #[deprecated(note = #note)]
                struct TollgateWarning;
                let _ = TollgateWarning;
            };
        });
    }
    out
}

/// The shared checks' help speaks KDL; where it names KDL syntax, say it the macro door's way.
fn door_help(code: &str, help: &str) -> String {
    match code {
        "tollgate::check::no-stage" => {
            "add a stage: `stage(name = \"prod\")` serves the API under `/prod/…`".to_owned()
        }
        "tollgate::check::unknown-model" => {
            let (hint, rest) = help.split_once("declare it with").unwrap_or(("", help));
            let models = rest.split_once("; models: ").map(|(_, m)| m).unwrap_or("");
            format!(
                "{hint}a model is a `#[derive(tollgate::Model)]` struct listed in `models(…)` or taken as a body; models: {models}"
            )
        }
        "tollgate::check::model-not-validated" => {
            "models are only enforced by a validator (as in API Gateway): set `validator = \"all\"` (or \"body-only\") on the route or on `#[tollgate::api]`".to_owned()
        }
        "tollgate::check::parameter-not-validated" => {
            "set `validator = \"all\"` (or \"params-only\") on the route or on `#[tollgate::api]`".to_owned()
        }
        "tollgate::check::api-key-without-plan" => {
            "API Gateway accepts only keys of a usage plan bound to the stage: list the stage in a plan, `usage_plan(name = \"…\", stages(\"…\"))`".to_owned()
        }
        "tollgate::check::unknown-authorizer" => {
            "declare it on the API: `authorizer(name = \"…\", type = \"jwt\" | \"token\" | \"request\", …)`, or write `auth = \"iam\"`".to_owned()
        }
        _ => help.to_owned(),
    }
}

/// The impl block as plain Rust (route and parameter attributes removed) and the errors.
pub(crate) fn stub(errors: Errors, item: &ItemImpl) -> TokenStream {
    let errors = errors.into_tokens();
    quote!(#errors #item)
}

/// The self type's name (`MyHandlers` in `impl MyHandlers`).
fn self_ident(item: &ItemImpl) -> Ident {
    match &*item.self_ty {
        Type::Path(p) => p
            .path
            .segments
            .last()
            .map(|s| s.ident.clone())
            .unwrap_or_else(|| format_ident!("Api")),
        _ => format_ident!("Api"),
    }
}

/// The model types an API names, in order: `models(…)` first, then body types in source order.
/// Each is the path the user wrote (its last identifier is the model's name).
pub(crate) fn model_paths(def: &model::ApiDef, handlers: &[model::HandlerDef]) -> Vec<syn::Path> {
    let mut out: Vec<syn::Path> = Vec::new();
    let mut push = |p: syn::Path| {
        let last = p.segments.last().map(|s| s.ident.clone());
        if !out
            .iter()
            .any(|q| q.segments.last().map(|s| s.ident.clone()) == last)
        {
            out.push(p);
        }
    };
    for p in &def.models {
        push(p.clone());
    }
    for h in handlers {
        let path = h.path.value();
        let params: Vec<String> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|s| s.trim_end_matches('+').to_owned())
            .collect();
        for arg in &h.args {
            let name = arg.ident.to_string();
            let plain_body = matches!(arg.kind, model::ArgKind::Plain)
                && !params
                    .iter()
                    .any(|p| *p == name || lower::snake_case(p) == name)
                && !lower::scalar_like(&arg.ty);
            if (plain_body || matches!(arg.kind, model::ArgKind::Body))
                && let Type::Path(tp) = &arg.ty
                && tp.qself.is_none()
            {
                push(tp.path.clone());
            }
        }
    }
    out
}

/// `#[tollgate::api(…)] impl …`: reads the attribute and the methods; when the API names models,
/// asks each model's derive for its schema first (a chain of macro calls ending in
/// [`expand`]), otherwise expands at once.
pub(crate) fn api(
    attr: TokenStream,
    item: TokenStream,
    base_dir: Option<std::path::PathBuf>,
) -> TokenStream {
    let mut errors = Errors::default();
    let mut parsed: ItemImpl = match syn::parse2(item.clone()) {
        Ok(i) => i,
        Err(_) => match syn::parse2::<syn::ItemMod>(item) {
            Ok(m) if m.content.is_some() => return api_module(attr, m, base_dir),
            _ => {
                return syn::Error::new(
                    Span::call_site(),
                    "`#[tollgate::api]` goes on an `impl` block of the handler type (`#[tollgate::api(name = \"petstore\", …)] impl MyHandlers { … }`) or on an inline module holding it",
                )
                .to_compile_error();
            }
        },
    };
    let def = model::read_api(attr.clone(), &mut errors);
    if let Some(kdl) = &def.kdl {
        return crate::bind::expand(kdl, &def, parsed, errors, base_dir);
    }
    let handlers = model::read_handlers(&mut parsed, &mut errors);
    if !errors.is_empty() {
        return stub(errors, &parsed);
    }
    let paths = model_paths(&def, &handlers);
    if paths.is_empty() {
        return expand(attr, item, Vec::new());
    }
    chain(attr, item, &paths)
}

/// `#[tollgate::api(…)] mod m { … impl H { #[get(…)] … } … }`: the module's one impl block
/// with route attributes is expanded as if the attribute were on it, in place, so the models
/// and everything generated live in the module.
fn api_module(
    attr: TokenStream,
    mut module: syn::ItemMod,
    base_dir: Option<std::path::PathBuf>,
) -> TokenStream {
    let Some((_, items)) = &mut module.content else {
        return TokenStream::new();
    };
    let is_handlers = |item: &syn::Item| matches!(item, syn::Item::Impl(i) if i.items.iter().any(|f| matches!(f, syn::ImplItem::Fn(f) if f.attrs.iter().any(|a| model::route_attr(a).is_some()))));
    let found: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, i)| is_handlers(i))
        .map(|(n, _)| n)
        .collect();
    let index = match found.as_slice() {
        [one] => *one,
        [] => {
            return syn::Error::new(
                module.ident.span(),
                "this module has no `impl` block with route attributes\nhelp: put `#[get(\"/path\")]` (or `#[post]`, …) on the async methods of the handler type's `impl` block",
            )
            .to_compile_error();
        }
        [_, second, ..] => {
            let span = match &items[*second] {
                syn::Item::Impl(i) => i.self_ty.span(),
                _ => module.ident.span(),
            };
            return syn::Error::new(
                span,
                "a second `impl` block with route attributes; one API has one handler type\nhelp: move these methods into the first block, or give them their own module and `#[tollgate::api]`",
            )
            .to_compile_error();
        }
    };
    let handlers = items[index].to_token_stream();
    items[index] = syn::Item::Verbatim(api(attr, handlers, base_dir));
    module.to_token_stream()
}

/// The macro path of a model's schema callback: `a::NewPet` → `a::__tollgate_model_NewPet`.
fn callback_path(p: &syn::Path) -> syn::Path {
    let mut p = p.clone();
    if let Some(last) = p.segments.last_mut() {
        last.ident = format_ident!("__tollgate_model_{}", last.ident, span = last.ident.span());
        last.arguments = syn::PathArguments::None;
    }
    p
}

/// `first! { (attr) { item } [rest, …] model … }`: each model's callback appends its schema and
/// calls `__api_expand!` again, which calls the next one.
fn chain(attr: TokenStream, item: TokenStream, pending: &[syn::Path]) -> TokenStream {
    chain_with(attr, item, pending, TokenStream::new())
}

fn chain_with(
    attr: TokenStream,
    item: TokenStream,
    pending: &[syn::Path],
    collected: TokenStream,
) -> TokenStream {
    let Some((first, rest)) = pending.split_first() else {
        return TokenStream::new();
    };
    let callback = callback_path(first);
    quote! {
        #callback! { (#attr) { #item } [#(#rest),*] #collected }
    }
}

/// The input of `__api_expand!`.
struct ExpandInput {
    attr: TokenStream,
    item: TokenStream,
    pending: Vec<syn::Path>,
    collected: TokenStream,
    models: Vec<(Ident, LitStr)>,
}

impl syn::parse::Parse for ExpandInput {
    fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<Self> {
        let attr;
        syn::parenthesized!(attr in input);
        let item;
        syn::braced!(item in input);
        let pending;
        syn::bracketed!(pending in input);
        let pending =
            syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated(&pending)?;
        let collected: TokenStream = input.fork().parse()?;
        let mut models = Vec::new();
        while !input.is_empty() {
            let kw: Ident = input.parse()?;
            if kw != "model" {
                return Err(syn::Error::new(kw.span(), "expected `model`"));
            }
            models.push((input.parse()?, input.parse()?));
        }
        Ok(ExpandInput {
            attr: attr.parse()?,
            item: item.parse()?,
            pending: pending.into_iter().collect(),
            collected,
            models,
        })
    }
}

/// `__api_expand!`: the next step of the chain, or the expansion once every schema is in.
pub(crate) fn api_expand(input: TokenStream) -> TokenStream {
    let input: ExpandInput = match syn::parse2(input) {
        Ok(i) => i,
        Err(e) => return e.to_compile_error(),
    };
    // A model several others refer to is asked for once.
    let pending: Vec<syn::Path> = input
        .pending
        .into_iter()
        .filter(|p| {
            p.segments
                .last()
                .is_none_or(|s| !input.models.iter().any(|(n, _)| *n == s.ident))
        })
        .collect();
    if !pending.is_empty() {
        return chain_with(input.attr, input.item, &pending, input.collected);
    }
    let models = input
        .models
        .into_iter()
        .map(|(name, json)| (name, json.value()))
        .collect();
    expand(input.attr, input.item, models)
}

/// Reads, lowers, checks and generates; the final step.
fn expand(attr: TokenStream, item: TokenStream, models: Vec<(Ident, String)>) -> TokenStream {
    let mut errors = Errors::default();
    let mut item: ItemImpl = match syn::parse2(item) {
        Ok(i) => i,
        Err(e) => return e.to_compile_error(),
    };
    let def = model::read_api(attr, &mut errors);
    let handlers = model::read_handlers(&mut item, &mut errors);
    if !errors.is_empty() {
        return stub(errors, &item);
    }
    // Each model is named where the API uses it, so diagnostics about it point there.
    let paths = model_paths(&def, &handlers);
    let mut inputs = Vec::new();
    for path in &paths {
        let Some(last) = path.segments.last() else {
            continue;
        };
        let Some((_, json)) = models.iter().find(|(n, _)| *n == last.ident) else {
            continue;
        };
        match serde_json::from_str(json) {
            Ok(schema) => inputs.push(ModelInput {
                name: last.ident.clone(),
                schema,
            }),
            Err(e) => errors.at(
                last.ident.span(),
                format!("internal error: bad schema: {e}"),
            ),
        }
    }
    // Models only other models refer to come after the ones the API names, in arrival order.
    for (name, json) in &models {
        if inputs.iter().any(|m| m.name == *name) {
            continue;
        }
        match serde_json::from_str(json) {
            Ok(schema) => inputs.push(ModelInput {
                name: name.clone(),
                schema,
            }),
            Err(e) => errors.at(name.span(), format!("internal error: bad schema: {e}")),
        }
    }
    let self_ident = self_ident(&item);
    let lowered = lower::lower(&def, &handlers, &inputs, &self_ident, &mut errors);
    if !errors.is_empty() {
        return stub(errors, &item);
    }
    let mut sink = tollgate_dsl::Sink::new();
    tollgate_dsl::check::check(&lowered.api, &mut sink);
    let diagnostics = sink.into_diagnostics(&tollgate_dsl::Source::new("macro", ""));
    report(&diagnostics, &lowered.spans, &mut errors);
    if !errors.is_empty() {
        return stub(errors, &item);
    }
    let warned = warnings(&diagnostics, |o| lowered.spans.find(o), false);
    authorizer_methods(
        &lowered.api,
        &item,
        |h| lowered.spans.find(h.span.offset),
        &mut errors,
    );
    if !errors.is_empty() {
        return stub(errors, &item);
    }
    let generated = match tollgate_codegen::generate_tokens(&lowered.api) {
        Ok(g) => g,
        Err(e) => {
            errors.at(Span::call_site(), format!("{e}"));
            return stub(errors, &item);
        }
    };
    emit(&item, &lowered.api, &generated, &lowered.bindings, warned)
}

/// Each custom authorizer's handler must be a method of the impl block (the error goes where
/// `span_of` says, else on the impl's type).
pub(crate) fn authorizer_methods(
    api: &ir::Api,
    item: &ItemImpl,
    span_of: impl Fn(&ir::Spanned<String>) -> Option<Span>,
    errors: &mut Errors,
) {
    let has = |name: &str| {
        item.items
            .iter()
            .any(|i| matches!(i, syn::ImplItem::Fn(f) if f.sig.ident == name))
    };
    for a in &api.authorizers {
        let Some(handler) = a.kind.handler() else {
            continue;
        };
        if !has(&handler.value) {
            errors.at(
                span_of(handler).unwrap_or_else(|| item.self_ty.span()),
                format!(
                    "`{}` has no method `{}` for the authorizer `{}`\nhelp: add `async fn {}(&self, request: tollgate::AuthorizerRequest) -> Result<tollgate::AuthorizerResponse, tollgate::AuthorizerError>` to this impl block",
                    lower::type_text(&item.self_ty),
                    handler.value,
                    a.name.value,
                    handler.value
                ),
            );
        }
    }
}

/// The impl block, the generated API module (with the IR as JSON), the API type's re-export and
/// the handler trait's impl for the user's type. `extra` goes beside (e.g. `include_bytes!` of
/// the files read, so cargo rebuilds when they change).
pub(crate) fn emit(
    item: &ItemImpl,
    api: &ir::Api,
    generated: &tollgate_codegen::Generated,
    bindings: &[lower::Binding],
    extra: TokenStream,
) -> TokenStream {
    let ir_json = serde_json::to_string(api).unwrap_or_default();
    let module = format_ident!("{}", lower::snake_case(&api.name.value));
    let (trait_name, api_type) = tollgate_codegen::type_names(api);
    let trait_ident = format_ident!("{}", trait_name);
    let api_ident = format_ident!("{}", api_type);
    let flavor = match api.flavor {
        ir::Flavor::Rest => quote!(::tollgate::Flavor::Rest),
        ir::Flavor::Http => quote!(::tollgate::Flavor::Http),
    };
    let self_ty = &item.self_ty;
    let methods = generated.handlers.iter().filter_map(|sig| {
        let binding = bindings.iter().find(|b| b.ident == sig.name)?;
        Some(glue(sig, binding, &module, self_ty, &flavor))
    });
    let mut seen = Vec::new();
    let authorizers = api.authorizers.iter().filter_map(|a| {
        let handler = a.kind.handler()?;
        if seen.contains(&handler.value) {
            return None;
        }
        seen.push(handler.value.clone());
        let m = format_ident!("{}", handler.value);
        Some(quote! {
            fn #m(
                &self,
                request: ::tollgate::AuthorizerRequest,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<::tollgate::AuthorizerResponse, ::tollgate::AuthorizerError>,
            > + ::core::marker::Send {
                <#self_ty>::#m(self, request)
            }
        })
    });
    let tokens = &generated.tokens;
    let doc = format!(
        " The `{}` API generated by `#[tollgate::api]` on `{}`.",
        api.name.value,
        self_ty.to_token_stream()
    );
    quote! {
        #item

        #extra

        #[doc = #doc]
        #[allow(clippy::all, unreachable_pub, missing_debug_implementations)]
        pub mod #module {
            #tokens

            /// The API's IR as JSON (what `tollgate check --emit ir` prints for a KDL API).
            #[doc(hidden)]
            pub const __TOLLGATE_IR: &str = #ir_json;
        }

        #[allow(unused_imports)]
        pub use #module::#api_ident;

        impl #module::#trait_ident for #self_ty {
            #(#methods)*
            #(#authorizers)*
        }
    }
}

/// One trait method: extract, then call the user's method with its parameters in its order.
fn glue(
    sig: &tollgate_codegen::HandlerSignature,
    binding: &lower::Binding,
    module: &Ident,
    self_ty: &Type,
    flavor: &TokenStream,
) -> TokenStream {
    let name = &binding.ident;
    let path_idents: Vec<Ident> = (0..sig.params.len())
        .map(|i| format_ident!("__tollgate_p{}", i))
        .collect();
    let path_params = sig
        .params
        .iter()
        .zip(&path_idents)
        .map(|((_, ty), id)| quote!(#id: #ty));
    let body_param = sig
        .body
        .as_ref()
        .map(|ty| quote!(__tollgate_body: #module::#ty));
    let mut lets = Vec::new();
    let mut call = Vec::new();
    for (i, (_, bound, span)) in binding.args.iter().enumerate() {
        let tmp = format_ident!("__tollgate_a{}", i);
        match bound {
            Bound::Path(p) => {
                let idx = sig.params.iter().position(|(n, _)| n == p).unwrap_or(0);
                let id = &path_idents[idx];
                call.push(quote!(#id));
            }
            Bound::Query {
                name,
                inner,
                optional,
            }
            | Bound::Header {
                name,
                inner,
                optional,
            } => {
                let f = if matches!(bound, Bound::Query { .. }) {
                    quote!(query)
                } else {
                    quote!(header)
                };
                let extract = quote_spanned!(*span=> ::tollgate::__macros::#f::<#inner>);
                lets.push(quote! {
                    let #tmp: ::core::option::Option<#inner> =
                        match #extract(&request, #name) {
                            ::core::result::Result::Ok(v) => v,
                            ::core::result::Result::Err(()) => {
                                return ::core::result::Result::Ok(::tollgate::__macros::bad_parameter(#flavor, #name));
                            }
                        };
                });
                if !optional {
                    lets.push(quote! {
                        let #tmp: #inner = match #tmp {
                            ::core::option::Option::Some(v) => v,
                            ::core::option::Option::None => {
                                return ::core::result::Result::Ok(::tollgate::__macros::missing_parameter(#flavor, #name));
                            }
                        };
                    });
                }
                call.push(quote!(#tmp));
            }
            Bound::Body(ty) => {
                let extract = quote_spanned!(*span=> ::tollgate::__macros::body::<#ty>);
                lets.push(quote! {
                    let #tmp: #ty = match #extract(&request) {
                        ::core::option::Option::Some(b) => b,
                        ::core::option::Option::None => {
                            return ::core::result::Result::Ok(::tollgate::__macros::bad_body(#flavor));
                        }
                    };
                });
                call.push(quote!(#tmp));
            }
            Bound::TraitBody => call.push(quote!(__tollgate_body)),
            Bound::Context { by_ref } => {
                lets.push(quote! {
                    let #tmp: ::tollgate::Context = ::core::clone::Clone::clone(request.context());
                });
                call.push(if *by_ref { quote!(&#tmp) } else { quote!(#tmp) });
            }
            Bound::Request { by_ref: true } => call.push(quote!(&request)),
            Bound::Request { by_ref: false } => call.push(quote!(request)),
        }
    }
    // The result is named on the return type's span, so a return type the gateway cannot use is
    // reported there.
    let into =
        quote_spanned!(binding.ret=> ::tollgate::__macros::IntoHandlerResult::into_handler_result);
    let result = Ident::new("__tollgate_result", binding.ret);
    let doc = format!(
        " Calls [`{}::{name}`].",
        self_ty.to_token_stream().to_string().replace(' ', "")
    );
    quote! {
        #[doc = #doc]
        #[allow(unused_variables)]
        async fn #name(
            &self,
            request: ::tollgate::Request,
            #(#path_params,)*
            #body_param
        ) -> ::tollgate::HandlerResult {
            #(#lets)*
            let #result = <#self_ty>::#name(self, #(#call),*).await;
            #into(#result)
        }
    }
}
