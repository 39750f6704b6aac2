//! What a template reads (`$input`, `$context`, `$stageVariables`) and what rendering it writes
//! (the output text, `$context.requestOverride.*` / `responseOverride.*`).
//!
//! The runtime implements [`Source`] over a live request; `tollgate template render` over a sample
//! request file. Each view is computed at most once per render, and only if the template asks.

use crate::jsonpath::JsonPath;
use crate::value::{Object, Value};
use std::cell::OnceCell;
use std::rc::Rc;

/// Where a template's inputs come from.
pub trait Source {
    /// The body: the method request's in a request template, the integration response's in a
    /// response template.
    fn body(&self) -> &[u8];
    /// Calls `f` with each path parameter, in route order.
    fn path_params(&self, f: &mut dyn FnMut(&str, &str));
    /// Calls `f` with each query-string parameter in request order; repeated names once, their
    /// values joined with `,`.
    fn querystring(&self, f: &mut dyn FnMut(&str, &str));
    /// Calls `f` with each request header (names lower-case, as HTTP/2 sends them); repeated
    /// names once, values joined with `,`.
    fn headers(&self, f: &mut dyn FnMut(&str, &str));
    /// The `$context` tree.
    fn context(&self) -> Object;
    /// `$context.<name>` alone. The default builds the whole tree; a source that can compute one
    /// entry cheaply (the gateway: `$context.stage` needs no clock or formatting) overrides it.
    fn context_property(&self, name: &str) -> Value {
        self.context().get(name).cloned().unwrap_or_default()
    }
    /// `$input.params(name)` without building the three maps: path, then query string, then
    /// header (case-insensitive). The default walks the visitors.
    fn param(&self, name: &str) -> Option<String> {
        let mut found: Option<String> = None;
        self.path_params(&mut |k, v| {
            if found.is_none() && k == name {
                found = Some(v.to_owned());
            }
        });
        if found.is_none() {
            self.querystring(&mut |k, v| {
                if found.is_none() && k == name {
                    found = Some(v.to_owned());
                }
            });
        }
        if found.is_none() {
            self.headers(&mut |k, v| {
                if found.is_none() && k.eq_ignore_ascii_case(name) {
                    found = Some(v.to_owned());
                }
            });
        }
        found
    }
    /// Calls `f` with each stage variable.
    fn stage_variables(&self, f: &mut dyn FnMut(&str, &str));
}

/// Why a render failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// `$input.json`/`$input.path` on a body that is not JSON (API Gateway: 400 in a request
    /// template).
    BodyNotJson,
    /// Anything else (API Gateway: 500 Internal server error).
    Template,
}

/// A failed render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderError {
    /// Why.
    pub kind: ErrorKind,
    /// What happened, for the log.
    pub message: String,
}

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RenderError {}

impl From<crate::Error> for RenderError {
    fn from(e: crate::Error) -> Self {
        RenderError {
            kind: ErrorKind::Template,
            message: e.message,
        }
    }
}

impl RenderError {
    /// A template error with `message`.
    pub fn template(message: impl Into<String>) -> Self {
        RenderError {
            kind: ErrorKind::Template,
            message: message.into(),
        }
    }
}

/// The inputs of one render, computed lazily from a [`Source`].
pub struct Env<'a> {
    src: &'a dyn Source,
    body: OnceCell<Rc<str>>,
    json: OnceCell<Result<Value, String>>,
    params: OnceCell<Value>,
    context: OnceCell<Value>,
    stage_variables: OnceCell<Value>,
}

impl std::fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env").finish_non_exhaustive()
    }
}

fn pairs_object(each: impl FnOnce(&mut dyn FnMut(&str, &str))) -> Value {
    let mut o = Object::with_capacity(8);
    each(&mut |k, v| {
        o.insert(Rc::from(k), Value::str(v));
    });
    Value::Object(Rc::new(o))
}

impl<'a> Env<'a> {
    /// An environment over `src`.
    pub fn new(src: &'a dyn Source) -> Self {
        Env {
            src,
            body: OnceCell::new(),
            json: OnceCell::new(),
            params: OnceCell::new(),
            context: OnceCell::new(),
            stage_variables: OnceCell::new(),
        }
    }

    /// The body as text; an empty body reads as `{}` (API Gateway does that).
    pub fn body_str(&self) -> &str {
        self.body.get_or_init(|| {
            let b = self.src.body();
            if b.is_empty() {
                Rc::from("{}")
            } else {
                Rc::from(String::from_utf8_lossy(b).as_ref())
            }
        })
    }

    /// `$input.body`.
    pub fn input_body(&self) -> Value {
        self.body_str();
        self.body
            .get()
            .map(|b| Value::Str(b.clone()))
            .unwrap_or_default()
    }

    fn json(&self) -> Result<&Value, RenderError> {
        let parsed = self
            .json
            .get_or_init(|| Value::from_json_str(self.body_str()).map_err(|e| e.to_string()));
        parsed.as_ref().map_err(|e| RenderError {
            kind: ErrorKind::BodyNotJson,
            message: format!("Could not parse request body into json: {e}"),
        })
    }

    /// `$input.path(path)`.
    pub fn input_path(&self, path: &JsonPath) -> Result<Value, RenderError> {
        Ok(path.eval(self.json()?))
    }

    /// `$input.json(path)`: the value as compact JSON text.
    pub fn input_json(&self, path: &JsonPath) -> Result<Value, RenderError> {
        let mut out = String::new();
        self.write_input_json(path, &mut out)?;
        Ok(Value::str(out))
    }

    /// `$input.json(path)` written straight into `out`.
    pub fn write_input_json(&self, path: &JsonPath, out: &mut String) -> Result<(), RenderError> {
        let json = self.json()?;
        if path.as_str().trim() == "$" {
            json.write_json(out);
            return Ok(());
        }
        // A missing value (or JSON null) writes nothing: API Gateway renders null as empty.
        let v = path.eval(json);
        if !v.is_null() {
            v.write_json(out);
        }
        Ok(())
    }
    /// `$input.path(x)` / `$input.json(x)` with a path computed at run time.
    pub fn dyn_path(&self, path: &Value) -> Result<JsonPath, RenderError> {
        let text = path.to_java_string();
        JsonPath::parse(&text)
            .map_err(|e| RenderError::template(format!("invalid JSONPath {text:?}: {}", e.message)))
    }

    /// `$input.params()`: `{path={…}, querystring={…}, header={…}}`.
    pub fn input_params(&self) -> Value {
        self.params
            .get_or_init(|| {
                let mut o = Object::with_capacity(3);
                o.insert(Rc::from("path"), pairs_object(|f| self.src.path_params(f)));
                o.insert(
                    Rc::from("querystring"),
                    pairs_object(|f| self.src.querystring(f)),
                );
                o.insert(Rc::from("header"), pairs_object(|f| self.src.headers(f)));
                Value::Object(Rc::new(o))
            })
            .clone()
    }

    /// `$input.params(name)`: path, then query string, then header (header names match
    /// case-insensitively, since HTTP/2 lower-cases them).
    pub fn input_param(&self, name: &Value) -> Value {
        let name = name.to_java_string();
        let Some(all) = self.params.get() else {
            // Only one parameter wanted: no need to build the maps.
            return self.src.param(&name).map(Value::str).unwrap_or_default();
        };
        for kind in ["path", "querystring"] {
            let v = all.property(kind).property(&name);
            if !v.is_null() {
                return v;
            }
        }
        if let Value::Object(h) = all.property("header") {
            for (k, v) in h.iter() {
                if k.eq_ignore_ascii_case(&name) {
                    return v.clone();
                }
            }
        }
        Value::Null
    }

    /// `$context.<name>`: from the whole tree if it was built, else the one entry.
    pub fn context_property(&self, name: &str) -> Value {
        match self.context.get() {
            Some(c) => c.property(name),
            None => self.src.context_property(name),
        }
    }

    /// `$context`.
    pub fn context(&self) -> Value {
        self.context
            .get_or_init(|| Value::Object(Rc::new(self.src.context())))
            .clone()
    }

    /// `$stageVariables`.
    pub fn stage_variables(&self) -> Value {
        self.stage_variables
            .get_or_init(|| pairs_object(|f| self.src.stage_variables(f)))
            .clone()
    }
}

/// Loop state behind `$foreach`.
#[derive(Debug, Clone, Copy)]
pub struct Loop {
    /// 0-based index.
    pub index: usize,
    /// Number of items iterated.
    pub len: usize,
}

impl Loop {
    /// `$foreach.<name>`: `index`, `count` (1-based), `hasNext`, `first`, `last`.
    pub fn property(&self, name: &str) -> Value {
        match name {
            "index" => Value::Int(self.index as i64),
            "count" => Value::Int(self.index as i64 + 1),
            "hasNext" => Value::Bool(self.index + 1 < self.len),
            "first" => Value::Bool(self.index == 0),
            "last" => Value::Bool(self.index + 1 == self.len),
            _ => Value::Null,
        }
    }
}

/// API Gateway's cap on `#foreach` iterations; Velocity stops the loop there.
pub const MAX_LOOP: usize = 1000;
/// A bound on all loop iterations of one render (nested loops multiply).
pub const MAX_STEPS: u64 = 1_000_000;
/// A bound on the output of one render.
pub const MAX_OUTPUT: usize = 10 * 1024 * 1024;

/// Overrides set by `#set($context.requestOverride.…)` / `responseOverride`, applied after the
/// whole template has rendered.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `requestOverride.header.<name>`
    pub request_header: Vec<(String, Value)>,
    /// `requestOverride.path.<name>`
    pub request_path: Vec<(String, Value)>,
    /// `requestOverride.querystring.<name>`
    pub request_querystring: Vec<(String, Value)>,
    /// `responseOverride.header.<name>`
    pub response_header: Vec<(String, Value)>,
    /// `responseOverride.status`
    pub response_status: Option<Value>,
}

impl Overrides {
    /// Whether nothing was overridden.
    pub fn is_empty(&self) -> bool {
        self.request_header.is_empty()
            && self.request_path.is_empty()
            && self.request_querystring.is_empty()
            && self.response_header.is_empty()
            && self.response_status.is_none()
    }

    /// The status override when it is an integer in 100..=599 (others are ignored).
    pub fn status(&self) -> Option<u16> {
        match self.response_status.as_ref()? {
            Value::Int(i) if (100..=599).contains(i) => Some(*i as u16),
            Value::Str(s) => s
                .trim()
                .parse::<u16>()
                .ok()
                .filter(|s| (100..=599).contains(s)),
            _ => None,
        }
    }
}

/// What one render writes.
#[derive(Debug, Default)]
pub struct Output {
    /// The rendered text.
    pub body: String,
    /// The overrides it set.
    pub overrides: Overrides,
    steps: u64,
}

impl Output {
    /// An empty output, with room for a typical rendered body (one allocation instead of a
    /// series of doublings).
    pub fn new() -> Self {
        Output {
            body: String::with_capacity(512),
            ..Output::default()
        }
    }

    /// Appends literal text.
    #[inline]
    pub fn text(&mut self, s: &str) {
        self.body.push_str(s);
    }

    /// Appends a value as Velocity prints it (null prints nothing).
    #[inline]
    pub fn value(&mut self, v: &Value) {
        v.render(&mut self.body);
    }

    /// Counts one loop iteration; fails past [`MAX_STEPS`] or when the output passed
    /// [`MAX_OUTPUT`].
    #[inline]
    pub fn step(&mut self) -> Result<(), RenderError> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(RenderError::template(format!(
                "the template ran more than {MAX_STEPS} loop iterations"
            )));
        }
        if self.body.len() > MAX_OUTPUT {
            return Err(RenderError::template(format!(
                "the template output passed {MAX_OUTPUT} bytes"
            )));
        }
        Ok(())
    }

    /// `#set($context.<path> = value)` for the writable `requestOverride`/`responseOverride`
    /// keys. `path` starts after `context`. Setting the same key twice fails, as in API Gateway.
    pub fn set_context(&mut self, path: &[&str], value: Value) -> Result<(), RenderError> {
        let o = &mut self.overrides;
        let (list, name) = match path {
            ["responseOverride", "status"] => {
                if o.response_status.is_some() {
                    return Err(RenderError::template(
                        "$context.responseOverride.status set twice",
                    ));
                }
                o.response_status = Some(value);
                return Ok(());
            }
            ["requestOverride", "header", name] => (&mut o.request_header, *name),
            ["requestOverride", "path", name] => (&mut o.request_path, *name),
            ["requestOverride", "querystring", name] => (&mut o.request_querystring, *name),
            ["responseOverride", "header", name] => (&mut o.response_header, *name),
            // Other `$context` keys are read-only: Velocity ignores the assignment.
            _ => return Ok(()),
        };
        if list.iter().any(|(n, _)| n == name) {
            return Err(RenderError::template(format!(
                "$context.{} set twice",
                path.join(".")
            )));
        }
        list.push((name.to_owned(), value));
        Ok(())
    }
}

/// `dd/MMM/yyyy:HH:mm:ss +0000` (API Gateway's `$context.requestTime`, CLF) for a Unix time in
/// milliseconds, in UTC.
pub fn clf_time(epoch_ms: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = epoch_ms.div_euclid(1000);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = crate::calendar::civil_from_days(secs.div_euclid(86_400));
    format!(
        "{d:02}/{}/{y:04}:{:02}:{:02}:{:02} +0000",
        MONTHS[(m - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A request written out by hand: what `tollgate template render --request` reads and what
/// tests render against.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// The body (method request's or, for response templates, the backend's).
    pub body: String,
    /// Path parameters.
    pub path: Vec<(String, String)>,
    /// Query-string parameters (repeated names already joined with `,`).
    pub querystring: Vec<(String, String)>,
    /// Headers (names as given).
    pub headers: Vec<(String, String)>,
    /// Stage variables.
    pub stage_variables: Vec<(String, String)>,
    /// The `$context` tree.
    pub context: Object,
}

impl Sample {
    /// Reads `{"body": "…" | {…}, "path": {…}, "querystring": {…}, "headers": {…},
    /// "stageVariables": {…}, "context": {…}}` from JSON text, keeping key order; every key is
    /// optional. A body that is not a string is used as its compact JSON. `context` is merged
    /// over [`Sample::default_context`].
    pub fn from_json_text(text: &str) -> Result<Sample, String> {
        let v = Value::from_json_str(text).map_err(|e| e.to_string())?;
        let Value::Object(obj) = v else {
            return Err("the request file must hold a JSON object".into());
        };
        const KEYS: [&str; 6] = [
            "body",
            "path",
            "querystring",
            "headers",
            "stageVariables",
            "context",
        ];
        if let Some(k) = obj.keys().find(|k| !KEYS.contains(&&***k)) {
            return Err(format!(
                "unknown key `{k}`; the request file takes {}",
                KEYS.join(", ")
            ));
        }
        let pairs = |key: &str| -> Result<Vec<(String, String)>, String> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Object(m)) => Ok(m
                    .iter()
                    .map(|(k, v)| {
                        let v = match v {
                            Value::Array(items) => items
                                .iter()
                                .map(Value::to_java_string)
                                .collect::<Vec<_>>()
                                .join(","),
                            other => other.to_java_string(),
                        };
                        (k.to_string(), v)
                    })
                    .collect()),
                Some(_) => Err(format!("`{key}` must be an object of names to values")),
            }
        };
        let body = match obj.get("body") {
            None | Some(Value::Null) => String::new(),
            Some(Value::Str(s)) => s.to_string(),
            Some(other) => other.to_json_string(),
        };
        let mut sample = Sample {
            body,
            path: pairs("path")?,
            querystring: pairs("querystring")?,
            headers: pairs("headers")?,
            stage_variables: pairs("stageVariables")?,
            context: Sample::default_context(),
        };
        match obj.get("context") {
            None | Some(Value::Null) => {}
            Some(Value::Object(o)) => {
                for (k, v) in o.iter() {
                    sample.context.insert(k.clone(), v.clone());
                }
            }
            Some(_) => return Err("`context` must be an object".into()),
        }
        Ok(sample)
    }

    /// A plausible `$context` for local rendering: stage `test`, request id all zeros, the
    /// current time.
    pub fn default_context() -> Object {
        let mut c = Object::new();
        for (k, v) in [
            ("accountId", "000000000000"),
            ("apiId", "local"),
            ("httpMethod", "POST"),
            ("protocol", "HTTP/1.1"),
            ("requestId", "00000000-0000-4000-8000-000000000000"),
            ("extendedRequestId", "00000000-0000-4000-8000-000000000000"),
            ("resourcePath", "/"),
            ("path", "/test/"),
            ("stage", "test"),
        ] {
            c.insert(Rc::from(k), Value::str(v));
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default();
        c.insert(Rc::from("requestTime"), Value::str(clf_time(now)));
        c.insert(Rc::from("requestTimeEpoch"), Value::Int(now));
        let mut identity = Object::new();
        identity.insert(Rc::from("sourceIp"), Value::str("127.0.0.1"));
        c.insert(Rc::from("identity"), Value::Object(Rc::new(identity)));
        c
    }
}

fn each(pairs: &[(String, String)], f: &mut dyn FnMut(&str, &str)) {
    for (k, v) in pairs {
        f(k, v);
    }
}

impl Source for Sample {
    fn body(&self) -> &[u8] {
        self.body.as_bytes()
    }
    fn path_params(&self, f: &mut dyn FnMut(&str, &str)) {
        each(&self.path, f);
    }
    fn querystring(&self, f: &mut dyn FnMut(&str, &str)) {
        each(&self.querystring, f);
    }
    fn headers(&self, f: &mut dyn FnMut(&str, &str)) {
        each(&self.headers, f);
    }
    fn context(&self) -> Object {
        self.context.clone()
    }
    fn stage_variables(&self, f: &mut dyn FnMut(&str, &str)) {
        each(&self.stage_variables, f);
    }
}
