//! One in-memory throttle decision (issue #4's target: under 100 ns): a token taken from a
//! bucket with room, a refusal from an empty one, and the gateway's two-bucket check (method
//! bucket, then account bucket).
//!
//! Run with: `cargo bench -p tollgate-bench --bench throttle`

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use tollgate::__codegen::{ApiSpec, Flavor, RouteSpec, StageSpec, ThrottleSpec};
use tollgate_runtime::throttle::{Bucket, Throttles};

static ROUTES: [RouteSpec; 1] = [RouteSpec {
    method: "GET",
    resource_path: "/x",
    params: &[],
    api_key_required: false,
    cache: None,
    auth: tollgate::__codegen::RouteAuthSpec::None,
    cors: None,
    plain: false,
}];
static STAGES: [StageSpec; 1] = [StageSpec {
    name: "prod",
    variables: &[],
    throttle: Some(ThrottleSpec {
        rate: 1e6,
        burst: 1_000_000,
    }),
    method_throttles: &[],
    cache: None,
}];
static API: ApiSpec = ApiSpec {
    name: "bench",
    flavor: Flavor::Rest,
    stages: &STAGES,
    routes: &ROUTES,
    gateway_responses: &[],
    throttle: Some(ThrottleSpec {
        rate: 1e6,
        burst: 1_000_000,
    }),
    usage_plans: &[],
    api_key_source: tollgate::__codegen::ApiKeySource::Header,
    authorizers: &[],
    resource_policy: None,
    cors: None,
};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("throttle");
    // Plenty of room: every take succeeds (the clock advances 1 µs per take, the refill rate).
    let open = Bucket::new(ThrottleSpec {
        rate: 1e6,
        burst: 1_000_000,
    });
    let mut now = 0u64;
    g.bench_function("take-admitted", |b| {
        b.iter(|| {
            now += 1_000;
            black_box(open.take(black_box(now)))
        })
    });
    // Empty bucket: every take is refused.
    let empty = Bucket::new(ThrottleSpec {
        rate: 1.0,
        burst: 1,
    });
    let _ = empty.take(0);
    g.bench_function("take-refused", |b| {
        b.iter(|| black_box(empty.take(black_box(1))))
    });
    // What a request pays: method bucket + account bucket, real clock.
    let throttles = Throttles::new(&API);
    let clock = tollgate_runtime::clock::Clock::system();
    g.bench_function("gateway-check", |b| {
        b.iter(|| {
            black_box(throttles.check_at(black_box(0), black_box(0), clock.monotonic_nanos()))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
