//! Handlers may return `HandlerResult`, a `Response` or `Result<Response, E>`.

use tollgate::http::StatusCode;
use tollgate::{HandlerResult, Response, response};

pub struct Api;

#[tollgate::api(name = "returns", stage = "prod")]
impl Api {
    #[get("/result")]
    async fn result(&self) -> HandlerResult {
        Ok(response::empty(StatusCode::OK))
    }

    #[get("/response")]
    async fn plain(&self) -> Response {
        response::empty(StatusCode::NO_CONTENT)
    }

    #[get("/string-error")]
    async fn string_error(&self) -> Result<Response, String> {
        Err("no".to_owned())
    }
}

fn main() {
    let _ = ReturnsApi::new(Api);
}
