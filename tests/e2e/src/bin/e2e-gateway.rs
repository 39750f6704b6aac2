//! The test APIs as gateway processes, for tests that need several gateways, a restart or a
//! crash: `e2e-gateway [gateway flags: --store, --admin, …]` serves `apis/keys.kdl`, or
//! `apis/cache.kdl` with `E2E_API=cache`.

fn main() -> std::process::ExitCode {
    if std::env::var("E2E_API").as_deref() == Ok("cache") {
        return tollgate::run(tollgate_e2e::apis::cache::CachedApi::new(
            tollgate_e2e::CacheHandlers::default(),
        ));
    }
    tollgate::run(tollgate_e2e::apis::keys::KeysApi::new(
        tollgate_e2e::KeysHandlers,
    ))
}
