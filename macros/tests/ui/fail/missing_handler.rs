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
}

fn main() {}
