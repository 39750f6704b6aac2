//! The server: accept, HTTP/1.1 and HTTP/2 (h2c, by preface), stage selection, request ids,
//! gateway responses, graceful shutdown.
//!
//! Lifecycle of one request (steps of `DESIGN.md` implemented so far):
//! accept → request id → path index → stage → generated `dispatch` (route match + integration)
//! → gateway response on error → `x-amzn-RequestId` on every answer.

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::net::TcpListener;

use crate::exchange::{BodyState, Exchange, Shared};
use crate::gateway::{Flavor, Gateway, Method};
use crate::integration::http::ProxyClient;
use crate::path::PathIndex;
use crate::request_id::{ExtendedRequestId, RequestId};
use crate::response::{GatewayError, Response, ResponseType};
use crate::stage::{StageRuntime, StageVariables};

/// API Gateway's payload limit: 10 MB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// Start-up settings of a server: the deployment facts that do not belong in the binary.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    listen: SocketAddr,
    stage: Option<String>,
    at_root: bool,
    stage_variables: Vec<StageVariableOverride>,
    shutdown_grace: Duration,
    max_body_bytes: usize,
    header_read_timeout: Option<Duration>,
    store: crate::store::StoreConfig,
    clock: crate::clock::Clock,
    admin: Option<SocketAddr>,
    auth: crate::auth::AuthConfig,
}

/// A stage variable set at start-up, overriding (or adding to) the compiled ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageVariableOverride {
    /// The stage it applies to; `None` for every served stage.
    pub stage: Option<String>,
    /// Variable name.
    pub name: String,
    /// Variable value.
    pub value: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            stage: None,
            at_root: false,
            stage_variables: Vec::new(),
            shutdown_grace: Duration::from_secs(30),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            header_read_timeout: Some(Duration::from_secs(30)),
            store: crate::store::StoreConfig::default(),
            clock: crate::clock::Clock::system(),
            admin: None,
            auth: crate::auth::AuthConfig::default(),
        }
    }
}

impl ServerConfig {
    /// Address to listen on. Default `127.0.0.1:8080`; port 0 picks a free port.
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Serve only this stage. Default: every stage, each under `/{stage}/…`.
    pub fn stage(mut self, stage: impl Into<String>) -> Self {
        self.stage = Some(stage.into());
        self
    }

    /// Mount the single selected stage at `/` instead of `/{stage}/` (as a custom domain's
    /// base-path mapping does). Default `false`; needs [`ServerConfig::stage`].
    pub fn at_root(mut self, yes: bool) -> Self {
        self.at_root = yes;
        self
    }

    /// Override or add a stage variable. Default: none, the compiled values apply.
    pub fn stage_variable(mut self, o: StageVariableOverride) -> Self {
        self.stage_variables.push(o);
        self
    }

    /// How long shutdown waits for in-flight requests. Default 30 s.
    pub fn shutdown_grace(mut self, d: Duration) -> Self {
        self.shutdown_grace = d;
        self
    }

    /// Largest request body accepted (413 past it). Default 10 MiB, API Gateway's limit.
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }

    /// How long an HTTP/1.1 connection may wait for a request head (before its first request,
    /// between keep-alive requests, or while a head trickles in) before it is closed, against
    /// slow-loris clients: closed after this long and at most a quarter more (the runtime's
    /// connection watchdog checks four times per timeout). `None` turns the limit off.
    /// Default 30 s.
    pub fn header_read_timeout(mut self, d: Option<Duration>) -> Self {
        self.header_read_timeout = d;
        self
    }

    /// Where API keys, quotas, usage and (with Redis) buckets live. Default: memory, no keys.
    pub fn store(mut self, store: crate::store::StoreConfig) -> Self {
        self.store = store;
        self
    }

    /// The clock limits read. Default: the machine's; tests pass [`crate::clock::Clock::manual`].
    pub fn clock(mut self, clock: crate::clock::Clock) -> Self {
        self.clock = clock;
        self
    }

    /// IAM credentials for `auth iam` methods. Default: none (every signed request is
    /// refused with 403).
    pub fn iam_credentials(mut self, credentials: crate::auth::sigv4::Credentials) -> Self {
        self.auth.credentials = Arc::new(credentials);
        self
    }

    /// PEM CA certificates trusted, besides the webpki roots, when fetching a JWT authorizer's
    /// `jwks-uri`. Default: none.
    pub fn extra_roots(mut self, pem: Option<Vec<u8>>) -> Self {
        self.auth.extra_roots = pem.map(Arc::from);
        self
    }

    /// Serve the admin endpoint (usage, keys, health) on this loopback address. Default: off.
    pub fn admin(mut self, addr: Option<SocketAddr>) -> Self {
        self.admin = addr;
        self
    }
}

/// Why a server could not start.
#[derive(Debug)]
pub enum ServeError {
    /// Binding the listen address failed.
    Bind(SocketAddr, std::io::Error),
    /// A stage named at start-up does not exist in the API.
    UnknownStage {
        /// The name given.
        stage: String,
        /// The stages the API has.
        known: Vec<&'static str>,
    },
    /// `at_root` without a single stage to mount.
    AtRootNeedsStage,
    /// The store could not be opened.
    Store(crate::store::StoreError),
    /// The admin endpoint must listen on a loopback address.
    AdminNotLoopback(SocketAddr),
    /// An authorizer cannot be set up (its JWKS file is missing or unreadable, …).
    Auth(String),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::Bind(addr, e) => write!(f, "cannot listen on {addr}: {e}"),
            ServeError::UnknownStage { stage, known } => {
                write!(
                    f,
                    "the API has no stage `{stage}`; it has: {}",
                    known.join(", ")
                )
            }
            ServeError::AtRootNeedsStage => {
                f.write_str("mounting at the root needs one stage: pass --stage NAME")
            }
            ServeError::Store(e) => write!(f, "the store cannot be used: {e}"),
            ServeError::Auth(e) => write!(f, "authorization cannot be set up: {e}"),
            ServeError::AdminNotLoopback(addr) => write!(
                f,
                "the admin endpoint listens on loopback only; {addr} is not a loopback address \
                 (use 127.0.0.1 or [::1])"
            ),
        }
    }
}

impl std::error::Error for ServeError {}

#[derive(Debug, Clone, Copy)]
enum Mount {
    /// `/{stage}/…`; `only` restricts to one stage; `default` is an HTTP API `$default` stage
    /// serving every path no named stage claims.
    Prefix {
        only: Option<usize>,
        default: Option<usize>,
    },
    /// One stage at `/`.
    Root(usize),
}

/// A server for one generated API.
#[derive(Debug)]
pub struct Server<G> {
    gateway: G,
    config: ServerConfig,
}

impl<G: Gateway> Server<G> {
    /// A server for `gateway` with [`ServerConfig::default`].
    pub fn new(gateway: G) -> Self {
        Server {
            gateway,
            config: ServerConfig::default(),
        }
    }

    /// Replaces the configuration.
    pub fn config(mut self, config: ServerConfig) -> Self {
        self.config = config;
        self
    }

    /// Checks the configuration against the API and binds the listen address.
    pub async fn bind(self) -> Result<Bound<G>, ServeError> {
        let spec = G::SPEC;
        let known = || spec.stages.iter().map(|s| s.name).collect::<Vec<_>>();
        let find = |name: &str| spec.stages.iter().position(|s| s.name == name);
        let only = match &self.config.stage {
            Some(name) => Some(find(name).ok_or_else(|| ServeError::UnknownStage {
                stage: name.clone(),
                known: known(),
            })?),
            None => None,
        };
        for o in &self.config.stage_variables {
            if let Some(s) = &o.stage
                && find(s).is_none()
            {
                return Err(ServeError::UnknownStage {
                    stage: s.clone(),
                    known: known(),
                });
            }
        }
        let mount = if self.config.at_root {
            Mount::Root(only.ok_or(ServeError::AtRootNeedsStage)?)
        } else if only.is_some_and(|i| spec.stages[i].name == "$default") {
            Mount::Root(only.unwrap_or_default())
        } else {
            Mount::Prefix {
                only,
                default: if only.is_none() {
                    find("$default")
                } else {
                    None
                },
            }
        };
        let stages = spec
            .stages
            .iter()
            .map(|s| StageRuntime {
                name: s.name,
                variables: StageVariables::new(
                    s.variables,
                    self.config
                        .stage_variables
                        .iter()
                        .filter(|o| o.stage.as_deref().is_none_or(|n| n == s.name))
                        .map(|o| (o.name.clone(), o.value.clone())),
                ),
            })
            .collect();
        if let Some(admin) = self.config.admin
            && !admin.ip().is_loopback()
        {
            return Err(ServeError::AdminNotLoopback(admin));
        }
        let (limits, store) =
            crate::store::running::attach(spec, &self.config.store, self.config.clock.clone())
                .await
                .map_err(ServeError::Store)?;
        if spec.routes.iter().any(|r| r.api_key_required)
            && self.config.store.spec == crate::store::StoreSpec::Memory
            && self.config.store.api_keys_file.is_none()
        {
            tracing::warn!(
                "the API has methods that require an API key, but the memory store has no keys \
                 file: they answer 403 until the gateway runs with --api-keys FILE (or another store)"
            );
        }
        let caches = crate::cache::Caches::new(
            spec,
            self.config.clock.clone(),
            crate::store::cache_backend(spec, &self.config.store).map_err(ServeError::Store)?,
        );
        let shared = Arc::new(Shared {
            flavor: spec.flavor,
            api_name: spec.name,
            gateway_responses: spec.gateway_responses,
            limits,
            caches,
            auth: crate::auth::Auth::new(spec, &self.config.auth).map_err(ServeError::Auth)?,
            routes: spec.routes,
            authorizers: spec.authorizers,
            cors_any: spec.cors.is_some() || spec.routes.iter().any(|r| r.cors.is_some()),
            stages,
            client: ProxyClient::new(),
            max_body_bytes: self.config.max_body_bytes,
        });
        let listener = TcpListener::bind(self.config.listen)
            .await
            .map_err(|e| ServeError::Bind(self.config.listen, e))?;
        let local_addr = listener
            .local_addr()
            .map_err(|e| ServeError::Bind(self.config.listen, e))?;
        let admin = match self.config.admin {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|e| ServeError::Bind(addr, e))?,
            ),
            None => None,
        };
        Ok(Bound {
            listener,
            local_addr,
            inner: Arc::new(Inner {
                gateway: self.gateway,
                shared,
                mount,
            }),
            store,
            admin,
            config: self.config,
        })
    }
}

/// A server bound to its address, ready to serve.
#[derive(Debug)]
pub struct Bound<G> {
    listener: TcpListener,
    local_addr: SocketAddr,
    inner: Arc<Inner<G>>,
    store: crate::store::running::Attached,
    admin: Option<TcpListener>,
    config: ServerConfig,
}

#[derive(Debug)]
struct Inner<G> {
    gateway: G,
    shared: Arc<Shared>,
    mount: Mount,
}

impl<G: Gateway> Bound<G> {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The admin endpoint's address, when it is served.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// The URL prefixes of the served stages, e.g. `http://127.0.0.1:8080/prod`.
    pub fn stage_urls(&self) -> Vec<String> {
        let base = format!("http://{}", self.local_addr);
        let stages = &self.inner.shared.stages;
        match self.inner.mount {
            Mount::Root(_) => vec![base],
            Mount::Prefix { only: Some(i), .. } => vec![format!("{base}/{}", stages[i].name)],
            Mount::Prefix { only: None, .. } => stages
                .iter()
                .map(|s| {
                    if s.name == "$default" {
                        base.clone()
                    } else {
                        format!("{base}/{}", s.name)
                    }
                })
                .collect(),
        }
    }

    /// Serves until Ctrl-C or SIGTERM, then shuts down gracefully.
    pub async fn serve(self) -> std::io::Result<()> {
        self.serve_until(shutdown_signal()).await
    }

    /// Serves until `signal` completes, then stops accepting, lets in-flight requests finish
    /// (up to the shutdown grace period) and closes idle connections.
    pub async fn serve_until(self, signal: impl Future<Output = ()>) -> std::io::Result<()> {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        // Slow clients are handled by `crate::watchdog`, not by hyper's per-request timer.
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(None)
            .keep_alive(true);
        builder.http2().timer(TokioTimer::new());
        let builder = Arc::new(builder);
        let graceful = GracefulShutdown::new();
        tokio::pin!(signal);
        // The store's background work (key refresh, counter writes) and the admin endpoint
        // stop when the listener does; the store writes its counters one last time.
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let store_task = tokio::spawn(
            self.store
                .clone()
                .run(self.inner.shared.clone(), stop_rx.clone()),
        );
        if let Some(admin) = self.admin {
            tokio::spawn(crate::admin::serve(
                admin,
                self.inner.shared.clone(),
                self.store.clone(),
                stop_rx,
            ));
        }

        loop {
            let (stream, remote) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Running out of file descriptors and the like: back off, keep serving.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut signal => break,
            };
            let _ = stream.set_nodelay(true);
            let activity = Arc::new(crate::watchdog::Activity::default());
            let inner = self.inner.clone();
            let service = hyper::service::service_fn({
                let activity = activity.clone();
                move |req: http::Request<Incoming>| inner.handle(req, remote, activity.serving())
            });
            let io = crate::watchdog::Watched::new(stream, activity.clone());
            let conn = builder
                .serve_connection(TokioIo::new(io), service)
                .into_owned();
            let conn = graceful.watch(conn);
            let task = tokio::spawn({
                let activity = activity.clone();
                async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(%remote, error = %e, "connection ended with an error");
                    }
                    activity.close();
                }
            });
            if let Some(timeout) = self.config.header_read_timeout {
                // The watchdog lives in its own task so the connection's task never polls it.
                tokio::spawn(async move {
                    if crate::watchdog::expired(&activity, timeout).await {
                        tracing::debug!(%remote, ?timeout, "closing an idle connection");
                        task.abort();
                    }
                });
            }
        }

        drop(self.listener);
        tracing::info!("shutting down: finishing in-flight requests");
        tokio::select! {
            () = graceful.shutdown() => tracing::info!("all connections closed"),
            () = tokio::time::sleep(self.config.shutdown_grace) => {
                tracing::warn!(grace = ?self.config.shutdown_grace, "shutdown grace period over; dropping open connections");
            }
        }
        let _ = stop_tx.send(true);
        let _ = store_task.await;
        Ok(())
    }
}

/// The future hyper keeps for each request: an answer known before dispatch (an early cache
/// hit, a refusal) is a few hundred bytes; a dispatched request's future (kilobytes: the
/// exchange, the route's steps) lives in its own allocation. Hyper moves this value into the
/// connection's slot per request, so the common known answers do not pay to copy the largest.
pub(crate) enum Handled<F> {
    /// Answered before dispatch; taken on the first poll.
    Answered(Option<Response>),
    /// On its way through the route's steps.
    Dispatched(std::pin::Pin<Box<F>>),
}

impl<F: Future<Output = Response>> Future for Handled<F> {
    type Output = Result<Response, Infallible>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        // Both variants are `Unpin`: the dispatched future is pinned in its box.
        match self.get_mut() {
            // A second poll after the answer is a caller's bug; it waits forever rather than
            // panicking, as `exchange::Cached` does.
            Handled::Answered(answer) => answer
                .take()
                .map_or(std::task::Poll::Pending, |r| std::task::Poll::Ready(Ok(r))),
            Handled::Dispatched(fut) => fut.as_mut().poll(cx).map(Ok),
        }
    }
}

/// A copy of the request kept for customised gateway responses, which may map its headers and
/// parameters (boxed: most APIs have none, and the request future carries it).
struct Snapshot {
    method: http::Method,
    uri: http::Uri,
    version: http::Version,
    headers: http::HeaderMap,
    /// The stage and path, once the stage is known.
    stage_skip: Option<(usize, usize, PathIndex)>,
}

/// What the answer needs once the integration has run.
struct Finish {
    request_id: RequestId,
    extended_id: ExtendedRequestId,
    /// When the request arrived, when an exchange was built (an early hit never needs it).
    received_at: Option<SystemTime>,
    remote: SocketAddr,
    method: Method,
    /// The request's `Origin` and URI, when the API answers CORS and the request has one.
    cors_probe: Option<Box<(http::HeaderValue, http::Uri)>>,
    snapshot: Option<Box<Snapshot>>,
    /// The answer has its request-id headers already.
    ids_set: bool,
    /// The connection counts the request as in progress until this drops.
    _serving: crate::watchdog::Serving,
}

impl<G: Gateway> Inner<G> {
    /// Answers one request. The synchronous part (ids, stage, the exchange) runs before the
    /// future exists, which holds only the dispatch and what the answer needs afterwards:
    /// hyper moves every request's future, so its size is paid per request.
    fn handle(
        self: &Arc<Self>,
        req: http::Request<Incoming>,
        remote: SocketAddr,
        serving: crate::watchdog::Serving,
    ) -> Handled<impl Future<Output = Response> + Send + use<G>> {
        let request_id = RequestId::from_headers(req.headers());
        let extended_id = ExtendedRequestId::new();
        let mut received_at = None;
        let (parts, body) = req.into_parts();
        let method = Method::from_http(&parts.method);
        let mut snapshot = (!self.shared.gateway_responses.is_empty()).then(|| {
            Box::new(Snapshot {
                method: parts.method.clone(),
                uri: parts.uri.clone(),
                version: parts.version,
                headers: parts.headers.clone(),
                stage_skip: None,
            })
        });
        // CORS headers go on every answer to an allowed origin, errors included.
        let cors_probe = if self.shared.cors_any {
            parts
                .headers
                .get(http::header::ORIGIN)
                .map(|o| Box::new((o.clone(), parts.uri.clone())))
        } else {
            None
        };
        // An early hit carries the request ids already.
        let mut ids_set = false;
        // The exchange to dispatch, or the answer already known (a refusal, an early hit).
        let routed: Result<Exchange, Result<Response, GatewayError>> =
            match PathIndex::parse(parts.uri.path()) {
                Err(e) => Err(Err(GatewayError::new(
                    ResponseType::BadRequest,
                    e.to_string(),
                ))),
                Ok(path) => match self.select_stage(&path, parts.uri.path()) {
                    None => Err(Err(GatewayError::no_route())),
                    Some((stage, skip))
                        if method == Method::Get
                            && let Some(hit) = self.early_hit(
                                &parts,
                                &path,
                                stage,
                                skip,
                                (&request_id, &extended_id),
                            ) =>
                    {
                        ids_set = true;
                        Err(Ok(hit))
                    }
                    Some((stage, skip)) => {
                        if let Some(s) = &mut snapshot {
                            s.stage_skip = Some((stage, skip, path.clone()));
                        }
                        let now = SystemTime::now();
                        received_at = Some(now);
                        Ok(Exchange {
                            parts,
                            body: BodyState::Unread(body),
                            json: None,
                            path,
                            skip,
                            method,
                            stage,
                            request_id,
                            extended_id,
                            remote,
                            received_at: now,
                            api_key: None,
                            principal: None,
                            shared: self.shared.clone(),
                        })
                    }
                },
            };
        let finish = Finish {
            request_id,
            extended_id,
            received_at,
            remote,
            method,
            cors_probe,
            snapshot,
            ids_set,
            _serving: serving,
        };
        match routed {
            Ok(ex) => {
                let this = self.clone();
                Handled::Dispatched(Box::pin(async move {
                    let result = this.gateway.dispatch(ex).await;
                    this.finish(result, finish)
                }))
            }
            Err(known) => Handled::Answered(Some(self.finish(known, finish))),
        }
    }

    /// A memory-cache hit for a GET, found before the request is dispatched: only on a
    /// stage with a memory cache, for a route where nothing runs before the cache lookup
    /// ([`crate::gateway::RouteSpec::plain`]). Skipping the exchange and the dispatch future
    /// is most of what a hit costs beyond hyper (`BENCHMARKS.md`, response cache).
    fn early_hit(
        &self,
        parts: &http::request::Parts,
        path: &PathIndex,
        stage: usize,
        skip: usize,
        ids: (&RequestId, &ExtendedRequestId),
    ) -> Option<Response> {
        let caches = &self.shared.caches;
        if !caches.in_memory(stage) {
            return None;
        }
        let segments = path.segments(parts.uri.path(), skip);
        let route = G::route_of(Method::Get, segments.as_slice())?;
        if !self.shared.routes.get(route)?.plain {
            return None;
        }
        caches.early_hit(stage, route, &parts.headers, ids)
    }

    /// The answer: the integration's, or the gateway response for `e`; then request ids,
    /// CORS headers, and no body for HEAD.
    fn finish(&self, result: Result<Response, GatewayError>, f: Finish) -> Response {
        let flavor = self.shared.flavor;
        let mut response = match result {
            Ok(r) => r,
            Err(e) => {
                log_gateway_error(&e, f.request_id, flavor);
                let custom = f.snapshot.and_then(|snapshot| {
                    let Snapshot {
                        method,
                        uri,
                        version,
                        headers,
                        stage_skip,
                    } = *snapshot;
                    let (stage, skip, path) = stage_skip.unwrap_or((0, 0, PathIndex::default()));
                    let mut parts = http::Request::new(()).into_parts().0;
                    parts.method = method;
                    parts.uri = uri;
                    parts.version = version;
                    parts.headers = headers;
                    // The request as a customised response's mapping sees it (body gone).
                    let shadow = Exchange {
                        parts,
                        body: BodyState::Read(bytes::Bytes::new()),
                        json: None,
                        path,
                        skip,
                        method: f.method,
                        stage,
                        request_id: f.request_id,
                        extended_id: f.extended_id,
                        remote: f.remote,
                        received_at: f.received_at.unwrap_or_else(SystemTime::now),
                        api_key: None,
                        principal: None,
                        shared: self.shared.clone(),
                    };
                    crate::mapping::custom_for(&shadow, &e, flavor)
                });
                custom.unwrap_or_else(|| e.into_response(flavor))
            }
        };
        if !f.ids_set {
            let headers = response.headers_mut();
            headers.insert(
                &crate::request_id::REQUEST_ID_HEADER,
                f.request_id.header_value(),
            );
            if flavor == Flavor::Rest {
                headers.insert(
                    &crate::request_id::EXTENDED_ID_HEADER,
                    f.extended_id.header_value(),
                );
            }
        }
        if let Some(probe) = f.cors_probe
            && !response
                .headers()
                .contains_key(http::header::ACCESS_CONTROL_ALLOW_ORIGIN)
        {
            let (origin, uri) = *probe;
            if let Some(cors) = self.cors_for(f.method, &uri) {
                cors.decorate(&origin, response.headers_mut());
            }
        }
        if f.method == Method::Head {
            strip_body(&mut response);
        }
        response
    }

    /// The CORS configuration for a request: its route's resource's, else the API's.
    fn cors_for(&self, method: Method, uri: &http::Uri) -> Option<&'static crate::cors::CorsSpec> {
        let spec = G::SPEC;
        let route = PathIndex::parse(uri.path()).ok().and_then(|path| {
            let (_, skip) = self.select_stage(&path, uri.path())?;
            let segments = path.segments(uri.path(), skip);
            // A method the resource lacks still answers with the resource's CORS settings.
            G::route_of(method, segments.as_slice()).or_else(|| {
                [
                    Method::Get,
                    Method::Post,
                    Method::Put,
                    Method::Patch,
                    Method::Delete,
                    Method::Head,
                ]
                .into_iter()
                .find_map(|m| G::route_of(m, segments.as_slice()))
            })
        });
        match route {
            // A preflight answer carries its own headers.
            Some(r) if r >= spec.routes.len() => None,
            Some(r) => spec.routes[r].cors.or(spec.cors),
            None => spec.cors,
        }
    }

    fn select_stage(&self, path: &PathIndex, raw: &str) -> Option<(usize, usize)> {
        match self.mount {
            Mount::Root(stage) => Some((stage, 0)),
            Mount::Prefix { only, default } => {
                let named = (!path.is_empty())
                    .then(|| G::stage_index(path.segment(raw, 0)))
                    .flatten()
                    .filter(|&i| only.is_none_or(|o| o == i))
                    .filter(|&i| self.shared.stages[i].name != "$default");
                match named {
                    Some(i) => Some((i, 1)),
                    None => default.map(|d| (d, 0)),
                }
            }
        }
    }
}

/// A HEAD response carries the headers of the GET it mirrors but no body (RFC 9110 §9.3.2);
/// HTTP/2 clients reset a stream that sends one. The length it would have had is kept.
fn strip_body(response: &mut Response) {
    use http_body::Body as _;
    if let Some(len) = response.body().size_hint().exact()
        && !response
            .headers()
            .contains_key(http::header::CONTENT_LENGTH)
    {
        response
            .headers_mut()
            .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(len));
    }
    *response.body_mut() = crate::response::Body::Empty;
}

fn log_gateway_error(e: &GatewayError, request_id: RequestId, flavor: Flavor) {
    let (status, _, _) = e.parts(flavor);
    if status.is_server_error() {
        tracing::warn!(%request_id, status = status.as_u16(), error = %e, "gateway response");
    } else {
        tracing::debug!(%request_id, status = status.as_u16(), error = %e, "gateway response");
    }
}

/// Completes on Ctrl-C, or on SIGTERM on Unix.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
