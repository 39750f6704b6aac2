//! Models in the macro door, served: a body of a derived model type with a nested model, checked
//! by the gateway (the nested model's keywords included) and handed to the handler as the struct.

use tollgate::http::{Method, StatusCode};
use tollgate::{HandlerResult, ServerConfig, response};
use tollgate_e2e::{Client, PROTOCOLS, start};

#[derive(Debug, tollgate::Model)]
pub struct Owner {
    #[model(min_length = 1)]
    pub name: String,
}

#[derive(Debug, tollgate::Model)]
#[model(additional_properties = false)]
pub struct Adoption {
    #[model(minimum = 1)]
    pub pet: u64,
    pub owners: Vec<Owner>,
    pub note: Option<String>,
}

#[derive(Debug)]
pub struct Shelter;

#[tollgate::api(name = "shelter", stage = "prod")]
impl Shelter {
    #[post("/adoptions")]
    async fn adopt(&self, adoption: Adoption) -> HandlerResult {
        let names: Vec<String> = adoption.owners.into_iter().map(|o| o.name).collect();
        Ok(response::json(
            StatusCode::CREATED,
            &(adoption.pet, names, adoption.note),
        ))
    }
}

#[tokio::test]
async fn bodies_are_validated_against_the_derived_models_then_handed_over() {
    let gw = start(ShelterApi::new(Shelter), ServerConfig::default()).await;
    let client = Client::new();
    let post = |proto, body: &'static str| {
        let client = client.clone();
        let url = gw.url("/prod/adoptions");
        async move { client.request(proto, Method::POST, &url, &[], body).await }
    };
    for proto in PROTOCOLS {
        let r = post(
            proto,
            r#"{"pet":3,"owners":[{"name":"Ann"},{"name":"Bo"}]}"#,
        )
        .await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (StatusCode::CREATED, r#"[3,["Ann","Bo"],null]"#)
        );
        for bad in [
            r#"{"pet":3,"owners":[{"name":""}]}"#,
            r#"{"pet":0,"owners":[]}"#,
            r#"{"pet":3}"#,
            r#"{"pet":3,"owners":[],"colour":"red"}"#,
            r#"{"pet":"3","owners":[]}"#,
            "not json",
        ] {
            let r = post(proto, bad).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
            assert_eq!(r.text(), r#"{"message": "Invalid request body"}"#, "{bad}");
        }
    }
    gw.stop().await;
}
