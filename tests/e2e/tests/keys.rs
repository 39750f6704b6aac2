//! API keys and usage plans through the gateway, on the memory store (`apis/keys.kdl`): API
//! Gateway's 403 and 429 answers, per-key throttles and quotas in API Gateway's order, quota
//! periods rolling over on an injected clock, the first period's offset, what templates and
//! handlers learn about the key, key changes without a restart, usage metering, and admission
//! accuracy under concurrent load.

use http::{Method, StatusCode};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tollgate::clock::{Clock, ManualClock};
use tollgate::store::{KeyStore, StoreConfig, StoreSpec};
use tollgate::{ServerConfig, store};
use tollgate_e2e::apis::keys::KeysApi;
use tollgate_e2e::{
    Client, KeysHandlers, PROTOCOLS, Proto, Reply, Running, TempDir, create_key, hammer, start,
};

/// 2026-11-28T12:00:00Z, a Saturday.
const NOON: u64 = 1_795_867_200_000;

struct Setup {
    gw: Running,
    dir: TempDir,
    clock: Option<Arc<ManualClock>>,
}

impl Setup {
    fn keys(&self) -> Box<dyn KeyStore> {
        store::open(&StoreSpec::Memory, Some(&self.dir.join("keys.json"))).unwrap()
    }

    fn now_ms(&self) -> u64 {
        self.clock.as_ref().map_or(NOON, |c| c.unix_millis())
    }

    fn key(&self, name: &str, plans: &[&str]) -> (String, String) {
        create_key(self.keys().as_mut(), name, plans, self.now_ms())
    }

    fn advance(&self, d: Duration) {
        self.clock.as_ref().expect("a manual clock").advance(d);
    }

    /// Makes the gateway read the keys file now.
    async fn reload(&self) {
        let admin = self.gw_admin();
        let r = Client::new()
            .request(
                Proto::Http1,
                Method::POST,
                &format!("http://{admin}/keys/reload"),
                &[],
                "",
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }

    fn gw_admin(&self) -> std::net::SocketAddr {
        self.admin.expect("started with an admin endpoint")
    }
}

impl std::ops::Deref for Setup {
    type Target = Running;
    fn deref(&self) -> &Running {
        &self.gw
    }
}

/// A gateway on the memory store with a keys file; `manual` injects a clock at [`NOON`].
async fn setup(manual: bool) -> Setup {
    let dir = TempDir::new("keys");
    let mut config = ServerConfig::default()
        .store(StoreConfig {
            spec: StoreSpec::Memory,
            api_keys_file: Some(dir.join("keys.json")),
            keys_refresh: Duration::from_secs(3600),
            ..Default::default()
        })
        .admin(Some(([127, 0, 0, 1], 0).into()));
    let mut clock = None;
    if manual {
        let (c, handle) = Clock::manual(NOON);
        config = config.clock(c);
        clock = Some(handle);
    }
    let gw = start(KeysApi::new(KeysHandlers), config).await;
    Setup { gw, dir, clock }
}

async fn get(c: &Client, proto: Proto, url: &str, key: Option<&str>) -> Reply {
    let headers: Vec<(&str, &str)> = key.map(|k| ("x-api-key", k)).into_iter().collect();
    c.request(proto, Method::GET, url, &headers, Vec::new())
        .await
}

fn assert_forbidden(r: &Reply) {
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(r.text(), r#"{"message":"Forbidden"}"#);
    assert_eq!(r.header("x-amzn-errortype"), Some("ForbiddenException"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(r.header("x-amzn-requestid").is_some());
    assert!(r.header("ratelimit").is_none());
}

#[tokio::test]
async fn a_missing_unknown_disabled_or_unplanned_key_is_api_gateways_403() {
    let s = setup(false).await;
    let (_, good) = s.key("alice", &["basic"]);
    let (off_id, off) = s.key("off", &["basic"]);
    store::update_key(s.keys().as_mut(), &off_id, |k| k.enabled = false).unwrap();
    let (_, other_stage) = s.key("weekly", &["tight"]);
    let (_, no_plan) = s.key("nobody", &[]);
    s.reload().await;
    let c = Client::new();
    let url = s.url("/test/metered");
    for proto in PROTOCOLS {
        assert_forbidden(&get(&c, proto, &url, None).await);
        assert_forbidden(&get(&c, proto, &url, Some("")).await);
        assert_forbidden(&get(&c, proto, &url, Some("not-a-key-of-this-gateway")).await);
        assert_forbidden(&get(&c, proto, &url, Some(&off)).await);
        // A key of a plan bound to another stage, and a key in no plan.
        assert_forbidden(&get(&c, proto, &url, Some(&other_stage)).await);
        assert_forbidden(&get(&c, proto, &url, Some(&no_plan)).await);
    }
    // The header name is case-insensitive (API Gateway documents both spellings).
    let r = c
        .request(
            Proto::Http1,
            Method::GET,
            &url,
            &[("X-API-Key", &good)],
            Vec::new(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.text(), r#"{"route":"metered"}"#);
    // The same key works on the stage its plan is bound to only.
    assert_forbidden(&get(&c, Proto::Http1, &s.url("/other/metered"), Some(&good)).await);
    let r = get(
        &c,
        Proto::Http1,
        &s.url("/other/metered"),
        Some(&other_stage),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn methods_that_do_not_require_a_key_ignore_plan_limits() {
    let s = setup(false).await;
    let (_, key) = s.key("alice", &["basic"]);
    s.reload().await;
    let c = Client::new();
    // The plan allows a burst of 2 and 5 a day; an open method is not metered at all.
    for _ in 0..8 {
        let r = get(&c, Proto::Http1, &s.url("/test/open"), Some(&key)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.header("ratelimit").is_none());
    }
    assert_eq!(
        get(&c, Proto::Http1, &s.url("/test/metered"), Some(&key))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_key_is_throttled_then_runs_out_of_quota_until_the_next_day() {
    let s = setup(true).await;
    let (_, key) = s.key("alice", &["basic"]);
    let (_, other) = s.key("bob", &["basic"]);
    s.reload().await;
    let c = Client::new();
    let url = s.url("/test/metered");

    // The plan: rate 1, burst 2; 5 requests a day.
    let r = get(&c, Proto::Http1, &url, Some(&key)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("ratelimit-policy"),
        Some(r#""key";q=2;w=2, "quota";q=5;w=86400"#)
    );
    assert_eq!(
        r.header("ratelimit"),
        Some(r#""key";r=1;t=1, "quota";r=4;t=43200"#)
    );
    assert_eq!(
        get(&c, Proto::Http2, &url, Some(&key)).await.status,
        StatusCode::OK
    );
    let r = get(&c, Proto::Http1, &url, Some(&key)).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.text(), r#"{"message":"Too Many Requests"}"#);
    assert_eq!(
        r.header("x-amzn-errortype"),
        Some("TooManyRequestsException")
    );
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(r.header("ratelimit-policy"), Some(r#""key";q=2;w=2"#));
    assert_eq!(r.header("ratelimit"), Some(r#""key";r=0;t=1"#));
    // Another key has buckets of its own.
    assert_eq!(
        get(&c, Proto::Http1, &url, Some(&other)).await.status,
        StatusCode::OK
    );

    // Three more, one a second: the quota's 5 are used.
    for used in 3..=5 {
        s.advance(Duration::from_secs(1));
        let r = get(&c, Proto::Http1, &url, Some(&key)).await;
        assert_eq!(r.status, StatusCode::OK, "request {used}");
        let left = 5 - used;
        assert!(
            r.header("ratelimit")
                .unwrap()
                .contains(&format!("\"quota\";r={left};")),
            "{:?}",
            r.header("ratelimit")
        );
    }
    s.advance(Duration::from_secs(1));
    let r = get(&c, Proto::Http1, &url, Some(&key)).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.text(), r#"{"message":"Limit Exceeded"}"#);
    assert_eq!(r.header("x-amzn-errortype"), Some("LimitExceededException"));
    // Back at midnight UTC: 12 h minus the 4 s the clock moved.
    assert_eq!(r.header("retry-after"), Some("43196"));
    assert_eq!(r.header("ratelimit-policy"), Some(r#""quota";q=5;w=86400"#));
    assert_eq!(r.header("ratelimit"), Some(r#""quota";r=0;t=43196"#));
    // Refused requests do not count: still exhausted a minute later, not over-exhausted.
    s.advance(Duration::from_secs(60));
    assert_eq!(
        get(&c, Proto::Http1, &url, Some(&key)).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );

    // One millisecond before midnight: still the old day. At midnight: a fresh quota.
    s.advance(Duration::from_millis(43_136_000 - 1));
    assert_eq!(
        get(&c, Proto::Http1, &url, Some(&key)).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    s.advance(Duration::from_millis(1));
    let r = get(&c, Proto::Http1, &url, Some(&key)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.header("ratelimit")
            .unwrap()
            .contains(r#""quota";r=4;t=86400"#),
        "{:?}",
        r.header("ratelimit")
    );
}

#[tokio::test]
async fn a_request_refused_by_the_method_throttle_costs_no_quota() {
    let s = setup(true).await;
    let (_, key) = s.key("alice", &["basic"]);
    s.reload().await;
    let c = Client::new();
    let url = s.url("/test/guarded");
    // The stage throttles this method at rate 1, burst 1; the key's quota is 5 a day.
    let r = get(&c, Proto::Http1, &url, Some(&key)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.header("ratelimit"),
        Some(r#""key";r=1;t=1, "quota";r=4;t=43200, "burst";r=0;t=1"#)
    );
    let r = get(&c, Proto::Http1, &url, Some(&key)).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.header("ratelimit-policy"), Some(r#""burst";q=1;w=1"#));
    s.advance(Duration::from_secs(1));
    let r = get(&c, Proto::Http1, &url, Some(&key)).await;
    assert_eq!(r.status, StatusCode::OK);
    // 3 left, not 2: the refused request gave its quota and its key token back.
    assert!(
        r.header("ratelimit").unwrap().contains(r#""quota";r=3;"#),
        "{:?}",
        r.header("ratelimit")
    );
}

#[tokio::test]
async fn the_quota_offset_applies_to_the_keys_first_week_only() {
    let s = setup(true).await;
    // tight: 3 a week, minus 1 in the week the key was created (weeks start Monday 00:00 UTC).
    let (_, key) = s.key("weekly", &["tight"]);
    s.reload().await;
    let c = Client::new();
    let url = s.url("/other/metered");
    for _ in 0..2 {
        assert_eq!(
            get(&c, Proto::Http1, &url, Some(&key)).await.status,
            StatusCode::OK
        );
    }
    let r = get(&c, Proto::Http1, &url, Some(&key)).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.text(), r#"{"message":"Limit Exceeded"}"#);
    // Saturday noon to Monday midnight: 36 h.
    assert_eq!(r.header("retry-after"), Some("129600"));
    assert_eq!(
        r.header("ratelimit-policy"),
        Some(r#""quota";q=2;w=604800"#)
    );
    s.advance(Duration::from_secs(129_600));
    for _ in 0..3 {
        assert_eq!(
            get(&c, Proto::Http1, &url, Some(&key)).await.status,
            StatusCode::OK
        );
    }
    assert_eq!(
        get(&c, Proto::Http1, &url, Some(&key)).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn templates_and_handlers_see_the_admitted_key() {
    let s = setup(false).await;
    let (id, key) = s.key("alice", &["basic"]);
    s.reload().await;
    let c = Client::new();
    let r = get(&c, Proto::Http2, &s.url("/test/context"), Some(&key)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json(),
        serde_json::json!({ "apiKey": key, "apiKeyId": id })
    );
    let r = get(&c, Proto::Http1, &s.url("/test/whoami"), Some(&key)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json(), serde_json::json!({ "apiKeyId": id }));
}

#[tokio::test]
async fn key_changes_apply_without_a_restart() {
    let dir = TempDir::new("keys-refresh");
    let file = dir.join("keys.json");
    let config = ServerConfig::default().store(StoreConfig {
        spec: StoreSpec::Memory,
        api_keys_file: Some(file.clone()),
        keys_refresh: Duration::from_millis(50),
        ..Default::default()
    });
    let gw = start(KeysApi::new(KeysHandlers), config).await;
    let mut keys = store::open(&StoreSpec::Memory, Some(&file)).unwrap();
    let c = Client::new();
    let url = gw.url("/test/whoami");
    // Polls until the gateway answers `want` (the refresh runs every 50 ms).
    let until = |want: StatusCode, key: String| {
        let (c, url) = (c.clone(), url.clone());
        async move {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let r = get(&c, Proto::Http1, &url, Some(&key)).await;
                if r.status == want {
                    return r;
                }
                assert!(Instant::now() < deadline, "still {} after 10 s", r.status);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    let (id, key) = create_key(keys.as_mut(), "late", &["basic"], NOON);
    until(StatusCode::OK, key.clone()).await;
    store::update_key(keys.as_mut(), &id, |k| k.enabled = false).unwrap();
    until(StatusCode::FORBIDDEN, key.clone()).await;
    store::update_key(keys.as_mut(), &id, |k| k.enabled = true).unwrap();
    until(StatusCode::OK, key.clone()).await;
    assert!(keys.delete(&id).unwrap());
    until(StatusCode::FORBIDDEN, key).await;
}

#[tokio::test]
async fn usage_is_metered_per_key_and_day_and_reported_by_the_admin_endpoint() {
    let s = setup(true).await;
    let (alice_id, alice) = s.key("alice", &["bulk"]);
    let (bob_id, bob) = s.key("bob", &["bulk"]);
    s.reload().await;
    let c = Client::new();
    let url = s.url("/bare/metered");
    for _ in 0..3 {
        assert_eq!(
            get(&c, Proto::Http1, &url, Some(&alice)).await.status,
            StatusCode::OK
        );
    }
    assert_eq!(
        get(&c, Proto::Http1, &url, Some(&bob)).await.status,
        StatusCode::OK
    );
    // Open methods and refused requests are not metered.
    get(&c, Proto::Http1, &s.url("/bare/open"), Some(&bob)).await;
    s.advance(Duration::from_secs(86_400));
    for _ in 0..25 {
        get(&c, Proto::Http1, &url, Some(&alice)).await;
    }
    let admin = s.gw_admin();
    let r = c
        .get(
            Proto::Http1,
            &format!("http://{admin}/usage?from=2026-11-28&to=2026-11-29"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let day = |key: &str, date: &str| {
        r.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["keyId"] == key && i["date"] == date)
            .map(|i| i["requests"].as_u64().unwrap())
    };
    assert_eq!(day(&alice_id, "2026-11-28"), Some(3), "{}", r.text());
    assert_eq!(day(&bob_id, "2026-11-28"), Some(1));
    // The bucket (rate 100, burst 20, on a stopped clock) admitted 20 of the 25.
    assert_eq!(day(&alice_id, "2026-11-29"), Some(20));
    assert_eq!(day(&bob_id, "2026-11-29"), None);
    let r = c
        .get(
            Proto::Http1,
            &format!(
                "http://{admin}/usage?from=2026-11-28&to=2026-11-28&key={alice_id}&format=csv"
            ),
        )
        .await;
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(
        r.text(),
        format!(
            "api,usage_plan,key_id,key_name,date,requests\nkeys,bulk,{alice_id},alice,2026-11-28,3\n"
        )
    );
    let r = c
        .get(
            Proto::Http1,
            &format!("http://{admin}/usage?from=yesterday"),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = c.get(Proto::Http1, &format!("http://{admin}/keys")).await;
    let text = r.text();
    assert!(text.contains(&alice_id) && !text.contains(&alice), "{text}");
}

/// N concurrent clients hammer a keyed route whose key's plan allows rate r, burst b, for t
/// seconds; the gateway admits `b + r·t` within ±2 %.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admitted_keyed_requests_match_burst_plus_rate_times_time() {
    let s = setup(false).await;
    let (_, key) = s.key("loadtest", &["bulk"]);
    s.reload().await;
    // bulk: the key's bucket refills 100/s and holds 20.
    hammer(
        &[s.url("/bare/fast")],
        &[("x-api-key", &key)],
        8,
        Duration::from_secs(3),
    )
    .await
    .assert_burst_plus_rate(100.0, 20.0, "one gateway, key bucket");
}
