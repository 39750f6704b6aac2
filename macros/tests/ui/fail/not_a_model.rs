use tollgate::HandlerResult;

pub struct NewPet {
    pub name: String,
}

pub struct Pets;

#[tollgate::api(name = "petstore", stage(name = "prod"))]
impl Pets {
    #[post("/pets")]
    async fn create_pet(&self, pet: NewPet) -> HandlerResult {
        todo!("{}", pet.name)
    }
}

fn main() {}
