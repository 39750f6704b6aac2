use tollgate::HandlerResult;

pub struct Pets;

#[tollgate::api(name = "petstore", stage(name = "prod"))]
impl Pets {
    #[get("/pets/{id}")]
    async fn get_pet(&self, id: Vec<u8>) -> HandlerResult {
        todo!("{id:?}")
    }
}

fn main() {}
