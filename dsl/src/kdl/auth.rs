//! The KDL nodes of access control: `authorizer`, `auth`, `resource-policy` and `cors`.

use super::{
    NodeReader, boolean, children, integer, name_span, no_children, string, to_span, unknown_node,
    value_span,
};
use crate::diagnostics::Sink;
use crate::ir::{
    Authorizer, AuthorizerKind, Cors, DEFAULT_AUTHORIZER_TTL, IdentityLocation, IdentitySource,
    JwksLocation, PolicyStatement, ResourcePolicy, RouteAuth, Spanned,
};
use ::kdl::{KdlNode, KdlValue};

/// `authorizer NAME type=token|request|jwt …`.
pub(super) fn read_authorizer(node: &KdlNode, sink: &mut Sink) -> Option<Authorizer> {
    let mut n = NodeReader::new(node);
    let name = n
        .arg(0)
        .and_then(|e| string(e, sink, "the authorizer name"));
    let ty = n
        .prop("type")
        .and_then(|e| string(e, sink, "the authorizer type"));
    let handler = n.prop("handler").and_then(|e| string(e, sink, "handler"));
    let ttl = n
        .prop("ttl")
        .and_then(|e| Some(Spanned::new(integer(e, sink, "ttl")?, value_span(e))));
    let issuer = n.prop("issuer").and_then(|e| string(e, sink, "issuer"));
    let jwks_file = n
        .prop("jwks-file")
        .and_then(|e| string(e, sink, "jwks-file"));
    let jwks_uri = n.prop("jwks-uri").and_then(|e| string(e, sink, "jwks-uri"));
    n.finish(sink, "authorizer");

    let mut identity_sources = Vec::new();
    let mut validation = None;
    let mut audiences = Vec::new();
    for child in children(node) {
        match child.name().value() {
            "identity-source" => identity_sources.extend(
                string_args(child, sink, "a source")
                    .into_iter()
                    .filter_map(|s| identity_source(&s, sink)),
            ),
            "validation" => {
                let mut v = string_args(child, sink, "a regular expression").into_iter();
                validation = v.next();
                if let Some(extra) = v.next() {
                    sink.error(
                        "kdl::unexpected-argument",
                        "`validation` takes one regular expression",
                        extra.span,
                        "second expression",
                        "join the alternatives into one expression with `|`",
                    );
                }
            }
            "audience" => audiences.extend(string_args(child, sink, "an audience")),
            other => unknown_node(
                sink,
                child,
                other,
                "`authorizer`",
                &["identity-source", "validation", "audience"],
            ),
        }
    }

    let Some(name) = name else {
        sink.error(
            "kdl::missing-argument",
            "`authorizer` needs a name",
            name_span(node),
            "name missing",
            "write `authorizer users type=jwt issuer=\"https://id.example.com\" jwks-uri=\"https://id.example.com/.well-known/jwks.json\"`",
        );
        return None;
    };
    let Some(ty) = ty else {
        sink.error(
            "kdl::missing-property",
            format!("authorizer `{}` needs `type=`", name.value),
            name_span(node),
            "type missing",
            "write `type=token` or `type=request` (a Rust handler method decides) or `type=jwt` (tokens checked against a JWKS)",
        );
        return None;
    };
    let missing = |sink: &mut Sink, prop: &str, example: &str| {
        sink.error(
            "kdl::missing-property",
            format!("a `type={}` authorizer needs `{prop}=`", ty.value),
            name_span(node),
            format!("`{prop}` missing"),
            format!("write {example}"),
        );
    };
    let misplaced = |sink: &mut Sink, what: &str, span| {
        sink.error(
            "kdl::misplaced-property",
            format!("`{what}` does not apply to a `type={}` authorizer", ty.value),
            span,
            "not for this type",
            "remove it; `handler`, `ttl` and `validation` are for token/request authorizers, `issuer`, `audience` and `jwks-*` for jwt ones",
        );
    };
    let kind = match ty.value.as_str() {
        "token" | "request" => {
            for (what, s) in [
                ("issuer", &issuer),
                ("jwks-file", &jwks_file),
                ("jwks-uri", &jwks_uri),
            ] {
                if let Some(s) = s {
                    misplaced(sink, what, s.span);
                }
            }
            if let Some(a) = audiences.first() {
                misplaced(sink, "audience", a.span);
            }
            let Some(handler) = handler else {
                missing(
                    sink,
                    "handler",
                    "`handler=check_token`: the handler trait gains a method of that name",
                );
                return None;
            };
            if ty.value == "token" {
                AuthorizerKind::Token {
                    handler,
                    validation,
                }
            } else {
                if let Some(v) = &validation {
                    misplaced(sink, "validation", v.span);
                }
                AuthorizerKind::Request { handler }
            }
        }
        "jwt" => {
            if let Some(h) = &handler {
                misplaced(sink, "handler", h.span);
            }
            if let Some(v) = &validation {
                misplaced(sink, "validation", v.span);
            }
            let Some(issuer) = issuer else {
                missing(
                    sink,
                    "issuer",
                    "`issuer=\"https://cognito-idp.us-east-1.amazonaws.com/POOL\"` (the tokens' `iss`)",
                );
                return None;
            };
            let jwks = match (jwks_file, jwks_uri) {
                (Some(f), None) => Spanned::new(JwksLocation::File(f.value), f.span),
                (None, Some(u)) => Spanned::new(JwksLocation::Url(u.value), u.span),
                (Some(_), Some(u)) => {
                    sink.error(
                        "kdl::conflicting-properties",
                        "`jwks-file` and `jwks-uri` both given",
                        u.span,
                        "second key source",
                        "keep one: a file read at start-up, or an https:// URL fetched and cached",
                    );
                    return None;
                }
                (None, None) => {
                    missing(
                        sink,
                        "jwks-uri",
                        "`jwks-uri=\"https://…/.well-known/jwks.json\"` or `jwks-file=\"jwks.json\"`",
                    );
                    return None;
                }
            };
            AuthorizerKind::Jwt {
                issuer,
                audiences,
                jwks,
            }
        }
        other => {
            sink.error(
                "kdl::bad-value",
                format!("unknown authorizer type `{other}`"),
                ty.span,
                "not an authorizer type",
                "use `type=token`, `type=request` or `type=jwt`; IAM (SigV4) is `auth iam` on a method, no authorizer needed",
            );
            return None;
        }
    };
    if identity_sources.is_empty() && !matches!(kind, AuthorizerKind::Request { .. }) {
        identity_sources.push(IdentitySource {
            location: IdentityLocation::Header,
            name: "Authorization".to_owned(),
            span: name.span,
        });
    }
    Some(Authorizer {
        name,
        kind,
        identity_sources,
        ttl: ttl.unwrap_or_else(|| Spanned::new(DEFAULT_AUTHORIZER_TTL, name_span(node))),
        span: to_span(node.span()),
    })
}

/// `header.NAME`, `querystring.NAME`, `stageVariables.NAME`, `context.NAME` (a
/// `method.request.` prefix is allowed on the first two, as API Gateway writes them).
pub fn identity_source(s: &Spanned<String>, sink: &mut Sink) -> Option<IdentitySource> {
    let bare = s.value.strip_prefix("method.request.").unwrap_or(&s.value);
    let parsed = bare.split_once('.').and_then(|(loc, name)| {
        let location = match loc {
            "header" => IdentityLocation::Header,
            "querystring" => IdentityLocation::QueryString,
            "stageVariables" => IdentityLocation::StageVariable,
            "context" => IdentityLocation::Context,
            _ => return None,
        };
        (!name.is_empty()).then(|| IdentitySource {
            location,
            name: name.to_owned(),
            span: s.span,
        })
    });
    if parsed.is_none() {
        let help = if bare.starts_with("path.") {
            "path parameters cannot be identity sources (as in API Gateway); use a header or query string"
        } else {
            "write `header.NAME`, `querystring.NAME`, `stageVariables.NAME` or `context.NAME`"
        };
        sink.error(
            "kdl::bad-identity-source",
            format!("`{}` is not an identity source", s.value),
            s.span,
            "expected LOCATION.NAME",
            help,
        );
    }
    parsed
}

/// `auth NAME [scopes="a b"]` or `auth iam` in a method.
pub(super) fn read_route_auth(node: &KdlNode, sink: &mut Sink) -> Option<RouteAuth> {
    let mut n = NodeReader::new(node);
    let name = n
        .arg(0)
        .and_then(|e| string(e, sink, "the authorizer name"));
    let scopes = n.prop("scopes").and_then(|e| string(e, sink, "scopes"));
    n.finish(sink, "auth");
    no_children(node, sink);
    let Some(name) = name else {
        sink.error(
            "kdl::missing-argument",
            "`auth` needs an authorizer name or `iam`",
            name_span(node),
            "name missing",
            "write `auth users` (an `authorizer users …` of the API) or `auth iam` (SigV4-signed requests)",
        );
        return None;
    };
    let scopes: Vec<Spanned<String>> = scopes
        .map(|s| {
            let base = s.span.offset + 1; // inside the opening quote
            let mut out = Vec::new();
            let mut offset = 0;
            for part in s.value.split(' ') {
                if !part.is_empty() {
                    out.push(Spanned::new(
                        part.to_owned(),
                        crate::ir::Span::new(base + offset, part.len()),
                    ));
                }
                offset += part.len() + 1;
            }
            out
        })
        .unwrap_or_default();
    if name.value == "iam" {
        if let Some(first) = scopes.first() {
            sink.error(
                "kdl::misplaced-property",
                "`scopes` apply to JWT authorizers, not to `auth iam`",
                first.span,
                "not for IAM",
                "remove `scopes=`; IAM callers are admitted by the resource policy",
            );
        }
        return Some(RouteAuth::Iam(name.span));
    }
    Some(RouteAuth::Authorizer { name, scopes })
}

/// `resource-policy { allow { … } deny { … } }`.
pub(super) fn read_resource_policy(node: &KdlNode, sink: &mut Sink) -> Option<ResourcePolicy> {
    NodeReader::new(node).finish(sink, "resource-policy");
    let mut statements = Vec::new();
    for child in children(node) {
        let allow = match child.name().value() {
            "allow" => true,
            "deny" => false,
            other => {
                unknown_node(sink, child, other, "`resource-policy`", &["allow", "deny"]);
                continue;
            }
        };
        NodeReader::new(child).finish(sink, child.name().value());
        let mut st = PolicyStatement {
            allow,
            resources: Vec::new(),
            source_ips: Vec::new(),
            not_source_ips: Vec::new(),
            user_agents: Vec::new(),
            referers: Vec::new(),
            principals: Vec::new(),
            span: to_span(child.span()),
        };
        for c in children(child) {
            let (list, what) = match c.name().value() {
                "resource" => (&mut st.resources, "a resource pattern"),
                "source-ip" => (&mut st.source_ips, "an address or CIDR block"),
                "not-source-ip" => (&mut st.not_source_ips, "an address or CIDR block"),
                "user-agent" => (&mut st.user_agents, "a pattern"),
                "referer" => (&mut st.referers, "a pattern"),
                "principal" => (&mut st.principals, "a principal"),
                other => {
                    unknown_node(
                        sink,
                        c,
                        other,
                        &format!("`{}`", child.name().value()),
                        &[
                            "resource",
                            "source-ip",
                            "not-source-ip",
                            "user-agent",
                            "referer",
                            "principal",
                        ],
                    );
                    continue;
                }
            };
            list.extend(string_args(c, sink, what));
        }
        statements.push(st);
    }
    Some(ResourcePolicy {
        statements,
        span: to_span(node.span()),
    })
}

/// `cors { … }` on `api` or in a resource, or `cors #false` in a resource.
pub(super) fn read_cors(node: &KdlNode, sink: &mut Sink) -> Option<Cors> {
    let mut n = NodeReader::new(node);
    let off = n.arg(0).and_then(|e| boolean(e, sink, "cors"));
    n.finish(sink, "cors");
    let mut cors = Cors {
        allow_origins: Vec::new(),
        allow_methods: Vec::new(),
        allow_headers: Vec::new(),
        expose_headers: Vec::new(),
        max_age: None,
        allow_credentials: None,
        disabled: off.as_ref().is_some_and(|b| !b.value),
        span: to_span(node.span()),
    };
    if cors.disabled {
        no_children(node, sink);
        return Some(cors);
    }
    for c in children(node) {
        let name = c.name().value();
        match name {
            "allow-origins" => cors.allow_origins.extend(string_args(c, sink, "an origin")),
            "allow-methods" => cors.allow_methods.extend(string_args(c, sink, "a method")),
            "allow-headers" => cors
                .allow_headers
                .extend(string_args(c, sink, "a header name")),
            "expose-headers" => cors
                .expose_headers
                .extend(string_args(c, sink, "a header name")),
            "max-age" | "allow-credentials" => {
                let mut r = NodeReader::new(c);
                let arg = r.arg(0);
                r.finish(sink, name);
                no_children(c, sink);
                let Some(arg) = arg else {
                    sink.error(
                        "kdl::missing-argument",
                        format!("`{name}` needs a value"),
                        name_span(c),
                        "value missing",
                        "write `max-age 600` or `allow-credentials #true`",
                    );
                    continue;
                };
                if name == "max-age" {
                    cors.max_age =
                        integer(arg, sink, "max-age").map(|v| Spanned::new(v, value_span(arg)));
                } else {
                    cors.allow_credentials = boolean(arg, sink, "allow-credentials");
                }
            }
            other => unknown_node(
                sink,
                c,
                other,
                "`cors`",
                &[
                    "allow-origins",
                    "allow-methods",
                    "allow-headers",
                    "expose-headers",
                    "max-age",
                    "allow-credentials",
                ],
            ),
        }
    }
    if cors.allow_origins.is_empty() {
        sink.error(
            "kdl::missing-child",
            "`cors` needs `allow-origins`",
            name_span(node),
            "no origins",
            "write `allow-origins \"https://app.example.com\"` (or `\"*\"` for any origin), or `cors #false` to turn CORS off here",
        );
    }
    Some(cors)
}

/// Every positional argument of a list node (`audience "a" "b"`), as strings; at least one.
fn string_args(node: &KdlNode, sink: &mut Sink, what: &str) -> Vec<Spanned<String>> {
    let mut out = Vec::new();
    for e in node.entries() {
        if let Some(key) = e.name() {
            sink.error(
                "kdl::unknown-property",
                format!(
                    "`{}` has no property `{}`",
                    node.name().value(),
                    key.value()
                ),
                to_span(e.span()),
                "unknown property",
                format!("list {what} as a plain argument"),
            );
            continue;
        }
        if matches!(e.value(), KdlValue::String(_)) {
            out.extend(string(e, sink, what));
        } else {
            sink.error(
                "kdl::bad-type",
                format!("`{}` takes strings", node.name().value()),
                value_span(e),
                "expected a string",
                format!("write {what} in quotes"),
            );
        }
    }
    no_children(node, sink);
    if out.is_empty() && node.entries().is_empty() {
        sink.error(
            "kdl::missing-argument",
            format!("`{}` needs {what}", node.name().value()),
            name_span(node),
            "nothing listed",
            format!("list {what} after `{}`", node.name().value()),
        );
    }
    out
}
