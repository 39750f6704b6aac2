//! `mock` integrations: a fixed status, headers and body, answered without leaving the process.

use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode, header};

use crate::exchange::Exchange;
use crate::response::{Body, Response};

/// A compiled mock answer.
#[derive(Debug)]
pub struct MockSpec {
    /// Status code (checked at build time to be 100..=599).
    pub status: u16,
    /// Response headers (names and values checked at build time).
    pub headers: &'static [(&'static str, &'static str)],
    /// Response body.
    pub body: &'static str,
}

impl MockSpec {
    /// Builds the response. `Content-Type` defaults to `application/json`, as API Gateway's
    /// integration responses do.
    pub fn respond(&'static self) -> Response {
        let mut r = http::Response::new(Body::Full(Bytes::from_static(self.body.as_bytes())));
        *r.status_mut() = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        let headers = r.headers_mut();
        for (name, value) in self.headers {
            if let Ok(name) = HeaderName::from_bytes(name.as_bytes()) {
                headers.append(name, HeaderValue::from_static(value));
            }
        }
        if !headers.contains_key(header::CONTENT_TYPE) {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        r
    }
}

impl Exchange {
    /// Answers with the mock `spec`; the request body is not read.
    pub fn mock(self, spec: &'static MockSpec) -> Response {
        spec.respond()
    }
}
