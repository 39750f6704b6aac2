//! A KDL API bound to the methods of an impl block: no route attributes, no build.rs.

use tollgate::http::StatusCode;
use tollgate::{HandlerResult, Request, response};

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
        let _ = request.uri();
        Ok(response::json(StatusCode::OK, &item_id))
    }
}

fn main() {
    let _api = ShopApi::new(Shop);
}
