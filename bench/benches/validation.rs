//! Request-body validation: tollgate's compiled validator + deserialization against the
//! `jsonschema` crate, on one realistic model (`schemas/order.json`), in the same run.
//!
//! Each case starts from the request body's bytes, as the gateway sees it:
//!
//! - `tollgate`: the gateway's request path — `serde_json::from_slice::<models::Order>` straight
//!   from the bytes, then the generated `TypedCheck` on the typed fields (one pass, no `Value`);
//!   the exact path below only when the typed form cannot decide.
//! - `tollgate_exact`: `serde_json::from_slice::<Value>` → the compiled `order(&value)` →
//!   `Order::deserialize(&value)`: the exact validator, used when the one-pass path cannot decide.
//! - `jsonschema`: `serde_json::from_slice::<Value>` → `Validator::is_valid` of a draft-4
//!   validator built once, outside the timed loop (the runtime validator).
//! - `jsonschema_macro`: `serde_json::from_slice::<Value>` → `is_valid` of the validator that
//!   `#[jsonschema::validator]` generates at compile time (jsonschema's fastest).
//!
//! Documents are generated deterministically: small (~250 B, 1 item, required properties only),
//! medium (~5 KB, 40 items) and large (~500 KB, 4000 items), each valid and invalid; an invalid
//! document breaks the `sku` pattern of its last item only, so every validator has to walk the
//! whole document. Before timing, the bench checks that all three agree on all six documents.
//!
//! ```text
//! cargo bench -p tollgate-bench --bench validation
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group,
    criterion_main,
};
use serde::Deserialize;
use serde_json::Value;

#[path = "../src/validation_common.rs"]
mod common;
use common::*;

/// Checks, outside timing, that every implementation gives the expected answer on every case.
fn check(validator: &jsonschema::Validator, cases: &[Case]) {
    for case in cases {
        let tollgate = tollgate_pipeline(&case.bytes).is_some();
        assert_eq!(
            tollgate_exact_pipeline(&case.bytes).is_some(),
            case.valid,
            "tollgate_exact on {}",
            case.name
        );
        // The timed path must be the one-pass one, not its fallback.
        let fast = serde_json::from_slice::<Order>(&case.bytes)
            .ok()
            .map(|o| o.check());
        assert!(
            matches!(fast, Some(Checked::Valid | Checked::Invalid)),
            "{}: the one-pass path did not decide ({fast:?})",
            case.name
        );
        const { assert!(<Order as TypedCheck>::EXACT) };
        let runtime = jsonschema_pipeline(validator, &case.bytes);
        let generated = jsonschema_macro_pipeline(&case.bytes);
        assert_eq!(tollgate, case.valid, "tollgate on {}", case.name);
        assert_eq!(runtime, case.valid, "jsonschema on {}", case.name);
        assert_eq!(generated, case.valid, "jsonschema_macro on {}", case.name);
        if !case.valid {
            // The one violation is the last item's sku.
            let value: Value = serde_json::from_slice(&case.bytes).expect("parse");
            let n = value["items"].as_array().map_or(0, Vec::len);
            let violations = compiled::order_violations(&value);
            assert_eq!(violations.len(), 1, "{}: {violations:?}", case.name);
            assert_eq!(violations[0].instance, format!("/items/{}/sku", n - 1));
            assert_eq!(validator.iter_errors(&value).count(), 1, "{}", case.name);
        }
        eprintln!(
            "{}: {} B, valid = {}",
            case.name,
            case.bytes.len(),
            case.valid
        );
    }
}

fn bench(c: &mut Criterion) {
    let schema: Value = serde_json::from_str(SCHEMA).expect("schemas/order.json");
    let validator = jsonschema::draft4::new(&schema).expect("jsonschema draft-4 validator");
    let cases = cases();
    check(&validator, &cases);

    let mut group = c.benchmark_group("validation");
    for case in &cases {
        configure(&mut group, case);
        let bytes = case.bytes.as_slice();
        group.bench_with_input(
            BenchmarkId::new("tollgate_exact", &case.name),
            bytes,
            |b, d| b.iter(|| tollgate_exact_pipeline(black_box(d))),
        );
        group.bench_with_input(BenchmarkId::new("tollgate", &case.name), bytes, |b, d| {
            b.iter(|| tollgate_pipeline(black_box(d)))
        });
        group.bench_with_input(BenchmarkId::new("jsonschema", &case.name), bytes, |b, d| {
            b.iter(|| jsonschema_pipeline(&validator, black_box(d)))
        });
        group.bench_with_input(
            BenchmarkId::new("jsonschema_macro", &case.name),
            bytes,
            |b, d| b.iter(|| jsonschema_macro_pipeline(black_box(d))),
        );
    }
    group.finish();

    // Where the time goes: each step of the pipelines above on its own, the validators on an
    // already parsed document.
    let mut group = c.benchmark_group("components");
    for case in &cases {
        configure(&mut group, case);
        let bytes = case.bytes.as_slice();
        let value: Value = serde_json::from_slice(bytes).expect("parse");
        group.bench_with_input(BenchmarkId::new("parse", &case.name), bytes, |b, d| {
            b.iter(|| serde_json::from_slice::<Value>(black_box(d)).is_ok())
        });
        group.bench_with_input(
            BenchmarkId::new("tollgate_validate", &case.name),
            &value,
            |b, v| b.iter(|| compiled::order(black_box(v))),
        );
        if case.valid {
            group.bench_with_input(
                BenchmarkId::new("tollgate_deserialize", &case.name),
                &value,
                |b, v| b.iter(|| Order::deserialize(black_box(v)).is_ok()),
            );
        }
        group.bench_with_input(
            BenchmarkId::new("jsonschema_validate", &case.name),
            &value,
            |b, v| b.iter(|| validator.is_valid(black_box(v))),
        );
        group.bench_with_input(
            BenchmarkId::new("jsonschema_macro_validate", &case.name),
            &value,
            |b, v| b.iter(|| OrderMacro::is_valid(black_box(v))),
        );
    }
    group.finish();
}

/// Throughput in bytes of the document; flat sampling for the large documents, whose
/// milliseconds per iteration would not fit linear sampling into the measurement time.
fn configure(group: &mut BenchmarkGroup<'_, WallTime>, case: &Case) {
    group.throughput(Throughput::Bytes(case.bytes.len() as u64));
    group.sampling_mode(if case.bytes.len() > 100_000 {
        SamplingMode::Flat
    } else {
        SamplingMode::Auto
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50);
    targets = bench
}
criterion_main!(benches);
