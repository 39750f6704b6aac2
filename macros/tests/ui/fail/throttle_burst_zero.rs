use tollgate::HandlerResult;

pub struct Pets;

#[tollgate::api(name = "petstore", stage(name = "prod", throttle(rate = 10, burst = 0)))]
impl Pets {
    #[get("/pets")]
    async fn list_pets(&self) -> HandlerResult {
        todo!()
    }
}

fn main() {}
