//! Mapping templates: the compiled C6 (grocery, an integration-response template) and C4 (all
//! parameters) templates against the practical floor — producing the same output with
//! `serde_json` from hand-written Rust structs — and against the reference interpreter.
//!
//! Each iteration does the whole job a request does: read the body (C6 parses it; the floor
//! deserialises it into structs), render, and return the output string.
//!
//! Run with: `cargo bench -p tollgate-bench --bench templates`

use criterion::{Criterion, criterion_group, criterion_main};
use serde::{Deserialize, Serialize};
use std::hint::black_box;
use tollgate_vtl::env::{Env, Output, Sample};

mod compiled {
    include!(concat!(env!("OUT_DIR"), "/templates.rs"));
}

const GROCERY: &str = r#"{"department":"produce","categories":["fruit","vegetables"],"bins":[{"category":"fruit","type":"apples","price":1.99,"unit":"pound","quantity":232},{"category":"fruit","type":"bananas","price":0.19,"unit":"each","quantity":112},{"category":"vegetables","type":"carrots","price":1.29,"unit":"bag","quantity":57}]}"#;

#[derive(Deserialize)]
struct Grocery<'a> {
    #[serde(borrow)]
    bins: Vec<Bin<'a>>,
}

#[derive(Deserialize)]
struct Bin<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    price: f64,
    unit: &'a str,
    quantity: i64,
}

#[derive(Serialize)]
struct Choices {
    choices: Vec<Choice>,
}

#[derive(Serialize)]
struct Choice {
    kind: String,
    #[serde(rename = "suggestedPrice")]
    suggested_price: String,
    available: i64,
}

/// The floor for C6: serde structs in, serde structs out.
fn grocery_floor(body: &str) -> String {
    let g: Grocery<'_> = serde_json::from_str(body).expect("valid");
    let out = Choices {
        choices: g
            .bins
            .iter()
            .map(|b| Choice {
                kind: b.kind.to_owned(),
                suggested_price: format!("{} per {}", b.price, b.unit),
                available: b.quantity,
            })
            .collect(),
    };
    serde_json::to_string(&out).expect("serialises")
}

fn c4_sample() -> Sample {
    let pairs = |p: &[(&str, &str)]| -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    Sample {
        path: pairs(&[("petId", "42")]),
        querystring: pairs(&[("limit", "10"), ("sort", "name,-age")]),
        headers: pairs(&[
            ("host", "api.example.com"),
            ("user-agent", "curl/8.5.0"),
            ("accept", "application/json"),
            ("content-type", "application/json"),
            ("x-request-id", "5d6b3b2a-8c6f-4b8e-9e1b-1c2d3e4f5a6b"),
            ("authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln"),
        ]),
        context: Sample::default_context(),
        ..Sample::default()
    }
}

/// The floor for C4: what a hand-written handler does — copy the request's parameters into
/// owned Rust structs (as C6's floor deserialises the body into structs), then serialise them
/// with serde_json. Both sides start from the same request view (`Source`).
fn c4_floor(src: &Sample) -> String {
    use tollgate_vtl::env::Source;
    let collect = |each: &Visit<'_>| {
        let mut v: Vec<(String, String)> = Vec::with_capacity(8);
        each(&mut |k, val| v.push((k.to_owned(), val.to_owned())));
        v
    };
    let s = OwnedParams {
        path: collect(&|f| src.path_params(f)),
        querystring: collect(&|f| src.querystring(f)),
        headers: collect(&|f| src.headers(f)),
    };
    serialize_params(&s)
}

/// A `Source` visitor method bound to its source.
type Visit<'a> = dyn Fn(&mut dyn FnMut(&str, &str)) + 'a;

struct OwnedParams {
    path: Vec<(String, String)>,
    querystring: Vec<(String, String)>,
    headers: Vec<(String, String)>,
}

fn serialize_params(s: &OwnedParams) -> String {
    #[derive(Serialize)]
    struct All<'a> {
        params: Params<'a>,
    }
    #[derive(Serialize)]
    struct Params<'a> {
        path: Map<'a>,
        querystring: Map<'a>,
        header: Map<'a>,
    }
    struct Map<'a>(&'a [(String, String)]);
    impl Serialize for Map<'_> {
        fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
            ser.collect_map(self.0.iter().map(|(k, v)| (k, v)))
        }
    }
    serde_json::to_string(&All {
        params: Params {
            path: Map(&s.path),
            querystring: Map(&s.querystring),
            header: Map(&s.headers),
        },
    })
    .expect("serialises")
}

fn render_compiled(
    f: fn(&Env<'_>, &mut Output) -> Result<(), tollgate_vtl::env::RenderError>,
    s: &Sample,
) -> String {
    let env = Env::new(s);
    let mut out = Output::new();
    f(&env, &mut out).expect("renders");
    out.body
}

fn render_interpreted(t: &tollgate_template::Template, s: &Sample) -> String {
    let env = Env::new(s);
    let mut out = Output::new();
    tollgate_template::interpret::render(t, &env, &mut out).expect("renders");
    out.body
}

fn bench(c: &mut Criterion) {
    let grocery = Sample {
        body: GROCERY.to_owned(),
        ..Sample::default()
    };
    let c6_text = include_str!("../../tests/e2e/templates/c6.vtl");
    let c4_text = include_str!("../../tests/e2e/templates/c4.vtl");
    let c6 = tollgate_template::parse(c6_text).expect("c6 parses");
    let c4 = tollgate_template::parse(c4_text).expect("c4 parses");
    let c4s = c4_sample();

    // Same answers, checked once (as JSON: the template keeps its layout whitespace).
    let as_json = |s: &str| serde_json::from_str::<serde_json::Value>(s).expect("JSON");
    assert_eq!(
        as_json(&render_compiled(compiled::c6, &grocery)),
        as_json(&grocery_floor(GROCERY))
    );
    assert_eq!(
        as_json(&render_compiled(compiled::c4, &c4s)),
        as_json(&c4_floor(&c4s))
    );

    let mut g = c.benchmark_group("c6-grocery");
    g.bench_function("compiled", |b| {
        b.iter(|| render_compiled(compiled::c6, black_box(&grocery)))
    });
    g.bench_function("interpreted", |b| {
        b.iter(|| render_interpreted(&c6, black_box(&grocery)))
    });
    g.bench_function("serde-floor", |b| {
        b.iter(|| grocery_floor(black_box(GROCERY)))
    });
    g.finish();

    let mut g = c.benchmark_group("c4-all-params");
    g.bench_function("compiled", |b| {
        b.iter(|| render_compiled(compiled::c4, black_box(&c4s)))
    });
    g.bench_function("interpreted", |b| {
        b.iter(|| render_interpreted(&c4, black_box(&c4s)))
    });
    g.bench_function("serde-floor", |b| b.iter(|| c4_floor(black_box(&c4s))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
