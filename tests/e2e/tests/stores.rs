//! The shared and persistent stores with real gateway processes (`e2e-gateway`, serving
//! `apis/keys.kdl`): SQLite keeps quota and usage counts across a restart and a crash (less at
//! most one flush window); several gateways on one real Redis (`redis-server`, started on a
//! free port) admit exactly what one would; a Redis that dies is answered by the configured
//! failure mode, and the gateway recovers on its own.
//!
//! Without `redis-server` the Redis tests print a skip message (under `CI=true` they fail).

use http::{Method, StatusCode};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tollgate::store::{self, KeyStore, StoreSpec};
use tollgate_e2e::{
    Client, GatewayProcess, Proto, RedisServer, Reply, TempDir, create_key, hammer,
};

const GATEWAY: &str = env!("CARGO_BIN_EXE_e2e-gateway");

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

async fn get(c: &Client, url: &str, key: &str) -> Reply {
    c.request(
        Proto::Http1,
        Method::GET,
        url,
        &[("x-api-key", key)],
        Vec::new(),
    )
    .await
}

/// What is left of the key's quota, from the `RateLimit` header.
fn quota_left(r: &Reply) -> u64 {
    let h = r
        .header("ratelimit")
        .unwrap_or_else(|| panic!("no RateLimit: {} {}", r.status, r.text()));
    let item = h
        .split(", ")
        .find(|i| i.starts_with("\"quota\""))
        .unwrap_or_else(|| panic!("no quota in {h}"));
    item.split(';')
        .find_map(|p| p.strip_prefix("r="))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no r= in {item}"))
}

#[tokio::test]
async fn sqlite_keeps_counts_across_a_restart_and_a_crash_loses_at_most_the_flush_window() {
    let dir = TempDir::new("sqlite-store");
    let db = dir.join("gateway.db");
    let spec = format!("sqlite:{}", db.display());
    let (key_id, key) = {
        let mut s = store::open(&StoreSpec::Sqlite(db.clone()), None).unwrap();
        create_key(s.as_mut(), "alice", &["bulk"], now_ms())
    };
    let args = [
        "--store",
        &spec,
        "--flush-interval-ms",
        "100",
        "--admin",
        "127.0.0.1:0",
    ];
    let c = Client::new();

    // bulk: 600 a month. Ten requests, then a clean shutdown: nothing is lost.
    let gw = GatewayProcess::spawn(GATEWAY, &args);
    let mut left = 600;
    for _ in 0..10 {
        let r = get(&c, &gw.url("/bare/metered"), &key).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        left -= 1;
        assert_eq!(quota_left(&r), left);
    }
    assert!(gw.terminate().success());
    let gw = GatewayProcess::spawn(GATEWAY, &args);
    let r = get(&c, &gw.url("/bare/metered"), &key).await;
    left -= 1;
    assert_eq!(quota_left(&r), left, "a clean restart keeps every count");

    // Ten more, a pause longer than the flush interval, then SIGKILL: still nothing lost.
    for _ in 0..10 {
        assert_eq!(
            get(&c, &gw.url("/bare/metered"), &key).await.status,
            StatusCode::OK
        );
        left -= 1;
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    gw.kill();
    let gw = GatewayProcess::spawn(GATEWAY, &args);
    let r = get(&c, &gw.url("/bare/metered"), &key).await;
    left -= 1;
    assert_eq!(quota_left(&r), left, "a crash after a flush loses nothing");

    // The admin endpoint reports usage from the database (after writing what is pending).
    let admin = gw.admin.expect("an admin endpoint");
    let today = (now_ms() / 86_400_000) as i64;
    let r = c
        .get(
            Proto::Http1,
            &format!(
                "http://{admin}/usage?from={}&to={}&key={key_id}",
                tollgate_vtl::calendar::iso_date(today - 1),
                tollgate_vtl::calendar::iso_date(today)
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let reported: u64 = r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(reported, 22, "{}", r.text());

    // Usage is in the database too: 22 requests by this key today (or across midnight).
    assert!(gw.terminate().success());
    let mut s = store::open(&StoreSpec::Sqlite(db.clone()), None).unwrap();
    let rows = s
        .usage(&tollgate::usage::UsageQuery {
            key_id: Some(key_id),
            from_day: today - 1,
            to_day: today,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(rows.iter().map(|r| r.requests).sum::<u64>(), 22, "{rows:?}");
}

/// Gateways on one Redis: `n` processes with `args`.
fn gateways(n: usize, redis: &RedisServer, extra: &[&str]) -> Vec<GatewayProcess> {
    let url = redis.url();
    let mut args = vec!["--store", &url, "--keys-refresh-ms", "100"];
    args.extend_from_slice(extra);
    (0..n)
        .map(|_| GatewayProcess::spawn(GATEWAY, &args))
        .collect()
}

fn redis_keys(redis: &RedisServer) -> Box<dyn KeyStore> {
    store::open(&StoreSpec::Redis(redis.url()), None).unwrap()
}

/// Polls `url` with `key` until it answers `want`, for at most 10 s.
async fn until(c: &Client, url: &str, key: &str, want: StatusCode) -> Reply {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = get(c, url, key).await;
        if r.status == want {
            return r;
        }
        assert!(
            Instant::now() < deadline,
            "{url} still answers {} after 10 s: {}",
            r.status,
            r.text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Three gateway processes share one key bucket through Redis: together they admit
/// `burst + rate·t` within ±2 %, as one gateway would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_gateways_on_redis_admit_burst_plus_rate_times_time() {
    let Some(redis) =
        RedisServer::start("three_gateways_on_redis_admit_burst_plus_rate_times_time")
    else {
        return;
    };
    let (_, key) = create_key(redis_keys(&redis).as_mut(), "load", &["bulk"], now_ms());
    // Fail closed with a generous deadline: a slow decision must never turn into an admission.
    // (The gateways load the keys before they listen.)
    let gws = gateways(
        3,
        &redis,
        &["--store-failure", "closed", "--redis-timeout-ms", "2000"],
    );
    let urls: Vec<String> = gws.iter().map(|g| g.url("/bare/fast")).collect();
    // bulk: the key's bucket refills 100/s and holds 20, wherever it is asked.
    hammer(&urls, &[("x-api-key", &key)], 9, Duration::from_secs(3))
        .await
        .assert_burst_plus_rate(100.0, 20.0, "three gateways on Redis, key bucket");
}

/// A quota and a method bucket shared by three gateways are exact: concurrent requests through
/// all of them are admitted exactly up to the limit, never past it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotas_and_method_buckets_on_redis_never_over_admit() {
    let Some(redis) = RedisServer::start("quotas_and_method_buckets_on_redis_never_over_admit")
    else {
        return;
    };
    let (key_id, key) = create_key(
        redis_keys(&redis).as_mut(),
        "counted",
        &["counted"],
        now_ms(),
    );
    let gws = Arc::new(gateways(
        3,
        &redis,
        &[
            "--store-failure",
            "closed",
            "--redis-timeout-ms",
            "2000",
            "--admin",
            "127.0.0.1:0",
        ],
    ));
    let c = Client::new();
    // counted: 50 a day. 12 clients, 10 requests each, through three gateways.
    let count = |path: &'static str, per_client: usize| {
        let (gws, key) = (gws.clone(), key.clone());
        async move {
            let mut tasks = Vec::new();
            for i in 0..12 {
                let (gws, key) = (gws.clone(), key.clone());
                tasks.push(tokio::spawn(async move {
                    let c = Client::new();
                    let mut statuses = Vec::new();
                    for _ in 0..per_client {
                        statuses.push(get(&c, &gws[i % 3].url(path), &key).await);
                    }
                    statuses
                }));
            }
            let mut all = Vec::new();
            for t in tasks {
                all.extend(t.await.expect("client task"));
            }
            all
        }
    };
    let replies = count("/shared/metered", 10).await;
    let ok = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    let over: Vec<_> = replies
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    eprintln!(
        "quota 50 through 3 gateways: admitted {ok}, refused {}",
        over.len()
    );
    assert_eq!(ok, 50);
    assert_eq!(over.len(), 70);
    assert!(
        over.iter()
            .all(|r| r.text() == r#"{"message":"Limit Exceeded"}"#)
    );
    // Usage is shared too: any gateway's admin endpoint reports the 50, with the key's name.
    let today = tollgate_vtl::calendar::iso_date((now_ms() / 86_400_000) as i64);
    let admin = gws[2].admin.expect("an admin endpoint");
    let r = c
        .get(
            Proto::Http1,
            &format!("http://{admin}/usage?from={today}&to={today}&key={key_id}&format=csv"),
        )
        .await;
    assert_eq!(
        r.text(),
        format!(
            "api,usage_plan,key_id,key_name,date,requests\nkeys,counted,{key_id},counted,{today},50\n"
        )
    );

    // The stage's method bucket (burst 3, 1/s), hit at once through three gateways by a key
    // with a fresh quota: the burst passes, the rest is throttled and costs no quota.
    let (_, fresh) = create_key(redis_keys(&redis).as_mut(), "fresh", &["counted"], now_ms());
    // Each gateway has seen the new key once it admits it (403s cost no quota: 3 are used).
    for gw in gws.iter() {
        until(&c, &gw.url("/shared/metered"), &fresh, StatusCode::OK).await;
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (gws, fresh) = (gws.clone(), fresh.clone());
        tasks.push(tokio::spawn(async move {
            get(&Client::new(), &gws[i % 3].url("/shared/guarded"), &fresh).await
        }));
    }
    let mut admitted = 0u64;
    for t in tasks {
        let r = t.await.expect("client task");
        match r.status {
            StatusCode::OK => admitted += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(r.text(), r#"{"message":"Too Many Requests"}"#)
            }
            other => panic!("unexpected {other}: {}", r.text()),
        }
    }
    // Tokens refill at 1/s: more than the burst only if the requests took seconds.
    let slack = started.elapsed().as_secs();
    eprintln!("method bucket of burst 3 through 3 gateways: admitted {admitted} of 12");
    assert!((3..=3 + slack).contains(&admitted), "admitted {admitted}");
    tokio::time::sleep(Duration::from_millis(1100 * (1 + slack))).await;
    let r = get(&c, &gws[0].url("/shared/guarded"), &fresh).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        quota_left(&r),
        50 - 3 - admitted - 1,
        "throttled requests cost no quota"
    );
}

/// Redis dies: a gateway failing closed answers 503 until Redis is back, then enforces limits
/// again without a restart.
#[tokio::test]
async fn redis_down_fails_closed_and_recovers() {
    let Some(mut redis) = RedisServer::start("redis_down_fails_closed_and_recovers") else {
        return;
    };
    let mut keys = redis_keys(&redis);
    let (_, key_value) = create_key(keys.as_mut(), "alice", &["basic"], now_ms());
    let saved = keys.keys().unwrap();
    let gws = gateways(
        1,
        &redis,
        &["--store-failure", "closed", "--redis-timeout-ms", "100"],
    );
    let gw = &gws[0];
    let c = Client::new();
    let url = gw.url("/test/guarded");
    until(&c, &url, &key_value, StatusCode::OK).await;

    redis.kill();
    let r = get(&c, &url, &key_value).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
    assert_eq!(r.text(), r#"{"message":"Service Unavailable"}"#);
    assert_eq!(r.header("retry-after"), Some("1"));
    // Methods without limits are not affected.
    assert_eq!(
        get(&c, &gw.url("/test/open"), &key_value).await.status,
        StatusCode::OK
    );

    // Redis comes back empty (it keeps nothing on disk here): put the keys back, as a restore
    // from a snapshot would.
    redis.restart();
    redis_keys(&redis).put(&saved).unwrap();
    until(&c, &url, &key_value, StatusCode::OK).await;
    // Limits are enforced again: the method allows a burst of 1.
    let r = until(&c, &url, &key_value, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(r.text(), r#"{"message":"Too Many Requests"}"#);
}

/// Redis dies: a gateway failing open serves without limits (API Gateway's behaviour when its
/// usage-plan check fails), still checking keys, and enforces limits again once Redis is back.
#[tokio::test]
async fn redis_down_fails_open_and_recovers() {
    let Some(mut redis) = RedisServer::start("redis_down_fails_open_and_recovers") else {
        return;
    };
    let mut keys = redis_keys(&redis);
    let (_, key) = create_key(keys.as_mut(), "alice", &["basic"], now_ms());
    let saved = keys.keys().unwrap();
    let gws = gateways(
        1,
        &redis,
        &["--store-failure", "open", "--redis-timeout-ms", "100"],
    );
    let gw = &gws[0];
    let c = Client::new();
    let url = gw.url("/test/guarded");
    until(&c, &url, &key, StatusCode::OK).await;
    until(&c, &url, &key, StatusCode::TOO_MANY_REQUESTS).await;

    redis.kill();
    // The method allows a burst of 1, but nothing can count: every request passes, unlimited.
    for _ in 0..5 {
        let r = get(&c, &url, &key).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert!(r.header("ratelimit").is_none());
    }
    // Keys are still checked, against the keys loaded before Redis died.
    let r = get(&c, &url, "not-a-key-anyone-created").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    redis.restart();
    redis_keys(&redis).put(&saved).unwrap();
    let r = until(&c, &url, &key, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(r.header("ratelimit-policy"), Some(r#""burst";q=1;w=1"#));
}

/// Two gateway processes share one cache in Redis: 100 concurrent misses through both make one
/// upstream call, an entry one fetched is a hit on the other, and a flush empties it for both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_share_a_redis_cache_and_fetch_a_missing_entry_once() {
    let Some(redis) =
        RedisServer::start("two_gateways_share_a_redis_cache_and_fetch_a_missing_entry_once")
    else {
        return;
    };
    let up = tollgate_e2e::Upstream::start().await;
    let upstream = format!("upstream={}", up.url());
    let url = redis.url();
    let gws = Arc::new(
        (0..2)
            .map(|_| {
                GatewayProcess::spawn_env(
                    GATEWAY,
                    &[("E2E_API", "cache")],
                    &[
                        "--store",
                        &url,
                        "--stage-var",
                        &upstream,
                        "--admin",
                        "127.0.0.1:0",
                    ],
                )
            })
            .collect::<Vec<_>>(),
    );
    let mut tasks = Vec::new();
    for i in 0..100 {
        let gws = gws.clone();
        tasks.push(tokio::spawn(async move {
            let proto = if i % 2 == 0 {
                Proto::Http1
            } else {
                Proto::Http2
            };
            Client::new()
                .get(proto, &gws[i % 2].url("/test/proxy/report?sleep_ms=300"))
                .await
        }));
    }
    let mut bodies = Vec::new();
    for t in tasks {
        let r = t.await.expect("request");
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        bodies.push(r.body);
    }
    eprintln!(
        "100 concurrent misses through 2 gateways: {} upstream call(s)",
        up.hits()
    );
    assert_eq!(up.hits(), 1);
    assert!(bodies.iter().all(|b| *b == bodies[0]));
    let c = Client::new();
    for gw in gws.iter() {
        let r = c.get(Proto::Http1, &gw.url("/test/proxy/report")).await;
        assert_eq!(r.header("x-tollgate-cache"), Some("hit"));
        assert_eq!(r.body, bodies[0]);
    }
    // Flushing through one gateway's admin endpoint empties the stage for both.
    let admin = gws[0].admin.expect("an admin endpoint");
    let r = c
        .request(
            Proto::Http1,
            Method::POST,
            &format!("http://{admin}/cache/flush?stage=test"),
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.json()["flushed"].as_u64().unwrap() >= 1);
    let r = c.get(Proto::Http1, &gws[1].url("/test/proxy/report")).await;
    assert_eq!(r.header("x-tollgate-cache"), Some("miss"));
    assert_eq!(up.hits(), 2);
    // `tollgate cache flush --store redis://… --api-name cached --stage test` does the same
    // without a gateway.
    let mut keys = tollgate::store::redis::RedisKeys::open(&redis.url(), "tollgate").unwrap();
    assert_eq!(keys.flush_cache("cached", "test").unwrap(), 1);
    let r = c.get(Proto::Http1, &gws[0].url("/test/proxy/report")).await;
    assert_eq!(r.header("x-tollgate-cache"), Some("miss"));
}
