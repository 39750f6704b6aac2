//! `http-proxy` integrations: the request forwarded to an upstream URI (API Gateway's
//! `HTTP_PROXY`), through a pooled keep-alive hyper client, under the integration timeout.
//!
//! Headers are treated as API Gateway treats them (facts file §2.2): hop-by-hop and a few other
//! request headers are dropped, `Host` is the upstream's; upstream response headers that the
//! gateway owns are kept as `X-Amzn-Remapped-<name>`.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Uri, header};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::time::Duration;

use crate::exchange::Exchange;
use crate::response::{Body, GatewayError, Response, ResponseType};

/// A piece of a compiled upstream URI.
#[derive(Debug)]
pub enum UriPart {
    /// Literal text.
    Literal(&'static str),
    /// `${stageVariables.name}`; a missing variable renders empty, as in API Gateway.
    StageVariable(&'static str),
    /// `{param}`: the raw text of route segment `i`.
    Segment(usize),
    /// `{proxy}` of a greedy `{proxy+}`: the raw route segments from `i` on.
    Tail(usize),
    /// `{name}` filled from the `integration.request.path.name` mapping (non-proxy `http`),
    /// percent-encoded as one segment.
    Mapped(&'static str),
}

/// A compiled http-proxy integration.
#[derive(Debug)]
pub struct ProxySpec {
    /// The upstream URI template.
    pub uri: &'static [UriPart],
    /// Integration timeout in milliseconds (time until the upstream's response headers).
    pub timeout_ms: u64,
}

/// The pooled upstream client, one per server.
#[derive(Debug, Clone)]
pub struct ProxyClient {
    client: Client<HttpConnector, Full<Bytes>>,
}

impl ProxyClient {
    /// A keep-alive pool (idle connections kept 90 s) with `TCP_NODELAY` and a 10 s connect
    /// timeout (the integration timeout still bounds the whole exchange).
    pub fn new() -> ProxyClient {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(10)));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_timer(TokioTimer::new())
            .build(connector);
        ProxyClient { client }
    }
}

impl ProxyClient {
    /// Sends `req` on the pooled client.
    pub(crate) fn request(
        &self,
        req: http::Request<Full<Bytes>>,
    ) -> hyper_util::client::legacy::ResponseFuture {
        self.client.request(req)
    }
}

impl Default for ProxyClient {
    fn default() -> Self {
        ProxyClient::new()
    }
}

/// Request headers never forwarded upstream.
const DROP_REQUEST: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "expect",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
    "transfer-encoding",
    "content-md5",
    "max-forwards",
    "via",
    "host",
];

/// Response headers dropped on the way back.
const DROP_RESPONSE: &[&str] = &[
    "keep-alive",
    "proxy-connection",
    "expect",
    "proxy-authenticate",
    "te",
    "trailer",
    "upgrade",
    "transfer-encoding",
    "host",
];

/// Response headers the gateway owns: kept as `x-amzn-remapped-<name>`.
const REMAP_RESPONSE: &[&str] = &[
    "authorization",
    "connection",
    "content-md5",
    "max-forwards",
    "user-agent",
    "www-authenticate",
    "date",
    "server",
];

impl Exchange {
    /// Forwards the request to the upstream named by `spec`.
    pub async fn forward(mut self, spec: &'static ProxySpec) -> Result<Response, GatewayError> {
        let uri = self.upstream_uri(spec)?;
        let method = self.parts.method.clone();
        let mut headers = forward_headers(&self.parts.headers);
        let client_ip = self.remote.ip().to_string();
        append_forwarded_for(&mut headers, &client_ip);
        let shared = self.shared.clone();
        let body = self.body().await?;

        let mut req = http::Request::new(Full::new(body));
        *req.method_mut() = method;
        *req.uri_mut() = uri.clone();
        *req.headers_mut() = headers;

        let timeout = Duration::from_millis(spec.timeout_ms);
        let resp = match tokio::time::timeout(timeout, shared.client.client.request(req)).await {
            Err(_) => {
                return Err(GatewayError::new(
                    ResponseType::IntegrationTimeout,
                    format!("{uri} did not answer within {} ms", spec.timeout_ms),
                ));
            }
            Ok(Err(e)) => {
                let mut detail = format!("{uri}: {e}");
                let mut source = std::error::Error::source(&e);
                while let Some(s) = source {
                    detail.push_str(&format!(": {s}"));
                    source = s.source();
                }
                return Err(GatewayError::new(ResponseType::IntegrationFailure, detail));
            }
            Ok(Ok(resp)) => resp,
        };
        let (parts, body) = resp.into_parts();
        let mut out = http::Response::new(Body::Incoming(body));
        *out.status_mut() = parts.status;
        *out.headers_mut() = response_headers(parts.headers);
        Ok(out)
    }

    fn upstream_uri(&self, spec: &ProxySpec) -> Result<Uri, GatewayError> {
        // Only non-proxy integrations map path parameters.
        let mut s = self.uri_text(spec.uri, |_| None);
        if let Some(q) = self.parts.uri.query() {
            s.push(if s.contains('?') { '&' } else { '?' });
            s.push_str(q);
        }
        check_upstream(&s)
    }
}

impl Exchange {
    /// An upstream URI template with stage variables and path parameters substituted (raw
    /// segments as the client sent them; `Mapped` parameters from `mapped`, encoded as one
    /// segment).
    pub(crate) fn uri_text(
        &self,
        parts: &[UriPart],
        mapped: impl Fn(&str) -> Option<String>,
    ) -> String {
        let mut s = String::with_capacity(128);
        for part in parts {
            match part {
                UriPart::Literal(l) => s.push_str(l),
                UriPart::StageVariable(v) => {
                    s.push_str(self.stage().variables.get(v).unwrap_or(""))
                }
                UriPart::Segment(i) => s.push_str(self.raw_segment(*i)),
                UriPart::Tail(i) => s.push_str(self.raw_tail(*i)),
                UriPart::Mapped(n) => {
                    if let Some(v) = mapped(n) {
                        s.push_str(&encode_component(&v));
                    }
                }
            }
        }
        s
    }
}

/// RFC 3986 unreserved characters stay; everything else is percent-encoded.
const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a path segment or a query-string name or value.
pub(crate) fn encode_component(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, UNRESERVED).to_string()
}

/// Parses an upstream URI after substitution: an absolute `http://` URL (https upstreams are
/// not supported yet), else `API_CONFIGURATION_ERROR`.
pub(crate) fn check_upstream(s: &str) -> Result<Uri, GatewayError> {
    let uri: Uri = s.parse().map_err(|e| {
        GatewayError::new(
            ResponseType::ApiConfigurationError,
            format!("upstream URI {s:?} does not parse: {e}"),
        )
    })?;
    match uri.scheme_str() {
        Some("http") => Ok(uri),
        Some("https") => Err(GatewayError::new(
            ResponseType::ApiConfigurationError,
            format!("upstream {s:?}: https upstreams are not supported yet (plain http only)"),
        )),
        _ => Err(GatewayError::new(
            ResponseType::ApiConfigurationError,
            format!("upstream URI {s:?} is not an absolute http URL"),
        )),
    }
}

fn forward_headers(incoming: &HeaderMap) -> HeaderMap {
    // Headers named in `Connection` are hop-by-hop too.
    let listed: Vec<String> = incoming
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .collect();
    let mut out = HeaderMap::with_capacity(incoming.len() + 1);
    for (name, value) in incoming {
        let n = name.as_str();
        if DROP_REQUEST.contains(&n) || listed.iter().any(|l| l == n) {
            continue;
        }
        // A SigV4 signature is the gateway's to check, not the upstream's (API Gateway drops it).
        if name == header::AUTHORIZATION && value.as_bytes().starts_with(b"AWS4-HMAC-SHA256") {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    out
}

fn append_forwarded_for(headers: &mut HeaderMap, ip: &str) {
    let value = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(prev) => format!("{prev}, {ip}"),
        None => ip.to_owned(),
    };
    if let Ok(v) = HeaderValue::from_str(&value) {
        headers.insert("x-forwarded-for", v);
    }
}

fn response_headers(upstream: HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(upstream.len());
    let mut last: Option<HeaderName> = None;
    for (name, value) in upstream {
        // `HeaderMap::into_iter` yields `None` for further values of the previous name.
        let name = match name {
            Some(n) => {
                last = Some(n.clone());
                n
            }
            None => match &last {
                Some(n) => n.clone(),
                None => continue,
            },
        };
        let n = name.as_str();
        if DROP_RESPONSE.contains(&n) {
            continue;
        }
        if REMAP_RESPONSE.contains(&n) {
            if let Ok(remapped) = HeaderName::from_bytes(format!("x-amzn-remapped-{n}").as_bytes())
            {
                out.append(remapped, value);
            }
            continue;
        }
        out.append(name, value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigv4_authorization_is_not_forwarded() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=00"),
        );
        assert!(forward_headers(&h).get(header::AUTHORIZATION).is_none());
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(forward_headers(&h)[header::AUTHORIZATION], "Bearer abc");
    }

    #[test]
    fn request_headers_lose_hop_by_hop_and_connection_listed_names() {
        let mut h = HeaderMap::new();
        h.insert(
            "connection",
            HeaderValue::from_static("keep-alive, x-secret"),
        );
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert("te", HeaderValue::from_static("trailers"));
        h.insert("host", HeaderValue::from_static("gateway"));
        h.insert("max-forwards", HeaderValue::from_static("3"));
        h.insert("x-keep", HeaderValue::from_static("yes"));
        let out = forward_headers(&h);
        assert_eq!(out.len(), 1);
        assert_eq!(out["x-keep"], "yes");
    }

    #[test]
    fn upstream_headers_are_remapped_or_dropped_like_api_gateway() {
        let mut h = HeaderMap::new();
        h.insert("www-authenticate", HeaderValue::from_static("Basic"));
        h.insert("date", HeaderValue::from_static("Mon"));
        h.insert("transfer-encoding", HeaderValue::from_static("chunked"));
        h.append("set-cookie", HeaderValue::from_static("a=1"));
        h.append("set-cookie", HeaderValue::from_static("b=2"));
        let out = response_headers(h);
        assert_eq!(out["x-amzn-remapped-www-authenticate"], "Basic");
        assert_eq!(out["x-amzn-remapped-date"], "Mon");
        assert!(!out.contains_key("transfer-encoding"));
        assert_eq!(out.get_all("set-cookie").iter().count(), 2);
    }
}
