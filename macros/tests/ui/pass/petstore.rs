//! A small API with every kind of parameter binding.

use tollgate::http::StatusCode;
use tollgate::{HandlerResult, Request, response};

#[derive(tollgate::Model)]
#[model(additional_properties = false)]
pub struct NewPet {
    #[model(min_length = 1, max_length = 64, pattern = "\\S")]
    name: String,
    #[model(rename = "type", max_length = 64)]
    kind: Option<String>,
    #[model(minimum = 0, maximum = 100)]
    age: Option<u32>,
    owners: Option<Vec<Owner>>,
}

/// Referred to by `NewPet` only: the API learns it through `NewPet`'s derive.
#[derive(tollgate::Model)]
pub struct Owner {
    #[model(min_length = 1)]
    name: String,
}

pub struct Pets;

#[tollgate::api(
    name = "petstore",
    flavor = "rest",
    stage(name = "prod", variables(upstream = "http://127.0.0.1:9000"), throttle(rate = 100, burst = 200)),
    stage(name = "dev", cache(capacity = "1MiB", ttl = 60))
)]
impl Pets {
    #[get("/pets", cache(ttl = 60, key = "querystring.type"))]
    async fn list_pets(&self, #[query("type")] kind: Option<String>) -> HandlerResult {
        Ok(response::json(StatusCode::OK, &kind))
    }

    #[tollgate::post("/pets", throttle(rate = 10, burst = 20))]
    async fn create_pet(&self, pet: NewPet, #[header("x-tenant")] tenant: String) -> HandlerResult {
        let _ = (pet.kind, pet.age, pet.owners.map(|o| o.into_iter().map(|o| o.name)));
        Ok(response::json(StatusCode::CREATED, &(pet.name, tenant)))
    }

    #[get("/pets/{petId}", api_key_required)]
    async fn get_pet(
        &self,
        context: &tollgate::Context,
        pet_id: u64,
        request: Request,
        stage: tollgate::Context,
    ) -> HandlerResult {
        let _ = (request.uri(), &context.stage, stage.request_id);
        Ok(response::json(StatusCode::OK, &pet_id))
    }

    #[any("/files/{path+}")]
    async fn files(&self, path: String, request: &Request) -> HandlerResult {
        let _ = request.method();
        Ok(response::text(StatusCode::OK, path))
    }

    /// Not a handler: left alone.
    fn helper(&self) -> u8 {
        1
    }
}

fn main() {
    let api = PetstoreApi::new(Pets);
    let _ = api.handlers().helper();
    let _: fn() -> std::process::ExitCode = || tollgate::run(PetstoreApi::new(Pets));
    let schema: serde_json::Value = serde_json::from_str(<NewPet as tollgate::Model>::SCHEMA).unwrap();
    assert_eq!(schema["properties"]["type"]["maxLength"], 64);
}
