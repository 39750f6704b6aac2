//! The HTTP-API flavour: `$default` stage at the root, 404 `Not Found`, method fall-through to a
//! greedy route, 503 on integration timeout.

use http::{Method, StatusCode};
use tollgate::{ServerConfig, StageVariableOverride};
use tollgate_e2e::apis::http::HttpApi;
use tollgate_e2e::{Client, HttpHandlers, PROTOCOLS, Proto, Running, Upstream, start};

async fn http_api(upstream: &Upstream) -> Running {
    let config = ServerConfig::default().stage_variable(StageVariableOverride {
        stage: None,
        name: "upstream".into(),
        value: upstream.url(),
    });
    start(HttpApi::new(HttpHandlers), config).await
}

#[tokio::test]
async fn the_default_stage_serves_the_root_and_named_stages_their_prefix() {
    let up = Upstream::start().await;
    let gw = http_api(&up).await;
    let c = Client::new();
    for proto in PROTOCOLS {
        let r = c.get(proto, &gw.url("/pets/7")).await.json();
        assert_eq!(r, serde_json::json!({"id": "7", "stage": "$default"}));
        let r = c.get(proto, &gw.url("/beta/pets/7")).await.json();
        assert_eq!(r, serde_json::json!({"id": "7", "stage": "beta"}));
    }
    gw.stop().await;
}

#[tokio::test]
async fn a_method_without_a_route_falls_through_to_the_greedy_route() {
    let up = Upstream::start().await;
    let gw = http_api(&up).await;
    let c = Client::new();
    let r = c
        .request(Proto::Http1, Method::POST, &gw.url("/pets/7"), &[], "hi")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let echo = r.json();
    assert_eq!(echo["path"], "/pets/7");
    assert_eq!(echo["method"], "POST");
    gw.stop().await;
}

#[tokio::test]
async fn no_route_is_a_404_not_found_and_timeouts_are_a_503() {
    let up = Upstream::start().await;
    let gw = http_api(&up).await;
    let c = Client::new();
    for proto in PROTOCOLS {
        let r = c.get(proto, &gw.url("/")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.text(), r#"{"message":"Not Found"}"#);
        assert!(r.header("x-amzn-errortype").is_none());
        assert!(r.header("x-amz-apigw-id").is_none(), "REST only");

        let r = c.get(proto, &gw.url("/slow?sleep_ms=3000")).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.text(), r#"{"message":"Service Unavailable"}"#);
    }
    gw.stop().await;
}

#[tokio::test]
async fn jwt_refusals_are_http_api_answers_with_cors_headers() {
    let up = Upstream::start().await;
    let gw = http_api(&up).await;
    let c = Client::new();
    let jwt = tollgate_e2e::Jwt::new();
    let get = |token: Option<String>| {
        let url = gw.url("/private");
        let c = &c;
        async move {
            let mut h = vec![("origin".to_owned(), "https://any.example.test".to_owned())];
            if let Some(t) = token {
                h.push(("authorization".to_owned(), format!("Bearer {t}")));
            }
            let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            c.request(
                Proto::Http1,
                http::Method::GET,
                &url,
                &h,
                bytes::Bytes::new(),
            )
            .await
        }
    };
    let ok = get(Some(
        jwt.token("u", serde_json::json!({"scope": "pets:read"})),
    ))
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.header("access-control-allow-origin"), Some("*"));

    let none = get(None).await;
    assert_eq!(none.status, 401);
    assert_eq!(none.text(), r#"{"message":"Unauthorized"}"#);
    assert_eq!(none.header("x-amzn-errortype"), None);
    assert!(none.header("www-authenticate").is_some());
    assert_eq!(none.header("access-control-allow-origin"), Some("*"));

    // A missing scope is 403 Forbidden on HTTP APIs.
    let scope = get(Some(
        jwt.token("u", serde_json::json!({"scope": "pets:write"})),
    ))
    .await;
    assert_eq!(scope.status, 403);
    assert_eq!(scope.text(), r#"{"message":"Forbidden"}"#);
    assert!(
        scope
            .header("www-authenticate")
            .unwrap_or("")
            .contains("insufficient_scope")
    );
}
