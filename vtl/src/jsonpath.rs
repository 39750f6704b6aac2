//! Jayway JsonPath (Java) semantics, as API Gateway's `$input.path` and `$input.json` use them.
//!
//! Supported: `$`, `.name`, `['name']`, `["name"]`, `['a','b']`, `[0]`, `[-1]`, `[0,2]`,
//! `[1:3]`, `[:2]`, `[-2:]`, `[*]`, `.*`, `..name`, `..[0]`, `..*`, filters
//! `[?(@.price < 10 && @.cat == 'fruit')]` with `== != < <= > >= =~ /re/flags`, `=== !==`,
//! `in nin subsetof anyof noneof contains size empty all`, existence `[?(@.isbn)]`, `!`, `&&`,
//! `||`, parentheses, literals `'str'`, `"str"`, numbers, `true`, `false`, `null`, JSON arrays and
//! objects; and a trailing function `length()`, `size()`, `min()`, `max()`, `avg()`, `sum()` or
//! `stddev()`. A path not starting with `$` or `@` gets `$.` prepended, as in Jayway.
//!
//! Evaluation follows Jayway's rules for a missing property (skipped in an indefinite path, no
//! result in a definite one), for slices (including its quirks: in `[from:to]` a negative `from`
//! counts from the end while a negative `to` selects nothing) and for deep scans (a scan for an
//! array token followed by more path applies the rest of the path to every element of every
//! array, as Jayway's `ScanPathToken` does). Where this departs from Jayway it says so:
//! `&&` binds tighter than `||` and `!` negates any parenthesised condition (Jayway's filter
//! compiler has no precedence and only negates existence checks); `==` between a string and a
//! number compares numerically both ways round; `max()` of negative numbers is their maximum
//! (Jayway starts from `Double.MIN_VALUE`). An indefinite path that Jayway would abort with
//! `PathNotFoundException` (`$.missing[*]`) gives an empty array.
//!
//! Work is bounded: a path has at most 512 tokens, filters nest at most 64 deep, and one
//! evaluation visits at most 10 million nodes and collects at most 1 million matches (past
//! that it gives up and yields Null), so deep scans over large bodies cannot run away.

use crate::jregex;
use crate::ops;
use crate::value::{MAX_DEPTH, Object, Value, read};
use std::cmp::Ordering;
use std::rc::Rc;

/// The most tokens a path may have.
const MAX_TOKENS: usize = 512;
/// How deep filters, sub-paths in filters and literals may nest.
const MAX_NESTING: usize = 64;
/// The most nodes one evaluation visits.
const BUDGET: u64 = 10_000_000;
/// The most matches one evaluation collects.
const MAX_RESULTS: usize = 1_000_000;

/// A compiled JSONPath.
#[derive(Clone, Debug)]
pub struct JsonPath {
    text: String,
    tokens: Vec<Token>,
    function: Option<Function>,
    /// Per token: whether every token before it is definite.
    upstream_definite: Vec<bool>,
    /// `$..x.fn()`: Jayway runs it as `fn($..x)`.
    inverted: bool,
    definite: bool,
}

impl PartialEq for JsonPath {
    /// Two paths are equal when they are written the same.
    fn eq(&self, other: &JsonPath) -> bool {
        self.text == other.text
    }
}

/// A path that does not parse.
#[derive(Debug, Clone, PartialEq)]
pub struct PathError {
    /// What is wrong.
    pub message: String,
    /// Byte offset into the path as written.
    pub offset: usize,
}

impl std::fmt::Display for PathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at offset {})", self.message, self.offset)
    }
}

impl std::error::Error for PathError {}

#[derive(Clone, Debug)]
enum Token {
    /// `.a`, `['a']`, `['a','b']`.
    Property(Vec<Rc<str>>),
    /// `.*`, `[*]`.
    Wildcard,
    /// `[0]`, `[-1]`, `[0,2]`.
    Index(Vec<i64>),
    /// `[a:b]`, `[a:]`, `[:b]`.
    Slice(Slice),
    /// `[?(...)]`.
    Filter(Rc<Filter>),
    /// `..`: applies the next token at every depth.
    Scan,
}

impl Token {
    fn definite(&self, leaf: bool) -> bool {
        match self {
            Token::Property(names) => names.len() == 1 || leaf,
            Token::Index(idx) => idx.len() == 1,
            _ => false,
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Slice {
    From(i64),
    To(i64),
    Between(i64, i64),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Function {
    Length,
    Min,
    Max,
    Avg,
    Sum,
    Stddev,
}

#[derive(Clone, Debug)]
enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Exists(Rc<JsonPath>),
    Compare(Operand, Op, Operand),
}

#[derive(Clone, Debug)]
enum Operand {
    Path(Rc<JsonPath>),
    Literal(Value),
    Regex(String),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Eq,
    Ne,
    TypeEq,
    TypeNe,
    Lt,
    Le,
    Gt,
    Ge,
    Regex,
    In,
    Nin,
    SubsetOf,
    AnyOf,
    NoneOf,
    Contains,
    Size,
    Empty,
    All,
}

impl JsonPath {
    /// Compiles `s`: see the [module docs](self) for the syntax. A path not starting with `$`
    /// (e.g. `name` or `@`) gets `$.` prepended, as Jayway does.
    pub fn parse(s: &str) -> Result<JsonPath, PathError> {
        parse_path(s, 0)
    }

    /// Whether the path names at most one value: no wildcard, deep scan, filter, slice or
    /// multi-index (a multi-property `['a','b']` at the end is definite: Jayway merges the
    /// properties into one object).
    pub fn is_definite(&self) -> bool {
        self.definite
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Evaluates against `root`. Definite path: the value, or Null when missing (API Gateway
    /// renders missing as empty). Indefinite path: a [`Value::Array`] of every match (empty
    /// when none). Properties on non-objects are missing. With a trailing function, its result
    /// (Null when it has none, e.g. `avg()` of no numbers).
    pub fn eval(&self, root: &Value) -> Value {
        let mut budget = BUDGET;
        match self.evaluate(root, root, &mut budget) {
            Outcome::Found(results) => {
                if self.definite {
                    results.into_iter().last().unwrap_or_default()
                } else {
                    Value::Array(Rc::new(results))
                }
            }
            Outcome::Missing => {
                if self.definite {
                    Value::Null
                } else {
                    Value::Array(Rc::new(Vec::new()))
                }
            }
            Outcome::Failed => Value::Null,
        }
    }

    fn evaluate(&self, model: &Value, root: &Value, budget: &mut u64) -> Outcome {
        let mut ctx = Ctx {
            root,
            results: Vec::new(),
            budget,
            function: None,
        };
        let inverted = self.inverted;
        if !inverted {
            ctx.function = self.function;
        }
        match self.step(0, model, &mut ctx, 0) {
            Ok(()) => {}
            Err(Abort::NotFound) => return Outcome::Missing,
            Err(Abort::Failed) => return Outcome::Failed,
        }
        let results = std::mem::take(&mut ctx.results);
        if inverted {
            // Jayway turns `$..x.fn()` into `fn($..x)`.
            let f = self.function.unwrap_or(Function::Length);
            return match apply_function(f, &Value::Array(Rc::new(results))) {
                Ok(v) => Outcome::Found(vec![v]),
                Err(_) => Outcome::Failed,
            };
        }
        if results.is_empty() {
            Outcome::Missing
        } else {
            Outcome::Found(results)
        }
    }

    fn is_leaf(&self, i: usize) -> bool {
        i + 1 == self.tokens.len() && (self.function.is_none() || self.inverted)
    }

    /// Applies token `i` (and the rest of the path) to `model`.
    fn step(
        &self,
        i: usize,
        model: &Value,
        ctx: &mut Ctx<'_, '_>,
        depth: usize,
    ) -> Result<(), Abort> {
        if *ctx.budget == 0 {
            return Err(Abort::Failed);
        }
        *ctx.budget -= 1;
        if depth > MAX_DEPTH + MAX_TOKENS {
            return Err(Abort::Failed);
        }
        let Some(token) = self.tokens.get(i) else {
            return ctx.add(model);
        };
        let upstream = self.upstream_definite.get(i).copied().unwrap_or(false);
        match token {
            Token::Property(names) => {
                let Some(obj) = as_object(model) else {
                    return if upstream {
                        Err(Abort::NotFound)
                    } else {
                        Ok(())
                    };
                };
                let leaf = self.is_leaf(i);
                if names.len() > 1 && leaf {
                    let merged: Object = names
                        .iter()
                        .filter_map(|n| obj.get(n).map(|v| (n.clone(), v.clone())))
                        .collect();
                    return ctx.add(&Value::Object(Rc::new(merged)));
                }
                let token_definite = names.len() == 1;
                for name in names {
                    match obj.get(name) {
                        Some(v) => self.step(i + 1, v, ctx, depth + 1)?,
                        None if leaf => {}
                        None => {
                            if upstream && token_definite {
                                return Err(Abort::NotFound);
                            }
                        }
                    }
                }
                Ok(())
            }
            Token::Wildcard => {
                if let Some(obj) = as_object(model) {
                    for v in obj.values() {
                        self.step(i + 1, v, ctx, depth + 1)?;
                    }
                } else if let Some(items) = as_array(model) {
                    for v in items.iter() {
                        self.step(i + 1, v, ctx, depth + 1)?;
                    }
                }
                Ok(())
            }
            Token::Index(indexes) => {
                let Some(items) = as_array(model) else {
                    return if upstream {
                        Err(Abort::NotFound)
                    } else {
                        Ok(())
                    };
                };
                for &ix in indexes {
                    self.index(i, &items, ix, ctx, depth)?;
                }
                Ok(())
            }
            Token::Slice(slice) => {
                let Some(items) = as_array(model) else {
                    return if upstream {
                        Err(Abort::NotFound)
                    } else {
                        Ok(())
                    };
                };
                let len = items.len() as i64;
                let (from, to) = match *slice {
                    Slice::From(f) => {
                        let f = if f < 0 { (len + f).max(0) } else { f };
                        (f, len)
                    }
                    Slice::To(t) => {
                        let t = if t < 0 { len + t } else { t };
                        (0, t.min(len))
                    }
                    // Jayway: `to` is clamped but never counted from the end; a negative `from`
                    // reaches back through handleArrayIndex's negative-index rule.
                    Slice::Between(f, t) => (f, t.min(len)),
                };
                if len == 0 || from >= to {
                    return Ok(());
                }
                for ix in from..to {
                    self.index(i, &items, ix, ctx, depth)?;
                }
                Ok(())
            }
            Token::Filter(filter) => {
                if let Some(_obj) = as_object(model) {
                    if filter_accepts(filter, model, ctx.root, ctx.budget)? {
                        self.step(i + 1, model, ctx, depth + 1)?;
                    }
                    Ok(())
                } else if let Some(items) = as_array(model) {
                    for v in items.iter() {
                        if filter_accepts(filter, v, ctx.root, ctx.budget)? {
                            self.step(i + 1, v, ctx, depth + 1)?;
                        }
                    }
                    Ok(())
                } else if upstream {
                    Err(Abort::NotFound)
                } else {
                    Ok(())
                }
            }
            Token::Scan => self.walk(i + 1, model, ctx, depth + 1),
        }
    }

    /// Jayway's handleArrayIndex: a negative index counts from the end; out of range is nothing.
    fn index(
        &self,
        i: usize,
        items: &[Value],
        ix: i64,
        ctx: &mut Ctx<'_, '_>,
        depth: usize,
    ) -> Result<(), Abort> {
        let len = items.len() as i64;
        let eff = if ix < 0 { len + ix } else { ix };
        if (0..len).contains(&eff) {
            self.step(i + 1, &items[eff as usize], ctx, depth + 1)?;
        }
        Ok(())
    }

    /// Jayway's ScanPathToken.walk for target token `t`.
    fn walk(
        &self,
        t: usize,
        model: &Value,
        ctx: &mut Ctx<'_, '_>,
        depth: usize,
    ) -> Result<(), Abort> {
        if *ctx.budget == 0 || depth > MAX_DEPTH + MAX_TOKENS {
            return Err(Abort::Failed);
        }
        *ctx.budget -= 1;
        if let Some(obj) = as_object(model) {
            if self.scan_matches(t, model, ctx)? {
                self.step(t, model, ctx, depth + 1)?;
            }
            for v in obj.values() {
                self.walk(t, v, ctx, depth + 1)?;
            }
        } else if let Some(items) = as_array(model) {
            if self.scan_matches(t, model, ctx)? {
                if self.is_leaf(t) {
                    self.step(t, model, ctx, depth + 1)?;
                } else {
                    for v in items.iter() {
                        self.step(t + 1, v, ctx, depth + 1)?;
                    }
                }
            }
            for v in items.iter() {
                self.walk(t, v, ctx, depth + 1)?;
            }
        }
        Ok(())
    }

    /// Jayway's scan predicates: which nodes the token after `..` applies to.
    fn scan_matches(&self, t: usize, model: &Value, ctx: &mut Ctx<'_, '_>) -> Result<bool, Abort> {
        Ok(match self.tokens.get(t) {
            Some(Token::Property(names)) => match as_object(model) {
                Some(obj) => {
                    let leaf = self.is_leaf(t);
                    !self.tokens[t].definite(leaf) || names.iter().all(|n| obj.contains_key(n))
                }
                None => false,
            },
            Some(Token::Index(_) | Token::Slice(_)) => as_array(model).is_some(),
            Some(Token::Wildcard) => true,
            Some(Token::Filter(f)) => filter_accepts(f, model, ctx.root, ctx.budget)?,
            _ => false,
        })
    }
}

enum Outcome {
    Found(Vec<Value>),
    Missing,
    Failed,
}

enum Abort {
    /// Jayway's PathNotFoundException on a definite branch.
    NotFound,
    /// A function failed, or the work budget ran out.
    Failed,
}

struct Ctx<'r, 'b> {
    root: &'r Value,
    results: Vec<Value>,
    budget: &'b mut u64,
    /// Applied to each match (when the path ends in a function that is not inverted).
    function: Option<Function>,
}

impl Ctx<'_, '_> {
    fn add(&mut self, v: &Value) -> Result<(), Abort> {
        if self.results.len() >= MAX_RESULTS {
            return Err(Abort::Failed);
        }
        match self.function {
            None => self.results.push(v.clone()),
            Some(f) => self
                .results
                .push(apply_function(f, v).map_err(|_| Abort::Failed)?),
        }
        Ok(())
    }
}

/// The entries of a JSON object or template map.
fn as_object(v: &Value) -> Option<Rc<Object>> {
    match v {
        Value::Object(o) => Some(o.clone()),
        Value::Map(m) => read(m).map(|o| Rc::new(o.clone())),
        _ => None,
    }
}

/// The elements of a JSON array or template list.
fn as_array(v: &Value) -> Option<Rc<Vec<Value>>> {
    match v {
        Value::Array(a) => Some(a.clone()),
        Value::List(l) => read(l).map(|items| Rc::new(items.clone())),
        _ => None,
    }
}

fn apply_function(f: Function, model: &Value) -> Result<Value, ()> {
    if f == Function::Length {
        return Ok(match model {
            Value::Array(a) => Value::Int(a.len() as i64),
            Value::List(l) => Value::Int(read(l).map(|v| v.len()).unwrap_or(0) as i64),
            Value::Object(o) => Value::Int(o.len() as i64),
            Value::Map(m) => Value::Int(read(m).map(|o| o.len()).unwrap_or(0) as i64),
            _ => Value::Null,
        });
    }
    let nums: Vec<f64> = as_array(model)
        .map(|items| {
            items
                .iter()
                .filter_map(|v| match v {
                    Value::Int(i) => Some(*i as f64),
                    Value::Float(x) => Some(*x),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    if nums.is_empty() {
        // Jayway: "Aggregation function attempted to calculate value using empty array".
        return Err(());
    }
    let n = nums.len() as f64;
    let sum: f64 = nums.iter().sum();
    Ok(Value::Float(match f {
        Function::Sum => sum,
        Function::Avg => sum / n,
        Function::Min => nums.iter().copied().fold(f64::INFINITY, f64::min),
        Function::Max => nums.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        Function::Stddev => {
            let sq: f64 = nums.iter().map(|x| x * x).sum();
            (sq / n - (sum / n) * (sum / n)).max(0.0).sqrt()
        }
        Function::Length => n,
    }))
}

// ---------------------------------------------------------------------------------------------
// Filters

/// A filter operand's value: Jayway's ValueNode.
enum Node {
    Undefined,
    Val(Value),
    Pattern(String),
}

fn filter_accepts(f: &Filter, item: &Value, root: &Value, budget: &mut u64) -> Result<bool, Abort> {
    Ok(match f {
        Filter::Or(a, b) => {
            filter_accepts(a, item, root, budget)? || filter_accepts(b, item, root, budget)?
        }
        Filter::And(a, b) => {
            filter_accepts(a, item, root, budget)? && filter_accepts(b, item, root, budget)?
        }
        Filter::Not(a) => !filter_accepts(a, item, root, budget)?,
        Filter::Exists(p) => {
            let doc = if p.text.starts_with('$') { root } else { item };
            match p.evaluate(doc, root, budget) {
                Outcome::Found(r) => p.definite || !r.is_empty(),
                Outcome::Missing => false,
                Outcome::Failed => {
                    if *budget == 0 {
                        return Err(Abort::Failed);
                    }
                    false
                }
            }
        }
        Filter::Compare(l, op, r) => {
            let l = operand(l, item, root, budget)?;
            let r = operand(r, item, root, budget)?;
            compare(&l, *op, &r)
        }
    })
}

fn operand(o: &Operand, item: &Value, root: &Value, budget: &mut u64) -> Result<Node, Abort> {
    Ok(match o {
        Operand::Literal(v) => Node::Val(v.clone()),
        Operand::Regex(p) => Node::Pattern(p.clone()),
        Operand::Path(p) => {
            let doc = if p.text.starts_with('$') { root } else { item };
            match p.evaluate(doc, root, budget) {
                Outcome::Found(r) => {
                    if p.definite {
                        r.into_iter()
                            .last()
                            .map(Node::Val)
                            .unwrap_or(Node::Undefined)
                    } else {
                        Node::Val(Value::Array(Rc::new(r)))
                    }
                }
                Outcome::Missing => {
                    if p.definite {
                        Node::Undefined
                    } else {
                        Node::Val(Value::Array(Rc::new(Vec::new())))
                    }
                }
                Outcome::Failed => {
                    if *budget == 0 {
                        return Err(Abort::Failed);
                    }
                    Node::Undefined
                }
            }
        }
    })
}

fn is_json(v: &Value) -> bool {
    matches!(
        v,
        Value::Array(_) | Value::List(_) | Value::Object(_) | Value::Map(_)
    )
}

fn is_num(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::Float(_))
}

/// A string as Java's `BigDecimal` would read it, for comparing with a number.
fn parse_decimal(s: &str) -> Option<Value> {
    let ok = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'))
        && s.bytes().any(|b| b.is_ascii_digit());
    if !ok {
        return None;
    }
    match s.parse::<i64>() {
        Ok(i) => Some(Value::Int(i)),
        Err(_) => s.parse::<f64>().ok().map(Value::Float),
    }
}

/// Jayway's `==` between two value nodes.
fn node_eq(a: &Node, b: &Node) -> bool {
    let (Node::Val(x), Node::Val(y)) = (a, b) else {
        return matches!((a, b), (Node::Pattern(p), Node::Pattern(q)) if p == q);
    };
    value_eq(x, y)
}

fn value_eq(x: &Value, y: &Value) -> bool {
    match (x, y) {
        (a, b) if is_json(a) && is_json(b) => ops::java_equals(a, b),
        (a, b) if is_json(a) || is_json(b) => false,
        (a, b) if is_num(a) && is_num(b) => ops::cmp(a, b) == Some(Ordering::Equal),
        (n, Value::Str(s)) | (Value::Str(s), n) if is_num(n) => {
            parse_decimal(s).is_some_and(|v| ops::cmp(n, &v) == Some(Ordering::Equal))
        }
        (Value::Str(a), Value::Str(b)) => a == b,
        (Value::Bool(a), Value::Bool(b)) => a == b,
        (Value::Null, Value::Null) => true,
        _ => false,
    }
}

fn same_type(a: &Node, b: &Node) -> bool {
    match (a, b) {
        (Node::Val(x), Node::Val(y)) => {
            let class = |v: &Value| match v {
                Value::Null => 0,
                Value::Bool(_) => 1,
                Value::Int(_) | Value::Float(_) => 2,
                Value::Str(_) => 3,
                _ => 4,
            };
            class(x) == class(y)
        }
        (Node::Pattern(_), Node::Pattern(_)) => true,
        _ => false,
    }
}

fn list_of(n: &Node) -> Option<Rc<Vec<Value>>> {
    match n {
        Node::Val(v) => as_array(v),
        _ => None,
    }
}

fn list_contains(items: &[Value], v: &Value) -> bool {
    items.iter().any(|e| value_eq(e, v))
}

/// The text `=~` matches a value against.
fn regex_input(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => v.to_java_string(),
        _ => String::new(),
    }
}

fn regex_matches(pattern: &str, v: &Value) -> bool {
    let Ok(re) = jregex::compile(pattern, true) else {
        return false;
    };
    match as_array(v) {
        Some(items) if matches!(v, Value::Array(_) | Value::List(_)) => {
            items.iter().any(|e| re.is_match(&regex_input(e)))
        }
        _ => re.is_match(&regex_input(v)),
    }
}

fn compare(l: &Node, op: Op, r: &Node) -> bool {
    let ord = || match (l, r) {
        (Node::Val(a), Node::Val(b)) => match (a, b) {
            (Value::Str(_), Value::Str(_)) => ops::cmp(a, b),
            (a, b) if is_num(a) && is_num(b) => ops::cmp(a, b),
            _ => None,
        },
        _ => None,
    };
    match op {
        Op::Eq => node_eq(l, r),
        Op::Ne => !node_eq(l, r),
        Op::TypeEq => same_type(l, r) && node_eq(l, r),
        Op::TypeNe => !(same_type(l, r) && node_eq(l, r)),
        Op::Lt => ord() == Some(Ordering::Less),
        Op::Le => matches!(ord(), Some(Ordering::Less | Ordering::Equal)),
        Op::Gt => ord() == Some(Ordering::Greater),
        Op::Ge => matches!(ord(), Some(Ordering::Greater | Ordering::Equal)),
        Op::Regex => match (l, r) {
            (Node::Pattern(p), Node::Val(v)) | (Node::Val(v), Node::Pattern(p)) => {
                regex_matches(p, v)
            }
            (Node::Pattern(p), Node::Undefined) | (Node::Undefined, Node::Pattern(p)) => {
                regex_matches(p, &Value::Null)
            }
            _ => false,
        },
        Op::In | Op::Nin => {
            let found = match (l, list_of(r)) {
                (Node::Val(v), Some(items)) => list_contains(&items, v),
                _ => false,
            };
            found == (op == Op::In)
        }
        Op::SubsetOf | Op::AnyOf | Op::NoneOf => match (list_of(l), list_of(r)) {
            (Some(a), Some(b)) => match op {
                Op::SubsetOf => a.iter().all(|x| list_contains(&b, x)),
                Op::AnyOf => a.iter().any(|x| list_contains(&b, x)),
                _ => !a.iter().any(|x| list_contains(&b, x)),
            },
            _ => false,
        },
        Op::All => match (list_of(l), list_of(r)) {
            (Some(a), Some(b)) => b.iter().all(|x| list_contains(&a, x)),
            _ => false,
        },
        Op::Contains => match (l, r) {
            (Node::Val(Value::Str(a)), Node::Val(Value::Str(b))) => a.contains(&**b),
            (Node::Val(Value::Array(_) | Value::List(_)), Node::Val(b)) => {
                list_of(l).is_some_and(|items| list_contains(&items, b))
            }
            _ => false,
        },
        Op::Size => {
            let Node::Val(n) = r else { return false };
            let n = match n {
                Value::Int(i) => *i,
                Value::Float(f) => *f as i64,
                _ => return false,
            };
            match l {
                Node::Val(Value::Str(s)) => s.encode_utf16().count() as i64 == n,
                Node::Val(v @ (Value::Array(_) | Value::List(_))) => {
                    as_array(v).is_some_and(|a| a.len() as i64 == n)
                }
                _ => false,
            }
        }
        Op::Empty => {
            let Node::Val(Value::Bool(want)) = r else {
                return false;
            };
            let empty = match l {
                Node::Val(Value::Str(s)) => s.is_empty(),
                Node::Val(v) if is_json(v) => as_array(v)
                    .map(|a| a.is_empty())
                    .or_else(|| as_object(v).map(|o| o.is_empty()))
                    .unwrap_or(true),
                _ => return false,
            };
            empty == *want
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    /// Maps an offset in `s` back to the path as written.
    base: usize,
    prefixed: usize,
    nesting: usize,
}

fn parse_path(input: &str, nesting: usize) -> Result<JsonPath, PathError> {
    if nesting > MAX_NESTING {
        return Err(PathError {
            message: "path nests too deeply".into(),
            offset: 0,
        });
    }
    let leading = input.len() - input.trim_start_matches(|c: char| c <= ' ').len();
    let trimmed = input.trim_matches(|c: char| c <= ' ');
    let (text, prefixed) = if trimmed.starts_with('$') || trimmed.starts_with('@') {
        (trimmed.to_string(), 0)
    } else {
        (format!("$.{trimmed}"), 2)
    };
    let mut p = Parser {
        s: &text,
        b: text.as_bytes(),
        pos: 0,
        base: leading,
        prefixed,
        nesting,
    };
    if text.ends_with('.') {
        return Err(p.err_at(
            "Path must not end with a '.' or '..'",
            text.len().saturating_sub(1),
        ));
    }
    let mut tokens = Vec::new();
    let mut function = None;
    p.pos = 1;
    if p.pos < p.b.len() {
        if !matches!(p.b[p.pos], b'.' | b'[') {
            return Err(p.err("Illegal character, expected '.' or '['"));
        }
        while p.pos < p.b.len() {
            if function.is_some() {
                return Err(p.err("A function must be the last element of a path"));
            }
            if tokens.len() >= MAX_TOKENS {
                return Err(p.err("path has too many elements"));
            }
            p.token(&mut tokens, &mut function)?;
        }
    }
    if matches!(tokens.last(), Some(Token::Scan)) {
        return Err(p.err("Path must not end with a '.' or '..'"));
    }
    let n = tokens.len();
    let mut upstream_definite = Vec::with_capacity(n);
    let mut all = true;
    for (i, t) in tokens.iter().enumerate() {
        upstream_definite.push(all);
        let leaf = i + 1 == n && function.is_none();
        all = all && t.definite(leaf);
    }
    // `$..x.fn()` runs as `fn($..x)`: one value.
    let inverted = function.is_some() && matches!(tokens.first(), Some(Token::Scan));
    if inverted {
        all = true;
    }
    Ok(JsonPath {
        text: input.to_string(),
        tokens,
        function,
        upstream_definite,
        inverted,
        definite: all,
    })
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl Parser<'_> {
    fn err_at(&self, message: &str, pos: usize) -> PathError {
        PathError {
            message: message.to_string(),
            offset: self.base + pos.saturating_sub(self.prefixed),
        }
    }

    fn err(&self, message: &str) -> PathError {
        self.err_at(message, self.pos)
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(is_ws) {
            self.pos += 1;
        }
    }

    fn token(
        &mut self,
        tokens: &mut Vec<Token>,
        function: &mut Option<Function>,
    ) -> Result<(), PathError> {
        match self.peek() {
            Some(b'[') => self.bracket(tokens),
            Some(b'.') => {
                if self.b.get(self.pos + 1) == Some(&b'.') {
                    tokens.push(Token::Scan);
                    self.pos += 2;
                } else {
                    self.pos += 1;
                }
                match self.peek() {
                    None => Err(self.err("Path must not end with a '.'")),
                    Some(b'.') => Err(self.err("Character '.' is not valid here")),
                    _ => self.token(tokens, function),
                }
            }
            Some(b'*') => {
                tokens.push(Token::Wildcard);
                self.pos += 1;
                Ok(())
            }
            Some(_) => self.property_or_function(tokens, function),
            None => Err(self.err("Unexpected end of path")),
        }
    }

    fn property_or_function(
        &mut self,
        tokens: &mut Vec<Token>,
        function: &mut Option<Function>,
    ) -> Result<(), PathError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            match c {
                b' ' => {
                    return Err(self.err(
                        "Use bracket notation ['my prop'] if your property contains blank characters",
                    ));
                }
                b'.' | b'[' | b'(' => break,
                _ => self.pos += 1,
            }
        }
        let name = &self.s[start..self.pos];
        if name.is_empty() {
            return Err(self.err("Could not parse token"));
        }
        if self.peek() == Some(b'(') {
            self.pos += 1;
            self.skip_ws();
            if self.peek() != Some(b')') {
                return Err(self.err("Functions with arguments are not supported"));
            }
            self.pos += 1;
            if matches!(tokens.last(), Some(Token::Scan)) {
                return Err(self.err("A function cannot follow '..'"));
            }
            *function = Some(match name {
                "length" | "size" => Function::Length,
                "min" => Function::Min,
                "max" => Function::Max,
                "avg" => Function::Avg,
                "sum" => Function::Sum,
                "stddev" => Function::Stddev,
                _ => {
                    return Err(self.err_at(
                        &format!("Function with name: {name} does not exist."),
                        start,
                    ));
                }
            });
            return Ok(());
        }
        tokens.push(Token::Property(vec![Rc::from(name)]));
        Ok(())
    }

    fn bracket(&mut self, tokens: &mut Vec<Token>) -> Result<(), PathError> {
        let open = self.pos;
        self.pos += 1;
        self.skip_ws();
        match self.peek() {
            Some(q @ (b'\'' | b'"')) => {
                let mut names = Vec::new();
                loop {
                    self.skip_ws();
                    if self.peek() != Some(q) {
                        return Err(self.err("Expected a quoted property name"));
                    }
                    self.pos += 1;
                    names.push(Rc::from(self.quoted(q)?.as_str()));
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            break;
                        }
                        _ => {
                            return Err(self
                                .err("Property must be separated by comma or terminated by ']'"));
                        }
                    }
                }
                tokens.push(Token::Property(names));
                Ok(())
            }
            Some(b'*') => {
                self.pos += 1;
                self.skip_ws();
                if self.peek() != Some(b']') {
                    return Err(self.err("Expected wildcard token to end with ']'"));
                }
                self.pos += 1;
                tokens.push(Token::Wildcard);
                Ok(())
            }
            Some(b'?') => {
                self.pos += 1;
                self.skip_ws();
                if self.peek() != Some(b'(') {
                    return Err(self.err("Expected '(' after '?' in a filter"));
                }
                let close = self.closing_paren(self.pos)?;
                let inner_start = self.pos + 1;
                let filter = parse_filter(&self.s[inner_start..close], self.nesting + 1)
                    .map_err(|e| self.err_at(&e.message, inner_start + e.offset))?;
                self.pos = close + 1;
                self.skip_ws();
                if self.peek() != Some(b']') {
                    return Err(self.err("Expected ']' to close the filter"));
                }
                self.pos += 1;
                tokens.push(Token::Filter(Rc::new(filter)));
                Ok(())
            }
            Some(c) if c.is_ascii_digit() || c == b'-' || c == b':' => {
                let Some(end) = self.s[open..].find(']').map(|e| open + e) else {
                    return Err(self.err("Expected ']'"));
                };
                let expr = self.s[open + 1..end].trim();
                if !expr
                    .bytes()
                    .all(|b| b.is_ascii_digit() || matches!(b, b',' | b'-' | b':' | b' '))
                {
                    return Err(self.err_at("Invalid array index or slice", open));
                }
                let bad = || self.err_at(&format!("Failed to parse array operation: {expr}"), open);
                let int = |t: &str| t.trim().parse::<i32>().map(i64::from).map_err(|_| bad());
                if expr.contains(':') {
                    if expr.contains(' ') || expr.contains(',') {
                        return Err(bad());
                    }
                    // Java's split(":") drops trailing empty parts; more than two parts: the
                    // rest is ignored, as in Jayway.
                    let parts: Vec<&str> = expr.split(':').collect();
                    let read = |i: usize| -> Result<Option<i64>, PathError> {
                        match parts.get(i) {
                            Some(t) if !t.is_empty() => int(t).map(Some),
                            _ => Ok(None),
                        }
                    };
                    let slice = match (read(0)?, read(1)?) {
                        (Some(f), None) => Slice::From(f),
                        (Some(f), Some(t)) => Slice::Between(f, t),
                        (None, Some(t)) => Slice::To(t),
                        (None, None) => return Err(bad()),
                    };
                    tokens.push(Token::Slice(slice));
                } else {
                    let idx = expr.split(',').map(int).collect::<Result<Vec<_>, _>>()?;
                    tokens.push(Token::Index(idx));
                }
                self.pos = end + 1;
                Ok(())
            }
            _ => Err(self.err_at(
                "Could not parse token starting here. Expected ?, ', 0-9, *",
                open,
            )),
        }
    }

    /// Reads a quoted string whose opening quote is already consumed; unescapes as Jayway's
    /// `Utils.unescape` (Java escapes).
    fn quoted(&mut self, q: u8) -> Result<String, PathError> {
        let start = self.pos;
        let mut escaped = false;
        while let Some(c) = self.peek() {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == q {
                let raw = &self.s[start..self.pos];
                self.pos += 1;
                return Ok(unescape(raw));
            }
            self.pos += 1;
        }
        Err(self.err_at(
            "Property has not been closed - missing closing quote",
            start,
        ))
    }

    /// The index of the `)` closing the `(` at `open`, skipping strings and regex literals.
    fn closing_paren(&self, open: usize) -> Result<usize, PathError> {
        let mut depth = 0usize;
        let mut i = open;
        while i < self.b.len() {
            match self.b[i] {
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(i);
                    }
                }
                q @ (b'\'' | b'"' | b'/') => {
                    i += 1;
                    while i < self.b.len() && self.b[i] != q {
                        if self.b[i] == b'\\' {
                            i += 1;
                        }
                        i += 1;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        Err(self.err_at("Filter is not closed: missing ')'", open))
    }
}

/// Java-style unescaping of a quoted name or string literal: `\n \t \r \b \f`, `\uXXXX`, and
/// `\x` -> `x` for anything else.
fn unescape(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_string();
    }
    // Decoded as Java does, into UTF-16 units: `\uD83D\uDE00` pairs up, a lone surrogate
    // becomes U+FFFD.
    let mut units: Vec<u16> = Vec::with_capacity(raw.len());
    let mut chars = raw.chars();
    let mut buf = [0u16; 2];
    while let Some(c) = chars.next() {
        let c = if c == '\\' {
            match chars.next() {
                Some('n') => '\n',
                Some('t') => '\t',
                Some('r') => '\r',
                Some('b') => '\u{8}',
                Some('f') => '\u{c}',
                Some('u') => {
                    let hex: String = chars.clone().take(4).collect();
                    if hex.len() == 4 && hex.chars().all(|h| h.is_ascii_hexdigit()) {
                        for _ in 0..4 {
                            chars.next();
                        }
                        units.push(u16::from_str_radix(&hex, 16).unwrap_or(0xFFFD));
                        continue;
                    }
                    'u'
                }
                Some(x) => x,
                None => '\\',
            }
        } else {
            c
        };
        units.extend_from_slice(c.encode_utf16(&mut buf));
    }
    String::from_utf16_lossy(&units)
}

/// Parses the text inside `[?( ... )]`.
fn parse_filter(s: &str, nesting: usize) -> Result<Filter, PathError> {
    let mut p = FilterParser {
        s,
        b: s.as_bytes(),
        pos: 0,
        nesting,
    };
    let f = p.or()?;
    p.skip_ws();
    if p.pos < p.b.len() {
        return Err(p.err("Unexpected text in filter"));
    }
    Ok(f)
}

struct FilterParser<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    nesting: usize,
}

impl FilterParser<'_> {
    fn err(&self, message: &str) -> PathError {
        PathError {
            message: message.to_string(),
            offset: self.pos,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(is_ws) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, t: &str) -> bool {
        self.skip_ws();
        if self.s[self.pos..].starts_with(t) {
            self.pos += t.len();
            true
        } else {
            false
        }
    }

    fn nest(&mut self) -> Result<(), PathError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(self.err("filter nests too deeply"));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Filter, PathError> {
        let mut f = self.and()?;
        while self.eat("||") {
            let r = self.and()?;
            f = Filter::Or(Box::new(f), Box::new(r));
        }
        Ok(f)
    }

    fn and(&mut self) -> Result<Filter, PathError> {
        let mut f = self.unary()?;
        while self.eat("&&") {
            let r = self.unary()?;
            f = Filter::And(Box::new(f), Box::new(r));
        }
        Ok(f)
    }

    fn unary(&mut self) -> Result<Filter, PathError> {
        self.skip_ws();
        match self.peek() {
            Some(b'!') => {
                self.pos += 1;
                self.nest()?;
                let f = self.unary()?;
                self.nesting -= 1;
                Ok(Filter::Not(Box::new(f)))
            }
            Some(b'(') => {
                self.pos += 1;
                self.nest()?;
                let f = self.or()?;
                self.nesting -= 1;
                if !self.eat(")") {
                    return Err(self.err("Expected ')'"));
                }
                Ok(f)
            }
            _ => self.relation(),
        }
    }

    fn relation(&mut self) -> Result<Filter, PathError> {
        let left = self.operand()?;
        self.skip_ws();
        let done = match self.peek() {
            None | Some(b')') => true,
            Some(_) => self.s[self.pos..].starts_with("&&") || self.s[self.pos..].starts_with("||"),
        };
        if done {
            return match left {
                Operand::Path(p) => Ok(Filter::Exists(p)),
                _ => Err(self.err("Expected a relational operator after a literal")),
            };
        }
        let op = self.operator()?;
        let right = self.operand()?;
        Ok(Filter::Compare(left, op, right))
    }

    fn operator(&mut self) -> Result<Op, PathError> {
        let start = self.pos;
        let is_op_char = |c: u8| matches!(c, b'<' | b'>' | b'=' | b'~' | b'!');
        if self.peek().is_some_and(is_op_char) {
            while self.peek().is_some_and(is_op_char) {
                self.pos += 1;
            }
        } else {
            while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
                self.pos += 1;
            }
        }
        let text = &self.s[start..self.pos];
        Ok(match text.to_ascii_lowercase().as_str() {
            "==" => Op::Eq,
            "!=" | "<>" => Op::Ne,
            "===" => Op::TypeEq,
            "!==" => Op::TypeNe,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "=~" => Op::Regex,
            "in" => Op::In,
            "nin" => Op::Nin,
            "subsetof" => Op::SubsetOf,
            "anyof" => Op::AnyOf,
            "noneof" => Op::NoneOf,
            "contains" => Op::Contains,
            "size" => Op::Size,
            "empty" => Op::Empty,
            "all" => Op::All,
            _ => {
                self.pos = start;
                return Err(self.err(&format!("Filter operator {text} is not supported")));
            }
        })
    }

    fn operand(&mut self) -> Result<Operand, PathError> {
        self.skip_ws();
        let start = self.pos;
        match self.peek() {
            Some(b'@' | b'$') => {
                self.path_extent()?;
                let text = &self.s[start..self.pos];
                let p = parse_path(text, self.nesting + 1).map_err(|e| PathError {
                    message: e.message,
                    offset: start + e.offset,
                })?;
                Ok(Operand::Path(Rc::new(p)))
            }
            Some(q @ (b'\'' | b'"')) => {
                self.pos += 1;
                let raw_start = self.pos;
                let mut escaped = false;
                while let Some(c) = self.peek() {
                    if escaped {
                        escaped = false;
                    } else if c == b'\\' {
                        escaped = true;
                    } else if c == q {
                        let raw = &self.s[raw_start..self.pos];
                        self.pos += 1;
                        return Ok(Operand::Literal(Value::str(unescape(raw))));
                    }
                    self.pos += 1;
                }
                Err(self.err("String not closed"))
            }
            Some(b'/') => {
                self.pos += 1;
                let raw_start = self.pos;
                let mut escaped = false;
                loop {
                    match self.peek() {
                        None => return Err(self.err("Pattern not closed")),
                        Some(b'\\') if !escaped => escaped = true,
                        Some(b'/') if !escaped => break,
                        _ => escaped = false,
                    }
                    self.pos += 1;
                }
                let raw = &self.s[raw_start..self.pos];
                self.pos += 1;
                let mut flags = String::new();
                while let Some(c @ (b'i' | b'm' | b's' | b'x' | b'u' | b'd' | b'U')) = self.peek() {
                    if matches!(c, b'i' | b'm' | b's' | b'x') {
                        flags.push(c as char);
                    }
                    self.pos += 1;
                }
                let pattern = if flags.is_empty() {
                    raw.to_string()
                } else {
                    format!("(?{flags}){raw}")
                };
                if let Err(e) = jregex::compile(&pattern, true) {
                    self.pos = raw_start;
                    return Err(self.err(&e.message));
                }
                Ok(Operand::Regex(pattern))
            }
            Some(b'[' | b'{') => {
                self.nest()?;
                let v = self.json_literal()?;
                self.nesting -= 1;
                Ok(Operand::Literal(v))
            }
            Some(b't') if self.s[self.pos..].starts_with("true") => {
                self.pos += 4;
                Ok(Operand::Literal(Value::Bool(true)))
            }
            Some(b'f') if self.s[self.pos..].starts_with("false") => {
                self.pos += 5;
                Ok(Operand::Literal(Value::Bool(false)))
            }
            Some(b'n') if self.s[self.pos..].starts_with("null") => {
                self.pos += 4;
                Ok(Operand::Literal(Value::Null))
            }
            Some(c) if c.is_ascii_digit() || c == b'-' || c == b'.' => {
                while self.peek().is_some_and(|c| {
                    c.is_ascii_digit() || matches!(c, b'-' | b'.' | b'e' | b'E' | b'+')
                }) {
                    self.pos += 1;
                }
                let text = &self.s[start..self.pos];
                match parse_decimal(text) {
                    Some(v) => Ok(Operand::Literal(v)),
                    None => {
                        self.pos = start;
                        Err(self.err(&format!("Invalid number {text}")))
                    }
                }
            }
            _ => Err(self.err("Expected a path, a literal or a pattern")),
        }
    }

    /// Advances over a path inside a filter: up to whitespace, an operator character, `&`, `|`,
    /// `,` or a `)` that does not close a function call; brackets are skipped whole.
    fn path_extent(&mut self) -> Result<(), PathError> {
        self.pos += 1;
        while let Some(c) = self.peek() {
            match c {
                b'[' => {
                    let mut depth = 0usize;
                    let mut i = self.pos;
                    loop {
                        let Some(&c) = self.b.get(i) else {
                            return Err(self.err("Square brackets do not match in filter"));
                        };
                        match c {
                            b'[' => depth += 1,
                            b']' => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            q @ (b'\'' | b'"' | b'/') => {
                                i += 1;
                                while i < self.b.len() && self.b[i] != q {
                                    if self.b[i] == b'\\' {
                                        i += 1;
                                    }
                                    i += 1;
                                }
                            }
                            _ => {}
                        }
                        i += 1;
                    }
                    self.pos = i + 1;
                }
                b'(' => {
                    // A function call: `@.length()`.
                    let mut i = self.pos + 1;
                    while self.b.get(i).copied().is_some_and(is_ws) {
                        i += 1;
                    }
                    if self.b.get(i) == Some(&b')') {
                        self.pos = i + 1;
                    } else {
                        return Err(self.err("Functions with arguments are not supported"));
                    }
                }
                b')' | b'<' | b'>' | b'=' | b'~' | b'!' | b'&' | b'|' | b',' => break,
                c if is_ws(c) => break,
                _ => self.pos += 1,
            }
        }
        Ok(())
    }

    /// A JSON array or object literal, leniently: strings may use single quotes.
    fn json_literal(&mut self) -> Result<Value, PathError> {
        self.skip_ws();
        match self.peek() {
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(Value::Array(Rc::new(items)));
                }
                loop {
                    items.push(self.json_value()?);
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Value::Array(Rc::new(items)));
                        }
                        _ => return Err(self.err("Expected ',' or ']' in array literal")),
                    }
                }
            }
            Some(b'{') => {
                self.pos += 1;
                let mut o = Object::new();
                self.skip_ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(Value::Object(Rc::new(o)));
                }
                loop {
                    self.skip_ws();
                    let key = match self.operand()? {
                        Operand::Literal(Value::Str(k)) => k,
                        _ => return Err(self.err("Expected a string key in object literal")),
                    };
                    if !self.eat(":") {
                        return Err(self.err("Expected ':' in object literal"));
                    }
                    let v = self.json_value()?;
                    o.insert(key, v);
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Value::Object(Rc::new(o)));
                        }
                        _ => return Err(self.err("Expected ',' or '}' in object literal")),
                    }
                }
            }
            _ => Err(self.err("Expected a JSON literal")),
        }
    }

    fn json_value(&mut self) -> Result<Value, PathError> {
        self.skip_ws();
        match self.peek() {
            Some(b'[' | b'{') => {
                self.nest()?;
                let v = self.json_literal()?;
                self.nesting -= 1;
                Ok(v)
            }
            Some(b'@' | b'$' | b'/') => Err(self.err("Expected a JSON value")),
            _ => match self.operand()? {
                Operand::Literal(v) => Ok(v),
                _ => Err(self.err("Expected a JSON value")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GROCERY: &str = r#"{
        "bins": [
            {"type": "apple", "price": 0.99, "cat": "fruit", "tags": ["red", "sweet"]},
            {"type": "pear", "price": 1.49, "cat": "fruit"},
            {"type": "carrot", "price": 0.5, "cat": "vegetable", "isbn": null},
            {"type": "milk", "price": 2, "cat": "dairy", "nested": {"type": "inner"}}
        ],
        "store": {"name": "Corner", "open": true}
    }"#;

    fn doc() -> Value {
        Value::from_json_str(GROCERY).unwrap()
    }

    fn ev(path: &str) -> String {
        JsonPath::parse(path).unwrap().eval(&doc()).to_json_string()
    }

    fn ev_on(path: &str, json: &str) -> Value {
        JsonPath::parse(path)
            .unwrap()
            .eval(&Value::from_json_str(json).unwrap())
    }

    #[test]
    fn basic_paths() {
        assert_eq!(ev("$.bins[0].type"), r#""apple""#);
        assert_eq!(ev("$['bins'][1]['type']"), r#""pear""#);
        assert_eq!(ev(r#"$["bins"][1]["type"]"#), r#""pear""#);
        assert_eq!(ev("$.bins[-1].type"), r#""milk""#);
        assert_eq!(ev("$.store.name"), r#""Corner""#);
        assert_eq!(ev("store.name"), r#""Corner""#);
        assert_eq!(ev("  $.store.open  "), "true");
        assert_eq!(ev("$.bins[3].price"), "2");
        assert_eq!(ev("$.bins.[0].type"), r#""apple""#);
        assert_eq!(ev("@.store.name"), r#""Corner""#);
        assert_eq!(ev("$.bins[*].price"), "[0.99,1.49,0.5,2]");
        assert_eq!(
            ev("$.bins[*]['type']"),
            r#"["apple","pear","carrot","milk"]"#
        );
        assert_eq!(ev("$.store.*"), r#"["Corner",true]"#);
        assert_eq!(ev("$.bins[0,2].type"), r#"["apple","carrot"]"#);
        assert_eq!(ev("$.bins[0, 2].type"), r#"["apple","carrot"]"#);
    }

    #[test]
    fn root_and_missing() {
        let root = JsonPath::parse("$").unwrap().eval(&doc());
        assert_eq!(root.to_json_string(), doc().to_json_string());
        assert!(JsonPath::parse("$.missing").unwrap().eval(&doc()).is_null());
        assert!(
            JsonPath::parse("$.missing.deeper")
                .unwrap()
                .eval(&doc())
                .is_null()
        );
        assert!(
            JsonPath::parse("$.store.name.x")
                .unwrap()
                .eval(&doc())
                .is_null()
        );
        assert!(
            JsonPath::parse("$.bins.type")
                .unwrap()
                .eval(&doc())
                .is_null()
        );
        assert!(JsonPath::parse("$.bins[9]").unwrap().eval(&doc()).is_null());
        assert!(
            JsonPath::parse("$.bins[-9]")
                .unwrap()
                .eval(&doc())
                .is_null()
        );
        assert!(
            JsonPath::parse("$.store[0]")
                .unwrap()
                .eval(&doc())
                .is_null()
        );
        assert!(
            JsonPath::parse("$.bins[2].isbn")
                .unwrap()
                .eval(&doc())
                .is_null()
        );
        assert_eq!(ev("$.missing[*]"), "[]");
        assert_eq!(ev("$.bins[*].missing"), "[]");
        assert_eq!(ev("$.bins[*].nested.type"), r#"["inner"]"#);
        assert_eq!(ev("$..nothing"), "[]");
    }

    #[test]
    fn deep_scan() {
        assert_eq!(ev("$..type"), r#"["apple","pear","carrot","milk","inner"]"#);
        assert_eq!(ev("$..bins[1].type"), r#"["pear"]"#);
        assert_eq!(ev("$..tags[0]"), r#"["red"]"#);
        assert_eq!(
            ev("$..[0]"),
            r#"[{"type":"apple","price":0.99,"cat":"fruit","tags":["red","sweet"]},"red"]"#
        );
        assert_eq!(ev("$.store..*"), r#"["Corner",true]"#);
        assert_eq!(ev("$..isbn"), "[null]");
        assert_eq!(ev("$..[?(@.price > 1.5)].type"), r#"["milk"]"#);
        let all = JsonPath::parse("$..*").unwrap().eval(&doc());
        match all {
            Value::Array(a) => assert_eq!(a.len(), 26),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn filters() {
        assert_eq!(ev("$.bins[?(@.price < 1)].type"), r#"["apple","carrot"]"#);
        assert_eq!(
            ev("$.bins[?(@.price < 10 && @.cat == 'fruit')].type"),
            r#"["apple","pear"]"#
        );
        assert_eq!(
            ev(r#"$.bins[?(@.cat == "dairy" || @.price <= 0.5)].type"#),
            r#"["carrot","milk"]"#
        );
        assert_eq!(ev("$.bins[?(@.isbn)].type"), r#"["carrot"]"#);
        assert_eq!(ev("$.bins[?(!@.isbn)].type"), r#"["apple","pear","milk"]"#);
        assert_eq!(ev("$.bins[?(@.isbn == null)].type"), r#"["carrot"]"#);
        assert_eq!(
            ev("$.bins[?(@.cat != 'fruit')].type"),
            r#"["carrot","milk"]"#
        );
        assert_eq!(ev("$.bins[?(@.type =~ /p.*/)].type"), r#"["pear"]"#);
        assert_eq!(ev("$.bins[?(@.type =~ /A.*/i)].type"), r#"["apple"]"#);
        assert_eq!(ev("$.bins[?(@.price >= 2)].type"), r#"["milk"]"#);
        assert_eq!(ev("$.bins[?(@.price == '2')].type"), r#"["milk"]"#);
        assert_eq!(ev("$.bins[?(@.price > '1')].type"), "[]");
        assert_eq!(
            ev("$.bins[?((@.price < 1 || @.price > 1.9) && @.cat != 'dairy')].type"),
            r#"["apple","carrot"]"#
        );
        assert_eq!(
            ev("$.bins[?(!(@.cat == 'fruit'))].type"),
            r#"["carrot","milk"]"#
        );
        assert_eq!(
            ev("$.bins[?(@.type in ['pear', 'milk'])].type"),
            r#"["pear","milk"]"#
        );
        assert_eq!(
            ev("$.bins[?(@.type nin ['pear', 'milk'])].type"),
            r#"["apple","carrot"]"#
        );
        assert_eq!(ev("$.bins[?(@.tags contains 'red')].type"), r#"["apple"]"#);
        assert_eq!(ev("$.bins[?(@.tags size 2)].type"), r#"["apple"]"#);
        assert_eq!(ev("$.bins[?(@.type size 4)].type"), r#"["pear","milk"]"#);
        assert_eq!(ev("$.bins[?(@.tags empty false)].type"), r#"["apple"]"#);
        assert_eq!(
            ev("$.bins[?(@.tags anyof ['red','x'])].type"),
            r#"["apple"]"#
        );
        assert_eq!(
            ev("$.bins[?(@.tags subsetof ['red','sweet','x'])].type"),
            r#"["apple"]"#
        );
        assert_eq!(ev("$.bins[?(@.tags noneof ['x'])].type"), r#"["apple"]"#);
        assert_eq!(ev("$.bins[?(@.tags all ['sweet'])].type"), r#"["apple"]"#);
        assert_eq!(ev("$.bins[?(@.price === 2)].type"), r#"["milk"]"#);
        assert_eq!(ev("$.bins[?(@.price === '2')].type"), "[]");
        assert_eq!(
            ev("$.bins[?(@.price > $.bins[1].price)].type"),
            r#"["milk"]"#
        );
        assert_eq!(ev("$.bins[?(@.tags.length() == 2)].type"), r#"["apple"]"#);
        assert_eq!(ev("$.bins[?(@['type'] == 'pear')].price"), "[1.49]");
        // A filter on an object tests the object itself.
        assert_eq!(ev("$.store[?(@.open == true)].name"), r#"["Corner"]"#);
        assert_eq!(ev("$.store.name[?(@ == 'x')]"), "[]");
        // Filters over plain values.
        assert_eq!(ev_on("$[?(@ > 1)]", "[1,2,3]").to_json_string(), "[2,3]");
        assert_eq!(
            ev_on("$[?(@ == 'b')]", r#"["a","b"]"#).to_json_string(),
            r#"["b"]"#
        );
        assert_eq!(
            ev_on("$[?(@.a.b == 1)]", r#"[{"a":{"b":1}},{"a":1},{}]"#).to_json_string(),
            r#"[{"a":{"b":1}}]"#
        );
        assert_eq!(
            ev_on("$[?(@.a == [1,2])]", r#"[{"a":[1,2]},{"a":[2]}]"#).to_json_string(),
            r#"[{"a":[1,2]}]"#
        );
        assert_eq!(
            ev_on(r#"$[?(@.a == {"k":'v'})]"#, r#"[{"a":{"k":"v"}},{"a":1}]"#).to_json_string(),
            r#"[{"a":{"k":"v"}}]"#
        );
        assert_eq!(
            ev_on(r"$[?(@.a == 'it\'s')]", r#"[{"a":"it's"}]"#).to_json_string(),
            r#"[{"a":"it's"}]"#
        );
        assert_eq!(
            ev_on("$[?(@.n =~ /1.*/)]", r#"[{"n":12},{"n":2}]"#).to_json_string(),
            r#"[{"n":12}]"#
        );
        assert_eq!(
            ev_on("$[?(@.n > -1.5e1)]", r#"[{"n":-20},{"n":2}]"#).to_json_string(),
            r#"[{"n":2}]"#
        );
    }

    #[test]
    fn functions() {
        assert_eq!(ev("$.bins.length()"), "4");
        assert_eq!(ev("$.bins.size()"), "4");
        assert_eq!(ev("$.store.length()"), "2");
        assert!(
            JsonPath::parse("$.store.name.length()")
                .unwrap()
                .eval(&doc())
                .is_null()
        );
        assert!(
            JsonPath::parse("$.missing.length()")
                .unwrap()
                .eval(&doc())
                .is_null()
        );
        assert_eq!(ev("$..price.length()"), "4");
        assert_eq!(ev("$..tags[0].length()"), "1");
        assert_eq!(ev("$..[0].length()"), "2");
        assert!(JsonPath::parse("$..price.sum()").unwrap().is_definite());
        assert_eq!(ev("$..price.sum()"), "4.98");
        assert_eq!(ev("$..price.max()"), "2.0");
        assert_eq!(ev("$..price.min()"), "0.5");
        assert_eq!(
            ev_on("$.a.avg()", r#"{"a":[1,2,3,"x"]}"#).to_json_string(),
            "2.0"
        );
        assert_eq!(
            ev_on("$.a.max()", r#"{"a":[-3,-2]}"#).to_json_string(),
            "-2.0"
        );
        assert_eq!(
            ev_on("$.a.stddev()", r#"{"a":[2,4,4,4,5,5,7,9]}"#).to_json_string(),
            "2.0"
        );
        assert!(ev_on("$.a.sum()", r#"{"a":[]}"#).is_null());
        assert!(ev_on("$.a.sum()", r#"{"a":3}"#).is_null());
        assert_eq!(ev("$.bins[*].tags.length()"), "[2]");
        let p = JsonPath::parse("$.things").unwrap();
        let v = p.eval(&Value::from_json_str(r#"{"things":{"1":{},"2":{},"3":{}}}"#).unwrap());
        assert!(matches!(
            crate::methods::call(&v, "size", &[]),
            Ok(Value::Int(3))
        ));
    }

    #[test]
    fn slices() {
        let a = "[0,1,2,3,4]";
        let s = |p: &str| ev_on(p, a).to_json_string();
        assert_eq!(s("$[1:3]"), "[1,2]");
        assert_eq!(s("$[:2]"), "[0,1]");
        assert_eq!(s("$[-2:]"), "[3,4]");
        assert_eq!(s("$[2:]"), "[2,3,4]");
        assert_eq!(s("$[:-1]"), "[0,1,2,3]");
        assert_eq!(s("$[3:100]"), "[3,4]");
        assert_eq!(s("$[9:]"), "[]");
        assert_eq!(s("$[-9:]"), "[0,1,2,3,4]");
        assert_eq!(s("$[3:1]"), "[]");
        // Jayway quirks: negative `to` in [from:to] selects nothing, negative `from` reaches back.
        assert_eq!(s("$[1:-1]"), "[]");
        assert_eq!(s("$[-2:2]"), "[3,4,0,1]");
        assert_eq!(s("$[1:3:2]"), "[1,2]");
        assert_eq!(ev_on("$[0:2]", "[]").to_json_string(), "[]");
        assert_eq!(ev_on("$[0:2]", r#"{"a":1}"#).to_json_string(), "[]");
        assert_eq!(ev_on("$.a[1:]", r#"{"a":"str"}"#).to_json_string(), "[]");
    }

    #[test]
    fn multi_property() {
        let v = ev_on("$['a','c']", r#"{"a":1,"b":2,"c":3}"#);
        assert_eq!(v.to_java_string(), "{a=1, c=3}");
        assert!(JsonPath::parse("$['a','c']").unwrap().is_definite());
        assert_eq!(ev_on("$['a','x']", r#"{"a":1}"#).to_java_string(), "{a=1}");
        let v = ev_on("$['a','c'].v", r#"{"a":{"v":1},"c":{"v":2}}"#);
        assert_eq!(v.to_json_string(), "[1,2]");
        assert_eq!(ev_on(r"$['it\'s']", r#"{"it's":5}"#).to_json_string(), "5");
        assert_eq!(ev_on("$['a.b']", r#"{"a.b":5}"#).to_json_string(), "5");
        assert_eq!(
            ev_on("$['with space']", r#"{"with space":5}"#).to_json_string(),
            "5"
        );
        assert_eq!(ev_on("$.ünï", r#"{"ünï":5}"#).to_json_string(), "5");
    }

    #[test]
    fn definiteness() {
        for p in [
            "$",
            "$.a",
            "$.a[0]",
            "$['a']",
            "$.a[-1].b",
            "$.a.length()",
            "a.b",
        ] {
            assert!(JsonPath::parse(p).unwrap().is_definite(), "{p}");
        }
        for p in [
            "$.a[*]",
            "$..a",
            "$.a[0,1]",
            "$.a[1:2]",
            "$.a[?(@.b)]",
            "$.*",
            "$['a','b'].c",
        ] {
            assert!(!JsonPath::parse(p).unwrap().is_definite(), "{p}");
        }
        assert_eq!(JsonPath::parse(" a ").unwrap().as_str(), " a ");
        assert_eq!(
            JsonPath::parse("$.a").unwrap(),
            JsonPath::parse("$.a").unwrap()
        );
    }

    #[test]
    fn parse_errors() {
        for p in [
            "",
            "$.",
            "$..",
            "$.a.",
            "$a",
            "$[",
            "$[0",
            "$['a'",
            "$['a' 'b']",
            "$[a]",
            "$.a b",
            "$...a",
            "$[?(@.a ==)]",
            "$[?(@.a == 'x)]",
            "$[?(@.a ?? 1)]",
            "$[?(@.a =~ /(/)]",
            "$[?(1)]",
            "$[*",
            "$.foo(1)",
            "$.nope()",
            "$.length().a",
            "$[1:x]",
            "$[9999999999]",
            "$[:]",
            "$[?(@.a == 1]",
            "$[?(@.a == [1,)]",
        ] {
            assert!(JsonPath::parse(p).is_err(), "{p:?} should not parse");
        }
        let e = JsonPath::parse("$.a b").unwrap_err();
        assert!(e.message.contains("bracket"));
        let e = JsonPath::parse("  $[x]").unwrap_err();
        assert_eq!(e.offset, 3);
    }

    #[test]
    fn nesting_and_size_limits() {
        let deep = format!("$.a{}", "[?(@.b)]".repeat(600));
        assert!(JsonPath::parse(&deep).is_err());
        let nested = format!("$[?({}@.a{})]", "(".repeat(200), ")".repeat(200));
        assert!(JsonPath::parse(&nested).is_err());
        let nested = format!("$[?({}@.a{})]", "!".repeat(200), "");
        assert!(JsonPath::parse(&nested).is_err());
        let lit = format!("$[?(@.a in {}{})]", "[".repeat(200), "]".repeat(200));
        assert!(JsonPath::parse(&lit).is_err());
        // Garbage of every kind parses or fails, never panics.
        for p in [
            "$[?(",
            "$[?(@",
            "$[?(@[",
            "$[?(@.a in [)]",
            "$['\\",
            "$[?(/",
            "$[?('\\')]",
            "$[?(@.a=='é')]",
        ] {
            let _ = JsonPath::parse(p);
        }
    }

    #[test]
    fn deep_scan_is_bounded() {
        // A wide, deep document and nested scans: the budget stops the work.
        let mut json = String::from("[");
        for i in 0..2000 {
            if i > 0 {
                json.push(',');
            }
            json.push_str(&"[".repeat(60));
            json.push_str(r#"{"a":1}"#);
            json.push_str(&"]".repeat(60));
        }
        json.push(']');
        let doc = Value::from_json_str(&json).unwrap();
        let v = JsonPath::parse("$..a").unwrap().eval(&doc);
        assert!(matches!(&v, Value::Array(a) if a.len() == 2000));
        let v = JsonPath::parse("$..*..*..*..*").unwrap().eval(&doc);
        assert!(v.is_null() || matches!(v, Value::Array(_)));
    }

    #[test]
    fn template_values_and_cycles() {
        let mut o = Object::new();
        o.insert("k", Value::list(vec![Value::Int(1), Value::Int(2)]));
        let m = Value::map(o);
        assert_eq!(
            JsonPath::parse("$.k[1]").unwrap().eval(&m).to_java_string(),
            "2"
        );
        let l = Value::list(vec![Value::Int(1)]);
        if let Value::List(c) = &l {
            c.borrow_mut().push(l.clone());
        }
        let v = JsonPath::parse("$..*").unwrap().eval(&l);
        assert!(v.is_null() || matches!(v, Value::Array(_)));
        if let Value::List(c) = &l {
            c.borrow_mut().clear();
        }
    }

    #[test]
    fn unescaping() {
        assert_eq!(unescape(r"a\'b"), "a'b");
        assert_eq!(unescape(r"\n\t\\"), "\n\t\\");
        assert_eq!(unescape(r"\u00e9"), "é");
        assert_eq!(unescape(r"\uD83D\uDE00"), "😀");
        assert_eq!(unescape(r"\uD83Dx"), "\u{FFFD}x");
        assert_eq!(unescape(r"\uZZ"), "uZZ");
        assert_eq!(unescape(r"\u+123"), "u+123");
        assert_eq!(unescape(r"\uD83D\uD83D\n"), "\u{FFFD}\u{FFFD}\n");
        assert_eq!(unescape(r"\uDE00"), "\u{FFFD}");
        assert_eq!(unescape("end\\"), "end\\");
    }
}
