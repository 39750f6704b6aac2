use tollgate::HandlerResult;

pub struct Pets;

#[tollgate::api(name = "petstore", stage(name = "prod"))]
impl Pets {
    #[get("/pets")]
    #[post("/pets")]
    async fn pets(&self) -> HandlerResult {
        todo!()
    }
}

fn main() {}
