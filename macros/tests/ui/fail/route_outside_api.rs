use tollgate::HandlerResult;

pub struct Pets;

impl Pets {
    #[tollgate::get("/pets")]
    pub async fn list_pets(&self) -> HandlerResult {
        todo!()
    }
}

fn main() {}
