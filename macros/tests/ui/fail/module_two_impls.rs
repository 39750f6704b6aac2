#[tollgate::api(name = "shop", stage(name = "prod"))]
mod shop_api {
    use tollgate::HandlerResult;

    pub struct Shop;
    pub struct Other;

    impl Shop {
        #[get("/items")]
        async fn list_items(&self) -> HandlerResult {
            todo!()
        }
    }

    impl Other {
        #[get("/other")]
        async fn other(&self) -> HandlerResult {
            todo!()
        }
    }
}

fn main() {}
