//! `#[tollgate::api]` on a module: its models and its one handler `impl` block.

#[tollgate::api(name = "shop", stage(name = "prod"))]
mod shop_api {
    use tollgate::http::StatusCode;
    use tollgate::{HandlerResult, response};

    #[derive(Debug, tollgate::Model)]
    pub struct NewItem {
        #[model(min_length = 1)]
        pub name: String,
    }

    pub struct Shop;

    impl Shop {
        pub fn new() -> Shop {
            Shop
        }
    }

    impl Shop {
        #[post("/items")]
        async fn create_item(&self, item: NewItem) -> HandlerResult {
            Ok(response::json(StatusCode::CREATED, &item.name))
        }
    }
}

fn main() {
    let _api = shop_api::ShopApi::new(shop_api::Shop::new());
}
