//! Custom authorizers: API Gateway's Lambda authorizers as Rust handler methods. The gateway
//! builds an [`AuthorizerRequest`] (the Lambda event's fields), the handler answers with an
//! [`AuthorizerResponse`] (principal, policy, context, usage identifier key) or an
//! [`AuthorizerError`].

use serde::Serialize;
use std::collections::BTreeMap;

use super::policy::Statement;

/// What a custom authorizer is called with: the fields of API Gateway's TOKEN or REQUEST
/// authorizer event. Serialises to the same JSON (`serde_json::to_value`) for code ported
/// from a Lambda function.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerRequest {
    /// `TOKEN` or `REQUEST`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The identity header's value (TOKEN authorizers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_token: Option<String>,
    /// `arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{path}`.
    pub method_arn: String,
    /// The resource template, e.g. `/pets/{petId}` (REQUEST).
    pub resource: &'static str,
    /// The request path after the stage (REQUEST).
    pub path: String,
    /// The request method (REQUEST).
    pub http_method: String,
    /// Request headers, lower-case names, the last value of repeated ones (REQUEST).
    pub headers: BTreeMap<String, String>,
    /// Query string parameters, the last value of repeated ones (REQUEST).
    pub query_string_parameters: BTreeMap<String, String>,
    /// Path parameters, decoded (REQUEST).
    pub path_parameters: BTreeMap<String, String>,
    /// The stage's variables (REQUEST).
    pub stage_variables: BTreeMap<String, String>,
    /// The caller's address (`requestContext.identity.sourceIp`).
    pub source_ip: String,
    /// The request id (`requestContext.requestId`).
    pub request_id: String,
    /// The stage name (`requestContext.stage`).
    pub stage: &'static str,
}

/// A value in an authorizer's `context`: strings, numbers and booleans only, as in API Gateway.
#[derive(Debug, Clone, PartialEq)]
pub enum ContextValue {
    /// A string.
    String(String),
    /// A number.
    Number(f64),
    /// A boolean.
    Bool(bool),
}

impl ContextValue {
    /// The value as `$context.authorizer.KEY` shows it (stringified).
    pub fn to_text(&self) -> String {
        match self {
            ContextValue::String(s) => s.clone(),
            ContextValue::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => {
                format!("{}", *n as i64)
            }
            ContextValue::Number(n) => n.to_string(),
            ContextValue::Bool(b) => b.to_string(),
        }
    }
}

impl From<&str> for ContextValue {
    fn from(s: &str) -> Self {
        ContextValue::String(s.to_owned())
    }
}
impl From<String> for ContextValue {
    fn from(s: String) -> Self {
        ContextValue::String(s)
    }
}
impl From<f64> for ContextValue {
    fn from(n: f64) -> Self {
        ContextValue::Number(n)
    }
}
impl From<i64> for ContextValue {
    fn from(n: i64) -> Self {
        ContextValue::Number(n as f64)
    }
}
impl From<bool> for ContextValue {
    fn from(b: bool) -> Self {
        ContextValue::Bool(b)
    }
}

/// A custom authorizer's answer: who the caller is and what they may invoke.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizerResponse {
    /// `principalId` (`$context.authorizer.principalId`).
    pub principal_id: String,
    /// The policy document's statements.
    pub statements: Vec<Statement>,
    /// `context`: `$context.authorizer.KEY`, and the handler's `Context::authorizer`.
    pub context: Vec<(String, ContextValue)>,
    /// `usageIdentifierKey`: the API key, when the API's `api-key-source` is `authorizer`.
    pub usage_identifier_key: Option<String>,
}

impl AuthorizerResponse {
    /// Allows `principal_id` to invoke the resources matching `resource` (a method ARN
    /// pattern: `"*"` for everything, `"arn:aws:execute-api:*:*:*/*/GET/*"`, …).
    pub fn allow(principal_id: impl Into<String>, resource: impl Into<String>) -> Self {
        Self::with_effect(principal_id, true, resource)
    }

    /// Denies `principal_id` the resources matching `resource` (403 with the explicit-deny
    /// message).
    pub fn deny(principal_id: impl Into<String>, resource: impl Into<String>) -> Self {
        Self::with_effect(principal_id, false, resource)
    }

    fn with_effect(
        principal_id: impl Into<String>,
        allow: bool,
        resource: impl Into<String>,
    ) -> Self {
        AuthorizerResponse {
            principal_id: principal_id.into(),
            statements: vec![Statement {
                allow,
                actions: vec!["execute-api:Invoke".to_owned()],
                resources: vec![resource.into()],
            }],
            context: Vec::new(),
            usage_identifier_key: None,
        }
    }

    /// Adds a statement.
    pub fn statement(mut self, allow: bool, resource: impl Into<String>) -> Self {
        self.statements.push(Statement {
            allow,
            actions: vec!["execute-api:Invoke".to_owned()],
            resources: vec![resource.into()],
        });
        self
    }

    /// Adds a `context` entry.
    pub fn context(mut self, key: impl Into<String>, value: impl Into<ContextValue>) -> Self {
        self.context.push((key.into(), value.into()));
        self
    }

    /// Sets `usageIdentifierKey` (default: none).
    pub fn usage_identifier_key(mut self, key: impl Into<String>) -> Self {
        self.usage_identifier_key = Some(key.into());
        self
    }

    /// Reads a Lambda authorizer's JSON output (`principalId`, `policyDocument`, `context`,
    /// `usageIdentifierKey`). A malformed document is an error (API Gateway answers 500).
    pub fn from_json(v: &serde_json::Value) -> Result<Self, String> {
        let principal_id = match v.get("principalId") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) if !other.is_null() => other.to_string(),
            _ => return Err("no principalId".to_owned()),
        };
        let doc = v.get("policyDocument").ok_or("no policyDocument")?;
        let list = |x: Option<&serde_json::Value>| -> Result<Vec<String>, String> {
            match x {
                Some(serde_json::Value::String(s)) => Ok(vec![s.clone()]),
                Some(serde_json::Value::Array(a)) => a
                    .iter()
                    .map(|e| {
                        e.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| "a non-string in a statement list".to_owned())
                    })
                    .collect(),
                _ => Err("a statement without Action or Resource".to_owned()),
            }
        };
        let statements = doc
            .get("Statement")
            .and_then(|s| match s {
                serde_json::Value::Array(a) => Some(a.clone()),
                o @ serde_json::Value::Object(_) => Some(vec![o.clone()]),
                _ => None,
            })
            .ok_or("no Statement in policyDocument")?
            .iter()
            .map(|s| {
                let allow = match s.get("Effect").and_then(|e| e.as_str()) {
                    Some(e) if e.eq_ignore_ascii_case("allow") => true,
                    Some(e) if e.eq_ignore_ascii_case("deny") => false,
                    _ => return Err("a statement without Effect Allow or Deny".to_owned()),
                };
                Ok(Statement {
                    allow,
                    actions: list(s.get("Action"))?,
                    resources: list(s.get("Resource"))?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let mut context = Vec::new();
        if let Some(c) = v.get("context").filter(|c| !c.is_null()) {
            let obj = c.as_object().ok_or("context is not an object")?;
            for (k, val) in obj {
                let cv = match val {
                    serde_json::Value::String(s) => ContextValue::String(s.clone()),
                    serde_json::Value::Bool(b) => ContextValue::Bool(*b),
                    serde_json::Value::Number(n) => {
                        ContextValue::Number(n.as_f64().unwrap_or_default())
                    }
                    _ => {
                        return Err(format!(
                            "context value `{k}` is not a string, number or boolean"
                        ));
                    }
                };
                context.push((k.clone(), cv));
            }
        }
        let usage_identifier_key = v
            .get("usageIdentifierKey")
            .and_then(|k| k.as_str())
            .map(str::to_owned);
        Ok(AuthorizerResponse {
            principal_id,
            statements,
            context,
            usage_identifier_key,
        })
    }
}

/// A custom authorizer's refusal or failure.
#[derive(Debug)]
pub enum AuthorizerError {
    /// The caller is not authenticated (the Lambda raised `"Unauthorized"`): 401
    /// `{"message":"Unauthorized"}`.
    Unauthorized,
    /// The authorizer broke: 500 `{"message": null}` (`AuthorizerConfigurationException`).
    /// The text is logged, never sent.
    Failed(String),
}

impl<E: std::error::Error> From<E> for AuthorizerError {
    fn from(e: E) -> Self {
        AuthorizerError::Failed(e.to_string())
    }
}

/// The largest `principalId` + context an authorizer may return, as API Gateway's 8 KB limit.
pub const MAX_RESULT_BYTES: usize = 8 * 1024;

impl AuthorizerResponse {
    /// An approximation of the serialised size, for the 8 KB limit.
    pub(crate) fn approx_size(&self) -> usize {
        self.principal_id.len()
            + self
                .statements
                .iter()
                .map(|s| {
                    64 + s
                        .resources
                        .iter()
                        .chain(&s.actions)
                        .map(|r| r.len() + 3)
                        .sum::<usize>()
                })
                .sum::<usize>()
            + self
                .context
                .iter()
                .map(|(k, v)| k.len() + v.to_text().len() + 6)
                .sum::<usize>()
            + self
                .usage_identifier_key
                .as_ref()
                .map_or(0, |k| k.len() + 24)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_lambda_answer() {
        let v = serde_json::json!({
            "principalId": "user|a1b2",
            "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": ["arn:aws:execute-api:*:*:*/prod/GET/*"]}
            ]},
            "context": {"tier": "gold", "n": 3, "admin": false},
            "usageIdentifierKey": "k123"
        });
        let r = AuthorizerResponse::from_json(&v).unwrap();
        assert_eq!(r.principal_id, "user|a1b2");
        assert!(r.statements[0].allow);
        assert_eq!(r.context[1].1.to_text(), "3");
        assert_eq!(r.usage_identifier_key.as_deref(), Some("k123"));
        let nested = serde_json::json!({"principalId": "x", "policyDocument": {"Statement": []}, "context": {"o": {}}});
        assert!(AuthorizerResponse::from_json(&nested).is_err());
        assert!(AuthorizerResponse::from_json(&serde_json::json!({"principalId": "x"})).is_err());
    }
}
