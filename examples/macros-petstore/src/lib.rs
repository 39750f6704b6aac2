//! The petstore of `examples/petstore`, written only with macros: no `api.kdl`, no `build.rs`.
//!
//! `#[tollgate::api]` on the handlers' `impl` block declares the API (stages, stage variables,
//! the usage plan); each `#[get]`/`#[post]` method is a route whose integration is the method
//! itself; `#[derive(tollgate::Model)]` turns [`NewPet`] into the same JSON Schema
//! `examples/petstore/schemas/new-pet.json` holds, and the gateway validates bodies against it
//! before [`PetStore::create_pet`] runs. The KDL petstore's mocks (`/inventory`, `/status`,
//! `/greeting`) are handlers here that answer the same bytes; its `/proxy/{proxy+}` http-proxy
//! route has no macro form (a method is a handler integration) and is left out.
//!
//! The macro generates the module `petstore` (models, the `Petstore` trait, `PetstoreApi`) the
//! KDL form gets from `include_api!`, and implements `petstore::Petstore` for [`PetStore`].

use serde::Serialize;
use std::sync::Mutex;
use tollgate::http::{StatusCode, header};
use tollgate::{Body, HandlerResult, Request, Response, response};

/// A pet to add: the request model of `POST /pets`.
#[derive(Debug, tollgate::Model)]
pub struct NewPet {
    /// A non-blank name.
    #[model(min_length = 1, max_length = 64, pattern = "\\S")]
    pub name: String,
    /// Dog, cat, fish…
    #[model(rename = "type", max_length = 64)]
    pub kind: Option<String>,
}

/// A pet.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Pet {
    /// Assigned by the store.
    pub id: u64,
    /// The pet's name.
    pub name: String,
    /// Dog, cat, fish…
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// The handlers: an in-memory store shared by every stage.
#[derive(Debug)]
pub struct PetStore {
    pets: Mutex<Vec<Pet>>,
}

impl Default for PetStore {
    /// Three pets to start with, as API Gateway's example has.
    fn default() -> Self {
        let pet = |id, name: &str, kind: &str| Pet {
            id,
            name: name.into(),
            kind: Some(kind.into()),
        };
        PetStore {
            pets: Mutex::new(vec![
                pet(1, "Fido", "dog"),
                pet(2, "Tom", "cat"),
                pet(3, "Nemo", "fish"),
            ]),
        }
    }
}

fn message(status: StatusCode, text: &str) -> Response {
    response::json(status, &serde_json::json!({ "message": text }))
}

/// A JSON body written as is (what the KDL petstore's mocks answer).
fn raw_json(status: StatusCode, body: String) -> Response {
    let mut r = Response::new(Body::from_bytes(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    r
}

/// `$util.escapeJavaScript`, as API Gateway's templates escape.
fn escape_javascript(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\u{8}' => out.push_str("\\b"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            ' '..='\u{7f}' => out.push(c),
            _ => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf).iter() {
                    out.push_str(&format!("\\u{u:04X}"));
                }
            }
        }
    }
    out
}

#[tollgate::api(
    name = "petstore",
    flavor = "rest",
    stage(name = "prod", variables(upstream = "http://127.0.0.1:9000")),
    stage(name = "dev", variables(upstream = "http://127.0.0.1:9001")),
    // API keys: a key in this plan may call /inventory 10 times a second (bursts of 20) and
    // 1000 times a day. Keys are created outside the binary: `tollgate keys create`.
    usage_plan(
        name = "partners",
        throttle(rate = 10, burst = 20),
        quota(limit = 1000, period = "day"),
        stages("prod", "dev")
    )
)]
impl PetStore {
    /// `GET /pets`: every pet.
    #[get("/pets")]
    pub async fn list_pets(&self) -> HandlerResult {
        let pets = self
            .pets
            .lock()
            .map_err(|_| "pet store lock poisoned")?
            .clone();
        Ok(response::json(StatusCode::OK, &pets))
    }

    /// `POST /pets`: the body was validated against `NewPet` before this runs.
    #[post("/pets")]
    pub async fn create_pet(&self, new: NewPet) -> HandlerResult {
        let mut pets = self.pets.lock().map_err(|_| "pet store lock poisoned")?;
        let pet = Pet {
            id: pets.iter().map(|p| p.id).max().unwrap_or(0) + 1,
            name: new.name,
            kind: new.kind,
        };
        pets.push(pet.clone());
        Ok(response::json(StatusCode::CREATED, &pet))
    }

    /// `GET /pets/{petId}`: one pet, 404 otherwise.
    #[get("/pets/{petId}")]
    pub async fn get_pet(&self, pet_id: String) -> HandlerResult {
        let pets = self.pets.lock().map_err(|_| "pet store lock poisoned")?;
        let found = pet_id
            .parse::<u64>()
            .ok()
            .and_then(|id| pets.iter().find(|p| p.id == id));
        Ok(match found {
            Some(pet) => response::json(StatusCode::OK, pet),
            None => message(StatusCode::NOT_FOUND, "Pet not found"),
        })
    }

    /// `GET /inventory`: needs an API key of the `partners` plan.
    #[get("/inventory", api_key_required)]
    pub async fn inventory(&self) -> HandlerResult {
        Ok(raw_json(
            StatusCode::OK,
            r#"{"dogs":2,"cats":1}"#.to_owned(),
        ))
    }

    /// `GET /status`.
    #[get("/status")]
    pub async fn status(&self) -> HandlerResult {
        Ok(raw_json(StatusCode::OK, r#"{"status":"ok"}"#.to_owned()))
    }

    /// `GET /greeting?name=…`: what the KDL petstore's templated mock renders.
    #[get("/greeting")]
    pub async fn greeting(
        &self,
        #[query] name: Option<String>,
        request: &Request,
    ) -> HandlerResult {
        Ok(match name.as_deref() {
            None | Some("") => raw_json(
                StatusCode::BAD_REQUEST,
                r#"{"message": "say who to greet: ?name=…"}"#.to_owned(),
            ),
            Some(name) => raw_json(
                StatusCode::OK,
                format!(
                    r#"{{"greeting": "Hello, {}!", "stage": "{}"}}"#,
                    escape_javascript(name),
                    request.context().stage
                ),
            ),
        })
    }
}

/// The API, ready to serve.
pub fn api() -> PetstoreApi<PetStore> {
    PetstoreApi::new(PetStore::default())
}
