//! What `#[tollgate::api]` and `#[derive(tollgate::Model)]` expand to call: typed extraction of
//! query and header parameters and of a model-typed body, and the gateway's answers when they
//! do not fit. Not a public API (`tollgate::__macros`): it changes whenever the macros do.

use crate::response::{GatewayError, ResponseType};
use crate::{Flavor, HandlerError, HandlerResult, Request, Response};
use serde_json::Value;

/// A model declared with `#[derive(tollgate::Model)]`: its name and its JSON Schema (draft 4),
/// the same document a KDL `model NAME schema=…` would hold.
pub trait Model: Sized {
    /// The model name (the struct's name).
    const NAME: &'static str;
    /// The JSON Schema (draft 4) the derive built from the fields and their `#[model(…)]`
    /// attributes, as JSON text.
    const SCHEMA: &'static str;
}

/// What a handler method may return: `HandlerResult`, a `Response`, or `Result<Response, E>` for
/// any error `E` that converts into a [`HandlerError`].
#[diagnostic::on_unimplemented(
    message = "a tollgate handler cannot return `{Self}`",
    label = "returns `{Self}`",
    note = "return `tollgate::HandlerResult`, a `tollgate::Response`, or `Result<tollgate::Response, E>` with an error `E`"
)]
pub trait IntoHandlerResult {
    /// The value as the handler's result.
    fn into_handler_result(self) -> HandlerResult;
}

impl IntoHandlerResult for Response {
    fn into_handler_result(self) -> HandlerResult {
        Ok(self)
    }
}

impl<E: Into<HandlerError>> IntoHandlerResult for Result<Response, E> {
    fn into_handler_result(self) -> HandlerResult {
        self.map_err(Into::into)
    }
}

/// Conversion from a JSON value that the gateway already validated against the model's schema.
/// `#[derive(tollgate::Model)]` implements it field by field.
pub trait FromJson: Sized {
    /// The value as `Self`, `None` when it does not fit (a wrong type, an integer out of range).
    fn from_json(v: &Value) -> Option<Self>;

    /// An object's field: `None` (absent) fits only `Option<T>`.
    fn from_field(v: Option<&Value>) -> Option<Self> {
        v.and_then(Self::from_json)
    }
}

impl FromJson for String {
    fn from_json(v: &Value) -> Option<Self> {
        v.as_str().map(str::to_owned)
    }
}

impl FromJson for bool {
    fn from_json(v: &Value) -> Option<Self> {
        v.as_bool()
    }
}

impl FromJson for f64 {
    fn from_json(v: &Value) -> Option<Self> {
        v.as_f64()
    }
}

impl FromJson for f32 {
    fn from_json(v: &Value) -> Option<Self> {
        v.as_f64().map(|f| f as f32)
    }
}

impl FromJson for Value {
    fn from_json(v: &Value) -> Option<Self> {
        Some(v.clone())
    }
}

macro_rules! int_from_json {
    ($($t:ty),*) => {$(
        impl FromJson for $t {
            fn from_json(v: &Value) -> Option<Self> {
                match (v.as_i64(), v.as_u64()) {
                    (Some(i), _) => <$t>::try_from(i).ok(),
                    (None, Some(u)) => <$t>::try_from(u).ok(),
                    _ => None,
                }
            }
        }
    )*};
}
int_from_json!(i8, i16, i32, i64, u8, u16, u32, u64, isize, usize);

impl<T: FromJson> FromJson for Option<T> {
    fn from_json(v: &Value) -> Option<Self> {
        if v.is_null() {
            Some(None)
        } else {
            T::from_json(v).map(Some)
        }
    }

    fn from_field(v: Option<&Value>) -> Option<Self> {
        match v {
            None => Some(None),
            Some(v) => Self::from_json(v),
        }
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(v: &Value) -> Option<Self> {
        v.as_array()?.iter().map(T::from_json).collect()
    }
}

/// A query-string or header value parsed as a handler parameter's type.
pub trait FromParam: Sized {
    /// The text as `Self`, `None` when it does not parse.
    fn from_param(s: &str) -> Option<Self>;
}

impl FromParam for String {
    fn from_param(s: &str) -> Option<Self> {
        Some(s.to_owned())
    }
}

impl FromParam for bool {
    fn from_param(s: &str) -> Option<Self> {
        match s {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }
}

impl FromParam for f64 {
    fn from_param(s: &str) -> Option<Self> {
        s.parse::<f64>().ok().filter(|f| f.is_finite())
    }
}

macro_rules! int_from_param {
    ($($t:ty),*) => {$(
        impl FromParam for $t {
            fn from_param(s: &str) -> Option<Self> {
                s.parse().ok()
            }
        }
    )*};
}
int_from_param!(i32, i64, u32, u64);

/// A present value, parsed: a blank one that does not parse (`?page=` for a number) counts as
/// absent; any other that does not parse is `Err(())`.
fn parse_present<T: FromParam>(v: Option<&str>) -> Result<Option<T>, ()> {
    let Some(v) = v else { return Ok(None) };
    match T::from_param(v) {
        Some(x) => Ok(Some(x)),
        None if v.trim().is_empty() => Ok(None),
        None => Err(()),
    }
}

/// Query-string parameter `name` (first value, decoded), parsed: `Ok(None)` when absent,
/// `Err(())` when it does not parse.
#[allow(clippy::result_unit_err)]
pub fn query<T: FromParam>(request: &Request, name: &str) -> Result<Option<T>, ()> {
    parse_present(request.query(name).as_deref())
}

/// Header `name` (first value), parsed: `Ok(None)` when absent, `Err(())` when it does not
/// parse.
#[allow(clippy::result_unit_err)]
pub fn header<T: FromParam>(request: &Request, name: &str) -> Result<Option<T>, ()> {
    parse_present(request.header(name))
}

/// The body as the handler's model type: an empty body reads as `{}`, as API Gateway does.
pub fn body<T: FromJson>(request: &Request) -> Option<T> {
    let bytes = request.body();
    let value: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Object(serde_json::Map::new())
    } else {
        serde_json::from_slice(bytes).ok()?
    };
    T::from_json(&value)
}

/// 400 `Invalid request parameters`: a query or header value does not parse as its type.
pub fn bad_parameter(flavor: Flavor, name: &str) -> Response {
    GatewayError::new(
        ResponseType::BadRequestParameters,
        format!("parameter `{name}` does not parse as the handler's type"),
    )
    .into_response(flavor)
}

/// 400 `Missing required request parameters: [name]` (when no validator checked it first).
pub fn missing_parameter(flavor: Flavor, name: &str) -> Response {
    GatewayError::with_message(
        ResponseType::BadRequestParameters,
        format!("Missing required request parameters: [{name}]"),
    )
    .into_response(flavor)
}

/// 400 `Invalid request body`: the body does not fit the handler's model type.
pub fn bad_body(flavor: Flavor) -> Response {
    GatewayError::new(
        ResponseType::BadRequestBody,
        "the body does not fit the handler's model type",
    )
    .into_response(flavor)
}
