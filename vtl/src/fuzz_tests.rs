//! Deterministic random inputs through every entry point: none may panic.

use crate::{JsonPath, Value, methods, ops, util};

/// xorshift64*: small, deterministic, good enough to shake out panics.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn string(&mut self, alphabet: &[&str], max: usize) -> String {
        let n = self.below(max + 1);
        (0..n)
            .map(|_| alphabet[self.below(alphabet.len())])
            .collect()
    }
}

const PATH_ALPHABET: &[&str] = &[
    "$", "@", ".", "..", "[", "]", "'", "\"", "*", "?", "(", ")", ",", ":", "-", "0", "1", "9",
    "a", "b", "type", "price", " ", "=", "==", "!", "<", ">", "~", "/", "&&", "||", "\\", "é",
    "😀", "length()", "sum()", "in", "[?(@.", "true", "null", "{", "}", "'x'", "\\u00",
];

const REGEX_ALPHABET: &[&str] = &[
    "a", "b", ".", "*", "+", "?", "(", ")", "[", "]", "^", "$", "|", "{", "}", "2", ",", "\\",
    "\\d", "\\w", "\\s", "\\Q", "\\E", "\\u", "\\x", "\\0", "\\c", "\\p{", "L}", "(?", "i", ":",
    "<", ">", "=", "!", "-", "&&", "~", "é", "😀", "\\1", "#",
];

const TEXT_ALPHABET: &[&str] = &[
    "a", "b", " ", "é", "😀", "\n", "\r", "%", "+", "2", "F", "=", "/", "'", "\\",
];

fn doc() -> Value {
    Value::from_json_str(
        r#"{"a":[1,{"b":[2,{"a":"x"}],"type":"t","price":1.5},null,"s"],"b":{"a":{"a":[]}},
            "type":"root","price":3,"é":[true,false]}"#,
    )
    .unwrap()
}

#[test]
fn random_paths_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let d = doc();
    for _ in 0..20_000 {
        let p = rng.string(PATH_ALPHABET, 14);
        if let Ok(path) = JsonPath::parse(&p) {
            let _ = path.eval(&d);
            let _ = path.is_definite();
        }
        let p = format!("$.a[?(@.{})]", rng.string(PATH_ALPHABET, 8));
        if let Ok(path) = JsonPath::parse(&p) {
            let _ = path.eval(&d);
        }
    }
}

#[test]
fn random_regexes_never_panic() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    for _ in 0..20_000 {
        let re = rng.string(REGEX_ALPHABET, 10);
        let text = Value::str(rng.string(TEXT_ALPHABET, 12));
        let repl = rng.string(&["$", "1", "0", "{", "}", "a", "\\", "$0", "${x}"], 4);
        let _ = methods::call(
            &text,
            "replaceAll",
            &[Value::str(re.as_str()), Value::str(repl)],
        );
        let _ = methods::call(&text, "matches", &[Value::str(re.as_str())]);
        let _ = methods::call(
            &text,
            "split",
            &[Value::str(re.as_str()), Value::Int(rng.below(5) as i64 - 2)],
        );
    }
}

#[test]
fn random_string_methods_never_panic() {
    let mut rng = Rng(0xA076_1D64_78BD_642F);
    let names = [
        "substring",
        "charAt",
        "codePointAt",
        "indexOf",
        "lastIndexOf",
        "startsWith",
        "subSequence",
        "repeat",
        "get",
        "remove",
        "set",
        "add",
        "subList",
    ];
    for _ in 0..20_000 {
        let s = Value::str(rng.string(TEXT_ALPHABET, 8));
        let a = Value::Int(rng.below(14) as i64 - 3);
        let b = Value::Int(rng.below(14) as i64 - 3);
        let name = names[rng.below(names.len())];
        let _ = methods::call(&s, name, std::slice::from_ref(&a));
        let _ = methods::call(&s, name, &[a.clone(), b.clone()]);
        let _ = methods::call(&s, name, &[Value::str("é"), b.clone()]);
        let list = methods::call(&s, "split", &[Value::str("")]).unwrap_or_default();
        let _ = methods::call(&list, name, std::slice::from_ref(&a));
        let _ = methods::call(&list, name, &[a, b]);
        let _ = util::url_decode(&s);
        let _ = util::base64_decode(&s);
        let _ = util::parse_json(&s);
        let _ = util::escape_javascript(&s);
        let _ = ops::add(&s, &list);
        let _ = ops::eq(&s, &list);
    }
}

#[test]
fn deep_structures_stay_on_the_stack() {
    // Template lists nested far deeper than any JSON body can be.
    let mut a = Value::Int(1);
    let mut b = Value::Int(1);
    for _ in 0..3000 {
        a = Value::list(vec![a]);
        b = Value::list(vec![b]);
    }
    assert!(!ops::eq(&a, &b), "past the depth limit comparison gives up");
    assert!(ops::eq(&a, &a), "the same list is equal to itself");
    let _ = a.to_java_string();
    let _ = a.to_json_string();
    let _ = JsonPath::parse("$..*").unwrap().eval(&a);
    let _ = methods::call(&a, "contains", std::slice::from_ref(&b));
    // A path of 500 filters over one object recurses once per token.
    let p = format!("${}", "[?(@)]".repeat(500));
    let v = JsonPath::parse(&p).unwrap().eval(&doc());
    assert!(matches!(v, Value::Array(ref items) if items.len() == 1));
    // JSON as deep as serde_json allows.
    let json = format!("{}1{}", "[".repeat(127), "]".repeat(127));
    let deep = Value::from_json_str(&json).unwrap();
    let v = JsonPath::parse("$..*").unwrap().eval(&deep);
    assert!(matches!(v, Value::Array(ref items) if items.len() == 127));
    assert_eq!(deep.to_json_string(), json);
}
