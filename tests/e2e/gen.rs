//! A deterministic generator of random mapping templates, used by `build.rs` to compile a corpus
//! that `tests/differential.rs` renders both compiled and interpreted. Included by both.

/// xorshift64*: tiny, deterministic, good enough to pick grammar productions.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const VARS: &[&str] = &["a", "b", "item", "m", "l"];
const PATHS: &[&str] = &[
    "$",
    "$.a",
    "$.a.b",
    "$.list",
    "$.list[0]",
    "$.list[*].n",
    "$..n",
    "$.missing",
    "$.s",
    "$.num",
];

fn reference(r: &mut Rng, depth: usize, in_loop: bool) -> String {
    let base = match r.below(14) {
        0 => format!("$input.path('{}')", r.pick(PATHS)),
        1 => format!("$input.json('{}')", r.pick(PATHS)),
        2 => format!("$input.params('{}')", r.pick(&["q", "id", "x-h", "none"])),
        3 => "$input.body".to_owned(),
        4 => "$input.params()".to_owned(),
        5 => format!(
            "$context.{}",
            r.pick(&["stage", "requestId", "identity.sourceIp", "nope"])
        ),
        6 => format!("$stageVariables.{}", r.pick(&["env", "none"])),
        7 if in_loop => format!(
            "$foreach.{}",
            r.pick(&["count", "index", "hasNext", "first", "last"])
        ),
        8 if depth < 2 => format!(
            "$util.{}({})",
            r.pick(&["escapeJavaScript", "urlEncode", "base64Encode", "nope"]),
            expr(r, depth + 1, in_loop)
        ),
        _ => format!("${}", r.pick(VARS)),
    };
    let mut s = base;
    for _ in 0..r.below(3) {
        match r.below(8) {
            0 => s.push_str(&format!(".{}", r.pick(&["a", "b", "n", "size", "empty"]))),
            1 => s.push_str(".size()"),
            2 => s.push_str(".toString()"),
            3 => s.push_str(&format!(
                ".get('{}')",
                r.pick(&["a", "n", "path", "querystring"])
            )),
            4 => s.push_str(".keySet()"),
            5 if depth < 2 => s.push_str(&format!("[{}]", expr(r, depth + 1, in_loop))),
            6 => s.push_str(&format!(".contains('{}')", r.pick(&["a", "1", "x"]))),
            _ => s.push_str(".isEmpty()"),
        }
    }
    s
}

fn expr(r: &mut Rng, depth: usize, in_loop: bool) -> String {
    match r.below(if depth > 2 { 6 } else { 12 }) {
        0 => r.below(5).to_string(),
        1 => format!("'{}'", r.pick(&["a", "", "x y", "1"])),
        2 => format!("\"{}\"", r.pick(&["s-$a", "lit", "${b}!"])),
        3 => r.pick(&["true", "false"]).to_owned(),
        4 => "1.5".to_owned(),
        5 => reference(r, depth, in_loop),
        6 => format!(
            "[{}, {}]",
            expr(r, depth + 1, in_loop),
            expr(r, depth + 1, in_loop)
        ),
        7 => format!("[{}..{}]", r.below(3), r.below(4)),
        8 => format!(
            "{{'k': {}, 'n': {}}}",
            expr(r, depth + 1, in_loop),
            expr(r, depth + 1, in_loop)
        ),
        9 => format!("!{}", expr(r, depth + 1, in_loop)),
        _ => format!(
            "{} {} {}",
            expr(r, depth + 1, in_loop),
            r.pick(&["==", "!=", "<", ">=", "&&", "||", "+", "-", "*", "/", "%"]),
            expr(r, depth + 1, in_loop)
        ),
    }
}

fn block(r: &mut Rng, depth: usize, in_loop: bool, out: &mut String) {
    for _ in 0..1 + r.below(4) {
        match r.below(if depth > 2 { 4 } else { 9 }) {
            0 => out.push_str(r.pick(&["text ", "\n", "{\"k\": ", "}, ", "  ", "#x $ \\n"])),
            1 | 2 => out.push_str(&reference(r, depth, in_loop)),
            3 => out.push_str(&format!(
                "#set(${} = {})\n",
                r.pick(VARS),
                expr(r, depth, in_loop)
            )),
            4 => out.push_str(&format!("#set($m = {{'a': {}}})", expr(r, depth, in_loop))),
            5 => {
                out.push_str(&format!("#if({})", expr(r, depth, in_loop)));
                block(r, depth + 1, in_loop, out);
                if r.below(2) == 0 {
                    out.push_str(&format!("#elseif({})", expr(r, depth, in_loop)));
                    block(r, depth + 1, in_loop, out);
                }
                if r.below(2) == 0 {
                    out.push_str("#else\n");
                    block(r, depth + 1, in_loop, out);
                }
                out.push_str("#end\n");
            }
            6 | 7 => {
                out.push_str(&format!(
                    "#foreach(${} in {})",
                    r.pick(&["item", "a"]),
                    expr(r, depth, in_loop)
                ));
                block(r, depth + 1, true, out);
                if r.below(4) == 0 {
                    out.push_str("#if($foreach.count > 1)#break#end");
                }
                out.push_str("#end");
            }
            _ => {
                if r.below(10) == 0 {
                    out.push_str("#stop");
                } else {
                    out.push_str("## comment\n");
                }
            }
        }
    }
}

/// The `i`-th template of the corpus.
pub fn template(i: u64) -> String {
    let mut r =
        Rng(0x9e37_79b9_7f4a_7c15 ^ (i.wrapping_add(1)).wrapping_mul(0xff51_afd7_ed55_8ccd));
    let mut out = String::new();
    block(&mut r, 0, false, &mut out);
    out
}
