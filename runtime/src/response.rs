//! Responses: the body type every integration answers with, helpers for handlers, and API
//! Gateway's *gateway responses* — the gateway's own answers (unknown route, timeout, …) with
//! the status, body and `x-amzn-ErrorType` of the API's flavour.

use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode, header};
use http_body::{Frame, SizeHint};
use serde::Serialize;
use serde_json::Value;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::gateway::Flavor;

/// An HTTP response as tollgate sends it.
pub type Response = http::Response<Body>;

/// A response body: nothing, bytes in memory, or an upstream body streamed through.
///
/// An enum rather than a boxed trait object, so the common in-memory answers cost no
/// allocation beyond their bytes.
#[derive(Debug, Default)]
pub enum Body {
    /// No body.
    #[default]
    Empty,
    /// A body held in memory.
    Full(Bytes),
    /// An upstream response body, streamed as it arrives.
    Incoming(hyper::body::Incoming),
}

impl Body {
    /// A body from bytes.
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Body {
        Body::Full(bytes.into())
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Self {
        Body::Full(b)
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Body::Full(s.into())
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Self {
        Body::Full(Bytes::from_static(s.as_bytes()))
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Self {
        Body::Full(v.into())
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        match self.get_mut() {
            Body::Empty => Poll::Ready(None),
            this @ Body::Full(_) => {
                let Body::Full(bytes) = std::mem::take(this) else {
                    unreachable!("matched Full above")
                };
                if bytes.is_empty() {
                    Poll::Ready(None)
                } else {
                    Poll::Ready(Some(Ok(Frame::data(bytes))))
                }
            }
            Body::Incoming(inc) => Pin::new(inc).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Empty => true,
            Body::Full(b) => b.is_empty(),
            Body::Incoming(inc) => inc.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Empty => SizeHint::with_exact(0),
            Body::Full(b) => SizeHint::with_exact(b.len() as u64),
            Body::Incoming(inc) => inc.size_hint(),
        }
    }
}

/// A JSON response: `value` serialised, `Content-Type: application/json`.
///
/// ```
/// # use tollgate_runtime::response;
/// let r = response::json(http::StatusCode::CREATED, &serde_json::json!({"id": 1}));
/// assert_eq!(r.status(), 201);
/// ```
pub fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => with_body(status, "application/json", body.into()),
        Err(e) => {
            tracing::error!(error = %e, "a handler's response did not serialise to JSON");
            GatewayError::handler_failure(e.to_string()).into_response(Flavor::Rest)
        }
    }
}

/// A plain-text response (`text/plain; charset=utf-8`).
pub fn text(status: StatusCode, body: impl Into<Bytes>) -> Response {
    with_body(status, "text/plain; charset=utf-8", body.into())
}

/// A response with a status and no body.
pub fn empty(status: StatusCode) -> Response {
    let mut r = http::Response::new(Body::Empty);
    *r.status_mut() = status;
    r
}

fn with_body(status: StatusCode, content_type: &'static str, body: Bytes) -> Response {
    let mut r = http::Response::new(Body::Full(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// What went wrong, as one of API Gateway's gateway-response types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseType {
    /// No resource or method matches (REST: 403 `Missing Authentication Token`; HTTP: 404).
    MissingAuthenticationToken,
    /// The request line or path is malformed (`..` segments, bad percent-encoding): 400.
    BadRequest,
    /// A required request parameter is missing, or a path parameter does not parse as its
    /// declared type: 400.
    BadRequestParameters,
    /// The body is not JSON or does not satisfy its model: 400 `Invalid request body`.
    BadRequestBody,
    /// The body is over the payload limit (10 MB): 413.
    RequestTooLarge,
    /// The upstream could not be reached or broke the exchange: 502.
    IntegrationFailure,
    /// The upstream did not answer within the integration timeout (REST 504, HTTP 503).
    IntegrationTimeout,
    /// A handler returned an error (API Gateway's Lambda-throws case: REST 502, HTTP 500).
    HandlerFailure,
    /// The integration is misconfigured, e.g. its URI does not parse after substitution, or no
    /// integration response matches: 500.
    ApiConfigurationError,
    /// No request template matches and the passthrough behaviour forbids passing through: 415.
    UnsupportedMediaType,
    /// A throttle's bucket is empty: 429 `Too Many Requests`.
    Throttled,
    /// The API key is missing, unknown, disabled or in no usage plan of the stage: 403
    /// `Forbidden`.
    InvalidApiKey,
    /// The API key's quota for the period is used up: 429 `Limit Exceeded`.
    QuotaExceeded,
    /// The limits' store cannot be reached and the gateway fails closed: 503.
    StoreUnavailable,
    /// An IAM-style deny (`ACCESS_DENIED`): 403 with a capital-M `Message` body, e.g. an
    /// unauthorized cache invalidation under `fail-with-403`.
    AccessDenied,
    /// The caller is not authenticated: a missing or malformed identity, a custom authorizer
    /// that answered `Unauthorized`, a refused JWT: 401 `{"message":"Unauthorized"}`.
    Unauthorized,
    /// A custom authorizer failed or answered something that is not a policy: 500
    /// `{"message": null}` (`AuthorizerConfigurationException`).
    AuthorizerConfigurationError,
    /// A SigV4 signature does not verify (wrong secret, modified request, stale date): 403
    /// with AWS's message.
    InvalidSignature,
    /// The method ARN an authorizer would see is over 1600 bytes: 414.
    UriTooLong,
}

impl ResponseType {
    /// API Gateway's name for the type (`$context.error.responseType`, `gateway-response`).
    pub fn aws_name(self) -> &'static str {
        match self {
            ResponseType::MissingAuthenticationToken => "MISSING_AUTHENTICATION_TOKEN",
            ResponseType::BadRequest => "DEFAULT_4XX",
            ResponseType::BadRequestParameters => "BAD_REQUEST_PARAMETERS",
            ResponseType::BadRequestBody => "BAD_REQUEST_BODY",
            ResponseType::RequestTooLarge => "REQUEST_TOO_LARGE",
            ResponseType::IntegrationFailure => "INTEGRATION_FAILURE",
            ResponseType::IntegrationTimeout => "INTEGRATION_TIMEOUT",
            ResponseType::HandlerFailure => "DEFAULT_5XX",
            ResponseType::ApiConfigurationError => "API_CONFIGURATION_ERROR",
            ResponseType::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            ResponseType::Throttled => "THROTTLED",
            ResponseType::InvalidApiKey => "INVALID_API_KEY",
            ResponseType::QuotaExceeded => "QUOTA_EXCEEDED",
            ResponseType::StoreUnavailable => "DEFAULT_5XX",
            ResponseType::AccessDenied => "ACCESS_DENIED",
            ResponseType::Unauthorized => "UNAUTHORIZED",
            ResponseType::AuthorizerConfigurationError => "AUTHORIZER_CONFIGURATION_ERROR",
            ResponseType::InvalidSignature => "INVALID_SIGNATURE",
            ResponseType::UriTooLong => "DEFAULT_4XX",
        }
    }
}

/// A gateway response: the gateway answers instead of the integration.
///
/// The detail is for logs only; clients get API Gateway's fixed bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayError {
    kind: ResponseType,
    detail: String,
    /// A body replacing the type's fixed one (a parameter list, detailed validation errors).
    body: Option<String>,
    /// API Gateway's `$context.error.validationErrorString` for body-validation failures.
    validation_error_string: Option<String>,
    /// Headers beyond the type's own (`Retry-After` and `RateLimit` on a 429).
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl GatewayError {
    /// A gateway response of type `kind`, with `detail` for the log.
    pub fn new(kind: ResponseType, detail: impl Into<String>) -> Self {
        GatewayError {
            kind,
            detail: detail.into(),
            body: None,
            validation_error_string: None,
            headers: Vec::new(),
        }
    }

    /// A refusal by a limit (429 `THROTTLED` or `QUOTA_EXCEEDED`), with `Retry-After` (whole
    /// seconds, rounded up) and the IETF `RateLimit-Policy` / `RateLimit` headers
    /// (draft-ietf-httpapi-ratelimit-headers) of the limit that refused.
    pub fn limited(
        kind: ResponseType,
        retry_after: std::time::Duration,
        item: crate::limits::RateItem,
    ) -> Self {
        let secs = retry_after.as_nanos().div_ceil(1_000_000_000).max(1) as u64;
        let mut e = GatewayError::new(
            kind,
            format!(
                "{} limit reached: next request in {retry_after:?}",
                item.policy.name()
            ),
        );
        e.headers.push((
            HeaderName::from_static("retry-after"),
            HeaderValue::from(secs),
        ));
        let mut refused = crate::limits::RateLimits::default();
        refused.push(crate::limits::RateItem {
            remaining: 0,
            reset_secs: secs,
            ..item
        });
        let (policy, state) = refused.header_values();
        for (name, value) in [("ratelimit-policy", policy), ("ratelimit", state)] {
            if let Some(v) = value {
                e.headers.push((HeaderName::from_static(name), v));
            }
        }
        e
    }

    /// 503: the store that keeps the limits cannot decide and the gateway fails closed.
    pub fn store_unavailable(detail: impl Into<String>) -> Self {
        let mut e = GatewayError::new(ResponseType::StoreUnavailable, detail);
        e.headers.push((
            HeaderName::from_static("retry-after"),
            HeaderValue::from_static("1"),
        ));
        e
    }

    /// A gateway response whose client-facing message is `message` (e.g. the list of missing
    /// parameters), rendered as `{"message": "…"}`.
    pub fn with_message(kind: ResponseType, message: impl Into<String>) -> Self {
        let message = message.into();
        GatewayError {
            kind,
            // API Gateway writes these with a space after the colon.
            body: Some(format!(
                r#"{{"message": {}}}"#,
                Value::String(message.clone())
            )),
            detail: message,
            validation_error_string: None,
            headers: Vec::new(),
        }
    }

    /// Replaces the client-facing body with `body` (JSON).
    pub fn with_body(mut self, body: &Value) -> Self {
        self.body = Some(body.to_string());
        self
    }

    /// Records `$context.error.validationErrorString`.
    /// Adds a header to the answer (e.g. `www-authenticate` on a refused token).
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    pub fn with_validation_error_string(mut self, s: impl Into<String>) -> Self {
        self.validation_error_string = Some(s.into());
        self
    }

    /// `$context.error.validationErrorString`, for body-validation failures: the violations in
    /// the style of API Gateway's validator, e.g. `[object has missing required properties (["email"])]`.
    pub fn validation_error_string(&self) -> Option<&str> {
        self.validation_error_string.as_deref()
    }

    /// No route matches.
    pub fn no_route() -> Self {
        GatewayError::new(ResponseType::MissingAuthenticationToken, "")
    }

    /// A handler failed.
    pub fn handler_failure(detail: impl Into<String>) -> Self {
        GatewayError::new(ResponseType::HandlerFailure, detail)
    }

    /// The response type.
    pub fn kind(&self) -> ResponseType {
        self.kind
    }

    /// The log detail.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// Status, body and `x-amzn-ErrorType` as API Gateway sends them for `flavor`.
    ///
    /// Bodies are byte-for-byte API Gateway's, spaces included (see the facts file §2.2, §6, §7).
    pub fn parts(&self, flavor: Flavor) -> (StatusCode, &'static str, Option<&'static str>) {
        use ResponseType::*;
        match (flavor, self.kind) {
            (Flavor::Rest, MissingAuthenticationToken) => (
                StatusCode::FORBIDDEN,
                r#"{"message":"Missing Authentication Token"}"#,
                Some("MissingAuthenticationTokenException"),
            ),
            (Flavor::Http, MissingAuthenticationToken) => {
                (StatusCode::NOT_FOUND, r#"{"message":"Not Found"}"#, None)
            }
            (Flavor::Rest, BadRequest) => (
                StatusCode::BAD_REQUEST,
                r#"{"message":"Bad Request"}"#,
                Some("BadRequestException"),
            ),
            (Flavor::Http, BadRequest) => (
                StatusCode::BAD_REQUEST,
                r#"{"message":"Bad Request"}"#,
                None,
            ),
            (Flavor::Rest, BadRequestParameters) => (
                StatusCode::BAD_REQUEST,
                r#"{"message":"Invalid request parameters"}"#,
                Some("BadRequestException"),
            ),
            (Flavor::Http, BadRequestParameters) => (
                StatusCode::BAD_REQUEST,
                r#"{"message":"Invalid request parameters"}"#,
                None,
            ),
            (Flavor::Rest, BadRequestBody) => (
                StatusCode::BAD_REQUEST,
                r#"{"message": "Invalid request body"}"#,
                Some("BadRequestException"),
            ),
            (Flavor::Http, BadRequestBody) => (
                StatusCode::BAD_REQUEST,
                r#"{"message": "Invalid request body"}"#,
                None,
            ),
            (_, RequestTooLarge) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                r#"{"message":"Request Too Long"}"#,
                None,
            ),
            (Flavor::Rest, IntegrationFailure) => (
                StatusCode::BAD_GATEWAY,
                r#"{"message": "Internal server error"}"#,
                Some("InternalServerErrorException"),
            ),
            (Flavor::Http, IntegrationFailure) => (
                StatusCode::BAD_GATEWAY,
                r#"{"message":"Internal Server Error"}"#,
                None,
            ),
            (Flavor::Rest, IntegrationTimeout) => (
                StatusCode::GATEWAY_TIMEOUT,
                r#"{"message": "Endpoint request timed out"}"#,
                None,
            ),
            (Flavor::Http, IntegrationTimeout) => (
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"message":"Service Unavailable"}"#,
                None,
            ),
            (Flavor::Rest, HandlerFailure) => (
                StatusCode::BAD_GATEWAY,
                r#"{"message": "Internal server error"}"#,
                None,
            ),
            (Flavor::Http, HandlerFailure | ApiConfigurationError) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"message":"Internal Server Error"}"#,
                None,
            ),
            (Flavor::Rest, ApiConfigurationError) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"message": "Internal server error"}"#,
                Some("InternalServerErrorException"),
            ),
            (Flavor::Rest, Throttled) => (
                StatusCode::TOO_MANY_REQUESTS,
                r#"{"message":"Too Many Requests"}"#,
                Some("TooManyRequestsException"),
            ),
            (Flavor::Http, Throttled) => (
                StatusCode::TOO_MANY_REQUESTS,
                r#"{"message":"Too Many Requests"}"#,
                None,
            ),
            (Flavor::Rest, InvalidApiKey) => (
                StatusCode::FORBIDDEN,
                r#"{"message":"Forbidden"}"#,
                Some("ForbiddenException"),
            ),
            (Flavor::Http, InvalidApiKey) => {
                (StatusCode::FORBIDDEN, r#"{"message":"Forbidden"}"#, None)
            }
            (Flavor::Rest, QuotaExceeded) => (
                StatusCode::TOO_MANY_REQUESTS,
                r#"{"message":"Limit Exceeded"}"#,
                Some("LimitExceededException"),
            ),
            (Flavor::Http, QuotaExceeded) => (
                StatusCode::TOO_MANY_REQUESTS,
                r#"{"message":"Limit Exceeded"}"#,
                None,
            ),
            (Flavor::Rest, AccessDenied) => (
                StatusCode::FORBIDDEN,
                r#"{"Message":"User is not authorized to access this resource with an explicit deny"}"#,
                Some("AccessDeniedException"),
            ),
            (Flavor::Http, AccessDenied) => {
                (StatusCode::FORBIDDEN, r#"{"message":"Forbidden"}"#, None)
            }
            (Flavor::Rest, Unauthorized) => (
                StatusCode::UNAUTHORIZED,
                r#"{"message":"Unauthorized"}"#,
                Some("UnauthorizedException"),
            ),
            (Flavor::Http, Unauthorized) => (
                StatusCode::UNAUTHORIZED,
                r#"{"message":"Unauthorized"}"#,
                None,
            ),
            (Flavor::Rest, AuthorizerConfigurationError) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"message": null}"#,
                Some("AuthorizerConfigurationException"),
            ),
            (Flavor::Http, AuthorizerConfigurationError) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"message":"Internal Server Error"}"#,
                None,
            ),
            (Flavor::Rest, InvalidSignature) => (
                StatusCode::FORBIDDEN,
                r#"{"message":"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}"#,
                Some("InvalidSignatureException"),
            ),
            (Flavor::Http, InvalidSignature) => {
                (StatusCode::FORBIDDEN, r#"{"message":"Forbidden"}"#, None)
            }
            (_, UriTooLong) => (
                StatusCode::URI_TOO_LONG,
                r#"{"message":"Request URI too long"}"#,
                None,
            ),
            (_, StoreUnavailable) => (
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"message":"Service Unavailable"}"#,
                None,
            ),
            (_, UnsupportedMediaType) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                r#"{"message":"Unsupported Media Type"}"#,
                Some("UnsupportedMediaTypeException"),
            ),
        }
    }

    /// The client-facing message (`$context.error.message`): the custom one, else the type's.
    pub fn client_message(&self) -> String {
        let body = match &self.body {
            Some(b) => b.as_str(),
            None => self.parts(Flavor::Rest).1,
        };
        serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|v| {
                // ACCESS_DENIED answers spell it `Message`.
                v.get("message")
                    .or_else(|| v.get("Message"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_default()
    }

    /// Renders the gateway response for `flavor`.
    pub fn into_response(mut self, flavor: Flavor) -> Response {
        let (status, default_body, error_type) = self.parts(flavor);
        let headers = std::mem::take(&mut self.headers);
        let body = match self.body {
            Some(custom) => Bytes::from(custom),
            None => Bytes::from_static(default_body.as_bytes()),
        };
        let mut r = with_body(status, "application/json", body);
        if let Some(t) = error_type {
            r.headers_mut()
                .insert("x-amzn-errortype", HeaderValue::from_static(t));
        }
        for (n, v) in headers {
            r.headers_mut().insert(n, v);
        }
        r
    }

    /// Adds this error's own headers (`Retry-After`, `RateLimit` …) to `h`.
    pub fn add_headers(&self, h: &mut http::HeaderMap) {
        for (n, v) in &self.headers {
            h.insert(n.clone(), v.clone());
        }
    }

    /// The body this error answers with by default, for customised gateway responses.
    pub fn default_body(&self, flavor: Flavor) -> Bytes {
        match &self.body {
            Some(custom) => Bytes::from(custom.clone()),
            None => Bytes::from_static(self.parts(flavor).1.as_bytes()),
        }
    }
}

impl std::fmt::Display for GatewayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.kind)?;
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

impl std::error::Error for GatewayError {}
