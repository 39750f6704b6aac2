use tollgate::HandlerResult;

pub struct Pets;

#[tollgate::api(name = "petstore", stage(name = "prod"))]
impl Pets {
    #[get("/pets")]
    fn list_pets(&self) -> HandlerResult {
        todo!()
    }
}

fn main() {}
