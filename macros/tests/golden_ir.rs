//! Golden test of the two doors: the API below, written with `#[tollgate::api]` and
//! `#[derive(tollgate::Model)]`, and `golden/shop.kdl`, read by the KDL front end, must give the
//! same `ir::Api` — compared as JSON with every source span removed (spans point into different
//! sources).

use serde_json::Value;
use tollgate::http::StatusCode;
use tollgate::{HandlerResult, Request, response};

#[derive(Debug, tollgate::Model)]
#[allow(dead_code)]
pub struct Tag {
    #[model(min_length = 1)]
    label: String,
}

#[derive(Debug, tollgate::Model)]
#[model(additional_properties = false)]
pub struct NewItem {
    #[model(min_length = 1, max_length = 50, pattern = "^[a-z]")]
    name: String,
    #[model(minimum = 0, exclusive_minimum = true)]
    price: f64,
    #[model(maximum = 100, multiple_of = 5)]
    count: Option<i64>,
    #[model(max_items = 3, unique_items)]
    tags: Vec<String>,
    kind: Option<String>,
    label: Option<Tag>,
}

#[derive(Debug)]
pub struct Shop;

#[tollgate::api(
    name = "shop",
    flavor = "rest",
    max_integration_timeout_ms = 20000,
    stage(
        name = "prod",
        variables(backend = "http://127.0.0.1:8081", region = "eu-west-1"),
        throttle(rate = 100, burst = 200),
        cache(capacity = 1048576, ttl = 120)
    ),
    stage(name = "dev", variables(backend = "http://127.0.0.1:9000")),
    throttle(rate = 1000, burst = 500),
    validator = "all",
    validation_errors = "detailed",
    api_key_source = "header",
    cors(
        allow_origins("https://app.example.com"),
        allow_headers("content-type", "x-tenant"),
        max_age = 600
    ),
    usage_plan(
        name = "gold",
        throttle(rate = 10, burst = 20),
        quota(limit = 1000, period = "week", offset = 10),
        stages("prod", "dev")
    ),
    models(Tag)
)]
impl Shop {
    #[get(
        "/items",
        cache(ttl = 60, key = "querystring.type", key = "header.x-tenant")
    )]
    async fn list_items(
        &self,
        #[query("type")] kind: Option<String>,
        #[header("x-tenant")] tenant: String,
    ) -> HandlerResult {
        Ok(response::json(StatusCode::OK, &(kind, tenant)))
    }

    #[post("/items", api_key_required, throttle(rate = 5, burst = 10))]
    async fn create_item(&self, item: NewItem) -> HandlerResult {
        let _ = (item.price, item.count, item.tags, item.kind, item.label);
        Ok(response::json(StatusCode::CREATED, &item.name))
    }

    #[get("/items/{itemId}", validator = "params-only")]
    async fn get_item(&self, item_id: u64, #[query] verbose: Option<bool>) -> HandlerResult {
        Ok(response::json(StatusCode::OK, &(item_id, verbose)))
    }

    #[delete("/items/{itemId}", request_model = "Tag")]
    async fn tag_item(&self, item_id: u64, request: Request) -> HandlerResult {
        Ok(response::text(StatusCode::OK, request.body().clone())).map(|r| {
            if item_id == 0 {
                response::empty(StatusCode::GONE)
            } else {
                r
            }
        })
    }

    #[any("/files/{path+}", auth = "iam", cors = false)]
    async fn files(&self, path: String) -> HandlerResult {
        Ok(response::text(StatusCode::OK, path))
    }
}

/// `v` without spans: `{value, span}` pairs become their value, other `span` keys go, and a
/// bare span (`api-key-required`, `auth iam`) becomes the marker `"span"`.
fn strip_spans(v: &mut Value) {
    match v {
        Value::Object(map)
            if map.len() == 2 && map.contains_key("offset") && map.contains_key("len") =>
        {
            *v = Value::from("span");
        }
        Value::Object(map) => {
            map.remove("span");
            if map.len() == 1 && map.contains_key("value") {
                let inner = map.remove("value").unwrap_or(Value::Null);
                *v = inner;
                strip_spans(v);
                return;
            }
            map.values_mut().for_each(strip_spans);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_spans),
        _ => {}
    }
}

#[test]
fn the_macro_and_the_kdl_door_read_to_the_same_ir() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/shop.kdl");
    let kdl = tollgate_dsl::load(path).expect("golden/shop.kdl checks");
    let mut from_kdl = serde_json::to_value(&kdl.api).expect("serialise");
    let mut from_macros: Value = serde_json::from_str(shop::__TOLLGATE_IR).expect("the macro's IR");
    strip_spans(&mut from_kdl);
    strip_spans(&mut from_macros);
    if from_kdl != from_macros {
        panic!(
            "the doors disagree\n--- KDL\n{}\n--- macros\n{}",
            serde_json::to_string_pretty(&from_kdl).unwrap_or_default(),
            serde_json::to_string_pretty(&from_macros).unwrap_or_default()
        );
    }
    // And the API serves: the generated type takes the handlers.
    let _api = ShopApi::new(Shop);
}
