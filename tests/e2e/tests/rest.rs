//! The REST flavour through real sockets: routing, parameters, integrations, gateway responses,
//! hostile requests.

use http::{Method, StatusCode};
use std::time::Duration;
use tollgate::{ServerConfig, StageVariableOverride};
use tollgate_e2e::apis::rest::RestApi;
use tollgate_e2e::{
    Client, PROTOCOLS, Proto, RestHandlers, Running, Upstream, closed_port, raw, raw_status, start,
};

async fn rest(upstream: Option<String>) -> Running {
    let mut config = ServerConfig::default();
    if let Some(u) = upstream {
        config = config.stage_variable(StageVariableOverride {
            stage: None,
            name: "upstream".into(),
            value: u,
        });
    }
    start(RestApi::new(RestHandlers), config).await
}

const MISSING_TOKEN: &str = r#"{"message":"Missing Authentication Token"}"#;

#[tokio::test]
async fn routes_by_literal_then_parameter_then_greedy() {
    let gw = rest(None).await;
    let c = Client::new();
    for proto in PROTOCOLS {
        let special = c.get(proto, &gw.url("/test/items/special")).await;
        assert_eq!(special.json(), serde_json::json!({"special": true}));
        let item = c.get(proto, &gw.url("/test/items/42")).await;
        assert_eq!(item.json(), serde_json::json!({"id": 42, "raw": "42"}));
        // One trailing slash is ignored, as API Gateway's REST router does.
        assert_eq!(
            c.get(proto, &gw.url("/test/items/42/")).await.status,
            StatusCode::OK
        );
        let root = c.get(proto, &gw.url("/test")).await;
        assert_eq!(
            (root.status, root.text().as_str()),
            (StatusCode::OK, "root")
        );
        assert_eq!(root.header("content-type"), Some("text/plain"));
        let file = c
            .get(proto, &gw.url("/test/files/a/b%20c/d.txt"))
            .await
            .json();
        assert_eq!(file["path"], "a/b c/d.txt");
        assert_eq!(file["resourcePath"], "/files/{path+}");
    }
    gw.stop().await;
}

#[tokio::test]
async fn explicit_methods_win_over_any_and_head_is_not_implied() {
    let gw = rest(None).await;
    let c = Client::new();
    let posted = c
        .request(Proto::Http1, Method::POST, &gw.url("/test/echo"), &[], "x")
        .await;
    assert_eq!(posted.status, StatusCode::CREATED);
    for m in [
        Method::GET,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
        Method::HEAD,
    ] {
        let r = c
            .request(Proto::Http1, m.clone(), &gw.url("/test/echo"), &[], "body")
            .await;
        assert_eq!(r.status, StatusCode::OK, "{m}");
        assert_eq!(r.header("x-method"), Some(m.as_str()));
    }
    // ANY does not cover methods outside API Gateway's seven.
    let trace = c
        .request(Proto::Http1, Method::TRACE, &gw.url("/test/echo"), &[], "")
        .await;
    assert_eq!(trace.status, StatusCode::FORBIDDEN);
    // GET-only resource: HEAD and POST are unknown routes.
    for m in [Method::HEAD, Method::POST] {
        let r = c
            .request(Proto::Http1, m.clone(), &gw.url("/test/items"), &[], "")
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{m}");
    }
    gw.stop().await;
}

#[tokio::test]
async fn unknown_paths_get_missing_authentication_token() {
    let gw = rest(None).await;
    let c = Client::new();
    for proto in PROTOCOLS {
        for path in [
            "/test/nope",
            "/test/items/1/2",
            "/test/files",
            "/nostage",
            "/",
            "/test/ITEMS",
            "/test//items",
        ] {
            let r = c.get(proto, &gw.url(path)).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}");
            assert_eq!(r.text(), MISSING_TOKEN, "{path}");
            assert_eq!(
                r.header("x-amzn-errortype"),
                Some("MissingAuthenticationTokenException")
            );
            assert_eq!(r.header("content-type"), Some("application/json"));
        }
    }
    gw.stop().await;
}

#[tokio::test]
async fn typed_parameters_that_do_not_parse_are_a_400() {
    let gw = rest(None).await;
    let c = Client::new();
    for bad in ["abc", "-1", "4294967296", "1.5"] {
        let r = c
            .get(Proto::Http1, &gw.url(&format!("/test/items/{bad}")))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(r.text(), r#"{"message":"Invalid request parameters"}"#);
    }
    gw.stop().await;
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_a_client_uuid_is_kept() {
    let gw = rest(None).await;
    let c = Client::new();
    let mut seen = std::collections::HashSet::new();
    for path in [
        "/test/items",
        "/test/items/special",
        "/test/nope",
        "/test/items/x",
    ] {
        let r = c.get(Proto::Http1, &gw.url(path)).await;
        let id = r.header("x-amzn-requestid").expect("request id").to_owned();
        assert_eq!(id.len(), 36, "{id}");
        assert!(seen.insert(id), "ids are unique");
    }
    let chosen = "0b1c2d3e-4f50-4a6b-8c7d-8e9f00112233";
    let r = c
        .request(
            Proto::Http2,
            Method::GET,
            &gw.url("/test/items"),
            &[("x-amzn-requestid", chosen)],
            "",
        )
        .await;
    assert_eq!(r.header("x-amzn-requestid"), Some(chosen));
    assert_eq!(r.json()["requestId"], chosen);
    gw.stop().await;
}

#[tokio::test]
async fn handlers_see_their_context_and_stage_variables() {
    let gw = rest(Some("http://127.0.0.1:1".into())).await;
    let c = Client::new();
    let r = c
        .get(Proto::Http1, &gw.url("/other/items?q=a%20b&z=1"))
        .await
        .json();
    assert_eq!(r["stage"], "other");
    assert_eq!(r["resourcePath"], "/items");
    assert_eq!(r["path"], "/other/items");
    assert_eq!(r["upstream"], "http://127.0.0.1:1");
    assert_eq!(r["q"], "a b");
    gw.stop().await;
}

#[tokio::test]
async fn a_failing_handler_is_api_gateways_failed_lambda_answer() {
    let gw = rest(None).await;
    let c = Client::new();
    let r = c
        .request(
            Proto::Http1,
            Method::DELETE,
            &gw.url("/test/items/1"),
            &[],
            "",
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    assert_eq!(r.text(), r#"{"message": "Internal server error"}"#);
    gw.stop().await;
}

#[tokio::test]
async fn mocks_answer_their_status_headers_and_body() {
    let gw = rest(None).await;
    let c = Client::new();
    for proto in PROTOCOLS {
        let r = c.get(proto, &gw.url("/test/teapot")).await;
        assert_eq!(r.status.as_u16(), 418);
        assert_eq!(r.text(), "short and stout");
        assert_eq!(r.header("content-type"), Some("text/plain"));
        assert_eq!(r.header("x-mock"), Some("yes"));
    }
    gw.stop().await;
}

#[tokio::test]
async fn the_proxy_substitutes_parameters_keeps_the_query_and_remaps_headers() {
    let up = Upstream::start().await;
    let gw = rest(Some(up.url())).await;
    let c = Client::new();
    for proto in PROTOCOLS {
        let r = c
            .request(
                proto,
                Method::GET,
                &gw.url("/test/users/ann%2Fb/repos/tool?page=2"),
                &[
                    ("x-forwarded-for", "10.0.0.1"),
                    ("max-forwards", "3"),
                    ("authorization", "Bearer t"),
                ],
                "",
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let echo = r.json();
        // Parameters keep the client's encoding; the template's own query comes first.
        assert_eq!(echo["path"], "/u/ann%2Fb/r/tool");
        assert_eq!(echo["query"], "src=gw&page=2");
        assert_eq!(echo["headers"]["x-forwarded-for"], "10.0.0.1, 127.0.0.1");
        assert_eq!(echo["headers"]["authorization"], "Bearer t");
        assert!(echo["headers"].get("max-forwards").is_none());
        // Headers the gateway owns come back remapped, as API Gateway does.
        assert_eq!(
            r.header("x-amzn-remapped-www-authenticate"),
            Some("Basic realm=\"up\"")
        );
        assert_eq!(r.header("x-amzn-remapped-server"), Some("upstream/1.0"));
        assert!(r.header("www-authenticate").is_none());
        assert!(r.header("x-amzn-requestid").is_some());
    }
    // Upstream statuses pass through untouched.
    let r = c.get(Proto::Http1, &gw.url("/test/up/status/404")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["path"], "/status/404");
    gw.stop().await;
}

#[tokio::test]
async fn a_slow_upstream_times_out_with_a_504_and_a_stopped_one_is_a_502() {
    let up = Upstream::start().await;
    let gw = rest(Some(up.url())).await;
    let c = Client::new();
    for proto in PROTOCOLS {
        let started = std::time::Instant::now();
        let r = c.get(proto, &gw.url("/test/up/slow?sleep_ms=3000")).await;
        assert_eq!(r.status, StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(r.text(), r#"{"message": "Endpoint request timed out"}"#);
        // Sanity, not a timing assertion: the answer came from the 300 ms timeout, not the upstream.
        assert!(started.elapsed() < Duration::from_millis(2900));
    }
    gw.stop().await;

    let gw = rest(Some(format!("http://127.0.0.1:{}", closed_port().await))).await;
    let r = c.get(Proto::Http1, &gw.url("/test/up/x")).await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    assert_eq!(r.text(), r#"{"message": "Internal server error"}"#);
    assert_eq!(
        r.header("x-amzn-errortype"),
        Some("InternalServerErrorException")
    );
    gw.stop().await;
}

#[tokio::test]
async fn bodies_over_the_payload_limit_are_a_413() {
    let gw = start(
        RestApi::new(RestHandlers),
        ServerConfig::default().max_body_bytes(1024),
    )
    .await;
    let c = Client::new();
    for proto in PROTOCOLS {
        let r = c
            .request(
                proto,
                Method::PUT,
                &gw.url("/test/echo"),
                &[],
                vec![b'x'; 2048],
            )
            .await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(r.text(), r#"{"message":"Request Too Long"}"#);
        let ok = c
            .request(
                proto,
                Method::PUT,
                &gw.url("/test/echo"),
                &[],
                vec![b'x'; 1024],
            )
            .await;
        assert_eq!(ok.status, StatusCode::OK);
        assert_eq!(ok.body.len(), 1024);
    }
    gw.stop().await;
}

#[tokio::test]
async fn hostile_request_lines_and_paths_get_a_clear_4xx_and_the_server_lives_on() {
    let gw = rest(None).await;
    let cases: &[(&[u8], u16)] = &[
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /test/items HTTP/9.9\r\nHost: x\r\n\r\n", 400),
        (b"GET  HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        (
            b"GET /test/items/../items HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            400,
        ),
        (
            b"GET /test/items/%2e%2e/special HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            400,
        ),
        (
            b"GET /test/items/%FF%FE HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            400,
        ),
        (
            b"GET /test/items/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            400,
        ),
        (
            b"GET /test/files/a%2Fb HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            200,
        ),
        (
            b"GET /test/items/1%2F2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            400,
        ),
        (
            b"GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            400,
        ),
        (
            b"POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
            400,
        ),
    ];
    for (request, status) in cases {
        let answer = raw(gw.addr, request).await;
        assert_eq!(
            raw_status(&answer),
            Some(*status),
            "{:?} -> {answer:?}",
            String::from_utf8_lossy(request)
        );
    }
    // An encoded slash stays inside its segment.
    let answer = raw(
        gw.addr,
        b"GET /test/files/a%2Fb HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.contains(r#""path":"a/b""#), "{answer}");
    let bad_path = raw(
        gw.addr,
        b"GET /test/a/../b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(
        bad_path.ends_with(r#"{"message":"Bad Request"}"#),
        "{bad_path}"
    );
    // Still serving.
    let ok = Client::new()
        .get(Proto::Http1, &gw.url("/test/items/1"))
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    gw.stop().await;
}
