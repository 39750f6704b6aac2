//! A KDL API (`bound.kdl`) bound to Rust methods with `#[tollgate::api(kdl = …)]`,
//! served on `127.0.0.1:0` and driven over HTTP: typed path parameters, a query parameter, the
//! model-typed body after validation, and the file's own mock.

use tollgate::http::{Method, StatusCode};
use tollgate::{HandlerResult, Request, ServerConfig, response};
use tollgate_e2e::{Client, PROTOCOLS, start};

#[derive(Debug)]
pub struct Shop;

#[tollgate::api(kdl = "bound.kdl")]
impl Shop {
    async fn list_items(&self, #[query] page: Option<u32>) -> HandlerResult {
        Ok(response::json(StatusCode::OK, &page))
    }

    async fn create_item(&self, item: shop::models::NewItem) -> HandlerResult {
        Ok(response::json(StatusCode::CREATED, &item.name.as_str()))
    }

    async fn get_item(&self, item_id: u64, request: Request) -> HandlerResult {
        Ok(response::json(
            StatusCode::OK,
            &(item_id, request.context().stage),
        ))
    }
}

#[tokio::test]
async fn a_kdl_api_serves_through_bound_methods() {
    let gw = start(ShopApi::new(Shop), ServerConfig::default()).await;
    let client = Client::new();
    for proto in PROTOCOLS {
        let r = client.get(proto, &gw.url("/prod/items?page=2")).await;
        assert_eq!((r.status, r.text().as_str()), (StatusCode::OK, "2"));
        let r = client.get(proto, &gw.url("/prod/items?page=x")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.text(), r#"{"message":"Invalid request parameters"}"#);
        let r = client.get(proto, &gw.url("/prod/items/7")).await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (StatusCode::OK, r#"[7,"prod"]"#)
        );
        let r = client.get(proto, &gw.url("/prod/items/seven")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let r = client
            .request(
                proto,
                Method::POST,
                &gw.url("/prod/items"),
                &[],
                r#"{"name":"saw"}"#,
            )
            .await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (StatusCode::CREATED, r#""saw""#)
        );
        let r = client
            .request(
                proto,
                Method::POST,
                &gw.url("/prod/items"),
                &[],
                r#"{"name":""}"#,
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(r.text(), r#"{"message": "Invalid request body"}"#);
        let r = client.get(proto, &gw.url("/prod/health")).await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (StatusCode::OK, r#"{"ok":true}"#)
        );
    }
    gw.stop().await;
}
