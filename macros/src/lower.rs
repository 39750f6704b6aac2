//! `ApiDef + Vec<HandlerDef> + models → ir::Api`: the macro door's translation into the IR the
//! KDL reader produces, with a [`SpanMap`] beside it so diagnostics land on the right tokens.
//!
//! Rules only this door has (how a parameter binds, a body on GET) are reported here; the rules
//! every front end shares are left to `tollgate_dsl::check`.

use crate::model::{
    ApiDef, ArgKind, HandlerDef, MethodCacheDef, QuotaDef, StageCacheDef, ThrottleDef,
};
use crate::options::Errors;
use crate::spans::SpanMap;
use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Ident, LitStr, Type};
use tollgate_dsl::diagnostics::Sink;
use tollgate_dsl::ir::{self, Spanned as S};

/// A model whose schema the chain of `#[derive(Model)]` callbacks delivered.
pub(crate) struct ModelInput {
    /// The model's name (the struct's name), spanned where the API names it.
    pub(crate) name: Ident,
    /// Its JSON Schema.
    pub(crate) schema: serde_json::Value,
}

/// How one handler parameter is filled by the glue that implements the generated trait.
pub(crate) enum Bound {
    /// The path parameter named so (in the path).
    Path(String),
    /// A query-string parameter; `inner` is the type parsed, `optional` when `Option<inner>`.
    Query {
        name: String,
        inner: Type,
        optional: bool,
    },
    /// A header; as for `Query`.
    Header {
        name: String,
        inner: Type,
        optional: bool,
    },
    /// The body, as the model type.
    Body(Type),
    /// The trait method's typed body, passed on as it is (KDL-bound handlers).
    TraitBody,
    /// The request itself.
    Request { by_ref: bool },
    /// A copy of the request's context.
    Context { by_ref: bool },
}

/// One handler and how each of its parameters binds.
pub(crate) struct Binding {
    /// The method name.
    pub(crate) ident: Ident,
    /// Its parameters in the method's order.
    pub(crate) args: Vec<(Ident, Bound, Span)>,
    /// The span of its return type.
    pub(crate) ret: Span,
}

/// The IR, the spans behind it and the bindings.
pub(crate) struct Lowered {
    pub(crate) api: ir::Api,
    pub(crate) spans: SpanMap,
    pub(crate) bindings: Vec<Binding>,
}

const PARAM_TYPES: &[(&str, ir::ParamType)] = &[
    ("String", ir::ParamType::String),
    ("i32", ir::ParamType::I32),
    ("i64", ir::ParamType::I64),
    ("u32", ir::ParamType::U32),
    ("u64", ir::ParamType::U64),
    ("f64", ir::ParamType::F64),
    ("bool", ir::ParamType::Bool),
];

/// The last identifier of a plain type path (`String`, `tollgate::Request`).
fn type_ident(ty: &Type) -> Option<&Ident> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| &s.ident),
        _ => None,
    }
}

/// `Option<T>` → `T`.
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    if seg.ident != "Option" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(a) = &seg.arguments else {
        return None;
    };
    match a.args.first()? {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    }
}

pub(crate) fn param_type(ty: &Type) -> Option<ir::ParamType> {
    let Type::Path(p) = ty else { return None };
    if p.qself.is_some() || !p.path.segments.last()?.arguments.is_empty() {
        return None;
    }
    let id = type_ident(ty)?;
    PARAM_TYPES.iter().find(|(n, _)| id == n).map(|(_, t)| *t)
}

/// Whether a type reads like a scalar (so an unbound parameter of it is a misspelt path
/// parameter rather than a body).
pub(crate) fn scalar_like(ty: &Type) -> bool {
    if option_inner(ty).is_some() || matches!(ty, Type::Reference(_)) {
        return true;
    }
    type_ident(ty).is_some_and(|id| {
        PARAM_TYPES.iter().any(|(n, _)| id == n)
            || [
                "str", "i8", "i16", "u8", "u16", "f32", "usize", "isize", "char",
            ]
            .iter()
            .any(|n| id == n)
    })
}

/// `petId` → `pet_id`, `pet-id` → `pet_id`: how path parameters name Rust arguments — code
/// generation's rule, so a macro API and its KDL twin name them alike.
pub(crate) fn snake_case(s: &str) -> String {
    tollgate_codegen::snake_case(s)
}

pub(crate) fn type_text(ty: &Type) -> String {
    ty.to_token_stream().to_string().replace(' ', "")
}

/// The model name a body type stands for: its last identifier.
pub(crate) fn model_name(ty: &Type) -> Option<Ident> {
    type_ident(ty).cloned()
}

/// Translates the macro's model into the IR. Door-specific mistakes go to `errors`; the shared
/// rules are for `tollgate_dsl::check` (run by the caller).
pub(crate) fn lower(
    def: &ApiDef,
    handlers: &[HandlerDef],
    models: &[ModelInput],
    self_name: &Ident,
    errors: &mut Errors,
) -> Lowered {
    let mut spans = SpanMap::default();
    let mut sink = Sink::new();
    let api_span = spans.token(def.span);
    let name = match &def.name {
        Some(n) => S::new(n.value(), spans.lit(n)),
        None => S::new(
            snake_case(&self_name.to_string()),
            spans.token(self_name.span()),
        ),
    };
    let flavor = match &def.flavor {
        None => ir::Flavor::Rest,
        Some(f) => match f.value().as_str() {
            "rest" => ir::Flavor::Rest,
            "http" => ir::Flavor::Http,
            other => {
                errors.at(
                    f.span(),
                    format!("unknown flavor `{other}`\nhelp: use `flavor = \"rest\"` (API Gateway REST API answers) or `flavor = \"http\"` (HTTP API answers)"),
                );
                ir::Flavor::Rest
            }
        },
    };
    let max_integration_timeout_ms = match def.max_timeout {
        Some((v, s)) => S::new(v, spans.token(s)),
        None => S::new(flavor.default_timeout_ms(), name.span),
    };
    let validator = match &def.validator {
        Some(v) => validator(v, &mut spans, errors),
        // The macro door validates what the signatures declare unless told otherwise.
        None => Some(S::new(ir::Validator::All, api_span)),
    };
    let detailed_validation_errors = match &def.validation_errors {
        None => false,
        Some(v) => match v.value().as_str() {
            "standard" => false,
            "detailed" => true,
            _ => {
                errors.at(
                    v.span(),
                    "`validation_errors` is `\"standard\"` or `\"detailed\"`",
                );
                false
            }
        },
    };
    let stages: Vec<ir::Stage> = def
        .stages
        .iter()
        .map(|s| ir::Stage {
            name: S::new(s.name.value(), spans.lit(&s.name)),
            variables: s
                .variables
                .iter()
                .map(|(k, v)| ir::StageVariable {
                    name: S::new(k.to_string(), spans.token(k.span())),
                    value: S::new(v.value(), spans.lit(v)),
                })
                .collect(),
            throttle: s.throttle.as_ref().map(|t| throttle(t, &mut spans)),
            method_throttles: Vec::new(),
            cache: s.cache.as_ref().map(|c| stage_cache(c, &mut spans)),
            span: spans.token(s.span),
        })
        .collect();
    let mut api = ir::Api {
        name,
        flavor,
        max_integration_timeout_ms,
        stages,
        models: Vec::new(),
        validator,
        detailed_validation_errors,
        routes: Vec::new(),
        gateway_responses: Vec::new(),
        throttle: def.throttle.as_ref().map(|t| throttle(t, &mut spans)),
        api_key_source: def.api_key_source.as_ref().and_then(|s| {
            let source = match s.value().as_str() {
                "header" => ir::ApiKeySource::Header,
                "authorizer" => ir::ApiKeySource::Authorizer,
                _ => {
                    errors.at(
                        s.span(),
                        "unknown API key source\nhelp: use \"header\" (`x-api-key`) or \"authorizer\" (a custom authorizer's usage identifier)",
                    );
                    return None;
                }
            };
            Some(S::new(source, spans.lit(s)))
        }),
        usage_plans: def
            .usage_plans
            .iter()
            .map(|p| ir::UsagePlan {
                name: S::new(p.name.value(), spans.lit(&p.name)),
                throttle: p.throttle.as_ref().map(|t| throttle(t, &mut spans)),
                quota: p.quota.as_ref().and_then(|q| quota(q, &mut spans, errors)),
                stages: p
                    .stages
                    .iter()
                    .map(|s| {
                        let span = spans.lit(s);
                        ir::PlanStage {
                            name: S::new(s.value(), span),
                            method_throttles: Vec::new(),
                            span,
                        }
                    })
                    .collect(),
                span: spans.token(p.span),
            })
            .collect(),
        authorizers: def
            .authorizers
            .iter()
            .filter_map(|a| authorizer(a, &mut spans, &mut sink, errors))
            .collect(),
        resource_policy: None,
        cors: def.cors.as_ref().map(|c| cors(c, &mut spans)),
        span: api_span,
    };
    for m in models {
        let span = spans.token(m.name.span());
        api.models.push(ir::Model {
            name: S::new(m.name.to_string(), span),
            schema: m.schema.clone(),
            origin: ir::ModelOrigin::Inline { span },
            span,
        });
    }
    for (name, schema) in tollgate_dsl::kdl::default_models() {
        api.models.push(ir::Model {
            name: S::new(name.to_owned(), api.name.span),
            schema,
            origin: ir::ModelOrigin::Default,
            span: api.name.span,
        });
    }
    let mut bindings = Vec::new();
    for h in handlers {
        if let Some((route, binding)) = route(h, &mut spans, &mut sink, errors) {
            if let Some(t) = &h.options.throttle {
                // A route's throttle is its per-method throttle on every stage.
                let path = route.path.to_string();
                let path_span = spans.lit(&h.path);
                for stage in &mut api.stages {
                    stage.method_throttles.push(ir::MethodThrottle {
                        path: S::new(path.clone(), path_span),
                        method: route.method.clone(),
                        throttle: throttle(t, &mut spans),
                    });
                }
            }
            api.routes.push(route);
            bindings.push(binding);
        }
    }
    // Reading errors of the shared path parser come back as compile errors here.
    let diagnostics = sink.into_diagnostics(&tollgate_dsl::Source::new("macro", ""));
    crate::expand::report(&diagnostics, &spans, errors);
    Lowered {
        api,
        spans,
        bindings,
    }
}

fn authorizer(
    a: &crate::model::AuthorizerDef,
    spans: &mut SpanMap,
    sink: &mut Sink,
    errors: &mut Errors,
) -> Option<ir::Authorizer> {
    let name_span = spans.lit(&a.name);
    let lit = |l: &LitStr, spans: &mut SpanMap| S::new(l.value(), spans.lit(l));
    let need = |what: &str, errors: &mut Errors| {
        errors.at(
            a.kind.span(),
            format!("a `{}` authorizer needs `{what}`", a.kind.value()),
        );
    };
    let kind = match a.kind.value().as_str() {
        "token" | "request" => {
            let Some(handler) = &a.handler else {
                need("handler = \"method_name\"", errors);
                return None;
            };
            let handler = lit(handler, spans);
            if a.kind.value() == "token" {
                ir::AuthorizerKind::Token {
                    handler,
                    validation: a.validation.as_ref().map(|v| lit(v, spans)),
                }
            } else {
                ir::AuthorizerKind::Request { handler }
            }
        }
        "jwt" => {
            let Some(issuer) = &a.issuer else {
                need("issuer = \"https://…\"", errors);
                return None;
            };
            let jwks = match (&a.jwks_file, &a.jwks_uri) {
                (Some(f), None) => S::new(ir::JwksLocation::File(f.value()), spans.lit(f)),
                (None, Some(u)) => S::new(ir::JwksLocation::Url(u.value()), spans.lit(u)),
                _ => {
                    need("one of `jwks_file` and `jwks_uri`", errors);
                    return None;
                }
            };
            ir::AuthorizerKind::Jwt {
                issuer: lit(issuer, spans),
                audiences: a.audiences.iter().map(|x| lit(x, spans)).collect(),
                jwks,
            }
        }
        other => {
            errors.at(
                a.kind.span(),
                format!(
                    "unknown authorizer type `{other}`\nhelp: use \"jwt\", \"token\" or \"request\""
                ),
            );
            return None;
        }
    };
    let mut identity_sources: Vec<ir::IdentitySource> = a
        .identity_sources
        .iter()
        .filter_map(|s| tollgate_dsl::kdl::identity_source(&lit(s, spans), sink))
        .collect();
    if identity_sources.is_empty() && !matches!(kind, ir::AuthorizerKind::Request { .. }) {
        identity_sources.push(ir::IdentitySource {
            location: ir::IdentityLocation::Header,
            name: "Authorization".to_owned(),
            span: name_span,
        });
    }
    Some(ir::Authorizer {
        name: S::new(a.name.value(), name_span),
        kind,
        identity_sources,
        ttl: match a.ttl {
            Some((v, s)) => S::new(v, spans.token(s)),
            None => S::new(ir::DEFAULT_AUTHORIZER_TTL, name_span),
        },
        span: spans.token(a.span),
    })
}

fn cors(c: &crate::model::CorsDef, spans: &mut SpanMap) -> ir::Cors {
    let mut list = |l: &[LitStr]| -> Vec<S<String>> {
        l.iter().map(|s| S::new(s.value(), spans.lit(s))).collect()
    };
    let allow_origins = list(&c.allow_origins);
    let allow_methods = list(&c.allow_methods);
    let allow_headers = list(&c.allow_headers);
    let expose_headers = list(&c.expose_headers);
    ir::Cors {
        allow_origins,
        allow_methods,
        allow_headers,
        expose_headers,
        max_age: c.max_age.map(|(v, s)| S::new(v, spans.token(s))),
        allow_credentials: c.allow_credentials.map(|(b, s)| S::new(b, spans.token(s))),
        disabled: c.disabled,
        span: spans.token(c.span),
    }
}

fn validator(v: &LitStr, spans: &mut SpanMap, errors: &mut Errors) -> Option<S<ir::Validator>> {
    match ir::Validator::parse(&v.value()) {
        Some(p) => Some(S::new(p, spans.lit(v))),
        None => {
            errors.at(
                v.span(),
                format!(
                    "unknown validator `{}`\nhelp: use \"all\", \"params-only\", \"body-only\" or \"none\"",
                    v.value()
                ),
            );
            None
        }
    }
}

fn throttle(t: &ThrottleDef, spans: &mut SpanMap) -> ir::Throttle {
    ir::Throttle {
        rate: S::new(t.rate.0, spans.token(t.rate.1)),
        burst: S::new(t.burst.0, spans.token(t.burst.1)),
        span: spans.token(t.span),
    }
}

fn stage_cache(c: &StageCacheDef, spans: &mut SpanMap) -> ir::StageCache {
    let span = spans.token(c.span);
    ir::StageCache {
        capacity: S::new(c.capacity.0, spans.token(c.capacity.1)),
        ttl: match c.ttl {
            Some((v, s)) => S::new(v, spans.token(s)),
            None => S::new(ir::DEFAULT_CACHE_TTL, span),
        },
        require_authorization: true,
        unauthorized: S::new(ir::UnauthorizedCacheControl::default(), span),
        span,
    }
}

fn quota(q: &QuotaDef, spans: &mut SpanMap, errors: &mut Errors) -> Option<ir::Quota> {
    let Some(period) = ir::QuotaPeriod::parse(&q.period.value()) else {
        errors.at(
            q.period.span(),
            "unknown period\nhelp: a quota's period is \"day\", \"week\" or \"month\"",
        );
        return None;
    };
    Some(ir::Quota {
        limit: S::new(q.limit.0, spans.token(q.limit.1)),
        period: S::new(period, spans.lit(&q.period)),
        offset: q.offset.map(|(v, s)| S::new(v, spans.token(s))),
        span: spans.token(q.span),
    })
}

fn method_cache(c: &MethodCacheDef, spans: &mut SpanMap, errors: &mut Errors) -> ir::MethodCache {
    let keys = c
        .keys
        .iter()
        .filter_map(|k| {
            let text = k.value();
            let bare = text.strip_prefix("method.request.").unwrap_or(&text);
            let parsed = bare.split_once('.').and_then(|(loc, name)| {
                let location = match loc {
                    "header" => ir::ParamLocation::Header,
                    "path" => ir::ParamLocation::Path,
                    "querystring" => ir::ParamLocation::Querystring,
                    _ => return None,
                };
                (!name.is_empty()).then(|| (location, name.to_owned()))
            });
            match parsed {
                Some((location, name)) => Some(ir::CacheKey {
                    location,
                    name,
                    span: spans.lit(k),
                }),
                None => {
                    errors.at(
                        k.span(),
                        format!("`{text}` is not a request parameter\nhelp: write `header.NAME`, `path.NAME` or `querystring.NAME`"),
                    );
                    None
                }
            }
        })
        .collect();
    ir::MethodCache {
        enabled: c.enabled.map(|(b, s)| S::new(b, spans.token(s))),
        ttl: c.ttl.map(|(v, s)| S::new(v, spans.token(s))),
        require_authorization: None,
        unauthorized: None,
        keys,
        span: spans.token(c.span),
    }
}

fn route(
    h: &HandlerDef,
    spans: &mut SpanMap,
    sink: &mut Sink,
    errors: &mut Errors,
) -> Option<(ir::Route, Binding)> {
    let (method, method_span) = h.method;
    let path_span = spans.lit(&h.path);
    let mut segments = tollgate_dsl::kdl::parse_path(&S::new(h.path.value(), path_span), sink)?;
    let template = ir::PathTemplate {
        segments: segments.clone(),
    };
    let params: Vec<(String, bool)> = template
        .params()
        .map(|(s, n)| {
            (
                n.to_owned(),
                matches!(s.kind, ir::SegmentKind::Greedy { .. }),
            )
        })
        .collect();
    let mut request = ir::RequestSpec {
        models: Vec::new(),
        parameters: Vec::new(),
        validator: match &h.options.validator {
            Some(v) => validator(v, spans, errors),
            None => None,
        },
    };
    let mut args = Vec::new();
    let mut body_seen: Option<Span> = None;
    for arg in &h.args {
        let arg_name = arg.ident.to_string();
        let arg_name = arg_name.strip_prefix("r#").unwrap_or(&arg_name).to_owned();
        let bound = match &arg.kind {
            ArgKind::Request { by_ref } => Bound::Request { by_ref: *by_ref },
            ArgKind::Context { by_ref } => Bound::Context { by_ref: *by_ref },
            ArgKind::Query(name) | ArgKind::Header(name) => {
                let (inner, optional) = match option_inner(&arg.ty) {
                    Some(t) => (t.clone(), true),
                    None => (arg.ty.clone(), false),
                };
                let is_query = matches!(arg.kind, ArgKind::Query(_));
                request.parameters.push(ir::RequestParameter {
                    location: if is_query {
                        ir::ParamLocation::Querystring
                    } else {
                        ir::ParamLocation::Header
                    },
                    name: name.value(),
                    required: !optional,
                    span: spans.lit(name),
                });
                if is_query {
                    Bound::Query {
                        name: name.value(),
                        inner,
                        optional,
                    }
                } else {
                    Bound::Header {
                        name: name.value(),
                        inner,
                        optional,
                    }
                }
            }
            ArgKind::Plain | ArgKind::Body => {
                let param = params
                    .iter()
                    .find(|(p, _)| *p == arg_name || snake_case(p) == arg_name);
                match (param, &arg.kind) {
                    (Some((p, greedy)), ArgKind::Plain) => {
                        let Some(ty) = param_type(&arg.ty) else {
                            errors.at(
                                arg.ty.span(),
                                format!(
                                    "path parameter `{{{p}}}` cannot be parsed as `{}`\nhelp: path parameters are String, i32, i64, u32, u64, f64 or bool",
                                    type_text(&arg.ty)
                                ),
                            );
                            continue;
                        };
                        if *greedy && ty != ir::ParamType::String {
                            errors.at(
                                arg.ty.span(),
                                format!("greedy path parameter `{{{p}+}}` is always a `String`"),
                            );
                            continue;
                        }
                        for seg in &mut segments {
                            if let ir::SegmentKind::Param { name, ty: t } = &mut seg.kind
                                && name == p
                            {
                                *t = ty;
                            }
                        }
                        Bound::Path(p.clone())
                    }
                    (None, ArgKind::Plain) if scalar_like(&arg.ty) => {
                        let known: Vec<String> =
                            params.iter().map(|(p, _)| format!("`{{{p}}}`")).collect();
                        errors.at(
                            arg.ident.span(),
                            format!(
                                "`{arg_name}` is not a path parameter of `{}`\nhelp: {}; a query parameter needs `#[query]`, a header `#[header(\"name\")]`",
                                h.path.value(),
                                if known.is_empty() {
                                    "this route has no path parameters".to_owned()
                                } else {
                                    format!("this route has {}", known.join(", "))
                                }
                            ),
                        );
                        continue;
                    }
                    _ => {
                        if body_seen.is_some() {
                            errors.at(
                                arg.ident.span(),
                                format!("handler `{}` takes two bodies\nhelp: a request has one body: one parameter of a `#[derive(tollgate::Model)]` type", h.ident),
                            );
                            continue;
                        }
                        body_seen = Some(arg.ident.span());
                        if matches!(method, ir::Method::Get | ir::Method::Head)
                            && !h.options.allow_body
                        {
                            errors.at(
                                arg.ident.span(),
                                format!(
                                    "a {method} handler takes no body: `{arg_name}` would be read from a {method} request\nhelp: clients rarely send a body with {method}; if this API expects one, opt in with `#[{}(\"{}\", allow_body)]`",
                                    method.as_str().to_ascii_lowercase(),
                                    h.path.value()
                                ),
                            );
                            continue;
                        }
                        let Some(model) = model_name(&arg.ty) else {
                            errors.at(
                                arg.ty.span(),
                                "a body parameter's type is a `#[derive(tollgate::Model)]` struct",
                            );
                            continue;
                        };
                        request.models.push(ir::RequestModel {
                            content_type: S::new(
                                "$default".to_owned(),
                                spans.token(arg.ident.span()),
                            ),
                            model: S::new(model.to_string(), spans.token(arg.ty.span())),
                        });
                        Bound::Body(arg.ty.clone())
                    }
                }
            }
        };
        args.push((arg.ident.clone(), bound, arg.ty.span()));
    }
    if let Some(m) = &h.options.request_model {
        if let Some(b) = body_seen {
            errors.at(
                b,
                "this body parameter already names the request model\nhelp: remove `request_model` or the body parameter",
            );
        } else {
            request.models.push(ir::RequestModel {
                content_type: S::new("$default".to_owned(), spans.lit(m)),
                model: S::new(m.value(), spans.lit(m)),
            });
        }
    }
    let handler_span = spans.token(h.ident.span());
    let method_ir_span = spans.token(method_span);
    let route = ir::Route {
        method: S::new(method, method_ir_span),
        path: ir::PathTemplate { segments },
        integration: ir::Integration::Handler {
            name: S::new(h.ident.to_string(), handler_span),
            span: handler_span,
        },
        request,
        api_key_required: h.options.api_key_required.map(|s| spans.token(s)),
        cache: h
            .options
            .cache
            .as_ref()
            .map(|c| method_cache(c, spans, errors)),
        auth: h.options.auth.as_ref().map(|a| {
            if a.value() == "iam" {
                ir::RouteAuth::Iam(spans.lit(a))
            } else {
                ir::RouteAuth::Authorizer {
                    name: S::new(a.value(), spans.lit(a)),
                    scopes: h
                        .options
                        .scopes
                        .as_ref()
                        .map(|s| {
                            let span = spans.lit(s);
                            s.value()
                                .split(' ')
                                .filter(|p| !p.is_empty())
                                .map(|p| S::new(p.to_owned(), span))
                                .collect()
                        })
                        .unwrap_or_default(),
                }
            }
        }),
        cors: h.options.cors.as_ref().map(|c| cors(c, spans)),
        span: method_ir_span,
    };
    Some((
        route,
        Binding {
            ident: h.ident.clone(),
            args,
            ret: h.ret,
        },
    ))
}
