//! The macro petstore and the KDL petstore (`examples/petstore`), both served in-process on
//! `127.0.0.1:0`, get the same requests over HTTP/1.1 and HTTP/2 and must give the same answers:
//! status, `content-type`, `x-amzn-ErrorType` and body, byte for byte.

use tollgate::ServerConfig;
use tollgate::http::Method;
use tollgate_e2e::{Client, PROTOCOLS, Reply, start};

/// One request: `(method, path, headers, body)`.
type Case = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

/// The requests, in order: later ones see what earlier ones created.
const REQUESTS: &[Case] = &[
    ("GET", "/prod/pets", &[], ""),
    ("GET", "/prod/pets/", &[], ""),
    ("GET", "/prod/pets/1", &[], ""),
    ("GET", "/dev/pets/2", &[], ""),
    ("GET", "/prod/pets/99", &[], ""),
    ("GET", "/prod/pets/abc", &[], ""),
    (
        "POST",
        "/prod/pets",
        &[("content-type", "application/json")],
        r#"{"name":"Rex","type":"dog"}"#,
    ),
    ("POST", "/prod/pets", &[], r#"{"name":"Kit"}"#),
    (
        "POST",
        "/prod/pets",
        &[("content-type", "text/plain")],
        r#"{"name":"Plain"}"#,
    ),
    (
        "POST",
        "/prod/pets",
        &[("content-type", "application/json")],
        r#"{"name":""}"#,
    ),
    (
        "POST",
        "/prod/pets",
        &[("content-type", "application/json")],
        r#"{"name":"   "}"#,
    ),
    (
        "POST",
        "/prod/pets",
        &[("content-type", "application/json")],
        r#"{"type":"cat"}"#,
    ),
    (
        "POST",
        "/prod/pets",
        &[("content-type", "application/json")],
        r#"{"name":"Rex","type":7}"#,
    ),
    (
        "POST",
        "/prod/pets",
        &[("content-type", "application/json")],
        "not json",
    ),
    (
        "POST",
        "/prod/pets",
        &[("content-type", "application/json")],
        "",
    ),
    (
        "POST",
        "/prod/pets",
        &[("content-type", "text/plain")],
        "not json",
    ),
    ("GET", "/prod/pets", &[], ""),
    ("GET", "/prod/pets/4", &[], ""),
    ("GET", "/prod/inventory", &[], ""),
    (
        "GET",
        "/prod/inventory",
        &[("x-api-key", "not-a-key-of-any-plan-0000")],
        "",
    ),
    ("GET", "/prod/status", &[], ""),
    ("GET", "/dev/status/", &[], ""),
    ("GET", "/prod/greeting?name=Bob", &[], ""),
    ("GET", "/dev/greeting?name=O%27Brien%20%22B%22", &[], ""),
    ("GET", "/prod/greeting?name=Zo%C3%AB/%F0%9F%90%B6", &[], ""),
    ("GET", "/prod/greeting?name=", &[], ""),
    ("GET", "/prod/greeting", &[], ""),
    ("GET", "/prod/nope", &[], ""),
    ("PUT", "/prod/pets", &[], ""),
    ("DELETE", "/prod/status", &[], ""),
    ("HEAD", "/prod/pets", &[], ""),
    ("GET", "/staging/pets", &[], ""),
    ("GET", "/pets", &[], ""),
    ("GET", "/prod/%2e%2e/pets", &[], ""),
    ("GET", "/prod/pet%73/1", &[], ""),
];

/// What must be equal: status, the headers that say what the body is, and the body.
fn answer(r: &Reply) -> (u16, Option<String>, Option<String>, String) {
    (
        r.status.as_u16(),
        r.header("content-type").map(str::to_owned),
        r.header("x-amzn-errortype").map(str::to_owned),
        r.text(),
    )
}

#[tokio::test]
async fn the_macro_petstore_answers_as_the_kdl_petstore() {
    let client = Client::new();
    let mut statuses = std::collections::BTreeSet::new();
    for proto in PROTOCOLS {
        // Fresh stores for each protocol, so both start from the same three pets.
        let kdl = start(example_petstore::api(), ServerConfig::default()).await;
        let macros = start(example_macros_petstore::api(), ServerConfig::default()).await;
        for (method, path, headers, body) in REQUESTS {
            let method = Method::from_bytes(method.as_bytes()).expect("a method");
            let a = client
                .request(
                    proto,
                    method.clone(),
                    &kdl.url(path),
                    headers,
                    body.to_string(),
                )
                .await;
            let b = client
                .request(
                    proto,
                    method.clone(),
                    &macros.url(path),
                    headers,
                    body.to_string(),
                )
                .await;
            statuses.insert(a.status.as_u16());
            assert_eq!(
                answer(&a),
                answer(&b),
                "{proto:?} {method} {path} {headers:?} {body:?}: KDL (left) and macros (right) differ"
            );
        }
        kdl.stop().await;
        macros.stop().await;
    }
    // The requests reach handlers, validation, keys, mocks and the router's refusals.
    assert_eq!(
        statuses.into_iter().collect::<Vec<_>>(),
        [200, 201, 400, 403, 404],
    );
}
