//! The petstore gateway, written with macros.
//!
//! Run with: `cargo run -p example-macros-petstore` (then `curl http://127.0.0.1:8080/prod/pets`).
//! Flags: `--listen ADDR`, `--stage NAME`, `--at-root`, `--stage-var [STAGE.]NAME=VALUE`.

fn main() -> std::process::ExitCode {
    tollgate::run(example_macros_petstore::api())
}
