//! CORS: preflight requests answered by the gateway (generated routing sends an `OPTIONS`
//! on a resource without its own `OPTIONS` method here), and the `Access-Control-*` headers
//! added to every answer to an allowed origin — the integration's and the gateway's own error
//! responses alike (API Gateway users trip over the latter missing).

use http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::exchange::Exchange;
use crate::response::{Body, Response};

/// A CORS configuration, as generated code declares it.
#[derive(Debug)]
pub struct CorsSpec {
    /// Allowed origins (`*` = any).
    pub allow_origins: &'static [&'static str],
    /// `Access-Control-Allow-Methods`, comma-joined; empty = the resource's methods.
    pub allow_methods: &'static str,
    /// `Access-Control-Allow-Headers`, comma-joined, lower-case; `*` allows what is asked.
    pub allow_headers: &'static str,
    /// `Access-Control-Expose-Headers`, comma-joined; empty = none.
    pub expose_headers: &'static str,
    /// `Access-Control-Max-Age` in seconds.
    pub max_age: Option<u64>,
    /// `Access-Control-Allow-Credentials: true`.
    pub allow_credentials: bool,
    /// `cors #false`: no CORS on this resource.
    pub disabled: bool,
}

/// A resource's preflight answer: its CORS configuration and its methods.
#[derive(Debug)]
pub struct PreflightSpec {
    /// The configuration that applies.
    pub cors: &'static CorsSpec,
    /// The resource's methods, comma-joined (used when `allow_methods` is empty).
    pub methods: &'static str,
}

impl CorsSpec {
    /// The `Access-Control-Allow-Origin` value for `origin`, if it is allowed.
    pub fn allow_origin(&self, origin: &HeaderValue) -> Option<HeaderValue> {
        if self.disabled {
            return None;
        }
        let o = origin.to_str().ok()?;
        if self.allow_origins.contains(&"*") {
            // With credentials browsers need the origin itself (the checker forbids `*` with
            // credentials, but an echo keeps both right).
            return Some(if self.allow_credentials {
                origin.clone()
            } else {
                HeaderValue::from_static("*")
            });
        }
        self.allow_origins
            .iter()
            .any(|a| a.eq_ignore_ascii_case(o))
            .then(|| origin.clone())
    }

    /// Adds the headers of an actual (non-preflight) answer to an allowed origin.
    pub fn decorate(&self, origin: &HeaderValue, headers: &mut HeaderMap) {
        let Some(allow) = self.allow_origin(origin) else {
            return;
        };
        let star = allow == "*";
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
        if !star {
            headers.append(header::VARY, HeaderValue::from_static("Origin"));
        }
        if self.allow_credentials {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        if !self.expose_headers.is_empty() {
            headers.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(self.expose_headers),
            );
        }
    }
}

impl Exchange {
    /// Answers a CORS preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`)
    /// for a resource: 204, with the `Access-Control-Allow-*` headers when the origin, the
    /// method and the headers asked for are allowed, without them otherwise (the browser then
    /// refuses the real request). No authorizer, API key or throttle runs for a preflight.
    pub fn preflight(&self, spec: &'static PreflightSpec) -> Response {
        let mut r = http::Response::new(Body::Empty);
        *r.status_mut() = StatusCode::NO_CONTENT;
        let h = &self.parts.headers;
        let cors = spec.cors;
        let (Some(origin), Some(method)) = (
            h.get(header::ORIGIN),
            h.get(header::ACCESS_CONTROL_REQUEST_METHOD)
                .and_then(|v| v.to_str().ok()),
        ) else {
            return r;
        };
        let Some(allow) = cors.allow_origin(origin) else {
            return r;
        };
        let methods = if cors.allow_methods.is_empty() {
            spec.methods
        } else {
            cors.allow_methods
        };
        let method_ok = methods == "*"
            || methods
                .split(',')
                .any(|m| m.trim().eq_ignore_ascii_case(method));
        let requested = h
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let headers_ok = cors.allow_headers == "*"
            || requested
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .all(|req| {
                    cors.allow_headers
                        .split(',')
                        .any(|a| a.trim().eq_ignore_ascii_case(req))
                });
        if !method_ok || !headers_ok {
            return r;
        }
        let out = r.headers_mut();
        let star = allow == "*";
        out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
        if !star {
            out.insert(header::VARY, HeaderValue::from_static("Origin"));
        }
        out.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(methods),
        );
        let allow_headers = if cors.allow_headers == "*" {
            HeaderValue::from_str(requested).ok()
        } else if cors.allow_headers.is_empty() {
            None
        } else {
            Some(HeaderValue::from_static(cors.allow_headers))
        };
        if let Some(v) = allow_headers.filter(|v| !v.is_empty()) {
            out.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, v);
        }
        if let Some(age) = cors.max_age {
            out.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from(age));
        }
        if cors.allow_credentials {
            out.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static EXACT: CorsSpec = CorsSpec {
        allow_origins: &["https://app.example.com"],
        allow_methods: "",
        allow_headers: "content-type,authorization",
        expose_headers: "x-amzn-requestid",
        max_age: Some(600),
        allow_credentials: true,
        disabled: false,
    };

    #[test]
    fn origins_are_matched_exactly_or_by_star() {
        let ok = HeaderValue::from_static("https://app.example.com");
        let other = HeaderValue::from_static("https://evil.example.com");
        assert_eq!(EXACT.allow_origin(&ok), Some(ok.clone()));
        assert_eq!(EXACT.allow_origin(&other), None);
        let mut h = HeaderMap::new();
        EXACT.decorate(&ok, &mut h);
        assert_eq!(h["access-control-allow-origin"], "https://app.example.com");
        assert_eq!(h["access-control-allow-credentials"], "true");
        assert_eq!(h["access-control-expose-headers"], "x-amzn-requestid");
        assert_eq!(h["vary"], "Origin");
        let mut none = HeaderMap::new();
        EXACT.decorate(&other, &mut none);
        assert!(none.is_empty());
    }
}
