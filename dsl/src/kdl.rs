//! The KDL front end: `KdlDocument → ir::Api`.
//!
//! It only translates. Every node, argument and property it does not know is an error with a
//! span; it keeps going after an error so one run reports every problem. Semantic rules (unique
//! routes, known stage variables, ranges) live in [`crate::check`]. The language is described in
//! `docs/dsl.md`.

use crate::diagnostics::Sink;
use crate::ir::{
    Api, ApiKeySource, CacheKey, Cors, DEFAULT_CACHE_TTL, Flavor, Header, Integration, Method,
    MethodCache, MethodThrottle, Model, ModelOrigin, ParamLocation, ParamType, Passthrough,
    PathTemplate, PlanStage, Quota, QuotaPeriod, RequestModel, RequestParameter, RequestSpec,
    Route, Segment, SegmentKind, Span, Spanned, Stage, StageCache, StageVariable,
    UnauthorizedCacheControl, UriTemplate, UsagePlan, Validator, is_param_name,
};
use ::kdl::{KdlDocument, KdlEntry, KdlNode, KdlValue};
use miette::{Diagnostic, MietteDiagnostic, SourceSpan};
use std::path::Path;

mod auth;
mod mapping;
pub use auth::identity_source;
pub use mapping::GATEWAY_RESPONSE_TYPES;
use mapping::Side;

/// Parses KDL text into a document, turning parse errors into diagnostics.
pub fn parse(text: &str, sink: &mut Sink) -> Option<KdlDocument> {
    match KdlDocument::parse_v2(text) {
        Ok(doc) => Some(doc),
        Err(err) => {
            for d in &err.diagnostics {
                let mut m = MietteDiagnostic::new(
                    d.message
                        .clone()
                        .unwrap_or_else(|| "invalid KDL syntax".to_owned()),
                )
                .with_code("tollgate::kdl::syntax")
                .with_label(miette::LabeledSpan::new_with_span(
                    Some(d.label.clone().unwrap_or_else(|| "here".to_owned())),
                    d.span,
                ));
                let help = d.help().map(|h| h.to_string()).unwrap_or_else(|| {
                    "tollgate files are KDL 2.0 documents: see https://kdl.dev and docs/dsl.md"
                        .to_owned()
                });
                m = m.with_help(help);
                sink.push_raw(m);
            }
            None
        }
    }
}

/// Reads the single `api` node of a document into the IR. Returns `None` when the document has
/// no usable `api` node; other errors are recorded in `sink` and reading goes on. Schema files
/// are read relative to `base_dir`.
pub fn read(doc: &KdlDocument, base_dir: &Path, sink: &mut Sink) -> Option<Api> {
    let mut api = None;
    for node in doc.nodes() {
        match node.name().value() {
            "api" if api.is_none() => api = read_api(node, base_dir, sink),
            "api" => sink.error(
                "kdl::duplicate-api",
                "a file describes one API; this is a second `api` node",
                name_span(node),
                "second `api`",
                "move this API into a file of its own and compile each file",
            ),
            other => unknown_node(sink, node, other, "the top level", &["api"]),
        }
    }
    if api.is_none() && !sink.has_errors() {
        sink.error(
            "kdl::missing-api",
            "no `api` node in this file",
            to_span(doc.span()).sub(0, 0),
            "expected `api NAME { … }`",
            "start the file with `api petstore flavor=rest { stage prod; resource \"/pets\" { … } }`",
        );
    }
    api
}

fn read_api(node: &KdlNode, base_dir: &Path, sink: &mut Sink) -> Option<Api> {
    let mut n = NodeReader::new(node);
    let name = match n.arg(0) {
        Some(e) => string(e, sink, "the API name"),
        None => {
            sink.error(
                "kdl::missing-argument",
                "`api` needs a name",
                name_span(node),
                "name missing",
                "write `api petstore { … }`; the name becomes the generated file `petstore.rs`",
            );
            None
        }
    };
    let flavor = match n.prop("flavor") {
        None => Flavor::Rest,
        Some(e) => match string(e, sink, "the flavor") {
            Some(s) if s.value == "rest" => Flavor::Rest,
            Some(s) if s.value == "http" => Flavor::Http,
            Some(s) => {
                sink.error(
                    "kdl::bad-value",
                    format!("unknown flavor `{}`", s.value),
                    s.span,
                    "not a flavor",
                    "use `flavor=rest` (API Gateway REST API answers) or `flavor=http` (HTTP API answers)",
                );
                Flavor::Rest
            }
            None => Flavor::Rest,
        },
    };
    let max_timeout = match n.prop("max-integration-timeout-ms") {
        Some(e) => integer(e, sink, "max-integration-timeout-ms")
            .map(|v| Spanned::new(v, to_span(e.span()))),
        None => None,
    }
    .unwrap_or_else(|| Spanned::new(flavor.default_timeout_ms(), name_span(node)));
    n.finish(sink, "api");

    let mut api = Api {
        name: name.unwrap_or_else(|| Spanned::new("api".to_owned(), name_span(node))),
        flavor,
        max_integration_timeout_ms: max_timeout,
        stages: Vec::new(),
        models: Vec::new(),
        validator: None,
        detailed_validation_errors: false,
        routes: Vec::new(),
        gateway_responses: Vec::new(),
        throttle: None,
        api_key_source: None,
        usage_plans: Vec::new(),
        authorizers: Vec::new(),
        resource_policy: None,
        cors: None,
        span: to_span(node.span()),
    };

    let mut seen_validation_errors = false;
    for child in children(node) {
        match child.name().value() {
            "stage" => {
                if let Some(stage) = read_stage(child, sink) {
                    api.stages.push(stage);
                }
            }
            "model" => {
                if let Some(model) = read_model(child, base_dir, sink) {
                    api.models.push(model);
                }
            }
            "validator" if api.validator.is_none() => api.validator = read_validator(child, sink),
            "validator" => duplicate(sink, child, "`api` has one API-wide `validator`"),
            "validation-errors" if !seen_validation_errors => {
                seen_validation_errors = true;
                if let Some(detailed) = read_validation_errors(child, sink) {
                    api.detailed_validation_errors = detailed;
                }
            }
            "validation-errors" => duplicate(sink, child, "`api` has one `validation-errors`"),
            "resource" => read_resource(
                child,
                &PathTemplate { segments: vec![] },
                None,
                &mut api.routes,
                base_dir,
                sink,
            ),
            "authorizer" => api.authorizers.extend(auth::read_authorizer(child, sink)),
            "resource-policy" if api.resource_policy.is_none() => {
                api.resource_policy = auth::read_resource_policy(child, sink);
            }
            "resource-policy" => duplicate(sink, child, "`api` has one `resource-policy`"),
            "cors" if api.cors.is_none() => {
                api.cors = auth::read_cors(child, sink);
                if let Some(c) = api.cors.as_ref().filter(|c| c.disabled) {
                    sink.error(
                        "kdl::bad-value",
                        "`cors #false` is for resources",
                        c.span,
                        "nothing to turn off",
                        "remove the node: an API without `cors` answers no preflights",
                    );
                }
            }
            "cors" => duplicate(sink, child, "`api` has one `cors`"),
            "throttle" if api.throttle.is_none() => {
                let mut n = NodeReader::new(child);
                api.throttle = read_throttle_props(child, &mut n, sink);
                n.finish(sink, "throttle");
                no_children(child, sink);
            }
            "throttle" => duplicate(sink, child, "`api` has one account-level `throttle`"),
            "api-key-source" if api.api_key_source.is_none() => {
                api.api_key_source = read_api_key_source(child, sink);
            }
            "api-key-source" => duplicate(sink, child, "`api` has one `api-key-source`"),
            "usage-plan" => api.usage_plans.extend(read_usage_plan(child, sink)),
            "gateway-response" => {
                api.gateway_responses
                    .extend(mapping::read_gateway_response(child, base_dir, sink));
            }
            other => unknown_node(
                sink,
                child,
                other,
                "`api`",
                &[
                    "stage",
                    "model",
                    "validator",
                    "validation-errors",
                    "resource",
                    "gateway-response",
                    "throttle",
                    "usage-plan",
                    "api-key-source",
                    "authorizer",
                    "resource-policy",
                    "cors",
                ],
            ),
        }
    }
    for (name, schema) in default_models() {
        api.models.push(Model {
            name: Spanned::new(name.to_owned(), api.name.span),
            schema,
            origin: ModelOrigin::Default,
            span: api.name.span,
        });
    }
    Some(api)
}

fn read_stage(node: &KdlNode, sink: &mut Sink) -> Option<Stage> {
    let mut n = NodeReader::new(node);
    let name = match n.arg(0) {
        Some(e) => string(e, sink, "the stage name"),
        None => {
            sink.error(
                "kdl::missing-argument",
                "`stage` needs a name",
                name_span(node),
                "name missing",
                "write `stage prod { variables { upstream \"http://127.0.0.1:9000\" } }`",
            );
            None
        }
    };
    n.finish(sink, "stage");
    let mut variables = Vec::new();
    let mut throttle = None;
    let mut method_throttles = Vec::new();
    let mut cache = None;
    for child in children(node) {
        match child.name().value() {
            "cache" if cache.is_none() => cache = read_stage_cache(child, sink),
            "cache" => duplicate(sink, child, "a stage has one `cache`"),
            "variables" => {
                NodeReader::new(child).finish(sink, "variables");
                for var in children(child) {
                    let mut v = NodeReader::new(var);
                    let value = match v.arg(0) {
                        Some(e) => string(e, sink, "a stage variable value"),
                        None => {
                            sink.error(
                                "kdl::missing-argument",
                                format!("stage variable `{}` has no value", var.name().value()),
                                name_span(var),
                                "value missing",
                                format!("write `{} \"value\"`", var.name().value()),
                            );
                            None
                        }
                    };
                    v.finish(sink, "a stage variable");
                    no_children(var, sink);
                    if let Some(value) = value {
                        variables.push(StageVariable {
                            name: Spanned::new(var.name().value().to_owned(), name_span(var)),
                            value,
                        });
                    }
                }
            }
            "throttle" => match read_stage_throttle(child, sink) {
                StageThrottle::Default(_) if throttle.is_some() => {
                    duplicate(
                        sink,
                        child,
                        "a stage has one default `throttle`; per-method ones name a path and a method",
                    );
                }
                StageThrottle::Default(t) => throttle = t,
                StageThrottle::Method(m) => method_throttles.extend(m),
            },
            other => unknown_node(
                sink,
                child,
                other,
                "`stage`",
                &["variables", "throttle", "cache"],
            ),
        }
    }
    Some(Stage {
        name: name?,
        variables,
        throttle,
        method_throttles,
        cache,
        span: to_span(node.span()),
    })
}

fn read_resource(
    node: &KdlNode,
    parent: &PathTemplate,
    inherited_cors: Option<&Cors>,
    routes: &mut Vec<Route>,
    base_dir: &Path,
    sink: &mut Sink,
) {
    let mut n = NodeReader::new(node);
    let own = match n.arg(0) {
        Some(e) => string(e, sink, "the resource path").and_then(|p| parse_path(&p, sink)),
        None => {
            sink.error(
                "kdl::missing-argument",
                "`resource` needs a path",
                name_span(node),
                "path missing",
                "write `resource \"/pets\" { GET { … } }`; nested resources append to the parent's path",
            );
            None
        }
    };
    n.finish(sink, "resource");
    let Some(mut own) = own else {
        return;
    };

    // `param` declarations type this resource's own parameters; apply them before methods.
    for child in children(node) {
        if child.name().value() != "param" {
            continue;
        }
        let mut p = NodeReader::new(child);
        let name = p.arg(0).and_then(|e| string(e, sink, "the parameter name"));
        let ty = p.prop("type").and_then(|e| {
            let s = string(e, sink, "the parameter type")?;
            let ty = ParamType::parse(&s.value);
            if ty.is_none() {
                let names: Vec<_> = ParamType::ALL.iter().map(|t| t.as_str()).collect();
                sink.error(
                    "kdl::bad-value",
                    format!("unknown parameter type `{}`", s.value),
                    s.span,
                    "not a parameter type",
                    format!("use one of: {}", names.join(", ")),
                );
            }
            ty
        });
        p.finish(sink, "param");
        no_children(child, sink);
        let Some(name) = name else {
            sink.error(
                "kdl::missing-argument",
                "`param` needs the name of a path parameter",
                name_span(child),
                "name missing",
                "write `param petId type=u64`",
            );
            continue;
        };
        let target = own.iter_mut().find(|s| {
            matches!(&s.kind, SegmentKind::Param { name: n, .. } | SegmentKind::Greedy { name: n } if *n == name.value)
        });
        match target {
            Some(Segment {
                kind: SegmentKind::Param { ty: slot, .. },
                ..
            }) => {
                if let Some(ty) = ty {
                    *slot = ty;
                }
            }
            Some(_) => sink.error(
                "kdl::greedy-param-type",
                format!("greedy parameter `{}` is always a string", name.value),
                name.span,
                "cannot be typed",
                "remove this `param` node; `{proxy+}` captures the rest of the path as text",
            ),
            None => sink.error(
                "kdl::unknown-param",
                format!("`{}` is not a path parameter of this resource", name.value),
                name.span,
                "not in this resource's path",
                "declare `param` inside the resource whose path has `{name}`",
            ),
        }
    }

    let mut path = parent.clone();
    path.segments.append(&mut own);

    // A resource's `cors` applies to its methods and nested resources.
    let mut own_cors = None;
    for child in children(node) {
        if child.name().value() != "cors" {
            continue;
        }
        if own_cors.is_some() {
            duplicate(sink, child, "a resource has one `cors`");
        } else {
            own_cors = auth::read_cors(child, sink);
        }
    }
    let cors = own_cors.as_ref().or(inherited_cors);

    for child in children(node) {
        let name = child.name().value();
        if name == "param" || name == "cors" {
            continue;
        }
        if name == "resource" {
            read_resource(child, &path, cors, routes, base_dir, sink);
            continue;
        }
        match Method::parse(name) {
            Some(method) => {
                if let Some(mut route) = read_method(child, method, &path, base_dir, sink) {
                    route.cors = cors.cloned();
                    routes.push(route);
                }
            }
            None => {
                let mut expected: Vec<&str> = Method::ALL.iter().map(|m| m.as_str()).collect();
                expected.extend(["resource", "param", "cors"]);
                unknown_node(sink, child, name, "`resource`", &expected)
            }
        }
    }
}

fn read_method(
    node: &KdlNode,
    method: Method,
    path: &PathTemplate,
    base_dir: &Path,
    sink: &mut Sink,
) -> Option<Route> {
    NodeReader::new(node).finish(sink, method.as_str());
    let mut integration = None;
    let mut request = RequestSpec::default();
    let mut api_key_required = None;
    let mut cache = None;
    let mut route_auth = None;
    for child in children(node) {
        match child.name().value() {
            "auth" if route_auth.is_none() => route_auth = auth::read_route_auth(child, sink),
            "auth" => duplicate(sink, child, "a method has one `auth`"),
            "cache" if cache.is_none() => cache = read_method_cache(child, sink),
            "cache" => duplicate(sink, child, "a method has one `cache`"),
            "api-key-required" if api_key_required.is_none() => {
                NodeReader::new(child).finish(sink, "api-key-required");
                no_children(child, sink);
                api_key_required = Some(name_span(child));
            }
            "api-key-required" => duplicate(sink, child, "`api-key-required` is written once"),
            "integration" if integration.is_none() => {
                integration = Some(read_integration(child, base_dir, sink))
            }
            "integration" => sink.error(
                "kdl::duplicate-integration",
                "a method has exactly one integration",
                name_span(child),
                "second integration",
                "remove one of the `integration` nodes",
            ),
            "request-model" => {
                if let Some(m) = read_request_model(child, sink) {
                    request.models.push(m);
                }
            }
            "request-parameter" => {
                if let Some(p) = read_request_parameter(child, sink) {
                    request.parameters.push(p);
                }
            }
            "validator" if request.validator.is_none() => {
                request.validator = read_validator(child, sink)
            }
            "validator" => duplicate(sink, child, "a method has one `validator`"),
            other => unknown_node(
                sink,
                child,
                other,
                &format!("`{}`", method.as_str()),
                &[
                    "integration",
                    "request-model",
                    "request-parameter",
                    "validator",
                    "api-key-required",
                    "cache",
                    "auth",
                ],
            ),
        }
    }
    let Some(integration) = integration else {
        sink.error(
            "kdl::missing-integration",
            format!("`{method} {path}` has no integration"),
            name_span(node),
            "no `integration` inside",
            "add one: `integration handler name=my_fn`, `integration http-proxy uri=\"http://…\"` or `integration mock status=200`",
        );
        return None;
    };
    Some(Route {
        method: Spanned::new(method, name_span(node)),
        path: path.clone(),
        integration: integration?,
        request,
        api_key_required,
        cache,
        auth: route_auth,
        cors: None,
        span: to_span(node.span()),
    })
}

fn read_request_model(node: &KdlNode, sink: &mut Sink) -> Option<RequestModel> {
    let mut n = NodeReader::new(node);
    let model = n.arg(0).and_then(|e| string(e, sink, "the model name"));
    let content_type = n
        .prop("content-type")
        .and_then(|e| string(e, sink, "the content type"));
    n.finish(sink, "request-model");
    no_children(node, sink);
    let Some(model) = model else {
        sink.error(
            "kdl::missing-argument",
            "`request-model` needs a model name",
            name_span(node),
            "model missing",
            "write `request-model Pet` (for application/json) or `request-model Pet content-type=\"$default\"`",
        );
        return None;
    };
    let content_type =
        content_type.unwrap_or_else(|| Spanned::new("application/json".to_owned(), model.span));
    Some(RequestModel {
        content_type,
        model,
    })
}

fn read_request_parameter(node: &KdlNode, sink: &mut Sink) -> Option<RequestParameter> {
    let mut n = NodeReader::new(node);
    let key = n.arg(0).and_then(|e| string(e, sink, "the parameter"));
    let required = n.prop("required").and_then(|e| match e.value() {
        KdlValue::Bool(b) => Some(*b),
        other => {
            sink.error(
                "kdl::bad-type",
                format!("`required` must be #true or #false, found `{other}`"),
                value_span(e),
                "expected a boolean",
                "write `required=#true`",
            );
            None
        }
    });
    n.finish(sink, "request-parameter");
    no_children(node, sink);
    let Some(key) = key else {
        sink.error(
            "kdl::missing-argument",
            "`request-parameter` needs a parameter",
            name_span(node),
            "parameter missing",
            "write `request-parameter \"querystring.page\" required=#true`",
        );
        return None;
    };
    let (location, name) = parameter_ref(&key, sink)?;
    Some(RequestParameter {
        location,
        name,
        required: required.unwrap_or(false),
        span: key.span,
    })
}

/// A request parameter written `LOCATION.NAME` (a `method.request.` prefix is allowed).
fn parameter_ref(key: &Spanned<String>, sink: &mut Sink) -> Option<(ParamLocation, String)> {
    let bare = key
        .value
        .strip_prefix("method.request.")
        .unwrap_or(&key.value);
    let parsed = bare.split_once('.').and_then(|(loc, name)| {
        let location = match loc {
            "header" => ParamLocation::Header,
            "path" => ParamLocation::Path,
            "querystring" => ParamLocation::Querystring,
            _ => return None,
        };
        (!name.is_empty()).then(|| (location, name.to_owned()))
    });
    if parsed.is_none() {
        sink.error(
            "kdl::bad-parameter",
            format!("`{}` is not a request parameter", key.value),
            key.span,
            "expected LOCATION.NAME",
            "write `header.NAME`, `path.NAME` or `querystring.NAME` (a `method.request.` prefix is allowed)",
        );
    }
    parsed
}

/// A boolean property (`#true` / `#false`).
fn boolean(e: &KdlEntry, sink: &mut Sink, what: &str) -> Option<Spanned<bool>> {
    match e.value() {
        KdlValue::Bool(b) => Some(Spanned::new(*b, value_span(e))),
        other => {
            sink.error(
                "kdl::bad-type",
                format!("`{what}` must be #true or #false, found `{other}`"),
                value_span(e),
                "expected a boolean",
                format!("write `{what}=#true` or `{what}=#false`"),
            );
            None
        }
    }
}

/// `unauthorized=fail-with-403|succeed-with-response-header|succeed-without-response-header`.
fn unauthorized_strategy(
    e: &KdlEntry,
    sink: &mut Sink,
) -> Option<Spanned<UnauthorizedCacheControl>> {
    let s = string(e, sink, "the unauthorized strategy")?;
    match UnauthorizedCacheControl::parse(&s.value) {
        Some(u) => Some(Spanned::new(u, s.span)),
        None => {
            let names: Vec<&str> = UnauthorizedCacheControl::ALL
                .iter()
                .map(|u| u.as_str())
                .collect();
            sink.error(
                "kdl::bad-value",
                format!("unknown strategy `{}`", s.value),
                s.span,
                "not a strategy",
                format!(
                    "use one of: {} (API Gateway's FAIL_WITH_403, SUCCEED_WITH_RESPONSE_HEADER, SUCCEED_WITHOUT_RESPONSE_HEADER)",
                    names.join(", ")
                ),
            );
            None
        }
    }
}

/// A size in bytes: an integer, or a string with a unit (`"64MiB"`, `"512KB"`, `"1.6GB"`).
fn byte_size(e: &KdlEntry, sink: &mut Sink, what: &str) -> Option<Spanned<u64>> {
    let span = value_span(e);
    let bad = |sink: &mut Sink| {
        sink.error(
            "kdl::bad-value",
            format!("`{what}` is not a size"),
            span,
            "expected bytes",
            "write a number of bytes (`capacity=1048576`) or a string with a unit: `\"64MiB\"`, `\"512KB\"`, `\"0.5GB\"` (KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024)",
        );
    };
    match e.value() {
        KdlValue::Integer(i) if *i >= 0 && *i <= i128::from(u64::MAX) => {
            Some(Spanned::new(*i as u64, span))
        }
        KdlValue::String(s) => {
            let t = s.trim();
            let split = t
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(t.len());
            let (number, unit) = t.split_at(split);
            let factor: f64 = match unit.trim() {
                "" | "B" => 1.0,
                "KB" => 1e3,
                "MB" => 1e6,
                "GB" => 1e9,
                "KiB" => 1024.0,
                "MiB" => 1024.0 * 1024.0,
                "GiB" => 1024.0 * 1024.0 * 1024.0,
                _ => {
                    bad(sink);
                    return None;
                }
            };
            match number.parse::<f64>() {
                Ok(n) if n.is_finite() && n >= 0.0 && n * factor < u64::MAX as f64 => {
                    Some(Spanned::new((n * factor).round() as u64, span))
                }
                _ => {
                    bad(sink);
                    None
                }
            }
        }
        _ => {
            bad(sink);
            None
        }
    }
}

/// `cache capacity=SIZE [ttl=SECONDS] [require-authorization=#true] [unauthorized=…]` in a stage.
fn read_stage_cache(node: &KdlNode, sink: &mut Sink) -> Option<StageCache> {
    let mut n = NodeReader::new(node);
    let capacity = n.prop("capacity");
    let ttl = n.prop("ttl");
    let require = n.prop("require-authorization");
    let unauthorized = n.prop("unauthorized");
    n.finish(sink, "cache");
    no_children(node, sink);
    let Some(capacity) = capacity else {
        sink.error(
            "kdl::missing-property",
            "a stage's `cache` needs `capacity=`",
            name_span(node),
            "capacity missing",
            "write `cache capacity=\"64MiB\" ttl=300` (API Gateway's smallest cache is 0.5 GB)",
        );
        return None;
    };
    // A bad value is reported and its default used, so the checks still see the rest.
    let capacity = byte_size(capacity, sink, "capacity");
    let ttl = ttl.and_then(|e| Some(Spanned::new(integer(e, sink, "ttl")?, value_span(e))));
    let require = require
        .and_then(|e| boolean(e, sink, "require-authorization"))
        .map(|b| b.value);
    let unauthorized = unauthorized.and_then(|e| unauthorized_strategy(e, sink));
    Some(StageCache {
        capacity: capacity?,
        ttl: ttl.unwrap_or_else(|| Spanned::new(DEFAULT_CACHE_TTL, name_span(node))),
        require_authorization: require.unwrap_or(true),
        unauthorized: unauthorized
            .unwrap_or_else(|| Spanned::new(UnauthorizedCacheControl::default(), name_span(node))),
        span: to_span(node.span()),
    })
}

/// `cache [enabled=#true|#false] [ttl=N] [require-authorization=…] [unauthorized=…] { key "LOCATION.NAME" … }`
/// in a method.
fn read_method_cache(node: &KdlNode, sink: &mut Sink) -> Option<MethodCache> {
    let mut n = NodeReader::new(node);
    let enabled = n.prop("enabled").and_then(|e| boolean(e, sink, "enabled"));
    let ttl = n
        .prop("ttl")
        .and_then(|e| Some(Spanned::new(integer(e, sink, "ttl")?, value_span(e))));
    let require = n
        .prop("require-authorization")
        .and_then(|e| boolean(e, sink, "require-authorization"))
        .map(|b| b.value);
    let unauthorized = n
        .prop("unauthorized")
        .and_then(|e| unauthorized_strategy(e, sink));
    n.finish(sink, "cache");
    let mut keys = Vec::new();
    for child in children(node) {
        match child.name().value() {
            "key" => {
                let mut k = NodeReader::new(child);
                let arg = k
                    .arg(0)
                    .and_then(|e| string(e, sink, "the cache key parameter"));
                k.finish(sink, "key");
                no_children(child, sink);
                let Some(arg) = arg else {
                    sink.error(
                        "kdl::missing-argument",
                        "`key` needs a request parameter",
                        name_span(child),
                        "parameter missing",
                        "write `key \"querystring.type\"` (or `header.NAME`, `path.NAME`)",
                    );
                    continue;
                };
                if let Some((location, name)) = parameter_ref(&arg, sink) {
                    keys.push(CacheKey {
                        location,
                        name,
                        span: arg.span,
                    });
                }
            }
            other => unknown_node(sink, child, other, "a method's `cache`", &["key"]),
        }
    }
    Some(MethodCache {
        enabled,
        ttl,
        require_authorization: require,
        unauthorized,
        keys,
        span: to_span(node.span()),
    })
}

fn read_integration(node: &KdlNode, base_dir: &Path, sink: &mut Sink) -> Option<Integration> {
    let mut n = NodeReader::new(node);
    let span = to_span(node.span());
    let Some(kind_entry) = n.arg(0) else {
        sink.error(
            "kdl::missing-argument",
            "`integration` needs a type",
            name_span(node),
            "type missing",
            "write `integration handler name=…`, `integration http-proxy uri=…` or `integration mock status=…`",
        );
        return None;
    };
    let kind = string(kind_entry, sink, "the integration type")?;
    let integration = match kind.value.as_str() {
        "handler" => {
            let name = required_prop(
                &mut n,
                node,
                "name",
                sink,
                "`integration handler name=list_pets`",
            )
            .and_then(|e| string(e, sink, "the handler name"));
            n.finish(sink, "integration handler");
            no_children(node, sink);
            Integration::Handler { name: name?, span }
        }
        "http-proxy" | "http" => {
            let proxy = kind.value == "http-proxy";
            let uri = required_prop(
                &mut n,
                node,
                "uri",
                sink,
                if proxy {
                    "`integration http-proxy uri=\"${stageVariables.upstream}/{proxy}\"`"
                } else {
                    "`integration http uri=\"${stageVariables.upstream}/pets/{id}\"`"
                },
            )
            .and_then(|e| string(e, sink, "the upstream URI"));
            let timeout_ms = n.prop("timeout-ms").and_then(|e| {
                integer(e, sink, "timeout-ms").map(|v| Spanned::new(v, to_span(e.span())))
            });
            let (http_method, passthrough) = if proxy {
                (None, Passthrough::WhenNoMatch)
            } else {
                let m = n
                    .prop("http-method")
                    .and_then(|e| string(e, sink, "the integration's HTTP method"));
                if let Some(m) = &m
                    && Method::parse(&m.value).is_none_or(|m| m == Method::Any)
                {
                    sink.error(
                            "kdl::bad-value",
                            format!("`{}` is not an integration HTTP method", m.value),
                            m.span,
                            "not a method",
                            "use GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS (upper case), or leave it out to keep the request's method",
                        );
                }
                (m, mapping::read_passthrough(n.prop("passthrough"), sink))
            };
            n.finish(
                sink,
                if proxy {
                    "integration http-proxy"
                } else {
                    "integration http"
                },
            );
            let mut parameters = Vec::new();
            let mut request_templates = Vec::new();
            let mut responses = Vec::new();
            if proxy {
                no_children(node, sink);
            } else {
                read_integration_children(
                    node,
                    base_dir,
                    sink,
                    "`integration http`",
                    &mut parameters,
                    &mut request_templates,
                    &mut responses,
                    &mut Vec::new(),
                );
            }
            let uri = uri?;
            let template = match UriTemplate::parse(&uri.value) {
                Ok(t) => t,
                Err(e) => {
                    // +1 skips the opening quote of a plain string.
                    let at = uri.span.sub(e.offset + 1, e.len);
                    sink.error(
                        "kdl::bad-uri-template",
                        format!("bad upstream URI template: {}", e.message),
                        at,
                        "here",
                        "placeholders are `${stageVariables.name}` and `{pathParam}`",
                    );
                    return None;
                }
            };
            if proxy {
                Integration::HttpProxy {
                    uri: Spanned::new(template, uri.span),
                    timeout_ms,
                    span,
                }
            } else {
                Integration::Http {
                    uri: Spanned::new(template, uri.span),
                    http_method,
                    timeout_ms,
                    passthrough,
                    parameters,
                    request_templates,
                    responses,
                    span,
                }
            }
        }
        "mock" => {
            let status = match n.prop("status") {
                Some(e) => integer(e, sink, "status")
                    .map(|v| Spanned::new(v.min(u16::MAX as u64) as u16, to_span(e.span())))?,
                None => Spanned::new(200, name_span(node)),
            };
            let body = n
                .prop("body")
                .and_then(|e| string(e, sink, "the mock body"))
                .map(|s| s.value)
                .unwrap_or_default();
            let passthrough = mapping::read_passthrough(n.prop("passthrough"), sink);
            let fixed = n.prop("status").is_some() || n.prop("body").is_some();
            n.finish(sink, "integration mock");
            let mut headers = Vec::new();
            let mut request_templates = Vec::new();
            let mut responses = Vec::new();
            read_integration_children(
                node,
                base_dir,
                sink,
                "`integration mock`",
                &mut Vec::new(),
                &mut request_templates,
                &mut responses,
                &mut headers,
            );
            if fixed && !responses.is_empty() {
                sink.error(
                    "kdl::mock-mixed",
                    "a mock has either a fixed answer (`status=`/`body=`) or `response` nodes, not both",
                    name_span(node),
                    "both forms",
                    "move the body into `response status=200 { template \"application/json\" \"…\" }`, or drop the `response` nodes",
                );
            }
            if !headers.is_empty() && !responses.is_empty() {
                sink.error(
                    "kdl::mock-mixed",
                    "`header` belongs to the fixed mock; with `response` nodes, map headers in the response",
                    name_span(node),
                    "both forms",
                    "write `parameter \"method.response.header.NAME\" \"'value'\"` inside the `response`",
                );
            }
            Integration::Mock {
                status,
                headers,
                body,
                passthrough,
                request_templates,
                responses,
                span,
            }
        }
        other => {
            sink.error(
                "kdl::unknown-integration",
                format!("unknown integration type `{other}`"),
                kind.span,
                "not an integration type",
                "use `handler` (a Rust function), `http-proxy` (forward to a URI) or `mock` (a fixed answer)",
            );
            return None;
        }
    };
    Some(integration)
}

/// What a `throttle` node inside a `stage` (or a usage plan's `stage`) declares.
enum StageThrottle {
    /// `throttle rate= burst=`: the default of every method.
    Default(Option<crate::ir::Throttle>),
    /// `throttle "/path" METHOD rate= burst=`: one method.
    Method(Option<MethodThrottle>),
}

fn read_stage_throttle(child: &KdlNode, sink: &mut Sink) -> StageThrottle {
    let mut n = NodeReader::new(child);
    let path = n.arg(0);
    if path.is_none() {
        let t = read_throttle_props(child, &mut n, sink);
        n.finish(sink, "throttle");
        no_children(child, sink);
        return StageThrottle::Default(t);
    }
    let path = path.and_then(|e| string(e, sink, "the resource path"));
    let method = n.arg(1).and_then(|e| string(e, sink, "the method"));
    let t = read_throttle_props(child, &mut n, sink);
    n.finish(sink, "throttle");
    no_children(child, sink);
    let Some(method) = method else {
        sink.error(
            "kdl::missing-argument",
            "a per-method `throttle` needs a path and a method",
            name_span(child),
            "method missing",
            "write `throttle \"/pets/{id}\" GET rate=10 burst=20`",
        );
        return StageThrottle::Method(None);
    };
    let Some(m) = Method::parse(&method.value) else {
        sink.error(
            "kdl::bad-value",
            format!("`{}` is not a method", method.value),
            method.span,
            "not a method",
            "use GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or ANY (upper case)",
        );
        return StageThrottle::Method(None);
    };
    StageThrottle::Method(match (path, t) {
        (Some(path), Some(throttle)) => Some(MethodThrottle {
            path,
            method: Spanned::new(m, method.span),
            throttle,
        }),
        _ => None,
    })
}

/// `api-key-source header|authorizer`.
fn read_api_key_source(node: &KdlNode, sink: &mut Sink) -> Option<Spanned<ApiKeySource>> {
    let mut n = NodeReader::new(node);
    let value = n.arg(0).and_then(|e| string(e, sink, "the API key source"));
    n.finish(sink, "api-key-source");
    no_children(node, sink);
    let Some(value) = value else {
        sink.error(
            "kdl::missing-argument",
            "`api-key-source` needs `header` or `authorizer`",
            name_span(node),
            "source missing",
            "write `api-key-source header` (the x-api-key header, the default)",
        );
        return None;
    };
    let source = match value.value.as_str() {
        "header" => ApiKeySource::Header,
        "authorizer" => ApiKeySource::Authorizer,
        other => {
            sink.error(
                "kdl::bad-value",
                format!("unknown API key source `{other}`"),
                value.span,
                "not a key source",
                "use `header` (the x-api-key header) or `authorizer` (a custom authorizer's usage identifier)",
            );
            return None;
        }
    };
    Some(Spanned::new(source, value.span))
}

/// `usage-plan NAME { throttle …; quota …; stage NAME { throttle "/path" METHOD … } }`.
fn read_usage_plan(node: &KdlNode, sink: &mut Sink) -> Option<UsagePlan> {
    let mut n = NodeReader::new(node);
    let name = match n.arg(0) {
        Some(e) => string(e, sink, "the usage plan name"),
        None => {
            sink.error(
                "kdl::missing-argument",
                "`usage-plan` needs a name",
                name_span(node),
                "name missing",
                "write `usage-plan basic { throttle rate=10 burst=20; quota limit=1000 period=day; stage prod }`",
            );
            None
        }
    };
    n.finish(sink, "usage-plan");
    let mut plan = UsagePlan {
        name: name?,
        throttle: None,
        quota: None,
        stages: Vec::new(),
        span: to_span(node.span()),
    };
    for child in children(node) {
        match child.name().value() {
            "throttle" if plan.throttle.is_none() => {
                let mut n = NodeReader::new(child);
                plan.throttle = read_throttle_props(child, &mut n, sink);
                n.finish(sink, "throttle");
                no_children(child, sink);
            }
            "throttle" => duplicate(
                sink,
                child,
                "a usage plan has one `throttle`; per-method ones go inside its `stage` nodes",
            ),
            "quota" if plan.quota.is_none() => plan.quota = read_quota(child, sink),
            "quota" => duplicate(sink, child, "a usage plan has one `quota`"),
            "stage" => {
                let mut n = NodeReader::new(child);
                let name = match n.arg(0) {
                    Some(e) => string(e, sink, "the stage name"),
                    None => {
                        sink.error(
                            "kdl::missing-argument",
                            "a usage plan's `stage` needs the name of a stage of the API",
                            name_span(child),
                            "name missing",
                            "write `stage prod`, or `stage prod { throttle \"/pets\" GET rate=5 burst=10 }`",
                        );
                        None
                    }
                };
                n.finish(sink, "stage");
                let mut method_throttles = Vec::new();
                for grandchild in children(child) {
                    match grandchild.name().value() {
                        "throttle" => match read_stage_throttle(grandchild, sink) {
                            StageThrottle::Method(m) => method_throttles.extend(m),
                            StageThrottle::Default(_) => sink.error(
                                "kdl::missing-argument",
                                "a throttle in a usage plan's `stage` names a path and a method",
                                name_span(grandchild),
                                "path and method missing",
                                "write `throttle \"/pets\" GET rate=5 burst=10`; the plan-wide \
                                 throttle goes directly inside `usage-plan`",
                            ),
                        },
                        other => unknown_node(
                            sink,
                            grandchild,
                            other,
                            "a usage plan's `stage`",
                            &["throttle"],
                        ),
                    }
                }
                if let Some(name) = name {
                    plan.stages.push(PlanStage {
                        name,
                        method_throttles,
                        span: to_span(child.span()),
                    });
                }
            }
            other => unknown_node(
                sink,
                child,
                other,
                "`usage-plan`",
                &["throttle", "quota", "stage"],
            ),
        }
    }
    Some(plan)
}

/// `quota limit=N period=day|week|month [offset=N]`.
fn read_quota(node: &KdlNode, sink: &mut Sink) -> Option<Quota> {
    let mut n = NodeReader::new(node);
    let limit = n.prop("limit");
    let period = n.prop("period");
    let offset = n.prop("offset");
    n.finish(sink, "quota");
    no_children(node, sink);
    if limit.is_none() || period.is_none() {
        sink.error(
            "kdl::missing-property",
            "`quota` needs `limit=` and `period=`",
            name_span(node),
            "incomplete quota",
            "write `quota limit=1000 period=day` (period: day, week or month; optional offset=N)",
        );
    }
    let limit =
        limit.and_then(|e| integer(e, sink, "limit").map(|v| Spanned::new(v, value_span(e))));
    let offset = match offset {
        Some(e) => Some(Spanned::new(integer(e, sink, "offset")?, value_span(e))),
        None => None,
    };
    let period = period.and_then(|e| {
        let s = string(e, sink, "the quota period")?;
        match QuotaPeriod::parse(&s.value) {
            Some(p) => Some(Spanned::new(p, s.span)),
            None => {
                let lower = s.value.to_ascii_lowercase();
                let hint = match QuotaPeriod::parse(&lower) {
                    Some(p) => format!("write `period={}` (lower case)", p.as_str()),
                    None => "use `day`, `week` or `month`".to_owned(),
                };
                sink.error(
                    "kdl::bad-value",
                    format!("unknown quota period `{}`", s.value),
                    s.span,
                    "not a period",
                    hint,
                );
                None
            }
        }
    });
    Some(Quota {
        limit: limit?,
        period: period?,
        offset,
        span: to_span(node.span()),
    })
}

/// `rate=R burst=B` of a `throttle` node (both required).
fn read_throttle_props(
    node: &KdlNode,
    n: &mut NodeReader<'_>,
    sink: &mut Sink,
) -> Option<crate::ir::Throttle> {
    let rate_entry = n.prop("rate");
    let burst_entry = n.prop("burst");
    if rate_entry.is_none() || burst_entry.is_none() {
        sink.error(
            "kdl::missing-property",
            "`throttle` needs `rate=` and `burst=`",
            name_span(node),
            "incomplete throttle",
            "write `throttle rate=100 burst=200` (requests per second, bucket size)",
        );
    }
    let rate = rate_entry.and_then(|e| match e.value() {
        KdlValue::Integer(i) => Some(Spanned::new(*i as f64, value_span(e))),
        KdlValue::Float(f) => Some(Spanned::new(*f, value_span(e))),
        other => {
            sink.error(
                "kdl::bad-type",
                format!("rate must be a number of requests per second, found `{other}`"),
                value_span(e),
                "expected a number",
                "write a plain number such as `rate=100` or `rate=0.5`",
            );
            None
        }
    });
    let burst =
        burst_entry.and_then(|e| integer(e, sink, "burst").map(|v| Spanned::new(v, value_span(e))));
    Some(crate::ir::Throttle {
        rate: rate?,
        burst: burst?,
        span: to_span(node.span()),
    })
}

/// Reads the children of `integration http` / `integration mock`. `headers` collects a
/// fixed mock's `header` nodes (not accepted in `integration http`).
#[allow(clippy::too_many_arguments)]
fn read_integration_children(
    node: &KdlNode,
    base_dir: &Path,
    sink: &mut Sink,
    what: &str,
    parameters: &mut Vec<crate::ir::ParameterMapping>,
    request_templates: &mut Vec<crate::ir::MappingTemplate>,
    responses: &mut Vec<crate::ir::IntegrationResponse>,
    headers: &mut Vec<Header>,
) {
    let mock = what.contains("mock");
    for child in children(node) {
        match child.name().value() {
            "header" if mock => {
                let mut h = NodeReader::new(child);
                let name = h.arg(0).and_then(|e| string(e, sink, "the header name"));
                let value = h.arg(1).and_then(|e| string(e, sink, "the header value"));
                h.finish(sink, "header");
                no_children(child, sink);
                match (name, value) {
                    (Some(name), Some(value)) => headers.push(Header { name, value }),
                    _ => sink.error(
                        "kdl::missing-argument",
                        "`header` needs a name and a value",
                        name_span(child),
                        "incomplete header",
                        "write `header \"content-type\" \"application/json\"`",
                    ),
                }
            }
            "parameter" if !mock => {
                parameters.extend(mapping::read_parameter(child, Side::Request, sink))
            }
            "request-template" => {
                request_templates.extend(mapping::read_template(child, base_dir, false, sink))
            }
            "response" => responses.extend(mapping::read_response(child, base_dir, sink)),
            other => {
                let expected: &[&str] = if mock {
                    &["header", "request-template", "response"]
                } else {
                    &["parameter", "request-template", "response"]
                };
                unknown_node(sink, child, other, what, expected)
            }
        }
    }
}

/// Parses a resource path such as `/pets/{petId}` into segments with spans. `p.span` covers the
/// quoted string (its first and last bytes are the quotes); errors are `kdl::bad-path`. Shared
/// with the macro front end, whose path literals are quoted too.
pub fn parse_path(p: &Spanned<String>, sink: &mut Sink) -> Option<Vec<Segment>> {
    let text = p.value.as_str();
    // The span includes the opening quote of a plain string; offsets below are into the text.
    let base = p.span.sub(1, p.span.len.saturating_sub(2));
    if !text.starts_with('/') {
        sink.error(
            "kdl::bad-path",
            format!("resource path `{text}` must start with `/`"),
            p.span,
            "no leading `/`",
            format!("write `\"/{text}\"`"),
        );
        return None;
    }
    if text == "/" {
        return Some(Vec::new());
    }
    let mut segments = Vec::new();
    let mut ok = true;
    let mut offset = 1;
    let body = text.strip_suffix('/').unwrap_or(text);
    for raw in body[1..].split('/') {
        let span = base.sub(offset, raw.len());
        let slash = base.sub(offset.saturating_sub(1), 2);
        offset += raw.len() + 1;
        if raw.is_empty() {
            sink.error(
                "kdl::bad-path",
                format!("resource path `{text}` has an empty segment"),
                slash,
                "`//` here",
                "remove the doubled `/`",
            );
            ok = false;
            continue;
        }
        let kind = if let Some(inner) = raw.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
            let (name, greedy) = match inner.strip_suffix('+') {
                Some(n) => (n, true),
                None => (inner, false),
            };
            if !is_param_name(name) {
                sink.error(
                    "kdl::bad-path",
                    format!("`{raw}` is not a valid path parameter"),
                    span,
                    "bad parameter",
                    "a parameter is `{name}` (letters, digits, `_`, `-`, `.`) or a greedy `{name+}`",
                );
                ok = false;
                continue;
            }
            if greedy {
                SegmentKind::Greedy {
                    name: name.to_owned(),
                }
            } else {
                SegmentKind::Param {
                    name: name.to_owned(),
                    ty: ParamType::String,
                }
            }
        } else if raw.contains(['{', '}']) {
            sink.error(
                "kdl::bad-path",
                format!("`{raw}` mixes text and a parameter in one segment"),
                span,
                "partial parameter",
                "API Gateway parameters fill a whole segment: split it into `/prefix/{param}`",
            );
            ok = false;
            continue;
        } else if let Some(bad) = raw.chars().find(|c| !is_literal_char(*c)) {
            sink.error(
                "kdl::bad-path",
                format!("`{bad}` is not allowed in a resource path"),
                span,
                "bad character",
                "path segments use letters, digits and `-._~:@!$&'()*+,;=`; percent-encoding is applied by clients",
            );
            ok = false;
            continue;
        } else {
            SegmentKind::Literal {
                text: raw.to_owned(),
            }
        };
        segments.push(Segment { kind, span });
    }
    ok.then_some(segments)
}

fn is_literal_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~:@!$&'()*+,;=".contains(c)
}

/// Tracks which entries of a node were read so the rest can be reported as unknown.
struct NodeReader<'a> {
    node: &'a KdlNode,
    used: Vec<bool>,
}

impl<'a> NodeReader<'a> {
    fn new(node: &'a KdlNode) -> Self {
        NodeReader {
            node,
            used: vec![false; node.entries().len()],
        }
    }

    /// The `idx`-th positional argument.
    fn arg(&mut self, idx: usize) -> Option<&'a KdlEntry> {
        let (i, e) = self
            .node
            .entries()
            .iter()
            .enumerate()
            .filter(|(_, e)| e.name().is_none())
            .nth(idx)?;
        self.used[i] = true;
        Some(e)
    }

    /// The property `key` (the rightmost wins, as KDL specifies).
    fn prop(&mut self, key: &str) -> Option<&'a KdlEntry> {
        let mut found = None;
        for (i, e) in self.node.entries().iter().enumerate() {
            if e.name().is_some_and(|n| n.value() == key) {
                self.used[i] = true;
                found = Some(e);
            }
        }
        found
    }

    /// Reports every entry nobody asked for.
    fn finish(self, sink: &mut Sink, what: &str) {
        for (e, used) in self.node.entries().iter().zip(self.used) {
            if used {
                continue;
            }
            match e.name() {
                Some(key) => sink.error(
                    "kdl::unknown-property",
                    format!("`{what}` has no property `{}`", key.value()),
                    to_span(e.span()),
                    "unknown property",
                    "remove it, or check docs/dsl.md for the properties this node takes",
                ),
                None => sink.error(
                    "kdl::unexpected-argument",
                    format!("`{what}` does not take this argument"),
                    to_span(e.span()),
                    "unexpected argument",
                    "remove it, or check docs/dsl.md for what this node takes",
                ),
            }
        }
    }
}

fn required_prop<'a>(
    n: &mut NodeReader<'a>,
    node: &KdlNode,
    key: &str,
    sink: &mut Sink,
    example: &str,
) -> Option<&'a KdlEntry> {
    let e = n.prop(key);
    if e.is_none() {
        sink.error(
            "kdl::missing-property",
            format!("this integration needs `{key}=`"),
            name_span(node),
            format!("`{key}` missing"),
            format!("write {example}"),
        );
    }
    e
}

fn children(node: &KdlNode) -> &[KdlNode] {
    node.children().map(|d| d.nodes()).unwrap_or(&[])
}

fn no_children(node: &KdlNode, sink: &mut Sink) {
    if let Some(doc) = node.children() {
        sink.error(
            "kdl::unexpected-children",
            format!("`{}` takes no children block", node.name().value()),
            to_span(doc.span()),
            "unexpected block",
            "remove the `{ … }` block",
        );
    }
}

fn unknown_node(sink: &mut Sink, node: &KdlNode, name: &str, parent: &str, expected: &[&str]) {
    let suggestion = closest(name, expected)
        .map(|s| format!("did you mean `{s}`? "))
        .unwrap_or_default();
    sink.error(
        "kdl::unknown-node",
        format!("unknown node `{name}` in {parent}"),
        name_span(node),
        "not understood here",
        format!("{suggestion}{parent} accepts: {}", expected.join(", ")),
    );
}

/// The expected name closest to `name` by edit distance, if it is close enough to be a typo.
pub fn closest<'a>(name: &str, expected: &[&'a str]) -> Option<&'a str> {
    expected
        .iter()
        .map(|e| {
            (
                levenshtein(&name.to_ascii_lowercase(), &e.to_ascii_lowercase()),
                *e,
            )
        })
        .filter(|(d, e)| *d <= 2.max(e.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, e)| e)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn string(e: &KdlEntry, sink: &mut Sink, what: &str) -> Option<Spanned<String>> {
    match e.value() {
        KdlValue::String(s) => Some(Spanned::new(s.clone(), value_span(e))),
        other => {
            sink.error(
                "kdl::bad-type",
                format!("{what} must be a string, found `{other}`"),
                value_span(e),
                "expected a string",
                format!("quote it: \"{}\"", other.to_string().trim_matches('"')),
            );
            None
        }
    }
}

fn integer(e: &KdlEntry, sink: &mut Sink, what: &str) -> Option<u64> {
    match e.value() {
        KdlValue::Integer(i) if *i >= 0 && *i <= u64::MAX as i128 => Some(*i as u64),
        other => {
            sink.error(
                "kdl::bad-type",
                format!("{what} must be a non-negative integer, found `{other}`"),
                value_span(e),
                "expected an integer",
                "write a plain number without quotes, e.g. `5000`",
            );
            None
        }
    }
}

/// The span of an entry's value (for `key=value`, just the value part).
fn value_span(e: &KdlEntry) -> Span {
    let whole = to_span(e.span());
    match e.name() {
        Some(key) => {
            let skip = key.span().len() + 1;
            whole.sub(skip, whole.len.saturating_sub(skip))
        }
        None => whole,
    }
}

fn name_span(node: &KdlNode) -> Span {
    to_span(node.name().span())
}

fn to_span(s: SourceSpan) -> Span {
    Span::new(s.offset(), s.len())
}

/// API Gateway's two default models, exactly as it creates them (every front end appends them).
pub fn default_models() -> [(&'static str, serde_json::Value); 2] {
    [
        (
            "Empty",
            serde_json::json!({
                "$schema": "http://json-schema.org/draft-04/schema#",
                "title": "Empty Schema",
                "type": "object"
            }),
        ),
        (
            "Error",
            serde_json::json!({
                "$schema": "http://json-schema.org/draft-04/schema#",
                "title": "Error Schema",
                "type": "object",
                "properties": { "message": { "type": "string" } }
            }),
        ),
    ]
}

fn read_model(node: &KdlNode, base_dir: &Path, sink: &mut Sink) -> Option<Model> {
    let mut n = NodeReader::new(node);
    let name = n.arg(0).and_then(|e| string(e, sink, "the model name"));
    let inline = n.prop("schema").and_then(|e| string(e, sink, "the schema"));
    let file = n
        .prop("schema-file")
        .and_then(|e| string(e, sink, "the schema file"));
    n.finish(sink, "model");
    no_children(node, sink);
    let Some(name) = name else {
        sink.error(
            "kdl::missing-argument",
            "`model` needs a name",
            name_span(node),
            "name missing",
            "write `model Pet schema-file=\"schemas/pet.json\"`",
        );
        return None;
    };
    let (text, origin, what) = match (inline, file) {
        (Some(s), None) => (
            s.value,
            ModelOrigin::Inline { span: s.span },
            "the inline schema".to_owned(),
        ),
        (None, Some(f)) => {
            let path = base_dir.join(&f.value);
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    let what = format!("`{}`", f.value);
                    let origin = ModelOrigin::File {
                        path: f.value,
                        span: f.span,
                    };
                    (text, origin, what)
                }
                Err(e) => {
                    sink.error(
                        "kdl::schema-file",
                        format!("cannot read schema file `{}`: {e}", path.display()),
                        f.span,
                        "unreadable",
                        "schema files are resolved relative to the .kdl file",
                    );
                    return None;
                }
            }
        }
        (Some(s), Some(_)) => {
            sink.error(
                "kdl::model-source",
                format!("model `{}` has both `schema` and `schema-file`", name.value),
                s.span,
                "two sources",
                "keep one: an inline `schema=#\"{…}\"#` or a `schema-file=\"…\"`",
            );
            return None;
        }
        (None, None) => {
            sink.error(
                "kdl::model-source",
                format!("model `{}` has no schema", name.value),
                name.span,
                "no schema",
                "add `schema=#\"{\"type\":\"object\"}\"#` or `schema-file=\"schemas/model.json\"`",
            );
            return None;
        }
    };
    let schema = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(v) => v,
        Err(e) => {
            sink.error(
                "kdl::schema-json",
                format!("{what} of model `{}` is not JSON: {e}", name.value),
                origin.span(name.span),
                "not JSON",
                "a model is a JSON Schema (draft 4) document",
            );
            return None;
        }
    };
    Some(Model {
        name,
        schema,
        origin,
        span: to_span(node.span()),
    })
}

fn read_validator(node: &KdlNode, sink: &mut Sink) -> Option<Spanned<Validator>> {
    let mut n = NodeReader::new(node);
    let value = n.arg(0).and_then(|e| string(e, sink, "the validator"));
    n.finish(sink, "validator");
    no_children(node, sink);
    let names: Vec<_> = Validator::ALL.iter().map(|v| v.as_str()).collect();
    let Some(value) = value else {
        sink.error(
            "kdl::missing-argument",
            "`validator` needs a preset",
            name_span(node),
            "preset missing",
            format!("write `validator all`; presets: {}", names.join(", ")),
        );
        return None;
    };
    match Validator::parse(&value.value) {
        Some(v) => Some(Spanned::new(v, value.span)),
        None => {
            sink.error(
                "kdl::bad-value",
                format!("unknown validator `{}`", value.value),
                value.span,
                "not a validator preset",
                format!("use one of: {}", names.join(", ")),
            );
            None
        }
    }
}

/// `validation-errors standard|detailed`: `Some(true)` for detailed.
fn read_validation_errors(node: &KdlNode, sink: &mut Sink) -> Option<bool> {
    let mut n = NodeReader::new(node);
    let value = n.arg(0).and_then(|e| string(e, sink, "the error style"));
    n.finish(sink, "validation-errors");
    no_children(node, sink);
    match value.as_ref().map(|v| v.value.as_str()) {
        Some("standard") => Some(false),
        Some("detailed") => Some(true),
        _ => {
            sink.error(
                "kdl::bad-value",
                "`validation-errors` is `standard` or `detailed`",
                value.map(|v| v.span).unwrap_or_else(|| name_span(node)),
                "expected standard or detailed",
                "`standard` answers `Invalid request body` as API Gateway does; `detailed` adds every violation",
            );
            None
        }
    }
}

fn duplicate(sink: &mut Sink, node: &KdlNode, what: &str) {
    sink.error(
        "kdl::duplicate-node",
        what.to_owned(),
        name_span(node),
        "declared again",
        "remove one of the two",
    );
}
