//! Request ids: a UUID v4 per request, sent back as `x-amzn-RequestId`, and API Gateway's
//! extended request id (`$context.extendedRequestId`, the `x-amz-apigw-id` header of REST APIs).
//!
//! Like API Gateway, a client may choose its own id by sending `x-amzn-RequestId` in UUID form;
//! anything else is ignored and a fresh id is drawn.

use http::{HeaderMap, HeaderName, HeaderValue};

/// `x-amzn-RequestId`, as a constant (a `&str` name is parsed on every use).
pub static REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-amzn-requestid");

/// `x-amz-apigw-id`, as a constant.
pub static EXTENDED_ID_HEADER: HeaderName = HeaderName::from_static("x-amz-apigw-id");

/// A request id in its 36-character hyphenated UUID form.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RequestId([u8; 36]);

impl RequestId {
    /// A random UUID v4, from a fast thread-local generator (`fastrand`): ids must be unique,
    /// not secret, and a system call per request would cost more than the rest of routing.
    pub fn new() -> RequestId {
        let mut bits = fastrand::u128(..);
        bits = (bits & !(0xF << 76)) | (0x4 << 76); // version 4
        bits = (bits & !(0x3 << 62)) | (0x2 << 62); // RFC 4122 variant
        RequestId::from_u128(bits)
    }

    fn from_u128(bits: u128) -> RequestId {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = [b'-'; 36];
        let mut nibble = 0;
        for (i, slot) in out.iter_mut().enumerate() {
            if matches!(i, 8 | 13 | 18 | 23) {
                continue;
            }
            let shift = 124 - nibble * 4;
            *slot = HEX[((bits >> shift) & 0xF) as usize];
            nibble += 1;
        }
        RequestId(out)
    }

    /// The client's `x-amzn-RequestId` when it is a UUID, else a fresh one.
    pub fn from_headers(headers: &HeaderMap) -> RequestId {
        headers
            .get(&REQUEST_ID_HEADER)
            .and_then(|v| RequestId::parse(v.as_bytes()))
            .unwrap_or_else(RequestId::new)
    }

    /// Parses a hyphenated UUID (either case); normalises to lower case.
    pub fn parse(s: &[u8]) -> Option<RequestId> {
        if s.len() != 36 {
            return None;
        }
        let mut out = [0u8; 36];
        for (i, (&c, slot)) in s.iter().zip(out.iter_mut()).enumerate() {
            let dash = matches!(i, 8 | 13 | 18 | 23);
            if dash != (c == b'-') || (!dash && !c.is_ascii_hexdigit()) {
                return None;
            }
            *slot = c.to_ascii_lowercase();
        }
        Some(RequestId(out))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits and '-' are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The id as a header value.
    pub fn header_value(&self) -> HeaderValue {
        HeaderValue::from_bytes(&self.0).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

impl Default for RequestId {
    fn default() -> Self {
        RequestId::new()
    }
}

impl std::fmt::Debug for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// API Gateway's extended request id: 16 characters of base64 (11 random bytes), like
/// `LpzbYEkKIAMEb3g=`. Unlike the request id, a client cannot choose it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ExtendedRequestId([u8; 16]);

impl ExtendedRequestId {
    /// A fresh random id.
    pub fn new() -> ExtendedRequestId {
        const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let bits = fastrand::u128(..);
        let mut out = [b'='; 16];
        // 88 bits: 14 full sextets and 4 bits, then one `=` of padding (11 bytes → 16 chars).
        for (i, slot) in out.iter_mut().take(15).enumerate() {
            let v = if i < 14 {
                (bits >> (i * 6)) & 0x3F
            } else {
                ((bits >> 84) & 0xF) << 2
            };
            *slot = B64[v as usize];
        }
        ExtendedRequestId(out)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only base64 characters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The id as a header value.
    pub fn header_value(&self) -> HeaderValue {
        HeaderValue::from_bytes(&self.0).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

impl Default for ExtendedRequestId {
    fn default() -> Self {
        ExtendedRequestId::new()
    }
}

impl std::fmt::Debug for ExtendedRequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_ids_look_like_api_gateways() {
        let a = ExtendedRequestId::new();
        assert_ne!(a, ExtendedRequestId::new());
        let s = a.as_str();
        assert_eq!(s.len(), 16);
        assert!(s.ends_with('='));
        assert!(
            s[..15]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        );
    }

    #[test]
    fn fresh_ids_are_v4_uuids_and_differ() {
        let a = RequestId::new();
        let b = RequestId::new();
        assert_ne!(a, b);
        let s = a.as_str();
        assert_eq!(s.len(), 36);
        assert_eq!(&s[14..15], "4");
        assert!(matches!(&s[19..20], "8" | "9" | "a" | "b"));
        assert_eq!(RequestId::parse(s.as_bytes()), Some(a));
    }

    #[test]
    fn a_client_uuid_is_kept_and_anything_else_replaced() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-amzn-requestid",
            HeaderValue::from_static("C0FFEE00-1234-4abc-8def-0123456789AB"),
        );
        assert_eq!(
            RequestId::from_headers(&h).as_str(),
            "c0ffee00-1234-4abc-8def-0123456789ab"
        );
        h.insert("x-amzn-requestid", HeaderValue::from_static("not-a-uuid"));
        assert_ne!(RequestId::from_headers(&h).as_str(), "not-a-uuid");
    }
}
