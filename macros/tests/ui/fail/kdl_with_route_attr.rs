use tollgate::http::StatusCode;
use tollgate::{HandlerResult, response};

pub struct Shop;

#[tollgate::api(kdl = "bound.kdl")]
impl Shop {
    #[get("/items")]
    async fn list_items(&self) -> HandlerResult {
        Ok(response::empty(StatusCode::OK))
    }
}

fn main() {}
