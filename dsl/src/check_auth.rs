//! Checks of access control: authorizers (names, handlers, identity sources, TTLs, JWT issuers
//! and audiences), the methods that name them, the resource policy and CORS.

use crate::diagnostics::Sink;
use crate::ir::{
    Api, AuthorizerKind, Flavor, IdentityLocation, Integration, JwksLocation, MAX_AUTHORIZER_TTL,
    MAX_JWT_AUDIENCES, MAX_ROUTE_SCOPES, Method, RouteAuth,
};
use std::collections::HashMap;

pub(crate) fn check(api: &Api, sink: &mut Sink) {
    authorizers(api, sink);
    routes(api, sink);
    if let Some(policy) = &api.resource_policy {
        resource_policy(api, policy, sink);
    }
    for cors in api
        .cors
        .iter()
        .chain(api.routes.iter().filter_map(|r| r.cors.as_ref()))
    {
        check_cors(cors, sink);
    }
}

fn authorizers(api: &Api, sink: &mut Sink) {
    let route_handlers: HashMap<&str, ()> = api
        .routes
        .iter()
        .filter_map(|r| match &r.integration {
            Integration::Handler { name, .. } => Some((name.value.as_str(), ())),
            _ => None,
        })
        .collect();
    let mut names: HashMap<&str, ()> = HashMap::new();
    let mut handlers: HashMap<&str, ()> = HashMap::new();
    for a in &api.authorizers {
        let name = a.name.value.as_str();
        if name == "iam" || name == "none" {
            sink.error(
                "check::reserved-authorizer-name",
                format!("`{name}` cannot name an authorizer"),
                a.name.span,
                "reserved",
                "`auth iam` means SigV4; pick another name such as `users`",
            );
        } else if names.insert(name, ()).is_some() {
            sink.error(
                "check::duplicate-authorizer",
                format!("authorizer `{name}` is declared twice"),
                a.name.span,
                "second declaration",
                "rename or remove one of them",
            );
        }
        if a.ttl.value > MAX_AUTHORIZER_TTL {
            sink.error(
                "check::authorizer-ttl",
                format!(
                    "an authorizer result TTL of {} s is over API Gateway's maximum of {MAX_AUTHORIZER_TTL} s",
                    a.ttl.value
                ),
                a.ttl.span,
                "too long",
                "use at most `ttl=3600`; `ttl=0` turns the result cache off",
            );
        }
        if let Some(handler) = a.kind.handler() {
            let h = handler.value.as_str();
            if !crate::check::is_snake_ident(h) {
                sink.error(
                    "check::bad-handler-name",
                    format!("`{h}` cannot name an authorizer handler"),
                    handler.span,
                    "not a snake_case Rust identifier",
                    "authorizer handlers become trait methods: use snake_case such as `check_token`",
                );
            } else if route_handlers.contains_key(h) || handlers.insert(h, ()).is_some() {
                sink.error(
                    "check::handler-signature-conflict",
                    format!("`{h}` names an authorizer handler and another handler"),
                    handler.span,
                    "name already taken",
                    "an authorizer is called with the authorizer's input, not a request: give it its own name such as `authorize_users`",
                );
            }
        }
        match &a.kind {
            AuthorizerKind::Token { validation, .. } => {
                header_only(a, sink, "a token authorizer reads one header");
                if let Some(v) = validation
                    && let Err(e) = regex::Regex::new(&format!("^(?:{})$", v.value))
                {
                    sink.error(
                        "check::bad-regex",
                        "the token validation expression does not compile",
                        v.span,
                        "bad regular expression",
                        format!("fix the expression ({e}); lookaround and backreferences are not supported"),
                    );
                }
            }
            AuthorizerKind::Request { .. } => {
                if a.identity_sources.is_empty() && a.ttl.value > 0 {
                    sink.error(
                        "check::identity-sources",
                        "a request authorizer with a result cache needs identity sources",
                        a.name.span,
                        "nothing to key the cache on",
                        "list them (`identity-source \"header.x-user\" \"querystring.tenant\"`), or set `ttl=0`",
                    );
                }
            }
            AuthorizerKind::Jwt {
                issuer,
                audiences,
                jwks,
            } => {
                header_only(a, sink, "a JWT authorizer reads the token from one header");
                if !issuer.value.starts_with("https://") {
                    sink.error(
                        "check::jwt-issuer",
                        "a JWT issuer is an https:// URL",
                        issuer.span,
                        "not an https URL",
                        "write the tokens' `iss` exactly, e.g. `issuer=\"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc\"`",
                    );
                }
                if audiences.is_empty() {
                    sink.error(
                        "check::jwt-audience",
                        format!("JWT authorizer `{}` accepts no audience", a.name.value),
                        a.name.span,
                        "no `audience`",
                        "add `audience \"my-client-id\"` inside: tokens must carry it in `aud` or `client_id`",
                    );
                } else if audiences.len() > MAX_JWT_AUDIENCES {
                    sink.error(
                        "check::jwt-audience",
                        format!(
                            "{} audiences; API Gateway allows {MAX_JWT_AUDIENCES}",
                            audiences.len()
                        ),
                        audiences[MAX_JWT_AUDIENCES].span,
                        "one too many",
                        "list at most 50 audiences",
                    );
                }
                if let JwksLocation::Url(u) = &jwks.value
                    && !u.starts_with("https://")
                {
                    sink.error(
                        "check::jwks-uri",
                        "signing keys are fetched over https only",
                        jwks.span,
                        "not an https URL",
                        "write `jwks-uri=\"https://…/.well-known/jwks.json\"`, or `jwks-file=` for a local file",
                    );
                }
            }
        }
    }
}

fn header_only(a: &crate::ir::Authorizer, sink: &mut Sink, why: &str) {
    for (i, s) in a.identity_sources.iter().enumerate() {
        if i > 0 || s.location != IdentityLocation::Header {
            sink.error(
                "check::identity-sources",
                format!("{why}; `{}.{}` cannot be a source here", s.location.as_str(), s.name),
                s.span,
                "not the one header",
                "keep one `identity-source \"header.NAME\"`, or use `type=request` for several sources",
            );
        }
    }
}

fn routes(api: &Api, sink: &mut Sink) {
    let by_name: HashMap<&str, &crate::ir::Authorizer> = api
        .authorizers
        .iter()
        .map(|a| (a.name.value.as_str(), a))
        .collect();
    let names: Vec<&str> = by_name.keys().copied().chain(["iam"]).collect();
    for route in &api.routes {
        let Some(auth) = &route.auth else { continue };
        let RouteAuth::Authorizer { name, scopes } = auth else {
            continue;
        };
        let Some(a) = by_name.get(name.value.as_str()) else {
            let suggestion = crate::kdl::closest(&name.value, &names)
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            sink.error(
                "check::unknown-authorizer",
                format!(
                    "`{} {}` names authorizer `{}`, which the API does not declare",
                    route.method.value, route.path, name.value
                ),
                name.span,
                "unknown authorizer",
                format!("{suggestion}declare it with `authorizer {} type=… {{ … }}`, or write `auth iam`", name.value),
            );
            continue;
        };
        if !scopes.is_empty() && !matches!(a.kind, AuthorizerKind::Jwt { .. }) {
            sink.error(
                "check::scopes",
                format!(
                    "authorizer `{}` is a {} authorizer; scopes apply to JWT authorizers",
                    a.name.value,
                    a.kind.type_name()
                ),
                scopes[0].span,
                "not checked by this authorizer",
                "remove `scopes=`: a custom authorizer's policy decides what the caller may do",
            );
        }
        if scopes.len() > MAX_ROUTE_SCOPES {
            sink.error(
                "check::scopes",
                format!(
                    "{} scopes; API Gateway allows {MAX_ROUTE_SCOPES} per route",
                    scopes.len()
                ),
                scopes[MAX_ROUTE_SCOPES].span,
                "one too many",
                "list at most 10 scopes",
            );
        }
    }
    if api.flavor == Flavor::Http {
        for a in &api.authorizers {
            if let AuthorizerKind::Token { .. } = a.kind {
                sink.error(
                    "check::http-token-authorizer",
                    "HTTP APIs have no TOKEN authorizers",
                    a.name.span,
                    "REST only",
                    "use `type=request` with `identity-source \"header.Authorization\"`, or `type=jwt`",
                );
            }
        }
    }
}

fn resource_policy(api: &Api, policy: &crate::ir::ResourcePolicy, sink: &mut Sink) {
    if api.flavor == Flavor::Http {
        sink.error(
            "check::http-resource-policy",
            "HTTP APIs have no resource policies",
            policy.span,
            "REST only",
            "use `flavor=rest`, or remove `resource-policy`",
        );
    }
    for st in &policy.statements {
        for cidr in st.source_ips.iter().chain(&st.not_source_ips) {
            let ok = cidr.value.parse::<ipnet::IpNet>().is_ok()
                || cidr.value.parse::<std::net::IpAddr>().is_ok();
            if !ok {
                sink.error(
                    "check::bad-cidr",
                    format!("`{}` is not an IP address or CIDR block", cidr.value),
                    cidr.span,
                    "not an address",
                    "write `\"203.0.113.0/24\"`, `\"2001:db8::/32\"` or a single address",
                );
            }
        }
        for r in &st.resources {
            let parts: Vec<&str> = r.value.splitn(3, '/').collect();
            let method_ok = parts
                .get(1)
                .is_none_or(|m| m.contains('*') || m.contains('?') || Method::parse(m).is_some());
            let stage_ok = parts[0].contains(['*', '?'])
                || api.stages.iter().any(|s| s.name.value == parts[0]);
            if !method_ok || !stage_ok || (parts.len() < 3 && !r.value.ends_with('*')) {
                sink.error(
                    "check::bad-policy-resource",
                    format!("`{}` is not a method pattern", r.value),
                    r.span,
                    "expected STAGE/METHOD/PATH",
                    "write `\"prod/GET/pets/*\"` or `\"*/POST/*\"` (the part of the method ARN after the API id; `*` and `?` are wildcards)",
                );
            }
        }
        if st.principals.iter().any(|p| p.value.is_empty()) {
            sink.error(
                "check::bad-principal",
                "an empty principal matches nobody",
                st.span,
                "empty principal",
                "write an IAM ARN such as `\"arn:aws:iam::123456789012:user/alice\"`, a principalId, or `\"*\"`",
            );
        }
    }
}

fn check_cors(cors: &crate::ir::Cors, sink: &mut Sink) {
    if cors.disabled {
        return;
    }
    let any = cors.allow_origins.iter().find(|o| o.value == "*");
    if let (Some(star), Some(cred)) = (any, &cors.allow_credentials)
        && cred.value
    {
        sink.error(
            "check::cors-credentials",
            "`allow-credentials #true` with origin `*`",
            star.span,
            "any origin",
            "browsers refuse credentials with a wildcard origin: list the origins (`allow-origins \"https://app.example.com\"`)",
        );
    }
    for o in &cors.allow_origins {
        if o.value == "*" {
            continue;
        }
        let valid = o.value.split_once("://").is_some_and(|(scheme, rest)| {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && !rest.is_empty()
                && !rest.contains('/')
        });
        if !valid {
            sink.error(
                "check::cors-origin",
                format!("`{}` is not an origin", o.value),
                o.span,
                "expected scheme://host[:port]",
                "an origin has no path or trailing slash: `\"https://app.example.com\"`; or `\"*\"` for any",
            );
        }
    }
    for m in &cors.allow_methods {
        if m.value != "*" && Method::parse(&m.value).is_none() {
            sink.error(
                "check::cors-method",
                format!("`{}` is not an HTTP method", m.value),
                m.span,
                "unknown method",
                "list methods such as `\"GET\" \"POST\"`, or `\"*\"`",
            );
        }
    }
    for h in cors.allow_headers.iter().chain(&cors.expose_headers) {
        if h.value != "*" && http_header_name(&h.value).is_none() {
            sink.error(
                "check::cors-header",
                format!("`{}` is not a header name", h.value),
                h.span,
                "not a header name",
                "write header names such as `\"content-type\"`",
            );
        }
    }
    if let Some(age) = &cors.max_age
        && age.value > 86_400
    {
        sink.error(
            "check::cors-max-age",
            format!(
                "`max-age {}` is over API Gateway's maximum of 86400 s",
                age.value
            ),
            age.span,
            "too long",
            "use at most `max-age 86400` (browsers cap it lower anyway)",
        );
    }
}

fn http_header_name(s: &str) -> Option<()> {
    (!s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)))
    .then_some(())
}
