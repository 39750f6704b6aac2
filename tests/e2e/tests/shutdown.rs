//! Graceful shutdown: requests in flight when the signal arrives all finish; new connections are
//! refused afterwards.

use http::StatusCode;
use std::time::Duration;
use tollgate::{ServerConfig, StageVariableOverride};
use tollgate_e2e::apis::rest::RestApi;
use tollgate_e2e::{Client, PROTOCOLS, RestHandlers, Upstream, start};

#[tokio::test]
async fn in_flight_requests_finish_during_shutdown() {
    let up = Upstream::start().await;
    let config = ServerConfig::default().stage_variable(StageVariableOverride {
        stage: None,
        name: "upstream".into(),
        value: up.url(),
    });
    let mut gw = start(RestApi::new(RestHandlers), config).await;
    let client = Client::new();
    let mut in_flight = Vec::new();
    for (i, proto) in PROTOCOLS.iter().cycle().take(16).enumerate() {
        let (client, url, proto) = (
            client.clone(),
            gw.url(&format!("/test/users/u{i}/repos/r?sleep_ms=700")),
            *proto,
        );
        in_flight.push(tokio::spawn(async move { client.get(proto, &url).await }));
    }
    // Wait until every request has reached the upstream, then begin the shutdown.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while up.hits() < 16 {
        assert!(
            std::time::Instant::now() < deadline,
            "requests never reached the upstream"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let addr = gw.addr;
    gw.begin_shutdown();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the listener is closed"
    );

    for r in in_flight {
        let r = r.await.expect("request task");
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    gw.stopped().await;
}
