//! Semantic checks on `ir::Api`, shared by every front end: `ir::Api → check → ir::Api`.
//!
//! Each rule reports into the [`Sink`] and the checks go on, so one run shows every problem.

use crate::diagnostics::Sink;
use crate::ir::Span;
use crate::ir::{
    Api, Flavor, Integration, MIN_TIMEOUT_MS, Method, Route, SegmentKind, UriPart, is_variable_name,
};
use std::collections::{BTreeMap, HashMap};

/// Most stages an API may have (API Gateway's quota).
pub const MAX_STAGES: usize = 10;
/// Most stage variables per stage.
pub const MAX_STAGE_VARIABLES: usize = 100;
/// Longest stage-variable value.
pub const MAX_STAGE_VARIABLE_VALUE: usize = 512;
/// Longest stage name.
pub const MAX_STAGE_NAME: usize = 128;

/// Runs every semantic check over `api`.
pub fn check(api: &Api, sink: &mut Sink) {
    check_api(api, sink);
    check_stages(api, sink);
    check_routes(api, sink);
    check_integrations(api, sink);
    check_models(api, sink);
    check_requests(api, sink);
    crate::check_mapping::check(api, sink);
    crate::check_limits::check(api, sink);
    crate::check_cache::check(api, sink);
    crate::check_auth::check(api, sink);
}

/// The base URI a model is registered under in the [`crate::schema::SchemaSet`]; API Gateway's
/// model URLs (`https://apigateway.amazonaws.com/restapis/{id}/models/NAME`) resolve to it.
pub fn model_uri(name: &str) -> String {
    format!("model:{name}")
}

fn check_models(api: &Api, sink: &mut Sink) {
    let mut seen: HashMap<&str, &crate::ir::Model> = HashMap::new();
    for model in &api.models {
        let name = model.name.value.as_str();
        if let Some(first) = seen.get(name) {
            // Defaults come last, so a clash with one is reported on the user's model.
            let (user, other) = match model.origin {
                crate::ir::ModelOrigin::Default => (*first, model),
                _ => (model, *first),
            };
            if matches!(other.origin, crate::ir::ModelOrigin::Default) {
                sink.error(
                    "check::duplicate-model",
                    format!("`{name}` is one of API Gateway's default models"),
                    user.name.span,
                    "already defined",
                    "every API has `Empty` and `Error`; give this model another name",
                );
            } else {
                sink.error_with(
                    "check::duplicate-model",
                    format!("model `{name}` is declared twice"),
                    &[
                        (model.name.span, "second declaration"),
                        (first.name.span, "first declared here"),
                    ],
                    "rename one of them",
                );
            }
            continue;
        }
        seen.insert(name, model);
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
            sink.error(
                "check::bad-model-name",
                format!("`{name}` is not a valid model name"),
                model.name.span,
                "invalid name",
                "API Gateway model names are alphanumeric, e.g. `NewPet`",
            );
        }
    }
    // Each name once (duplicates were reported above), so the schema compiler sees one root per URI.
    let mut unique: Vec<&crate::ir::Model> = Vec::new();
    for m in &api.models {
        if !unique.iter().any(|u| u.name.value == m.name.value) {
            unique.push(m);
        }
    }
    let uris: Vec<String> = unique.iter().map(|m| model_uri(&m.name.value)).collect();
    let roots: Vec<(&str, &serde_json::Value)> = uris
        .iter()
        .map(String::as_str)
        .zip(unique.iter().map(|m| &m.schema))
        .collect();
    let errors = match crate::schema::compile(&roots) {
        Err(errors) => errors,
        Ok((set, _)) => match set.unguarded_cycle() {
            Some(node) => vec![crate::schema::SchemaError {
                location: set.node(node).location.clone(),
                message: "this schema refers back to itself without descending into the document".to_owned(),
                help: "a `$ref`/`allOf`/`anyOf`/`oneOf`/`not` loop never terminates; reach the recursion through `properties` or `items`".to_owned(),
            }],
            None => Vec::new(),
        },
    };
    {
        for e in errors {
            let model = unique
                .iter()
                .zip(&uris)
                .find(|(_, uri)| e.location.starts_with(&format!("{uri}#")))
                .map(|(m, _)| m);
            let (span, label) = match model {
                Some(m) => {
                    let pointer = e.location.split_once('#').map(|(_, p)| p).unwrap_or("");
                    let at = if pointer.is_empty() {
                        "the root"
                    } else {
                        pointer
                    };
                    (
                        m.origin.span(m.name.span),
                        format!("in model `{}`, at {at}", m.name.value),
                    )
                }
                None => (api.name.span, e.location.clone()),
            };
            sink.error("check::bad-schema", e.message, span, label, e.help);
        }
    }
}

fn check_requests(api: &Api, sink: &mut Sink) {
    let mut known: Vec<&str> = api.models.iter().map(|m| m.name.value.as_str()).collect();
    known.dedup();
    for route in &api.routes {
        let validator = route
            .request
            .validator
            .as_ref()
            .or(api.validator.as_ref())
            .map(|v| v.value)
            .unwrap_or(crate::ir::Validator::None);
        if let Some(first) = route.request.models.first()
            && !validator.body()
        {
            sink.warning(
                "check::model-not-validated",
                format!(
                    "the request model of `{} {}` is never checked: no validator covers bodies",
                    route.method.value, route.path
                ),
                first.model.span,
                "not validated",
                "as in API Gateway, models are only enforced by a validator: add `validator body-only` (or `all`) to the method or the api",
            );
        }
        let required = route.request.parameters.iter().find(|p| p.required);
        if let Some(p) = required
            && !validator.params()
        {
            sink.warning(
                "check::parameter-not-validated",
                format!(
                    "required parameters of `{} {}` are never checked: no validator covers parameters",
                    route.method.value, route.path
                ),
                p.span,
                "not validated",
                "add `validator params-only` (or `all`) to the method or the api",
            );
        }
    }
    for route in &api.routes {
        let mut types: HashMap<String, Span> = HashMap::new();
        for m in &route.request.models {
            if !known.contains(&m.model.value.as_str()) {
                let close = crate::kdl::closest(&m.model.value, &known)
                    .map(|k| format!("did you mean `{k}`? "))
                    .unwrap_or_default();
                sink.error(
                    "check::unknown-model",
                    format!("no model named `{}`", m.model.value),
                    m.model.span,
                    "unknown model",
                    format!(
                        "{close}declare it with `model {} schema-file=\"…\"`; models: {}",
                        m.model.value,
                        known.join(", ")
                    ),
                );
            }
            let ct = m.content_type.value.to_ascii_lowercase();
            let valid = ct == "$default"
                || ct.split_once('/').is_some_and(|(a, b)| {
                    !a.is_empty() && !b.is_empty() && !ct.contains([';', ' '])
                });
            if !valid {
                sink.error(
                    "check::bad-content-type",
                    format!("`{}` is not a MIME type", m.content_type.value),
                    m.content_type.span,
                    "not type/subtype",
                    "write a MIME type without parameters, e.g. `application/json`, or `$default`",
                );
            }
            if let Some(first) = types.insert(ct, m.content_type.span) {
                sink.error_with(
                    "check::duplicate-request-model",
                    format!(
                        "`{} {}` has two request models for `{}`",
                        route.method.value, route.path, m.content_type.value
                    ),
                    &[
                        (m.content_type.span, "second model for this type"),
                        (first, "first here"),
                    ],
                    "one content type selects one model",
                );
            }
        }
        let mut params: HashMap<(crate::ir::ParamLocation, String), Span> = HashMap::new();
        for p in &route.request.parameters {
            let key_name = if p.location == crate::ir::ParamLocation::Header {
                p.name.to_ascii_lowercase()
            } else {
                p.name.clone()
            };
            if let Some(first) = params.insert((p.location, key_name), p.span) {
                sink.error_with(
                    "check::duplicate-parameter",
                    format!(
                        "request parameter `{}.{}` is declared twice",
                        p.location.as_str(),
                        p.name
                    ),
                    &[(p.span, "again"), (first, "first here")],
                    "remove one",
                );
            }
            if p.location == crate::ir::ParamLocation::Path && route.path.param(&p.name).is_none() {
                sink.error(
                    "check::unknown-path-param",
                    format!("`{}` is not a path parameter of `{}`", p.name, route.path),
                    p.span,
                    "not in the path",
                    "path parameters come from `{name}` segments of the resource path",
                );
            }
        }
    }
}

fn check_api(api: &Api, sink: &mut Sink) {
    let name = &api.name.value;
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !valid {
        sink.error(
            "check::bad-api-name",
            format!("`{name}` cannot name an API"),
            api.name.span,
            "not a valid API name",
            "start with a letter and use letters, digits, `_` or `-`: it becomes a file and a Rust type name",
        );
    }
    let max = &api.max_integration_timeout_ms;
    let hard = api.flavor.hard_max_timeout_ms();
    if max.value < MIN_TIMEOUT_MS || max.value > hard {
        sink.error(
            "check::timeout-range",
            format!("max-integration-timeout-ms={} is out of range", max.value),
            max.span,
            "out of range",
            format!(
                "{} APIs allow {MIN_TIMEOUT_MS} to {hard} ms",
                flavor_name(api.flavor)
            ),
        );
    }
}

fn check_stages(api: &Api, sink: &mut Sink) {
    if api.stages.is_empty() {
        sink.error(
            "check::no-stage",
            format!("API `{}` has no stage to serve", api.name.value),
            api.name.span,
            "no `stage` inside",
            "add a stage: `stage prod` serves the API under `/prod/…`",
        );
    }
    if api.stages.len() > MAX_STAGES {
        sink.error(
            "check::too-many-stages",
            format!(
                "{} stages; API Gateway allows {MAX_STAGES} per API",
                api.stages.len()
            ),
            api.stages[MAX_STAGES].name.span,
            "one too many",
            "remove stages or split the API",
        );
    }
    let mut seen: HashMap<&str, &crate::ir::Stage> = HashMap::new();
    for stage in &api.stages {
        let name = stage.name.value.as_str();
        if let Some(first) = seen.insert(name, stage) {
            sink.error_with(
                "check::duplicate-stage",
                format!("stage `{name}` is declared twice"),
                &[
                    (stage.name.span, "second declaration"),
                    (first.name.span, "first declared here"),
                ],
                "rename or merge the two stages",
            );
        }
        let default_ok = api.flavor == Flavor::Http && name == "$default";
        let valid = !name.is_empty()
            && name.len() <= MAX_STAGE_NAME
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid && !default_ok {
            let extra = if api.flavor == Flavor::Http {
                ", or `$default` to serve at the root"
            } else {
                ""
            };
            sink.error(
                "check::bad-stage-name",
                format!("`{name}` is not a valid stage name"),
                stage.name.span,
                "invalid stage name",
                format!(
                    "stage names use letters, digits, `-` and `_` (at most {MAX_STAGE_NAME}){extra}"
                ),
            );
        }
        if stage.variables.len() > MAX_STAGE_VARIABLES {
            sink.error(
                "check::too-many-variables",
                format!(
                    "stage `{name}` has {} variables; the limit is {MAX_STAGE_VARIABLES}",
                    stage.variables.len()
                ),
                stage.name.span,
                "too many variables",
                "move configuration into fewer variables",
            );
        }
        let mut vars: HashMap<&str, ()> = HashMap::new();
        for var in &stage.variables {
            let vname = var.name.value.as_str();
            if vars.insert(vname, ()).is_some() {
                sink.error(
                    "check::duplicate-variable",
                    format!("stage variable `{vname}` is set twice in stage `{name}`"),
                    var.name.span,
                    "set again here",
                    "keep one of the two values",
                );
            }
            if !is_variable_name(vname) {
                sink.error(
                    "check::bad-variable-name",
                    format!("`{vname}` is not a valid stage variable name"),
                    var.name.span,
                    "invalid name",
                    "stage variable names use letters, digits and `_` (at most 64)",
                );
            }
            let value = var.value.value.as_str();
            let bad = value
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || "-._~:/?#&=,".contains(*c)));
            if value.is_empty() || value.len() > MAX_STAGE_VARIABLE_VALUE || bad.is_some() {
                let why = match bad {
                    Some(c) => format!("`{c}` is not allowed"),
                    None if value.is_empty() => "it is empty".to_owned(),
                    None => format!("it is longer than {MAX_STAGE_VARIABLE_VALUE} characters"),
                };
                sink.error(
                    "check::bad-variable-value",
                    format!("the value of stage variable `{vname}` is invalid: {why}"),
                    var.value.span,
                    "invalid value",
                    "API Gateway allows values of 1–512 characters from `A-Za-z0-9-._~:/?#&=,`",
                );
            }
        }
    }
}

fn check_routes(api: &Api, sink: &mut Sink) {
    // Duplicate (method, path shape): parameter names do not matter for matching.
    let mut seen: HashMap<(Method, String), &Route> = HashMap::new();
    // Sibling parameters under one parent must share a name (API Gateway rejects `{id}` beside `{petId}`).
    let mut sibling_params: BTreeMap<String, (&str, &Route, usize)> = BTreeMap::new();
    for route in &api.routes {
        let shape = shape(route);
        if let Some(first) = seen.insert((route.method.value, shape), route) {
            sink.error_with(
                "check::duplicate-route",
                format!("`{} {}` is declared twice", route.method.value, route.path),
                &[(route.method.span, "second declaration"), (first.method.span, "first declared here")],
                if first.path.to_string() == route.path.to_string() {
                    "remove one of them, or merge their resources".to_owned()
                } else {
                    format!(
                        "`{}` and `{}` match the same requests (parameter names do not matter); remove one or change a path",
                        first.path, route.path
                    )
                },
            );
        }
        let mut names: HashMap<&str, ()> = HashMap::new();
        let segments = &route.path.segments;
        for (i, seg) in segments.iter().enumerate() {
            let name = match &seg.kind {
                SegmentKind::Literal { .. } => continue,
                SegmentKind::Param { name, .. } => name.as_str(),
                SegmentKind::Greedy { name } => {
                    if i + 1 != segments.len() {
                        sink.error(
                            "check::greedy-not-last",
                            format!("greedy parameter `{{{name}+}}` must be the last segment"),
                            seg.span,
                            "followed by more segments",
                            "move the resources below it up, or make it a plain `{param}`",
                        );
                    }
                    name.as_str()
                }
            };
            if names.insert(name, ()).is_some() {
                sink.error(
                    "check::duplicate-param",
                    format!("path parameter `{name}` appears twice in `{}`", route.path),
                    seg.span,
                    "repeated name",
                    "give each path parameter its own name",
                );
            }
            let parent: String = shape_of(&segments[..i]);
            let key = format!(
                "{parent}|{}",
                matches!(seg.kind, SegmentKind::Greedy { .. })
            );
            match sibling_params.get(&key) {
                Some((other, other_route, _)) if *other != name => sink.error(
                    "check::sibling-param-conflict",
                    format!("`{{{name}}}` sits beside `{{{other}}}` under the same parent"),
                    seg.span,
                    "conflicting parameter name",
                    format!(
                        "a resource has one variable child; rename it to `{{{other}}}` as in `{}`",
                        other_route.path
                    ),
                ),
                Some(_) => {}
                None => {
                    sibling_params.insert(key, (name, route, i));
                }
            }
        }
    }
    if api.routes.is_empty() && !sink.has_errors() {
        sink.warning(
            "check::no-routes",
            format!(
                "API `{}` declares no methods; every request will be refused",
                api.name.value
            ),
            api.name.span,
            "nothing to serve",
            "add `resource \"/path\" { GET { integration … } }`",
        );
    }
}

/// `/pets/{}` style key used for duplicate detection (parameter names erased).
fn shape(route: &Route) -> String {
    shape_of(&route.path.segments)
}

fn shape_of(segments: &[crate::ir::Segment]) -> String {
    let mut s = String::new();
    for seg in segments {
        s.push('/');
        match &seg.kind {
            SegmentKind::Literal { text } => s.push_str(text),
            SegmentKind::Param { .. } => s.push_str("{}"),
            SegmentKind::Greedy { .. } => s.push_str("{+}"),
        }
    }
    s
}

fn check_integrations(api: &Api, sink: &mut Sink) {
    let mut handlers: HashMap<&str, &Route> = HashMap::new();
    for route in &api.routes {
        match &route.integration {
            Integration::Handler { name, .. } => {
                let n = name.value.as_str();
                if !is_snake_ident(n) {
                    sink.error(
                        "check::bad-handler-name",
                        format!("`{n}` cannot name a handler"),
                        name.span,
                        "not a snake_case Rust identifier",
                        "handler names become trait methods: use snake_case such as `list_pets`",
                    );
                } else if let Some(first) = handlers.get(n) {
                    let params = |r: &Route| -> Vec<String> {
                        r.path
                            .params()
                            .map(|(s, n)| format!("{n}:{:?}", s.kind))
                            .collect()
                    };
                    if params(first) != params(route) {
                        sink.error(
                            "check::handler-signature-conflict",
                            format!(
                                "handler `{n}` is bound to `{} {}` and `{} {}`, whose path parameters differ",
                                first.method.value, first.path, route.method.value, route.path
                            ),
                            name.span,
                            "different parameters",
                            "one handler has one signature: give this route its own handler name",
                        );
                    }
                } else {
                    handlers.insert(n, route);
                }
            }
            Integration::HttpProxy {
                uri, timeout_ms, ..
            }
            | Integration::Http {
                uri, timeout_ms, ..
            } => {
                check_timeout(api, timeout_ms.as_ref(), sink);
                let is_url = |s: &str| s.starts_with("http://") || s.starts_with("https://");
                match uri.value.parts.first() {
                    Some(UriPart::Literal(l)) if !is_url(l) => sink.error(
                        "check::bad-uri",
                        format!("upstream URI `{}` is not an http(s) URL", uri.value.raw),
                        uri.span,
                        "not http:// or https://",
                        "write an absolute URL such as `http://127.0.0.1:9000/{proxy}`",
                    ),
                    Some(UriPart::PathParam(p)) => sink.error(
                        "check::bad-uri",
                        format!("upstream URI `{}` starts with the path parameter `{{{p}}}`", uri.value.raw),
                        uri.span,
                        "a client would choose the upstream host",
                        "start with `http://host` or `${stageVariables.name}`; path parameters belong in the path",
                    ),
                    Some(UriPart::StageVariable(v)) => {
                        for stage in &api.stages {
                            if let Some(var) = stage.variable(v)
                                && !is_url(&var.value.value) {
                                    sink.error_with(
                                        "check::bad-uri",
                                        format!(
                                            "in stage `{}`, the upstream URI starts with `{}`, which is not an http(s) URL",
                                            stage.name.value, var.value.value
                                        ),
                                        &[(uri.span, "the URI starts with this variable"), (var.value.span, "set here")],
                                        format!("make `{v}` an absolute URL such as `http://127.0.0.1:9000`"),
                                    );
                                }
                        }
                    }
                    None => sink.error(
                        "check::bad-uri",
                        "the upstream URI is empty",
                        uri.span,
                        "empty",
                        "write an absolute URL such as `http://127.0.0.1:9000/{proxy}`",
                    ),
                    _ => {}
                }
                for part in &uri.value.parts {
                    match part {
                        UriPart::PathParam(p)
                            if route.path.param(p).is_none() && !maps_path(route, p) =>
                        {
                            let known: Vec<String> = route
                                .path
                                .params()
                                .map(|(_, n)| format!("{{{n}}}"))
                                .collect();
                            sink.error(
                                "check::unknown-path-param",
                                format!("`{{{p}}}` is not a path parameter of `{}`", route.path),
                                uri.span,
                                "unknown parameter in URI",
                                if known.is_empty() {
                                    "this resource has no path parameters; remove the placeholder"
                                        .to_owned()
                                } else {
                                    format!("this route has {}", known.join(", "))
                                },
                            );
                        }
                        UriPart::StageVariable(v) => {
                            for stage in &api.stages {
                                if stage.variable(v).is_none() {
                                    sink.error(
                                        "check::unknown-stage-variable",
                                        format!(
                                            "stage `{}` does not define `{v}`, used by `{} {}`",
                                            stage.name.value, route.method.value, route.path
                                        ),
                                        uri.span,
                                        format!(
                                            "`${{stageVariables.{v}}}` is empty in `{}`",
                                            stage.name.value
                                        ),
                                        format!(
                                            "add `variables {{ {v} \"…\" }}` to stage `{}`",
                                            stage.name.value
                                        ),
                                    );
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            Integration::Mock {
                status, headers, ..
            } => {
                if !(100..=599).contains(&status.value) {
                    sink.error(
                        "check::bad-status",
                        format!("status {} is not an HTTP status code", status.value),
                        status.span,
                        "out of range",
                        "use a status from 100 to 599",
                    );
                }
                for h in headers {
                    if !is_token(&h.name.value) {
                        sink.error(
                            "check::bad-header",
                            format!("`{}` is not a valid header name", h.name.value),
                            h.name.span,
                            "invalid header name",
                            "header names are RFC 9110 tokens: letters, digits and `!#$%&'*+-.^_`|~`",
                        );
                    }
                    if let Some(b) = h
                        .value
                        .value
                        .bytes()
                        .find(|&b| !(b == b'\t' || (0x20..0x7f).contains(&b)))
                    {
                        sink.error(
                            "check::bad-header",
                            format!("a header value cannot contain byte 0x{b:02x}"),
                            h.value.span,
                            "invalid header value",
                            "header values are visible ASCII, spaces and tabs; percent-encode anything else",
                        );
                    }
                }
            }
        }
    }
}

/// Whether `route` maps `integration.request.path.<name>` itself.
fn maps_path(route: &Route, name: &str) -> bool {
    let Integration::Http { parameters, .. } = &route.integration else {
        return false;
    };
    parameters.iter().any(|m| {
        matches!(&m.target.value, crate::ir::MappingTarget::IntegrationRequest { location: crate::ir::Location::Path, name: n } if n == name)
    })
}

fn check_timeout(api: &Api, timeout: Option<&crate::ir::Spanned<u64>>, sink: &mut Sink) {
    let Some(t) = timeout else { return };
    let max = api.max_integration_timeout_ms.value;
    if t.value < MIN_TIMEOUT_MS || t.value > max {
        let raise = if api.flavor == Flavor::Rest && max < api.flavor.hard_max_timeout_ms() {
            format!(
                "; REST APIs may raise the limit with `max-integration-timeout-ms=` on `api` (up to {})",
                api.flavor.hard_max_timeout_ms()
            )
        } else {
            String::new()
        };
        sink.error(
            "check::timeout-range",
            format!("timeout-ms={} is out of range", t.value),
            t.span,
            format!("must be {MIN_TIMEOUT_MS}..={max}"),
            format!("use a timeout from {MIN_TIMEOUT_MS} to {max} ms{raise}"),
        );
    }
}

fn flavor_name(f: Flavor) -> &'static str {
    match f {
        Flavor::Rest => "REST",
        Flavor::Http => "HTTP",
    }
}

pub(crate) fn is_snake_ident(s: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
        "extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod",
        "move", "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait",
        "true", "type", "unsafe", "use", "where", "while", "abstract", "become", "box", "do",
        "final", "macro", "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
    ];
    s.chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s != "_"
        && !KEYWORDS.contains(&s)
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}
