use tollgate::HandlerResult;

pub struct Pets;

#[tollgate::api(name = "petstore")]
impl Pets {
    #[get("/pets")]
    async fn list_pets(&self) -> HandlerResult {
        todo!()
    }
}

fn main() {}
