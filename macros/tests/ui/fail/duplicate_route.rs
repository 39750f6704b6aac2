use tollgate::HandlerResult;

pub struct Pets;

#[tollgate::api(name = "petstore", stage(name = "prod"))]
impl Pets {
    #[get("/pets/{id}")]
    async fn get_pet(&self, id: u64) -> HandlerResult {
        todo!("{id}")
    }

    #[get("/pets/{id}/")]
    async fn find_pet(&self, id: String) -> HandlerResult {
        todo!("{id}")
    }
}

fn main() {}
