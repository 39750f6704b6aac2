use tollgate::HandlerResult;

pub struct Orders;

#[tollgate::api(name = "orders", stage(name = "prod"))]
impl Orders {
    #[get("/orders", auth = "users")]
    async fn list_orders(&self) -> HandlerResult {
        todo!()
    }
}

fn main() {}
