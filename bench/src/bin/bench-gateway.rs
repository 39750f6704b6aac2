//! The load test's gateway: `apis/bench.kdl` (an open route and the same route behind an API
//! key, a usage plan and a method throttle) with every gateway flag (`--store`, `--api-keys`, …).
//!
//! Run with: `cargo run --release -p tollgate-bench --bin bench-gateway -- --api-keys keys.json`

mod bench {
    tollgate::include_api!("bench");
}

fn main() -> std::process::ExitCode {
    tollgate::run(bench::BenchApi::new(()))
}
