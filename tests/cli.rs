//! The `tollgate` command-line tool, run as a process.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tollgate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run tollgate")
}

fn fixture(rel: &str) -> String {
    Path::new("dsl/tests/fixtures")
        .join(rel)
        .display()
        .to_string()
}

#[test]
fn check_accepts_a_good_file() {
    let out = tollgate(&["check", "examples/petstore/api.kdl"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ok — API `petstore`, 2 stage(s), 5 route(s)"),
        "{err}"
    );
}

#[test]
fn check_reports_every_error_with_its_line_and_fails() {
    let out = tollgate(&["check", &fixture("err/bad-mock.kdl")]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    for expected in [
        "tollgate::kdl::unknown-property",
        "tollgate::check::bad-status",
        "tollgate::check::bad-header",
        "bad-mock.kdl:5:41",
        "help:",
        "3 errors",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in\n{err}");
    }
}

#[test]
fn check_emits_the_ir_as_json() {
    let out = tollgate(&["check", "examples/petstore/api.kdl", "--emit", "ir"]);
    assert!(out.status.success());
    let ir: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(ir["name"]["value"], "petstore");
    assert_eq!(ir["flavor"], "rest");
    assert_eq!(ir["routes"].as_array().map(Vec::len), Some(5));
    assert_eq!(ir["stages"][0]["variables"][0]["name"]["value"], "upstream");
}

#[test]
fn check_reports_a_missing_file() {
    let out = tollgate(&["check", "no/such/api.kdl"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read no/such/api.kdl"));
}

#[test]
fn serve_refuses_handler_apis_and_points_at_build_rs() {
    let out = tollgate(&["serve", "examples/petstore/api.kdl"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`list_pets` (GET /pets)"), "{err}");
    assert!(err.contains("build.rs"), "{err}");
}

/// Builds a config-only API with `tollgate serve` (a real cargo build of generated code) and
/// talks to it.
#[test]
fn serve_builds_and_runs_a_config_only_api() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("serve-test");
    std::fs::create_dir_all(&dir).unwrap();
    let api = dir.join("mock.kdl");
    std::fs::write(
        &api,
        r##"api mockonly flavor=rest {
    stage prod { variables { upstream "http://127.0.0.1:9" } }
    resource "/status" { GET { integration mock status=200 body=#"{"up":true}"# } }
    resource "/proxy/{proxy+}" { ANY { integration http-proxy uri="${stageVariables.upstream}/{proxy}" timeout-ms=500 } }
}
"##,
    )
    .unwrap();
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("serve-target");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args([
            "serve",
            api.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--log",
            "warn",
        ])
        .env("CARGO_TARGET_DIR", &target)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run tollgate serve");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| {
            let _ = child.kill();
            panic!("unexpected output {line:?}")
        })
        .to_owned();
    let get = |path: &str| -> String {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&addr).expect("connect");
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    let status = get("/prod/status");
    let nope = get("/prod/nope");
    let proxied = get("/prod/proxy/x");
    let _ = child.kill();
    let _ = child.wait();
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert!(status.ends_with("{\"up\":true}"), "{status}");
    assert!(nope.starts_with("HTTP/1.1 403"), "{nope}");
    assert!(
        nope.ends_with("{\"message\":\"Missing Authentication Token\"}"),
        "{nope}"
    );
    assert!(proxied.starts_with("HTTP/1.1 502"), "{proxied}");
}
