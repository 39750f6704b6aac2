use tollgate::HandlerResult;

pub struct Pets;

#[tollgate::api(name = "petstore", stage(name = "prod"))]
impl Pets {
    #[get("/pets/{id}")]
    async fn get_pet(&self, pet: u64) -> HandlerResult {
        todo!("{pet}")
    }
}

fn main() {}
