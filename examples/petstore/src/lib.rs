//! The petstore example: `api.kdl` compiled by `build.rs`, and the handlers it names.
//!
//! `GET /pets` lists pets, `POST /pets` adds one (`{"name": "Rex"}` → 201 with its numeric id;
//! the gateway checks the body against the `NewPet` model first and hands the handler a typed
//! [`petstore::models::NewPet`]),
//! `GET /pets/{petId}` finds one (404 otherwise). `/status` is a mock and `/proxy/{proxy+}`
//! forwards to the stage variable `upstream`. Everything else answers API Gateway's 403.

use serde::Serialize;
use std::sync::Mutex;
use tollgate::http::StatusCode;
use tollgate::{HandlerResult, Request, response};

/// The code generated from `api.kdl`.
pub mod petstore {
    tollgate::include_api!("petstore");
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

fn message(status: StatusCode, text: &str) -> tollgate::Response {
    response::json(status, &serde_json::json!({ "message": text }))
}

impl petstore::Petstore for PetStore {
    async fn list_pets(&self, _request: Request) -> HandlerResult {
        let pets = self
            .pets
            .lock()
            .map_err(|_| "pet store lock poisoned")?
            .clone();
        Ok(response::json(StatusCode::OK, &pets))
    }

    async fn create_pet(&self, _request: Request, new: petstore::models::NewPet) -> HandlerResult {
        // Already validated against the `NewPet` model: a non-blank name, a string type if any.
        let mut pets = self.pets.lock().map_err(|_| "pet store lock poisoned")?;
        let pet = Pet {
            id: pets.iter().map(|p| p.id).max().unwrap_or(0) + 1,
            name: new.name.into_string(),
            kind: new.type_.map(|t| t.into_string()),
        };
        pets.push(pet.clone());
        Ok(response::json(StatusCode::CREATED, &pet))
    }

    async fn get_pet(&self, _request: Request, pet_id: String) -> HandlerResult {
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
}

/// The API, ready to serve.
pub fn api() -> petstore::PetstoreApi<PetStore> {
    petstore::PetstoreApi::new(PetStore::default())
}
