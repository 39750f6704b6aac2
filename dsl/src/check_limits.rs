//! Checks of throttles, usage plans and API keys: limits in range, per-method throttles naming
//! a real route once, plans bound to real stages, and the API Gateway rules about which APIs
//! have keys at all.

use crate::diagnostics::Sink;
use crate::ir::{Api, Flavor, MethodThrottle, Throttle};
use std::collections::HashMap;

/// Largest rate or burst accepted (API Gateway's account limits are 10,000 / 5,000 by default
/// and can be raised; a million leaves room without overflowing the bucket arithmetic).
pub const MAX_THROTTLE: f64 = 1_000_000.0;

/// Most per-method throttles one stage of a usage plan may have (API Gateway's quota).
pub const MAX_PLAN_METHOD_THROTTLES: usize = 20;

/// Largest quota limit (API Gateway's `limit` is a 32-bit integer).
pub const MAX_QUOTA: u64 = i32::MAX as u64;

pub(crate) fn check(api: &Api, sink: &mut Sink) {
    if let Some(t) = &api.throttle {
        limits(t, sink);
    }
    for stage in &api.stages {
        if let Some(t) = &stage.throttle {
            limits(t, sink);
        }
        method_throttles(
            api,
            &stage.method_throttles,
            &format!("stage `{}`", stage.name.value),
            sink,
        );
    }
    usage_plans(api, sink);
}

/// The per-method throttles of one stage (or of one stage of a usage plan): each names a route
/// of the API, once.
fn method_throttles(api: &Api, list: &[MethodThrottle], place: &str, sink: &mut Sink) {
    let mut seen: HashMap<(String, crate::ir::Method), &MethodThrottle> = HashMap::new();
    for m in list {
        limits(&m.throttle, sink);
        let path = m.route_path();
        if !api
            .routes
            .iter()
            .any(|r| r.path.to_string() == path && r.method.value == m.method.value)
        {
            unknown_route(api, m, path, sink);
        }
        if let Some(first) = seen.insert((path.to_owned(), m.method.value), m) {
            sink.error_with(
                "check::duplicate-throttle",
                format!("`{} {path}` is throttled twice in {place}", m.method.value),
                &[(m.path.span, "second"), (first.path.span, "first")],
                "keep one `throttle` per method",
            );
        }
    }
}

fn unknown_route(api: &Api, m: &MethodThrottle, path: &str, sink: &mut Sink) {
    let same_path: Vec<String> = api
        .routes
        .iter()
        .filter(|r| r.path.to_string() == path)
        .map(|r| r.method.value.to_string())
        .collect();
    let shape = |p: &str| {
        p.split('/')
            .map(|seg| if seg.starts_with('{') { "{}" } else { seg })
            .collect::<Vec<_>>()
            .join("/")
    };
    let same_shape = api
        .routes
        .iter()
        .map(|r| r.path.to_string())
        .find(|p| shape(p) == shape(path));
    let help = if let Some(p) = same_shape.filter(|_| same_path.is_empty()) {
        format!("did you mean `{p}`? name the path parameters as the resource does")
    } else if same_path.is_empty() {
        let paths: Vec<String> = api.routes.iter().map(|r| r.path.to_string()).collect();
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        match crate::kdl::closest(path, &refs) {
            Some(p) => format!(
                "did you mean `{p}`? method throttles name a route's path as written, parameters included"
            ),
            None => {
                "method throttles name a route's path as written, e.g. `\"/pets/{id}\"`".to_owned()
            }
        }
    } else {
        format!("`{path}` has {}", same_path.join(", "))
    };
    sink.error(
        "check::unknown-route",
        format!("no route `{} {path}` to throttle", m.method.value),
        m.path.span,
        "no such route",
        help,
    );
}

fn limits(t: &Throttle, sink: &mut Sink) {
    let r = t.rate.value;
    if !(r > 0.0 && r <= MAX_THROTTLE) {
        sink.error(
            "check::throttle-range",
            format!("rate={r} is out of range"),
            t.rate.span,
            "requests per second",
            format!("use a rate above 0 and at most {MAX_THROTTLE}"),
        );
    }
    let b = t.burst.value;
    if b == 0 || b as f64 > MAX_THROTTLE {
        sink.error(
            "check::throttle-range",
            format!("burst={b} is out of range"),
            t.burst.span,
            if b == 0 {
                "a bucket of 0 refuses every request"
            } else {
                "too large"
            },
            format!("use a burst from 1 to {MAX_THROTTLE}"),
        );
    }
}

fn usage_plans(api: &Api, sink: &mut Sink) {
    if api.flavor == Flavor::Http {
        // API Gateway's HTTP APIs have neither usage plans nor API keys.
        for plan in &api.usage_plans {
            sink.error(
                "check::http-api-keys",
                format!(
                    "usage plan `{}`: HTTP APIs have no usage plans",
                    plan.name.value
                ),
                plan.name.span,
                "not in an HTTP API",
                "use `flavor=rest` for API keys and usage plans, or throttle the HTTP API's \
                 routes with `throttle` in its stages",
            );
        }
        for route in &api.routes {
            if let Some(span) = route.api_key_required {
                sink.error(
                    "check::http-api-keys",
                    format!(
                        "`{} {}`: HTTP APIs have no API keys",
                        route.method.value, route.path
                    ),
                    span,
                    "not in an HTTP API",
                    "use `flavor=rest` for API keys, or remove `api-key-required`",
                );
            }
        }
        if let Some(source) = &api.api_key_source {
            sink.error(
                "check::http-api-keys",
                "HTTP APIs have no API keys",
                source.span,
                "not in an HTTP API",
                "remove `api-key-source`, or use `flavor=rest`",
            );
        }
        return;
    }
    if let Some(source) = &api.api_key_source
        && source.value == crate::ir::ApiKeySource::Authorizer
    {
        let custom = |r: &crate::ir::Route| match &r.auth {
            Some(crate::ir::RouteAuth::Authorizer { name, .. }) => api
                .authorizers
                .iter()
                .any(|a| a.name.value == name.value && a.kind.handler().is_some()),
            _ => false,
        };
        for route in &api.routes {
            if let Some(span) = route.api_key_required
                && !custom(route)
            {
                sink.error(
                    "check::api-key-source",
                    format!(
                        "`{} {}` requires an API key from its authorizer, and has no custom authorizer",
                        route.method.value, route.path
                    ),
                    span,
                    "no authorizer supplies the key",
                    "add `auth NAME` naming a `type=token` or `type=request` authorizer (its answer's usage identifier is the key), or use `api-key-source header`",
                );
            }
        }
    }

    let mut names: HashMap<&str, &crate::ir::UsagePlan> = HashMap::new();
    for plan in &api.usage_plans {
        let name = &plan.name.value;
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            sink.error(
                "check::bad-plan-name",
                format!("`{name}` cannot name a usage plan"),
                plan.name.span,
                "not a valid plan name",
                "use 1 to 64 letters, digits, `_` or `-`: API keys list their plans by name",
            );
        }
        if let Some(first) = names.insert(name.as_str(), plan) {
            sink.error_with(
                "check::duplicate-usage-plan",
                format!("usage plan `{name}` is declared twice"),
                &[(plan.name.span, "second"), (first.name.span, "first")],
                "give each usage plan its own name",
            );
        }
        if let Some(t) = &plan.throttle {
            limits(t, sink);
        }
        if let Some(q) = &plan.quota {
            if q.limit.value == 0 || q.limit.value > MAX_QUOTA {
                sink.error(
                    "check::quota-range",
                    format!("limit={} is out of range", q.limit.value),
                    q.limit.span,
                    if q.limit.value == 0 {
                        "a quota of 0 refuses every request"
                    } else {
                        "too large"
                    },
                    format!("use a limit from 1 to {MAX_QUOTA} requests per period"),
                );
            }
            if let Some(offset) = &q.offset
                && offset.value >= q.limit.value
                && q.limit.value > 0
            {
                sink.error(
                    "check::quota-range",
                    format!(
                        "offset={} leaves nothing of limit={} in a key's first period",
                        offset.value, q.limit.value
                    ),
                    offset.span,
                    "not below the limit",
                    "the offset is subtracted from the limit in a key's first period: use a \
                     smaller offset, or none",
                );
            }
        }
        if plan.stages.is_empty() {
            sink.warning(
                "check::plan-without-stage",
                format!("usage plan `{name}` is bound to no stage"),
                plan.name.span,
                "applies nowhere",
                format!(
                    "add the stages it covers: `usage-plan {name} {{ stage {} }}`",
                    api.stages
                        .first()
                        .map(|s| s.name.value.as_str())
                        .unwrap_or("prod")
                ),
            );
        }
        let mut stages: HashMap<&str, &crate::ir::PlanStage> = HashMap::new();
        for ps in &plan.stages {
            let stage = ps.name.value.as_str();
            if !api.stages.iter().any(|s| s.name.value == stage) {
                let known: Vec<&str> = api.stages.iter().map(|s| s.name.value.as_str()).collect();
                let hint = crate::kdl::closest(stage, &known)
                    .map(|s| format!("did you mean `{s}`? "))
                    .unwrap_or_default();
                sink.error(
                    "check::unknown-stage",
                    format!(
                        "usage plan `{name}` names stage `{stage}`, which the API does not have"
                    ),
                    ps.name.span,
                    "no such stage",
                    format!("{hint}the API's stages are: {}", known.join(", ")),
                );
            }
            if let Some(first) = stages.insert(stage, ps) {
                sink.error_with(
                    "check::duplicate-plan-stage",
                    format!("usage plan `{name}` names stage `{stage}` twice"),
                    &[(ps.name.span, "second"), (first.name.span, "first")],
                    "write each stage once; put all its method throttles in one `stage` node",
                );
            }
            if ps.method_throttles.len() > MAX_PLAN_METHOD_THROTTLES {
                sink.error(
                    "check::too-many-method-throttles",
                    format!(
                        "usage plan `{name}` has {} method throttles in stage `{stage}`",
                        ps.method_throttles.len()
                    ),
                    ps.name.span,
                    "too many",
                    format!(
                        "API Gateway allows {MAX_PLAN_METHOD_THROTTLES} per stage of a plan; \
                         use the plan's own `throttle` for the rest"
                    ),
                );
            }
            method_throttles(
                api,
                &ps.method_throttles,
                &format!("stage `{stage}` of usage plan `{name}`"),
                sink,
            );
        }
    }

    // Keys only matter on methods that require one: API Gateway bypasses plan limits elsewhere.
    let keyed: Vec<&crate::ir::Route> = api
        .routes
        .iter()
        .filter(|r| r.api_key_required.is_some())
        .collect();
    if keyed.is_empty() {
        for plan in &api.usage_plans {
            sink.warning(
                "check::unused-usage-plan",
                format!(
                    "usage plan `{}` limits nothing: no method requires an API key",
                    plan.name.value
                ),
                plan.name.span,
                "never applied",
                "add `api-key-required` to the methods the plan should meter; API Gateway \
                 bypasses plan limits on methods that do not require a key",
            );
        }
        return;
    }
    for stage in &api.stages {
        let covered = api
            .usage_plans
            .iter()
            .any(|p| p.stages.iter().any(|s| s.name.value == stage.name.value));
        if covered {
            continue;
        }
        let route = keyed[0];
        sink.warning(
            "check::api-key-without-plan",
            format!(
                "no usage plan is bound to stage `{}`: every request to `{} {}` there answers 403",
                stage.name.value, route.method.value, route.path
            ),
            route.api_key_required.unwrap_or(route.span),
            format!("needs a key in a plan bound to `{}`", stage.name.value),
            format!(
                "API Gateway accepts only keys of a usage plan bound to the stage: add \
                 `usage-plan basic {{ stage {} }}`",
                stage.name.value
            ),
        );
    }
}
