//! The KDL nodes of mapping templates and non-proxy integrations: `request-template`,
//! `template`, `parameter`, `response`, `gateway-response`.

use super::{
    NodeReader, children, integer, name_span, no_children, string, to_span, unknown_node,
    value_span,
};
use crate::diagnostics::Sink;
use crate::ir::{
    GatewayResponse, IntegrationResponse, Location, MappingSource, MappingTarget, MappingTemplate,
    ParameterMapping, Passthrough, Spanned, TemplateOrigin,
};
use ::kdl::{KdlEntry, KdlNode};
use std::path::Path;

/// Which mapping targets a `parameter` may set where it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    /// Inside `integration`: `integration.request.*` ← `method.request.*`, …
    Request,
    /// Inside `response`: `method.response.header.*` ← `integration.response.*`, …
    Response,
    /// Inside `gateway-response`: `gatewayresponse.header.*` ← `method.request.*`, …
    Gateway,
}

/// `passthrough=when-no-match|when-no-templates|never`.
pub(super) fn read_passthrough(e: Option<&KdlEntry>, sink: &mut Sink) -> Passthrough {
    let Some(e) = e else {
        return Passthrough::WhenNoMatch;
    };
    match string(e, sink, "passthrough")
        .as_ref()
        .map(|s| s.value.as_str())
    {
        Some("when-no-match") => Passthrough::WhenNoMatch,
        Some("when-no-templates") => Passthrough::WhenNoTemplates,
        Some("never") => Passthrough::Never,
        Some(other) => {
            sink.error(
                "kdl::bad-value",
                format!("unknown passthrough behaviour `{other}`"),
                value_span(e),
                "not a passthrough behaviour",
                "use `when-no-match` (the default), `when-no-templates` or `never`",
            );
            Passthrough::WhenNoMatch
        }
        None => Passthrough::WhenNoMatch,
    }
}

/// `request-template CONTENT-TYPE "text" | file="path"` and `template …` (same shape).
pub(super) fn read_template(
    node: &KdlNode,
    base_dir: &Path,
    gateway_response: bool,
    sink: &mut Sink,
) -> Option<MappingTemplate> {
    let what = node.name().value().to_owned();
    let mut n = NodeReader::new(node);
    let content_type = n.arg(0).and_then(|e| string(e, sink, "the content type"));
    let inline = n.arg(1);
    let file = n.prop("file");
    n.finish(sink, &what);
    no_children(node, sink);
    let Some(content_type) = content_type else {
        sink.error(
            "kdl::missing-argument",
            format!("`{what}` needs a content type"),
            name_span(node),
            "content type missing",
            format!("write `{what} \"application/json\" \"{{ … }}\"`"),
        );
        return None;
    };
    let (text, origin) = match (inline, file) {
        (Some(e), None) => {
            let s = string(e, sink, "the template")?;
            (
                s.value,
                TemplateOrigin::Inline {
                    span: value_span(e),
                },
            )
        }
        (None, Some(f)) => {
            let path = string(f, sink, "the template file")?;
            let full = base_dir.join(&path.value);
            match std::fs::read_to_string(&full) {
                Ok(t) => (
                    t,
                    TemplateOrigin::File {
                        path: path.value.clone(),
                        span: path.span,
                    },
                ),
                Err(err) => {
                    sink.error(
                        "kdl::template-file",
                        format!("cannot read template file `{}`: {err}", full.display()),
                        path.span,
                        "file not readable",
                        "the path is relative to the .kdl file; check the name",
                    );
                    return None;
                }
            }
        }
        (Some(_), Some(f)) => {
            sink.error(
                "kdl::template-twice",
                format!("`{what}` has both inline text and `file=`"),
                value_span(f),
                "second template",
                "keep one: the inline string or the file",
            );
            return None;
        }
        (None, None) => {
            sink.error(
                "kdl::missing-argument",
                format!("`{what}` needs the template text or `file=`"),
                name_span(node),
                "template missing",
                format!("write `{what} \"{}\" #\"{{\"id\": \"$input.params('id')\"}}\"#` or `file=\"templates/x.vtl\"`", content_type.value),
            );
            return None;
        }
    };
    let template = match tollgate_template::parse(&text) {
        Ok(t) => t,
        Err(errors) => {
            let at = Located {
                text: &text,
                origin: &origin,
                entry: inline,
            };
            for e in errors {
                at.report(sink, "template::syntax", false, &e.message, e.span, &e.help);
            }
            return None;
        }
    };
    let gateway = gateway_response;
    let mut problems = tollgate_template::check::check(&template);
    if gateway {
        problems.extend(tollgate_template::check::check_gateway_response(&template));
    }
    let mut failed = false;
    for p in problems {
        failed |= !p.warning;
        report_template_problem(sink, &text, &origin, inline, &p);
    }
    if failed {
        return None;
    }
    Some(MappingTemplate {
        content_type,
        text,
        template,
        origin,
        span: to_span(node.span()),
    })
}

fn report_template_problem(
    sink: &mut Sink,
    text: &str,
    origin: &TemplateOrigin,
    entry: Option<&KdlEntry>,
    p: &tollgate_template::check::Problem,
) {
    let at = Located {
        text,
        origin,
        entry,
    };
    at.report(sink, p.code, p.warning, &p.message, p.span, &p.help);
}

/// A template's text and where it was written, to point diagnostics into it.
struct Located<'a> {
    text: &'a str,
    origin: &'a TemplateOrigin,
    entry: Option<&'a KdlEntry>,
}

impl Located<'_> {
    /// Reports a problem at `at` within the template: on the exact spot of an inline template,
    /// or on the `file=` value with the file's line and column.
    fn report(
        &self,
        sink: &mut Sink,
        code: &str,
        warning: bool,
        message: &str,
        at: tollgate_template::Span,
        help: &str,
    ) {
        let (line, col) = tollgate_template::Span::line_col(self.text, at.start);
        let (full, label_span, label) = match self.origin {
            TemplateOrigin::Inline { span } => {
                let mapped = self
                    .entry
                    .and_then(|e| e.format())
                    .and_then(|f| map_offset(&f.value_repr, self.text, at.start))
                    .filter(|o| *o < span.len);
                let label_span = match mapped {
                    Some(o) => span.sub(o, (at.end - at.start).clamp(1, span.len - o)),
                    None => *span,
                };
                (
                    format!("template line {line}, column {col}: {message}"),
                    label_span,
                    message.to_owned(),
                )
            }
            TemplateOrigin::File { path, span } => (
                format!("{path}:{line}:{col}: {message}"),
                *span,
                format!("in this template, line {line}, column {col}"),
            ),
        };
        if warning {
            sink.warning(code, full, label_span, label, help);
        } else {
            sink.error(code, full, label_span, label, help);
        }
    }
}

/// Maps a byte offset in a KDL string's value to an offset in its source representation
/// (`"…"`, `#"…"#`, or a dedented multi-line `"""…"""`). `None` when it cannot be placed.
fn map_offset(repr: &str, value: &str, offset: usize) -> Option<usize> {
    let hashes = repr.len() - repr.trim_start_matches('#').len();
    let after = &repr[hashes..];
    if after.starts_with("\"\"\"") {
        // Multi-line: value line L is source line L + 1 with the common indent removed.
        let before = value.get(..offset)?;
        let line = before.matches('\n').count();
        let col = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let value_line = value.lines().nth(line).unwrap_or("");
        let mut start = 0;
        for (i, raw_line) in repr.split_inclusive('\n').enumerate() {
            if i == line + 1 {
                let raw = raw_line.trim_end_matches(['\n', '\r']);
                let indent = raw.len().checked_sub(value_line.len())?;
                return Some(start + indent + col);
            }
            start += raw_line.len();
        }
        None
    } else if after.starts_with('"') {
        // Escapes before `offset` would shift it; a raw string has none.
        let prefix = hashes + 1;
        if hashes == 0 && repr.get(prefix..prefix + offset)? != value.get(..offset)? {
            return None;
        }
        Some(prefix + offset)
    } else {
        None
    }
}

/// `parameter TARGET SOURCE`.
pub(super) fn read_parameter(
    node: &KdlNode,
    side: Side,
    sink: &mut Sink,
) -> Option<ParameterMapping> {
    let mut n = NodeReader::new(node);
    let target = n.arg(0).and_then(|e| string(e, sink, "the mapping target"));
    let source = n.arg(1).and_then(|e| string(e, sink, "the mapping source"));
    n.finish(sink, "parameter");
    no_children(node, sink);
    let (Some(target), Some(source)) = (target, source) else {
        sink.error(
            "kdl::missing-argument",
            "`parameter` needs a target and a source",
            name_span(node),
            "incomplete mapping",
            "write `parameter \"integration.request.header.x-user\" \"method.request.querystring.user\"`",
        );
        return None;
    };
    let t = parse_target(&target.value, side);
    let s = parse_source(&source.value, side);
    let t = match t {
        Ok(t) => t,
        Err(help) => {
            sink.error(
                "kdl::bad-mapping",
                format!("`{}` is not a mapping target here", target.value),
                target.span,
                "not a target",
                help,
            );
            return None;
        }
    };
    let s = match s {
        Ok(s) => s,
        Err(help) => {
            sink.error(
                "kdl::bad-mapping",
                format!("`{}` is not a mapping source here", source.value),
                source.span,
                "not a source",
                help,
            );
            return None;
        }
    };
    Some(ParameterMapping {
        target: Spanned::new(t, target.span),
        source: Spanned::new(s, source.span),
    })
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '$' | '-'))
}

fn parse_target(t: &str, side: Side) -> Result<MappingTarget, String> {
    let (prefix, help) = match side {
        Side::Request => (
            "integration.request.",
            "targets are `integration.request.{path|querystring|header}.NAME`",
        ),
        Side::Response => (
            "method.response.header.",
            "targets are `method.response.header.NAME`",
        ),
        Side::Gateway => (
            "gatewayresponse.header.",
            "targets are `gatewayresponse.header.NAME`",
        ),
    };
    let rest = t.strip_prefix(prefix).ok_or_else(|| help.to_owned())?;
    match side {
        Side::Request => {
            let (loc, name) = rest.split_once('.').ok_or_else(|| help.to_owned())?;
            let location = match loc {
                "path" => Location::Path,
                "querystring" => Location::Querystring,
                "header" => Location::Header,
                _ => return Err(help.to_owned()),
            };
            if !valid_name(name) {
                return Err("parameter names match `^[a-zA-Z0-9._$-]+$`".into());
            }
            Ok(MappingTarget::IntegrationRequest {
                location,
                name: name.to_owned(),
            })
        }
        Side::Response | Side::Gateway => {
            if !valid_name(rest) {
                return Err("header names match `^[a-zA-Z0-9._$-]+$`".into());
            }
            Ok(if side == Side::Response {
                MappingTarget::MethodResponseHeader {
                    name: rest.to_owned(),
                }
            } else {
                MappingTarget::GatewayResponseHeader {
                    name: rest.to_owned(),
                }
            })
        }
    }
}

fn parse_source(s: &str, side: Side) -> Result<MappingSource, String> {
    let help = match side {
        Side::Request => {
            "sources are `method.request.{path|querystring|header|multivaluequerystring|multivalueheader}.NAME`, `method.request.body[.JSONPATH]`, `stageVariables.NAME`, `context.NAME` or a quoted literal `'value'`"
        }
        Side::Response => {
            "sources are `integration.response.header.NAME`, `integration.response.multivalueheader.NAME`, `integration.response.body[.JSONPATH]`, `stageVariables.NAME`, `context.NAME` or a quoted literal `'value'`"
        }
        Side::Gateway => {
            "sources are `method.request.{path|querystring|header}.NAME`, `stageVariables.NAME`, `context.NAME` or a quoted literal `'value'`"
        }
    };
    if let Some(v) = s.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        return Ok(MappingSource::Static {
            value: v.to_owned(),
        });
    }
    if let Some(name) = s.strip_prefix("stageVariables.")
        && valid_name(name)
    {
        return Ok(MappingSource::StageVariable {
            name: name.to_owned(),
        });
    }
    if let Some(path) = s.strip_prefix("context.")
        && !path.is_empty()
    {
        return Ok(MappingSource::Context {
            path: path.split('.').map(str::to_owned).collect(),
        });
    }
    let body_path = |rest: &str| -> Option<Option<String>> {
        if rest.is_empty() {
            Some(None)
        } else {
            rest.strip_prefix('.').map(|p| Some(format!("$.{p}")))
        }
    };
    match side {
        Side::Request | Side::Gateway => {
            if side == Side::Request
                && let Some(rest) = s.strip_prefix("method.request.body")
                && let Some(path) = body_path(rest)
            {
                return Ok(MappingSource::MethodRequestBody { path });
            }
            if let Some(rest) = s.strip_prefix("method.request.")
                && let Some((loc, name)) = rest.split_once('.')
            {
                let location = match loc {
                    "path" => Some(Location::Path),
                    "querystring" => Some(Location::Querystring),
                    "header" => Some(Location::Header),
                    "multivaluequerystring" if side == Side::Request => {
                        Some(Location::MultiQuerystring)
                    }
                    "multivalueheader" if side == Side::Request => Some(Location::MultiHeader),
                    _ => None,
                };
                if let Some(location) = location.filter(|_| valid_name(name)) {
                    return Ok(MappingSource::MethodRequest {
                        location,
                        name: name.to_owned(),
                    });
                }
            }
        }
        Side::Response => {
            if let Some(rest) = s.strip_prefix("integration.response.body")
                && let Some(path) = body_path(rest)
            {
                return Ok(MappingSource::IntegrationResponseBody { path });
            }
            for (prefix, multi) in [
                ("integration.response.header.", false),
                ("integration.response.multivalueheader.", true),
            ] {
                if let Some(name) = s.strip_prefix(prefix).filter(|n| valid_name(n)) {
                    return Ok(MappingSource::IntegrationResponseHeader {
                        name: name.to_owned(),
                        multi,
                    });
                }
            }
        }
    }
    Err(help.to_owned())
}

/// `response status=N [pattern="regex"] { parameter …; template … }`.
pub(super) fn read_response(
    node: &KdlNode,
    base_dir: &Path,
    sink: &mut Sink,
) -> Option<IntegrationResponse> {
    let mut n = NodeReader::new(node);
    let status = n.prop("status").and_then(|e| {
        integer(e, sink, "status")
            .map(|v| Spanned::new(v.min(u16::MAX as u64) as u16, value_span(e)))
    });
    let pattern = n
        .prop("pattern")
        .and_then(|e| string(e, sink, "the selection pattern"));
    n.finish(sink, "response");
    let Some(status) = status else {
        sink.error(
            "kdl::missing-property",
            "`response` needs `status=`",
            name_span(node),
            "status missing",
            "write `response status=200` (the default response) or `response status=404 pattern=\"404\"`",
        );
        return None;
    };
    let mut parameters = Vec::new();
    let mut templates = Vec::new();
    for child in children(node) {
        match child.name().value() {
            "parameter" => parameters.extend(read_parameter(child, Side::Response, sink)),
            "template" => templates.extend(read_template(child, base_dir, false, sink)),
            other => unknown_node(sink, child, other, "`response`", &["parameter", "template"]),
        }
    }
    Some(IntegrationResponse {
        status,
        pattern,
        parameters,
        templates,
        span: to_span(node.span()),
    })
}

/// API Gateway's gateway response types.
pub const GATEWAY_RESPONSE_TYPES: &[&str] = &[
    "ACCESS_DENIED",
    "API_CONFIGURATION_ERROR",
    "AUTHORIZER_CONFIGURATION_ERROR",
    "AUTHORIZER_FAILURE",
    "BAD_REQUEST_PARAMETERS",
    "BAD_REQUEST_BODY",
    "DEFAULT_4XX",
    "DEFAULT_5XX",
    "EXPIRED_TOKEN",
    "INTEGRATION_FAILURE",
    "INTEGRATION_TIMEOUT",
    "INVALID_API_KEY",
    "INVALID_SIGNATURE",
    "MISSING_AUTHENTICATION_TOKEN",
    "QUOTA_EXCEEDED",
    "REQUEST_TOO_LARGE",
    "RESOURCE_NOT_FOUND",
    "THROTTLED",
    "UNAUTHORIZED",
    "UNSUPPORTED_MEDIA_TYPE",
    "WAF_FILTERED",
];

/// `gateway-response TYPE [status=N] { parameter …; template … }`.
pub(super) fn read_gateway_response(
    node: &KdlNode,
    base_dir: &Path,
    sink: &mut Sink,
) -> Option<GatewayResponse> {
    let mut n = NodeReader::new(node);
    let kind = n.arg(0).and_then(|e| string(e, sink, "the response type"));
    let status = n.prop("status").and_then(|e| {
        integer(e, sink, "status")
            .map(|v| Spanned::new(v.min(u16::MAX as u64) as u16, value_span(e)))
    });
    n.finish(sink, "gateway-response");
    let Some(kind) = kind else {
        sink.error(
            "kdl::missing-argument",
            "`gateway-response` needs a response type",
            name_span(node),
            "type missing",
            "write `gateway-response DEFAULT_4XX { … }`",
        );
        return None;
    };
    if !GATEWAY_RESPONSE_TYPES.contains(&kind.value.as_str()) {
        let hint = super::closest(&kind.value, GATEWAY_RESPONSE_TYPES)
            .map(|s| format!("did you mean `{s}`? "))
            .unwrap_or_default();
        sink.error(
            "kdl::bad-value",
            format!("unknown gateway response type `{}`", kind.value),
            kind.span,
            "not a response type",
            format!("{hint}types are {}", GATEWAY_RESPONSE_TYPES.join(", ")),
        );
        return None;
    }
    let mut parameters = Vec::new();
    let mut templates = Vec::new();
    for child in children(node) {
        match child.name().value() {
            "parameter" => parameters.extend(read_parameter(child, Side::Gateway, sink)),
            "template" => templates.extend(read_template(child, base_dir, true, sink)),
            other => unknown_node(
                sink,
                child,
                other,
                "`gateway-response`",
                &["parameter", "template"],
            ),
        }
    }
    Some(GatewayResponse {
        kind,
        status,
        parameters,
        templates,
        span: to_span(node.span()),
    })
}
