//! Request validation as API Gateway does it (facts file §2.1): required parameters first, then
//! the body against the model its `Content-Type` selects.
//!
//! - A required parameter must be present and non-blank (`?q=` fails). Missing names are listed
//!   in the order of their full keys (`method.request.header.*`, then `path.*`, then
//!   `querystring.*`): 400 `{"message": "Missing required request parameters: [a, b]"}`.
//! - The model is chosen by the MIME type of `Content-Type` (missing: `application/json`), else
//!   the `$default` model; with neither, the body is not validated.
//! - An empty body is validated as `{}`; a body that is not JSON, or does not satisfy the model,
//!   is 400 `{"message": "Invalid request body"}`.

use serde_json::Value;

use crate::exchange::Exchange;
use crate::response::{GatewayError, ResponseType};
use crate::schema::{Checked, TypedCheck, Violation};

/// A compiled model: its name and its validators.
#[derive(Debug)]
pub struct ModelSpec {
    /// The model name.
    pub name: &'static str,
    /// Valid or not (stops at the first failure).
    pub is_valid: fn(&Value) -> bool,
    /// Every violation, with JSON pointers.
    pub violations: fn(&Value) -> Vec<Violation>,
}

/// Where a required parameter is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamSource {
    /// A request header (case-insensitive name).
    Header,
    /// The path parameter at this route segment index.
    Path(usize),
    /// A query-string parameter (case-sensitive name).
    Querystring,
}

/// A required request parameter.
#[derive(Debug)]
pub struct RequiredParam {
    /// Where it is read from.
    pub source: ParamSource,
    /// Its name, as listed in the error message.
    pub name: &'static str,
}

/// A method's compiled validation.
#[derive(Debug)]
pub struct RequestValidation {
    /// Required parameters, already in API Gateway's reporting order; empty when the validator
    /// does not check parameters.
    pub required: &'static [RequiredParam],
    /// Request models by MIME type (or `$default`); empty when the validator does not check
    /// bodies.
    pub models: &'static [(&'static str, &'static ModelSpec)],
    /// Answer an invalid body with every violation (`validation-errors detailed`), not only
    /// API Gateway's `Invalid request body`.
    pub detailed: bool,
}

impl Exchange {
    /// Runs `v`: parameters, then the body.
    pub async fn validate(&mut self, v: &'static RequestValidation) -> Result<(), GatewayError> {
        self.check_parameters(v.required)?;
        match self.selected_model(v) {
            Some(model) => self.validate_body(v, model).await,
            None => Ok(()),
        }
    }

    /// Runs `v` and returns the body as the route's model type `T`, in one pass when it can:
    /// the bytes are deserialised straight into `T` and its keywords checked on the typed
    /// fields ([`TypedCheck`]); only when that cannot decide does the exact validator run over a
    /// parsed tree. A certain violation answers the standard 400 at once (the detailed mode
    /// still runs the exact validator to list every violation).
    pub async fn validated_body<T>(
        &mut self,
        v: &'static RequestValidation,
    ) -> Result<T, GatewayError>
    where
        T: serde::de::DeserializeOwned + TypedCheck,
    {
        self.check_parameters(v.required)?;
        let Some(model) = self.selected_model(v) else {
            return self.json_body().await;
        };
        if T::EXACT {
            let body = self.body().await?;
            if let Ok(value) = serde_json::from_slice::<T>(json_text(&body)) {
                match value.check() {
                    Checked::Valid => return Ok(value),
                    Checked::Invalid if !v.detailed => {
                        return Err(GatewayError::new(
                            ResponseType::BadRequestBody,
                            format!("body does not satisfy model {} (typed check)", model.name),
                        ));
                    }
                    Checked::Invalid | Checked::Unsure => {}
                }
            }
        }
        self.validate_body(v, model).await?;
        self.json_body().await
    }

    fn selected_model(&self, v: &'static RequestValidation) -> Option<&'static ModelSpec> {
        if v.models.is_empty() {
            return None;
        }
        select_model(self.parts.headers.get(http::header::CONTENT_TYPE), v.models)
    }

    async fn validate_body(
        &mut self,
        v: &'static RequestValidation,
        model: &'static ModelSpec,
    ) -> Result<(), GatewayError> {
        let body = self.body().await?;
        let doc: Value = match serde_json::from_slice(json_text(&body)) {
            Ok(doc) => doc,
            Err(e) => {
                let message = format!("instance is not valid JSON: {e}");
                return Err(body_error(v, model, &message, &[], format!("[{message}]")));
            }
        };
        if (model.is_valid)(&doc) {
            self.json = Some(doc);
            return Ok(());
        }
        let violations = (model.violations)(&doc);
        let messages: Vec<&str> = violations.iter().map(|x| x.message.as_str()).collect();
        let error_string = format!("[{}]", messages.join(", "));
        Err(body_error(
            v,
            model,
            &error_string,
            &violations,
            error_string.clone(),
        ))
    }

    /// The body deserialised as `T` (a model's type); an empty body reads as `{}`. A body that
    /// does not fit is 400 `Invalid request body`.
    pub async fn json_body<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, GatewayError> {
        let parsed = match self.json.take() {
            // Validation already parsed it: deserialise from the tree, not the bytes again.
            Some(doc) => T::deserialize(doc),
            None => serde_json::from_slice(json_text(&self.body().await?)),
        };
        parsed.map_err(|e| {
            GatewayError::new(
                ResponseType::BadRequestBody,
                format!("body does not fit the model type: {e}"),
            )
        })
    }

    fn check_parameters(&self, required: &'static [RequiredParam]) -> Result<(), GatewayError> {
        let mut missing: Vec<&str> = Vec::new();
        for p in required {
            let present = match p.source {
                ParamSource::Header => self
                    .parts
                    .headers
                    .get_all(p.name)
                    .iter()
                    .any(|v| !v.as_bytes().iter().all(u8::is_ascii_whitespace)),
                ParamSource::Path(i) => {
                    i < self.path.len().saturating_sub(self.skip)
                        && !self.raw_segment(i).trim().is_empty()
                }
                ParamSource::Querystring => self.parts.uri.query().is_some_and(|q| {
                    q.split('&').any(|pair| {
                        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                        percent_decode(k) == p.name && !percent_decode(v).trim().is_empty()
                    })
                }),
            };
            if !present {
                missing.push(p.name);
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        Err(GatewayError::with_message(
            ResponseType::BadRequestParameters,
            format!(
                "Missing required request parameters: [{}]",
                missing.join(", ")
            ),
        ))
    }
}

/// The JSON text a body stands for: an empty (or blank) body is `{}`, as API Gateway validates it.
fn json_text(body: &[u8]) -> &[u8] {
    if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    }
}

/// The 400 for a body that is not JSON or does not satisfy `model`.
fn body_error(
    v: &RequestValidation,
    model: &ModelSpec,
    detail: &str,
    violations: &[Violation],
    validation_error_string: String,
) -> GatewayError {
    let mut e = GatewayError::new(
        ResponseType::BadRequestBody,
        format!("body does not satisfy model {}: {detail}", model.name),
    )
    .with_validation_error_string(validation_error_string);
    if v.detailed {
        let errors: Vec<Value> = if violations.is_empty() {
            vec![serde_json::json!({ "pointer": "", "keyword": "json", "message": detail })]
        } else {
            violations
                .iter()
                .map(|x| serde_json::json!({ "pointer": x.instance, "keyword": x.keyword, "message": x.message }))
                .collect()
        };
        e = e
            .with_body(&serde_json::json!({ "message": "Invalid request body", "errors": errors }));
    }
    e
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// The model for a `Content-Type` header: its MIME type (case-insensitive, parameters ignored;
/// `application/json` when absent), else `$default`.
fn select_model(
    content_type: Option<&http::HeaderValue>,
    models: &'static [(&'static str, &'static ModelSpec)],
) -> Option<&'static ModelSpec> {
    let mime = content_type
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "application/json".to_owned());
    models
        .iter()
        .find(|(t, _)| *t == mime)
        .or_else(|| models.iter().find(|(t, _)| *t == "$default"))
        .map(|(_, m)| *m)
}
