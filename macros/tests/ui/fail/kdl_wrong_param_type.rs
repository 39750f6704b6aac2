use tollgate::http::StatusCode;
use tollgate::{HandlerResult, response};

pub struct Shop;

#[tollgate::api(kdl = "bound.kdl")]
impl Shop {
    async fn list_items(&self) -> HandlerResult {
        Ok(response::empty(StatusCode::OK))
    }

    async fn create_item(&self, item: shop::models::NewItem) -> HandlerResult {
        Ok(response::json(StatusCode::CREATED, &item.name.as_str()))
    }

    async fn get_item(&self, item_id: String) -> HandlerResult {
        Ok(response::text(StatusCode::OK, item_id))
    }
}

fn main() {}
