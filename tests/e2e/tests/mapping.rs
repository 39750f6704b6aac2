//! Mapping templates through the gateway (`apis/templates.kdl`): the non-proxy `http`
//! integration against a real upstream, the passthrough matrix of facts §1.6, integration
//! responses, parameter mappings, overrides, the templated mock (C10) and customised gateway
//! responses. Every case runs over HTTP/1.1 and h2c.

use http::{Method, StatusCode};
use serde_json::{Value, json};
use tollgate::{ServerConfig, StageVariableOverride};
use tollgate_e2e::apis::templates::TemplatesApi;
use tollgate_e2e::{Client, PROTOCOLS, Proto, Running, Upstream, start};

async fn gateway(up: &Upstream) -> Running {
    let config = ServerConfig::default().stage_variable(StageVariableOverride {
        stage: None,
        name: "up".into(),
        value: up.url(),
    });
    start(TemplatesApi::new(()), config).await
}

async fn post(
    c: &Client,
    proto: Proto,
    url: &str,
    ct: Option<&str>,
    body: &str,
) -> tollgate_e2e::Reply {
    let headers: Vec<(&str, &str)> = ct.map(|c| vec![("content-type", c)]).unwrap_or_default();
    c.request(proto, Method::POST, url, &headers, body.to_owned())
        .await
}

#[tokio::test]
async fn c1_request_template_output_reaches_the_backend_byte_for_byte() {
    let up = Upstream::start().await;
    let gw = gateway(&up).await;
    let c = Client::new();
    for proto in PROTOCOLS {
        let r = post(
            &c,
            proto,
            &gw.url("/test/c1?name=Bella&type=dog"),
            Some("application/json; charset=UTF-8"),
            r#"{"Price" : "249.99", "Age": "6"}"#,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let echo = r.json();
        assert_eq!(
            echo["body"],
            "{\n    \"name\" : \"Bella\",\n    \"body\" : {\"Price\":\"249.99\",\"Age\":\"6\"}\n}"
        );
        // Non-proxy: nothing of the method request is forwarded unless mapped; the
        // transformed body goes out as the template's content type.
        assert_eq!(echo["query"], "");
        assert_eq!(echo["headers"]["content-type"], "application/json");
        assert_eq!(echo["headers"]["user-agent"], "AmazonAPIGateway_templates");
        assert_eq!(echo["headers"]["x-amzn-apigateway-api-id"], "templates");
        assert_eq!(echo["headers"]["accept"], "application/json");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert!(
            r.header("x-upstream").is_none(),
            "backend headers are not passed through"
        );
    }
}

/// Facts §1.6: (route, content type, expected) for each row and behaviour.
#[tokio::test]
async fn passthrough_matrix() {
    let up = Upstream::start().await;
    let gw = gateway(&up).await;
    let c = Client::new();
    let t = "transformed";
    let cases: &[(&str, Option<&str>, Option<&str>)] = &[
        // only application/json defined
        ("/test/pass/json/x", None, Some(t)),
        ("/test/pass/json/x", Some("application/json"), Some(t)),
        ("/test/pass/json/x", Some("application/xml"), Some("<a/>")),
        ("/test/pass/json-nt", Some("application/json"), Some(t)),
        ("/test/pass/json-nt", Some("application/xml"), None),
        ("/test/pass/json-never", None, Some(t)),
        ("/test/pass/json-never", Some("application/xml"), None),
        // only application/xml defined
        ("/test/pass/xml", None, Some("<a/>")),
        ("/test/pass/xml", Some("application/json"), Some("<a/>")),
        ("/test/pass/xml", Some("application/xml"), Some(t)),
        ("/test/pass/xml-nt", Some("application/json"), None),
        ("/test/pass/xml-nt", None, None),
        ("/test/pass/xml-nt", Some("application/xml"), Some(t)),
        // none defined
        ("/test/pass/none", Some("text/plain"), Some("<a/>")),
        ("/test/pass/none-never", Some("application/json"), None),
        ("/test/pass/none-never", None, None),
    ];
    for proto in PROTOCOLS {
        for (path, ct, want) in cases {
            let r = post(&c, proto, &gw.url(path), *ct, "<a/>").await;
            match want {
                Some(body) => {
                    assert_eq!(r.status, StatusCode::OK, "{path} {ct:?}: {}", r.text());
                    assert_eq!(r.json()["body"], *body, "{path} {ct:?}");
                }
                None => {
                    // UNSUPPORTED_MEDIA_TYPE has its own gateway response (status 400, no
                    // template): the standard body, not DEFAULT_4XX's.
                    assert_eq!(
                        r.status,
                        StatusCode::BAD_REQUEST,
                        "{path} {ct:?}: {}",
                        r.text()
                    );
                    assert_eq!(
                        r.text(),
                        r#"{"message":"Unsupported Media Type"}"#,
                        "{path} {ct:?}"
                    );
                    assert!(r.header("access-control-allow-origin").is_none());
                }
            }
        }
    }
}

#[tokio::test]
async fn c6_and_c8_response_templates_over_the_backend_answer() {
    let up = Upstream::start().await;
    let gw = gateway(&up).await;
    let c = Client::new();
    let grocery = r#"{"department":"produce","categories":["fruit","vegetables"],"bins":[{"category":"fruit","type":"apples","price":1.99,"unit":"pound","quantity":232},{"category":"fruit","type":"bananas","price":0.19,"unit":"each","quantity":112},{"category":"vegetables","type":"carrots","price":1.29,"unit":"bag","quantity":57}]}"#;
    for proto in PROTOCOLS {
        let r = post(
            &c,
            proto,
            &gw.url("/test/grocery"),
            Some("application/json"),
            grocery,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        assert_eq!(
            r.json(),
            json!({"choices":[{"kind":"apples","suggestedPrice":"1.99 per pound","available":232},{"kind":"bananas","suggestedPrice":"0.19 per each","available":112},{"kind":"carrots","suggestedPrice":"1.29 per bag","available":57}]})
        );
        let r = post(
            &c,
            proto,
            &gw.url("/test/c8"),
            Some("application/json"),
            r#"{"json":{"bigger":"dict","to":"test","with":"separators"}}"#,
        )
        .await;
        assert_eq!(r.text(), "{bigger=dict, to=test, with=separators}");
        // The response template is picked by Accept.
        let r = c
            .request(
                proto,
                Method::POST,
                &gw.url("/test/c8"),
                &[
                    ("content-type", "application/json"),
                    ("accept", "text/plain, application/json"),
                ],
                r#"{"json":1}"#.to_owned(),
            )
            .await;
        assert_eq!(
            r.text(),
            r#"{"body": , "nested": , "isNull": "true", "isEmptyString": "true"}"#
        );
        assert_eq!(r.header("content-type"), Some("text/plain"));
    }
}

#[tokio::test]
async fn integration_responses_parameter_mappings_and_overrides() {
    let up = Upstream::start().await;
    let gw = gateway(&up).await;
    let c = Client::new();
    for proto in PROTOCOLS {
        let r = c
            .request(
                proto,
                Method::GET,
                &gw.url("/test/items/a%20b?code=200"),
                &[("x-user", "ana")],
                Vec::new(),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let v = r.json();
        assert_eq!(v["sent"], "{\"id\": \"a b\"}");
        assert_eq!(v["query"], "from=gateway");
        assert_eq!(v["user"], "ana");
        assert_eq!(v["stage"], "test");
        assert_eq!(v["override"], "yes");
        assert_eq!(v["method"], "POST");
        assert_eq!(v["path"], "/items/a%20b/status/200");
        assert_eq!(r.header("x-backend"), Some("yes"));
        assert_eq!(r.header("x-static"), Some("fixed"));

        // 404 from the backend selects the `404` response.
        let r = c.get(proto, &gw.url("/test/items/7?code=404")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.json(), json!({"missing": "7"}));

        // 5xx: the template overrides the status and adds a header.
        let r = c.get(proto, &gw.url("/test/items/7?code=500")).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text());
        assert_eq!(r.json(), json!({"backend": "failed"}));
        assert_eq!(r.header("retry-after"), Some("5"));

        // No pattern matches and there is no default: 500 API_CONFIGURATION_ERROR (a 5xx
        // gateway response, not customised here).
        let r = c.get(proto, &gw.url("/test/strict?code=404")).await;
        assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(r.text(), r#"{"message": "Internal server error"}"#);
        let r = c.get(proto, &gw.url("/test/strict?code=201")).await;
        assert_eq!(r.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn c10_mock_request_template_picks_the_status() {
    let up = Upstream::start().await;
    let gw = gateway(&up).await;
    let c = Client::new();
    for proto in PROTOCOLS {
        let r = c.get(proto, &gw.url("/test/mock?scope=internal")).await;
        assert_eq!(r.status, StatusCode::OK);
        let v: Value = r.json();
        assert_eq!(v["scope"], "internal");
        assert_eq!(v["requestId"], r.header("x-amzn-requestid").unwrap());
        // REST answers carry the extended request id too; a client cannot choose it.
        let ext = r.header("x-amz-apigw-id").unwrap();
        assert_eq!(v["ext"], ext);
        assert_eq!(ext.len(), 16);
        let r = c.get(proto, &gw.url("/test/mock?scope=public")).await;
        assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(r.json(), json!({"scope": "public"}));
    }
    assert_eq!(up.hits(), 0, "a mock never calls out");
}

#[tokio::test]
async fn customised_gateway_responses_map_headers_and_render_the_error() {
    let up = Upstream::start().await;
    let gw = gateway(&up).await;
    let c = Client::new();
    for proto in PROTOCOLS {
        // An unknown resource: MISSING_AUTHENTICATION_TOKEN falls back to DEFAULT_4XX.
        let r = c
            .request(
                proto,
                Method::GET,
                &gw.url("/test/nowhere"),
                &[("x-trace", "t-1")],
                Vec::new(),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(
            r.json(),
            json!({"error": "Missing Authentication Token", "type": "MISSING_AUTHENTICATION_TOKEN", "stage": "test"})
        );
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        assert_eq!(r.header("x-asked"), Some("t-1"));
        assert_eq!(
            r.header("x-amzn-errortype"),
            Some("MissingAuthenticationTokenException")
        );
        assert!(r.header("x-amzn-requestid").is_some());
        // A 5xx type keeps API Gateway's body (no DEFAULT_5XX here).
        let r = c.get(proto, &gw.url("/test/strict?code=404")).await;
        assert_eq!(r.text(), r#"{"message": "Internal server error"}"#);
        assert!(r.header("access-control-allow-origin").is_none());
    }
}

#[tokio::test]
async fn a_request_body_that_is_not_json_is_a_400_when_the_template_reads_it() {
    let up = Upstream::start().await;
    let gw = gateway(&up).await;
    let c = Client::new();
    for proto in PROTOCOLS {
        let r = post(
            &c,
            proto,
            &gw.url("/test/c1"),
            Some("application/json"),
            "not json",
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let v = r.json();
        assert_eq!(v["type"], "BAD_REQUEST_BODY");
        assert!(
            v["error"]
                .as_str()
                .unwrap()
                .starts_with("Could not parse request body into json"),
            "{v}"
        );
    }
    assert_eq!(up.hits(), 0);
}
