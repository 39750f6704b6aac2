//! The load test's gateway: `apis/bench.kdl` (an open route, the same route behind an API key,
//! a usage plan and a method throttle, and behind a JWT authorizer) with every gateway flag
//! (`--store`, `--api-keys`, …). Start it from the repository root: the JWT authorizer reads
//! `bench/apis/jwks.json` relative to the working directory, and the gateway refuses to start
//! without it.
//!
//! Run with: `cargo run --release -p tollgate-bench --bin bench-gateway -- --api-keys keys.json`

mod bench {
    tollgate::include_api!("bench");
}

fn main() -> std::process::ExitCode {
    tollgate::run(bench::BenchApi::new(()))
}
