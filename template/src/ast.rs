//! The template AST: what the parser produces and both the interpreter and codegen consume.
//! Plain data (serde), no parser types, so it can sit in `tollgate_dsl::ir`.

use serde::{Deserialize, Serialize};

/// A byte range within the template text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Span {
    /// Start offset in bytes.
    pub start: usize,
    /// End offset in bytes (exclusive).
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// 1-based line and column (in characters) of `offset` within `text`.
    pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let before = text.get(..offset).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let col = before
            .rsplit('\n')
            .next()
            .map(|l| l.chars().count())
            .unwrap_or(0)
            + 1;
        (line, col)
    }
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template {
    /// The top-level nodes in order.
    pub body: Vec<Node>,
}

/// One piece of template output or control flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "node")]
pub enum Node {
    /// Literal text, copied to the output.
    Text {
        /// The text.
        text: String,
    },
    /// `$ref`: its value is rendered (null renders as nothing).
    Ref {
        /// The reference.
        reference: Reference,
    },
    /// `#set($target = value)`.
    Set {
        /// What is assigned.
        target: Reference,
        /// The value.
        value: Expr,
        /// The directive's span.
        span: Span,
    },
    /// `#if … #elseif … #else … #end`.
    If {
        /// Conditions and their bodies, in order.
        branches: Vec<Branch>,
        /// The `#else` body.
        otherwise: Option<Vec<Node>>,
        /// The `#if` directive's span.
        span: Span,
    },
    /// `#foreach($var in iterable) … #end`.
    Foreach {
        /// The loop variable (without `$`).
        var: String,
        /// What is iterated.
        iterable: Expr,
        /// The loop body.
        body: Vec<Node>,
        /// The directive's span.
        span: Span,
    },
    /// `#break`: leaves the innermost `#foreach`.
    Break {
        /// The directive's span.
        span: Span,
    },
    /// `#stop`: ends rendering; the output so far is the result.
    Stop {
        /// The directive's span.
        span: Span,
    },
}

/// One `#if`/`#elseif` arm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Branch {
    /// The condition.
    pub condition: Expr,
    /// The body rendered when it holds.
    pub body: Vec<Node>,
}

/// `$root.part.part(…)[…]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// The variable name (`input`, `context`, `util`, `stageVariables`, `foreach` are built in).
    pub root: String,
    /// `$!x`: quiet (renders nothing when null; API Gateway does that for `$x` too).
    pub quiet: bool,
    /// Properties, method calls and indexes, in order.
    pub parts: Vec<Part>,
    /// Where the reference is written.
    pub span: Span,
}

/// A step after a reference's root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "part")]
pub enum Part {
    /// `.name`
    Property {
        /// The property name.
        name: String,
    },
    /// `.name(args)`
    Method {
        /// The method name.
        name: String,
        /// The arguments.
        args: Vec<Expr>,
        /// Where the call is written (for diagnostics).
        span: Span,
    },
    /// `[expr]`
    Index {
        /// The index or key.
        index: Expr,
    },
}

/// An expression inside a directive or a method call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "expr")]
pub enum Expr {
    /// `true` / `false`
    Bool {
        /// The value.
        value: bool,
    },
    /// An integer literal.
    Int {
        /// The value.
        value: i64,
    },
    /// A floating-point literal.
    Float {
        /// The value.
        value: f64,
    },
    /// `'text'` (no interpolation) or a `"text"` without references.
    Str {
        /// The value.
        value: String,
        /// Where it is written.
        span: Span,
    },
    /// `"text $ref text"`: rendered to a string.
    Interp {
        /// Text and reference nodes.
        parts: Vec<Node>,
    },
    /// `[a, b]`
    List {
        /// The elements.
        items: Vec<Expr>,
    },
    /// `[from..to]`
    Range {
        /// First value.
        from: Box<Expr>,
        /// Last value (inclusive).
        to: Box<Expr>,
    },
    /// `{k: v, …}`
    Map {
        /// The entries in order.
        entries: Vec<(Expr, Expr)>,
    },
    /// A reference.
    Ref {
        /// The reference.
        reference: Reference,
    },
    /// `!x`
    Not {
        /// The operand.
        operand: Box<Expr>,
    },
    /// `-x`
    Neg {
        /// The operand.
        operand: Box<Expr>,
    },
    /// `a op b`
    Binary {
        /// The operator.
        op: BinOp,
        /// Left operand.
        left: Box<Expr>,
        /// Right operand.
        right: Box<Expr>,
    },
}

/// Binary operators, loosest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BinOp {
    /// `||` / `or`
    Or,
    /// `&&` / `and`
    And,
    /// `==` / `eq`
    Eq,
    /// `!=` / `ne`
    Ne,
    /// `<` / `lt`
    Lt,
    /// `<=` / `le`
    Le,
    /// `>` / `gt`
    Gt,
    /// `>=` / `ge`
    Ge,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
}

impl Template {
    /// Calls `f` on every reference in the template, nested ones included.
    pub fn walk_refs(&self, f: &mut dyn FnMut(&Reference)) {
        walk_nodes(&self.body, f);
    }
}

/// Calls `f` on every reference in `nodes`, nested ones included.
pub fn walk_nodes(nodes: &[Node], f: &mut dyn FnMut(&Reference)) {
    for n in nodes {
        match n {
            Node::Text { .. } | Node::Break { .. } | Node::Stop { .. } => {}
            Node::Ref { reference } => walk_ref(reference, f),
            Node::Set { target, value, .. } => {
                walk_ref(target, f);
                walk_expr(value, f);
            }
            Node::If {
                branches,
                otherwise,
                ..
            } => {
                for b in branches {
                    walk_expr(&b.condition, f);
                    walk_nodes(&b.body, f);
                }
                if let Some(o) = otherwise {
                    walk_nodes(o, f);
                }
            }
            Node::Foreach { iterable, body, .. } => {
                walk_expr(iterable, f);
                walk_nodes(body, f);
            }
        }
    }
}

fn walk_ref(r: &Reference, f: &mut dyn FnMut(&Reference)) {
    f(r);
    for p in &r.parts {
        match p {
            Part::Property { .. } => {}
            Part::Method { args, .. } => args.iter().for_each(|a| walk_expr(a, f)),
            Part::Index { index } => walk_expr(index, f),
        }
    }
}

fn walk_expr(e: &Expr, f: &mut dyn FnMut(&Reference)) {
    match e {
        Expr::Bool { .. } | Expr::Int { .. } | Expr::Float { .. } | Expr::Str { .. } => {}
        Expr::Interp { parts } => walk_nodes(parts, f),
        Expr::List { items } => items.iter().for_each(|i| walk_expr(i, f)),
        Expr::Range { from, to } => {
            walk_expr(from, f);
            walk_expr(to, f);
        }
        Expr::Map { entries } => entries.iter().for_each(|(k, v)| {
            walk_expr(k, f);
            walk_expr(v, f);
        }),
        Expr::Ref { reference } => walk_ref(reference, f),
        Expr::Not { operand } | Expr::Neg { operand } => walk_expr(operand, f),
        Expr::Binary { left, right, .. } => {
            walk_expr(left, f);
            walk_expr(right, f);
        }
    }
}
