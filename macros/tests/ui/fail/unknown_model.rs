use tollgate::HandlerResult;

#[derive(tollgate::Model)]
pub struct Pet {
    name: String,
}

pub struct Pets;

#[tollgate::api(name = "petstore", stage(name = "prod"), models(Pet))]
impl Pets {
    #[post("/pets", request_model = "Pett")]
    async fn create_pet(&self, request: tollgate::Request) -> HandlerResult {
        todo!("{request:?}")
    }
}

fn main() {}
