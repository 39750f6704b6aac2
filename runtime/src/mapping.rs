//! Mapping templates and parameter mappings at run time: the non-proxy `http` integration, the
//! templated `mock`, and customised gateway responses.
//!
//! Generated code supplies static specs ([`HttpSpec`], [`MockTemplateSpec`],
//! [`GatewayResponseSpec`]) whose templates are compiled Rust functions ([`RenderFn`]); this
//! module runs API Gateway's selection rules around them: request templates by `Content-Type`
//! with `passthroughBehavior`, integration responses by selection pattern on the backend
//! status, response templates by `Accept`, then parameter mappings and template overrides.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full, Limited};
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};
use tollgate_vtl::env::{Env, ErrorKind, Output, RenderError, Source};
use tollgate_vtl::{JsonPath, Object, Value};

use crate::exchange::Exchange;
use crate::gateway::RouteSpec;
use crate::integration::http::{UriPart, encode_component};
use crate::response::{Body, GatewayError, Response, ResponseType};

/// A compiled template: renders into `out` from `env`.
pub type RenderFn = fn(&Env<'_>, &mut Output) -> Result<(), RenderError>;

/// A mapping template for one content type.
#[derive(Debug)]
pub struct TemplateSpec {
    /// The content type it is selected by (lower case), or `$default`.
    pub content_type: &'static str,
    /// The compiled template.
    pub render: RenderFn,
}

/// API Gateway's `passthroughBehavior`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Passthrough {
    /// Pass the body through when no template matches the content type.
    WhenNoMatch,
    /// Pass through only when there are no templates at all; otherwise 415.
    WhenNoTemplates,
    /// Never pass through: 415.
    Never,
}

/// Where a mapped value comes from.
#[derive(Debug)]
pub enum MapSource {
    /// `'literal'`
    Static(&'static str),
    /// `method.request.path.NAME`
    Path(&'static str),
    /// `method.request.querystring.NAME` (the last value when repeated)
    Query(&'static str),
    /// `method.request.multivaluequerystring.NAME` (every value, joined with `,`)
    MultiQuery(&'static str),
    /// `method.request.header.NAME`
    Header(&'static str),
    /// `method.request.multivalueheader.NAME`
    MultiHeader(&'static str),
    /// `method.request.body[.PATH]`
    RequestBody(Option<&'static str>),
    /// `integration.response.header.NAME`
    ResponseHeader(&'static str),
    /// `integration.response.multivalueheader.NAME`
    ResponseMultiHeader(&'static str),
    /// `integration.response.body[.PATH]`
    ResponseBody(Option<&'static str>),
    /// `stageVariables.NAME`
    StageVariable(&'static str),
    /// `context.a.b`
    Context(&'static [&'static str]),
}

/// Where a request mapping writes.
#[derive(Debug)]
pub enum MapTarget {
    /// `integration.request.path.NAME` (fills `{NAME}` in the URI)
    Path(&'static str),
    /// `integration.request.querystring.NAME`
    Query(&'static str),
    /// `integration.request.header.NAME`
    Header(&'static str),
}

/// `integration.request.* = source`.
#[derive(Debug)]
pub struct RequestMapping {
    /// The target.
    pub target: MapTarget,
    /// The source.
    pub source: MapSource,
}

/// `method.response.header.NAME = source` (or `gatewayresponse.header.NAME`).
#[derive(Debug)]
pub struct HeaderMapping {
    /// The header name.
    pub name: &'static str,
    /// The source.
    pub source: MapSource,
}

/// A selection pattern: a Java regex matched against the whole backend status code.
#[derive(Debug)]
pub struct Pattern {
    /// The pattern as written.
    pub source: &'static str,
    compiled: OnceLock<Option<regex::Regex>>,
}

impl Pattern {
    /// A pattern (compiled on first use; checked at build time).
    pub const fn new(source: &'static str) -> Pattern {
        Pattern {
            source,
            compiled: OnceLock::new(),
        }
    }

    /// Whether the whole of `s` matches.
    pub fn matches(&self, s: &str) -> bool {
        self.compiled
            .get_or_init(|| tollgate_vtl::java_regex(self.source, true).ok())
            .as_ref()
            .is_some_and(|r| r.is_match(s))
    }
}

/// An integration response.
#[derive(Debug)]
pub struct ResponseSpec {
    /// The status sent to the client.
    pub status: u16,
    /// `None` for the default response.
    pub pattern: Option<Pattern>,
    /// `method.response.header.*` mappings.
    pub headers: &'static [HeaderMapping],
    /// Response templates.
    pub templates: &'static [TemplateSpec],
}

/// A non-proxy HTTP integration.
#[derive(Debug)]
pub struct HttpSpec {
    /// The URI template; `UriPart::Mapped` names an `integration.request.path` mapping.
    pub uri: &'static [UriPart],
    /// The integration's method; `None` keeps the request's.
    pub method: Option<&'static str>,
    /// Timeout in ms.
    pub timeout_ms: u64,
    /// Passthrough behaviour.
    pub passthrough: Passthrough,
    /// Request parameter mappings.
    pub parameters: &'static [RequestMapping],
    /// Request templates.
    pub request_templates: &'static [TemplateSpec],
    /// Integration responses.
    pub responses: &'static [ResponseSpec],
}

/// A mock whose request template picks the status (`{"statusCode": 200}`).
#[derive(Debug)]
pub struct MockTemplateSpec {
    /// Passthrough behaviour.
    pub passthrough: Passthrough,
    /// Request templates.
    pub request_templates: &'static [TemplateSpec],
    /// Integration responses.
    pub responses: &'static [ResponseSpec],
}

/// A customised gateway response.
#[derive(Debug)]
pub struct GatewayResponseSpec {
    /// The type (`DEFAULT_4XX`, `THROTTLED`, …).
    pub kind: &'static str,
    /// The status; `None` keeps the type's own.
    pub status: Option<u16>,
    /// `gatewayresponse.header.*` mappings.
    pub headers: &'static [HeaderMapping],
    /// Body templates by content type.
    pub templates: &'static [TemplateSpec],
}

/// The MIME type of a `Content-Type`/`Accept` value: before `;`, trimmed, lower case.
pub fn mime(value: Option<&str>) -> String {
    value
        .and_then(|v| v.split([';', ',']).next())
        .map(|v| v.trim().to_ascii_lowercase())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "application/json".to_owned())
}

/// What the request-template selection decided.
#[derive(Debug)]
pub enum Selected {
    /// Render this template.
    Template(&'static TemplateSpec),
    /// Send the body as it is.
    Passthrough,
    /// 415 `UNSUPPORTED_MEDIA_TYPE`.
    Unsupported,
}

/// API Gateway's request-template selection (facts §1.6): by the MIME type of `Content-Type`
/// (missing means `application/json`), then `$default`, then the passthrough behaviour.
pub fn select_request_template(
    templates: &'static [TemplateSpec],
    content_type: Option<&str>,
    passthrough: Passthrough,
) -> Selected {
    let m = mime(content_type);
    if let Some(t) = templates
        .iter()
        .find(|t| t.content_type == m)
        .or_else(|| templates.iter().find(|t| t.content_type == "$default"))
    {
        return Selected::Template(t);
    }
    match (passthrough, templates.is_empty()) {
        (Passthrough::WhenNoMatch, _) => Selected::Passthrough,
        (Passthrough::WhenNoTemplates, true) => Selected::Passthrough,
        _ => Selected::Unsupported,
    }
}

/// Response-template selection: the first media type of `Accept` (default
/// `application/json`), else the `application/json` template, else the first one.
pub fn select_response_template(
    templates: &'static [TemplateSpec],
    accept: Option<&str>,
) -> Option<&'static TemplateSpec> {
    let m = mime(accept);
    templates
        .iter()
        .find(|t| t.content_type == m)
        .or_else(|| {
            templates
                .iter()
                .find(|t| t.content_type == "application/json")
        })
        .or_else(|| templates.first())
}

/// The integration response for a backend status: the first whose pattern matches, else the
/// default one.
pub fn select_response(
    responses: &'static [ResponseSpec],
    status: &str,
) -> Option<&'static ResponseSpec> {
    responses
        .iter()
        .find(|r| r.pattern.as_ref().is_some_and(|p| p.matches(status)))
        .or_else(|| responses.iter().find(|r| r.pattern.is_none()))
}

/// Everything a template or a mapping can read about one request.
#[derive(Debug)]
pub struct RequestView<'a> {
    pub(crate) ex: &'a Exchange,
    pub(crate) route: &'static RouteSpec,
    pub(crate) body: Bytes,
    pub(crate) error: Option<&'a GatewayError>,
}

impl RequestView<'_> {
    fn path_params(&self) -> Vec<(String, String)> {
        let uri_path = self.ex.parts.uri.path();
        self.route
            .params
            .iter()
            .map(|p| {
                let v = if p.greedy {
                    self.ex.path.decoded_tail(uri_path, self.ex.skip + p.index)
                } else {
                    self.ex
                        .path
                        .segment(uri_path, self.ex.skip + p.index)
                        .to_owned()
                };
                (p.name.to_owned(), v)
            })
            .collect()
    }

    fn path_param(&self, name: &str) -> Option<String> {
        self.path_params()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    fn query_all(&self, name: &str) -> Vec<String> {
        self.ex
            .parts
            .uri
            .query()
            .map(|q| {
                form_pairs(q)
                    .filter(|(k, _)| k == name)
                    .map(|(_, v)| v)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn querystring(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        if let Some(q) = self.ex.parts.uri.query() {
            for (k, v) in form_pairs(q) {
                match out.iter_mut().find(|(n, _)| *n == k) {
                    Some(slot) => {
                        slot.1.push(',');
                        slot.1.push_str(&v);
                    }
                    None => out.push((k, v)),
                }
            }
        }
        out
    }

    /// Each header once (the `HeaderMap` groups repeated names); values joined with `,`.
    fn headers(&self, f: &mut dyn FnMut(&str, &str)) {
        let h = &self.ex.parts.headers;
        for name in h.keys() {
            let mut values = h.get_all(name).iter();
            let Some(first) = values.next() else { continue };
            let first = String::from_utf8_lossy(first.as_bytes());
            match values.next() {
                None => f(name.as_str(), &first),
                Some(second) => {
                    let mut joined = first.into_owned();
                    for v in std::iter::once(second).chain(values) {
                        joined.push(',');
                        joined.push_str(&String::from_utf8_lossy(v.as_bytes()));
                    }
                    f(name.as_str(), &joined);
                }
            }
        }
    }

    fn header_all(&self, name: &str) -> Vec<String> {
        self.ex
            .parts
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    }

    /// The keys of `$context`, in the order the tree lists them.
    const CONTEXT_KEYS: [&'static str; 19] = [
        "accountId",
        "apiId",
        "deploymentId",
        "domainPrefix",
        "domainName",
        "extendedRequestId",
        "httpMethod",
        "path",
        "protocol",
        "requestId",
        "requestTime",
        "requestTimeEpoch",
        "resourceId",
        "resourcePath",
        "stage",
        "isCanaryRequest",
        "identity",
        "authorizer",
        "error",
    ];

    /// The `$context` tree.
    pub fn context(&self) -> Object {
        let mut o = Object::with_capacity(Self::CONTEXT_KEYS.len());
        for key in Self::CONTEXT_KEYS {
            let v = self.context_entry(key);
            if !v.is_null() {
                o.insert(key, v);
            }
        }
        o
    }

    fn host(&self) -> &str {
        let ex = self.ex;
        ex.parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| ex.parts.uri.authority().map(|a| a.as_str()))
            .unwrap_or("localhost")
    }

    /// One entry of `$context`, computed on its own (templates usually read one or two).
    pub fn context_entry(&self, name: &str) -> Value {
        let ex = self.ex;
        let s = |v: &str| Value::str(v);
        let epoch_ms = || {
            ex.received_at
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or_default()
        };
        match name {
            "accountId" => s(ACCOUNT_ID),
            "apiId" => s(ex.shared.api_name),
            "deploymentId" => s("tollgate"),
            "domainPrefix" => s(self.host().split('.').next().unwrap_or("")),
            "domainName" => s(self.host()),
            "requestId" => s(ex.request_id.as_str()),
            "extendedRequestId" => s(ex.extended_id.as_str()),
            "httpMethod" => s(ex.parts.method.as_str()),
            "path" => s(ex.parts.uri.path()),
            "protocol" => s("HTTP/1.1"),
            "requestTime" => s(&clf_time(epoch_ms())),
            "requestTimeEpoch" => Value::Int(epoch_ms()),
            "resourceId" => s(&resource_id(self.route.resource_path)),
            "resourcePath" => s(self.route.resource_path),
            "stage" => s(ex.stage().name),
            "isCanaryRequest" => s("false"),
            "identity" => {
                let mut identity = Object::with_capacity(4);
                identity.insert("sourceIp", s(&ex.remote.ip().to_string()));
                if let Some(k) = &ex.api_key {
                    // The value as the client sent it, and the key's id (API Gateway fills both
                    // once a key has been accepted).
                    if let Some(v) = ex
                        .parts
                        .headers
                        .get("x-api-key")
                        .and_then(|v| v.to_str().ok())
                    {
                        identity.insert("apiKey", s(v));
                    }
                    identity.insert("apiKeyId", s(&k.entry.id));
                }
                if let Some(iam) = ex.principal.as_ref().and_then(|p| p.iam.as_ref()) {
                    identity.insert("accessKey", s(&iam.access_key_id));
                    identity.insert("accountId", s(&iam.account_id));
                    identity.insert("userArn", s(&iam.principal_arn));
                    identity.insert("user", s(&iam.principal_arn));
                    identity.insert("caller", s(&iam.principal_arn));
                }
                if let Some(ua) = ex
                    .parts
                    .headers
                    .get(header::USER_AGENT)
                    .and_then(|v| v.to_str().ok())
                {
                    identity.insert("userAgent", s(ua));
                }
                Value::Object(Rc::new(identity))
            }
            "authorizer" => {
                let mut o = Object::new();
                if let Some(p) = &ex.principal {
                    o.insert("principalId", s(&p.principal_id));
                    for (k, v) in &p.context {
                        o.insert(k.as_str(), s(v));
                    }
                    if !p.claims.is_empty() {
                        let mut claims = Object::with_capacity(p.claims.len());
                        for (k, v) in &p.claims {
                            claims.insert(k.as_str(), s(v));
                        }
                        o.insert("claims", Value::Object(Rc::new(claims)));
                    }
                }
                Value::Object(Rc::new(o))
            }
            "error" => match self.error {
                Some(e) => {
                    let message = e.client_message();
                    let mut err = Object::with_capacity(4);
                    err.insert(
                        "messageString",
                        s(&serde_json::Value::String(message.clone()).to_string()),
                    );
                    err.insert("message", Value::str(message));
                    err.insert("responseType", s(e.kind().aws_name()));
                    if let Some(v) = e.validation_error_string() {
                        err.insert("validationErrorString", s(v));
                    }
                    Value::Object(Rc::new(err))
                }
                None => Value::Null,
            },
            _ => Value::Null,
        }
    }

    /// `$input.params(name)` straight from the request: path, query string, header.
    fn param(&self, name: &str) -> Option<String> {
        if let Some(p) = self.route.params.iter().find(|p| p.name == name) {
            let uri_path = self.ex.parts.uri.path();
            return Some(if p.greedy {
                self.ex.path.decoded_tail(uri_path, self.ex.skip + p.index)
            } else {
                self.ex
                    .path
                    .segment(uri_path, self.ex.skip + p.index)
                    .to_owned()
            });
        }
        let query = self.query_all(name);
        if !query.is_empty() {
            return Some(query.join(","));
        }
        let mut values = self
            .ex
            .parts
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()));
        let first = values.next()?.into_owned();
        Some(values.fold(first, |mut acc, v| {
            acc.push(',');
            acc.push_str(&v);
            acc
        }))
    }
}

/// The account id `$context.accountId` reports (there is no AWS account).
pub const ACCOUNT_ID: &str = "000000000000";

/// A stable 6-character resource id derived from the resource path.
fn resource_id(path: &str) -> String {
    // FNV-1a: stable across builds and platforms.
    let mut h: u32 = 0x811c_9dc5;
    for b in path.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..6)
        .map(|i| alphabet[((h >> (i * 5)) % 36) as usize] as char)
        .collect()
}

pub use tollgate_vtl::env::clf_time;

pub(crate) fn form_pairs(q: &str) -> impl Iterator<Item = (String, String)> + '_ {
    q.split('&').filter(|p| !p.is_empty()).map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        (decode_form(k), decode_form(v))
    })
}

fn decode_form(s: &str) -> String {
    let replaced = s.replace('+', " ");
    percent_encoding::percent_decode_str(&replaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// A template's view of a request (request templates) or of a backend answer plus the request
/// (response templates).
struct TemplateSource<'v, 'a> {
    view: &'v RequestView<'a>,
    body: &'v [u8],
}

impl Source for TemplateSource<'_, '_> {
    fn body(&self) -> &[u8] {
        self.body
    }
    fn path_params(&self, f: &mut dyn FnMut(&str, &str)) {
        for (k, v) in self.view.path_params() {
            f(&k, &v);
        }
    }
    fn querystring(&self, f: &mut dyn FnMut(&str, &str)) {
        for (k, v) in self.view.querystring() {
            f(&k, &v);
        }
    }
    fn headers(&self, f: &mut dyn FnMut(&str, &str)) {
        self.view.headers(f);
    }
    fn context(&self) -> Object {
        self.view.context()
    }
    fn context_property(&self, name: &str) -> Value {
        self.view.context_entry(name)
    }
    fn param(&self, name: &str) -> Option<String> {
        self.view.param(name)
    }
    fn stage_variables(&self, f: &mut dyn FnMut(&str, &str)) {
        for (k, v) in self.view.ex.stage().variables.iter() {
            f(k, v);
        }
    }
}

/// Renders `t` over `body`; a body that is not JSON answers 400 in a request template and 500
/// in a response template, any other failure 500.
fn render(
    t: &TemplateSpec,
    view: &RequestView<'_>,
    body: &[u8],
    request_side: bool,
) -> Result<Output, GatewayError> {
    let src = TemplateSource { view, body };
    let env = Env::new(&src);
    let mut out = Output::new();
    match (t.render)(&env, &mut out) {
        Ok(()) => Ok(out),
        Err(e) if e.kind == ErrorKind::BodyNotJson && request_side => Err(
            GatewayError::with_message(ResponseType::BadRequestBody, e.message.clone()),
        ),
        Err(e) => Err(GatewayError::new(
            ResponseType::ApiConfigurationError,
            format!(
                "mapping template for {} failed: {}",
                t.content_type, e.message
            ),
        )),
    }
}

/// Evaluates a mapping source; `None` when the value is absent.
fn source_value(
    src: &MapSource,
    view: &RequestView<'_>,
    backend: Option<(&HeaderMap, &[u8])>,
    context: &mut Option<Value>,
) -> Option<String> {
    let json_at = |body: &[u8], path: Option<&str>| -> Option<String> {
        match path {
            None => Some(String::from_utf8_lossy(body).into_owned()),
            Some(p) => {
                let root = Value::from_json_slice(body).ok()?;
                let v = JsonPath::parse(p).ok()?.eval(&root);
                match v {
                    Value::Null => None,
                    Value::Str(s) => Some(s.to_string()),
                    other => Some(other.to_json_string()),
                }
            }
        }
    };
    match src {
        MapSource::Static(s) => Some((*s).to_owned()),
        MapSource::Path(n) => view.path_param(n),
        MapSource::Query(n) => view.query_all(n).pop(),
        MapSource::MultiQuery(n) => Some(view.query_all(n).join(",")).filter(|s| !s.is_empty()),
        MapSource::Header(n) => view.header_all(n).pop(),
        MapSource::MultiHeader(n) => Some(view.header_all(n).join(",")).filter(|s| !s.is_empty()),
        MapSource::RequestBody(p) => json_at(&view.body, *p),
        MapSource::ResponseHeader(n) | MapSource::ResponseMultiHeader(n) => {
            let (headers, _) = backend?;
            let all: Vec<String> = headers
                .get_all(*n)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect();
            if matches!(src, MapSource::ResponseHeader(_)) {
                all.into_iter().last()
            } else {
                Some(all.join(",")).filter(|s| !s.is_empty())
            }
        }
        MapSource::ResponseBody(p) => json_at(backend?.1, *p),
        MapSource::StageVariable(n) => view.ex.stage().variables.get(n).map(str::to_owned),
        MapSource::Context(path) => {
            let root = context.get_or_insert_with(|| Value::Object(Rc::new(view.context())));
            let mut v = root.clone();
            for p in *path {
                v = v.property(p);
            }
            (!v.is_null()).then(|| v.to_java_string())
        }
    }
}

fn header_pair(name: &str, value: &str) -> Option<(HeaderName, HeaderValue)> {
    Some((
        HeaderName::from_bytes(name.as_bytes()).ok()?,
        HeaderValue::from_str(value).ok()?,
    ))
}

/// Applies `method.response.header.*` (or `gatewayresponse.header.*`) mappings.
fn map_headers(
    out: &mut HeaderMap,
    mappings: &[HeaderMapping],
    view: &RequestView<'_>,
    backend: Option<(&HeaderMap, &[u8])>,
) {
    let mut context = None;
    for m in mappings {
        if let Some(v) = source_value(&m.source, view, backend, &mut context)
            && let Some((n, v)) = header_pair(m.name, &v)
        {
            out.insert(n, v);
        }
    }
}

/// Applies `$context.responseOverride.*` to a finished response.
fn apply_response_overrides(r: &mut Response, out: &Output) {
    if let Some(s) = out
        .overrides
        .status()
        .and_then(|s| StatusCode::from_u16(s).ok())
    {
        *r.status_mut() = s;
    }
    for (name, value) in &out.overrides.response_header {
        set_override_header(r.headers_mut(), name, value);
    }
}

fn set_override_header(h: &mut HeaderMap, name: &str, value: &Value) {
    let Ok(n) = HeaderName::from_bytes(name.as_bytes()) else {
        return;
    };
    h.remove(&n);
    let values: Vec<String> = match value {
        Value::List(l) => l.borrow().iter().map(Value::to_java_string).collect(),
        Value::Array(a) => a.iter().map(Value::to_java_string).collect(),
        other => vec![other.to_java_string()],
    };
    // A list becomes a multi-value header: one line, values joined as API Gateway sends them.
    if let Ok(v) = HeaderValue::from_str(&values.join(",")) {
        h.insert(n, v);
    }
}

/// Builds the client response from the selected integration response.
fn integration_response(
    view: &RequestView<'_>,
    responses: &'static [ResponseSpec],
    backend_status: u16,
    backend_headers: &HeaderMap,
    backend_body: &[u8],
) -> Result<Response, GatewayError> {
    let selected = select_response(responses, &backend_status.to_string()).ok_or_else(|| {
        GatewayError::new(
            ResponseType::ApiConfigurationError,
            format!("no integration response matches backend status {backend_status} and there is no default"),
        )
    })?;
    let accept = view
        .ex
        .parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    let template = select_response_template(selected.templates, accept);
    let (body, rendered, content_type) = match template {
        Some(t) => {
            let mut out = render(t, view, backend_body, false)?;
            let ct = if t.content_type == "$default" {
                "application/json"
            } else {
                t.content_type
            };
            // The body moves out; the overrides stay for after the response is built.
            (Bytes::from(std::mem::take(&mut out.body)), Some(out), ct)
        }
        None => (
            Bytes::copy_from_slice(backend_body),
            None,
            "application/json",
        ),
    };
    let mut r = http::Response::new(Body::Full(body));
    *r.status_mut() = StatusCode::from_u16(selected.status).unwrap_or(StatusCode::OK);
    map_headers(
        r.headers_mut(),
        selected.headers,
        view,
        Some((backend_headers, backend_body)),
    );
    if !r.headers().contains_key(header::CONTENT_TYPE)
        && let Ok(v) = HeaderValue::from_str(content_type)
    {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    if let Some(out) = &rendered {
        apply_response_overrides(&mut r, out);
    }
    Ok(r)
}

impl Exchange {
    /// The request template for this request's `Content-Type` (`None`: pass the body through)
    /// and the `Content-Type` itself; 415 `UNSUPPORTED_MEDIA_TYPE` when the passthrough
    /// behaviour forbids passing through.
    fn request_template(
        &self,
        templates: &'static [TemplateSpec],
        passthrough: Passthrough,
    ) -> Result<(Option<&'static TemplateSpec>, Option<String>), GatewayError> {
        let content_type = self
            .parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        match select_request_template(templates, content_type.as_deref(), passthrough) {
            Selected::Template(t) => Ok((Some(t), content_type)),
            Selected::Passthrough => Ok((None, content_type)),
            Selected::Unsupported => Err(GatewayError::new(
                ResponseType::UnsupportedMediaType,
                format!(
                    "no request template for {:?}",
                    mime(content_type.as_deref())
                ),
            )),
        }
    }

    /// Runs a non-proxy `http` integration.
    pub async fn http_integration(
        mut self,
        spec: &'static HttpSpec,
        route: &'static RouteSpec,
    ) -> Result<Response, GatewayError> {
        let body = self.body().await?;
        let (selected, content_type) =
            self.request_template(spec.request_templates, spec.passthrough)?;
        let shared = self.shared.clone();
        let (req, uri) = {
            let view = RequestView {
                ex: &self,
                route,
                body: body.clone(),
                error: None,
            };
            let (out_body, out, out_ct) = match selected {
                None => (body.clone(), None, content_type.clone()),
                Some(t) => {
                    let mut out = render(t, &view, &body, true)?;
                    let ct = if t.content_type == "$default" {
                        content_type.clone()
                    } else {
                        Some(t.content_type.to_owned())
                    };
                    (Bytes::from(std::mem::take(&mut out.body)), Some(out), ct)
                }
            };
            // Parameter mappings, then the template's overrides on top (facts §1.1).
            let mut context = None;
            let mut path_values: Vec<(&str, String)> = Vec::new();
            let mut query: Vec<(String, String)> = Vec::new();
            let mut headers = HeaderMap::new();
            for m in spec.parameters {
                let Some(v) = source_value(&m.source, &view, None, &mut context) else {
                    continue;
                };
                match m.target {
                    MapTarget::Path(n) => path_values.push((n, v)),
                    MapTarget::Query(n) => query.push((n.to_owned(), v)),
                    MapTarget::Header(n) => {
                        if let Some((n, v)) = header_pair(n, &v) {
                            headers.insert(n, v);
                        }
                    }
                }
            }
            if let Some(out) = &out {
                for (n, v) in &out.overrides.request_path {
                    path_values.retain(|(p, _)| p != n);
                    path_values.push((n.as_str(), v.to_java_string()));
                }
                for (n, v) in &out.overrides.request_querystring {
                    query.retain(|(q, _)| q != n);
                    query.push((n.clone(), v.to_java_string()));
                }
                for (n, v) in &out.overrides.request_header {
                    set_override_header(&mut headers, n, v);
                }
            }
            if !headers.contains_key(header::CONTENT_TYPE)
                && let Some(ct) = out_ct
                    .as_deref()
                    .and_then(|c| HeaderValue::from_str(c).ok())
            {
                headers.insert(header::CONTENT_TYPE, ct);
            }
            if !headers.contains_key(header::ACCEPT) {
                headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
            }
            // What API Gateway's integration requests carry (facts §1.7, C7), unless mapped.
            if !headers.contains_key(header::USER_AGENT)
                && let Ok(v) =
                    HeaderValue::from_str(&format!("AmazonAPIGateway_{}", shared.api_name))
            {
                headers.insert(header::USER_AGENT, v);
            }
            if let Ok(v) = HeaderValue::from_str(shared.api_name) {
                headers.entry("x-amzn-apigateway-api-id").or_insert(v);
            }
            let mut s = self.uri_text(spec.uri, |n| {
                path_values
                    .iter()
                    .find(|(p, _)| *p == n)
                    .map(|(_, v)| v.clone())
            });
            for (i, (k, v)) in query.iter().enumerate() {
                s.push(if i == 0 && !s.contains('?') { '?' } else { '&' });
                s.push_str(&encode_component(k));
                s.push('=');
                s.push_str(&encode_component(v));
            }
            let uri = crate::integration::http::check_upstream(&s)?;
            let method = match spec.method {
                Some(m) => http::Method::from_bytes(m.as_bytes()).unwrap_or(http::Method::GET),
                None => self.parts.method.clone(),
            };
            let mut req = http::Request::new(Full::new(out_body));
            *req.method_mut() = method;
            *req.uri_mut() = uri.clone();
            *req.headers_mut() = headers;
            (req, uri)
        };
        let (status, headers, backend_body) = send(&shared, req, &uri, spec.timeout_ms).await?;
        let view = RequestView {
            ex: &self,
            route,
            body,
            error: None,
        };
        integration_response(&view, spec.responses, status, &headers, &backend_body)
    }

    /// Runs a templated mock: the request template's `statusCode` selects the integration
    /// response.
    pub async fn mock_template(
        mut self,
        spec: &'static MockTemplateSpec,
        route: &'static RouteSpec,
    ) -> Result<Response, GatewayError> {
        let body = self.body().await?;
        let (selected, _) = self.request_template(spec.request_templates, spec.passthrough)?;
        let view = RequestView {
            ex: &self,
            route,
            body: body.clone(),
            error: None,
        };
        let status = match selected {
            None => 200,
            Some(t) => {
                let out = render(t, &view, &body, true)?;
                mock_status(&out.body).ok_or_else(|| {
                    GatewayError::new(
                        ResponseType::ApiConfigurationError,
                        format!("the mock's request template did not produce an integer statusCode: {:?}", out.body),
                    )
                })?
            }
        };
        integration_response(&view, spec.responses, status, &HeaderMap::new(), b"")
    }
}

/// `statusCode` of a mock request template's output.
fn mock_status(out: &str) -> Option<u16> {
    let v: serde_json::Value = serde_json::from_str(out).ok()?;
    let s = v.get("statusCode")?;
    let n = s
        .as_u64()
        .or_else(|| s.as_str().and_then(|s| s.trim().parse().ok()))?;
    u16::try_from(n).ok().filter(|n| (100..=599).contains(n))
}

async fn send(
    shared: &crate::exchange::Shared,
    req: http::Request<Full<Bytes>>,
    uri: &Uri,
    timeout_ms: u64,
) -> Result<(u16, HeaderMap, Bytes), GatewayError> {
    let timeout = Duration::from_millis(timeout_ms);
    let max = shared.max_body_bytes;
    let exchange = async {
        let resp = shared.client.request(req).await.map_err(|e| {
            GatewayError::new(ResponseType::IntegrationFailure, format!("{uri}: {e}"))
        })?;
        let (parts, body) = resp.into_parts();
        let bytes = Limited::new(body, max)
            .collect()
            .await
            .map_err(|e| {
                GatewayError::new(
                    ResponseType::IntegrationFailure,
                    format!("{uri}: reading the response failed: {e}"),
                )
            })?
            .to_bytes();
        Ok::<_, GatewayError>((parts.status.as_u16(), parts.headers, bytes))
    };
    match tokio::time::timeout(timeout, exchange).await {
        Err(_) => Err(GatewayError::new(
            ResponseType::IntegrationTimeout,
            format!("{uri} did not answer within {timeout_ms} ms"),
        )),
        Ok(r) => r,
    }
}

/// The route a gateway response reports when the request matched none.
static NO_ROUTE: RouteSpec = RouteSpec {
    method: "ANY",
    resource_path: "",
    params: &[],
    api_key_required: false,
    cache: None,
    auth: crate::auth::RouteAuthSpec::None,
    cors: None,
    plain: false,
};

/// A customised gateway response for `err` on the request `ex` (body not read), if any.
pub(crate) fn custom_for(
    ex: &Exchange,
    err: &GatewayError,
    flavor: crate::gateway::Flavor,
) -> Option<Response> {
    let specs = ex.shared.gateway_responses;
    let view = RequestView {
        ex,
        route: &NO_ROUTE,
        body: Bytes::new(),
        error: Some(err),
    };
    let (status, _, error_type) = err.parts(flavor);
    let mut r = custom_gateway_response(specs, err, &view, status, &err.default_body(flavor))?;
    if let Some(t) = error_type {
        r.headers_mut()
            .insert("x-amzn-errortype", HeaderValue::from_static(t));
    }
    err.add_headers(r.headers_mut());
    Some(r)
}

/// Renders a customised gateway response for `err`, if the API configured one for its type
/// (or for `DEFAULT_4XX`/`DEFAULT_5XX`).
pub(crate) fn custom_gateway_response(
    specs: &'static [GatewayResponseSpec],
    err: &GatewayError,
    view: &RequestView<'_>,
    default_status: StatusCode,
    default_body: &[u8],
) -> Option<Response> {
    let kind = err.kind().aws_name();
    if kind == "REQUEST_TOO_LARGE" {
        return None;
    }
    let class = if default_status.is_client_error() {
        "DEFAULT_4XX"
    } else {
        "DEFAULT_5XX"
    };
    let specific = specs.iter().find(|s| s.kind == kind);
    let fallback = specs.iter().find(|s| s.kind == class);
    let spec = specific.or(fallback)?;
    let status = specific
        .and_then(|s| s.status)
        .or_else(|| {
            if specific.is_none() {
                fallback.and_then(|f| f.status)
            } else {
                None
            }
        })
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(default_status);
    let accept = view
        .ex
        .parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    let (body, ct) = match select_response_template(spec.templates, accept) {
        Some(t) => {
            let src = TemplateSource { view, body: b"" };
            let env = Env::new(&src);
            let mut out = Output::new();
            match (t.render)(&env, &mut out) {
                Ok(()) => (Bytes::from(out.body), t.content_type),
                Err(e) => {
                    tracing::error!(error = %e, "gateway response template failed");
                    (Bytes::copy_from_slice(default_body), "application/json")
                }
            }
        }
        None => (Bytes::copy_from_slice(default_body), "application/json"),
    };
    let mut r = http::Response::new(Body::Full(body));
    *r.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(ct) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    // The type's own response replaces DEFAULT_xXX entirely, headers included.
    map_headers(r.headers_mut(), spec.headers, view, None);
    Some(r)
}
