//! Runs one validation pipeline `N` times on one document, for instruction counting:
//! wall-clock timings on a shared 2-core VM swing by tens of percent, callgrind's instruction
//! counts do not.
//!
//! Run with: `bench/validation-instructions.sh` (or by hand:
//! `valgrind --tool=callgrind target/release/examples/validation_count tollgate large_valid 10`).

#[path = "../src/validation_common.rs"]
mod common;
use common::*;
use std::hint::black_box;

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(pipeline), Some(case), Some(n)) = (args.next(), args.next(), args.next()) else {
        eprintln!(
            "usage: validation_count PIPELINE CASE N   (PIPELINE: tollgate | tollgate_exact | jsonschema | jsonschema_macro)"
        );
        std::process::exit(2);
    };
    let n: usize = n.parse().expect("N is a number");
    let case = cases()
        .into_iter()
        .find(|c| c.name == case)
        .expect("a case name such as large_valid");
    let schema: serde_json::Value = serde_json::from_str(SCHEMA).expect("schema");
    let validator = jsonschema::draft4::new(&schema).expect("validator");
    let mut agree = 0usize;
    for _ in 0..n {
        let valid = match pipeline.as_str() {
            "tollgate" => tollgate_pipeline(black_box(&case.bytes)).is_some(),
            "tollgate_exact" => tollgate_exact_pipeline(black_box(&case.bytes)).is_some(),
            "jsonschema" => jsonschema_pipeline(&validator, black_box(&case.bytes)),
            "jsonschema_macro" => jsonschema_macro_pipeline(black_box(&case.bytes)),
            other => panic!("unknown pipeline {other}"),
        };
        agree += usize::from(valid == case.valid);
    }
    assert_eq!(agree, n, "{pipeline} gave a wrong answer on {}", case.name);
}
