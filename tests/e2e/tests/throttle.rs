//! Throttling through the gateway (`apis/throttle.kdl`, `apis/account.kdl`): API Gateway's 429,
//! one bucket per method, the account bucket over all of them, and admission accuracy under
//! concurrent load (`burst + rate·t` within ±2 %).

use http::{Method, StatusCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tollgate::ServerConfig;
use tollgate_e2e::apis::account::AccountApi;
use tollgate_e2e::apis::throttle::LimitsApi;
use tollgate_e2e::{Client, Proto, start};

#[tokio::test]
async fn an_empty_bucket_answers_api_gateways_429_with_retry_headers() {
    let gw = start(LimitsApi::new(()), ServerConfig::default()).await;
    let c = Client::new();
    let url = gw.url("/test/a");
    // Admitted answers say what is left of the method's bucket (rate 1, burst 2).
    let r = c.get(Proto::Http1, &url).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("ratelimit-policy"), Some(r#""burst";q=2;w=2"#));
    assert_eq!(r.header("ratelimit"), Some(r#""burst";r=1;t=1"#));
    let r = c.get(Proto::Http2, &url).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("ratelimit"), Some(r#""burst";r=0;t=2"#));
    let r = c.get(Proto::Http1, &url).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.text(), r#"{"message":"Too Many Requests"}"#);
    assert_eq!(
        r.header("x-amzn-errortype"),
        Some("TooManyRequestsException")
    );
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(r.header("ratelimit-policy"), Some(r#""burst";q=2;w=2"#));
    assert_eq!(r.header("ratelimit"), Some(r#""burst";r=0;t=1"#));
    assert!(r.header("x-amzn-requestid").is_some());

    // A per-method throttle overrides the stage default: rate 0.5/s → come back in 2 s.
    let tight = gw.url("/test/tight");
    assert_eq!(c.get(Proto::Http1, &tight).await.status, StatusCode::OK);
    let r = c.get(Proto::Http1, &tight).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.header("retry-after"), Some("2"));
}

#[tokio::test]
async fn every_method_and_stage_has_its_own_bucket() {
    let gw = start(LimitsApi::new(()), ServerConfig::default()).await;
    let c = Client::new();
    for _ in 0..2 {
        assert_eq!(
            c.get(Proto::Http1, &gw.url("/test/a")).await.status,
            StatusCode::OK
        );
    }
    assert_eq!(
        c.get(Proto::Http1, &gw.url("/test/a")).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Same stage default, other method: a full bucket of its own.
    assert_eq!(
        c.get(Proto::Http1, &gw.url("/test/b")).await.status,
        StatusCode::OK
    );
    // Same route, other stage: its own (burst 1) bucket.
    assert_eq!(
        c.get(Proto::Http1, &gw.url("/other/a")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        c.get(Proto::Http1, &gw.url("/other/a")).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Unknown routes are not throttled, and still 403.
    for _ in 0..5 {
        assert_eq!(
            c.get(Proto::Http1, &gw.url("/test/none")).await.status,
            StatusCode::FORBIDDEN
        );
    }
}

#[tokio::test]
async fn the_account_bucket_is_shared_by_every_route() {
    let gw = start(AccountApi::new(()), ServerConfig::default()).await;
    let c = Client::new();
    let statuses = [
        c.get(Proto::Http1, &gw.url("/x")).await.status,
        c.get(Proto::Http1, &gw.url("/y")).await.status,
        c.get(Proto::Http2, &gw.url("/x")).await.status,
        c.get(Proto::Http1, &gw.url("/y")).await.status,
    ];
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    // HTTP APIs answer 429 with the same body but no x-amzn-ErrorType.
    let r = c.get(Proto::Http1, &gw.url("/x")).await;
    assert_eq!(r.text(), r#"{"message":"Too Many Requests"}"#);
    assert!(r.header("x-amzn-errortype").is_none());
}

/// N concurrent clients hammer a route throttled at rate r, burst b for t seconds; the gateway
/// admits `b + r·t` within ±2 %, with t measured from the first request to the last.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admitted_requests_match_burst_plus_rate_times_time() {
    let gw = Arc::new(start(LimitsApi::new(()), ServerConfig::default()).await);
    let (rate, burst) = (100.0, 20.0);
    let run = Duration::from_secs(3);
    let admitted = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let first = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (gw, admitted, refused) = (gw.clone(), admitted.clone(), refused.clone());
        tasks.push(tokio::spawn(async move {
            let c = Client::new();
            let proto = if i % 2 == 0 {
                Proto::Http1
            } else {
                Proto::Http2
            };
            let url = gw.url("/test/steady");
            let mut last = Instant::now();
            while first.elapsed() < run {
                let r = c.request(proto, Method::GET, &url, &[], Vec::new()).await;
                last = Instant::now();
                match r.status {
                    StatusCode::OK => admitted.fetch_add(1, Ordering::Relaxed),
                    StatusCode::TOO_MANY_REQUESTS => refused.fetch_add(1, Ordering::Relaxed),
                    other => panic!("unexpected {other}"),
                };
            }
            last
        }));
    }
    let mut last = first;
    for t in tasks {
        last = last.max(t.await.expect("client task"));
    }
    let t = (last - first).as_secs_f64();
    let expected = burst + rate * t;
    let got = admitted.load(Ordering::Relaxed) as f64;
    assert!(
        refused.load(Ordering::Relaxed) > 0,
        "the clients must outrun the bucket for the test to mean anything"
    );
    assert!(
        (got - expected).abs() <= 0.02 * expected,
        "admitted {got}, expected {expected:.1} ± 2 % over {t:.3} s"
    );
}
