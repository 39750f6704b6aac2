//! Support for tollgate's end-to-end tests: the test APIs compiled from `apis/*.kdl`, servers on
//! `127.0.0.1:0`, real HTTP clients (hyper's, over HTTP/1.1 and h2c prior knowledge), a real
//! upstream server, and raw TCP for requests no well-behaved client sends.

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, Version};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tollgate::{Gateway, HandlerResult, Request, ServerConfig, response};

/// The APIs compiled by this crate's build script.
pub mod apis {
    /// `apis/rest.kdl`
    pub mod rest {
        tollgate::include_api!("rest");
    }
    /// `apis/http.kdl`
    pub mod http {
        tollgate::include_api!("http");
    }
    /// `apis/validation.kdl`
    pub mod validation {
        tollgate::include_api!("shop");
    }
    /// `apis/detailed.kdl`
    pub mod detailed {
        tollgate::include_api!("detailed");
    }
    /// `apis/templates.kdl`
    pub mod templates {
        tollgate::include_api!("templates");
    }
    /// `apis/throttle.kdl`
    pub mod throttle {
        tollgate::include_api!("limits");
    }
    /// `apis/account.kdl`
    pub mod account {
        tollgate::include_api!("account");
    }
    /// `apis/keys.kdl`
    pub mod keys {
        tollgate::include_api!("keys");
    }
    /// `apis/cache.kdl`
    pub mod cache {
        tollgate::include_api!("cached");
    }
    /// `apis/auth.kdl`
    pub mod auth {
        tollgate::include_api!("guarded");
    }
}

mod auth;
pub use auth::{AuthHandlers, Jwt};

/// Handlers of the cache test API: each call is numbered, so a cached answer shows the number
/// of the call that made it.
#[derive(Debug, Default, Clone)]
pub struct CacheHandlers {
    calls: Arc<AtomicUsize>,
}

impl CacheHandlers {
    /// How many times handlers ran.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn answer(&self, request: &Request, extra: serde_json::Value) -> HandlerResult {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let pad = request
            .query("pad")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(0);
        let mut r = response::json(
            StatusCode::OK,
            &serde_json::json!({
                "call": call,
                "path": request.uri().path(),
                "extra": extra,
                "pad": "x".repeat(pad),
            }),
        );
        r.headers_mut()
            .insert("x-from", http::HeaderValue::from_static("handler"));
        Ok(r)
    }
}

impl apis::cache::Cached for CacheHandlers {
    async fn counter(&self, request: Request) -> HandlerResult {
        self.answer(&request, serde_json::Value::Null)
    }

    async fn item(&self, request: Request, id: String) -> HandlerResult {
        self.answer(&request, serde_json::json!({ "id": id }))
    }

    async fn big(&self, request: Request) -> HandlerResult {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let _ = request;
        Ok(response::text(StatusCode::OK, vec![b'b'; 1_048_577]))
    }

    async fn slow(&self, request: Request) -> HandlerResult {
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.answer(&request, serde_json::Value::Null)
    }

    async fn whoami(&self, request: Request) -> HandlerResult {
        let id = request.context().api_key_id.as_deref().map(str::to_owned);
        self.answer(&request, serde_json::json!({ "apiKeyId": id }))
    }
}

/// Handlers of the keys test API: `whoami` answers with the key id the gateway admitted.
#[derive(Debug, Default)]
pub struct KeysHandlers;

impl apis::keys::Keys for KeysHandlers {
    async fn whoami(&self, request: Request) -> HandlerResult {
        Ok(response::json(
            StatusCode::OK,
            &serde_json::json!({ "apiKeyId": request.context().api_key_id.as_deref() }),
        ))
    }
}

/// Handlers of the validation test API: `create_item` echoes the typed body it received.
#[derive(Debug, Default)]
pub struct ShopHandlers;

impl apis::validation::Shop for ShopHandlers {
    async fn create_item(
        &self,
        request: Request,
        body: apis::validation::models::NewItem,
    ) -> HandlerResult {
        Ok(response::json(
            StatusCode::CREATED,
            &serde_json::json!({
                "tenant": request.header("x-tenant"),
                "item": body,
                "nameLength": body.name.len(),
            }),
        ))
    }
}

/// Handlers of the REST test API: they report what they received.
#[derive(Debug, Default)]
pub struct RestHandlers;

impl apis::rest::Rest for RestHandlers {
    async fn list_items(&self, request: Request) -> HandlerResult {
        let c = request.context();
        Ok(response::json(
            StatusCode::OK,
            &serde_json::json!({
                "items": [],
                "stage": c.stage,
                "resourcePath": c.resource_path,
                "path": c.path,
                "requestId": &*c.request_id,
                "upstream": c.stage_variables.get("upstream"),
                "q": request.query("q"),
            }),
        ))
    }

    async fn get_item(&self, request: Request, id: u32) -> HandlerResult {
        Ok(response::json(
            StatusCode::OK,
            &serde_json::json!({ "id": id, "raw": request.context().path_parameter("id") }),
        ))
    }

    async fn fail(&self, _request: Request, _id: u32) -> HandlerResult {
        Err("the handler failed on purpose".into())
    }

    async fn file(&self, request: Request, path: String) -> HandlerResult {
        Ok(response::json(
            StatusCode::OK,
            &serde_json::json!({ "path": path, "resourcePath": request.context().resource_path }),
        ))
    }

    async fn echo(&self, request: Request) -> HandlerResult {
        let mut r = tollgate::response::text(StatusCode::OK, request.body().clone());
        r.headers_mut().insert(
            "x-method",
            http::HeaderValue::from_str(request.method().as_str())?,
        );
        Ok(r)
    }
}

/// Handlers of the HTTP-flavour test API.
#[derive(Debug, Default)]
pub struct HttpHandlers;

impl apis::http::Http for HttpHandlers {
    async fn get_pet(&self, request: Request, id: String) -> HandlerResult {
        Ok(response::json(
            StatusCode::OK,
            &serde_json::json!({ "id": id, "stage": request.context().stage }),
        ))
    }
}

/// A gateway running in this process.
#[derive(Debug)]
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its admin endpoint, when configured.
    pub admin: Option<SocketAddr>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// `http://ADDR{path}`
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Starts the graceful shutdown without waiting for it.
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }

    /// Shuts down gracefully and waits until the server has stopped.
    pub async fn stop(mut self) {
        self.begin_shutdown();
        let _ = (&mut self.task).await;
    }

    /// Waits for a shutdown begun with [`Running::begin_shutdown`].
    pub async fn stopped(self) {
        let _ = self.task.await;
    }
}

/// Serves `api` on `127.0.0.1:0` with `config` (its listen address is replaced).
pub async fn start<G: Gateway>(api: G, config: ServerConfig) -> Running {
    let bound = tollgate::Server::new(api)
        .config(config.listen(SocketAddr::from(([127, 0, 0, 1], 0))))
        .bind()
        .await
        .expect("bind the gateway");
    let addr = bound.local_addr();
    let admin = bound.admin_addr();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        bound
            .serve_until(async {
                let _ = rx.await;
            })
            .await
            .expect("serve");
    });
    Running {
        addr,
        admin,
        stop: Some(tx),
        task,
    }
}

/// HTTP/1.1 or HTTP/2 (cleartext, prior knowledge).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    /// HTTP/1.1
    Http1,
    /// HTTP/2 over cleartext (h2c prior knowledge)
    Http2,
}

/// Both protocols, for tests that must hold over each.
pub const PROTOCOLS: [Proto; 2] = [Proto::Http1, Proto::Http2];

/// A real HTTP client: hyper's pooled client, one per protocol.
#[derive(Debug, Clone)]
pub struct Client {
    h1: HyperClient<HttpConnector, Full<Bytes>>,
    h2: HyperClient<HttpConnector, Full<Bytes>>,
}

impl Default for Client {
    fn default() -> Self {
        Client::new()
    }
}

/// A response, fully read.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: Bytes,
    /// Protocol version of the response.
    pub version: Version,
}

impl Reply {
    /// The body as UTF-8 text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.text()))
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Client {
    /// A client for both protocols.
    pub fn new() -> Client {
        let h1 = HyperClient::builder(TokioExecutor::new()).build(HttpConnector::new());
        let h2 = HyperClient::builder(TokioExecutor::new())
            .http2_only(true)
            .build(HttpConnector::new());
        Client { h1, h2 }
    }

    /// Sends `req` over `proto` and reads the whole response.
    pub async fn send(&self, proto: Proto, req: http::Request<Full<Bytes>>) -> Reply {
        let client = match proto {
            Proto::Http1 => &self.h1,
            Proto::Http2 => &self.h2,
        };
        let resp = client
            .request(req)
            .await
            .expect("the request reaches the gateway");
        let (parts, body) = resp.into_parts();
        let body = body.collect().await.expect("read the body").to_bytes();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body,
            version: parts.version,
        }
    }

    /// `method url` with `body` and `headers`.
    pub async fn request(
        &self,
        proto: Proto,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Reply {
        let mut req = http::Request::builder().method(method).uri(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(
            proto,
            req.body(Full::new(body.into())).expect("valid request"),
        )
        .await
    }

    /// `GET url`.
    pub async fn get(&self, proto: Proto, url: &str) -> Reply {
        self.request(proto, Method::GET, url, &[], Bytes::new())
            .await
    }
}

/// A real upstream HTTP server for http-proxy tests.
///
/// It answers every request with a JSON echo — `method`, `path`, `query`, `headers`, `body` —
/// and a few headers a gateway must remap (`www-authenticate`, `server`). `?sleep_ms=N` delays
/// the answer; a path ending in `/status/NNN` answers that status; a path ending in `/raw`
/// answers the request body verbatim.
#[derive(Debug)]
pub struct Upstream {
    /// Where it listens.
    pub addr: SocketAddr,
    hits: Arc<AtomicUsize>,
    stop: Option<oneshot::Sender<()>>,
}

impl Upstream {
    /// Starts one on `127.0.0.1:0`.
    pub async fn start() -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind upstream");
        let addr = listener.local_addr().expect("upstream addr");
        let hits = Arc::new(AtomicUsize::new(0));
        let (tx, mut rx) = oneshot::channel::<()>();
        let counter = hits.clone();
        tokio::spawn(async move {
            loop {
                let (stream, _) = tokio::select! {
                    a = listener.accept() => match a { Ok(a) => a, Err(_) => continue },
                    _ = &mut rx => break,
                };
                let counter = counter.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let counter = counter.clone();
                        async move { Ok::<_, Infallible>(echo(req, counter).await) }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Upstream {
            addr,
            hits,
            stop: Some(tx),
        }
    }

    /// `http://ADDR`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received so far (counted on arrival, before any delay).
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

async fn echo(
    req: http::Request<hyper::body::Incoming>,
    hits: Arc<AtomicUsize>,
) -> http::Response<Full<Bytes>> {
    hits.fetch_add(1, Ordering::SeqCst);
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    if parts.uri.path().ends_with("/raw") {
        return http::Response::builder()
            .header("content-type", "application/json")
            .body(Full::new(body))
            .expect("valid response");
    }
    let query = parts.uri.query().unwrap_or("").to_owned();
    if let Some(ms) = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("sleep_ms="))
        .and_then(|v| v.parse::<u64>().ok())
    {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let status = parts
        .uri
        .path()
        .rsplit_once("/status/")
        .and_then(|(_, s)| s.parse::<u16>().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let headers: serde_json::Map<String, serde_json::Value> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into(),
            )
        })
        .collect();
    let echo = serde_json::json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": query,
        "headers": headers,
        "body": String::from_utf8_lossy(&body),
    });
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-upstream", "yes")
        .header("www-authenticate", "Basic realm=\"up\"")
        .header("server", "upstream/1.0")
        .body(Full::new(Bytes::from(echo.to_string())))
        .expect("valid response")
}

/// A loopback port with nothing listening on it.
pub async fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    port
}

/// Writes `bytes` to a fresh connection and reads until the server closes it (or 5 s pass).
pub async fn raw(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(bytes).await.expect("write");
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// The status code of a raw HTTP/1.1 response.
pub fn raw_status(response: &str) -> Option<u16> {
    response.split_whitespace().nth(1)?.parse().ok()
}

/// A directory under the system's temp dir, removed on drop.
#[derive(Debug)]
pub struct TempDir(std::path::PathBuf);

impl TempDir {
    /// A fresh, empty directory.
    pub fn new(label: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "tollgate-{label}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        TempDir(dir)
    }

    /// `dir/name`
    pub fn join(&self, name: &str) -> std::path::PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Creates an API key in `store` (created at `now_ms`); returns its id and value.
pub fn create_key(
    store: &mut dyn tollgate::store::KeyStore,
    name: &str,
    plans: &[&str],
    now_ms: u64,
) -> (String, String) {
    let (key, value) = tollgate::store::create_key(
        store,
        tollgate::store::NewKey {
            name: name.to_owned(),
            enabled: true,
            plans: plans.iter().map(|p| (*p).to_owned()).collect(),
            ..Default::default()
        },
        now_ms,
    )
    .expect("create an API key");
    (key.id, value)
}

/// A `redis-server` of this test's own on a free loopback port, stopped on drop.
///
/// [`RedisServer::start`] returns `None` with a message on stderr when `redis-server` is not
/// installed, so the test can skip; under CI (`CI=true`) a missing `redis-server` fails instead.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<std::process::Child>,
    /// Its port.
    pub port: u16,
    dir: TempDir,
}

impl RedisServer {
    /// Starts one, or explains why it cannot.
    pub fn start(test: &str) -> Option<RedisServer> {
        let found = std::process::Command::new("redis-server")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{test}: redis-server is not installed, and CI=true requires it");
            }
            eprintln!(
                "SKIPPED {test}: redis-server is not installed (Debian: apt-get install redis-server)"
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut server = RedisServer {
            child: None,
            port,
            dir: TempDir::new("redis"),
        };
        server.restart();
        Some(server)
    }

    /// `redis://127.0.0.1:PORT/0`
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Kills the server (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the server again on the same port (empty: it keeps nothing on disk).
    pub fn restart(&mut self) {
        self.kill();
        let child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir.0)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                use std::io::{Read, Write};
                let mut buf = [0u8; 7];
                if s.write_all(b"PING\r\n").is_ok()
                    && s.read_exact(&mut buf).is_ok()
                    && &buf == b"+PONG\r\n"
                {
                    return;
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A gateway *process* (this crate's `e2e-gateway` binary serving `apis/keys.kdl`), killed on
/// drop.
#[derive(Debug)]
pub struct GatewayProcess {
    child: std::process::Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its admin endpoint, when started with `--admin`.
    pub admin: Option<SocketAddr>,
}

impl GatewayProcess {
    /// Starts `binary` with `args` (plus `--listen 127.0.0.1:0`) and waits until it listens.
    pub fn spawn(binary: &str, args: &[&str]) -> GatewayProcess {
        GatewayProcess::spawn_env(binary, &[], args)
    }

    /// [`GatewayProcess::spawn`] with environment variables (`E2E_API=cache` picks the API).
    pub fn spawn_env(binary: &str, env: &[(&str, &str)], args: &[&str]) -> GatewayProcess {
        use std::io::BufRead;
        let mut child = std::process::Command::new(binary)
            .envs(env.iter().copied())
            .args(["--listen", "127.0.0.1:0", "--log", "warn"])
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("start the gateway binary");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = std::io::BufReader::new(stdout).lines();
        let mut addr = None;
        let mut admin = None;
        for line in lines.by_ref() {
            let line = line.expect("read the gateway's stdout");
            if let Some(a) = line.strip_prefix("listening on http://") {
                addr = Some(a.parse().expect("an address"));
            }
            if let Some(a) = line.strip_prefix("admin on http://") {
                admin = Some(a.parse().expect("an address"));
            }
            let wants_admin = args.contains(&"--admin");
            if addr.is_some() && (admin.is_some() || !wants_admin) {
                break;
            }
        }
        // Keep draining stdout so the gateway never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        GatewayProcess {
            child,
            addr: addr.expect("the gateway printed where it listens"),
            admin,
        }
    }

    /// `http://ADDR{path}`
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Kills it with SIGKILL: no shutdown, no last write of counters.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops it with SIGTERM and waits for a clean exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().expect("wait for the gateway")
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What [`hammer`] counted.
#[derive(Debug, Clone, Copy)]
pub struct Hammered {
    /// 200 answers.
    pub admitted: usize,
    /// 429 answers.
    pub refused: usize,
    /// From the first request to the last answer.
    pub seconds: f64,
}

impl Hammered {
    /// Asserts that the clients outran the limit and that it admitted `burst + rate·t`
    /// within ±2 %.
    pub fn assert_burst_plus_rate(&self, rate: f64, burst: f64, what: &str) {
        let expected = burst + rate * self.seconds;
        eprintln!(
            "{what}: admitted {}, refused {}, expected {expected:.1} over {:.3} s",
            self.admitted, self.refused, self.seconds
        );
        assert!(self.refused > 0, "the clients must outrun the limit");
        assert!(
            (self.admitted as f64 - expected).abs() <= 0.02 * expected,
            "{what}: admitted {}, expected {expected:.1} ± 2 % over {:.3} s",
            self.admitted,
            self.seconds
        );
    }
}

/// `clients` concurrent clients (HTTP/1.1 and h2c alternately; client `i` on `urls[i % n]`)
/// send `GET` with `headers` until `run` has passed. 200 counts as admitted, 429 as refused;
/// anything else fails the test.
pub async fn hammer(
    urls: &[String],
    headers: &[(&str, &str)],
    clients: usize,
    run: Duration,
) -> Hammered {
    let admitted = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let headers: Arc<Vec<(String, String)>> = Arc::new(
        headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    );
    let first = std::time::Instant::now();
    let mut tasks = Vec::new();
    for i in 0..clients {
        let (admitted, refused, headers) = (admitted.clone(), refused.clone(), headers.clone());
        let url = urls[i % urls.len()].clone();
        tasks.push(tokio::spawn(async move {
            let c = Client::new();
            let proto = if i % 2 == 0 {
                Proto::Http1
            } else {
                Proto::Http2
            };
            let h: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let mut last = std::time::Instant::now();
            while first.elapsed() < run {
                let r = c.request(proto, Method::GET, &url, &h, Bytes::new()).await;
                last = std::time::Instant::now();
                match r.status {
                    StatusCode::OK => admitted.fetch_add(1, Ordering::Relaxed),
                    StatusCode::TOO_MANY_REQUESTS => refused.fetch_add(1, Ordering::Relaxed),
                    other => panic!("unexpected {other}: {}", r.text()),
                };
            }
            last
        }));
    }
    let mut last = first;
    for t in tasks {
        last = last.max(t.await.expect("client task"));
    }
    Hammered {
        admitted: admitted.load(Ordering::Relaxed),
        refused: refused.load(Ordering::Relaxed),
        seconds: (last - first).as_secs_f64(),
    }
}
