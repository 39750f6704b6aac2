//! Compiles `schemas/order.json` into a tollgate validator and model types (`$OUT_DIR/order.rs`)
//! for the `validation` benchmark, the way the gateway compiles its models; and the C4 and C6
//! mapping templates of the end-to-end suite into render functions (`$OUT_DIR/templates.rs`) for
//! the `templates` benchmark, the way the gateway compiles its templates; and `apis/bench.kdl`,
//! the API of the load test's gateway and of the `limits` benchmark.

use std::path::{Path, PathBuf};

fn main() {
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/order.json");
    println!("cargo:rerun-if-changed={}", schema_path.display());
    let text = std::fs::read_to_string(&schema_path).expect("read schemas/order.json");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("parse schemas/order.json");
    let (set, roots) =
        tollgate_dsl::schema::compile(&[("http://bench.invalid/order.json", &schema)])
            .unwrap_or_else(|errors| {
                let msg = errors
                    .iter()
                    .map(|e| format!("{}: {}", e.location, e.message))
                    .collect::<Vec<_>>()
                    .join("; ");
                panic!("schemas/order.json does not compile: {msg}")
            });
    let src = tollgate_codegen::schema_validators_typed(&set, &[("order".to_owned(), roots[0])])
        .expect("generate the order validator");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("order.rs");
    std::fs::write(out, src).expect("write order.rs");

    let mut templates = String::new();
    for name in ["c4", "c6"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../tests/e2e/templates/{name}.vtl"));
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(&path).expect("read a template");
        templates
            .push_str(&tollgate_codegen::template_function(name, &text).expect("template parses"));
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("templates.rs");
    std::fs::write(out, templates).expect("write templates.rs");

    // The load test's gateway (`bench-gateway`) and the `limits` benchmark.
    tollgate_codegen::compile("apis/bench.kdl").expect("compile apis/bench.kdl");
}
