//! Checks of mapping templates, integration responses, parameter mappings and gateway
//! responses (the semantic half; syntax is checked while reading).

use crate::diagnostics::Sink;
use crate::ir::{
    Api, Flavor, GatewayResponse, Integration, IntegrationResponse, Location, MappingSource,
    MappingTemplate, ParameterMapping, Route,
};
use std::collections::HashMap;

pub(crate) fn check(api: &Api, sink: &mut Sink) {
    for route in &api.routes {
        let (templates, responses, parameters): (
            &[MappingTemplate],
            &[IntegrationResponse],
            &[ParameterMapping],
        ) = match &route.integration {
            Integration::Http {
                request_templates,
                responses,
                parameters,
                span,
                ..
            } => {
                if api.flavor == Flavor::Http {
                    sink.error(
                            "check::flavor",
                            "HTTP APIs have no non-proxy `http` integration",
                            *span,
                            "REST APIs only",
                            "use `integration http-proxy` (with parameter mapping in a later version), or make the API `flavor=rest`",
                        );
                }
                if responses.is_empty() {
                    sink.error(
                        "check::no-integration-response",
                        format!(
                            "`integration http` of `{} {}` has no `response`",
                            route.method.value, route.path
                        ),
                        *span,
                        "no integration responses",
                        "add at least the default one: `response status=200`",
                    );
                }
                (request_templates, responses, parameters)
            }
            Integration::Mock {
                request_templates,
                responses,
                span,
                ..
            } => {
                if api.flavor == Flavor::Http
                    && (!request_templates.is_empty() || !responses.is_empty())
                {
                    sink.error(
                        "check::flavor",
                        "HTTP APIs have no mapping templates",
                        *span,
                        "REST APIs only",
                        "use the fixed form `integration mock status=… body=…`, or make the API `flavor=rest`",
                    );
                }
                if !request_templates.is_empty() && responses.is_empty() {
                    sink.error(
                        "check::no-integration-response",
                        "a mock with a request template needs `response` nodes",
                        *span,
                        "the template's statusCode selects one of them",
                        "add `response status=200 { template \"application/json\" \"…\" }`",
                    );
                }
                (request_templates, responses, &[])
            }
            _ => continue,
        };
        unique_content_types(templates, "request template", sink);
        check_parameters(route, parameters, sink);
        let mut default: Option<&IntegrationResponse> = None;
        let mut statuses: HashMap<u16, &IntegrationResponse> = HashMap::new();
        for r in responses {
            check_status(r.status.value, r.status.span, sink);
            if let Some(first) = statuses.insert(r.status.value, r) {
                sink.error_with(
                    "check::duplicate-response",
                    format!("two integration responses for status {}", r.status.value),
                    &[(r.status.span, "second"), (first.status.span, "first")],
                    "API Gateway keeps one integration response per status code; merge them",
                );
            }
            match &r.pattern {
                None => {
                    if let Some(first) = default.replace(r) {
                        sink.error_with(
                            "check::duplicate-response",
                            "two default integration responses (no `pattern=`)",
                            &[(r.span, "second default"), (first.span, "first default")],
                            "give one of them a `pattern=` matched against the backend status, e.g. `pattern=\"4\\\\d{2}\"`",
                        );
                    }
                }
                Some(p) => {
                    if let Err(e) = tollgate_template::vtl::java_regex(&p.value, true) {
                        sink.error(
                            "check::bad-pattern",
                            format!("selection pattern `{}` does not compile", p.value),
                            p.span,
                            "bad regex",
                            format!(
                                "{}; patterns are regexes matched against the whole status code, e.g. `5\\d{{2}}`",
                                e.message.lines().last().unwrap_or("").trim()
                            ),
                        );
                    }
                }
            }
            unique_content_types(&r.templates, "response template", sink);
        }
    }
    let mut seen: HashMap<&str, &GatewayResponse> = HashMap::new();
    for g in &api.gateway_responses {
        if api.flavor == Flavor::Http {
            sink.error(
                "check::flavor",
                "HTTP APIs have no customisable gateway responses",
                g.kind.span,
                "REST APIs only",
                "remove the `gateway-response` nodes, or make the API `flavor=rest`",
            );
        }
        if let Some(first) = seen.insert(&g.kind.value, g) {
            sink.error_with(
                "check::duplicate-gateway-response",
                format!("`gateway-response {}` twice", g.kind.value),
                &[(g.kind.span, "second"), (first.kind.span, "first")],
                "merge them into one",
            );
        }
        if g.kind.value == "REQUEST_TOO_LARGE" {
            sink.error(
                "check::gateway-response",
                "REQUEST_TOO_LARGE cannot be customised",
                g.kind.span,
                "fixed by API Gateway",
                "remove this node; API Gateway always answers 413 `Request Too Long`",
            );
        }
        if let Some(s) = &g.status {
            check_status(s.value, s.span, sink);
        }
        unique_content_types(&g.templates, "template", sink);
    }
}

fn check_status(status: u16, span: crate::ir::Span, sink: &mut Sink) {
    if !(100..=599).contains(&status) {
        sink.error(
            "check::bad-status",
            format!("status {status} is not an HTTP status code"),
            span,
            "out of range",
            "use a status from 100 to 599",
        );
    }
}

fn unique_content_types(templates: &[MappingTemplate], what: &str, sink: &mut Sink) {
    let mut seen: HashMap<String, &MappingTemplate> = HashMap::new();
    for t in templates {
        let ct = t.content_type.value.to_ascii_lowercase();
        if let Some(first) = seen.insert(ct, t) {
            sink.error_with(
                "check::duplicate-template",
                format!("two {what}s for `{}`", t.content_type.value),
                &[
                    (t.content_type.span, "second"),
                    (first.content_type.span, "first"),
                ],
                "one template per content type: remove or rename one",
            );
        }
    }
}

fn check_parameters(route: &Route, parameters: &[ParameterMapping], sink: &mut Sink) {
    let mut seen: HashMap<String, &ParameterMapping> = HashMap::new();
    for m in parameters {
        let key = format!("{:?}", m.target.value);
        if let Some(first) = seen.insert(key, m) {
            sink.error_with(
                "check::duplicate-mapping",
                "the same parameter is mapped twice",
                &[(m.target.span, "second"), (first.target.span, "first")],
                "keep one mapping per target",
            );
        }
        if let MappingSource::MethodRequest {
            location: Location::Path,
            name,
        } = &m.source.value
            && route.path.param(name).is_none()
        {
            sink.error(
                "check::unknown-path-param",
                format!("`{name}` is not a path parameter of `{}`", route.path),
                m.source.span,
                "unknown path parameter",
                "map one of the route's own `{name}` parameters",
            );
        }
    }
}
