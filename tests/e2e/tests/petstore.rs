//! The petstore example, served in-process on 127.0.0.1:0 and driven by a real HTTP client over
//! HTTP/1.1 and HTTP/2: every answer the issue lists.

use http::{Method, StatusCode, Version};
use tollgate::{ServerConfig, StageVariableOverride};
use tollgate_e2e::{Client, PROTOCOLS, Proto, Running, Upstream, closed_port, start};

async fn petstore(config: ServerConfig) -> Running {
    start(example_petstore::api(), config).await
}

fn upstream_override(url: String) -> StageVariableOverride {
    StageVariableOverride {
        stage: Some("prod".into()),
        name: "upstream".into(),
        value: url,
    }
}

#[tokio::test]
async fn lists_creates_and_finds_pets_over_both_protocols() {
    let gw = petstore(ServerConfig::default()).await;
    let client = Client::new();
    for proto in PROTOCOLS {
        let list = client.get(proto, &gw.url("/prod/pets")).await;
        assert_eq!(list.status, StatusCode::OK, "{proto:?}");
        assert_eq!(list.header("content-type"), Some("application/json"));
        let pets = list.json();
        assert!(pets.as_array().is_some_and(|a| !a.is_empty()), "{pets}");
        assert_eq!(
            list.version,
            if proto == Proto::Http2 {
                Version::HTTP_2
            } else {
                Version::HTTP_11
            }
        );

        let created = client
            .request(
                proto,
                Method::POST,
                &gw.url("/prod/pets"),
                &[("content-type", "application/json")],
                r#"{"name":"Rex"}"#,
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
        let pet = created.json();
        assert_eq!(pet["name"], "Rex");
        let id = pet["id"].as_u64().expect("numeric id");

        let found = client
            .get(proto, &gw.url(&format!("/prod/pets/{id}")))
            .await;
        assert_eq!(found.status, StatusCode::OK);
        assert_eq!(found.json(), pet);

        let listed = client.get(proto, &gw.url("/prod/pets")).await.json();
        assert!(listed.as_array().unwrap().contains(&pet));

        for missing in ["/prod/pets/999999", "/prod/pets/abc"] {
            let r = client.get(proto, &gw.url(missing)).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{missing}");
        }
    }
    gw.stop().await;
}

#[tokio::test]
async fn a_bad_pet_is_refused_and_nothing_is_stored() {
    let gw = petstore(ServerConfig::default()).await;
    let client = Client::new();
    let before = client.get(Proto::Http1, &gw.url("/prod/pets")).await.json();
    for body in [
        "",
        "{",
        r#"{"name": 7}"#,
        r#"{"name":"  "}"#,
        r#"{"name":"Tom","type":7}"#,
    ] {
        let r = client
            .request(Proto::Http1, Method::POST, &gw.url("/prod/pets"), &[], body)
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body:?}");
        assert_eq!(r.json()["message"], "Invalid request body");
        // The model is `$default`: whatever the client says the body is, it is checked.
        let r = client
            .request(
                Proto::Http2,
                Method::POST,
                &gw.url("/prod/pets"),
                &[("content-type", "application/x-www-form-urlencoded")],
                body,
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "form-encoded {body:?}");
    }
    assert_eq!(
        client.get(Proto::Http1, &gw.url("/prod/pets")).await.json(),
        before
    );
    gw.stop().await;
}

#[tokio::test]
async fn status_is_a_mock_and_unknown_routes_get_api_gateways_403() {
    let gw = petstore(ServerConfig::default()).await;
    let client = Client::new();
    for proto in PROTOCOLS {
        let s = client.get(proto, &gw.url("/prod/status")).await;
        assert_eq!(s.status, StatusCode::OK);
        assert_eq!(s.header("content-type"), Some("application/json"));
        assert_eq!(s.json(), serde_json::json!({"status": "ok"}));

        for (method, path) in [
            (Method::GET, "/prod/nope"),
            (Method::GET, "/nostage/pets"),
            (Method::GET, "/"),
            (Method::DELETE, "/prod/pets"),
            (Method::HEAD, "/prod/status"),
            (Method::GET, "/prod/proxy"),
        ] {
            let r = client
                .request(proto, method.clone(), &gw.url(path), &[], "")
                .await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path}");
            assert_eq!(
                r.header("x-amzn-errortype"),
                Some("MissingAuthenticationTokenException")
            );
            if method != Method::HEAD {
                assert_eq!(r.text(), r#"{"message":"Missing Authentication Token"}"#);
            }
            assert!(r.header("x-amzn-requestid").is_some());
        }
    }
    gw.stop().await;
}

#[tokio::test]
async fn both_stages_are_mounted_and_each_has_its_own_prefix() {
    let gw = petstore(ServerConfig::default()).await;
    let client = Client::new();
    assert_eq!(
        client
            .get(Proto::Http1, &gw.url("/dev/status"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        client.get(Proto::Http1, &gw.url("/dev/pets")).await.status,
        StatusCode::OK
    );
    gw.stop().await;

    let only_prod = petstore(ServerConfig::default().stage("prod")).await;
    assert_eq!(
        client
            .get(Proto::Http1, &only_prod.url("/prod/status"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        client
            .get(Proto::Http1, &only_prod.url("/dev/status"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    only_prod.stop().await;

    let at_root = petstore(ServerConfig::default().stage("prod").at_root(true)).await;
    assert_eq!(
        client
            .get(Proto::Http1, &at_root.url("/status"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        client
            .get(Proto::Http1, &at_root.url("/prod/status"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    at_root.stop().await;
}

#[tokio::test]
async fn the_proxy_forwards_to_the_stage_variable_upstream() {
    let upstream = Upstream::start().await;
    let gw =
        petstore(ServerConfig::default().stage_variable(upstream_override(upstream.url()))).await;
    let client = Client::new();
    for proto in PROTOCOLS {
        let r = client
            .request(
                proto,
                Method::PUT,
                &gw.url("/prod/proxy/a/b%20c?x=1&y=2"),
                &[("x-custom", "v")],
                "payload",
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let echo = r.json();
        assert_eq!(echo["method"], "PUT");
        assert_eq!(echo["path"], "/a/b%20c");
        assert_eq!(echo["query"], "x=1&y=2");
        assert_eq!(echo["body"], "payload");
        assert_eq!(echo["headers"]["x-custom"], "v");
        assert_eq!(echo["headers"]["host"], upstream.addr.to_string());
        assert_eq!(r.header("x-upstream"), Some("yes"));
    }
    gw.stop().await;
}

#[tokio::test]
async fn a_stopped_upstream_is_a_502() {
    let port = closed_port().await;
    let gw = petstore(
        ServerConfig::default()
            .stage_variable(upstream_override(format!("http://127.0.0.1:{port}"))),
    )
    .await;
    let client = Client::new();
    for proto in PROTOCOLS {
        let r = client.get(proto, &gw.url("/prod/proxy/anything")).await;
        assert_eq!(r.status, StatusCode::BAD_GATEWAY);
        assert_eq!(r.text(), r#"{"message": "Internal server error"}"#);
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
    gw.stop().await;
}

#[tokio::test]
async fn the_greeting_mock_is_driven_by_its_templates() {
    let gw = petstore(ServerConfig::default()).await;
    let client = Client::new();
    for proto in PROTOCOLS {
        let hi = client
            .get(proto, &gw.url("/prod/greeting?name=Ana%20%22A%22"))
            .await;
        assert_eq!(hi.status, StatusCode::OK, "{}", hi.text());
        assert_eq!(
            hi.text(),
            r#"{"greeting": "Hello, Ana \"A\"!", "stage": "prod"}"#
        );
        assert_eq!(hi.header("content-type"), Some("application/json"));
        let dev = client.get(proto, &gw.url("/dev/greeting?name=Bo")).await;
        assert_eq!(dev.json()["stage"], "dev");
        let nobody = client.get(proto, &gw.url("/prod/greeting")).await;
        assert_eq!(nobody.status, StatusCode::BAD_REQUEST);
        assert_eq!(nobody.json()["message"], "say who to greet: ?name=…");
    }
}
