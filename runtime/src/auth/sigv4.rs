//! AWS Signature Version 4 verification: API Gateway's `AWS_IAM` authorization, server side.
//!
//! Where it sits: step 4 of the request lifecycle (authentication). The auth module
//! ([`crate::auth`]) calls [`verify`] for every method declared with `auth iam`, once the body has
//! been read, and turns a [`SigV4Error`] into API Gateway's gateway response (403 with
//! `{"message": "..."}`, see [`SigV4Error::message`] and [`SigV4Error::response_type`]). A
//! [`Verified`] identity is what later steps (authorization, `$context.identity`) see.
//!
//! Both of SigV4's forms are accepted:
//!
//! - header-signed: `Authorization: AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/
//!   execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=<hex>` with an
//!   `X-Amz-Date` (or `Date`) header, valid for 5 minutes either side of the signing time;
//! - presigned URL: `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`,
//!   `X-Amz-SignedHeaders` and `X-Amz-Signature` query parameters, valid from `X-Amz-Date`
//!   (less 5 minutes of clock skew) to `X-Amz-Date + X-Amz-Expires` (at most 604800 s).
//!
//! The canonical request is AWS's for every service but S3, as botocore builds it: the path
//! with `.`/`..` segments and empty segments removed, then percent-encoded once more (so a `%20`
//! sent on the wire is signed as `%2520`); query parameters decoded (`+` as a space), re-encoded
//! with the unreserved set `A-Z a-z 0-9 - _ . ~`, sorted by key then value; the signed headers
//! lower-cased with their values trimmed and inner runs of blanks collapsed; the payload hash
//! from `X-Amz-Content-Sha256` when present (checked against the body unless
//! `UNSIGNED-PAYLOAD`), else the SHA-256 of the body. Presigned URLs without
//! `X-Amz-Content-Sha256` verify with either the body's hash (what botocore's `SigV4QueryAuth`
//! signs) or `UNSIGNED-PAYLOAD` (the S3 convention some signers use for every service).
//!
//! Signatures are compared in constant time ([`ring::hmac::verify`]), and no input, however
//! malformed, panics.

use std::collections::HashMap;
use std::fmt;
use std::time::SystemTime;

use http::{HeaderMap, Method, Uri};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, percent_encode};
use ring::{digest, hmac};

/// The only signing algorithm SigV4 defines.
const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The service every credential scope must name.
const SERVICE: &str = "execute-api";
/// The credential scope's last element.
const TERMINATOR: &str = "aws4_request";
/// The payload hash of a request whose body is not signed.
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// How far a header-signed request's date may be from the gateway's clock, either way.
const MAX_SKEW_SECS: i64 = 5 * 60;
/// The longest a presigned URL may be valid (`X-Amz-Expires`): one week.
const MAX_PRESIGN_EXPIRES: i64 = 604_800;

/// AWS's unreserved characters: everything else is percent-encoded (uppercase hex).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// The canonical URI's set: the unreserved characters and `/`.
const PATH_SAFE: &AsciiSet = &UNRESERVED.remove(b'/');

const MSG_MISSING_TOKEN: &str = "Missing Authentication Token";
const MSG_UNKNOWN_KEY: &str = "The security token included in the request is invalid.";
const MSG_MISMATCH: &str = "The request signature we calculated does not match the signature \
                            you provided. Check your AWS Secret Access Key and signing method. \
                            Consult the service documentation for details.";
const MSG_CONTENT_SHA256: &str =
    "The provided 'x-amz-content-sha256' header does not match what was computed.";

// ---------------------------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------------------------

/// One IAM identity: the secret of an access key and the principal it authenticates as.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    /// The secret access key: the HMAC key material (never logged, never in `Debug`).
    pub secret_access_key: String,
    /// The principal the key authenticates as, e.g. `arn:aws:iam::123456789012:user/alice`.
    pub principal_arn: String,
    /// The principal's account: the ARN's fifth field, e.g. `123456789012`.
    pub account_id: String,
}

impl Credential {
    /// A credential for `principal_arn`, its account id taken from the ARN's fifth field.
    /// Fails (with what is wrong) if the ARN is not `arn:PARTITION:SERVICE::ACCOUNT:RESOURCE`
    /// with a 12-digit account, or the secret is empty.
    pub fn new(
        secret_access_key: impl Into<String>,
        principal_arn: impl Into<String>,
    ) -> Result<Self, String> {
        let secret_access_key = secret_access_key.into();
        let principal_arn = principal_arn.into();
        if secret_access_key.is_empty() {
            return Err("\"secretAccessKey\" is empty".to_string());
        }
        let account_id = account_from_arn(&principal_arn)?;
        Ok(Credential {
            secret_access_key,
            principal_arn,
            account_id,
        })
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("secret_access_key", &"<redacted>")
            .field("principal_arn", &self.principal_arn)
            .field("account_id", &self.account_id)
            .finish()
    }
}

/// The account id of an ARN (`arn:aws:iam::123456789012:user/alice` → `123456789012`).
fn account_from_arn(arn: &str) -> Result<String, String> {
    let fields: Vec<&str> = arn.splitn(6, ':').collect();
    let well_formed = fields.len() == 6
        && fields[0] == "arn"
        && !fields[1].is_empty()
        && !fields[2].is_empty()
        && !fields[5].is_empty();
    if !well_formed {
        return Err(format!(
            "principal {arn:?} is not an ARN like \"arn:aws:iam::123456789012:user/alice\""
        ));
    }
    let account = fields[4];
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "principal {arn:?}: the account id (the ARN's 5th field) {account:?} is not 12 digits"
        ));
    }
    Ok(account.to_string())
}

/// Access key id → credential. Built at start-up from a file; cheap to look up.
#[derive(Default, Clone)]
pub struct Credentials {
    by_key: HashMap<String, Credential>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ids: Vec<&str> = self.by_key.keys().map(String::as_str).collect();
        ids.sort_unstable();
        f.debug_struct("Credentials")
            .field("access_key_ids", &ids)
            .finish()
    }
}

impl Credentials {
    /// No credentials: every signed request fails with an unknown access key.
    pub fn new() -> Self {
        Credentials::default()
    }

    /// Adds (or replaces) the credential of `access_key_id`.
    pub fn insert(&mut self, access_key_id: impl Into<String>, credential: Credential) {
        self.by_key.insert(access_key_id.into(), credential);
    }

    /// The credential of `access_key_id`, if known.
    pub fn get(&self, access_key_id: &str) -> Option<&Credential> {
        self.by_key.get(access_key_id)
    }

    /// How many access keys are known.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether no access key is known.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Parses the credentials file: a JSON array
    /// `[{"accessKeyId": "...", "secretAccessKey": "...", "principal": "arn:aws:iam::123456789012:user/alice"}]`.
    /// The account id is the ARN's 5th field. Every field is a required non-empty string,
    /// other fields are refused (a typo must not go unnoticed), access key ids are letters,
    /// digits and `_` and appear once. The error names the entry index and what is wrong.
    pub fn from_json(text: &str) -> Result<Self, String> {
        const FIELDS: [&str; 3] = ["accessKeyId", "secretAccessKey", "principal"];
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| format!("credentials file is not valid JSON: {e}"))?;
        let entries = value.as_array().ok_or_else(|| {
            "credentials file must be a JSON array of {\"accessKeyId\", \"secretAccessKey\", \
             \"principal\"} objects"
                .to_string()
        })?;
        let mut credentials = Credentials::new();
        let mut first_seen: HashMap<String, usize> = HashMap::new();
        for (i, entry) in entries.iter().enumerate() {
            let object = entry
                .as_object()
                .ok_or_else(|| format!("credentials entry {i}: not a JSON object"))?;
            if let Some(unknown) = object.keys().find(|k| !FIELDS.contains(&k.as_str())) {
                return Err(format!(
                    "credentials entry {i}: unknown field {unknown:?} (expected \"accessKeyId\", \
                     \"secretAccessKey\" and \"principal\")"
                ));
            }
            let field = |name: &str| -> Result<&str, String> {
                match object.get(name) {
                    None => Err(format!("credentials entry {i}: missing {name:?}")),
                    Some(serde_json::Value::String(s)) if s.is_empty() => {
                        Err(format!("credentials entry {i}: {name:?} is empty"))
                    }
                    Some(serde_json::Value::String(s)) => Ok(s.as_str()),
                    Some(_) => Err(format!("credentials entry {i}: {name:?} must be a string")),
                }
            };
            let access_key_id = field("accessKeyId")?;
            let secret = field("secretAccessKey")?;
            let principal = field("principal")?;
            if !access_key_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                return Err(format!(
                    "credentials entry {i}: \"accessKeyId\" {access_key_id:?} may only contain \
                     letters, digits and '_'"
                ));
            }
            if let Some(j) = first_seen.get(access_key_id) {
                return Err(format!(
                    "credentials entry {i}: \"accessKeyId\" {access_key_id:?} already appears in \
                     entry {j}"
                ));
            }
            let credential = Credential::new(secret, principal)
                .map_err(|e| format!("credentials entry {i}: {e}"))?;
            first_seen.insert(access_key_id.to_string(), i);
            credentials.insert(access_key_id, credential);
        }
        Ok(credentials)
    }
}

// ---------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------

/// What a verified request authenticated as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The access key id the request was signed with (`$context.identity.accessKey`).
    pub access_key_id: String,
    /// The principal of that key (`$context.identity.userArn`).
    pub principal_arn: String,
    /// The principal's account (`$context.identity.accountId`).
    pub account_id: String,
    /// The region named in the credential scope (any region is accepted).
    pub region: String,
    /// Whether the signature came in the query string (a presigned URL).
    pub presigned: bool,
}

/// Why verification failed. Each maps to API Gateway's answer: [`status`](Self::status),
/// the `{"message": ...}` body's [`message`](Self::message), the gateway-response
/// [`response_type`](Self::response_type) and the `x-amzn-ErrorType`
/// [`error_type`](Self::error_type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigV4Error {
    /// Neither an `Authorization` header nor an `X-Amz-Algorithm` query parameter:
    /// 403 `Missing Authentication Token`.
    MissingAuthenticationToken,
    /// The authentication information is malformed or incomplete (missing parts, a bad
    /// credential, a date not in ISO-8601 basic format): 403 with AWS's explanation.
    IncompleteSignature {
        /// AWS's message, e.g. `Authorization header requires 'Signature' parameter. ...`.
        message: String,
    },
    /// The authentication information is well-formed but cannot be right: the credential scope
    /// names another service or date, `host` is not signed, both the header and the query
    /// carry a signature: 403 with AWS's explanation.
    InvalidSignature {
        /// AWS's message, e.g. `Credential should be scoped to correct service: 'execute-api'.`
        message: String,
    },
    /// The access key id is unknown (or a session token was sent, which static credentials
    /// never accept): 403 `The security token included in the request is invalid.`
    UnknownAccessKey,
    /// The signature is not the one the gateway computes (wrong secret, or the method, path,
    /// query, a signed header or the body changed): 403 `The request signature we calculated
    /// does not match ...`.
    SignatureMismatch,
    /// The request was signed too long ago (header-signed: more than 5 minutes; presigned:
    /// more than `X-Amz-Expires` seconds): 403 `Signature expired: ...`.
    SignatureExpired {
        /// AWS's message, e.g. `Signature expired: 20240101T000000Z is now earlier than
        /// 20240101T000500Z (20240101T001000Z - 5 min.)`.
        message: String,
    },
    /// The signing time is more than 5 minutes ahead of the gateway's clock:
    /// 403 `Signature not yet current: ...`.
    SignatureNotYetCurrent {
        /// AWS's message, e.g. `Signature not yet current: 20240101T001000Z is still later
        /// than 20240101T000500Z (20240101T000000Z + 5 min.)`.
        message: String,
    },
    /// `X-Amz-Content-Sha256` is neither `UNSIGNED-PAYLOAD` nor the SHA-256 of the body:
    /// 400 `The provided 'x-amz-content-sha256' header does not match what was computed.`
    ContentSha256Mismatch,
}

impl SigV4Error {
    /// The HTTP status API Gateway answers with: 403, except 400 for
    /// [`ContentSha256Mismatch`](Self::ContentSha256Mismatch).
    pub fn status(&self) -> u16 {
        match self {
            SigV4Error::ContentSha256Mismatch => 400,
            _ => 403,
        }
    }

    /// The exact message of the `{"message": "..."}` body.
    pub fn message(&self) -> &str {
        match self {
            SigV4Error::MissingAuthenticationToken => MSG_MISSING_TOKEN,
            SigV4Error::IncompleteSignature { message }
            | SigV4Error::InvalidSignature { message }
            | SigV4Error::SignatureExpired { message }
            | SigV4Error::SignatureNotYetCurrent { message } => message,
            SigV4Error::UnknownAccessKey => MSG_UNKNOWN_KEY,
            SigV4Error::SignatureMismatch => MSG_MISMATCH,
            SigV4Error::ContentSha256Mismatch => MSG_CONTENT_SHA256,
        }
    }

    /// API Gateway's gateway-response type (`$context.error.responseType`):
    /// `MISSING_AUTHENTICATION_TOKEN`, `DEFAULT_4XX` for the 400, else `INVALID_SIGNATURE`.
    pub fn response_type(&self) -> &'static str {
        match self {
            SigV4Error::MissingAuthenticationToken => "MISSING_AUTHENTICATION_TOKEN",
            SigV4Error::ContentSha256Mismatch => "DEFAULT_4XX",
            _ => "INVALID_SIGNATURE",
        }
    }

    /// The AWS error code API Gateway sends in `x-amzn-ErrorType`.
    pub fn error_type(&self) -> &'static str {
        match self {
            SigV4Error::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            SigV4Error::IncompleteSignature { .. } => "IncompleteSignatureException",
            SigV4Error::UnknownAccessKey => "UnrecognizedClientException",
            SigV4Error::ContentSha256Mismatch => "BadRequestException",
            SigV4Error::InvalidSignature { .. }
            | SigV4Error::SignatureMismatch
            | SigV4Error::SignatureExpired { .. }
            | SigV4Error::SignatureNotYetCurrent { .. } => "InvalidSignatureException",
        }
    }

    fn incomplete(message: impl Into<String>) -> Self {
        SigV4Error::IncompleteSignature {
            message: message.into(),
        }
    }

    fn invalid(message: impl Into<String>) -> Self {
        SigV4Error::InvalidSignature {
            message: message.into(),
        }
    }
}

impl fmt::Display for SigV4Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for SigV4Error {}

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

/// A decoded query parameter (raw bytes: the query may decode to anything).
type Param = (Vec<u8>, Vec<u8>);

/// What either form of the signature says, once parsed and checked for shape.
#[derive(Debug)]
struct Claim {
    access_key_id: String,
    /// The credential scope's date, `YYYYMMDD`.
    scope_date: String,
    region: String,
    /// The signed header names, lower-cased, in the order given.
    signed_headers: Vec<String>,
    /// The signature as sent (hex).
    signature: String,
    /// The signing time, `YYYYMMDDTHHMMSSZ`.
    amz_date: String,
    /// The signing time in seconds since the Unix epoch.
    signed_at: i64,
    presigned: bool,
}

/// Verifies a request. `body` is the whole request body (already read). `now` is the current
/// time (injectable for tests).
pub fn verify(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    credentials: &Credentials,
    now: SystemTime,
) -> Result<Verified, SigV4Error> {
    let params = parse_query(uri.query().unwrap_or(""));
    let presigned = params.iter().any(|(k, _)| k == b"X-Amz-Algorithm");
    let authorization = headers.get(http::header::AUTHORIZATION);
    let now = unix_secs(now);

    let claim = match (authorization, presigned) {
        (None, false) => return Err(SigV4Error::MissingAuthenticationToken),
        (Some(_), true) => {
            return Err(SigV4Error::invalid(
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or \
                 the Authorization header should be specified",
            ));
        }
        (Some(value), false) => header_claim(value.as_bytes(), headers)?,
        (None, true) => query_claim(&params)?,
    };
    check_scope_and_headers(&claim)?;
    if claim.presigned {
        check_presigned_window(&claim, &params, now)?;
    } else {
        check_header_window(&claim, now)?;
    }

    // Static credentials have no session token: a token can only be someone else's.
    let token_sent = headers.contains_key("x-amz-security-token")
        || params.iter().any(|(k, _)| k == b"X-Amz-Security-Token");
    let credential = match credentials.get(&claim.access_key_id) {
        Some(c) if !token_sent => c,
        _ => return Err(SigV4Error::UnknownAccessKey),
    };

    let payload_hashes = payload_hashes(headers, body, claim.presigned)?;
    let Some(signature) = decode_signature(&claim.signature) else {
        tracing::debug!(
            access_key_id = %claim.access_key_id,
            "SigV4 signature is not 64 hex digits"
        );
        return Err(SigV4Error::SignatureMismatch);
    };
    let key = signing_key(
        &credential.secret_access_key,
        &claim.scope_date,
        &claim.region,
    );
    let canonical_uri = canonical_uri(uri.path());
    let canonical_query = canonical_query(&params, claim.presigned);
    let canonical_headers = canonical_headers(headers, uri, &claim.signed_headers);
    for payload_hash in &payload_hashes {
        let canonical = canonical_request(
            method.as_str(),
            &canonical_uri,
            &canonical_query,
            &canonical_headers,
            &claim.signed_headers,
            payload_hash,
        );
        let sts = string_to_sign(
            &claim.amz_date,
            &claim.scope_date,
            &claim.region,
            &canonical,
        );
        if hmac::verify(&key, &sts, &signature).is_ok() {
            return Ok(Verified {
                access_key_id: claim.access_key_id,
                principal_arn: credential.principal_arn.clone(),
                account_id: credential.account_id.clone(),
                region: claim.region,
                presigned: claim.presigned,
            });
        }
        tracing::debug!(
            access_key_id = %claim.access_key_id,
            canonical_request = %String::from_utf8_lossy(&canonical),
            string_to_sign = %String::from_utf8_lossy(&sts),
            "SigV4 signature mismatch"
        );
    }
    Err(SigV4Error::SignatureMismatch)
}

/// Parses the `Authorization` header (and finds the date) of a header-signed request.
fn header_claim(authorization: &[u8], headers: &HeaderMap) -> Result<Claim, SigV4Error> {
    let text = String::from_utf8_lossy(authorization);
    let trimmed = text.trim_matches(|c: char| c == ' ' || c == '\t');
    let (algorithm, rest) = match trimmed.find([' ', '\t']) {
        Some(at) => (&trimmed[..at], &trimmed[at..]),
        None => (trimmed, ""),
    };
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for pair in rest.split(',') {
        let pair = pair.trim_matches(|c: char| c == ' ' || c == '\t');
        if pair.is_empty() {
            continue;
        }
        let Some((key, value)) = pair.split_once('=') else {
            let digest = digest::digest(&digest::SHA256, pair.as_bytes());
            return Err(SigV4Error::incomplete(format!(
                "Invalid key=value pair (missing equal-sign) in Authorization header (hashed with \
                 SHA-256 and encoded with Base64): '{}'.",
                base64(digest.as_ref())
            )));
        };
        let slot = match key.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(value.trim());
        }
    }

    let date_header = headers
        .get("x-amz-date")
        .or_else(|| headers.get(http::header::DATE));
    let mut missing = Vec::new();
    if credential.is_none() {
        missing.push("Authorization header requires 'Credential' parameter.");
    }
    if signature.is_none() {
        missing.push("Authorization header requires 'Signature' parameter.");
    }
    if signed_headers.is_none() {
        missing.push("Authorization header requires 'SignedHeaders' parameter.");
    }
    if date_header.is_none() {
        missing.push(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        );
    }
    let (Some(credential), Some(signature), Some(signed_headers), Some(date_header)) =
        (credential, signature, signed_headers, date_header)
    else {
        return Err(SigV4Error::incomplete(format!(
            "{} Authorization={text}",
            missing.join(" ")
        )));
    };
    if algorithm != ALGORITHM {
        return Err(SigV4Error::incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'"
        )));
    }
    let (amz_date, signed_at) = parse_date_header(date_header.as_bytes())?;
    let (access_key_id, scope_date, region) = parse_credential(credential)?;
    Ok(Claim {
        access_key_id,
        scope_date,
        region,
        signed_headers: split_signed_headers(signed_headers),
        signature: signature.to_string(),
        amz_date,
        signed_at,
        presigned: false,
    })
}

/// Parses the `X-Amz-*` query parameters of a presigned URL.
fn query_claim(params: &[Param]) -> Result<Claim, SigV4Error> {
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name.as_bytes())
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    };
    let algorithm = get("X-Amz-Algorithm").unwrap_or_default();
    let credential = get("X-Amz-Credential");
    let signature = get("X-Amz-Signature");
    let signed_headers = get("X-Amz-SignedHeaders");
    let date = get("X-Amz-Date");
    let mut missing = Vec::new();
    for (name, value) in [
        ("X-Amz-Credential", &credential),
        ("X-Amz-Signature", &signature),
        ("X-Amz-SignedHeaders", &signed_headers),
        ("X-Amz-Date", &date),
    ] {
        if value.is_none() {
            missing.push(format!(
                "AWS query-string parameters must include '{name}'."
            ));
        }
    }
    let (Some(credential), Some(signature), Some(signed_headers), Some(date)) =
        (credential, signature, signed_headers, date)
    else {
        return Err(SigV4Error::incomplete(format!(
            "{} Re-examine the query-string parameters.",
            missing.join(" ")
        )));
    };
    if algorithm != ALGORITHM {
        return Err(SigV4Error::incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'"
        )));
    }
    let signed_at = parse_amz_date(&date).ok_or_else(|| bad_date(&date))?;
    let (access_key_id, scope_date, region) = parse_credential(&credential)?;
    Ok(Claim {
        access_key_id,
        scope_date,
        region,
        signed_headers: split_signed_headers(&signed_headers),
        signature,
        amz_date: date,
        signed_at,
        presigned: true,
    })
}

/// `AKID/20240101/us-east-1/execute-api/aws4_request` → (key id, date, region), after checking
/// the service and the terminator.
fn parse_credential(credential: &str) -> Result<(String, String, String), SigV4Error> {
    let parts: Vec<&str> = credential.split('/').collect();
    let [key, date, region, service, terminator] = parts[..] else {
        return Err(SigV4Error::incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. \
             keyid/date/region/service/term, got '{credential}'"
        )));
    };
    if service != SERVICE {
        return Err(SigV4Error::invalid(format!(
            "Credential should be scoped to correct service: '{SERVICE}'."
        )));
    }
    if terminator != TERMINATOR {
        return Err(SigV4Error::invalid(format!(
            "Credential should be scoped with a valid terminator: '{TERMINATOR}', not \
             '{terminator}'."
        )));
    }
    if region.is_empty() {
        return Err(SigV4Error::invalid(
            "Credential should be scoped to a valid region, not ''.",
        ));
    }
    Ok((key.to_string(), date.to_string(), region.to_string()))
}

/// `host;x-amz-date` → `["host", "x-amz-date"]` (lower-cased, order kept).
fn split_signed_headers(list: &str) -> Vec<String> {
    list.split(';')
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| !name.is_empty())
        .collect()
}

/// The credential scope's date matches the signing date, and `host` is signed.
fn check_scope_and_headers(claim: &Claim) -> Result<(), SigV4Error> {
    let day = &claim.amz_date[..8];
    if claim.scope_date != day {
        return Err(SigV4Error::invalid(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
             from HTTP: '{}' != '{day}', from '{}'.",
            claim.scope_date, claim.amz_date
        )));
    }
    if !claim.signed_headers.iter().any(|h| h == "host") {
        return Err(SigV4Error::invalid(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    Ok(())
}

/// Header-signed requests: the signing time is within 5 minutes of `now`, either way.
fn check_header_window(claim: &Claim, now: i64) -> Result<(), SigV4Error> {
    if claim.signed_at < now.saturating_sub(MAX_SKEW_SECS) {
        return Err(SigV4Error::SignatureExpired {
            message: format!(
                "Signature expired: {} is now earlier than {} ({} - 5 min.)",
                claim.amz_date,
                format_amz_date(now.saturating_sub(MAX_SKEW_SECS)),
                format_amz_date(now)
            ),
        });
    }
    check_not_future(claim, now)
}

/// Either form: the signing time is at most 5 minutes (clock skew) ahead of `now`.
fn check_not_future(claim: &Claim, now: i64) -> Result<(), SigV4Error> {
    if claim.signed_at > now.saturating_add(MAX_SKEW_SECS) {
        return Err(SigV4Error::SignatureNotYetCurrent {
            message: format!(
                "Signature not yet current: {} is still later than {} ({} + 5 min.)",
                claim.amz_date,
                format_amz_date(now.saturating_add(MAX_SKEW_SECS)),
                format_amz_date(now)
            ),
        });
    }
    Ok(())
}

/// Presigned URLs: valid from `X-Amz-Date` (less the clock skew) for `X-Amz-Expires` seconds;
/// without `X-Amz-Expires`, the header form's ±5 minutes.
fn check_presigned_window(claim: &Claim, params: &[Param], now: i64) -> Result<(), SigV4Error> {
    let Some((_, expires)) = params.iter().find(|(k, _)| k == b"X-Amz-Expires") else {
        return check_header_window(claim, now);
    };
    let expires = std::str::from_utf8(expires)
        .ok()
        .filter(|s| !s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or_else(|| SigV4Error::incomplete("X-Amz-Expires should be a number"))?;
    if expires > MAX_PRESIGN_EXPIRES {
        return Err(SigV4Error::incomplete(format!(
            "X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGN_EXPIRES}"
        )));
    }
    if claim.signed_at < now.saturating_sub(expires) {
        return Err(SigV4Error::SignatureExpired {
            message: format!(
                "Signature expired: {} is now earlier than {} ({} - {expires} sec.)",
                claim.amz_date,
                format_amz_date(now.saturating_sub(expires)),
                format_amz_date(now)
            ),
        });
    }
    check_not_future(claim, now)
}

/// The payload hashes to try. `X-Amz-Content-Sha256` is taken as sent (and must match the
/// body unless `UNSIGNED-PAYLOAD`); without it, the body's SHA-256, and for presigned URLs
/// also `UNSIGNED-PAYLOAD`.
fn payload_hashes(
    headers: &HeaderMap,
    body: &[u8],
    presigned: bool,
) -> Result<Vec<String>, SigV4Error> {
    let body_hash = hex(digest::digest(&digest::SHA256, body).as_ref());
    match headers.get("x-amz-content-sha256") {
        Some(value) => {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            if value == UNSIGNED_PAYLOAD || value.eq_ignore_ascii_case(&body_hash) {
                Ok(vec![value])
            } else {
                Err(SigV4Error::ContentSha256Mismatch)
            }
        }
        None if presigned => Ok(vec![body_hash, UNSIGNED_PAYLOAD.to_string()]),
        None => Ok(vec![body_hash]),
    }
}

/// A 64-hex-digit signature → its 32 bytes.
fn decode_signature(signature: &str) -> Option<[u8; 32]> {
    let bytes = signature.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        *o = (hi * 16 + lo) as u8;
    }
    Some(out)
}

/// SigV4's key derivation: `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
/// "aws4_request")`.
fn signing_key(secret: &str, date: &str, region: &str) -> hmac::Key {
    let step = |key: &[u8], data: &str| {
        hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data.as_bytes())
    };
    let k_date = step(format!("AWS4{secret}").as_bytes(), date);
    let k_region = step(k_date.as_ref(), region);
    let k_service = step(k_region.as_ref(), SERVICE);
    let k_signing = step(k_service.as_ref(), TERMINATOR);
    hmac::Key::new(hmac::HMAC_SHA256, k_signing.as_ref())
}

/// `AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256 of the canonical request>`.
fn string_to_sign(amz_date: &str, date: &str, region: &str, canonical: &[u8]) -> Vec<u8> {
    let hash = hex(digest::digest(&digest::SHA256, canonical).as_ref());
    format!("{ALGORITHM}\n{amz_date}\n{date}/{region}/{SERVICE}/{TERMINATOR}\n{hash}").into_bytes()
}

/// The canonical request: method, URI, query, headers (each line ending in `\n`), signed
/// header list, payload hash — joined with `\n`.
fn canonical_request(
    method: &str,
    canonical_uri: &str,
    canonical_query: &str,
    canonical_headers: &[u8],
    signed_headers: &[String],
    payload_hash: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        method.len() + canonical_uri.len() + canonical_query.len() + canonical_headers.len() + 160,
    );
    for part in [method, canonical_uri, canonical_query] {
        out.extend_from_slice(part.as_bytes());
        out.push(b'\n');
    }
    out.extend_from_slice(canonical_headers);
    out.push(b'\n');
    out.extend_from_slice(signed_headers.join(";").as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash.as_bytes());
    out
}

/// The canonical URI of a path as sent: dot segments and empty segments removed (botocore's
/// `normalize_url_path`), then percent-encoded once more, `/` and `~` kept.
fn canonical_uri(path: &str) -> String {
    let normalized = normalize_path(path);
    percent_encode(normalized.as_bytes(), PATH_SAFE).to_string()
}

/// RFC 3986 "remove dot segments", also collapsing empty segments, as botocore does; an
/// empty path is `/`.
fn normalize_path(path: &str) -> String {
    if path.is_empty() {
        return "/".to_string();
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let first = if path.starts_with('/') { "/" } else { "" };
    let last = if path.ends_with('/') && !segments.is_empty() {
        "/"
    } else {
        ""
    };
    format!("{first}{}{last}", segments.join("/"))
}

/// The query's parameters, decoded: `&`-separated, empty pieces skipped, `=` optional,
/// `+` a space, then percent-decoding (invalid escapes kept literally).
fn parse_query(query: &str) -> Vec<Param> {
    let decode = |s: &str| -> Vec<u8> {
        let plus_as_space: Vec<u8> = s
            .bytes()
            .map(|b| if b == b'+' { b' ' } else { b })
            .collect();
        percent_decode(&plus_as_space).collect()
    };
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
            (decode(key), decode(value))
        })
        .collect()
}

/// The canonical query string: every parameter (but `X-Amz-Signature` of a presigned URL)
/// encoded with the unreserved set, sorted by key then value, `key=value` joined with `&`.
fn canonical_query(params: &[Param], presigned: bool) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| !(presigned && k == b"X-Amz-Signature"))
        .map(|(k, v)| {
            (
                percent_encode(k, UNRESERVED).to_string(),
                percent_encode(v, UNRESERVED).to_string(),
            )
        })
        .collect();
    encoded.sort_unstable();
    let mut out = String::new();
    for (i, (k, v)) in encoded.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// The canonical headers: `name:value\n` for each signed header, in the signed order; the
/// values of a repeated header joined with `,`, each trimmed with inner runs of blanks
/// collapsed. `host` falls back to the URI's authority (HTTP/2's `:authority`).
fn canonical_headers(headers: &HeaderMap, uri: &Uri, signed: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    for name in signed {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        let mut any = false;
        for value in headers.get_all(name.as_str()) {
            if any {
                out.push(b',');
            }
            any = true;
            push_trimmed(&mut out, value.as_bytes());
        }
        if !any
            && name == "host"
            && let Some(authority) = uri.authority()
        {
            push_trimmed(&mut out, authority.as_str().as_bytes());
        }
        out.push(b'\n');
    }
    out
}

/// Appends `value` trimmed, with inner runs of spaces and tabs collapsed to one space.
fn push_trimmed(out: &mut Vec<u8>, value: &[u8]) {
    let words = value
        .split(|b| *b == b' ' || *b == b'\t')
        .filter(|w| !w.is_empty());
    for (i, word) in words.enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(word);
    }
}

// ---------------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------------

fn bad_date(value: &str) -> SigV4Error {
    SigV4Error::incomplete(format!(
        "Date must be in ISO-8601 'basic format'. Got '{value}'. See \
         http://en.wikipedia.org/wiki/ISO_8601"
    ))
}

/// The signing time of a header-signed request: `X-Amz-Date` (ISO-8601 basic), or `Date`
/// (ISO-8601 basic or RFC 1123 / RFC 2822) → (`YYYYMMDDTHHMMSSZ`, Unix seconds).
fn parse_date_header(value: &[u8]) -> Result<(String, i64), SigV4Error> {
    let text = String::from_utf8_lossy(value);
    let text = text.trim();
    let secs = parse_amz_date(text)
        .or_else(|| parse_http_date(text))
        .ok_or_else(|| bad_date(text))?;
    Ok((format_amz_date(secs), secs))
}

/// Seconds since the Unix epoch of `now` (negative before 1970).
fn unix_secs(now: SystemTime) -> i64 {
    match now.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01: (year, month, day).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Unix seconds of a valid civil date and time.
fn to_unix(year: i64, month: i64, day: i64, hour: i64, minute: i64, second: i64) -> Option<i64> {
    let valid = (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && (0..24).contains(&hour)
        && (0..60).contains(&minute)
        && (0..60).contains(&second);
    valid.then(|| days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// The number of the ASCII digits `s` (at most 18 of them).
fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `YYYYMMDDTHHMMSSZ` → Unix seconds.
fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let field = |range: std::ops::Range<usize>| s.get(range).and_then(digits);
    to_unix(
        field(0..4)?,
        field(4..6)?,
        field(6..8)?,
        field(9..11)?,
        field(11..13)?,
        field(13..15)?,
    )
}

/// An RFC 1123 / RFC 2822 date (`Fri, 15 Mar 2024 12:34:56 GMT`, `... -0000`, `... +0100`;
/// the weekday is optional and not checked) → Unix seconds.
fn parse_http_date(s: &str) -> Option<i64> {
    let mut tokens: Vec<&str> = s.split_ascii_whitespace().collect();
    if tokens.first().is_some_and(|t| t.ends_with(',')) {
        tokens.remove(0);
    }
    let [day, month, year, time, zone] = tokens[..] else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))? as i64 + 1;
    if day.len() > 2 || year.len() != 4 {
        return None;
    }
    let mut hms = time.split(':');
    let hour = hms.next().filter(|h| h.len() == 2).and_then(digits)?;
    let minute = hms.next().filter(|m| m.len() == 2).and_then(digits)?;
    let second = match hms.next() {
        Some(sec) if sec.len() == 2 => digits(sec)?,
        Some(_) => return None,
        None => 0,
    };
    if hms.next().is_some() {
        return None;
    }
    let offset = match zone {
        "GMT" | "UT" | "UTC" | "Z" => 0,
        _ => {
            let (sign, hhmm) = match zone.as_bytes().first()? {
                b'+' => (1, &zone[1..]),
                b'-' => (-1, &zone[1..]),
                _ => return None,
            };
            if hhmm.len() != 4 {
                return None;
            }
            let (oh, om) = (digits(hhmm.get(..2)?)?, digits(hhmm.get(2..)?)?);
            if oh > 23 || om > 59 {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
    };
    let local = to_unix(digits(year)?, month, digits(day)?, hour, minute, second)?;
    Some(local - offset)
}

/// Unix seconds → `YYYYMMDDTHHMMSSZ` (clamped to years 0000–9999).
fn format_amz_date(secs: i64) -> String {
    const MIN: i64 = -62_167_219_200; // 0000-01-01T00:00:00Z
    const MAX: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    let secs = secs.clamp(MIN, MAX);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

// ---------------------------------------------------------------------------------------------
// Encodings
// ---------------------------------------------------------------------------------------------

/// Lower-case hex.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = (u32::from(chunk[0]) << 16)
            | (u32::from(chunk.get(1).copied().unwrap_or(0)) << 8)
            | u32::from(chunk.get(2).copied().unwrap_or(0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::{AUTHORIZATION, HeaderName, HeaderValue};
    use std::time::{Duration, UNIX_EPOCH};

    const AKID: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const REGION: &str = "eu-west-1";
    const TS: &str = "20240315T123456Z";
    const TS_UNIX: i64 = 1_710_506_096;
    const HOST: &str = "abc123defg.execute-api.eu-west-1.amazonaws.com";

    fn at(secs: i64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs as u64)
    }

    fn creds() -> Credentials {
        let mut c = Credentials::new();
        c.insert(
            AKID,
            Credential::new(SECRET, "arn:aws:iam::123456789012:user/alice").unwrap(),
        );
        c
    }

    #[derive(Debug)]
    struct Req {
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: Vec<u8>,
    }

    impl Req {
        fn new(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Req {
            let uri: Uri = url.parse().unwrap();
            let mut map = HeaderMap::new();
            for (k, v) in headers {
                map.append(
                    HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    HeaderValue::from_str(v).unwrap(),
                );
            }
            Req {
                method: method.parse().unwrap(),
                uri,
                headers: map,
                body: body.to_vec(),
            }
        }

        fn verify_at(&self, now: i64) -> Result<Verified, SigV4Error> {
            verify(
                &self.method,
                &self.uri,
                &self.headers,
                &self.body,
                &creds(),
                at(now),
            )
        }

        fn set(&mut self, name: &'static str, value: &[u8]) {
            self.headers
                .insert(name, HeaderValue::from_bytes(value).unwrap());
        }
    }

    /// A test-only signer (header form) on the module's own canonicalisation: for the clock,
    /// parsing and error paths. The canonicalisation itself is pinned by botocore's vectors.
    fn sign(method: &str, url: &str, extra: &[(&str, &str)], body: &[u8], amz_date: &str) -> Req {
        let mut req = Req::new(method, url, extra, body);
        let host = req.uri.authority().unwrap().as_str().to_string();
        req.headers.insert("host", host.parse().unwrap());
        req.headers.insert("x-amz-date", amz_date.parse().unwrap());
        let mut signed: Vec<String> = req.headers.keys().map(|k| k.to_string()).collect();
        signed.sort();
        let params = parse_query(req.uri.query().unwrap_or(""));
        let canonical = canonical_request(
            method,
            &canonical_uri(req.uri.path()),
            &canonical_query(&params, false),
            &canonical_headers(&req.headers, &req.uri, &signed),
            &signed,
            &hex(digest::digest(&digest::SHA256, body).as_ref()),
        );
        let day = &amz_date[..8];
        let sts = string_to_sign(amz_date, day, REGION, &canonical);
        let sig = hex(hmac::sign(&signing_key(SECRET, day, REGION), &sts).as_ref());
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={AKID}/{day}/{REGION}/execute-api/aws4_request, \
             SignedHeaders={}, Signature={sig}",
            signed.join(";")
        );
        req.headers.insert(AUTHORIZATION, auth.parse().unwrap());
        req
    }

    fn auth_with(req: &mut Req, f: impl FnOnce(&str) -> String) {
        let old = req.headers[AUTHORIZATION].to_str().unwrap().to_string();
        req.headers.insert(AUTHORIZATION, f(&old).parse().unwrap());
    }

    fn err_message(r: Result<Verified, SigV4Error>) -> String {
        r.unwrap_err().message().to_string()
    }

    // --- botocore vectors (runtime/tests/sigv4_botocore.py, pinned) --------------------------

    fn botocore_get_query() -> Req {
        Req::new(
            "GET",
            &format!(
                "https://{HOST}/prod/items?b=2&a=1&a=0&q=hello%20world&u=%C3%BCn%C3%AFc%C3%B8d%C3%A9%20%E2%9C%93&r=a%2Fb%3Ac%3Bd%2Ce%3Df%26g%3Fh%23i%2Bj&empty=&tilde~=x%2Ay%21z%27%28.%29"
            ),
            &[
                ("X-Amz-Date", TS),
                (
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240315/eu-west-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=0d5d701d60d47a4d87faa35c1d89b1e114c1245f983cb60db286941ef7ff354e",
                ),
                ("Host", HOST),
            ],
            b"",
        )
    }

    #[test]
    fn botocore_vectors_verify() {
        let get = botocore_get_query();
        let v = get.verify_at(TS_UNIX).unwrap();
        assert_eq!(
            v,
            Verified {
                access_key_id: AKID.into(),
                principal_arn: "arn:aws:iam::123456789012:user/alice".into(),
                account_id: "123456789012".into(),
                region: REGION.into(),
                presigned: false,
            }
        );

        let params_plus = Req::new(
            "GET",
            &format!("https://{HOST}/prod/search?q=a+b%2Bc&x=~%2A&q=0"),
            &[
                ("X-Amz-Date", TS),
                (
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240315/eu-west-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=266c101bea9c5904680ac357bf0ec81475ffe426ae1c232e970789a0e4401c08",
                ),
                ("Host", HOST),
            ],
            b"",
        );
        params_plus.verify_at(TS_UNIX).unwrap();

        let path = Req::new(
            "GET",
            &format!(
                "https://{HOST}/prod/files/a%20b/%E2%9C%93/c%2Fd/x+y/./skip/../it's!~(1)//v/?z=1"
            ),
            &[
                ("X-Amz-Date", TS),
                (
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240315/eu-west-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=26d411caecbd81d2df667f0cc16925b61bbefccae9396d802d181ab575be5062",
                ),
                ("Host", HOST),
            ],
            b"",
        );
        path.verify_at(TS_UNIX).unwrap();

        let date = Req::new(
            "GET",
            &format!("https://{HOST}/prod/ping"),
            &[
                ("Date", "Fri, 15 Mar 2024 12:34:56 -0000"),
                (
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240315/eu-west-1/execute-api/aws4_request, SignedHeaders=date;host, Signature=0393341e47256b3351f9ec4dcc3d3d16dfbec8878b49e5510390338a72cea73e",
                ),
                ("Host", HOST),
            ],
            b"",
        );
        date.verify_at(TS_UNIX).unwrap();

        let presigned = Req::new(
            "GET",
            &format!(
                "https://{HOST}/prod/download?file=report%202024.pdf&mode=inline&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20240315%2Feu-west-1%2Fexecute-api%2Faws4_request&X-Amz-Date=20240315T123456Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=7d7da4ceda4e82d8fd5166b64a0647160a362065de306e4260400d7123705f69"
            ),
            &[("Host", HOST)],
            b"",
        );
        let v = presigned.verify_at(TS_UNIX + 299).unwrap();
        assert!(v.presigned);
        let e = presigned.verify_at(TS_UNIX + 301).unwrap_err();
        assert_eq!(
            e.message(),
            "Signature expired: 20240315T123456Z is now earlier than 20240315T123457Z \
             (20240315T123957Z - 300 sec.)"
        );
        // The same URL over HTTP/2: no Host header, the authority is the URI's.
        let mut h2 = presigned;
        h2.headers.clear();
        h2.verify_at(TS_UNIX).unwrap();
        // With the authority gone too, host is signed as empty: mismatch, no panic.
        let origin_form: Uri = h2.uri.path_and_query().unwrap().as_str().parse().unwrap();
        h2.uri = origin_form;
        assert_eq!(
            h2.verify_at(TS_UNIX).unwrap_err(),
            SigV4Error::SignatureMismatch
        );
    }

    #[test]
    fn uppercase_signature_hex_is_accepted_and_bad_hex_is_a_mismatch() {
        let mut req = botocore_get_query();
        auth_with(&mut req, |a| {
            let (head, sig) = a.split_at(a.len() - 64);
            format!("{head}{}", sig.to_ascii_uppercase())
        });
        req.verify_at(TS_UNIX).unwrap();
        for bad in ["zz", "", "0d5d", &"g".repeat(64), &"é".repeat(32)] {
            let mut req = botocore_get_query();
            auth_with(&mut req, |a| format!("{}{bad}", &a[..a.len() - 64]));
            assert_eq!(
                req.verify_at(TS_UNIX).unwrap_err(),
                SigV4Error::SignatureMismatch
            );
        }
    }

    // --- canonicalisation ----------------------------------------------------------------------

    #[test]
    fn canonical_uri_matches_botocore() {
        // Expected values from botocore: quote(normalize_url_path(p), safe='/~').
        let cases = [
            ("", "/"),
            ("/", "/"),
            ("/a%20b", "/a%2520b"),
            ("/./a/../b//c/", "/b/c/"),
            ("/..", "/"),
            ("/../..", "/"),
            ("a/b", "a/b"),
            ("/a/./", "/a/"),
            ("/a/..", "/"),
            ("//", "/"),
            ("/a/b/../../..", "/"),
            ("/~user/it's!(1)*", "/~user/it%27s%21%281%29%2A"),
            ("/ü", "/%C3%BC"),
            ("/a+b/%2F", "/a%2Bb/%252F"),
        ];
        for (path, expected) in cases {
            assert_eq!(canonical_uri(path), expected, "path {path:?}");
        }
    }

    #[test]
    fn canonical_query_corner_cases() {
        let q = |s: &str, presigned: bool| canonical_query(&parse_query(s), presigned);
        // Sorted by encoded key, then value; repeated keys kept.
        assert_eq!(q("b=2&a=1&a=0&A=9", false), "A=9&a=0&a=1&b=2");
        // `+` is a space, `%2B` a plus, lower-case escapes come out upper-case.
        assert_eq!(q("q=a+b%2Bc&u=%c3%bc", false), "q=a%20b%2Bc&u=%C3%BC");
        // Keys without `=`, empty values, empty pieces.
        assert_eq!(q("flag&&empty=&x==y&", false), "empty=&flag=&x=%3Dy");
        // Invalid escapes stay literal (the `%` is encoded), non-UTF-8 bytes survive.
        assert_eq!(q("a=%zz&b=%FF&c=%", false), "a=%25zz&b=%FF&c=%25");
        // Reserved characters sent raw are encoded; unreserved ones are not.
        assert_eq!(
            q("k=a/b:c;d,e*f!g'h(i)~j.k-l_m", false),
            "k=a%2Fb%3Ac%3Bd%2Ce%2Af%21g%27h%28i%29~j.k-l_m"
        );
        // Sorting is by the encoded form (`%2A` < `-`).
        assert_eq!(q("-=1&*=2", false), "%2A=2&-=1");
        // Only presigned URLs drop X-Amz-Signature.
        assert_eq!(q("X-Amz-Signature=ab&a=1", true), "a=1");
        assert_eq!(q("X-Amz-Signature=ab&a=1", false), "X-Amz-Signature=ab&a=1");
        assert_eq!(q("", false), "");
    }

    #[test]
    fn canonical_headers_trim_collapse_join_and_fall_back_to_the_authority() {
        let req = Req::new(
            "GET",
            "https://example.com:8443/x",
            &[
                ("X-Multi", "  first   value "),
                ("x-multi", "\tsecond\t\tvalue"),
                ("X-Empty", ""),
            ],
            b"",
        );
        let signed: Vec<String> = ["host", "x-absent", "x-empty", "x-multi"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let out = canonical_headers(&req.headers, &req.uri, &signed);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "host:example.com:8443\nx-absent:\nx-empty:\nx-multi:first value,second value\n"
        );
        assert_eq!(
            split_signed_headers(" Host ;X-Amz-Date;;x-b"),
            vec!["host", "x-amz-date", "x-b"]
        );
    }

    #[test]
    fn canonical_request_layout() {
        let signed = vec!["host".to_string(), "x-amz-date".to_string()];
        let cr = canonical_request(
            "GET",
            "/",
            "",
            b"host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n",
            &signed,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        );
        assert_eq!(
            String::from_utf8(cr).unwrap(),
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n\
             host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    // --- signed requests through `verify` ------------------------------------------------------

    #[test]
    fn clock_window_is_five_minutes_either_way() {
        let req = sign("GET", "https://h.example/prod/x", &[], b"", TS);
        for now in [TS_UNIX - 300, TS_UNIX, TS_UNIX + 300] {
            req.verify_at(now).unwrap();
        }
        let late = req.verify_at(TS_UNIX + 301).unwrap_err();
        assert!(matches!(late, SigV4Error::SignatureExpired { .. }));
        assert_eq!(
            late.message(),
            "Signature expired: 20240315T123456Z is now earlier than 20240315T123457Z \
             (20240315T123957Z - 5 min.)"
        );
        assert_eq!(
            err_message(req.verify_at(TS_UNIX + 600)),
            "Signature expired: 20240315T123456Z is now earlier than 20240315T123956Z \
             (20240315T124456Z - 5 min.)"
        );
        let early = req.verify_at(TS_UNIX - 301).unwrap_err();
        assert!(matches!(early, SigV4Error::SignatureNotYetCurrent { .. }));
        assert_eq!(
            early.message(),
            "Signature not yet current: 20240315T123456Z is still later than 20240315T123455Z \
             (20240315T122955Z + 5 min.)"
        );
        assert_eq!(early.status(), 403);
        assert_eq!(early.response_type(), "INVALID_SIGNATURE");
        // Sub-second parts of `now` do not matter; a clock before 1970 does not panic.
        let now = at(TS_UNIX + 300) + Duration::from_millis(999);
        verify(
            &req.method,
            &req.uri,
            &req.headers,
            &req.body,
            &creds(),
            now,
        )
        .unwrap();
        let before_epoch = UNIX_EPOCH - Duration::from_secs(86_400 * 365 * 3000);
        assert!(
            verify(
                &req.method,
                &req.uri,
                &req.headers,
                &req.body,
                &creds(),
                before_epoch
            )
            .is_err()
        );
        assert!(
            verify(
                &req.method,
                &req.uri,
                &req.headers,
                &req.body,
                &creds(),
                UNIX_EPOCH + Duration::from_secs(u64::MAX / 2)
            )
            .is_err()
        );
    }

    #[test]
    fn tampering_is_a_mismatch() {
        let base = || {
            sign(
                "POST",
                "https://h.example/prod/orders?a=1",
                &[("content-type", "application/json"), ("x-custom", "v")],
                br#"{"a":1}"#,
                TS,
            )
        };
        base().verify_at(TS_UNIX).unwrap();

        let mut body = base();
        body.body = br#"{"a":2}"#.to_vec();
        let mut query = base();
        query.uri = "https://h.example/prod/orders?a=2".parse().unwrap();
        let mut path = base();
        path.uri = "https://h.example/prod/Orders?a=1".parse().unwrap();
        let mut method = base();
        method.method = Method::PUT;
        let mut header = base();
        header.set("x-custom", b"w");
        let mut host = base();
        host.set("host", b"evil.example");
        for (what, req) in [
            ("body", body),
            ("query", query),
            ("path", path),
            ("method", method),
            ("header", header),
            ("host", host),
        ] {
            let e = req.verify_at(TS_UNIX).unwrap_err();
            assert_eq!(e, SigV4Error::SignatureMismatch, "{what}");
            assert_eq!(e.message(), MSG_MISMATCH);
            assert_eq!(e.response_type(), "INVALID_SIGNATURE");
        }
        // Unsigned headers may change.
        let mut unsigned = base();
        unsigned.set("x-unsigned", b"anything");
        unsigned.verify_at(TS_UNIX).unwrap();
        // A wrong secret.
        let mut other = Credentials::new();
        other.insert(
            AKID,
            Credential::new("not-the-secret", "arn:aws:iam::123456789012:user/alice").unwrap(),
        );
        let req = base();
        assert_eq!(
            verify(
                &req.method,
                &req.uri,
                &req.headers,
                &req.body,
                &other,
                at(TS_UNIX)
            )
            .unwrap_err(),
            SigV4Error::SignatureMismatch
        );
    }

    #[test]
    fn unknown_key_and_session_tokens() {
        let req = sign("GET", "https://h.example/x", &[], b"", TS);
        let e = verify(
            &req.method,
            &req.uri,
            &req.headers,
            &req.body,
            &Credentials::new(),
            at(TS_UNIX),
        )
        .unwrap_err();
        assert_eq!(e, SigV4Error::UnknownAccessKey);
        assert_eq!(
            e.message(),
            "The security token included in the request is invalid."
        );
        assert_eq!((e.status(), e.response_type()), (403, "INVALID_SIGNATURE"));
        let token = sign(
            "GET",
            "https://h.example/x",
            &[("x-amz-security-token", "FQoG")],
            b"",
            TS,
        );
        assert_eq!(
            token.verify_at(TS_UNIX).unwrap_err(),
            SigV4Error::UnknownAccessKey
        );
    }

    #[test]
    fn content_sha256_header() {
        let body = b"payload";
        let hash = hex(digest::digest(&digest::SHA256, body).as_ref());
        let req = sign(
            "PUT",
            "https://h.example/x",
            &[("x-amz-content-sha256", &hash)],
            body,
            TS,
        );
        // `sign` hashes the body itself, which is what the header says: accepted.
        req.verify_at(TS_UNIX).unwrap();
        let mut changed = req;
        changed.body = b"other".to_vec();
        let e = changed.verify_at(TS_UNIX).unwrap_err();
        assert_eq!(e, SigV4Error::ContentSha256Mismatch);
        assert_eq!((e.status(), e.response_type()), (400, "DEFAULT_4XX"));
        assert_eq!(
            e.message(),
            "The provided 'x-amz-content-sha256' header does not match what was computed."
        );
        // UNSIGNED-PAYLOAD: the header is what is signed, so any body goes.
        let hashes = payload_hashes(
            &Req::new(
                "PUT",
                "/",
                &[("x-amz-content-sha256", "UNSIGNED-PAYLOAD")],
                b"",
            )
            .headers,
            b"whatever",
            false,
        )
        .unwrap();
        assert_eq!(hashes, vec!["UNSIGNED-PAYLOAD".to_string()]);
        let presigned = payload_hashes(&HeaderMap::new(), b"", true).unwrap();
        assert_eq!(
            presigned,
            vec![
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".to_string(),
                "UNSIGNED-PAYLOAD".to_string()
            ]
        );
    }

    // --- malformed input -----------------------------------------------------------------------

    #[test]
    fn missing_authentication_token() {
        let req = Req::new(
            "GET",
            "https://h.example/x?a=1",
            &[("host", "h.example")],
            b"",
        );
        let e = req.verify_at(TS_UNIX).unwrap_err();
        assert_eq!(e, SigV4Error::MissingAuthenticationToken);
        assert_eq!(e.message(), "Missing Authentication Token");
        assert_eq!(
            (e.status(), e.response_type()),
            (403, "MISSING_AUTHENTICATION_TOKEN")
        );
        // A lower-case x-amz-algorithm is not the parameter.
        let req = Req::new(
            "GET",
            "https://h.example/x?x-amz-algorithm=AWS4-HMAC-SHA256",
            &[],
            b"",
        );
        assert_eq!(
            req.verify_at(TS_UNIX).unwrap_err(),
            SigV4Error::MissingAuthenticationToken
        );
    }

    #[test]
    fn incomplete_authorization_header_messages() {
        let check = |auth: &str, date: bool, expected: &str| {
            let mut headers = vec![("host", "h.example"), ("authorization", auth)];
            if date {
                headers.push(("x-amz-date", TS));
            }
            let req = Req::new("GET", "https://h.example/x", &headers, b"");
            let e = req.verify_at(TS_UNIX).unwrap_err();
            assert!(
                matches!(e, SigV4Error::IncompleteSignature { .. }),
                "{auth}: {e:?}"
            );
            assert_eq!(e.message(), expected, "{auth}");
            assert_eq!((e.status(), e.response_type()), (403, "INVALID_SIGNATURE"));
        };
        check(
            "AWS4-HMAC-SHA256 foo=bar",
            false,
            "Authorization header requires 'Credential' parameter. Authorization header requires \
             'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. \
             Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' \
             header. Authorization=AWS4-HMAC-SHA256 foo=bar",
        );
        check(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240315/eu-west-1/execute-api/aws4_request, SignedHeaders=host",
            true,
            "Authorization header requires 'Signature' parameter. \
             Authorization=AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240315/eu-west-1/execute-api/aws4_request, SignedHeaders=host",
        );
        check(
            "eyJhbGciOiJIUzI1NiJ9.e30.sig",
            true,
            "Authorization header requires 'Credential' parameter. Authorization header requires \
             'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. \
             Authorization=eyJhbGciOiJIUzI1NiJ9.e30.sig",
        );
        // Python: base64.b64encode(hashlib.sha256(b'eyJhbGciOiJIUzI1NiJ9.e30.sig').digest())
        check(
            "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig",
            true,
            "Invalid key=value pair (missing equal-sign) in Authorization header (hashed with \
             SHA-256 and encoded with Base64): 'BNWln7UJkbPn1RR/cms78YOPTISK3ZEJI7q6RL8xOZ8='.",
        );
        check(
            "AWS4-HMAC-SHA512 Credential=a/b/c/d/e, SignedHeaders=host, Signature=00",
            true,
            "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'",
        );
        check(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240315/eu-west-1/execute-api, SignedHeaders=host, Signature=00",
            true,
            "Credential must have exactly 5 slash-delimited elements, e.g. \
             keyid/date/region/service/term, got 'AKIDEXAMPLE/20240315/eu-west-1/execute-api'",
        );
        let bad_date = |date: &str| {
            let req = Req::new(
                "GET",
                "https://h.example/x",
                &[
                    ("host", "h.example"),
                    ("x-amz-date", date),
                    (
                        "authorization",
                        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240315/eu-west-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
                    ),
                ],
                b"",
            );
            err_message(req.verify_at(TS_UNIX))
        };
        assert_eq!(
            bad_date("2024-03-15T12:34:56Z"),
            "Date must be in ISO-8601 'basic format'. Got '2024-03-15T12:34:56Z'. See \
             http://en.wikipedia.org/wiki/ISO_8601"
        );
        assert!(bad_date("20240230T123456Z").starts_with("Date must be in ISO-8601"));
        assert!(bad_date("20240315T246000Z").starts_with("Date must be in ISO-8601"));
    }

    #[test]
    fn invalid_scope_messages() {
        let check = |credential: &str, signed: &str, expected: &str| {
            let auth = format!(
                "AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={signed}, Signature={}",
                "0".repeat(64)
            );
            let req = Req::new(
                "GET",
                "https://h.example/x",
                &[
                    ("host", "h.example"),
                    ("x-amz-date", TS),
                    ("authorization", &auth),
                ],
                b"",
            );
            let e = req.verify_at(TS_UNIX).unwrap_err();
            assert!(matches!(e, SigV4Error::InvalidSignature { .. }), "{e:?}");
            assert_eq!(e.message(), expected);
        };
        check(
            "AKIDEXAMPLE/20240315/eu-west-1/s3/aws4_request",
            "host",
            "Credential should be scoped to correct service: 'execute-api'.",
        );
        check(
            "AKIDEXAMPLE/20240315/eu-west-1/execute-api/aws5_request",
            "host",
            "Credential should be scoped with a valid terminator: 'aws4_request', not \
             'aws5_request'.",
        );
        check(
            "AKIDEXAMPLE/20240314/eu-west-1/execute-api/aws4_request",
            "host",
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
             HTTP: '20240314' != '20240315', from '20240315T123456Z'.",
        );
        check(
            "AKIDEXAMPLE/20240315//execute-api/aws4_request",
            "host",
            "Credential should be scoped to a valid region, not ''.",
        );
        check(
            "AKIDEXAMPLE/20240315/eu-west-1/execute-api/aws4_request",
            "x-amz-date",
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        );
        // Both mechanisms at once.
        let mut req = sign("GET", "https://h.example/x", &[], b"", TS);
        req.uri = "https://h.example/x?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            .parse()
            .unwrap();
        let e = req.verify_at(TS_UNIX).unwrap_err();
        assert!(matches!(e, SigV4Error::InvalidSignature { .. }));
        assert!(e.message().starts_with("Only one auth mechanism allowed"));
    }

    #[test]
    fn presigned_parameter_errors() {
        let check = |query: &str, now: i64| {
            let req = Req::new(
                "GET",
                &format!("https://h.example/x?{query}"),
                &[("host", "h.example")],
                b"",
            );
            req.verify_at(now).unwrap_err()
        };
        let e = check(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20240315T123456Z",
            TS_UNIX,
        );
        assert_eq!(
            e.message(),
            "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string \
             parameters must include 'X-Amz-Signature'. AWS query-string parameters must include \
             'X-Amz-SignedHeaders'. Re-examine the query-string parameters."
        );
        let full = |algorithm: &str, expires: &str| {
            format!(
                "X-Amz-Algorithm={algorithm}&X-Amz-Credential=AKIDEXAMPLE%2F20240315%2Feu-west-1%2Fexecute-api%2Faws4_request\
                 &X-Amz-Date=20240315T123456Z&X-Amz-Expires={expires}&X-Amz-SignedHeaders=host&X-Amz-Signature={}",
                "0".repeat(64)
            )
        };
        assert_eq!(
            check(&full("HMAC", "60"), TS_UNIX).message(),
            "Unsupported AWS 'algorithm': 'HMAC'"
        );
        assert_eq!(
            check(&full(ALGORITHM, "soon"), TS_UNIX).message(),
            "X-Amz-Expires should be a number"
        );
        assert_eq!(
            check(&full(ALGORITHM, "-1"), TS_UNIX).message(),
            "X-Amz-Expires should be a number"
        );
        assert_eq!(
            check(&full(ALGORITHM, "604801"), TS_UNIX).message(),
            "X-Amz-Expires must be less than a week (in seconds) that is 604800"
        );
        assert_eq!(
            check(&full(ALGORITHM, "99999999999999999999999"), TS_UNIX).message(),
            "X-Amz-Expires should be a number"
        );
        // A week is allowed; within it the (all-zero) signature is what fails.
        assert_eq!(
            check(&full(ALGORITHM, "604800"), TS_UNIX + 604_800),
            SigV4Error::SignatureMismatch
        );
        assert_eq!(
            check(&full(ALGORITHM, "604800"), TS_UNIX + 604_801).message(),
            "Signature expired: 20240315T123456Z is now earlier than 20240315T123457Z \
             (20240322T123457Z - 604800 sec.)"
        );
        assert!(matches!(
            check(&full(ALGORITHM, "60"), TS_UNIX - 301),
            SigV4Error::SignatureNotYetCurrent { .. }
        ));
        assert_eq!(
            check(&full(ALGORITHM, "60"), TS_UNIX - 300),
            SigV4Error::SignatureMismatch
        );
        // Without X-Amz-Expires: the header form's ±5 minutes.
        let no_expires = full(ALGORITHM, "1").replace("&X-Amz-Expires=1", "");
        assert_eq!(
            check(&no_expires, TS_UNIX + 300),
            SigV4Error::SignatureMismatch
        );
        assert!(
            check(&no_expires, TS_UNIX + 301)
                .message()
                .ends_with("- 5 min.)")
        );
        // A session token in the query.
        assert_eq!(
            check(
                &format!("{}&X-Amz-Security-Token=abc", full(ALGORITHM, "60")),
                TS_UNIX
            ),
            SigV4Error::UnknownAccessKey
        );
    }

    #[test]
    fn bad_inputs_never_panic() {
        let date = TS;
        let huge = "A".repeat(1 << 20);
        let credential = "AKIDEXAMPLE/20240315/eu-west-1/execute-api/aws4_request";
        let mut auths: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b" ".to_vec(),
            b"AWS4-HMAC-SHA256".to_vec(),
            b"AWS4-HMAC-SHA256 ".to_vec(),
            b"AWS4-HMAC-SHA256 ,,,".to_vec(),
            b"AWS4-HMAC-SHA256 ===".to_vec(),
            b"AWS4-HMAC-SHA256 Credential=".to_vec(),
            b"AWS4-HMAC-SHA256 Credential=////, SignedHeaders=, Signature=".to_vec(),
            b"AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=;;;, Signature=zz".to_vec(),
            format!("AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host;bad header;\u{e9}, Signature={}", "f".repeat(64)).into_bytes(),
            format!("AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={huge}, Signature=00").into_bytes(),
            format!("AWS4-HMAC-SHA256 Credential={huge}, SignedHeaders=host, Signature={huge}").into_bytes(),
            b"AWS4-HMAC-SHA256 Credential=\xff\xfe/20240315/eu-west-1/execute-api/aws4_request, SignedHeaders=host, Signature=\xc3".to_vec(),
            b"\x80\x81\x82 \xff=\xff".to_vec(),
        ];
        // Random soup from interesting pieces.
        let pieces: [&[u8]; 14] = [
            b"AWS4-HMAC-SHA256",
            b" ",
            b",",
            b"=",
            b"/",
            b";",
            b"Credential",
            b"SignedHeaders",
            b"Signature",
            b"host",
            b"\xff",
            b"\xc3\xa9",
            b"\t",
            b"20240315",
        ];
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..2000 {
            let mut v = Vec::new();
            for _ in 0..rng.usize(0..24) {
                v.extend_from_slice(pieces[rng.usize(..pieces.len())]);
            }
            auths.push(v);
        }
        let dates: [&[u8]; 9] = [
            date.as_bytes(),
            b"",
            b"\xff\xff",
            b"99999999T999999Z",
            b"00000101T000000Z",
            b"Fri, 15 Mar 2024 12:34:56 +9\xc3\xa92",
            b"Fri, 15 Mar 2024 25:00:00 GMT",
            b"15 Mar 2024 12:34 +0100",
            b"T\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9Z",
        ];
        let uris = [
            "https://h.example/x",
            "/",
            "*",
            "/%%%/../..//?%=%&&=&+++",
            "/a?X-Amz-Algorithm",
            "/a?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=%FF&X-Amz-Date=%FF&X-Amz-SignedHeaders=&X-Amz-Signature=",
            "/a?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a/b/c/d/e&X-Amz-Date=99991231T235959Z&X-Amz-Expires=604800&X-Amz-SignedHeaders=host&X-Amz-Signature=00",
        ];
        for (i, auth) in auths.iter().enumerate() {
            let mut headers = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_bytes(auth) {
                headers.insert(AUTHORIZATION, v);
            }
            let d = dates[i % dates.len()];
            headers.insert("x-amz-date", HeaderValue::from_bytes(d).unwrap());
            headers.insert(http::header::DATE, HeaderValue::from_bytes(d).unwrap());
            headers.insert("host", HeaderValue::from_static("h.example"));
            let uri: Uri = uris[i % uris.len()].parse().unwrap();
            for now in [0, TS_UNIX, i64::MAX / 4] {
                let r = verify(&Method::GET, &uri, &headers, b"body", &creds(), at(now));
                assert!(r.is_err());
                let e = r.unwrap_err();
                assert!(!e.message().is_empty());
                assert!(e.status() == 403 || e.status() == 400);
            }
        }
    }

    // --- dates ---------------------------------------------------------------------------------

    #[test]
    fn dates_parse_and_format() {
        assert_eq!(parse_amz_date(TS), Some(TS_UNIX));
        assert_eq!(format_amz_date(TS_UNIX), TS);
        assert_eq!(format_amz_date(0), "19700101T000000Z");
        assert_eq!(parse_amz_date("20240229T000000Z"), Some(1_709_164_800));
        assert_eq!(parse_amz_date("20230229T000000Z"), None);
        assert_eq!(parse_amz_date("21000229T000000Z"), None);
        assert_eq!(parse_amz_date("20000229T235959Z"), Some(951_868_799));
        assert_eq!(parse_amz_date("20240315T123456"), None);
        assert_eq!(parse_amz_date("+0240315T123456Z"), None);
        for secs in [
            -86_400 * 366,
            0,
            951_782_400,
            TS_UNIX,
            4_102_444_800,
            253_402_300_799,
        ] {
            assert_eq!(parse_amz_date(&format_amz_date(secs)), Some(secs), "{secs}");
        }
        assert_eq!(format_amz_date(i64::MAX), "99991231T235959Z");
        assert_eq!(format_amz_date(i64::MIN), "00000101T000000Z");

        for s in [
            "Fri, 15 Mar 2024 12:34:56 GMT",
            "Fri, 15 Mar 2024 12:34:56 -0000",
            "15 Mar 2024 12:34:56 +0000",
            "Fri, 15 Mar 2024 13:34:56 +0100",
            "Fri, 15 Mar 2024 07:04:56 -0530",
            "Fri,  15 mar 2024 12:34:56 UTC",
        ] {
            assert_eq!(parse_http_date(s), Some(TS_UNIX), "{s}");
        }
        for s in [
            "Fri, 15 Mar 2024 12:34:56",
            "Fri, 15 Foo 2024 12:34:56 GMT",
            "Fri, 15 Mar 24 12:34:56 GMT",
            "Fri, 15 Mar 2024 12:34:56:00 GMT",
            "Fri, 15 Mar 2024 12:34:56 +01",
            "Fri, 15 Mar 2024 12:34:56 +1\u{e9}",
            "Fri, 32 Mar 2024 12:34:56 GMT",
        ] {
            assert_eq!(parse_http_date(s), None, "{s}");
        }
        assert_eq!(
            parse_date_header(b"Fri, 15 Mar 2024 12:34:56 GMT").unwrap(),
            (TS.to_string(), TS_UNIX)
        );
    }

    #[test]
    fn base64_and_hex() {
        for (input, expected) in [
            (&b""[..], ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"\xff\xfe\xfd", "//79"),
        ] {
            assert_eq!(base64(input), expected);
        }
        assert_eq!(hex(&[0x00, 0xab, 0xff]), "00abff");
        assert_eq!(decode_signature(&"aB".repeat(32)), Some([0xab; 32]));
        assert_eq!(decode_signature("ab"), None);
    }

    // --- credentials ---------------------------------------------------------------------------

    #[test]
    fn credentials_from_json() {
        let c = Credentials::from_json(
            r#"[{"accessKeyId": "AKIDEXAMPLE", "secretAccessKey": "s3cr3t", "principal": "arn:aws:iam::123456789012:user/alice"},
                {"accessKeyId": "AKID_2", "secretAccessKey": "x", "principal": "arn:aws-cn:sts::210987654321:assumed-role/r/s"}]"#,
        )
        .unwrap();
        assert_eq!(c.len(), 2);
        assert!(!c.is_empty());
        let alice = c.get("AKIDEXAMPLE").unwrap();
        assert_eq!(alice.account_id, "123456789012");
        assert_eq!(alice.principal_arn, "arn:aws:iam::123456789012:user/alice");
        assert_eq!(alice.secret_access_key, "s3cr3t");
        assert_eq!(c.get("AKID_2").unwrap().account_id, "210987654321");
        assert!(c.get("akidexample").is_none());
        let debug = format!("{c:?} {alice:?}");
        assert!(!debug.contains("s3cr3t"), "{debug}");
        assert!(debug.contains("AKIDEXAMPLE"));
        assert!(Credentials::from_json("[]").unwrap().is_empty());

        let err = |text: &str| Credentials::from_json(text).unwrap_err();
        let ok = r#"{"accessKeyId": "A", "secretAccessKey": "s", "principal": "arn:aws:iam::123456789012:user/a"}"#;
        assert!(err("{").starts_with("credentials file is not valid JSON"));
        assert!(err("{}").starts_with("credentials file must be a JSON array"));
        assert_eq!(
            err(&format!("[{ok}, 3]")),
            "credentials entry 1: not a JSON object"
        );
        assert_eq!(
            err(r#"[{"secretAccessKey": "s", "principal": "arn:aws:iam::123456789012:user/a"}]"#),
            "credentials entry 0: missing \"accessKeyId\""
        );
        assert_eq!(
            err(
                r#"[{"accessKeyId": "A", "secretAccessKey": "", "principal": "arn:aws:iam::123456789012:user/a"}]"#
            ),
            "credentials entry 0: \"secretAccessKey\" is empty"
        );
        assert_eq!(
            err(
                r#"[{"accessKeyId": "A", "secretAccessKey": 5, "principal": "arn:aws:iam::123456789012:user/a"}]"#
            ),
            "credentials entry 0: \"secretAccessKey\" must be a string"
        );
        assert!(err(r#"[{"accessKeyId": "A", "secretAccessKey": "s", "principal": "arn:aws:iam::123456789012:user/a", "secret": "x"}]"#)
            .starts_with("credentials entry 0: unknown field \"secret\""));
        assert_eq!(
            err(r#"[{"accessKeyId": "A", "secretAccessKey": "s", "principal": "alice"}]"#),
            "credentials entry 0: principal \"alice\" is not an ARN like \"arn:aws:iam::123456789012:user/alice\""
        );
        assert_eq!(
            err(
                r#"[{"accessKeyId": "A", "secretAccessKey": "s", "principal": "arn:aws:iam::1234:user/a"}]"#
            ),
            "credentials entry 0: principal \"arn:aws:iam::1234:user/a\": the account id (the ARN's 5th field) \"1234\" is not 12 digits"
        );
        assert_eq!(
            err(&format!("[{ok}, {ok}]")),
            "credentials entry 1: \"accessKeyId\" \"A\" already appears in entry 0"
        );
        assert_eq!(
            err(
                r#"[{"accessKeyId": "A/B", "secretAccessKey": "s", "principal": "arn:aws:iam::123456789012:user/a"}]"#
            ),
            "credentials entry 0: \"accessKeyId\" \"A/B\" may only contain letters, digits and '_'"
        );
    }

    #[test]
    fn error_mapping() {
        let all = [
            SigV4Error::MissingAuthenticationToken,
            SigV4Error::incomplete("i"),
            SigV4Error::invalid("v"),
            SigV4Error::UnknownAccessKey,
            SigV4Error::SignatureMismatch,
            SigV4Error::SignatureExpired {
                message: "e".into(),
            },
            SigV4Error::SignatureNotYetCurrent {
                message: "n".into(),
            },
            SigV4Error::ContentSha256Mismatch,
        ];
        for e in &all {
            assert_eq!(e.to_string(), e.message());
            assert!(e.error_type().ends_with("Exception"));
        }
        assert_eq!(
            all.iter().map(|e| e.response_type()).collect::<Vec<_>>(),
            [
                "MISSING_AUTHENTICATION_TOKEN",
                "INVALID_SIGNATURE",
                "INVALID_SIGNATURE",
                "INVALID_SIGNATURE",
                "INVALID_SIGNATURE",
                "INVALID_SIGNATURE",
                "INVALID_SIGNATURE",
                "DEFAULT_4XX"
            ]
        );
        assert_eq!(all.iter().filter(|e| e.status() == 403).count(), 7);
    }
}
