//! Prints a valid ES256 bearer token for `apis/bench.kdl`'s `users` JWT authorizer (issuer
//! `https://id.bench.test`, audience `bench`, kid `bench-1`), signed with the benchmark-only key
//! `apis/bench-es256.pk8`: what `bench/auth.sh` sends to `GET /prod/jwt`. The argument is the
//! token's lifetime in seconds (default 86400, one day).
//!
//! Run with: `cargo run --release -p tollgate-bench --bin bench-token -- 86400`

#[path = "../bench_jwt.rs"]
mod bench_jwt;

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() -> ExitCode {
    let ttl = match std::env::args().nth(1).map(|s| s.parse::<u64>()) {
        None => 86_400,
        Some(Ok(secs)) if secs > 0 => secs,
        Some(_) => {
            eprintln!(
                "usage: bench-token [LIFETIME-SECONDS]   (a positive integer; default 86400)"
            );
            return ExitCode::from(2);
        }
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs();
    println!("{}", bench_jwt::es256_token(&bench_jwt::claims(now, ttl)));
    ExitCode::SUCCESS
}
