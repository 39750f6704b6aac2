use tollgate::HandlerResult;

#[derive(tollgate::Model)]
pub struct Filter {
    kind: Option<String>,
}

pub struct Pets;

#[tollgate::api(name = "petstore", stage(name = "prod"))]
impl Pets {
    #[get("/pets")]
    async fn list_pets(&self, filter: Filter) -> HandlerResult {
        todo!("{:?}", filter.kind)
    }
}

fn main() {}
