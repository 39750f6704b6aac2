#[derive(tollgate::Model)]
pub struct NewPet {
    #[model(min_length = 1, pattern = "^(?=[a-z])\\w+$")]
    name: String,
}

fn main() {}
