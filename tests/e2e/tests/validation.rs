//! Request validation through real sockets, answered exactly as API Gateway answers (facts file
//! §2.1): required parameters before the body, models chosen by Content-Type, empty bodies
//! validated as `{}`, and handlers receiving the validated body as a Rust type.

use http::{Method, StatusCode};
use tollgate::ServerConfig;
use tollgate_e2e::apis::validation::ShopApi;
use tollgate_e2e::{Client, PROTOCOLS, Proto, Running, ShopHandlers, start};

const INVALID_BODY: &str = r#"{"message": "Invalid request body"}"#;
const JSON: (&str, &str) = ("content-type", "application/json");

async fn shop() -> Running {
    start(ShopApi::new(ShopHandlers), ServerConfig::default()).await
}

fn missing(names: &str) -> String {
    format!(r#"{{"message": "Missing required request parameters: [{names}]"}}"#)
}

#[tokio::test]
async fn a_valid_request_reaches_the_handler_with_a_typed_body() {
    let gw = shop().await;
    let c = Client::new();
    for proto in PROTOCOLS {
        let body = r#"{"name":"lamp","price":12.5,"tags":["a","b"],"owner":{"email":"ann@example.com","name":null}}"#;
        let r = c
            .request(
                proto,
                Method::POST,
                &gw.url("/test/items?dryRun=1"),
                &[JSON, ("x-tenant", "t1")],
                body,
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let echo = r.json();
        assert_eq!(echo["tenant"], "t1");
        assert_eq!(echo["item"]["name"], "lamp");
        assert_eq!(echo["item"]["price"], 12.5);
        assert_eq!(echo["item"]["owner"]["email"], "ann@example.com");
        assert_eq!(echo["nameLength"], 4);
    }
    gw.stop().await;
}

#[tokio::test]
async fn missing_parameters_are_listed_header_first_and_win_over_a_bad_body() {
    let gw = shop().await;
    let c = Client::new();
    // Both parameters missing and the body invalid: the parameter message, names in key order.
    let r = c
        .request(
            Proto::Http1,
            Method::POST,
            &gw.url("/test/items"),
            &[JSON],
            "not json",
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.text(), missing("x-tenant, dryRun"));
    assert_eq!(r.header("x-amzn-errortype"), Some("BadRequestException"));
    // Present but blank counts as missing; optional parameters never do.
    let r = c
        .request(
            Proto::Http1,
            Method::POST,
            &gw.url("/test/items?dryRun="),
            &[JSON, ("x-tenant", "  ")],
            "{}",
        )
        .await;
    assert_eq!(r.text(), missing("x-tenant, dryRun"));
    // Header names are case-insensitive; query names are not.
    let r = c
        .request(
            Proto::Http1,
            Method::POST,
            &gw.url("/test/items?DRYRUN=1"),
            &[JSON, ("X-Tenant", "t")],
            "{}",
        )
        .await;
    assert_eq!(r.text(), missing("dryRun"));
    // Sorted by full key: header.x-a, header.x-b, querystring.q (path.id is always there).
    let r = c
        .request(
            Proto::Http2,
            Method::PATCH,
            &gw.url("/test/items/7"),
            &[],
            "",
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.text(), missing("x-a, x-b, q"));
    gw.stop().await;
}

#[tokio::test]
async fn bodies_are_checked_against_the_model_and_invalid_ones_get_400() {
    let gw = shop().await;
    let c = Client::new();
    let url = gw.url("/test/items?dryRun=1");
    let bad = [
        "",                                                      // empty: validated as {} → required fails
        "   ",                                                   // blank: the same
        "not json",                                              // not JSON
        r#"{"name":"lamp"}"#,                                    // missing price
        r#"{"name":"","price":1}"#,                              // minLength
        r#"{"name":"lamp","price":0}"#,                          // exclusiveMinimum
        r#"{"name":"lamp","price":1,"tags":["a","a"]}"#,         // uniqueItems
        r#"{"name":"lamp","price":1,"extra":true}"#,             // additionalProperties
        r#"{"name":"lamp","price":1,"owner":{"email":"nope"}}"#, // pattern, through a model-URL $ref
        r#"{"name":"lamp","price":"1"}"#,                        // type
        r#"[]"#,                                                 // type object
    ];
    for body in bad {
        for proto in PROTOCOLS {
            let r = c
                .request(proto, Method::POST, &url, &[JSON, ("x-tenant", "t")], body)
                .await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body:?}");
            assert_eq!(r.text(), INVALID_BODY, "{body:?}");
        }
    }
    gw.stop().await;
}

#[tokio::test]
async fn the_model_is_chosen_by_content_type_with_default_as_fallback() {
    let gw = shop().await;
    let c = Client::new();
    let bad = r#"{"name":""}"#;
    // A charset parameter and case do not change the MIME type.
    for ct in ["application/json; charset=UTF-8", "Application/JSON"] {
        let r = c
            .request(
                Proto::Http1,
                Method::PUT,
                &gw.url("/test/items"),
                &[("content-type", ct)],
                bad,
            )
            .await;
        assert_eq!(r.text(), INVALID_BODY, "{ct}");
    }
    // PUT has only a `$default` model: every content type is validated, no header means JSON.
    let r = c
        .request(
            Proto::Http1,
            Method::PUT,
            &gw.url("/test/items"),
            &[("content-type", "text/plain")],
            bad,
        )
        .await;
    assert_eq!(r.text(), INVALID_BODY);
    let ok = r#"{"name":"x","price":2}"#;
    let r = c
        .request(Proto::Http1, Method::PUT, &gw.url("/test/items"), &[], ok)
        .await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (StatusCode::OK, r#"{"ok":true}"#)
    );
    gw.stop().await;
}

#[tokio::test]
async fn no_model_for_the_content_type_means_no_validation() {
    let gw = shop().await;
    let c = Client::new();
    // PATCH's model is for application/json only, and its validator checks parameters only.
    let r = c
        .request(
            Proto::Http1,
            Method::PATCH,
            &gw.url("/test/items/7?q=1"),
            &[("x-a", "1"), ("x-b", "2"), JSON],
            "garbage",
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    // `validator none` turns an API-wide validator off for one method.
    let r = c
        .request(
            Proto::Http1,
            Method::DELETE,
            &gw.url("/test/items/7"),
            &[JSON],
            "garbage",
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    // A text/plain body on a JSON-only model is not validated by the gateway; the handler's
    // typed body cannot hold it, so it is still a 400 before the handler runs.
    let r = c
        .request(
            Proto::Http1,
            Method::POST,
            &gw.url("/test/items?dryRun=1"),
            &[("content-type", "text/plain"), ("x-tenant", "t")],
            "hello",
        )
        .await;
    assert_eq!(r.text(), INVALID_BODY);
    gw.stop().await;
}

#[tokio::test]
async fn the_default_empty_model_accepts_objects_and_empty_bodies() {
    let gw = shop().await;
    let c = Client::new();
    for (body, status) in [
        ("{}", 200),
        ("", 200),
        (r#"{"any":[1,2]}"#, 200),
        ("[]", 400),
        ("3", 400),
    ] {
        let r = c
            .request(
                Proto::Http1,
                Method::POST,
                &gw.url("/test/plain"),
                &[JSON],
                body,
            )
            .await;
        assert_eq!(r.status.as_u16(), status, "{body:?}");
    }
    gw.stop().await;
}

#[tokio::test]
async fn detailed_mode_lists_every_violation_with_its_pointer() {
    use tollgate_e2e::apis::detailed::DetailedApi;
    let gw = start(DetailedApi::new(()), ServerConfig::default()).await;
    let c = Client::new();
    let r = c
        .request(
            Proto::Http1,
            Method::POST,
            &gw.url("/test/things"),
            &[JSON],
            r#"{"a": 9, "b": ["x", "yy", 3]}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let body = r.json();
    assert_eq!(body["message"], "Invalid request body");
    let errors: Vec<(String, String)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["pointer"].as_str().unwrap().to_owned(),
                e["keyword"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            ("/a".to_owned(), "maximum".to_owned()),
            ("/b/0".to_owned(), "minLength".to_owned()),
            ("/b/2".to_owned(), "type".to_owned()),
        ]
    );
    let r = c
        .request(
            Proto::Http1,
            Method::POST,
            &gw.url("/test/things"),
            &[JSON],
            "",
        )
        .await;
    assert_eq!(
        r.json()["errors"][0]["message"],
        r#"object has missing required properties (["a"])"#
    );
    let r = c
        .request(
            Proto::Http1,
            Method::POST,
            &gw.url("/test/things"),
            &[JSON],
            "{oops",
        )
        .await;
    assert_eq!(r.json()["errors"][0]["keyword"], "json");
    let ok = c
        .request(
            Proto::Http1,
            Method::POST,
            &gw.url("/test/things"),
            &[JSON],
            r#"{"a": 1}"#,
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    gw.stop().await;
}
