use tollgate::HandlerResult;

pub struct Orders;

#[tollgate::api(
    name = "orders",
    stage(name = "prod"),
    authorizer(name = "tokens", type = "token", handler = "check_token")
)]
impl Orders {
    #[get("/orders", auth = "tokens")]
    async fn list_orders(&self) -> HandlerResult {
        todo!()
    }
}

fn main() {}
