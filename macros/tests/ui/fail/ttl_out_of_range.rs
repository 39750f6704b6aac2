use tollgate::HandlerResult;

pub struct Pets;

#[tollgate::api(name = "petstore", stage(name = "prod", cache(capacity = "1MiB")))]
impl Pets {
    #[get("/pets", cache(ttl = 7200))]
    async fn list_pets(&self) -> HandlerResult {
        todo!()
    }
}

fn main() {}
