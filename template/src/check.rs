//! Build-time checks of a parsed template beyond syntax: constant JSONPaths that do not parse
//! (errors), `$util` functions API Gateway does not have and unknown `$input` members
//! (warnings: API Gateway renders them as nothing), and what gateway-response templates may use.

use crate::ast::{Expr, Node, Part, Reference, Span, Template};
use tollgate_vtl::JsonPath;

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Whether it only warns.
    pub warning: bool,
    /// Stable code suffix (`template::…`).
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// Where.
    pub span: Span,
    /// How to fix it.
    pub help: String,
}

/// The six `$util` functions.
pub const UTIL_FUNCTIONS: &[&str] = &[
    "escapeJavaScript",
    "parseJson",
    "urlEncode",
    "urlDecode",
    "base64Encode",
    "base64Decode",
];

/// Checks a mapping template.
pub fn check(t: &Template) -> Vec<Problem> {
    let mut out = Vec::new();
    t.walk_refs(&mut |r: &Reference| check_ref(r, &mut out));
    out
}

fn check_ref(r: &Reference, out: &mut Vec<Problem>) {
    match (r.root.as_str(), r.parts.first()) {
        ("input", Some(Part::Method { name, args, span })) => match (name.as_str(), args.as_slice()) {
            ("json" | "path", [arg]) => {
                if let Expr::Str { value, span } = arg
                    && let Err(e) = JsonPath::parse(value)
                {
                    out.push(Problem {
                        warning: false,
                        code: "template::jsonpath",
                        message: format!("`{value}` is not a JSONPath: {}", e.message),
                        span: *span,
                        help: "write a Jayway JSONPath such as `$`, `$.name`, `$.items[0].id` or `$..price`".into(),
                    });
                }
            }
            ("params", [] | [_]) => {}
            _ => out.push(Problem {
                warning: true,
                code: "template::unknown-member",
                message: format!("`$input.{name}` with {} argument(s) renders nothing", args.len()),
                span: *span,
                help: "API Gateway has $input.body, $input.json(path), $input.path(path), $input.params() and $input.params(name)".into(),
            }),
        },
        ("util", Some(Part::Method { name, args, span })) => {
            if !UTIL_FUNCTIONS.contains(&name.as_str()) {
                out.push(Problem {
                    warning: true,
                    code: "template::unknown-util",
                    message: format!("`$util.{name}` does not exist; API Gateway renders it as nothing"),
                    span: *span,
                    help: format!("the $util functions are {}", UTIL_FUNCTIONS.join(", ")),
                });
            } else if args.len() != 1 {
                out.push(Problem {
                    warning: true,
                    code: "template::util-arity",
                    message: format!("`$util.{name}` takes one argument; this call renders nothing"),
                    span: *span,
                    help: "pass exactly one argument".into(),
                });
            }
        }
        _ => {}
    }
}

/// Gateway-response templates are substitution only in API Gateway: `$context.*` and
/// `$stageVariables.*` references and text, no directives.
pub fn check_gateway_response(t: &Template) -> Vec<Problem> {
    let mut out = Vec::new();
    for n in &t.body {
        match n {
            Node::Text { .. } => {}
            Node::Ref { reference } => {
                let ok = matches!(reference.root.as_str(), "context" | "stageVariables")
                    && reference
                        .parts
                        .iter()
                        .all(|p| matches!(p, Part::Property { .. }));
                if !ok {
                    out.push(Problem {
                        warning: false,
                        code: "template::gateway-response",
                        message: "gateway-response templates substitute `$context.*` and `$stageVariables.*` only".into(),
                        span: reference.span,
                        help: "API Gateway does not run VTL here; use e.g. `$context.error.messageString`".into(),
                    });
                }
            }
            Node::Set { span, .. }
            | Node::If { span, .. }
            | Node::Foreach { span, .. }
            | Node::Break { span }
            | Node::Stop { span } => out.push(directive_problem(*span)),
        }
    }
    out
}

fn directive_problem(span: Span) -> Problem {
    Problem {
        warning: false,
        code: "template::gateway-response",
        message: "gateway-response templates cannot use directives".into(),
        span,
        help: "API Gateway only substitutes `$context.*` and `$stageVariables.*` in gateway responses; remove the directive".into(),
    }
}
