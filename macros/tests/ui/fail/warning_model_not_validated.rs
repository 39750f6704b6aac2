//! A check's warning is a compiler warning; `deny(warnings)` makes it fail here so the test can
//! pin it.
#![deny(warnings)]

use tollgate::HandlerResult;

#[derive(tollgate::Model)]
pub struct NewPet {
    pub name: String,
}

pub struct Pets;

#[tollgate::api(name = "petstore", stage(name = "prod"), validator = "params-only")]
impl Pets {
    #[post("/pets")]
    async fn create_pet(&self, pet: NewPet) -> HandlerResult {
        todo!("{}", pet.name)
    }
}

fn main() {}
