//! The keys test API (`apis/keys.kdl`) as a gateway process, for tests that need several
//! gateways, a restart or a crash: `e2e-gateway [gateway flags: --store, --admin, …]`.

fn main() -> std::process::ExitCode {
    tollgate::run(tollgate_e2e::apis::keys::KeysApi::new(
        tollgate_e2e::KeysHandlers,
    ))
}
