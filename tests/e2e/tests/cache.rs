//! Response caching through the gateway, on the memory cache (`apis/cache.kdl`): hits and
//! misses with and without cache-key parameters, TTL expiry on an injected clock, capacity
//! eviction, what is never cached, `Cache-Control: max-age=0` under each strategy, keys that
//! keep two clients' answers apart, stampede protection, flushing, and the hit/miss counts.

use http::{Method, StatusCode};
use std::sync::Arc;
use std::time::Duration;
use tollgate::clock::{Clock, ManualClock};
use tollgate::store::{StoreConfig, StoreSpec};
use tollgate::{ServerConfig, StageVariableOverride};
use tollgate_e2e::apis::cache::CachedApi;
use tollgate_e2e::{
    CacheHandlers, Client, PROTOCOLS, Proto, Reply, Running, TempDir, Upstream, start,
};

struct Setup {
    gw: Running,
    handlers: CacheHandlers,
    clock: Arc<ManualClock>,
    c: Client,
    _dir: TempDir,
    keys_file: std::path::PathBuf,
}

async fn setup(upstream: Option<&Upstream>) -> Setup {
    let dir = TempDir::new("cache");
    let keys_file = dir.join("keys.json");
    let handlers = CacheHandlers::default();
    let (clock, handle) = Clock::manual(1_795_867_200_000);
    let mut config = ServerConfig::default()
        .clock(clock)
        .admin(Some(([127, 0, 0, 1], 0).into()))
        .store(StoreConfig {
            spec: StoreSpec::Memory,
            api_keys_file: Some(keys_file.clone()),
            ..Default::default()
        });
    if let Some(up) = upstream {
        config = config.stage_variable(StageVariableOverride {
            stage: None,
            name: "upstream".into(),
            value: up.url(),
        });
    }
    let gw = start(CachedApi::new(handlers.clone()), config).await;
    Setup {
        gw,
        handlers,
        clock: handle,
        c: Client::new(),
        _dir: dir,
        keys_file,
    }
}

impl Setup {
    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.c
            .request(
                Proto::Http1,
                Method::GET,
                &self.gw.url(path),
                headers,
                Vec::new(),
            )
            .await
    }

    async fn admin(&self, method: Method, path: &str) -> Reply {
        let admin = self.gw.admin.expect("an admin endpoint");
        self.c
            .request(
                Proto::Http1,
                method,
                &format!("http://{admin}{path}"),
                &[],
                Vec::new(),
            )
            .await
    }
}

fn call(r: &Reply) -> u64 {
    r.json()["call"]
        .as_u64()
        .unwrap_or_else(|| panic!("no call in {}", r.text()))
}

fn cache(r: &Reply) -> Option<&str> {
    r.header("x-tollgate-cache")
}

#[tokio::test]
async fn a_second_get_is_a_hit_and_path_and_query_are_not_in_the_key() {
    let s = setup(None).await;
    for proto in PROTOCOLS {
        let url = s.gw.url("/test/counter");
        let first = s.c.get(proto, &url).await;
        let second = s.c.get(proto, &url).await;
        assert_eq!(second.status, StatusCode::OK);
        assert_eq!(second.body, first.body, "{proto:?}");
        assert_eq!(cache(&second), Some("hit"));
        // The integration's headers come back with the body.
        assert_eq!(second.header("x-from"), Some("handler"));
        assert_eq!(second.header("content-type"), Some("application/json"));
        assert!(second.header("x-amzn-requestid").is_some());
        assert_ne!(
            second.header("x-amzn-requestid"),
            first.header("x-amzn-requestid")
        );
    }
    assert_eq!(s.handlers.calls(), 1, "one integration call for four GETs");
    // A hit answered before dispatch (nothing runs before this route's cache) carries the same
    // ids as any answer: the client's own request id, a fresh extended id.
    let mine = "C0FFEE00-1234-4abc-8def-0123456789AB";
    let r = s.get("/test/counter", &[("x-amzn-RequestId", mine)]).await;
    assert_eq!(cache(&r), Some("hit"));
    assert_eq!(
        r.header("x-amzn-requestid"),
        Some(&*mine.to_ascii_lowercase())
    );
    assert_eq!(r.header("x-amz-apigw-id").map(str::len), Some(16));
    assert_eq!(r.header("x-from"), Some("handler"));
    // A query parameter that is not a cache key does not make another entry.
    let r = s.get("/test/counter?page=2", &[]).await;
    assert_eq!((cache(&r), call(&r)), (Some("hit"), 1));
    // Path parameters are not in the key either, unless listed: every item shares one entry.
    let a = s.get("/test/items/1", &[]).await;
    let b = s.get("/test/items/2", &[]).await;
    assert_eq!(cache(&b), Some("hit"));
    assert_eq!(a.body, b.body);
    // … and with `key "path.id"`, each id has its own.
    let a = s.get("/test/items/1/detail", &[]).await;
    let b = s.get("/test/items/2/detail", &[]).await;
    assert_eq!((cache(&a), cache(&b)), (Some("miss"), Some("miss")));
    assert_ne!(call(&a), call(&b));
    assert_eq!(
        cache(&s.get("/test/items/1/detail", &[]).await),
        Some("hit")
    );
}

#[tokio::test]
async fn key_parameters_from_the_query_string_and_headers_make_separate_entries() {
    let s = setup(None).await;
    let a = s.get("/test/keyed?type=admin&department=A", &[]).await;
    assert_eq!(cache(&a), Some("miss"));
    // API Gateway's example: with `type` the only key, another department shares the entry.
    let b = s.get("/test/keyed?type=admin&department=B", &[]).await;
    assert_eq!((cache(&b), call(&b)), (Some("hit"), call(&a)));
    let c = s.get("/test/keyed?type=user", &[]).await;
    assert_eq!(cache(&c), Some("miss"));
    // Query-string names are case-sensitive; a missing key parameter is its own value.
    let d = s.get("/test/keyed?TYPE=admin", &[]).await;
    assert_eq!(cache(&d), Some("miss"));
    let e = s.get("/test/keyed", &[]).await;
    assert_eq!(
        cache(&e),
        Some("hit"),
        "no `type` is the same key as no `type`"
    );
    // Header names are not case-sensitive; values are.
    let t1 = s.get("/test/keyed?type=admin", &[("x-tenant", "t1")]).await;
    assert_eq!(cache(&t1), Some("miss"));
    let t1b = s.get("/test/keyed?type=admin", &[("X-TENANT", "t1")]).await;
    assert_eq!((cache(&t1b), call(&t1b)), (Some("hit"), call(&t1)));
    let t2 = s.get("/test/keyed?type=admin", &[("x-tenant", "T1")]).await;
    assert_eq!(cache(&t2), Some("miss"));
}

#[tokio::test]
async fn entries_expire_after_their_ttl() {
    let s = setup(None).await;
    // /short has ttl=1; the stage default is 60 s.
    let first = s.get("/test/short", &[]).await;
    s.clock.advance(Duration::from_millis(999));
    assert_eq!(cache(&s.get("/test/short", &[]).await), Some("hit"));
    s.clock.advance(Duration::from_millis(1));
    let r = s.get("/test/short", &[]).await;
    assert_eq!(cache(&r), Some("miss"));
    assert_ne!(call(&r), call(&first));
    let c1 = s.get("/test/counter", &[]).await;
    s.clock.advance(Duration::from_secs(59));
    assert_eq!(call(&s.get("/test/counter", &[]).await), call(&c1));
    s.clock.advance(Duration::from_secs(1));
    assert_eq!(cache(&s.get("/test/counter", &[]).await), Some("miss"));
}

#[tokio::test]
async fn a_full_cache_evicts_the_least_recently_used_entries() {
    let s = setup(None).await;
    // Stage `small` holds 6000 bytes; each answer here is about 1.2 KB.
    for t in 0..10 {
        let r = s.get(&format!("/small/keyed?type={t}&pad=1000"), &[]).await;
        assert_eq!(cache(&r), Some("miss"));
    }
    // The latest entries are there, the first ones are gone.
    assert_eq!(
        cache(&s.get("/small/keyed?type=9&pad=1000", &[]).await),
        Some("hit")
    );
    assert_eq!(
        cache(&s.get("/small/keyed?type=0&pad=1000", &[]).await),
        Some("miss")
    );
    assert_eq!(
        cache(&s.get("/small/keyed?type=1&pad=1000", &[]).await),
        Some("miss")
    );
}

#[tokio::test]
async fn eviction_reaches_the_answers_given_before_dispatch() {
    let s = setup(None).await;
    // GET /counter is answered before dispatch on a hit (nothing runs before its cache):
    // evicting its entry must end those hits too.
    let first = s.get("/small/counter", &[]).await;
    assert_eq!(cache(&first), Some("miss"));
    let hit = s.get("/small/counter", &[]).await;
    assert_eq!((cache(&hit), call(&hit)), (Some("hit"), call(&first)));
    for t in 0..10 {
        s.get(&format!("/small/keyed?type={t}&pad=1000"), &[]).await;
    }
    let r = s.get("/small/counter", &[]).await;
    assert_eq!(
        cache(&r),
        Some("miss"),
        "the least recently used entry is gone"
    );
    assert_ne!(call(&r), call(&first));
    // The entry stored again is the one hits get.
    let again = s.get("/small/counter", &[]).await;
    assert_eq!((cache(&again), call(&again)), (Some("hit"), call(&r)));
}

#[tokio::test]
async fn what_is_never_cached() {
    let up = Upstream::start().await;
    let s = setup(Some(&up)).await;
    // POST without opting in; a GET that opts out; a stage without a cache.
    for (method, path) in [
        (Method::POST, "/test/counter"),
        (Method::GET, "/test/off"),
        (Method::GET, "/nocache/counter"),
    ] {
        let a =
            s.c.request(
                Proto::Http1,
                method.clone(),
                &s.gw.url(path),
                &[],
                Vec::new(),
            )
            .await;
        let b =
            s.c.request(Proto::Http1, method, &s.gw.url(path), &[], Vec::new())
                .await;
        assert_ne!(call(&a), call(&b), "{path}");
        assert_eq!(cache(&b), None, "{path}");
    }
    // A POST that opts in is cached.
    let a =
        s.c.request(
            Proto::Http1,
            Method::POST,
            &s.gw.url("/test/posted"),
            &[],
            "x",
        )
        .await;
    let b =
        s.c.request(
            Proto::Http1,
            Method::POST,
            &s.gw.url("/test/posted"),
            &[],
            "y",
        )
        .await;
    assert_eq!((call(&a), cache(&b)), (call(&b), Some("hit")));
    // Answers over 1 MiB are served, not stored.
    let before = s.handlers.calls();
    for _ in 0..2 {
        let r = s.get("/test/big", &[]).await;
        assert_eq!(r.body.len(), 1_048_577);
        assert_eq!(cache(&r), Some("miss"));
    }
    assert_eq!(s.handlers.calls(), before + 2);
    // The gateway's own answers are not stored: an unreachable upstream is a 502 each time,
    // and once it answers, that answer is cached (whatever its status, as API Gateway).
    let port = tollgate_e2e::closed_port().await;
    let down = format!("http://127.0.0.1:{port}");
    let gw = start(
        CachedApi::new(CacheHandlers::default()),
        ServerConfig::default().stage_variable(StageVariableOverride {
            stage: None,
            name: "upstream".into(),
            value: down,
        }),
    )
    .await;
    for _ in 0..2 {
        let r = s.c.get(Proto::Http1, &gw.url("/test/proxy/x")).await;
        assert_eq!(r.status, StatusCode::BAD_GATEWAY);
        assert_eq!(r.header("x-tollgate-cache"), None);
    }
    let r1 = s.get("/test/proxy/a/status/404", &[]).await;
    let r2 = s.get("/test/proxy/a/status/404", &[]).await;
    assert_eq!(
        (r1.status, r2.status),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    assert_eq!(cache(&r2), Some("hit"));
    assert_eq!(up.hits(), 1);
}

#[tokio::test]
async fn max_age_zero_is_refused_ignored_or_obeyed_by_strategy() {
    let s = setup(None).await;
    let no_cache = [("cache-control", "max-age=0")];
    // Stage `test`: authorization required (nobody has it without IAM), the default
    // SUCCEED_WITH_RESPONSE_HEADER: served from the cache, with a warning.
    let first = s.get("/test/counter", &[]).await;
    let r = s.get("/test/counter", &no_cache).await;
    assert_eq!((cache(&r), call(&r)), (Some("hit"), call(&first)));
    assert!(
        r.header("warning").is_some_and(|w| w.starts_with("199 - ")),
        "{:?}",
        r.headers
    );
    // Stage `silent`: SUCCEED_WITHOUT_RESPONSE_HEADER.
    let first = s.get("/silent/counter", &[]).await;
    let r = s.get("/silent/counter", &no_cache).await;
    assert_eq!((cache(&r), call(&r)), (Some("hit"), call(&first)));
    assert!(r.header("warning").is_none());
    // Stage `strict`: FAIL_WITH_403, API Gateway's explicit-deny answer.
    let r = s.get("/strict/counter", &no_cache).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.header("x-amzn-errortype"), Some("AccessDeniedException"));
    assert_eq!(
        r.text(),
        r#"{"Message":"User: anonymous is not authorized to perform: execute-api:InvalidateCache on resource: arn:aws:execute-api:local:000000000000:cached/strict/GET/counter"}"#
    );
    assert_eq!(s.get("/strict/counter", &[]).await.status, StatusCode::OK);
    // Stage `anyone`: no authorization required: the entry is fetched again and replaced.
    let first = s.get("/anyone/counter", &[]).await;
    let r = s
        .get(
            "/anyone/counter",
            &[("Cache-Control", "no-cache, max-age=0")],
        )
        .await;
    assert_eq!(cache(&r), Some("refresh"));
    assert_ne!(call(&r), call(&first));
    let again = s.get("/anyone/counter", &[]).await;
    assert_eq!((cache(&again), call(&again)), (Some("hit"), call(&r)));
}

#[tokio::test]
async fn two_clients_keyed_by_their_api_key_never_see_each_others_answer() {
    let s = setup(None).await;
    let mut keys = tollgate::store::open(&StoreSpec::Memory, Some(&s.keys_file)).unwrap();
    let (alice_id, alice) = tollgate_e2e::create_key(keys.as_mut(), "alice", &["members"], 0);
    let (bob_id, bob) = tollgate_e2e::create_key(keys.as_mut(), "bob", &["members"], 0);
    s.admin(Method::POST, "/keys/reload").await;
    for _ in 0..2 {
        let a = s.get("/test/mine", &[("x-api-key", &alice)]).await;
        let b = s.get("/test/mine", &[("x-api-key", &bob)]).await;
        assert_eq!(a.json()["extra"]["apiKeyId"], alice_id.as_str());
        assert_eq!(b.json()["extra"]["apiKeyId"], bob_id.as_str());
    }
    assert_eq!(s.handlers.calls(), 2, "one entry per key");
    // A refused request never reaches the cache.
    let r = s.get("/test/mine", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(cache(&r), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_misses_make_one_integration_call() {
    let s = Arc::new(setup(None).await);
    let mut tasks = Vec::new();
    for i in 0..100 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let proto = if i % 2 == 0 {
                Proto::Http1
            } else {
                Proto::Http2
            };
            s.c.get(proto, &s.gw.url("/test/slow")).await
        }));
    }
    let mut bodies = Vec::new();
    for t in tasks {
        let r = t.await.expect("request");
        assert_eq!(r.status, StatusCode::OK);
        bodies.push(r.body);
    }
    assert_eq!(
        s.handlers.calls(),
        1,
        "the slow handler ran once for 100 requests"
    );
    assert!(bodies.iter().all(|b| *b == bodies[0]));
}

#[tokio::test]
async fn a_stage_cache_flushes_and_counts_hits_and_misses() {
    let s = setup(None).await;
    s.get("/test/counter", &[]).await;
    s.get("/test/counter", &[]).await;
    s.get("/test/counter", &[]).await;
    s.get("/anyone/counter", &[]).await;
    let stats = s.admin(Method::GET, "/cache").await.json();
    assert_eq!(
        stats["stages"]["test"]["GET /counter"],
        serde_json::json!({ "CacheHitCount": 2, "CacheMissCount": 1 })
    );
    assert_eq!(
        stats["stages"]["anyone"]["GET /counter"],
        serde_json::json!({ "CacheHitCount": 0, "CacheMissCount": 1 })
    );
    let r = s.admin(Method::POST, "/cache/flush?stage=test").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["flushed"], 1);
    assert_eq!(cache(&s.get("/test/counter", &[]).await), Some("miss"));
    // Other stages keep their entries.
    assert_eq!(cache(&s.get("/anyone/counter", &[]).await), Some("hit"));
    let r = s.admin(Method::POST, "/cache/flush?stage=nope").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}
