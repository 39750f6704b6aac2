//! API keys: the records the stores keep, how values are generated, hashed and compared, and
//! API Gateway's CSV import format.
//!
//! A key's value is shown once, when it is created; stores keep only its SHA-256 digest. The
//! gateway hashes the `x-api-key` it receives and looks the digest up; digests compare in
//! constant time, so response times say nothing about how close a guess was.

use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use std::fmt;

/// Shortest key value API Gateway accepts.
pub const MIN_VALUE_LEN: usize = 20;
/// Longest key value API Gateway accepts.
pub const MAX_VALUE_LEN: usize = 128;
/// Longest key name.
pub const MAX_NAME_LEN: usize = 1024;
/// Most usage plans one key may belong to (API Gateway's quota).
pub const MAX_PLANS_PER_KEY: usize = 10;

/// An API key as a store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// The key's id (`$context.identity.apiKeyId`): 10 lower-case letters and digits.
    pub id: String,
    /// A name for people.
    pub name: String,
    /// A description for people.
    #[serde(default)]
    pub description: String,
    /// SHA-256 of the value.
    pub digest: Digest,
    /// Disabled keys are refused (403), as unknown ones are.
    pub enabled: bool,
    /// When the key was created, in milliseconds since the Unix epoch (a quota's `offset`
    /// applies to the period containing it).
    pub created_ms: u64,
    /// The usage plans the key belongs to, by name.
    #[serde(default)]
    pub plans: Vec<String>,
}

/// The SHA-256 digest of a key value. Equality is constant-time.
#[derive(Clone, Copy)]
pub struct Digest([u8; 32]);

impl Digest {
    /// The digest of `value`.
    pub fn of(value: &str) -> Digest {
        Digest::of_bytes(value.as_bytes())
    }

    /// The digest of `bytes`.
    pub fn of_bytes(bytes: &[u8]) -> Digest {
        Digest(sha2::Sha256::digest(bytes).into())
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
            s.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
        }
        s
    }

    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Option<Digest> {
        let b = s.as_bytes();
        if b.len() != 64 {
            return None;
        }
        let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = nibble(b[2 * i])? << 4 | nibble(b[2 * i + 1])?;
        }
        Some(Digest(out))
    }
}

impl PartialEq for Digest {
    /// Constant-time: every byte is compared whatever the first difference.
    fn eq(&self, other: &Digest) -> bool {
        let diff = self
            .0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        std::hint::black_box(diff) == 0
    }
}

impl Eq for Digest {}

impl std::hash::Hash for Digest {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // A digest is already uniform: its first eight bytes are as good a hash as any.
        let mut first = [0u8; 8];
        first.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(first));
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", &self.to_hex()[..12])
    }
}

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Digest, D::Error> {
        let s = String::deserialize(d)?;
        Digest::from_hex(&s).ok_or_else(|| serde::de::Error::custom("not a SHA-256 hex digest"))
    }
}

/// `n` characters drawn uniformly from `alphabet` with the operating system's CSPRNG.
fn random_string(n: usize, alphabet: &[u8]) -> Result<String, getrandom::Error> {
    // Rejection sampling: bytes at or above the largest multiple of the alphabet size would
    // bias the first characters.
    let bound = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        getrandom::fill(&mut buf)?;
        for b in buf {
            if usize::from(b) < bound && out.len() < n {
                out.push(char::from(alphabet[usize::from(b) % alphabet.len()]));
            }
        }
    }
    Ok(out)
}

/// A new key value: 40 random letters and digits (about 238 bits), like API Gateway's.
pub fn generate_value() -> Result<String, getrandom::Error> {
    random_string(
        40,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    )
}

/// A new key id: 10 random lower-case letters and digits, like API Gateway's.
pub fn generate_id() -> Result<String, getrandom::Error> {
    random_string(10, b"abcdefghijklmnopqrstuvwxyz0123456789")
}

/// Checks a key value with API Gateway's rules and messages.
pub fn check_value(value: &str) -> Result<(), String> {
    let n = value.chars().count();
    if n < MIN_VALUE_LEN {
        return Err(format!(
            "API Key value should be at least {MIN_VALUE_LEN} characters"
        ));
    }
    if n > MAX_VALUE_LEN {
        return Err(format!(
            "API Key value exceeds maximum size of {MAX_VALUE_LEN} characters"
        ));
    }
    if value.chars().any(|c| c.is_control() || c == ' ') {
        return Err("API Key value must not contain spaces or control characters".to_owned());
    }
    Ok(())
}

/// Checks a key name: 1 to 1024 characters.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("an API key needs a name".to_owned());
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(format!(
            "API Key name exceeds maximum size of {MAX_NAME_LEN} characters"
        ));
    }
    Ok(())
}

/// One key of an import file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedKey {
    /// The file line it came from (1-based).
    pub line: usize,
    /// `Name`
    pub name: String,
    /// `Key`: the value.
    pub value: String,
    /// `Description` (default empty).
    pub description: String,
    /// `Enabled` (default true).
    pub enabled: bool,
    /// `UsagePlanIds` (default none).
    pub plans: Vec<String>,
}

/// A problem in an import file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// The line (1-based).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Reads API Gateway's API key file format: CSV with a header row naming `Name` and `Key`
/// (any case, any order), optionally `Description`, `Enabled` and `UsagePlanIds` (several
/// plans as one quoted, comma-separated field); other columns are ignored. Every problem is
/// reported, not only the first.
pub fn parse_import(text: &str) -> Result<Vec<ImportedKey>, Vec<ImportError>> {
    let rows = csv_rows(text);
    let mut errors = Vec::new();
    let Some((header_line, header)) = rows.first() else {
        return Err(vec![ImportError {
            line: 1,
            message: "the file is empty: it needs a header row such as `Name,Key`".to_owned(),
        }]);
    };
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let (name_col, key_col) = (column("name"), column("key"));
    for (col, what) in [(name_col, "Name"), (key_col, "Key")] {
        if col.is_none() {
            errors.push(ImportError {
                line: *header_line,
                message: format!("the header row has no `{what}` column"),
            });
        }
    }
    let (Some(name_col), Some(key_col)) = (name_col, key_col) else {
        return Err(errors);
    };
    let (description_col, enabled_col, plans_col) = (
        column("description"),
        column("enabled"),
        column("usageplanids"),
    );
    let mut keys = Vec::new();
    for (line, row) in &rows[1..] {
        let field = |c: Option<usize>| c.and_then(|c| row.get(c)).map(String::as_str);
        let mut bad = |message: String| {
            errors.push(ImportError {
                line: *line,
                message,
            })
        };
        let name = field(Some(name_col)).unwrap_or("").to_owned();
        let value = field(Some(key_col)).unwrap_or("").to_owned();
        if let Err(e) = check_name(&name) {
            bad(e);
        }
        if let Err(e) = check_value(&value) {
            bad(e);
        }
        let enabled = match field(enabled_col).map(str::trim) {
            None | Some("") => true,
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            Some(v) => {
                bad(format!("Enabled is `{v}`; write TRUE or FALSE"));
                true
            }
        };
        let plans: Vec<String> = field(plans_col)
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        if plans.len() > MAX_PLANS_PER_KEY {
            bad(format!(
                "{} usage plans; a key belongs to at most {MAX_PLANS_PER_KEY}",
                plans.len()
            ));
        }
        keys.push(ImportedKey {
            line: *line,
            name,
            value,
            description: field(description_col).unwrap_or("").to_owned(),
            enabled,
            plans,
        });
    }
    for (i, k) in keys.iter().enumerate() {
        if let Some(first) = keys[..i].iter().find(|o| o.value == k.value) {
            errors.push(ImportError {
                line: k.line,
                message: format!("the same key value as line {}", first.line),
            });
        }
    }
    if errors.is_empty() {
        Ok(keys)
    } else {
        errors.sort_by_key(|e| e.line);
        Err(errors)
    }
}

/// The non-blank rows of a CSV text with their first line numbers. Fields are separated by
/// commas and may be quoted with `"` or `'` (API Gateway's format allows both for
/// `UsagePlanIds`); a doubled quote inside a quoted field is one quote; quoted fields may span
/// lines. Hand-written because the `csv` crate takes a single quote character.
fn csv_rows(text: &str) -> Vec<(usize, Vec<String>)> {
    let mut rows = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut quote: Option<char> = None;
    let mut line = 1;
    let mut row_line = 1;
    let mut at_field_start = true;
    let mut chars = text.trim_start_matches('\u{feff}').chars().peekable();
    let mut end_row = |row: &mut Vec<String>, field: &mut String, row_line: usize| {
        row.push(std::mem::take(field));
        if !(row.len() == 1 && row[0].trim().is_empty()) {
            rows.push((row_line, std::mem::take(row)));
        }
        row.clear();
    };
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => {
                if chars.peek() == Some(&q) {
                    chars.next();
                    field.push(q);
                } else {
                    quote = None;
                }
            }
            Some(_) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
            None => match c {
                '"' | '\'' if at_field_start => {
                    quote = Some(c);
                    at_field_start = false;
                }
                ',' => {
                    row.push(std::mem::take(&mut field));
                    at_field_start = true;
                }
                '\r' if chars.peek() == Some(&'\n') => {}
                '\n' => {
                    end_row(&mut row, &mut field, row_line);
                    line += 1;
                    row_line = line;
                    at_field_start = true;
                }
                c => {
                    field.push(c);
                    at_field_start = false;
                }
            },
        }
    }
    if !field.is_empty() || !row.is_empty() {
        end_row(&mut row, &mut field, row_line);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_round_trip_and_compare() {
        let d = Digest::of("apikey1234abcdefghij0123456789");
        assert_eq!(Digest::from_hex(&d.to_hex()), Some(d));
        assert_ne!(d, Digest::of("apikey1234abcdefghij012345678X"));
        assert_eq!(
            Digest::of("abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(Digest::from_hex("xyz"), None);
    }

    #[test]
    fn generated_values_and_ids_have_api_gateways_shape() {
        let v = generate_value().unwrap();
        assert_eq!(v.len(), 40);
        assert!(v.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert!(check_value(&v).is_ok());
        let id = generate_id().unwrap();
        assert_eq!(id.len(), 10);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
        assert_ne!(generate_value().unwrap(), v);
    }

    #[test]
    fn values_follow_api_gateways_length_rules() {
        assert_eq!(
            check_value("short").unwrap_err(),
            "API Key value should be at least 20 characters"
        );
        assert_eq!(
            check_value(&"x".repeat(129)).unwrap_err(),
            "API Key value exceeds maximum size of 128 characters"
        );
        assert!(check_value(&"x".repeat(128)).is_ok());
    }

    #[test]
    fn imports_api_gateways_csv_examples() {
        // The three examples of API Gateway's "API key file format" page.
        let a = parse_import("Key,name\napikey1234abcdefghij0123456789,MyFirstApiKey\n").unwrap();
        assert_eq!(a[0].name, "MyFirstApiKey");
        assert_eq!(a[0].value, "apikey1234abcdefghij0123456789");
        assert!(a[0].enabled && a[0].plans.is_empty() && a[0].description.is_empty());
        let b = parse_import(
            "Name,key,description,Enabled,usageplanIds\r\n\
             MyFirstApiKey,apikey1234abcdefghij0123456789,An imported key,TRUE,c7y23b\r\n",
        )
        .unwrap();
        assert_eq!(b[0].description, "An imported key");
        assert_eq!(b[0].plans, vec!["c7y23b"]);
        let c = parse_import(
            "Enabled,Name,key,UsageplanIds\n\
             true,MyFirstApiKey,apikey1234abcdefghij0123456789,\"c7y23b,glvrsr\"\n\
             false,Second,apikey1234abcdefghij0123456780,'basic,gold'\n\
             \n",
        )
        .unwrap();
        assert_eq!(c[0].plans, vec!["c7y23b", "glvrsr"]);
        assert!(!c[1].enabled);
        assert_eq!(c[1].plans, vec!["basic", "gold"]);
    }

    #[test]
    fn import_reports_every_problem_with_its_line() {
        let errors = parse_import(
            "Name,Key,Enabled\n\
             a,tooshort,TRUE\n\
             b,apikey1234abcdefghij0123456789,maybe\n\
             c,apikey1234abcdefghij0123456789,\n",
        )
        .unwrap_err();
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "line 2: API Key value should be at least 20 characters",
                "line 3: Enabled is `maybe`; write TRUE or FALSE",
                "line 4: the same key value as line 3",
            ]
        );
        let missing = parse_import("Name,Value\nx,y\n").unwrap_err();
        assert_eq!(missing[0].message, "the header row has no `Key` column");
    }
}
