//! The macro's own model of an API: `(attribute tokens, syn::ItemImpl) → ApiDef + Vec<HandlerDef>`.
//!
//! This step only reads Rust syntax: which options were written, which methods carry a route
//! attribute and what their parameters are. Meaning (path parameters, models, limits) is given in
//! [`crate::lower`], and the rules every front end shares run in `tollgate_dsl::check`.

use crate::options::{self, Errors, Opt, OptValue};
use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;
use syn::{FnArg, Ident, ImplItem, ItemImpl, LitStr, Pat, Type};
use tollgate_dsl::ir::Method;

/// What `#[tollgate::api(…)]` declares.
pub(crate) struct ApiDef {
    /// `name = "petstore"`.
    pub(crate) name: Option<LitStr>,
    /// `flavor = "rest" | "http"`.
    pub(crate) flavor: Option<LitStr>,
    /// `max_integration_timeout_ms = N`.
    pub(crate) max_timeout: Option<(u64, Span)>,
    /// `stage(…)`, in order.
    pub(crate) stages: Vec<StageDef>,
    /// `throttle(rate = R, burst = B)`: the account-level throttle.
    pub(crate) throttle: Option<ThrottleDef>,
    /// `validator = "all" | …` (default `all` in the macro door).
    pub(crate) validator: Option<LitStr>,
    /// `validation_errors = "standard" | "detailed"`.
    pub(crate) validation_errors: Option<LitStr>,
    /// `models(A, b::B)`: models beyond the handlers' body types.
    pub(crate) models: Vec<syn::Path>,
    /// `usage_plan(…)`, in order.
    pub(crate) usage_plans: Vec<PlanDef>,
    /// `kdl = "api.kdl"`: the API is the KDL file's; the impl block's methods are its handlers.
    pub(crate) kdl: Option<LitStr>,
    /// `authorizer(…)`, in order.
    pub(crate) authorizers: Vec<AuthorizerDef>,
    /// `api_key_source = "header" | "authorizer"`.
    pub(crate) api_key_source: Option<LitStr>,
    /// `cors(…)`: the API-wide CORS configuration.
    pub(crate) cors: Option<CorsDef>,
    /// The span of the attribute's arguments (or of `api`).
    pub(crate) span: Span,
}

/// `stage(name = "prod", variables(k = "v"), throttle(…), cache(…))`.
pub(crate) struct StageDef {
    pub(crate) name: LitStr,
    pub(crate) variables: Vec<(Ident, LitStr)>,
    pub(crate) throttle: Option<ThrottleDef>,
    pub(crate) cache: Option<StageCacheDef>,
    pub(crate) span: Span,
}

/// `throttle(rate = R, burst = B)`.
pub(crate) struct ThrottleDef {
    pub(crate) rate: (f64, Span),
    pub(crate) burst: (u64, Span),
    pub(crate) span: Span,
}

/// `cache(capacity = "64MiB", ttl = 300)` on a stage.
pub(crate) struct StageCacheDef {
    pub(crate) capacity: (u64, Span),
    pub(crate) ttl: Option<(u64, Span)>,
    pub(crate) span: Span,
}

/// `usage_plan(name = "p", throttle(…), quota(…), stages("prod", …))`.
pub(crate) struct PlanDef {
    pub(crate) name: LitStr,
    pub(crate) throttle: Option<ThrottleDef>,
    pub(crate) quota: Option<QuotaDef>,
    pub(crate) stages: Vec<LitStr>,
    pub(crate) span: Span,
}

/// `quota(limit = N, period = "day", offset = N)`.
pub(crate) struct QuotaDef {
    pub(crate) limit: (u64, Span),
    pub(crate) period: LitStr,
    pub(crate) offset: Option<(u64, Span)>,
    pub(crate) span: Span,
}

/// `authorizer(name = "users", type = "jwt" | "token" | "request", …)`.
pub(crate) struct AuthorizerDef {
    pub(crate) name: LitStr,
    pub(crate) kind: LitStr,
    pub(crate) handler: Option<LitStr>,
    pub(crate) validation: Option<LitStr>,
    pub(crate) ttl: Option<(u64, Span)>,
    pub(crate) identity_sources: Vec<LitStr>,
    pub(crate) issuer: Option<LitStr>,
    pub(crate) audiences: Vec<LitStr>,
    pub(crate) jwks_file: Option<LitStr>,
    pub(crate) jwks_uri: Option<LitStr>,
    pub(crate) span: Span,
}

const AUTHORIZER_OPTIONS: &[&str] = &[
    "name",
    "type",
    "handler",
    "validation",
    "ttl",
    "identity_source",
    "issuer",
    "audience",
    "jwks_file",
    "jwks_uri",
];

fn read_authorizer(name: &Ident, value: &OptValue, errors: &mut Errors) -> Option<AuthorizerDef> {
    let items = options::list(
        name,
        value,
        "authorizer(name = \"users\", type = \"jwt\", issuer = \"https://…\", jwks_uri = \"https://…\")",
        errors,
    )?;
    let mut a = AuthorizerDef {
        name: LitStr::new("", name.span()),
        kind: LitStr::new("", name.span()),
        handler: None,
        validation: None,
        ttl: None,
        identity_sources: Vec::new(),
        issuer: None,
        audiences: Vec::new(),
        jwks_file: None,
        jwks_uri: None,
        span: name.span(),
    };
    let (mut has_name, mut has_type) = (false, false);
    for item in items {
        let Opt::Named { name: n, value: v } = item else {
            errors.at(item.span(), "expected an option such as `name = \"users\"`");
            continue;
        };
        let key = n.to_string();
        let key = key.strip_prefix("r#").unwrap_or(&key);
        if key == "ttl" {
            a.ttl = options::integer(n, v, errors);
            continue;
        }
        if !AUTHORIZER_OPTIONS.contains(&key) {
            errors.unknown(n, "`authorizer`", AUTHORIZER_OPTIONS);
            continue;
        }
        let Some(text) = options::string(n, v, errors) else {
            continue;
        };
        match key {
            "name" => {
                a.name = text;
                has_name = true;
            }
            "type" => {
                a.kind = text;
                has_type = true;
            }
            "handler" => a.handler = Some(text),
            "validation" => a.validation = Some(text),
            "identity_source" => a.identity_sources.push(text),
            "issuer" => a.issuer = Some(text),
            "audience" => a.audiences.push(text),
            "jwks_file" => a.jwks_file = Some(text),
            _ => a.jwks_uri = Some(text),
        }
    }
    if !has_name || !has_type {
        errors.at(
            name.span(),
            "`authorizer` needs `name = \"…\"` and `type = \"jwt\" | \"token\" | \"request\"`",
        );
        return None;
    }
    Some(a)
}

/// `cors(allow_origins("…"), allow_methods(…), allow_headers(…), expose_headers(…), max_age = N,
/// allow_credentials = B)`, or `cors = false` on a route.
pub(crate) struct CorsDef {
    pub(crate) allow_origins: Vec<LitStr>,
    pub(crate) allow_methods: Vec<LitStr>,
    pub(crate) allow_headers: Vec<LitStr>,
    pub(crate) expose_headers: Vec<LitStr>,
    pub(crate) max_age: Option<(u64, Span)>,
    pub(crate) allow_credentials: Option<(bool, Span)>,
    pub(crate) disabled: bool,
    pub(crate) span: Span,
}

const CORS_OPTIONS: &[&str] = &[
    "allow_origins",
    "allow_methods",
    "allow_headers",
    "expose_headers",
    "max_age",
    "allow_credentials",
];

fn read_cors(name: &Ident, value: &OptValue, errors: &mut Errors) -> Option<CorsDef> {
    let mut def = CorsDef {
        allow_origins: Vec::new(),
        allow_methods: Vec::new(),
        allow_headers: Vec::new(),
        expose_headers: Vec::new(),
        max_age: None,
        allow_credentials: None,
        disabled: false,
        span: name.span(),
    };
    if let OptValue::Lit {
        lit: syn::Lit::Bool(b),
        ..
    } = value
    {
        if b.value {
            errors.at(
                b.span(),
                "write the configuration: `cors(allow_origins(\"https://…\"))`",
            );
            return None;
        }
        def.disabled = true;
        return Some(def);
    }
    let items = options::list(
        name,
        value,
        "cors(allow_origins(\"https://app.example.com\"))",
        errors,
    )?;
    for item in items {
        let Opt::Named { name: n, value: v } = item else {
            errors.at(
                item.span(),
                "expected an option such as `allow_origins(\"…\")`",
            );
            continue;
        };
        let key = n.to_string();
        let list = match key.as_str() {
            "max_age" => {
                def.max_age = options::integer(n, v, errors);
                continue;
            }
            "allow_credentials" => {
                def.allow_credentials = options::boolean(n, v, errors);
                continue;
            }
            "allow_origins" => &mut def.allow_origins,
            "allow_methods" => &mut def.allow_methods,
            "allow_headers" => &mut def.allow_headers,
            "expose_headers" => &mut def.expose_headers,
            _ => {
                errors.unknown(n, "`cors`", CORS_OPTIONS);
                continue;
            }
        };
        for s in options::list(n, v, &format!("{key}(\"…\", …)"), errors).unwrap_or_default() {
            match s {
                Opt::Str(s) => list.push(s.clone()),
                other => errors.at(other.span(), "expected a string"),
            }
        }
    }
    Some(def)
}

/// One method with a route attribute.
pub(crate) struct HandlerDef {
    /// The method's name: the handler name.
    pub(crate) ident: Ident,
    /// The HTTP method and the span of the attribute's name.
    pub(crate) method: (Method, Span),
    /// The path template literal.
    pub(crate) path: LitStr,
    /// The route's options.
    pub(crate) options: RouteOpts,
    /// The parameters after `&self`.
    pub(crate) args: Vec<ArgDef>,
    /// The span of the return type.
    pub(crate) ret: Span,
}

/// Options of a route attribute: `#[get("/p", api_key_required, cache(…), …)]`.
#[derive(Default)]
pub(crate) struct RouteOpts {
    pub(crate) api_key_required: Option<Span>,
    pub(crate) cache: Option<MethodCacheDef>,
    pub(crate) throttle: Option<ThrottleDef>,
    pub(crate) validator: Option<LitStr>,
    pub(crate) request_model: Option<LitStr>,
    pub(crate) auth: Option<LitStr>,
    /// `scopes = "a b"` (JWT authorizers).
    pub(crate) scopes: Option<LitStr>,
    /// `cors(…)` or `cors = false`: this route's CORS, replacing the API's.
    pub(crate) cors: Option<CorsDef>,
    /// `allow_body`: a GET/HEAD/OPTIONS/DELETE handler may take a body.
    pub(crate) allow_body: bool,
}

/// `cache(enabled = b, ttl = N, key = "querystring.x", …)` on a route.
pub(crate) struct MethodCacheDef {
    pub(crate) enabled: Option<(bool, Span)>,
    pub(crate) ttl: Option<(u64, Span)>,
    pub(crate) keys: Vec<LitStr>,
    pub(crate) span: Span,
}

/// One handler parameter.
pub(crate) struct ArgDef {
    /// Its name.
    pub(crate) ident: Ident,
    /// Its type.
    pub(crate) ty: Type,
    /// What it is bound to, as far as the syntax tells.
    pub(crate) kind: ArgKind,
}

/// How a parameter is bound.
pub(crate) enum ArgKind {
    /// No attribute: a path parameter by name, else the body (decided by [`crate::lower`]).
    Plain,
    /// `#[query]` / `#[query("name")]`.
    Query(LitStr),
    /// `#[header("x-name")]`.
    Header(LitStr),
    /// `#[body]`.
    Body,
    /// `tollgate::Request` (by value) or `&tollgate::Request`.
    Request {
        /// Passed by reference.
        by_ref: bool,
    },
    /// `tollgate::Context` (a copy) or `&tollgate::Context`: API Gateway's `$context`.
    Context {
        /// Passed by reference.
        by_ref: bool,
    },
}

const API_OPTIONS: &[&str] = &[
    "kdl",
    "name",
    "flavor",
    "max_integration_timeout_ms",
    "stage",
    "throttle",
    "validator",
    "validation_errors",
    "models",
    "usage_plan",
    "authorizer",
    "api_key_source",
    "cors",
];

const ROUTE_OPTIONS: &[&str] = &[
    "api_key_required",
    "cache",
    "throttle",
    "validator",
    "request_model",
    "auth",
    "scopes",
    "cors",
    "allow_body",
];

/// The route attributes and their methods.
pub(crate) const ROUTE_ATTRS: &[(&str, Method)] = &[
    ("get", Method::Get),
    ("post", Method::Post),
    ("put", Method::Put),
    ("patch", Method::Patch),
    ("delete", Method::Delete),
    ("head", Method::Head),
    ("options", Method::Options),
    ("any", Method::Any),
];

/// The method and the name's span of a route attribute: `#[get(…)]` or `#[tollgate::get(…)]`.
pub(crate) fn route_attr(attr: &syn::Attribute) -> Option<(Method, Span)> {
    let path = attr.path();
    let last = path.segments.last()?;
    let prefixed = match path.segments.len() {
        1 => true,
        2 => path.segments[0].ident == "tollgate",
        _ => false,
    };
    if !prefixed {
        return None;
    }
    ROUTE_ATTRS
        .iter()
        .find(|(n, _)| last.ident == n)
        .map(|(_, m)| (*m, last.ident.span()))
}

/// Reads `#[tollgate::api(…)]`'s arguments.
pub(crate) fn read_api(attr: TokenStream, errors: &mut Errors) -> ApiDef {
    let span = if attr.is_empty() {
        Span::call_site()
    } else {
        attr.span()
    };
    let mut def = ApiDef {
        name: None,
        flavor: None,
        max_timeout: None,
        stages: Vec::new(),
        throttle: None,
        validator: None,
        validation_errors: None,
        models: Vec::new(),
        usage_plans: Vec::new(),
        kdl: None,
        authorizers: Vec::new(),
        api_key_source: None,
        cors: None,
        span,
    };
    let opts = match options::parse(attr) {
        Ok(o) => o,
        Err(e) => {
            errors.push(e);
            return def;
        }
    };
    for opt in &opts {
        let Opt::Named { name, value } = opt else {
            errors.at(
                opt.span(),
                "expected an option such as `name = \"petstore\"`",
            );
            continue;
        };
        match name.to_string().as_str() {
            "name" => def.name = options::string(name, value, errors),
            "kdl" => def.kdl = options::string(name, value, errors),
            "flavor" => def.flavor = options::string(name, value, errors),
            "max_integration_timeout_ms" => def.max_timeout = options::integer(name, value, errors),
            "validator" => def.validator = options::string(name, value, errors),
            "validation_errors" => def.validation_errors = options::string(name, value, errors),
            "throttle" => def.throttle = read_throttle(name, value, errors),
            "stage" => {
                if let Some(s) = read_stage(name, value, errors) {
                    def.stages.push(s);
                }
            }
            "usage_plan" => {
                if let Some(p) = read_plan(name, value, errors) {
                    def.usage_plans.push(p);
                }
            }
            "authorizer" => {
                if let Some(a) = read_authorizer(name, value, errors) {
                    def.authorizers.push(a);
                }
            }
            "api_key_source" => def.api_key_source = options::string(name, value, errors),
            "cors" => def.cors = read_cors(name, value, errors),
            "models" => {
                for item in
                    options::list(name, value, "models(NewPet, Tag)", errors).unwrap_or_default()
                {
                    match item {
                        Opt::Path(p) => def.models.push(p.clone()),
                        Opt::Named {
                            name,
                            value: OptValue::Flag,
                        } => def.models.push(name.clone().into()),
                        other => errors.at(other.span(), "expected a model type: `models(NewPet)`"),
                    }
                }
            }
            _ => errors.unknown(name, "`#[tollgate::api]`", API_OPTIONS),
        }
    }
    def
}

fn read_throttle(name: &Ident, value: &OptValue, errors: &mut Errors) -> Option<ThrottleDef> {
    let items = options::list(name, value, "throttle(rate = 10, burst = 20)", errors)?;
    let (mut rate, mut burst) = (None, None);
    for item in items {
        let Opt::Named { name: n, value: v } = item else {
            errors.at(item.span(), "expected `rate = …` or `burst = …`");
            continue;
        };
        match n.to_string().as_str() {
            "rate" => rate = options::number(n, v, errors),
            "burst" => burst = options::integer(n, v, errors),
            _ => errors.unknown(n, "`throttle`", &["rate", "burst"]),
        }
    }
    match (rate, burst) {
        (Some(rate), Some(burst)) => Some(ThrottleDef {
            rate,
            burst,
            span: name.span(),
        }),
        _ => {
            errors.at(
                name.span(),
                "`throttle` needs both `rate` and `burst`: `throttle(rate = 10, burst = 20)`",
            );
            None
        }
    }
}

fn read_stage(name: &Ident, value: &OptValue, errors: &mut Errors) -> Option<StageDef> {
    if let OptValue::Lit { .. } = value {
        let n = options::string(name, value, errors)?;
        return Some(StageDef {
            span: n.span(),
            name: n,
            variables: Vec::new(),
            throttle: None,
            cache: None,
        });
    }
    let items = options::list(name, value, "stage(name = \"prod\")", errors)?;
    let mut stage_name = None;
    let mut variables = Vec::new();
    let (mut throttle, mut cache) = (None, None);
    for item in items {
        let Opt::Named { name: n, value: v } = item else {
            errors.at(item.span(), "expected an option such as `name = \"prod\"`");
            continue;
        };
        match n.to_string().as_str() {
            "name" => stage_name = options::string(n, v, errors),
            "throttle" => throttle = read_throttle(n, v, errors),
            "cache" => cache = read_stage_cache(n, v, errors),
            "variables" => {
                for var in options::list(n, v, "variables(upstream = \"http://…\")", errors)
                    .unwrap_or_default()
                {
                    match var {
                        Opt::Named {
                            name: vn,
                            value: vv,
                        } => {
                            if let Some(s) = options::string(vn, vv, errors) {
                                variables.push((vn.clone(), s));
                            }
                        }
                        other => errors.at(other.span(), "expected `NAME = \"value\"`"),
                    }
                }
            }
            _ => errors.unknown(n, "`stage`", &["name", "variables", "throttle", "cache"]),
        }
    }
    let Some(stage_name) = stage_name else {
        errors.at(
            name.span(),
            "`stage` needs a name: `stage(name = \"prod\")`",
        );
        return None;
    };
    Some(StageDef {
        name: stage_name,
        variables,
        throttle,
        cache,
        span: name.span(),
    })
}

fn read_stage_cache(name: &Ident, value: &OptValue, errors: &mut Errors) -> Option<StageCacheDef> {
    let items = options::list(
        name,
        value,
        "cache(capacity = \"64MiB\", ttl = 300)",
        errors,
    )?;
    let (mut capacity, mut ttl) = (None, None);
    for item in items {
        let Opt::Named { name: n, value: v } = item else {
            errors.at(item.span(), "expected `capacity = …` or `ttl = …`");
            continue;
        };
        match n.to_string().as_str() {
            "capacity" => {
                capacity = match v {
                    OptValue::Lit {
                        lit: syn::Lit::Str(s),
                        negative: false,
                    } => match byte_size(&s.value()) {
                        Some(b) => Some((b, s.span())),
                        None => {
                            errors.at(
                                s.span(),
                                "not a size: write bytes or a number with a unit, e.g. \"64MiB\"",
                            );
                            None
                        }
                    },
                    _ => options::integer(n, v, errors),
                }
            }
            "ttl" => ttl = options::integer(n, v, errors),
            _ => errors.unknown(n, "a stage's `cache`", &["capacity", "ttl"]),
        }
    }
    let Some(capacity) = capacity else {
        errors.at(
            name.span(),
            "a stage's `cache` needs `capacity`: `cache(capacity = \"64MiB\")`",
        );
        return None;
    };
    Some(StageCacheDef {
        capacity,
        ttl,
        span: name.span(),
    })
}

/// `"64MiB"`, `"0.5GB"`, `"1048576"` → bytes.
fn byte_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match unit.trim() {
        "" | "B" => 1.0,
        "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some((n * mult) as u64)
}

fn read_plan(name: &Ident, value: &OptValue, errors: &mut Errors) -> Option<PlanDef> {
    let items = options::list(
        name,
        value,
        "usage_plan(name = \"basic\", stages(\"prod\"))",
        errors,
    )?;
    let mut plan_name = None;
    let (mut throttle, mut quota, mut stages) = (None, None, Vec::new());
    for item in items {
        let Opt::Named { name: n, value: v } = item else {
            errors.at(item.span(), "expected an option such as `name = \"basic\"`");
            continue;
        };
        match n.to_string().as_str() {
            "name" => plan_name = options::string(n, v, errors),
            "throttle" => throttle = read_throttle(n, v, errors),
            "quota" => quota = read_quota(n, v, errors),
            "stages" => {
                for s in
                    options::list(n, v, "stages(\"prod\", \"dev\")", errors).unwrap_or_default()
                {
                    match s {
                        Opt::Str(s) => stages.push(s.clone()),
                        other => errors.at(other.span(), "expected a stage name: `\"prod\"`"),
                    }
                }
            }
            _ => errors.unknown(n, "`usage_plan`", &["name", "throttle", "quota", "stages"]),
        }
    }
    let Some(plan_name) = plan_name else {
        errors.at(
            name.span(),
            "`usage_plan` needs a name: `usage_plan(name = \"basic\")`",
        );
        return None;
    };
    Some(PlanDef {
        name: plan_name,
        throttle,
        quota,
        stages,
        span: name.span(),
    })
}

fn read_quota(name: &Ident, value: &OptValue, errors: &mut Errors) -> Option<QuotaDef> {
    let items = options::list(name, value, "quota(limit = 1000, period = \"day\")", errors)?;
    let (mut limit, mut period, mut offset) = (None, None, None);
    for item in items {
        let Opt::Named { name: n, value: v } = item else {
            errors.at(item.span(), "expected `limit`, `period` or `offset`");
            continue;
        };
        match n.to_string().as_str() {
            "limit" => limit = options::integer(n, v, errors),
            "period" => period = options::string(n, v, errors),
            "offset" => offset = options::integer(n, v, errors),
            _ => errors.unknown(n, "`quota`", &["limit", "period", "offset"]),
        }
    }
    match (limit, period) {
        (Some(limit), Some(period)) => Some(QuotaDef {
            limit,
            period,
            offset,
            span: name.span(),
        }),
        _ => {
            errors.at(
                name.span(),
                "`quota` needs `limit` and `period`: `quota(limit = 1000, period = \"day\")`",
            );
            None
        }
    }
}

/// Reads the handlers of the impl block and removes the attributes only the macro understands,
/// so the block compiles as plain Rust afterwards.
pub(crate) fn read_handlers(item: &mut ItemImpl, errors: &mut Errors) -> Vec<HandlerDef> {
    let mut out = Vec::new();
    for impl_item in &mut item.items {
        let ImplItem::Fn(f) = impl_item else { continue };
        let mut route: Option<(Method, Span, TokenStream)> = None;
        let mut kept = Vec::new();
        for attr in std::mem::take(&mut f.attrs) {
            let found = route_attr(&attr);
            let Some((method, span)) = found else {
                kept.push(attr);
                continue;
            };
            if let Some((first, _, _)) = &route {
                errors.at(
                    span,
                    format!(
                        "`{}` already serves `{first}`; one handler method serves one route\nhelp: write a second method for `{method}` that calls this one, or use `#[any(…)]` for every method",
                        f.sig.ident
                    ),
                );
                continue;
            }
            let tokens = match &attr.meta {
                syn::Meta::List(l) => l.tokens.clone(),
                _ => TokenStream::new(),
            };
            route = Some((method, span, tokens));
        }
        f.attrs = kept;
        let args = read_args(&mut f.sig, route.is_some(), errors);
        let Some((method, span, tokens)) = route else {
            continue;
        };
        if f.sig.asyncness.is_none() {
            errors.at(
                f.sig.fn_token.span,
                format!("handler `{}` must be an `async fn`", f.sig.ident),
            );
        }
        if !matches!(f.sig.inputs.first(), Some(FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_none())
        {
            errors.at(
                f.sig.ident.span(),
                format!("handler `{}` must take `&self`", f.sig.ident),
            );
        }
        let (path, options) = read_route(method, span, tokens, errors);
        let Some(path) = path else { continue };
        out.push(HandlerDef {
            ident: f.sig.ident.clone(),
            method: (method, span),
            path,
            options,
            args,
            ret: return_span(&f.sig),
        });
    }
    out
}

/// Reads a method's parameters after `&self` and removes the parameter attributes (`#[query]`,
/// `#[header]`, `#[body]`) from the signature. Returns nothing unless `record`.
pub(crate) fn read_args(
    sig: &mut syn::Signature,
    record: bool,
    errors: &mut Errors,
) -> Vec<ArgDef> {
    let mut args = Vec::new();
    for input in &mut sig.inputs {
        let FnArg::Typed(pt) = input else { continue };
        let mut kind = ArgKind::Plain;
        let mut kept = Vec::new();
        for attr in std::mem::take(&mut pt.attrs) {
            let name = attr.path().get_ident().map(Ident::to_string);
            match name.as_deref() {
                Some("query") => {
                    kind = match &attr.meta {
                        syn::Meta::Path(_) => ArgKind::Query(match &*pt.pat {
                            Pat::Ident(i) => LitStr::new(&i.ident.unraw_string(), i.ident.span()),
                            other => LitStr::new("_", other.span()),
                        }),
                        _ => match attr.parse_args::<LitStr>() {
                            Ok(s) => ArgKind::Query(s),
                            Err(e) => {
                                errors.push(e);
                                ArgKind::Plain
                            }
                        },
                    }
                }
                Some("header") => {
                    kind = match attr.parse_args::<LitStr>() {
                        Ok(s) => ArgKind::Header(s),
                        Err(_) => {
                            errors.at(
                                attr.path().span(),
                                "`#[header]` names the header: `#[header(\"x-tenant\")]`",
                            );
                            ArgKind::Plain
                        }
                    }
                }
                Some("body") => kind = ArgKind::Body,
                _ => kept.push(attr),
            }
        }
        pt.attrs = kept;
        if !record {
            continue;
        }
        let ident = match &*pt.pat {
            Pat::Ident(i) => i.ident.clone(),
            other => {
                errors.at(other.span(), "handler parameters must be plain names");
                continue;
            }
        };
        if matches!(kind, ArgKind::Plain) {
            if let Some(by_ref) = named_type(&pt.ty, "Request") {
                kind = ArgKind::Request { by_ref };
            } else if let Some(by_ref) = named_type(&pt.ty, "Context") {
                kind = ArgKind::Context { by_ref };
            }
        }
        args.push(ArgDef {
            ident,
            ty: (*pt.ty).clone(),
            kind,
        });
    }
    args
}

/// The span of a signature's return type (its name when it returns `()`).
pub(crate) fn return_span(sig: &syn::Signature) -> Span {
    match &sig.output {
        syn::ReturnType::Type(_, ty) => ty.span(),
        syn::ReturnType::Default => sig.ident.span(),
    }
}

trait Unraw {
    fn unraw_string(&self) -> String;
}

impl Unraw for Ident {
    fn unraw_string(&self) -> String {
        let s = self.to_string();
        s.strip_prefix("r#").map(str::to_owned).unwrap_or(s)
    }
}

/// `Some(by_ref)` when `ty` is `NAME` / `tollgate::NAME` or a reference to it.
fn named_type(ty: &Type, name: &str) -> Option<bool> {
    let (ty, by_ref) = match ty {
        Type::Reference(r) => (&*r.elem, true),
        other => (other, false),
    };
    match ty {
        Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .last()
            .filter(|s| s.ident == name && s.arguments.is_empty())
            .map(|_| by_ref),
        _ => None,
    }
}

fn read_route(
    method: Method,
    span: Span,
    tokens: TokenStream,
    errors: &mut Errors,
) -> (Option<LitStr>, RouteOpts) {
    let mut opts = RouteOpts::default();
    let attr = method.as_str().to_ascii_lowercase();
    let items = match options::parse(tokens) {
        Ok(i) => i,
        Err(e) => {
            errors.push(e);
            return (None, opts);
        }
    };
    let mut items = items.into_iter();
    let path = match items.next() {
        Some(Opt::Str(s)) => Some(s),
        other => {
            errors.at(
                other.as_ref().map(Opt::span).unwrap_or(span),
                format!("`#[{attr}]` starts with the resource path: `#[{attr}(\"/pets/{{id}}\")]`"),
            );
            None
        }
    };
    for item in items {
        let Opt::Named { name, value } = &item else {
            errors.at(item.span(), "expected an option such as `api_key_required`");
            continue;
        };
        match name.to_string().as_str() {
            "api_key_required" => {
                if let Some((true, s)) = options::boolean(name, value, errors) {
                    opts.api_key_required = Some(s);
                }
            }
            "allow_body" => {
                opts.allow_body = options::boolean(name, value, errors).is_some_and(|(b, _)| b)
            }
            "throttle" => opts.throttle = read_throttle(name, value, errors),
            "validator" => opts.validator = options::string(name, value, errors),
            "request_model" => opts.request_model = options::string(name, value, errors),
            "auth" => opts.auth = options::string(name, value, errors),
            "scopes" => opts.scopes = options::string(name, value, errors),
            "cors" => opts.cors = read_cors(name, value, errors),
            "cache" => opts.cache = read_method_cache(name, value, errors),
            _ => errors.unknown(name, &format!("`#[{attr}]`"), ROUTE_OPTIONS),
        }
    }
    (path, opts)
}

fn read_method_cache(
    name: &Ident,
    value: &OptValue,
    errors: &mut Errors,
) -> Option<MethodCacheDef> {
    let mut def = MethodCacheDef {
        enabled: None,
        ttl: None,
        keys: Vec::new(),
        span: name.span(),
    };
    if let OptValue::Flag = value {
        return Some(def);
    }
    for item in options::list(
        name,
        value,
        "cache(ttl = 60, key = \"querystring.type\")",
        errors,
    )? {
        let Opt::Named { name: n, value: v } = item else {
            errors.at(item.span(), "expected `ttl`, `enabled` or `key`");
            continue;
        };
        match n.to_string().as_str() {
            "ttl" => def.ttl = options::integer(n, v, errors),
            "enabled" => def.enabled = options::boolean(n, v, errors),
            "key" => {
                if let Some(k) = options::string(n, v, errors) {
                    def.keys.push(k);
                }
            }
            _ => errors.unknown(n, "a route's `cache`", &["ttl", "enabled", "key"]),
        }
    }
    Some(def)
}
