//! Template text → [`Template`]: a pest grammar (`grammar.pest`) for the token stream, then a
//! stack that rebuilds `#if`/`#foreach` blocks so a stray or missing `#end` gets a precise error.

use crate::ast::{BinOp, Branch, Expr, Node, Part, Reference, Span, Template};
use pest::Parser as _;
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use std::sync::LazyLock;

#[derive(pest_derive::Parser)]
#[grammar = "grammar.pest"]
struct VtlParser;

/// API Gateway's limit on a mapping template's size.
pub const MAX_TEMPLATE_BYTES: usize = 300 * 1024;

/// A syntax error: what is wrong, where, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What is wrong.
    pub message: String,
    /// Where, in bytes within the template.
    pub span: Span,
    /// How to fix it.
    pub help: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

/// Parses a template. Every error is returned, in source order.
pub fn parse(text: &str) -> Result<Template, Vec<ParseError>> {
    let mut p = Builder {
        text,
        errors: Vec::new(),
    };
    if text.len() > MAX_TEMPLATE_BYTES {
        return Err(vec![ParseError {
            message: format!(
                "the template is {} bytes; API Gateway allows at most {MAX_TEMPLATE_BYTES}",
                text.len()
            ),
            span: Span::new(0, 0),
            help: "split the work across the request and response templates, or move logic to the backend".into(),
        }]);
    }
    let pairs = match VtlParser::parse(Rule::template, text) {
        Ok(mut pairs) => pairs.next().map(|p| p.into_inner()),
        Err(e) => {
            // The grammar accepts any text; this is unreachable in practice but still reported.
            p.errors
                .push(pest_error(&e, 0, "check the template syntax"));
            None
        }
    };
    let body = pairs.map(|pairs| p.items(pairs, 0)).unwrap_or_default();
    if p.errors.is_empty() {
        Ok(Template { body })
    } else {
        Err(p.errors)
    }
}

fn pest_error(e: &pest::error::Error<Rule>, base: usize, help: &str) -> ParseError {
    let pos = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let message = match &e.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            let mut names: Vec<&str> = positives.iter().filter_map(|r| rule_name(*r)).collect();
            names.sort_unstable();
            names.dedup();
            if names.is_empty() {
                "unexpected input".to_owned()
            } else {
                format!("expected {}", names.join(", "))
            }
        }
        pest::error::ErrorVariant::CustomError { message } => message.clone(),
    };
    ParseError {
        message,
        span: Span::new(base + pos, base + pos + 1),
        help: help.to_owned(),
    }
}

fn rule_name(r: Rule) -> Option<&'static str> {
    Some(match r {
        Rule::expr | Rule::args => "an expression",
        Rule::reference | Rule::set_target => "a `$reference`",
        Rule::ident => "a name",
        Rule::or | Rule::and => "a logical operator",
        Rule::eq | Rule::ne | Rule::lt | Rule::le | Rule::gt | Rule::ge => "a comparison",
        Rule::add | Rule::sub | Rule::mul | Rule::div | Rule::rem => "an arithmetic operator",
        Rule::int | Rule::float => "a number",
        Rule::dq_string | Rule::sq_string => "a string",
        _ => return None,
    })
}

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::or, Assoc::Left))
        .op(Op::infix(Rule::and, Assoc::Left))
        .op(Op::infix(Rule::eq, Assoc::Left) | Op::infix(Rule::ne, Assoc::Left))
        .op(Op::infix(Rule::lt, Assoc::Left)
            | Op::infix(Rule::le, Assoc::Left)
            | Op::infix(Rule::gt, Assoc::Left)
            | Op::infix(Rule::ge, Assoc::Left))
        .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
        .op(Op::infix(Rule::mul, Assoc::Left)
            | Op::infix(Rule::div, Assoc::Left)
            | Op::infix(Rule::rem, Assoc::Left))
        .op(Op::prefix(Rule::not) | Op::prefix(Rule::neg))
});

/// An open block while the token stream is folded into a tree.
enum Frame {
    If {
        branches: Vec<Branch>,
        /// The condition of the arm being read; `None` once `#else` is seen.
        current: Option<Expr>,
        otherwise: Option<Vec<Node>>,
        span: Span,
    },
    Foreach {
        var: String,
        iterable: Expr,
        span: Span,
    },
}

struct Builder<'t> {
    text: &'t str,
    errors: Vec<ParseError>,
}

impl<'t> Builder<'t> {
    fn err(&mut self, message: impl Into<String>, span: Span, help: impl Into<String>) {
        self.errors.push(ParseError {
            message: message.into(),
            span,
            help: help.into(),
        });
    }

    /// Folds the flat items of `template`/`interp` into nodes. `base` is added to spans (for
    /// strings parsed on their own).
    fn items(&mut self, pairs: Pairs<'_, Rule>, base: usize) -> Vec<Node> {
        // `stack[i]` holds the nodes of the body being read at depth i; `frames[i]` (i ≥ 1) the
        // block that body belongs to.
        let mut stack: Vec<Vec<Node>> = vec![Vec::new()];
        let mut frames: Vec<Frame> = Vec::new();
        for pair in pairs {
            let span = Span::new(base + pair.as_span().start(), base + pair.as_span().end());
            let rule = pair.as_rule();
            match rule {
                Rule::EOI | Rule::comment_line | Rule::comment_block => {}
                Rule::text | Rule::interp_text | Rule::lone => {
                    push_text(stack.last_mut(), pair.as_str());
                }
                Rule::escaped => push_text(stack.last_mut(), &pair.as_str()[1..]),
                Rule::unparsed => {
                    let inner = pair.into_inner().next().map(|p| p.as_str()).unwrap_or("");
                    push_text(stack.last_mut(), inner);
                }
                Rule::comment_open => self.err(
                    "this `#*` comment is never closed",
                    span,
                    "end the comment with `*#`",
                ),
                Rule::reference => {
                    let reference = self.reference(pair, base);
                    if let Some(body) = stack.last_mut() {
                        body.push(Node::Ref { reference });
                    }
                }
                Rule::dir_set => {
                    self.trim_set_indent(stack.last_mut(), span.start - base, base);
                    let mut inner = pair.into_inner();
                    let (Some(t), Some(v)) = (inner.next(), inner.next()) else {
                        continue;
                    };
                    let target = self.reference(t, base);
                    if target
                        .parts
                        .iter()
                        .any(|p| !matches!(p, Part::Property { .. }))
                    {
                        self.err(
                            "#set can only assign to a variable or a property path",
                            target.span,
                            "write `#set($name = …)` or `#set($map.key = …)`",
                        );
                    }
                    if BUILTINS.contains(&target.root.as_str())
                        && !(target.root == "context"
                            && matches!(target.parts.first(), Some(Part::Property { name }) if name == "requestOverride" || name == "responseOverride"))
                    {
                        self.err(
                            format!("`${}` is built in and cannot be assigned", target.root),
                            target.span,
                            "pick another variable name; only `$context.requestOverride.*` and `$context.responseOverride.*` are writable",
                        );
                    }
                    let value = self.expr(v, base);
                    if let Some(body) = stack.last_mut() {
                        body.push(Node::Set {
                            target,
                            value,
                            span,
                        });
                    }
                }
                Rule::dir_if => {
                    let cond = pair.into_inner().next().map(|e| self.expr(e, base));
                    frames.push(Frame::If {
                        branches: Vec::new(),
                        current: Some(cond.unwrap_or(Expr::Bool { value: false })),
                        otherwise: None,
                        span,
                    });
                    stack.push(Vec::new());
                }
                Rule::dir_elseif | Rule::dir_else => {
                    let cond = pair.into_inner().next().map(|e| self.expr(e, base));
                    let name = if rule == Rule::dir_else {
                        "#else"
                    } else {
                        "#elseif"
                    };
                    match frames.last_mut() {
                        Some(Frame::If {
                            branches,
                            current,
                            otherwise,
                            ..
                        }) if current.is_some() => {
                            let body = stack.pop().unwrap_or_default();
                            match current.take() {
                                Some(c) => branches.push(Branch { condition: c, body }),
                                None => *otherwise = Some(body),
                            }
                            *current = cond;
                            if rule == Rule::dir_else {
                                // Reading the else body: mark it with an empty `otherwise`
                                // placeholder once it closes (see `#end`).
                            }
                            stack.push(Vec::new());
                        }
                        Some(Frame::If { .. }) => self.err(
                            format!("{name} after #else"),
                            span,
                            "an #if has at most one #else, and it comes last",
                        ),
                        _ => self.err(
                            format!("{name} without an open #if"),
                            span,
                            "start the block with `#if(…)`, or remove this line",
                        ),
                    }
                }
                Rule::dir_foreach => {
                    let mut inner = pair.into_inner();
                    let var = inner
                        .next()
                        .map(|p| p.as_str().to_owned())
                        .unwrap_or_default();
                    if BUILTINS.contains(&var.as_str()) {
                        self.err(
                            format!("`${var}` is built in and cannot be a loop variable"),
                            span,
                            "pick another variable name",
                        );
                    }
                    let iterable = inner
                        .next()
                        .map(|e| self.expr(e, base))
                        .unwrap_or(Expr::List { items: Vec::new() });
                    frames.push(Frame::Foreach {
                        var,
                        iterable,
                        span,
                    });
                    stack.push(Vec::new());
                }
                Rule::dir_end => {
                    let Some(frame) = frames.pop() else {
                        self.err(
                            "#end without an open #if or #foreach",
                            span,
                            "remove this #end, or open the block it closes",
                        );
                        continue;
                    };
                    let body = stack.pop().unwrap_or_default();
                    let node = match frame {
                        Frame::If {
                            mut branches,
                            current,
                            otherwise,
                            span,
                        } => {
                            let otherwise = match current {
                                Some(c) => {
                                    branches.push(Branch { condition: c, body });
                                    otherwise
                                }
                                None => Some(body),
                            };
                            Node::If {
                                branches,
                                otherwise,
                                span,
                            }
                        }
                        Frame::Foreach {
                            var,
                            iterable,
                            span,
                        } => Node::Foreach {
                            var,
                            iterable,
                            body,
                            span,
                        },
                    };
                    if let Some(b) = stack.last_mut() {
                        b.push(node);
                    }
                }
                Rule::dir_break => {
                    if !frames.iter().any(|f| matches!(f, Frame::Foreach { .. })) {
                        self.err(
                            "#break outside #foreach",
                            span,
                            "use #break inside a #foreach loop, or #stop to end the template",
                        );
                    }
                    if let Some(b) = stack.last_mut() {
                        b.push(Node::Break { span });
                    }
                }
                Rule::dir_stop => {
                    if let Some(b) = stack.last_mut() {
                        b.push(Node::Stop { span });
                    }
                }
                Rule::dir_unsupported => {
                    let name = pair
                        .into_inner()
                        .next()
                        .map(|p| p.as_str().to_owned())
                        .unwrap_or_default();
                    self.err(
                        format!("#{name} is not available in API Gateway mapping templates"),
                        span,
                        "API Gateway runs only #set, #if/#elseif/#else, #foreach, #break and #stop; inline the logic instead",
                    );
                }
                Rule::dir_broken => self.broken_directive(pair, base),
                _ => {}
            }
        }
        while let Some(frame) = frames.pop() {
            let (what, span) = match frame {
                Frame::If { span, .. } => ("#if", span),
                Frame::Foreach { span, .. } => ("#foreach", span),
            };
            self.err(
                format!("this {what} is never closed"),
                Span::new(span.start, span.start + what.len()),
                "close the block with `#end`",
            );
            // Keep the (discarded) body balanced.
            stack.pop();
        }
        stack.into_iter().next().unwrap_or_default()
    }

    /// `#set` eats the blanks before it on its line, as Velocity 1.7 does.
    fn trim_set_indent(&self, body: Option<&mut Vec<Node>>, local_start: usize, base: usize) {
        let src = if base == 0 { self.text } else { return };
        let before = &src[..local_start.min(src.len())];
        let blanks = before.len() - before.trim_end_matches([' ', '\t']).len();
        if blanks == 0 {
            return;
        }
        let line_start =
            before.len() - blanks == 0 || before[..before.len() - blanks].ends_with('\n');
        if !line_start {
            return;
        }
        if let Some(Some(Node::Text { text })) = body.map(|b| b.last_mut())
            && text.ends_with(&before[before.len() - blanks..])
        {
            text.truncate(text.len() - blanks);
        }
    }

    fn broken_directive(&mut self, pair: Pair<'_, Rule>, base: usize) {
        let start = pair.as_span().start();
        let name = pair
            .into_inner()
            .next()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default();
        let rule = match name.as_str() {
            "set" => Rule::dir_set,
            "if" => Rule::dir_if,
            "elseif" => Rule::dir_elseif,
            _ => Rule::dir_foreach,
        };
        let help = match name.as_str() {
            "set" => "write `#set($name = value)`",
            "foreach" => "write `#foreach($item in $list) … #end`",
            _ => "write the condition in parentheses, e.g. `#if($x == \"a\")`",
        };
        let local = &self.text.get(start..).unwrap_or("");
        match VtlParser::parse(rule, local) {
            Err(e) => {
                let mut pe = pest_error(&e, base + start, help);
                pe.message = format!("malformed #{name}: {}", pe.message);
                self.errors.push(pe);
            }
            Ok(_) => self.err(
                format!("malformed #{name}"),
                Span::new(base + start, base + start + name.len() + 1),
                help,
            ),
        }
    }

    fn reference(&mut self, pair: Pair<'_, Rule>, base: usize) -> Reference {
        let span = Span::new(base + pair.as_span().start(), base + pair.as_span().end());
        let mut quiet = pair.as_str().starts_with("$!");
        let mut root = String::new();
        let mut parts = Vec::new();
        for p in pair.into_inner() {
            match p.as_rule() {
                Rule::quiet => quiet = true,
                Rule::ref_body => {
                    for q in p.into_inner() {
                        match q.as_rule() {
                            Rule::ident => root = q.as_str().to_owned(),
                            Rule::property => {
                                let name = q
                                    .into_inner()
                                    .next()
                                    .map(|i| i.as_str().to_owned())
                                    .unwrap_or_default();
                                parts.push(Part::Property { name });
                            }
                            Rule::method => {
                                let mspan =
                                    Span::new(base + q.as_span().start(), base + q.as_span().end());
                                let mut inner = q.into_inner();
                                let name = inner
                                    .next()
                                    .map(|i| i.as_str().to_owned())
                                    .unwrap_or_default();
                                let args = inner
                                    .next()
                                    .map(|a| a.into_inner().map(|e| self.expr(e, base)).collect())
                                    .unwrap_or_default();
                                parts.push(Part::Method {
                                    name,
                                    args,
                                    span: mspan,
                                });
                            }
                            Rule::index => {
                                let index = q
                                    .into_inner()
                                    .next()
                                    .map(|e| self.expr(e, base))
                                    .unwrap_or(Expr::Int { value: 0 });
                                parts.push(Part::Index { index });
                            }
                            Rule::method_broken => {
                                let s =
                                    Span::new(base + q.as_span().start(), base + q.as_span().end());
                                self.err(
                                    format!("method call `{}` is not closed or its arguments do not parse", q.as_str()),
                                    s,
                                    "close the argument list with `)`; string arguments need quotes, e.g. `$input.path('$.name')`",
                                );
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        Reference {
            root,
            quiet,
            parts,
            span,
        }
    }

    fn expr(&mut self, pair: Pair<'_, Rule>, base: usize) -> Expr {
        // Collect primaries first: the pratt closures cannot borrow `self` mutably.
        let mut errors = Vec::new();
        let e = PRATT
            .map_primary(|p| primary(self.text, p, base, &mut errors))
            .map_prefix(|op, rhs| match op.as_rule() {
                Rule::not => Expr::Not {
                    operand: Box::new(rhs),
                },
                _ => Expr::Neg {
                    operand: Box::new(rhs),
                },
            })
            .map_infix(|lhs, op, rhs| Expr::Binary {
                op: match op.as_rule() {
                    Rule::or => BinOp::Or,
                    Rule::and => BinOp::And,
                    Rule::eq => BinOp::Eq,
                    Rule::ne => BinOp::Ne,
                    Rule::lt => BinOp::Lt,
                    Rule::le => BinOp::Le,
                    Rule::gt => BinOp::Gt,
                    Rule::ge => BinOp::Ge,
                    Rule::add => BinOp::Add,
                    Rule::sub => BinOp::Sub,
                    Rule::mul => BinOp::Mul,
                    Rule::div => BinOp::Div,
                    _ => BinOp::Rem,
                },
                left: Box::new(lhs),
                right: Box::new(rhs),
            })
            .parse(pair.into_inner());
        self.errors.append(&mut errors);
        e
    }
}

fn primary(text: &str, p: Pair<'_, Rule>, base: usize, errors: &mut Vec<ParseError>) -> Expr {
    let mut b = Builder {
        text,
        errors: Vec::new(),
    };
    let span = Span::new(base + p.as_span().start(), base + p.as_span().end());
    let e = match p.as_rule() {
        Rule::expr => b.expr(p, base),
        Rule::reference => Expr::Ref {
            reference: b.reference(p, base),
        },
        Rule::boolean => Expr::Bool {
            value: p.as_str() == "true",
        },
        Rule::int => match p.as_str().parse::<i64>() {
            Ok(value) => Expr::Int { value },
            Err(_) => {
                b.err(
                    "integer literal out of range",
                    span,
                    "integers are 64-bit; write a float (`1.0e20` is not allowed either; use a string)",
                );
                Expr::Int { value: 0 }
            }
        },
        Rule::float => Expr::Float {
            value: p.as_str().parse::<f64>().unwrap_or(0.0),
        },
        Rule::sq_string => {
            let inner = p.into_inner().next().map(|i| i.as_str()).unwrap_or("");
            Expr::Str {
                value: inner.replace("''", "'"),
                span,
            }
        }
        Rule::dq_string => {
            let inner_pair = p.into_inner().next();
            let (inner, start) = inner_pair
                .map(|i| (i.as_str(), i.as_span().start()))
                .unwrap_or(("", 0));
            if inner.contains('$') {
                match VtlParser::parse(Rule::interp, inner) {
                    Ok(mut pairs) => {
                        let items = pairs.next().map(|x| x.into_inner());
                        let mut parts = items
                            .map(|items| b.items(items, base + start))
                            .unwrap_or_default();
                        for part in &mut parts {
                            if let Node::Text { text } = part {
                                *text = text.replace("\"\"", "\"");
                            }
                        }
                        Expr::Interp { parts }
                    }
                    Err(e) => {
                        b.errors.push(pest_error(
                            &e,
                            base + start,
                            "check the references in this string",
                        ));
                        Expr::Str {
                            value: String::new(),
                            span,
                        }
                    }
                }
            } else {
                Expr::Str {
                    value: inner.replace("\"\"", "\""),
                    span,
                }
            }
        }
        Rule::range => {
            let mut inner = p.into_inner();
            let from = inner.next().map(|e| b.expr(e, base));
            let to = inner.next().map(|e| b.expr(e, base));
            Expr::Range {
                from: Box::new(from.unwrap_or(Expr::Int { value: 0 })),
                to: Box::new(to.unwrap_or(Expr::Int { value: 0 })),
            }
        }
        Rule::list => Expr::List {
            items: p.into_inner().map(|e| b.expr(e, base)).collect(),
        },
        Rule::map => Expr::Map {
            entries: p
                .into_inner()
                .map(|entry| {
                    let mut kv = entry.into_inner();
                    let k = kv.next().map(|e| b.expr(e, base));
                    let v = kv.next().map(|e| b.expr(e, base));
                    (
                        k.unwrap_or(Expr::Bool { value: false }),
                        v.unwrap_or(Expr::Bool { value: false }),
                    )
                })
                .collect(),
        },
        _ => Expr::Bool { value: false },
    };
    errors.append(&mut b.errors);
    e
}

fn push_text(body: Option<&mut Vec<Node>>, s: &str) {
    let Some(body) = body else { return };
    if let Some(Node::Text { text }) = body.last_mut() {
        text.push_str(s);
    } else if !s.is_empty() {
        body.push(Node::Text { text: s.to_owned() });
    }
}

/// Names that are not template variables.
pub const BUILTINS: &[&str] = &["input", "context", "util", "stageVariables", "foreach"];
