//! Access control in the macro door: a TOKEN authorizer declared on `#[tollgate::api]` whose
//! handler is a method of the impl block, and routes that require it, served over HTTP.

use tollgate::http::StatusCode;
use tollgate::{
    AuthorizerError, AuthorizerRequest, AuthorizerResponse, HandlerResult, Request, ServerConfig,
    response,
};
use tollgate_e2e::{Client, PROTOCOLS, start};

#[derive(Debug)]
pub struct Orders;

#[tollgate::api(
    name = "orders",
    stage(name = "prod"),
    authorizer(
        name = "tokens",
        type = "token",
        handler = "check_token",
        validation = "Bearer [a-z]+",
        ttl = 0
    ),
    authorizer(
        name = "users",
        type = "jwt",
        issuer = "https://id.example.com",
        jwks_uri = "https://id.example.com/jwks.json",
        audience = "orders"
    )
)]
impl Orders {
    #[get("/orders", auth = "tokens")]
    async fn list_orders(&self, request: Request) -> HandlerResult {
        let who = request
            .context()
            .authorizer
            .as_ref()
            .map(|p| p.principal_id.clone())
            .unwrap_or_default();
        Ok(response::json(StatusCode::OK, &who))
    }

    #[post("/orders", auth = "users", scopes = "orders:write")]
    async fn create_order(&self) -> HandlerResult {
        Ok(response::empty(StatusCode::CREATED))
    }

    #[get("/open")]
    async fn open(&self) -> HandlerResult {
        Ok(response::empty(StatusCode::NO_CONTENT))
    }

    /// The TOKEN authorizer: `Bearer alice` is alice, `Bearer nobody` is refused.
    async fn check_token(
        &self,
        request: AuthorizerRequest,
    ) -> Result<AuthorizerResponse, AuthorizerError> {
        match request.authorization_token.as_deref() {
            Some("Bearer nobody") | None => Err(AuthorizerError::Unauthorized),
            Some(t) => Ok(AuthorizerResponse::allow(
                t.trim_start_matches("Bearer "),
                "arn:aws:execute-api:*:*:*/*/*/*",
            )),
        }
    }
}

#[tokio::test]
async fn a_token_authorizer_method_guards_its_routes() {
    let gw = start(OrdersApi::new(Orders), ServerConfig::default()).await;
    let client = Client::new();
    for proto in PROTOCOLS {
        let get = |auth: &'static str| {
            let client = client.clone();
            let url = gw.url("/prod/orders");
            async move {
                let headers: &[(&str, &str)] = if auth.is_empty() {
                    &[]
                } else {
                    &[("authorization", auth)]
                };
                client
                    .request(proto, tollgate::http::Method::GET, &url, headers, "")
                    .await
            }
        };
        let r = get("Bearer alice").await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (StatusCode::OK, r#""alice""#)
        );
        assert_eq!(get("Bearer nobody").await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(get("Basic x").await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(get("").await.status, StatusCode::UNAUTHORIZED);
        let r = client.get(proto, &gw.url("/prod/open")).await;
        assert_eq!(r.status, StatusCode::NO_CONTENT);
    }
    gw.stop().await;
}
