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

/// The two lower-case hex digits of every byte.
static HEX_PAIRS: [[u8; 2]; 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [HEX[i >> 4], HEX[i & 0xF]];
        i += 1;
    }
    t
};

/// A header value holding `bytes` (visible ASCII), carved out of a per-thread buffer instead
/// of an allocation of its own: the two ids go on every answer, and two allocations (and their
/// frees) per request showed up in the cache-hit profile (`BENCHMARKS.md`).
fn carved(bytes: &[u8]) -> HeaderValue {
    use std::cell::RefCell;
    const SLAB: usize = 8192;
    thread_local! {
        static BUF: RefCell<bytes::BytesMut> = RefCell::new(bytes::BytesMut::new());
    }
    let shared = BUF.with_borrow_mut(|buf| {
        if buf.capacity() < bytes.len() {
            // The old buffer lives on in the values carved from it until they drop.
            *buf = bytes::BytesMut::with_capacity(SLAB);
        }
        buf.extend_from_slice(bytes);
        buf.split().freeze()
    });
    HeaderValue::from_maybe_shared(shared).unwrap_or_else(|_| HeaderValue::from_static(""))
}

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
        let mut hex = [0u8; 32];
        for (i, byte) in bits.to_be_bytes().iter().enumerate() {
            let [hi, lo] = HEX_PAIRS[*byte as usize];
            hex[2 * i] = hi;
            hex[2 * i + 1] = lo;
        }
        let mut out = [b'-'; 36];
        out[..8].copy_from_slice(&hex[..8]);
        out[9..13].copy_from_slice(&hex[8..12]);
        out[14..18].copy_from_slice(&hex[12..16]);
        out[19..23].copy_from_slice(&hex[16..20]);
        out[24..].copy_from_slice(&hex[20..]);
        RequestId(out)
    }

    /// The client's `x-amzn-RequestId` when it is a UUID, else a fresh one.
    pub fn from_headers(headers: &HeaderMap) -> RequestId {
        // A scan, not `get`: requests carry a handful of headers, and comparing names (most
        // are standard ones, told apart by their tag) is cheaper than hashing this one.
        headers
            .iter()
            .find(|(name, _)| **name == REQUEST_ID_HEADER)
            .and_then(|(_, v)| RequestId::parse(v.as_bytes()))
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
        carved(&self.0)
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
        carved(&self.0)
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
    fn header_values_carved_from_one_buffer_stay_intact() {
        let ids: Vec<RequestId> = (0..1000).map(|_| RequestId::new()).collect();
        // Enough values to use up several buffers; every one keeps its own bytes.
        let values: Vec<HeaderValue> = ids.iter().map(RequestId::header_value).collect();
        for (id, v) in ids.iter().zip(&values) {
            assert_eq!(v.as_bytes(), id.as_str().as_bytes());
        }
        let e = ExtendedRequestId::new();
        assert_eq!(e.header_value().as_bytes(), e.as_str().as_bytes());
    }

    #[test]
    fn uuids_are_spelled_as_rfc_4122_does() {
        assert_eq!(
            RequestId::from_u128(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210).as_str(),
            "01234567-89ab-cdef-fedc-ba9876543210"
        );
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
