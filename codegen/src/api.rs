//! One API's generated module: the handler trait, the API type, its constant specs and its
//! `Gateway` implementation. `&ir::Api → TokenStream`.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use tollgate_dsl::ir::{
    Api, Flavor, Integration, ParamLocation, ParamType, Route, SegmentKind, UriPart, Validator,
};
use tollgate_dsl::schema::{NodeId, SchemaSet};

use crate::{model, router};

/// The compiled models of an API: the schema arena and each model's root node, in
/// `api.models` order.
pub(crate) struct Models<'a> {
    pub(crate) set: &'a SchemaSet,
    pub(crate) roots: &'a [NodeId],
}

/// Names derived from the API name.
pub(crate) struct Names {
    /// The handler trait, e.g. `Petstore`.
    pub(crate) handlers: Ident,
    /// The API type, e.g. `PetstoreApi`.
    pub(crate) api: Ident,
}

impl Names {
    pub(crate) fn of(api: &Api) -> Names {
        let camel = upper_camel(&api.name.value);
        Names {
            handlers: format_ident!("{}", camel),
            api: format_ident!("{}Api", camel),
        }
    }
}

/// A handler method of the trait, with the routes bound to it.
struct HandlerFn<'a> {
    name: Ident,
    params: Vec<(Ident, &'a str, ParamKind)>,
    /// The typed body: the index of the route's single request model.
    body: Option<usize>,
    routes: Vec<&'a Route>,
}

/// The model a handler route receives as a typed body: its only request model.
fn body_model(api: &Api, route: &Route) -> Option<usize> {
    match route.request.models.as_slice() {
        [m] => api
            .models
            .iter()
            .position(|x| x.name.value == m.model.value),
        _ => None,
    }
}

#[derive(Clone, Copy)]
enum ParamKind {
    Typed(ParamType, usize),
    Greedy(usize),
}

/// The Rust types of the API's models, named after them.
fn model_types(api: &Api, models: &Models<'_>) -> crate::types::ModelTypes {
    let named_roots: Vec<(String, NodeId)> = api
        .models
        .iter()
        .zip(models.roots)
        .map(|(m, r)| (m.name.value.clone(), *r))
        .collect();
    crate::types::model_types(models.set, &named_roots)
}

pub(crate) fn generate(api: &Api, models: &Models<'_>) -> TokenStream {
    let names = Names::of(api);
    let handlers = handler_fns(api);
    let model_types = model_types(api, models);
    let model_module = &model_types.module;
    let trait_tokens = handler_trait(api, &names, &handlers, &model_types.types);
    let mut templates = crate::mapping::Templates::default();
    let specs = specs(api, &mut templates);
    let gateway_responses =
        crate::mapping::gateway_responses(&api.gateway_responses, &mut templates);
    let validation = validation(api, models);
    let gateway = gateway_impl(
        api,
        &names,
        &handlers,
        &model_types.types,
        &gateway_responses,
    );
    let templates = templates.into_tokens();
    let api_ty = &names.api;
    let trait_ident = &names.handlers;
    let api_doc = format!(
        " The `{}` API: pass an implementation of [`{}`] to [`{}::new`] and serve it.",
        api.name.value, trait_ident, api_ty
    );
    quote! {
        #model_module

        #trait_tokens

        #[doc = #api_doc]
        pub struct #api_ty<H> {
            // Unread when the API has no handler integrations.
            #[allow(dead_code)]
            handlers: H,
        }

        // `new` and `handlers` go unused in a binary that names the API type only through `SPEC`.
        #[allow(dead_code)]
        impl<H: #trait_ident> #api_ty<H> {
            /// Wraps the handler implementation.
            pub const fn new(handlers: H) -> Self {
                Self { handlers }
            }

            /// The handler implementation.
            pub fn handlers(&self) -> &H {
                &self.handlers
            }
        }

        impl<H> ::core::fmt::Debug for #api_ty<H> {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(::core::stringify!(#api_ty)).finish_non_exhaustive()
            }
        }

        #specs

        #validation

        #templates

        #gateway
    }
}

/// `ThrottleSpec` tokens.
fn throttle_struct(t: &tollgate_dsl::ir::Throttle) -> TokenStream {
    let rate = t.rate.value;
    let burst = t.burst.value.min(u64::from(u32::MAX)) as u32;
    quote!(::tollgate::__codegen::ThrottleSpec { rate: #rate, burst: #burst })
}

/// `Option<ThrottleSpec>` tokens.
fn throttle_spec(t: Option<&tollgate_dsl::ir::Throttle>) -> TokenStream {
    match t {
        Some(t) => {
            let t = throttle_struct(t);
            quote!(::core::option::Option::Some(#t))
        }
        None => quote!(::core::option::Option::None),
    }
}

/// Whether any limit can apply to route `id` on some stage: an API key, a method or stage
/// throttle, the account throttle. Routes without one skip admission entirely.
fn limited(api: &Api, id: usize) -> bool {
    let route = &api.routes[id];
    api.throttle.is_some()
        || route.api_key_required.is_some()
        || api.stages.iter().any(|s| {
            s.throttle.is_some()
                || s.method_throttles
                    .iter()
                    .any(|m| throttled_route(api, m) == Some(id))
        })
}

/// Whether nothing of route `id` runs before its cache lookup — no authorization step (an
/// authorizer, IAM or a resource policy), no API key or throttle, no validation, no path
/// parameter that must parse, no typed body — so the server may answer a memory hit before it
/// builds the request's exchange (`RouteSpec::plain`).
fn plain(api: &Api, id: usize) -> bool {
    let r = &api.routes[id];
    cached(api, r)
        && crate::auth::route_step(api, id).is_none()
        && !limited(api, id)
        && !validates(api, r)
        && r.path.segments.iter().all(|s| match &s.kind {
            SegmentKind::Param { ty, .. } => *ty == ParamType::String,
            _ => true,
        })
        && !(matches!(r.integration, Integration::Handler { .. }) && body_model(api, r).is_some())
}

/// Whether `route` may answer from a cache on some stage (the runtime decides per stage).
fn cached(api: &Api, route: &Route) -> bool {
    let enabled = match route.cache.as_ref().and_then(|c| c.enabled.as_ref()) {
        Some(e) => e.value,
        None => route.cache.is_some() || route.method.value == tollgate_dsl::ir::Method::Get,
    };
    enabled && api.stages.iter().any(|s| s.cache.is_some())
}

/// `Option<StageCacheSpec>` tokens.
fn stage_cache_spec(c: Option<&tollgate_dsl::ir::StageCache>) -> TokenStream {
    let c_ = quote!(::tollgate::__codegen);
    match c {
        Some(c) => {
            let (capacity, ttl, require) = (c.capacity.value, c.ttl.value, c.require_authorization);
            let unauthorized = unauthorized_tokens(c.unauthorized.value);
            quote!(::core::option::Option::Some(#c_::StageCacheSpec {
                capacity: #capacity,
                ttl: #ttl,
                require_authorization: #require,
                unauthorized: #unauthorized,
            }))
        }
        None => quote!(::core::option::Option::None),
    }
}

fn unauthorized_tokens(u: tollgate_dsl::ir::UnauthorizedCacheControl) -> TokenStream {
    use tollgate_dsl::ir::UnauthorizedCacheControl as U;
    match u {
        U::FailWith403 => quote!(::tollgate::__codegen::Unauthorized::FailWith403),
        U::SucceedWithResponseHeader => {
            quote!(::tollgate::__codegen::Unauthorized::SucceedWithResponseHeader)
        }
        U::SucceedWithoutResponseHeader => {
            quote!(::tollgate::__codegen::Unauthorized::SucceedWithoutResponseHeader)
        }
    }
}

/// The `static` of a method's cache settings, and the tokens naming it in its `RouteSpec`.
fn method_cache_spec(id: usize, r: &Route) -> (TokenStream, TokenStream) {
    let Some(c) = &r.cache else {
        return (quote!(), quote!(::core::option::Option::None));
    };
    let opt = |v: Option<TokenStream>| match v {
        Some(t) => quote!(::core::option::Option::Some(#t)),
        None => quote!(::core::option::Option::None),
    };
    let enabled = opt(c.enabled.as_ref().map(|e| {
        let v = e.value;
        quote!(#v)
    }));
    let ttl = opt(c.ttl.as_ref().map(|t| {
        let v = t.value;
        quote!(#v)
    }));
    let require = opt(c.require_authorization.map(|b| quote!(#b)));
    let unauthorized = opt(c
        .unauthorized
        .as_ref()
        .map(|u| unauthorized_tokens(u.value)));
    let keys = c.keys.iter().map(|k| {
        let name = if k.location == ParamLocation::Header {
            k.name.to_ascii_lowercase()
        } else {
            k.name.clone()
        };
        let source = match k.location {
            ParamLocation::Header => quote!(::tollgate::__codegen::KeySource::Header),
            ParamLocation::Querystring => quote!(::tollgate::__codegen::KeySource::Querystring),
            ParamLocation::Path => {
                let i = r
                    .path
                    .segments
                    .iter()
                    .position(|s| matches!(&s.kind, SegmentKind::Param { name: n, .. } | SegmentKind::Greedy { name: n } if *n == k.name))
                    .unwrap_or_default();
                quote!(::tollgate::__codegen::KeySource::Path(#i))
            }
        };
        quote!((#source, #name))
    });
    let ident = format_ident!("__TOLLGATE_CACHE_{}", id);
    (
        quote! {
            static #ident: ::tollgate::__codegen::MethodCacheSpec = ::tollgate::__codegen::MethodCacheSpec {
                enabled: #enabled,
                ttl: #ttl,
                require_authorization: #require,
                unauthorized: #unauthorized,
                keys: &[#(#keys),*],
            };
        },
        quote!(::core::option::Option::Some(&#ident)),
    )
}

/// The route index of a per-method throttle (checked: it names a route).
fn throttled_route(api: &Api, m: &tollgate_dsl::ir::MethodThrottle) -> Option<usize> {
    let path = m.route_path();
    api.routes
        .iter()
        .position(|r| r.path.to_string() == path && r.method.value == m.method.value)
}

/// `&[(route, ThrottleSpec)]` tokens for per-method throttles.
fn method_throttle_specs(api: &Api, list: &[tollgate_dsl::ir::MethodThrottle]) -> TokenStream {
    let items = list.iter().filter_map(|m| {
        let route = throttled_route(api, m)?;
        let t = throttle_struct(&m.throttle);
        Some(quote!((#route, #t)))
    });
    quote!(&[#(#items),*])
}

/// The usage plans' specs.
fn usage_plan_specs(api: &Api) -> TokenStream {
    let c = quote!(::tollgate::__codegen);
    let plans = api.usage_plans.iter().map(|p| {
        let name = &p.name.value;
        let throttle = throttle_spec(p.throttle.as_ref());
        let quota = match &p.quota {
            Some(q) => {
                let limit = q.limit.value;
                let offset = q.offset.as_ref().map(|o| o.value).unwrap_or(0);
                let period = match q.period.value {
                    tollgate_dsl::ir::QuotaPeriod::Day => quote!(#c::QuotaPeriod::Day),
                    tollgate_dsl::ir::QuotaPeriod::Week => quote!(#c::QuotaPeriod::Week),
                    tollgate_dsl::ir::QuotaPeriod::Month => quote!(#c::QuotaPeriod::Month),
                };
                quote!(::core::option::Option::Some(#c::QuotaSpec { limit: #limit, period: #period, offset: #offset }))
            }
            None => quote!(::core::option::Option::None),
        };
        let stages = p.stages.iter().filter_map(|ps| {
            let stage = api.stages.iter().position(|s| s.name.value == ps.name.value)?;
            let methods = method_throttle_specs(api, &ps.method_throttles);
            Some(quote!(#c::PlanStageSpec { stage: #stage, method_throttles: #methods }))
        });
        quote!(#c::UsagePlanSpec { name: #name, throttle: #throttle, quota: #quota, stages: &[#(#stages),*] })
    });
    quote!(&[#(#plans),*])
}

/// The validator that applies to `route`: its own, else the API's.
fn effective_validator(api: &Api, route: &Route) -> Validator {
    route
        .request
        .validator
        .as_ref()
        .or(api.validator.as_ref())
        .map(|v| v.value)
        .unwrap_or(Validator::None)
}

/// Whether `route` validates anything (so its dispatch arm calls `validate`).
fn validates(api: &Api, route: &Route) -> bool {
    let v = effective_validator(api, route);
    (v.params() && route.request.parameters.iter().any(|p| p.required))
        || (v.body() && !route.request.models.is_empty())
}

fn validation(api: &Api, models: &Models<'_>) -> TokenStream {
    let c = quote!(::tollgate::__codegen);
    let mut used = vec![false; api.models.len()];
    let routes: Vec<TokenStream> = api
        .routes
        .iter()
        .enumerate()
        .filter(|(_, r)| validates(api, r))
        .map(|(id, r)| {
            let v = effective_validator(api, r);
            let mut required: Vec<_> = if v.params() {
                r.request.parameters.iter().filter(|p| p.required).collect()
            } else {
                Vec::new()
            };
            // API Gateway lists missing names in the order of their full keys.
            // Header names compare case-insensitively and are listed lower-cased.
            let key = |p: &&tollgate_dsl::ir::RequestParameter| {
                let name = if p.location == ParamLocation::Header { p.name.to_ascii_lowercase() } else { p.name.clone() };
                (p.location, name)
            };
            required.sort_by_key(key);
            let required = required.iter().map(|p| {
                let name = &p.name;
                let source = match p.location {
                    ParamLocation::Header => quote!(#c::ParamSource::Header),
                    ParamLocation::Querystring => quote!(#c::ParamSource::Querystring),
                    ParamLocation::Path => {
                        let i = r
                            .path
                            .segments
                            .iter()
                            .position(|s| matches!(&s.kind, SegmentKind::Param { name: n, .. } | SegmentKind::Greedy { name: n } if n == name))
                            .unwrap_or_default();
                        quote!(#c::ParamSource::Path(#i))
                    }
                };
                let name = if p.location == ParamLocation::Header { name.to_ascii_lowercase() } else { name.clone() };
                quote!(#c::RequiredParam { source: #source, name: #name })
            });
            let body_models: Vec<TokenStream> = if v.body() {
                r.request
                    .models
                    .iter()
                    .filter_map(|m| {
                        let i = api.models.iter().position(|x| x.name.value == m.model.value)?;
                        used[i] = true;
                        let ident = format_ident!("__TOLLGATE_MODEL_{}", i);
                        let ct = m.content_type.value.to_ascii_lowercase();
                        Some(quote!((#ct, &#ident)))
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let ident = format_ident!("__TOLLGATE_VALIDATION_{}", id);
            let detailed = api.detailed_validation_errors;
            quote! {
                static #ident: #c::RequestValidation = #c::RequestValidation {
                    required: &[#(#required),*],
                    models: &[#(#body_models),*],
                    detailed: #detailed,
                };
            }
        })
        .collect();
    let specs = api
        .models
        .iter()
        .enumerate()
        .filter(|(i, _)| used[*i])
        .map(|(i, m)| {
            let ident = format_ident!("__TOLLGATE_MODEL_{}", i);
            let f = model::node_fn(models.roots[i]);
            let name = &m.name.value;
            quote! {
                static #ident: #c::ModelSpec = #c::ModelSpec {
                    name: #name,
                    is_valid: |v| {
                        #c::schema::begin();
                        #f(v, &#c::schema::Path::Root, &mut #c::schema::Fast)
                    },
                    violations: |v| {
                        #c::schema::begin();
                        let mut c = #c::schema::Collect::default();
                        #f(v, &#c::schema::Path::Root, &mut c);
                        c.0
                    },
                };
            }
        });
    let validators = if used.iter().any(|u| *u) {
        model::validators(models.set)
    } else {
        quote!()
    };
    quote! {
        #(#routes)*
        #(#specs)*
        #validators
    }
}

/// The signature of every handler method of the generated trait, in trait order (what
/// [`crate::generate_tokens`] reports so front ends can implement the trait).
pub(crate) fn signatures(api: &Api, models: &Models<'_>) -> Vec<crate::HandlerSignature> {
    let model_types = model_types(api, models);
    handler_fns(api)
        .into_iter()
        .map(|h| crate::HandlerSignature {
            name: h.name.to_string(),
            params: h
                .params
                .iter()
                .map(|(_, name, kind)| ((*name).to_owned(), rust_type(*kind)))
                .collect(),
            body: h.body.map(|m| model_types.types[m].clone()),
        })
        .collect()
}

fn handler_fns(api: &Api) -> Vec<HandlerFn<'_>> {
    let mut out: Vec<HandlerFn<'_>> = Vec::new();
    for route in &api.routes {
        let Integration::Handler { name, .. } = &route.integration else {
            continue;
        };
        if let Some(h) = out.iter_mut().find(|h| h.name == name.value.as_str()) {
            h.routes.push(route);
            continue;
        }
        let mut used: Vec<String> = vec!["request".into()];
        let params = route
            .path
            .segments
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match &s.kind {
                SegmentKind::Literal { .. } => None,
                SegmentKind::Param { name, ty } => Some((name.as_str(), ParamKind::Typed(*ty, i))),
                SegmentKind::Greedy { name } => Some((name.as_str(), ParamKind::Greedy(i))),
            })
            .map(|(n, k)| {
                let mut ident = snake_case(n);
                while used.contains(&ident) || is_keyword(&ident) {
                    ident.push('_');
                }
                used.push(ident.clone());
                (format_ident!("{}", ident), n, k)
            })
            .collect();
        out.push(HandlerFn {
            name: format_ident!("{}", name.value),
            params,
            body: body_model(api, route),
            routes: vec![route],
        });
    }
    out
}

fn rust_type(kind: ParamKind) -> TokenStream {
    match kind {
        ParamKind::Greedy(_) | ParamKind::Typed(ParamType::String, _) => {
            quote!(::std::string::String)
        }
        ParamKind::Typed(ParamType::I32, _) => quote!(i32),
        ParamKind::Typed(ParamType::I64, _) => quote!(i64),
        ParamKind::Typed(ParamType::U32, _) => quote!(u32),
        ParamKind::Typed(ParamType::U64, _) => quote!(u64),
        ParamKind::Typed(ParamType::F64, _) => quote!(f64),
        ParamKind::Typed(ParamType::Bool, _) => quote!(bool),
    }
}

fn handler_trait(
    api: &Api,
    names: &Names,
    handlers: &[HandlerFn<'_>],
    model_types: &[TokenStream],
) -> TokenStream {
    let trait_ident = &names.handlers;
    let methods = handlers.iter().map(|h| {
        let name = &h.name;
        let routes: Vec<String> = h.routes.iter().map(|r| format!("`{} {}`", r.method.value, r.path)).collect();
        let doc = format!(" Serves {}.", routes.join(", "));
        let mut params: Vec<TokenStream> = h
            .params
            .iter()
            .map(|(ident, _, kind)| {
                let ty = rust_type(*kind);
                quote!(#ident: #ty)
            })
            .collect();
        if let Some(m) = h.body {
            let ty = &model_types[m];
            params.push(quote!(body: #ty));
        }
        quote! {
            #[doc = #doc]
            fn #name(
                &self,
                request: ::tollgate::__codegen::Request,
                #(#params),*
            ) -> impl ::core::future::Future<Output = ::tollgate::__codegen::HandlerResult> + ::core::marker::Send;
        }
    });
    let doc = format!(
        " Handlers of the `{}` API: one method per `handler` integration. A missing or mistyped \
         method is a compile error.",
        api.name.value
    );
    let authorizer_methods = crate::auth::trait_methods(api);
    let unit_impl = (handlers.is_empty() && authorizer_methods.is_empty()).then(|| {
        quote! {
            /// The API has no handler integrations: `()` serves it.
            impl #trait_ident for () {}
        }
    });
    quote! {
        #[doc = #doc]
        pub trait #trait_ident: ::core::marker::Send + ::core::marker::Sync + 'static {
            #(#methods)*
            #(#authorizer_methods)*
        }
        #unit_impl
    }
}

fn specs(api: &Api, templates: &mut crate::mapping::Templates) -> TokenStream {
    let stages = api.stages.iter().map(|s| {
        let name = &s.name.value;
        let vars = s.variables.iter().map(|v| {
            let (k, val) = (&v.name.value, &v.value.value);
            quote!((#k, #val))
        });
        let throttle = throttle_spec(s.throttle.as_ref());
        let methods = method_throttle_specs(api, &s.method_throttles);
        let cache = stage_cache_spec(s.cache.as_ref());
        quote!(::tollgate::__codegen::StageSpec {
            name: #name,
            variables: &[#(#vars),*],
            throttle: #throttle,
            method_throttles: #methods,
            cache: #cache,
        })
    });
    let mut cache_statics = Vec::new();
    let routes: Vec<TokenStream> = api.routes.iter().enumerate().map(|(id, r)| {
        let (cache_static, cache) = method_cache_spec(id, r);
        cache_statics.push(cache_static);
        let method = r.method.value.as_str();
        let path = r.path.to_string();
        let params = r.path.segments.iter().enumerate().filter_map(|(i, s)| {
            let (name, greedy) = match &s.kind {
                SegmentKind::Literal { .. } => return None,
                SegmentKind::Param { name, .. } => (name, false),
                SegmentKind::Greedy { name } => (name, true),
            };
            Some(quote!(::tollgate::__codegen::ParamSpec { name: #name, index: #i, greedy: #greedy }))
        });
        let key = r.api_key_required.is_some();
        let (auth, cors) = crate::auth::route_fields(api, id);
        let plain = plain(api, id);
        quote!(::tollgate::__codegen::RouteSpec { method: #method, resource_path: #path, params: &[#(#params),*], api_key_required: #key, cache: #cache, auth: #auth, cors: #cors, plain: #plain })
    }).collect();
    let integrations = api.routes.iter().enumerate().filter_map(|(id, r)| match &r.integration {
        Integration::Handler { .. } => None,
        Integration::Http { .. } => crate::mapping::integration_spec(api, id, r, templates),
        Integration::Mock { responses, .. } if !responses.is_empty() => {
            crate::mapping::integration_spec(api, id, r, templates)
        }
        Integration::Mock { status, headers, body, .. } => {
            let ident = format_ident!("__TOLLGATE_MOCK_{}", id);
            let status = status.value;
            let headers = headers.iter().map(|h| {
                let (n, v) = (h.name.value.to_ascii_lowercase(), &h.value.value);
                quote!((#n, #v))
            });
            Some(quote! {
                static #ident: ::tollgate::__codegen::MockSpec = ::tollgate::__codegen::MockSpec {
                    status: #status,
                    headers: &[#(#headers),*],
                    body: #body,
                };
            })
        }
        Integration::HttpProxy { uri, timeout_ms, .. } => {
            let ident = format_ident!("__TOLLGATE_PROXY_{}", id);
            let timeout = timeout_ms
                .as_ref()
                .map(|t| t.value)
                .unwrap_or_else(|| api.flavor.default_timeout_ms().min(api.max_integration_timeout_ms.value));
            let parts = uri.value.parts.iter().map(|p| match p {
                UriPart::Literal(l) => quote!(::tollgate::__codegen::UriPart::Literal(#l)),
                UriPart::StageVariable(v) => quote!(::tollgate::__codegen::UriPart::StageVariable(#v)),
                UriPart::PathParam(name) => {
                    let (i, seg) = r
                        .path
                        .segments
                        .iter()
                        .enumerate()
                        .find(|(_, s)| matches!(&s.kind, SegmentKind::Param { name: n, .. } | SegmentKind::Greedy { name: n } if n == name))
                        .expect("checked: URI parameters name path parameters");
                    if matches!(seg.kind, SegmentKind::Greedy { .. }) {
                        quote!(::tollgate::__codegen::UriPart::Tail(#i))
                    } else {
                        quote!(::tollgate::__codegen::UriPart::Segment(#i))
                    }
                }
            });
            Some(quote! {
                static #ident: ::tollgate::__codegen::ProxySpec = ::tollgate::__codegen::ProxySpec {
                    uri: &[#(#parts),*],
                    timeout_ms: #timeout,
                };
            })
        }
    });
    quote! {
        const __TOLLGATE_STAGES: &[::tollgate::__codegen::StageSpec] = &[#(#stages),*];
        const __TOLLGATE_ROUTES: &[::tollgate::__codegen::RouteSpec] = &[#(#routes),*];
        #(#cache_statics)*
        #(#integrations)*
    }
}

fn gateway_impl(
    api: &Api,
    names: &Names,
    handlers: &[HandlerFn<'_>],
    model_types: &[TokenStream],
    gateway_responses: &TokenStream,
) -> TokenStream {
    let (api_ty, trait_ident) = (&names.api, &names.handlers);
    let name = &api.name.value;
    let flavor = match api.flavor {
        Flavor::Rest => quote!(::tollgate::__codegen::Flavor::Rest),
        Flavor::Http => quote!(::tollgate::__codegen::Flavor::Http),
    };
    let stage_arms = api.stages.iter().enumerate().map(|(i, s)| {
        let n = &s.name.value;
        quote!(#n => ::core::option::Option::Some(#i),)
    });
    let (route_match, preflights) = router::route_match(api);
    let access_statics = crate::auth::statics(api, &preflights);
    let (resource_policy, api_cors) = crate::auth::api_fields(api);
    let route_count = api.routes.len();
    let preflight_arm = (!preflights.is_empty()).then(|| {
        quote! {
            ::core::option::Option::Some(__n) if __n >= #route_count => {
                ::core::result::Result::Ok(ex.preflight(&__TOLLGATE_PREFLIGHT[__n - #route_count]))
            }
        }
    });
    let account_throttle = throttle_spec(api.throttle.as_ref());
    let usage_plans = usage_plan_specs(api);
    let api_key_source = match api
        .api_key_source
        .as_ref()
        .map(|s| s.value)
        .unwrap_or_default()
    {
        tollgate_dsl::ir::ApiKeySource::Header => {
            quote!(::tollgate::__codegen::ApiKeySource::Header)
        }
        tollgate_dsl::ir::ApiKeySource::Authorizer => {
            quote!(::tollgate::__codegen::ApiKeySource::Authorizer)
        }
    };
    let calls = api.routes.iter().enumerate().map(|(id, r)| {
        // Typed path parameters constrain every route, not only handlers (which parse them anyway).
        let validate = r
            .path
            .segments
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match &s.kind {
                SegmentKind::Param { name, ty } if *ty != ParamType::String => {
                    let ty = rust_type(ParamKind::Typed(*ty, i));
                    Some(quote!(ex.param::<#ty>(#name, #i)?;))
                }
                _ => None,
            });
        let validate_request = validates(api, r).then(|| {
            let ident = format_ident!("__TOLLGATE_VALIDATION_{}", id);
            quote! {
                ex.validate(&#ident).await?;
            }
        });
        let validated = validate_request.is_some();
        // `pre` validates (before the cache, as API Gateway looks the cache up after
        // validation); `call` runs the integration and is what the cache may answer for.
        let pre_validate = quote!(#(#validate)* #validate_request);
        let (pre, call) = match &r.integration {
            Integration::Mock { responses, .. } if !responses.is_empty() => {
                let ident = format_ident!("__TOLLGATE_MOCK_TEMPLATE_{}", id);
                (
                    pre_validate,
                    quote!(ex.mock_template(&#ident, &__TOLLGATE_ROUTES[#id]).await),
                )
            }
            Integration::Http { .. } => {
                let ident = format_ident!("__TOLLGATE_HTTP_{}", id);
                (
                    pre_validate,
                    quote!(ex.http_integration(&#ident, &__TOLLGATE_ROUTES[#id]).await),
                )
            }
            Integration::Mock { .. } => {
                let ident = format_ident!("__TOLLGATE_MOCK_{}", id);
                (pre_validate, quote!(::core::result::Result::Ok(ex.mock(&#ident))))
            }
            Integration::HttpProxy { .. } => {
                let ident = format_ident!("__TOLLGATE_PROXY_{}", id);
                (pre_validate, quote!(ex.forward(&#ident).await))
            }
            Integration::Handler { name, .. } => {
                let h = handlers
                    .iter()
                    .find(|h| h.name == name.value.as_str())
                    .expect("every handler route has a trait method");
                let method = &h.name;
                let extract = h.params.iter().map(|(ident, pname, kind)| match kind {
                    ParamKind::Greedy(i) => quote!(let #ident = ex.greedy_param(#i);),
                    ParamKind::Typed(_, i) => {
                        let ty = rust_type(*kind);
                        quote!(let #ident = ex.param::<#ty>(#pname, #i)?;)
                    }
                });
                let mut args: Vec<TokenStream> = h
                    .params
                    .iter()
                    .map(|(ident, _, _)| quote!(#ident))
                    .collect();
                let typed_body = h.body.map(|m| {
                    let ty = &model_types[m];
                    args.push(quote!(body));
                    if validated {
                        // Parameters, then the body: validated and typed in one pass when it can.
                        let ident = format_ident!("__TOLLGATE_VALIDATION_{}", id);
                        quote! {
                            let body: #ty = ex.validated_body(&#ident).await?;
                        }
                    } else {
                        quote! {
                            let body: #ty = ex.json_body().await?;
                        }
                    }
                });
                let validate_request = if typed_body.is_some() {
                    None
                } else {
                    validate_request.clone()
                };
                (
                    quote! {
                        #(#extract)*
                        #validate_request
                        #typed_body
                    },
                    quote! {{
                        let request = ex.into_request(&__TOLLGATE_ROUTES[#id]).await?;
                        ::tollgate::__codegen::handler_response(
                            self.handlers.#method(request, #(#args),*).await,
                        )
                    }},
                )
            }
        };
        let body = if cached(api, r) {
            quote!({
                #pre
                ex.cached(#id, move |ex| async move { #call }).await
            })
        } else {
            quote!({
                #pre
                #call
            })
        };
        // API keys and throttling come first, as in API Gateway: before validation and the
        // integration; what the admitting limits have left goes out in `RateLimit` headers.
        let body = if limited(api, id) {
            quote!({
                let __rate = ex.admit(#id).await?;
                let __result: ::core::result::Result<::tollgate::__codegen::Response, ::tollgate::__codegen::GatewayError> = #body;
                __result.map(|r| ::tollgate::__codegen::with_rate_limit(r, __rate))
            })
        } else {
            body
        };
        // Authorization comes before API keys and throttling (API Gateway's order).
        let body = match crate::auth::route_step(api, id) {
            Some(step) => quote!({
                #step
                #body
            }),
            None => body,
        };
        quote!(::core::option::Option::Some(#id) => #body,)
    });
    quote! {
        #access_statics

        impl<H: #trait_ident> ::tollgate::__codegen::Gateway for #api_ty<H> {
            const SPEC: &'static ::tollgate::__codegen::ApiSpec = &::tollgate::__codegen::ApiSpec {
                name: #name,
                flavor: #flavor,
                stages: __TOLLGATE_STAGES,
                routes: __TOLLGATE_ROUTES,
                gateway_responses: #gateway_responses,
                throttle: #account_throttle,
                usage_plans: #usage_plans,
                api_key_source: #api_key_source,
                authorizers: __TOLLGATE_AUTHORIZERS,
                resource_policy: #resource_policy,
                cors: #api_cors,
            };

            fn stage_index(name: &str) -> ::core::option::Option<usize> {
                match name {
                    #(#stage_arms)*
                    _ => ::core::option::Option::None,
                }
            }

            #[allow(unused_variables)]
            fn route_of(
                m: ::tollgate::__codegen::Method,
                segments: &[&str],
            ) -> ::core::option::Option<usize> {
                use ::tollgate::__codegen::Method as __M;
                #route_match
            }

            // Authorized routes wrap their (possibly one-expression) body in the step's block.
            // Not an `async fn`: its argument would be kept twice in the future (as the
            // argument and as the local it is moved into), and the future is moved per request.
            #[allow(unused_braces, unused_mut)]
            fn dispatch(
                &self,
                mut ex: ::tollgate::__codegen::Exchange,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<::tollgate::__codegen::Response, ::tollgate::__codegen::GatewayError>,
            > + ::core::marker::Send {
                let route: ::core::option::Option<usize> = {
                    let segments = ex.segments();
                    Self::route_of(ex.method(), segments.as_slice())
                };
                async move {
                    match route {
                        #preflight_arm
                        #(#calls)*
                        _ => ::core::result::Result::Err(::tollgate::__codegen::GatewayError::no_route()),
                    }
                }
            }
        }
    }
}

/// `petId` → `pet_id`, `pet-id` → `pet_id`.
pub(crate) fn snake_case(s: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.ends_with('_') {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// `pet-store` → `PetStore`, `petstore` → `Petstore`.
pub(crate) fn upper_camel(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut cs = p.chars();
            cs.next()
                .map(|f| f.to_ascii_uppercase().to_string() + cs.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn is_keyword(s: &str) -> bool {
    syn::parse_str::<Ident>(s).is_err() || s == "self" || s == "Self"
}
