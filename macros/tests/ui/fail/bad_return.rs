pub struct Api;

#[tollgate::api(name = "returns", stage = "prod")]
impl Api {
    #[get("/count")]
    async fn count(&self) -> u32 {
        7
    }
}

fn main() {}
