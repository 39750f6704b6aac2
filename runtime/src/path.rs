//! Request paths: split once into segments, percent-decoded, checked.
//!
//! Matching compares *decoded* segments, so `/pets/a%20b` binds `a b`; an encoded slash stays
//! inside its segment (`/pets/a%2Fb` binds `a/b`). The raw text of every segment is kept for
//! http-proxy forwarding, which re-uses the client's own encoding. Dot segments and encodings
//! that do not decode to UTF-8 are refused before any route is matched.

use percent_encoding::percent_decode_str;
use smallvec::SmallVec;
use std::fmt;

/// Why a request path was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathError {
    /// The path does not start with `/` (e.g. an authority-form or `*` target).
    NotAbsolute,
    /// A `.` or `..` segment, written plainly or percent-encoded.
    DotSegment,
    /// A percent-encoding that does not decode to UTF-8.
    InvalidEncoding,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathError::NotAbsolute => "the request path is not absolute",
            PathError::DotSegment => "the request path has a `.` or `..` segment",
            PathError::InvalidEncoding => "the request path does not decode to UTF-8",
        })
    }
}

impl std::error::Error for PathError {}

#[derive(Debug, Clone, Copy)]
enum Text {
    /// A range of the raw path (the segment needed no decoding).
    Raw(u32, u32),
    /// A range of the decoded buffer.
    Decoded(u32, u32),
}

#[derive(Debug, Clone, Copy)]
struct Seg {
    raw_start: u32,
    raw_end: u32,
    text: Text,
}

/// An index over a request path: segment boundaries and decoded text.
///
/// The index does not own the path; pass the same `&str` it was built from to its accessors.
#[derive(Debug, Clone, Default)]
pub struct PathIndex {
    // Inline for paths of up to 8 segments: no allocation on the common path.
    segs: SmallVec<[Seg; 8]>,
    decoded: String,
    trailing_slash: bool,
}

impl PathIndex {
    /// Indexes `path` (the URI path, still percent-encoded). One trailing `/` is ignored, as API
    /// Gateway's REST router does.
    pub fn parse(path: &str) -> Result<PathIndex, PathError> {
        let Some(rest) = path.strip_prefix('/') else {
            return Err(PathError::NotAbsolute);
        };
        let mut index = PathIndex::default();
        if rest.is_empty() {
            return Ok(index);
        }
        let (body, trailing) = match rest.strip_suffix('/') {
            Some(b) => (b, true),
            None => (rest, false),
        };
        index.trailing_slash = trailing;
        let mut start = 1usize;
        for raw in body.split('/') {
            let end = start + raw.len();
            let text = if raw.contains('%') {
                let decoded = percent_decode_str(raw)
                    .decode_utf8()
                    .map_err(|_| PathError::InvalidEncoding)?;
                if decoded == "." || decoded == ".." {
                    return Err(PathError::DotSegment);
                }
                let s = index.decoded.len();
                index.decoded.push_str(&decoded);
                Text::Decoded(s as u32, index.decoded.len() as u32)
            } else {
                if raw == "." || raw == ".." {
                    return Err(PathError::DotSegment);
                }
                Text::Raw(start as u32, end as u32)
            };
            index.segs.push(Seg {
                raw_start: start as u32,
                raw_end: end as u32,
                text,
            });
            start = end + 1;
        }
        Ok(index)
    }

    /// Number of segments.
    pub fn len(&self) -> usize {
        self.segs.len()
    }

    /// Whether the path is `/`.
    pub fn is_empty(&self) -> bool {
        self.segs.is_empty()
    }

    /// Whether the path ended with a `/` (ignored for matching).
    pub fn trailing_slash(&self) -> bool {
        self.trailing_slash
    }

    /// The decoded text of segment `i` of `path`.
    pub fn segment<'a>(&'a self, path: &'a str, i: usize) -> &'a str {
        match self.segs[i].text {
            Text::Raw(s, e) => &path[s as usize..e as usize],
            Text::Decoded(s, e) => &self.decoded[s as usize..e as usize],
        }
    }

    /// The decoded segments from `from` on, for matching (inline up to 8, no allocation).
    pub fn segments<'a>(&'a self, path: &'a str, from: usize) -> Segments<'a> {
        (from.min(self.segs.len())..self.segs.len())
            .map(|i| self.segment(path, i))
            .collect()
    }

    /// The raw (still encoded) text of segment `i`.
    pub fn raw_segment<'a>(&self, path: &'a str, i: usize) -> &'a str {
        let s = self.segs[i];
        &path[s.raw_start as usize..s.raw_end as usize]
    }

    /// The raw text from segment `i` to the end, without the trailing `/`.
    pub fn raw_tail<'a>(&self, path: &'a str, i: usize) -> &'a str {
        match (self.segs.get(i), self.segs.last()) {
            (Some(first), Some(last)) => &path[first.raw_start as usize..last.raw_end as usize],
            _ => "",
        }
    }

    /// The decoded segments from `i` on, joined with `/` (a greedy parameter's value).
    pub fn decoded_tail(&self, path: &str, i: usize) -> String {
        let mut out = String::new();
        for j in i..self.segs.len() {
            if j > i {
                out.push('/');
            }
            out.push_str(self.segment(path, j));
        }
        out
    }
}

/// Decoded path segments, stored inline for short paths.
pub type Segments<'a> = SmallVec<[&'a str; 8]>;

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(p: &str) -> Vec<String> {
        let i = PathIndex::parse(p).unwrap();
        i.segments(p, 0).into_iter().map(str::to_owned).collect()
    }

    #[test]
    fn splits_and_ignores_one_trailing_slash() {
        assert_eq!(segs("/"), Vec::<String>::new());
        assert_eq!(segs("/prod/pets"), ["prod", "pets"]);
        assert_eq!(segs("/prod/pets/"), ["prod", "pets"]);
        assert!(PathIndex::parse("/prod/pets/").unwrap().trailing_slash());
        assert_eq!(segs("/a//b"), ["a", "", "b"]);
    }

    #[test]
    fn decodes_segments_but_keeps_encoded_slashes_inside() {
        assert_eq!(segs("/pets/a%20b"), ["pets", "a b"]);
        assert_eq!(segs("/pets/a%2Fb/c"), ["pets", "a/b", "c"]);
        let p = "/proxy/a%2Fb/c/";
        let i = PathIndex::parse(p).unwrap();
        assert_eq!(i.raw_tail(p, 1), "a%2Fb/c");
        assert_eq!(i.decoded_tail(p, 1), "a/b/c");
        assert_eq!(i.raw_segment(p, 1), "a%2Fb");
    }

    #[test]
    fn refuses_dot_segments_bad_utf8_and_relative_targets() {
        assert_eq!(
            PathIndex::parse("/a/../b").unwrap_err(),
            PathError::DotSegment
        );
        assert_eq!(PathIndex::parse("/a/.").unwrap_err(), PathError::DotSegment);
        assert_eq!(
            PathIndex::parse("/a/%2e%2E/b").unwrap_err(),
            PathError::DotSegment
        );
        assert_eq!(
            PathIndex::parse("/a/%FF").unwrap_err(),
            PathError::InvalidEncoding
        );
        assert_eq!(PathIndex::parse("*").unwrap_err(), PathError::NotAbsolute);
        // `...` is an ordinary name, and a lone `%` that is not an escape stays literal.
        assert_eq!(segs("/a/..."), ["a", "..."]);
        assert_eq!(segs("/a/100%"), ["a", "100%"]);
    }
}
