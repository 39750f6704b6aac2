use tollgate::http::StatusCode;
use tollgate::{HandlerResult, response};

pub struct Shop;

#[tollgate::api(kdl = "bound.kdl")]
impl Shop {
    async fn list_items(&self, page: u32) -> HandlerResult {
        Ok(response::json(StatusCode::OK, &page))
    }

    async fn create_item(&self, item: shop::models::NewItem) -> HandlerResult {
        Ok(response::json(StatusCode::CREATED, &item.name.as_str()))
    }

    async fn get_item(&self, item_id: u64) -> HandlerResult {
        Ok(response::json(StatusCode::OK, &item_id))
    }
}

fn main() {}
