//! Throttling through the gateway (`apis/throttle.kdl`, `apis/account.kdl`): API Gateway's 429,
//! one bucket per method, the account bucket over all of them, and admission accuracy under
//! concurrent load (`burst + rate·t` within ±2 %).

use http::StatusCode;
use std::time::Duration;
use tollgate::ServerConfig;
use tollgate_e2e::apis::account::AccountApi;
use tollgate_e2e::apis::throttle::LimitsApi;
use tollgate_e2e::{Client, Proto, hammer, start};

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
    let gw = start(LimitsApi::new(()), ServerConfig::default()).await;
    hammer(&[gw.url("/test/steady")], &[], 8, Duration::from_secs(3))
        .await
        .assert_burst_plus_rate(100.0, 20.0, "one gateway, method bucket");
}
