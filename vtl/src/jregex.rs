//! Java regular expressions (`java.util.regex`) on top of the `regex` crate: pattern
//! translation, a small compiled-pattern cache, and Java's replacement-string syntax.
//!
//! Translation keeps Java's meaning where the two dialects differ: `\d \w \s` are ASCII-only,
//! `.` stops at every Java line terminator (`\n \r \u0085 \u2028 \u2029`) unless DOTALL is on,
//! `\Q...\E` quotes, `\uXXXX`, octal `\0nn`, `\cX`, `\e`, `\h \v \R` and the POSIX classes
//! (`\p{Alpha}`, `\p{Punct}`...) are ASCII as in Java. Possessive quantifiers (`a*+`) and atomic
//! groups (`(?>...)`) run as ordinary greedy ones; `\Z` is taken as `\z` and `$` (without
//! MULTILINE) matches only at the very end, not also before a final line terminator.
//! Lookaround and backreferences have no equivalent in a linear-time engine: patterns using
//! them fail like an invalid pattern (`PatternSyntaxException`).

use crate::{Error, Result};
use regex::{Captures, Regex};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write as _;

/// Compiled patterns per thread; cleared when it grows past this many entries.
const CACHE_MAX: usize = 64;

thread_local! {
    static CACHE: RefCell<HashMap<(bool, String), Regex>> = RefCell::new(HashMap::new());
}

/// The compiled form of Java regex `pattern`; with `whole`, anchored to match the entire input
/// (Java's `Matcher.matches()`).
pub(crate) fn compile(pattern: &str, whole: bool) -> Result<Regex> {
    let key = (whole, pattern.to_string());
    // `try_with`: during thread teardown the cache may be gone; compile uncached then.
    if let Ok(Some(r)) = CACHE.try_with(|c| c.try_borrow().ok().and_then(|c| c.get(&key).cloned()))
    {
        return Ok(r);
    }
    let translated = translate(pattern).map_err(|m| syntax_error(&m, pattern))?;
    let full = if whole {
        format!(r"\A(?:{translated})\z")
    } else {
        translated
    };
    let re = regex::RegexBuilder::new(&full)
        .size_limit(1 << 22)
        .dfa_size_limit(1 << 22)
        .build()
        .map_err(|e| {
            let msg = match e {
                regex::Error::Syntax(s) => s.lines().last().unwrap_or("invalid").to_string(),
                regex::Error::CompiledTooBig(_) => "pattern too large".to_string(),
                _ => "invalid pattern".to_string(),
            };
            syntax_error(&msg, pattern)
        })?;
    let _ = CACHE.try_with(|c| {
        if let Ok(mut c) = c.try_borrow_mut() {
            if c.len() >= CACHE_MAX {
                c.clear();
            }
            c.insert(key, re.clone());
        }
    });
    Ok(re)
}

fn syntax_error(msg: &str, pattern: &str) -> Error {
    Error::new(format!(
        "java.util.regex.PatternSyntaxException: {msg} near pattern '{pattern}'"
    ))
}

/// The state of one translation.
struct Translator<'a> {
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
    out: String,
    /// DOTALL state per open group (the last is the current one).
    dotall: Vec<bool>,
    /// Depth of `[...]` nesting.
    class: usize,
    /// Whether the previous output item can take a quantifier-modifier check.
    after_quantifier: bool,
}

const LINE_TERMINATORS: &str = r"\n\r\x{85}\x{2028}\x{2029}";
const SPACE: &str = r"\t\n\x0B\f\r ";
const HSPACE: &str = r" \t\xA0\x{1680}\x{180e}\x{2000}-\x{200a}\x{202f}\x{205f}\x{3000}";
const VSPACE: &str = r"\n\x0B\f\r\x{85}\x{2028}\x{2029}";

/// Translates a Java regex into the `regex` crate's syntax.
pub(crate) fn translate(java: &str) -> std::result::Result<String, String> {
    let mut t = Translator {
        chars: java.char_indices().peekable(),
        out: String::with_capacity(java.len() + 16),
        dotall: vec![false],
        class: 0,
        after_quantifier: false,
    };
    t.run()?;
    if t.class > 0 {
        return Err("Unclosed character class".into());
    }
    Ok(t.out)
}

impl Translator<'_> {
    fn next(&mut self) -> Option<char> {
        self.chars.next().map(|(_, c)| c)
    }

    fn peek(&mut self) -> Option<char> {
        self.chars.peek().map(|&(_, c)| c)
    }

    fn dotall(&self) -> bool {
        self.dotall.last().copied().unwrap_or(false)
    }

    /// Emits a set given by its class body: `[body]`, `[^body]`, or inside a class the body or a
    /// nested negated class.
    fn set(&mut self, body: &str, negated: bool) {
        match (self.class > 0, negated) {
            (true, false) => self.out.push_str(body),
            (_, true) => {
                self.out.push_str("[^");
                self.out.push_str(body);
                self.out.push(']');
            }
            (false, false) => {
                self.out.push('[');
                self.out.push_str(body);
                self.out.push(']');
            }
        }
    }

    fn literal(&mut self, c: char) {
        if c.is_ascii_alphanumeric() || (!c.is_ascii() && self.class == 0) {
            self.out.push(c);
        } else {
            let _ = write!(self.out, r"\x{{{:X}}}", c as u32);
        }
    }

    fn run(&mut self) -> std::result::Result<(), String> {
        while let Some(c) = self.next() {
            let quantifier = self.class == 0 && matches!(c, '*' | '+' | '?' | '}');
            if quantifier && self.after_quantifier && c == '+' {
                // Possessive quantifier: run it as a greedy one.
                self.after_quantifier = false;
                continue;
            }
            match c {
                '\\' => self.escape()?,
                '[' => {
                    self.class += 1;
                    self.out.push('[');
                    if self.peek() == Some('^') {
                        self.next();
                        self.out.push('^');
                    }
                }
                ']' if self.class > 0 => {
                    self.class -= 1;
                    self.out.push(']');
                }
                '~' if self.class > 0 => self.out.push_str(r"\x{7E}"),
                '.' if self.class == 0 => {
                    if self.dotall() {
                        self.out.push_str("(?s:.)");
                    } else {
                        let _ = write!(self.out, "[^{LINE_TERMINATORS}]");
                    }
                }
                '(' if self.class == 0 => self.group()?,
                ')' if self.class == 0 => {
                    if self.dotall.len() > 1 {
                        self.dotall.pop();
                    }
                    self.out.push(')');
                }
                _ => self.out.push(c),
            }
            // A `?` right after a quantifier makes it lazy; that is a quantifier suffix too.
            self.after_quantifier = quantifier && !(c == '?' && self.after_quantifier);
        }
        Ok(())
    }

    fn group(&mut self) -> std::result::Result<(), String> {
        let current = self.dotall();
        if self.peek() != Some('?') {
            self.dotall.push(current);
            self.out.push('(');
            return Ok(());
        }
        self.next();
        match self.peek() {
            Some(':') => {
                self.next();
                self.dotall.push(current);
                self.out.push_str("(?:");
            }
            Some('>') => {
                self.next();
                self.dotall.push(current);
                self.out.push_str("(?:");
            }
            Some('=') | Some('!') => return Err("lookahead is not supported".into()),
            Some('<') => {
                self.next();
                match self.peek() {
                    Some('=') | Some('!') => return Err("lookbehind is not supported".into()),
                    _ => {
                        let mut name = String::new();
                        loop {
                            match self.next() {
                                Some('>') => break,
                                Some(c) if c.is_ascii_alphanumeric() => name.push(c),
                                _ => {
                                    return Err(
                                        "named capturing group is missing trailing '>'".into()
                                    );
                                }
                            }
                        }
                        if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
                            return Err(
                                "capturing group name does not start with a Latin letter".into()
                            );
                        }
                        self.dotall.push(current);
                        let _ = write!(self.out, "(?P<{name}>");
                    }
                }
            }
            _ => {
                // Inline flags: (?idmsuxU-idmsuxU) or (?flags:...).
                let mut on = String::new();
                let mut off = String::new();
                let mut negate = false;
                let mut dotall = current;
                loop {
                    match self.next() {
                        Some('-') => negate = true,
                        Some(f @ ('i' | 'm' | 's' | 'x')) => {
                            if f == 's' {
                                dotall = !negate;
                            }
                            if negate { off.push(f) } else { on.push(f) }
                        }
                        Some('d' | 'u' | 'U' | 'c') => {}
                        Some(')') => {
                            if let Some(d) = self.dotall.last_mut() {
                                *d = dotall;
                            }
                            if !on.is_empty() || !off.is_empty() {
                                let _ = write!(
                                    self.out,
                                    "(?{on}{}{off})",
                                    if off.is_empty() { "" } else { "-" }
                                );
                            }
                            return Ok(());
                        }
                        Some(':') => {
                            self.dotall.push(dotall);
                            let _ = write!(
                                self.out,
                                "(?{on}{}{off}:",
                                if off.is_empty() { "" } else { "-" }
                            );
                            return Ok(());
                        }
                        _ => return Err("Unknown inline modifier".into()),
                    }
                }
            }
        }
        Ok(())
    }

    fn escape(&mut self) -> std::result::Result<(), String> {
        let Some(c) = self.next() else {
            return Err("Unexpected internal error".into());
        };
        match c {
            'd' => self.set("0-9", false),
            'D' => self.set("0-9", true),
            'w' => self.set("a-zA-Z0-9_", false),
            'W' => self.set("a-zA-Z0-9_", true),
            's' => self.set(SPACE, false),
            'S' => self.set(SPACE, true),
            'h' => self.set(HSPACE, false),
            'H' => self.set(HSPACE, true),
            'v' => self.set(VSPACE, false),
            'V' => self.set(VSPACE, true),
            'R' if self.class == 0 => {
                let _ = write!(self.out, r"(?:\r\n|[{VSPACE}])");
            }
            'b' | 'B' | 'A' | 'z' if self.class == 0 => {
                self.out.push('\\');
                self.out.push(c);
            }
            'Z' if self.class == 0 => self.out.push_str(r"\z"),
            't' => self.out.push_str(r"\t"),
            'n' => self.out.push_str(r"\n"),
            'r' => self.out.push_str(r"\r"),
            'f' => self.out.push_str(r"\f"),
            'a' => self.out.push_str(r"\x07"),
            'e' => self.out.push_str(r"\x1B"),
            'x' => {
                let code = if self.peek() == Some('{') {
                    self.next();
                    let mut hex = String::new();
                    loop {
                        match self.next() {
                            Some('}') => break,
                            Some(h) if h.is_ascii_hexdigit() && hex.len() < 8 => hex.push(h),
                            _ => return Err("Unclosed hexadecimal escape sequence".into()),
                        }
                    }
                    u32::from_str_radix(&hex, 16)
                        .map_err(|_| "Illegal hexadecimal escape sequence")?
                } else {
                    self.hex_digits(2)?
                };
                self.code_point(code)?;
            }
            'u' => {
                let mut code = self.hex_digits(4)?;
                if (0xD800..0xDC00).contains(&code) {
                    // A surrogate pair written as two escapes.
                    let mut ahead = self.chars.clone();
                    if ahead.next().map(|x| x.1) == Some('\\')
                        && ahead.next().map(|x| x.1) == Some('u')
                    {
                        self.next();
                        self.next();
                        let low = self.hex_digits(4)?;
                        if !(0xDC00..0xE000).contains(&low) {
                            return Err("unpaired surrogate".into());
                        }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                    }
                }
                self.code_point(code)?;
            }
            '0' => {
                // Java: \0n, \0nn, or \0mnn with m <= 3.
                let mut v = 0u32;
                let mut n = 0;
                let mut first = 0;
                while let Some(d) = self.peek().and_then(|d| d.to_digit(8)) {
                    if n == 3 || (n == 2 && first > 3) {
                        break;
                    }
                    if n == 0 {
                        first = d;
                    }
                    v = v * 8 + d;
                    n += 1;
                    self.next();
                }
                if n == 0 {
                    return Err("Illegal octal escape sequence".into());
                }
                self.code_point(v)?;
            }
            'c' => {
                let Some(x) = self.next() else {
                    return Err("Illegal control escape sequence".into());
                };
                self.code_point(x as u32 ^ 64)?;
            }
            'Q' => {
                let rest: String = self.chars.by_ref().map(|(_, c)| c).collect();
                let (quoted, tail) = match rest.find(r"\E") {
                    Some(i) => (&rest[..i], &rest[i + 2..]),
                    None => (rest.as_str(), ""),
                };
                for q in quoted.chars() {
                    self.literal(q);
                }
                // Continue translating after \E.
                let tail = translate_tail(tail, self)?;
                self.out.push_str(&tail);
            }
            'E' => {}
            'p' | 'P' => self.property(c == 'P')?,
            '1'..='9' | 'k' => return Err("backreferences are not supported".into()),
            'G' => return Err(r"\G is not supported".into()),
            c if c.is_ascii_alphabetic() => {
                return Err("Illegal/unsupported escape sequence".into());
            }
            c => self.literal(c),
        }
        Ok(())
    }

    fn hex_digits(&mut self, n: usize) -> std::result::Result<u32, String> {
        let mut v = 0;
        for _ in 0..n {
            match self.next().and_then(|h| h.to_digit(16)) {
                Some(d) => v = v * 16 + d,
                None => return Err("Illegal hexadecimal escape sequence".into()),
            }
        }
        Ok(v)
    }

    fn code_point(&mut self, code: u32) -> std::result::Result<(), String> {
        match char::from_u32(code) {
            Some(ch) => {
                let _ = write!(self.out, r"\x{{{:X}}}", ch as u32);
                Ok(())
            }
            None => Err("unpaired surrogate or invalid code point".into()),
        }
    }

    fn property(&mut self, negated: bool) -> std::result::Result<(), String> {
        let name = match self.next() {
            Some('{') => {
                let mut name = String::new();
                loop {
                    match self.next() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => return Err("Unclosed character family".into()),
                    }
                }
                name
            }
            Some(c) => c.to_string(),
            None => return Err("Illegal character family".into()),
        };
        let posix = match name.as_str() {
            "Lower" => Some("a-z"),
            "Upper" => Some("A-Z"),
            "ASCII" => Some(r"\x00-\x7F"),
            "Alpha" => Some("a-zA-Z"),
            "Digit" => Some("0-9"),
            "Alnum" => Some("a-zA-Z0-9"),
            "Punct" => Some(r"!-/:-@\[-`{-\x{7E}"),
            "Graph" => Some(r"!-\x{7E}"),
            "Print" => Some(r" -\x{7E}"),
            "Blank" => Some(r" \t"),
            "Cntrl" => Some(r"\x00-\x1F\x7F"),
            "XDigit" => Some("0-9a-fA-F"),
            "Space" => Some(SPACE),
            _ => None,
        };
        if let Some(body) = posix {
            self.set(body, negated);
            return Ok(());
        }
        let rust = match name.as_str() {
            "javaLowerCase" => "Lowercase".to_string(),
            "javaUpperCase" => "Uppercase".to_string(),
            "javaWhitespace" => "White_Space".to_string(),
            "javaAlphabetic" | "IsAlphabetic" => "Alphabetic".to_string(),
            "javaDigit" | "IsDigit" => "Nd".to_string(),
            "javaLetter" | "IsLetter" => "L".to_string(),
            "javaLetterOrDigit" => {
                self.set(r"\p{L}\p{Nd}", negated);
                return Ok(());
            }
            n if n.starts_with("In") => {
                return Err(format!("Unknown character block name {{{n}}}"));
            }
            n => n.strip_prefix("Is").unwrap_or(n).to_string(),
        };
        if rust
            .chars()
            .any(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '='))
        {
            return Err("Unknown character property name".into());
        }
        let _ = write!(self.out, r"\{}{{{rust}}}", if negated { 'P' } else { 'p' });
        Ok(())
    }
}

/// Translates the rest of a pattern after `\Q...\E`, continuing in the same state.
fn translate_tail(tail: &str, outer: &mut Translator<'_>) -> std::result::Result<String, String> {
    let mut t = Translator {
        chars: tail.char_indices().peekable(),
        out: String::new(),
        dotall: std::mem::take(&mut outer.dotall),
        class: outer.class,
        after_quantifier: false,
    };
    let r = t.run();
    outer.dotall = std::mem::take(&mut t.dotall);
    outer.class = t.class;
    r?;
    Ok(t.out)
}

/// One piece of a Java replacement string.
#[derive(Debug)]
enum Piece {
    Text(String),
    Group(usize),
    Named(String),
}

/// A parsed Java replacement (`Matcher.appendReplacement` syntax: `$n`, `${name}`, `\x`).
#[derive(Debug)]
pub(crate) struct Replacement {
    pieces: Vec<Piece>,
}

/// Parses `repl` for `re`. As in Java, the error only matters once there is a match.
pub(crate) fn parse_replacement(repl: &str, re: &Regex) -> Result<Replacement> {
    let group_count = re.captures_len().saturating_sub(1);
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = repl.chars().peekable();
    let iae = |m: &str| Error::new(format!("java.lang.IllegalArgumentException: {m}"));
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(x) => text.push(x),
                None => return Err(iae("character to be escaped is missing")),
            },
            '$' => {
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                match chars.next() {
                    None => return Err(iae("Illegal group reference: group index is missing")),
                    Some('{') => {
                        let mut name = String::new();
                        loop {
                            match chars.next() {
                                Some('}') => break,
                                Some(x) if x.is_ascii_alphanumeric() => name.push(x),
                                _ => {
                                    return Err(iae(
                                        "named capturing group is missing trailing '}'",
                                    ));
                                }
                            }
                        }
                        if name.is_empty() {
                            return Err(iae("named capturing group has 0 length name"));
                        }
                        if !re.capture_names().any(|n| n == Some(name.as_str())) {
                            return Err(iae(&format!("No group with name {{{name}}}")));
                        }
                        pieces.push(Piece::Named(name));
                    }
                    Some(d) if d.is_ascii_digit() => {
                        let mut n = d as usize - '0' as usize;
                        while let Some(&x) = chars.peek() {
                            let Some(dx) = x.to_digit(10) else { break };
                            let m = n * 10 + dx as usize;
                            if m > group_count {
                                break;
                            }
                            n = m;
                            chars.next();
                        }
                        if n > group_count {
                            return Err(Error::new(format!(
                                "java.lang.IndexOutOfBoundsException: No group {n}"
                            )));
                        }
                        pieces.push(Piece::Group(n));
                    }
                    Some(_) => return Err(iae("Illegal group reference")),
                }
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    Ok(Replacement { pieces })
}

impl Replacement {
    /// Appends the replacement for one match to `out`.
    pub(crate) fn expand(&self, caps: &Captures<'_>, out: &mut String) {
        for p in &self.pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Group(n) => {
                    if let Some(m) = caps.get(*n) {
                        out.push_str(m.as_str());
                    }
                }
                Piece::Named(n) => {
                    if let Some(m) = caps.name(n) {
                        out.push_str(m.as_str());
                    }
                }
            }
        }
    }
}

/// The next match the way Java's `Matcher.find()` walks: from the end of the previous match,
/// one character further after an empty one. (The `regex` crate's iterators skip an empty
/// match right after a non-empty one; Java reports it: `"abc".replaceAll("b*", "-")` is
/// `-a--c-`.) `at` is where to search; it moves past the end when there is nothing left.
fn java_next<'h>(re: &Regex, s: &'h str, at: &mut usize) -> Option<Captures<'h>> {
    if *at > s.len() {
        return None;
    }
    let caps = re.captures_at(s, *at)?;
    let m = caps.get(0)?;
    *at = if m.start() == m.end() {
        m.end() + s[m.end()..].chars().next().map_or(1, char::len_utf8)
    } else {
        m.end()
    };
    Some(caps)
}

/// Java's `String.replaceAll` (`all`) or `replaceFirst`; fails once the result passes
/// `max_len` bytes.
pub(crate) fn replace(
    s: &str,
    pattern: &str,
    repl: &str,
    all: bool,
    max_len: usize,
) -> Result<String> {
    let re = compile(pattern, false)?;
    let parsed = parse_replacement(repl, &re);
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    let mut at = 0;
    while let Some(caps) = java_next(&re, s, &mut at) {
        let Some(m) = caps.get(0) else { break };
        let r = match &parsed {
            Ok(r) => r,
            Err(e) => return Err(e.clone()),
        };
        out.push_str(&s[last..m.start()]);
        r.expand(&caps, &mut out);
        last = m.end();
        if out.len() > max_len {
            return Err(Error::new(
                "java.lang.OutOfMemoryError: Requested string length exceeds the limit",
            ));
        }
        if !all {
            break;
        }
    }
    out.push_str(&s[last..]);
    Ok(out)
}

/// Java's `Pattern.split(input, limit)` (what `String.split` does).
pub(crate) fn split(s: &str, pattern: &str, limit: i64) -> Result<Vec<String>> {
    let re = compile(pattern, false)?;
    let limited = limit > 0;
    let mut list: Vec<String> = Vec::new();
    let mut index = 0;
    let mut matched = false;
    let mut at = 0;
    while let Some(m) = java_next(&re, s, &mut at).and_then(|c| c.get(0)) {
        if !limited || (list.len() as i64) < limit - 1 {
            if index == 0 && m.start() == 0 && m.end() == 0 {
                // No empty leading substring for a zero-width match at the start.
                continue;
            }
            list.push(s[index..m.start()].to_string());
            index = m.end();
            matched = true;
        } else {
            break;
        }
    }
    if !matched {
        return Ok(vec![s.to_string()]);
    }
    list.push(s[index..].to_string());
    if limit == 0 {
        while list.last().is_some_and(|x| x.is_empty()) {
            list.pop();
        }
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(p: &str) -> String {
        translate(p).unwrap()
    }

    fn is_match(p: &str, s: &str) -> bool {
        compile(p, false).unwrap().is_match(s)
    }

    fn matches(p: &str, s: &str) -> bool {
        compile(p, true).unwrap().is_match(s)
    }

    #[test]
    fn translation_basics() {
        assert_eq!(t("abc"), "abc");
        assert_eq!(t(r"\d+"), "[0-9]+");
        assert_eq!(t(r"[\d_]"), "[0-9_]");
        assert_eq!(t(r"\\'"), r"\x{5C}'");
        assert!(translate(r"(?=a)").is_err());
        assert!(translate(r"(?<!a)b").is_err());
        assert!(translate(r"(a)\1").is_err());
        assert!(translate(r"[abc").is_err());
        assert!(translate(r"\").is_err());
        assert!(translate(r"\i").is_err());
    }

    #[test]
    fn java_semantics() {
        // ASCII-only classes.
        assert!(!is_match(r"\d", "٣"));
        assert!(is_match(r"\d", "3"));
        assert!(!is_match(r"\w", "é"));
        assert!(is_match(r"\s", "\u{b}"));
        assert!(!is_match(r"\s", "\u{a0}"));
        // `.` stops at \r as well as \n, unless DOTALL.
        assert!(!is_match(r"a.b", "a\rb"));
        assert!(is_match(r"(?s)a.b", "a\rb"));
        assert!(is_match(r"(?s:a.b)", "a\nb"));
        assert!(!is_match(r"(?s:x)a.b", "a\nb"));
        assert!(is_match(r"a.b", "aéb"));
        // Quoting and escapes.
        assert!(is_match(r"\Q.*\E+x", ".*x"));
        assert!(matches(r"\Q.*\E", ".*"));
        assert!(!matches(r"\Q.*\E", "ab"));
        assert!(is_match(r"\u00e9", "é"));
        assert!(is_match(r"\uD83D\uDE00", "😀"));
        assert!(is_match(r"\x41\x{42}", "AB"));
        assert!(is_match(r"\0101", "A"));
        assert!(is_match(r"\cI", "\t"));
        assert!(is_match(r"\e", "\u{1b}"));
        assert!(is_match(r"[\-\]]", "]"));
        assert!(is_match(r"\p{Punct}", "!"));
        assert!(!is_match(r"\p{Alpha}", "é"));
        assert!(is_match(r"\p{L}", "é"));
        assert!(is_match(r"\p{IsL}", "é"));
        assert!(is_match(r"[\p{Lower}0]", "q"));
        assert!(is_match(r"\P{Digit}", "x"));
        assert!(is_match(r"[a~]", "~"));
        assert!(is_match(r"\h", "\u{3000}"));
        assert!(is_match(r"a\Rb", "a\r\nb"));
        // Possessive and atomic groups run greedy.
        assert!(matches(r"a*+b", "aab"));
        assert!(matches(r"(?>a|b)+", "abab"));
        assert!(matches(r"a+?b", "aab"));
        assert!(matches(r"(?<year>\d{4})-(?<m>\d\d)", "2024-01"));
        // Whole-string match tries every alternative.
        assert!(matches("a|ab", "ab"));
        assert!(matches(r"(?i)ABC", "abc"));
        assert!(!matches("b", "abc"));
    }

    #[test]
    fn replacements() {
        assert_eq!(
            replace(r"it\'s", r"\\'", "'", true, usize::MAX).unwrap(),
            "it's"
        );
        assert_eq!(
            replace("a-b-c", "-", "+", true, usize::MAX).unwrap(),
            "a+b+c"
        );
        assert_eq!(
            replace("a-b-c", "-", "+", false, usize::MAX).unwrap(),
            "a+b-c"
        );
        assert_eq!(
            replace("john smith", r"(\w+) (\w+)", "$2, $1", true, usize::MAX).unwrap(),
            "smith, john"
        );
        assert_eq!(
            replace("ab", "(?<x>a)", "[${x}]", true, usize::MAX).unwrap(),
            "[a]b"
        );
        assert_eq!(replace("ab", "a", r"\$1", true, usize::MAX).unwrap(), "$1b");
        assert_eq!(replace("ab", "a", r"\\", true, usize::MAX).unwrap(), r"\b");
        // $12 with one group reads as group 1 then "2".
        assert_eq!(
            replace("ab", "(a)", "$12", true, usize::MAX).unwrap(),
            "a2b"
        );
        assert_eq!(
            replace("abc", "x*", "-", true, usize::MAX).unwrap(),
            "-a-b-c-"
        );
        assert_eq!(
            replace("abc", "b*", "-", true, usize::MAX).unwrap(),
            "-a--c-"
        );
        assert_eq!(replace("aaa", "a*", "X", true, usize::MAX).unwrap(), "XX");
        assert_eq!(
            replace("héllo", "", "-", true, usize::MAX).unwrap(),
            "-h-é-l-l-o-"
        );
        assert_eq!(
            replace("line\nnext", "(?m)^", "> ", true, usize::MAX).unwrap(),
            "> line\n> next"
        );
        assert_eq!(
            replace("word word", "\\bw", "W", true, usize::MAX).unwrap(),
            "Word Word"
        );
        assert!(replace(&"a".repeat(1000), "", "xxxxxxxxxx", true, 5000).is_err());
        assert_eq!(
            replace("ab", "(x)?a", "[$1]", true, usize::MAX).unwrap(),
            "[]b"
        );
        assert!(replace("ab", "a", "$2", true, usize::MAX).is_err());
        assert!(replace("ab", "a", "$", true, usize::MAX).is_err());
        assert!(replace("ab", "a", "x\\", true, usize::MAX).is_err());
        assert!(replace("ab", "a", "${nope}", true, usize::MAX).is_err());
        assert!(replace("ab", "a", "$x", true, usize::MAX).is_err());
        // No match: Java never reads the replacement.
        assert_eq!(replace("ab", "z", "$9", true, usize::MAX).unwrap(), "ab");
        assert!(replace("ab", "(", "", true, usize::MAX).is_err());
    }

    #[test]
    fn splitting() {
        let sp = |s: &str, p: &str, l: i64| split(s, p, l).unwrap();
        assert_eq!(sp("a,b,c", ",", 0), ["a", "b", "c"]);
        assert_eq!(sp("a,b,,", ",", 0), ["a", "b"]);
        assert_eq!(sp("a,b,,", ",", -1), ["a", "b", "", ""]);
        assert_eq!(sp("a,b,c", ",", 2), ["a", "b,c"]);
        assert_eq!(sp("a,b,c", ",", 1), ["a,b,c"]);
        assert_eq!(sp(",a", ",", 0), ["", "a"]);
        assert_eq!(sp("", ",", 0), [""]);
        assert_eq!(sp(",", ",", 0), Vec::<String>::new());
        assert_eq!(sp("abc", "", 0), ["a", "b", "c"]);
        assert_eq!(sp("héllo", "", 0), ["h", "é", "l", "l", "o"]);
        assert_eq!(sp("a1b22c", r"\d+", 0), ["a", "b", "c"]);
        assert_eq!(sp("a.b", ".", 0), Vec::<String>::new());
        assert_eq!(sp("a.b", r"\.", 0), ["a", "b"]);
        assert_eq!(sp("x", "x", 0), Vec::<String>::new());
        assert_eq!(sp("a b  c", " ", 0), ["a", "b", "", "c"]);
        assert_eq!(sp("abc", "b*", 0), ["a", "", "c"]);
        assert_eq!(sp("boo:and:foo", "o", 0), ["b", "", ":and:f"]);
        assert_eq!(sp("boo:and:foo", "o", -2), ["b", "", ":and:f", "", ""]);
        assert_eq!(sp("boo:and:foo", ":", 2), ["boo", "and:foo"]);
    }

    #[test]
    fn cache_is_bounded() {
        for i in 0..200 {
            compile(&format!("a{i}"), false).unwrap();
        }
        CACHE.with(|c| assert!(c.borrow().len() <= CACHE_MAX));
    }

    #[test]
    fn huge_patterns_fail_cleanly() {
        assert!(compile("(a{1000}){1000}", false).is_err());
    }
}
