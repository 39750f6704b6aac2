//! One request on its way through the gateway: what generated `dispatch` code matches on and
//! hands to integrations.

use bytes::Bytes;
use http::header;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use crate::gateway::{Flavor, Method, RouteSpec};
use crate::handler::{Context, HandlerResult, PathParam, Request};
use crate::integration::http::ProxyClient;
use crate::path::PathIndex;
use crate::request_id::RequestId;
use crate::response::{GatewayError, Response, ResponseType};
use crate::stage::StageRuntime;

/// State shared by every request of one server.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) flavor: Flavor,
    pub(crate) api_name: &'static str,
    pub(crate) gateway_responses: &'static [crate::mapping::GatewayResponseSpec],
    pub(crate) limits: crate::limits::Limits,
    pub(crate) caches: crate::cache::Caches,
    pub(crate) auth: crate::auth::Auth,
    pub(crate) routes: &'static [RouteSpec],
    pub(crate) authorizers: &'static [crate::auth::AuthorizerSpec],
    /// Does any route answer CORS?
    pub(crate) cors_any: bool,
    pub(crate) stages: Box<[StageRuntime]>,
    pub(crate) client: ProxyClient,
    pub(crate) max_body_bytes: usize,
}

/// The request body: not read yet, or read once and kept (validation reads it before the
/// integration does).
#[derive(Debug)]
pub(crate) enum BodyState {
    Unread(Incoming),
    Read(Bytes),
}

/// A request matched to a stage, waiting for its route.
#[derive(Debug)]
pub struct Exchange {
    pub(crate) parts: http::request::Parts,
    pub(crate) body: BodyState,
    /// The body parsed by validation, reused for a typed body (one parse per request).
    pub(crate) json: Option<serde_json::Value>,
    pub(crate) path: PathIndex,
    /// Segments consumed by the stage prefix (0 or 1).
    pub(crate) skip: usize,
    pub(crate) method: Method,
    pub(crate) stage: usize,
    pub(crate) request_id: RequestId,
    pub(crate) extended_id: crate::request_id::ExtendedRequestId,
    pub(crate) remote: SocketAddr,
    pub(crate) received_at: SystemTime,
    /// The request's API key, once a method that requires one has admitted it.
    pub(crate) api_key: Option<crate::limits::Authenticated>,
    /// Who the caller authenticated as, once the route's authorizer has admitted it.
    pub(crate) principal: Option<Arc<crate::auth::Principal>>,
    pub(crate) shared: Arc<Shared>,
}

impl Exchange {
    /// The request method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The decoded path segments after the stage prefix.
    pub fn segments(&self) -> crate::path::Segments<'_> {
        self.path.segments(self.parts.uri.path(), self.skip)
    }

    /// The request id.
    pub fn request_id(&self) -> RequestId {
        self.request_id
    }

    /// The raw (still encoded) route segment `i`.
    pub fn raw_segment(&self, i: usize) -> &str {
        self.path.raw_segment(self.parts.uri.path(), self.skip + i)
    }

    /// The raw route segments from `i` on, without a trailing `/`.
    pub fn raw_tail(&self, i: usize) -> &str {
        self.path.raw_tail(self.parts.uri.path(), self.skip + i)
    }

    /// Path parameter at route segment `i`, parsed as `T`; a parse failure is a 400.
    pub fn param<T: PathParam>(&self, name: &str, i: usize) -> Result<T, GatewayError> {
        let s = self.path.segment(self.parts.uri.path(), self.skip + i);
        T::parse_param(s).ok_or_else(|| {
            GatewayError::new(
                ResponseType::BadRequestParameters,
                format!(
                    "path parameter `{name}` = {s:?} does not parse as {}",
                    std::any::type_name::<T>()
                ),
            )
        })
    }

    /// The greedy parameter starting at route segment `i`, decoded.
    pub fn greedy_param(&self, i: usize) -> String {
        self.path.decoded_tail(self.parts.uri.path(), self.skip + i)
    }

    /// Admits a request on route `route`, in API Gateway's order: its API key (when the
    /// method requires one: 403 `Forbidden` otherwise), the key's throttle and quota, the
    /// method's throttle, the account's. A refusal is 429 with `Retry-After` and `RateLimit`
    /// headers; what the admitting limits have left goes on the answer
    /// ([`with_rate_limit`]).
    pub async fn admit(&mut self, route: usize) -> Result<crate::limits::RateLimits, GatewayError> {
        let limits = &self.shared.limits;
        let key = if limits.spec.routes[route].api_key_required {
            Some(
                limits.authenticate(
                    &self.parts.headers,
                    self.principal
                        .as_ref()
                        .and_then(|p| p.usage_identifier_key.as_deref()),
                    self.stage,
                )?,
            )
        } else {
            None
        };
        let granted = limits.admit(self.stage, route, key.as_ref()).await?;
        self.api_key = key;
        Ok(granted)
    }

    /// Runs `fetch` (the route's integration) through the stage's response cache: a fresh
    /// entry answers instead, concurrent misses share one run (see [`crate::cache`]). Routes
    /// that do not cache on this stage just run `fetch`.
    ///
    /// Not an `async fn`: the plan and a memory hit are worked out before the future exists,
    /// so a hit's future holds no request and a miss's (which holds the request and the
    /// integration's closure) is boxed. Every request future is moved a few times on its way
    /// to the connection; keeping them small is worth more than the allocation a miss makes.
    pub fn cached<F, Fut>(
        self,
        route: usize,
        fetch: F,
    ) -> Cached<Fut, impl Future<Output = Result<Response, GatewayError>>>
    where
        F: FnOnce(Exchange) -> Fut,
        Fut: Future<Output = Result<Response, GatewayError>>,
    {
        use crate::cache::Plan;
        let caches = &self.shared.caches;
        if !caches.caches(self.stage, route) {
            return Cached::Fetch {
                fut: fetch(self),
                bypass: false,
            };
        }
        let spec = &self.shared.limits.spec.routes[route];
        let plan = caches.plan(
            self.stage,
            route,
            self.method,
            &self.parts.headers,
            self.principal.as_deref(),
            &|source, name| self.key_value(spec, source, name),
        );
        let used = match plan {
            Plan::Off => {
                return Cached::Fetch {
                    fut: fetch(self),
                    bypass: false,
                };
            }
            Plan::Bypass => {
                return Cached::Fetch {
                    fut: fetch(self),
                    bypass: true,
                };
            }
            Plan::Denied(e) => {
                return Cached::Ready {
                    answer: Some(Err(e)),
                };
            }
            Plan::Use {
                key,
                refresh,
                warning,
            } => {
                if !refresh && let Some(hit) = caches.hit_now(self.stage, route, &key, warning) {
                    return Cached::Ready {
                        answer: Some(Ok(hit)),
                    };
                }
                (key, refresh, warning)
            }
        };
        let shared = self.shared.clone();
        let stage = self.stage;
        Cached::Miss {
            fut: Box::pin(async move {
                shared
                    .caches
                    .serve(stage, route, used, move || fetch(self))
                    .await
            }),
        }
    }

    /// A cache-key parameter's value: a path parameter, the query string's values or the
    /// header's values (joined with `,`), as `$input.params` reads them.
    fn key_value(
        &self,
        route: &RouteSpec,
        source: crate::cache::KeySource,
        name: &str,
    ) -> Option<String> {
        use crate::cache::KeySource;
        match source {
            KeySource::Path(i) => {
                let p = route.params.iter().find(|p| p.index == i)?;
                let uri_path = self.parts.uri.path();
                Some(if p.greedy {
                    self.path.decoded_tail(uri_path, self.skip + i)
                } else {
                    self.path.segment(uri_path, self.skip + i).to_owned()
                })
            }
            KeySource::Querystring => {
                let values: Vec<String> = crate::mapping::form_pairs(self.parts.uri.query()?)
                    .filter(|(k, _)| k == name)
                    .map(|(_, v)| v)
                    .collect();
                (!values.is_empty()).then(|| values.join(","))
            }
            KeySource::Header => {
                let values: Vec<String> = self
                    .parts
                    .headers
                    .get_all(name)
                    .iter()
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    .collect();
                (!values.is_empty()).then(|| values.join(","))
            }
        }
    }

    pub(crate) fn stage(&self) -> &StageRuntime {
        &self.shared.stages[self.stage]
    }

    /// The whole body, read once within the payload limit (413 `Request Too Long` past it).
    pub(crate) async fn body(&mut self) -> Result<Bytes, GatewayError> {
        let incoming = match std::mem::replace(&mut self.body, BodyState::Read(Bytes::new())) {
            BodyState::Read(bytes) => {
                self.body = BodyState::Read(bytes.clone());
                return Ok(bytes);
            }
            BodyState::Unread(incoming) => incoming,
        };
        let max = self.shared.max_body_bytes;
        let declared = self
            .parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if let Some(n) = declared.filter(|n| *n > max as u64) {
            return Err(GatewayError::new(
                ResponseType::RequestTooLarge,
                format!("content-length {n} over {max}"),
            ));
        }
        let bytes = match Limited::new(incoming, max).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                return Err(GatewayError::new(
                    ResponseType::RequestTooLarge,
                    format!("body over {max} bytes"),
                ));
            }
            Err(e) => {
                return Err(GatewayError::new(
                    ResponseType::BadRequest,
                    format!("reading the request body failed: {e}"),
                ));
            }
        };
        self.body = BodyState::Read(bytes.clone());
        Ok(bytes)
    }

    /// Reads the body and builds the handler's [`Request`] for `route`.
    pub async fn into_request(
        mut self,
        route: &'static RouteSpec,
    ) -> Result<Request, GatewayError> {
        let body = self.body().await?;
        let uri_path = self.parts.uri.path();
        let path_parameters = route
            .params
            .iter()
            .map(|p| {
                let value = if p.greedy {
                    self.path.decoded_tail(uri_path, self.skip + p.index)
                } else {
                    self.path.segment(uri_path, self.skip + p.index).to_owned()
                };
                (p.name, value)
            })
            .collect();
        let stage = self.stage().clone();
        let context = Context {
            request_id: Arc::from(self.request_id.as_str()),
            stage: stage.name,
            stage_variables: stage.variables,
            resource_path: route.resource_path,
            path: uri_path.to_owned(),
            route_method: route.method,
            path_parameters,
            source_addr: self.remote,
            received_at: self.received_at,
            api_key_id: self.api_key.as_ref().map(|k| k.entry.id.clone()),
            authorizer: self.principal.clone(),
        };
        Ok(Request {
            parts: self.parts,
            body,
            context,
        })
    }
}

/// Adds the IETF `RateLimit-Policy` / `RateLimit` headers of the limits that admitted the
/// request (nothing when none applies).
pub fn with_rate_limit(mut r: Response, limits: crate::limits::RateLimits) -> Response {
    if limits.is_empty() {
        return r;
    }
    let (policy, state) = limits.header_values();
    let h = r.headers_mut();
    if let Some(v) = policy {
        h.insert(http::HeaderName::from_static("ratelimit-policy"), v);
    }
    if let Some(v) = state {
        h.insert(http::HeaderName::from_static("ratelimit"), v);
    }
    r
}

/// Turns a handler's result into the gateway's answer: an error becomes API Gateway's failed-
/// Lambda response, and a response without `Content-Type` gets `application/json`, as API
/// Gateway's integration responses do.
pub fn handler_response(result: HandlerResult) -> Result<Response, GatewayError> {
    match result {
        Ok(mut r) => {
            if !r.headers().contains_key(header::CONTENT_TYPE) {
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    http::HeaderValue::from_static("application/json"),
                );
            }
            Ok(r)
        }
        Err(e) => Err(GatewayError::handler_failure(e.to_string())),
    }
}

pin_project_lite::pin_project! {
    /// The future of [`Exchange::cached`]: an answer known before any wait (a memory hit, a
    /// refused invalidation), the integration run as is (the route does not cache here, or the
    /// request bypasses the cache), or a miss, boxed.
    #[project = CachedProjection]
    pub enum Cached<Fut, Miss> {
        /// Known already; taken on the first poll.
        Ready { answer: Option<Result<Response, GatewayError>> },
        /// The integration itself; `bypass` marks its answer `x-tollgate-cache: bypass`.
        Fetch { #[pin] fut: Fut, bypass: bool },
        /// A miss or a shared backend's lookup.
        Miss { fut: std::pin::Pin<Box<Miss>> },
    }
}

impl<Fut, Miss> std::fmt::Debug for Cached<Fut, Miss> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Cached::Ready { .. } => "Cached::Ready",
            Cached::Fetch { .. } => "Cached::Fetch",
            Cached::Miss { .. } => "Cached::Miss",
        })
    }
}

impl<Fut, Miss> Future for Cached<Fut, Miss>
where
    Fut: Future<Output = Result<Response, GatewayError>>,
    Miss: Future<Output = Result<Response, GatewayError>>,
{
    type Output = Result<Response, GatewayError>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        match self.project() {
            // A second poll after the answer is a caller's bug; it waits forever rather
            // than panicking.
            CachedProjection::Ready { answer } => answer
                .take()
                .map_or(std::task::Poll::Pending, std::task::Poll::Ready),
            CachedProjection::Fetch { fut, bypass } => {
                let bypass = *bypass;
                fut.poll(cx).map(|r| {
                    if bypass {
                        r.map(|r| crate::cache::mark(r, "bypass"))
                    } else {
                        r
                    }
                })
            }
            CachedProjection::Miss { fut } => fut.as_mut().poll(cx),
        }
    }
}
