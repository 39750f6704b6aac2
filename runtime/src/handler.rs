//! What `handler` integrations receive and return: API Gateway's Lambda proxy integration, done
//! natively — the handler gets the whole request (already read, within the payload limit) and
//! its context, and returns the whole response.

use bytes::Bytes;
use http::{HeaderMap, Method, Uri};
use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use crate::response::Response;
use crate::stage::StageVariables;

/// What a handler returns: a response, or an error that becomes API Gateway's answer to a
/// failed Lambda (REST 502 `{"message": "Internal server error"}`, HTTP 500).
pub type HandlerResult = Result<Response, HandlerError>;

/// A handler's failure. Anything that converts into a boxed error converts into it, so `?` works
/// in handlers. The message is logged, never sent to the client.
#[derive(Debug)]
pub struct HandlerError(Box<dyn std::error::Error + Send + Sync>);

impl HandlerError {
    /// The underlying error.
    pub fn inner(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.0
    }
}

impl<E: Into<Box<dyn std::error::Error + Send + Sync>>> From<E> for HandlerError {
    fn from(e: E) -> Self {
        HandlerError(e.into())
    }
}

impl std::fmt::Display for HandlerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A request as a handler sees it.
#[derive(Debug)]
pub struct Request {
    pub(crate) parts: http::request::Parts,
    pub(crate) body: Bytes,
    pub(crate) context: Context,
}

impl Request {
    /// The request method.
    pub fn method(&self) -> &Method {
        &self.parts.method
    }

    /// The request URI as sent (stage prefix included).
    pub fn uri(&self) -> &Uri {
        &self.parts.uri
    }

    /// The request headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.parts.headers
    }

    /// The first value of header `name`, if it is valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.parts.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The whole body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The body parsed as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// The first value of query-string parameter `name`, percent-decoded (`+` is a space).
    /// Names are case-sensitive, as in API Gateway.
    pub fn query(&self, name: &str) -> Option<Cow<'_, str>> {
        let q = self.parts.uri.query()?;
        q.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_form(k) == name).then(|| decode_form(v))
        })
    }

    /// The request context: ids, stage, resource, caller.
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// The request parts and the body, taken apart.
    pub fn into_parts(self) -> (http::request::Parts, Bytes, Context) {
        (self.parts, self.body, self.context)
    }
}

fn decode_form(s: &str) -> Cow<'_, str> {
    if !s.contains(['+', '%']) {
        return Cow::Borrowed(s);
    }
    let replaced = s.replace('+', " ");
    Cow::Owned(
        percent_encoding::percent_decode_str(&replaced)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

/// API Gateway's `$context` for one request, as far as this release fills it.
#[derive(Debug, Clone)]
pub struct Context {
    /// `x-amzn-RequestId` of this request (`$context.requestId`).
    pub request_id: Arc<str>,
    /// The stage name (`$context.stage`).
    pub stage: &'static str,
    /// The stage's variables, start-up overrides applied (`$stageVariables`).
    pub stage_variables: StageVariables,
    /// The resource template, e.g. `/pets/{petId}` (`$context.resourcePath`).
    pub resource_path: &'static str,
    /// The request path as sent, stage prefix included (`$context.path`).
    pub path: String,
    /// The declared method of the matched route, `ANY` included.
    pub route_method: &'static str,
    /// Path parameters by name, decoded (`pathParameters`).
    pub path_parameters: Vec<(&'static str, String)>,
    /// The TCP peer (`$context.identity.sourceIp`).
    pub source_addr: SocketAddr,
    /// When the request arrived (`$context.requestTimeEpoch`).
    pub received_at: SystemTime,
    /// The id of the request's API key (`$context.identity.apiKeyId`), on methods that
    /// require one.
    pub api_key_id: Option<Arc<str>>,
    /// Who the caller authenticated as (`$context.authorizer`, `$context.identity` for IAM),
    /// on methods with `auth`.
    pub authorizer: Option<Arc<crate::auth::Principal>>,
}

impl Context {
    /// The decoded value of path parameter `name`.
    pub fn path_parameter(&self, name: &str) -> Option<&str> {
        self.path_parameters
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// `$context.requestTimeEpoch`: milliseconds since the Unix epoch.
    pub fn request_time_epoch(&self) -> u128 {
        self.received_at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default()
    }
}

/// A path parameter type a handler can receive (`param NAME type=…`).
pub trait PathParam: Sized {
    /// Parses the decoded segment; `None` answers 400 `BAD_REQUEST_PARAMETERS`.
    fn parse_param(s: &str) -> Option<Self>;
}

impl PathParam for String {
    fn parse_param(s: &str) -> Option<Self> {
        Some(s.to_owned())
    }
}

macro_rules! from_str_param {
    ($($t:ty),*) => {$(
        impl PathParam for $t {
            fn parse_param(s: &str) -> Option<Self> {
                s.parse().ok()
            }
        }
    )*};
}
from_str_param!(i32, i64, u32, u64, bool);

impl PathParam for f64 {
    fn parse_param(s: &str) -> Option<Self> {
        s.parse::<f64>().ok().filter(|v| v.is_finite())
    }
}
