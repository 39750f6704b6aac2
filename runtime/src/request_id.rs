//! Request ids: a UUID v4 per request, sent back as `x-amzn-RequestId`.
//!
//! Like API Gateway, a client may choose its own id by sending `x-amzn-RequestId` in UUID form;
//! anything else is ignored and a fresh id is drawn.

use http::{HeaderMap, HeaderValue};

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
            .get("x-amzn-requestid")
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

#[cfg(test)]
mod tests {
    use super::*;

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
