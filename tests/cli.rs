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
        err.contains("ok — API `petstore`, 2 stage(s), 7 route(s)"),
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
    assert_eq!(ir["routes"].as_array().map(Vec::len), Some(7));
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

// ---- tollgate model validate ------------------------------------------------------------------

fn model_fixture(rel: &str) -> String {
    Path::new("tests/cli-fixtures")
        .join(rel)
        .display()
        .to_string()
}

/// Runs `tollgate model validate ARGS…` with `stdin` piped in.
fn validate_stdin(args: &[&str], stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(["model", "validate"])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run tollgate");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write stdin");
    child.wait_with_output().expect("wait for tollgate")
}

/// Runs `tollgate model validate ARGS…`; fixture names are resolved under `tests/cli-fixtures`.
fn validate(args: &[&str]) -> Output {
    let args: Vec<String> = args
        .iter()
        .map(|a| {
            if a.ends_with(".json") || a.ends_with(".kdl") {
                model_fixture(a)
            } else {
                (*a).to_owned()
            }
        })
        .collect();
    let mut all = vec!["model", "validate"];
    all.extend(args.iter().map(String::as_str));
    tollgate(&all)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The seven violations of `pet-invalid.json` against `pet.json`: (pointer, keyword, excerpt).
const PET_VIOLATIONS: [(&str, &str, &str); 7] = [
    (
        "/id",
        "minimum",
        "lower than the required minimum (minimum: 1, found: 0)",
    ),
    (
        "/name",
        "pattern",
        r#"regex "^[A-Z][a-z]+$" does not match input string "rex""#,
    ),
    (
        "/owner",
        "required",
        r#"missing required properties (["email"])"#,
    ),
    (
        "/status",
        "enum",
        r#"instance value ("lost") not found in enum"#,
    ),
    (
        "/tags/1",
        "maxLength",
        "is too long (length: 15, maximum allowed: 8)",
    ),
    (
        "/tags",
        "uniqueItems",
        "must not contain duplicate elements",
    ),
    (
        "/",
        "additionalProperties",
        r#"not allowed by the schema: ["colour"]"#,
    ),
];

#[test]
fn model_validate_accepts_a_valid_document() {
    // `owner.email` is not an email: `format` is not enforced, as in API Gateway.
    let out = validate(&["pet.json", "pet-valid.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "valid\n");
}

#[test]
fn model_validate_reports_every_violation_with_its_pointer() {
    let out = validate(&["pet.json", "pet-invalid.json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), PET_VIOLATIONS.len(), "{text}");
    for (line, (pointer, keyword, excerpt)) in lines.iter().zip(PET_VIOLATIONS) {
        assert!(
            line.starts_with(&format!("{pointer}: ")),
            "{line:?} should start with {pointer:?}"
        );
        assert!(
            line.ends_with(&format!(" [{keyword}]")),
            "{line:?} should end with [{keyword}]"
        );
        assert!(
            line.contains(excerpt),
            "{line:?} should contain {excerpt:?}"
        );
    }
    assert_eq!(stderr(&out), "7 violation(s)\n");
}

#[test]
fn model_validate_prints_json_violations() {
    let out = validate(&["--format", "json", "pet.json", "pet-invalid.json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let violations = json.as_array().expect("an array");
    assert_eq!(violations.len(), PET_VIOLATIONS.len(), "{json:#}");
    for (v, (pointer, keyword, excerpt)) in violations.iter().zip(PET_VIOLATIONS) {
        // The JSON form has the exact pointer: `""` is the document itself.
        let pointer = if pointer == "/" { "" } else { pointer };
        assert_eq!(v["instance"], pointer, "{v:#}");
        assert_eq!(v["keyword"], keyword, "{v:#}");
        assert!(v["message"].as_str().unwrap().contains(excerpt), "{v:#}");
    }
    // Schema locations are absolute `file://` URIs; the `owner` ref was loaded from its file.
    let owner = violations[2]["schema"].as_str().unwrap();
    assert!(owner.starts_with("file:///"), "{owner}");
    assert!(
        owner.ends_with("/tests/cli-fixtures/common/owner.json#"),
        "{owner}"
    );
    let tag = violations[4]["schema"].as_str().unwrap();
    assert!(
        tag.ends_with("/tests/cli-fixtures/pet.json#/definitions/tag"),
        "{tag}"
    );

    let valid = validate(&["--format", "json", "pet.json", "pet-valid.json"]);
    assert_eq!(valid.status.code(), Some(0));
    assert_eq!(stdout(&valid).trim(), "[]");
}

#[test]
fn model_validate_uses_an_api_model_and_its_model_url_refs() {
    let api = ["--api", "models/api.kdl", "--model", "NewPet"];
    let ok = validate(&[&api[..], &["models/new-pet-valid.json"]].concat());
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert_eq!(stdout(&ok), "valid\n");

    // `tags` items are the `Tag` model, reached through its model URL.
    let bad = validate(&[&api[..], &["models/new-pet-invalid.json"]].concat());
    assert_eq!(bad.status.code(), Some(1), "{}", stderr(&bad));
    let text = stdout(&bad);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].starts_with("/price: ") && lines[0].ends_with(" [minimum]"),
        "{text}"
    );
    assert!(
        lines[1].starts_with("/tags/1/name: ") && lines[1].ends_with(" [minLength]"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("/tags/1: ")
            && lines[2].ends_with(r#"["colour"] [additionalProperties]"#),
        "{text}"
    );
    let json = validate(
        &[
            &["--format", "json"],
            &api[..],
            &["models/new-pet-invalid.json"],
        ]
        .concat(),
    );
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON on stdout");
    assert_eq!(json[1]["schema"], "model:Tag#/properties/name");
}

#[test]
fn model_validate_refuses_an_unknown_model_and_lists_the_models() {
    let out = validate(&[
        "--api",
        "models/api.kdl",
        "--model",
        "newpet",
        "pet-valid.json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("API `shop` has no model `newpet`"), "{err}");
    assert!(err.contains("did you mean `NewPet`?"), "{err}");
    assert!(err.contains("Tag, NewPet, Empty, Error"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn model_validate_reports_an_api_with_errors() {
    let out = tollgate(&[
        "model",
        "validate",
        "--api",
        &fixture("err/bad-mock.kdl"),
        "--model",
        "Empty",
        &model_fixture("empty.json"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("tollgate::kdl::unknown-property"), "{err}");
    assert!(err.contains("3 errors"), "{err}");
}

#[test]
fn model_validate_reports_every_schema_error_with_its_location() {
    let out = validate(&["broken-schema.json", "pet-valid.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    for expected in [
        "`maxLength` must be a non-negative integer, found the string \"10\"",
        "--> tests/cli-fixtures/broken-schema.json#/properties/name/maxLength",
        "help: write the number without quotes: `\"maxLength\": 10`",
        "invalid regex \"(?<=a)b\"",
        "--> tests/cli-fixtures/broken-schema.json#/properties/age/pattern",
        "unknown type the string \"strnig\"",
        "did you mean \"string\"?",
        "--> tests/cli-fixtures/broken-schema.json#/properties/owner/$ref",
        "the schema has 4 error(s)",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in\n{err}");
    }
}

#[test]
fn model_validate_explains_refs_it_cannot_load() {
    let out = validate(&["dangling-ref.json", "pet-valid.json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    for expected in [
        "--> tests/cli-fixtures/dangling-ref.json#/properties/owner/$ref",
        "--> tests/cli-fixtures/dangling-ref.json#/properties/remote/$ref",
        "note: cannot read ",
        "common/nowhere.json",
        "note: `http://example.com/schemas/remote.json` was not loaded",
        "the schema has 2 error(s)",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in\n{err}");
    }
}

#[test]
fn model_validate_rejects_a_document_that_is_not_json() {
    let out = validate(&["pet.json", "not-json.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert!(
        err.contains(
            "tests/cli-fixtures/not-json.json:4:1: the document is not JSON: trailing comma"
        ),
        "{err}"
    );

    let piped = validate_stdin(&[&model_fixture("pet.json"), "-"], b"{\"id\": 1,, }");
    assert_eq!(piped.status.code(), Some(1));
    assert!(
        stderr(&piped).contains("<stdin>:1:10: the document is not JSON"),
        "{}",
        stderr(&piped)
    );
}

#[test]
fn model_validate_reads_the_document_from_stdin() {
    let schema = model_fixture("pet.json");
    let ok = validate_stdin(&[&schema, "-"], br#"{"id": 1, "name": "Rex"}"#);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert_eq!(stdout(&ok), "valid\n");

    let bad = validate_stdin(&[&schema, "-"], br#"{"id": 1.5, "name": "Rex"}"#);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stdout(&bad).starts_with("/id: instance type (number) does not match"),
        "{}",
        stdout(&bad)
    );
}

#[test]
fn model_validate_validates_an_empty_document_as_an_empty_object() {
    let missing = "/: object has missing required properties ([\"id\",\"name\"]) [required]\n";
    let out = validate(&["pet.json", "empty.json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), missing);
    assert_eq!(stderr(&out), "1 violation(s)\n");

    // Whitespace only is empty too, as for a request body.
    let piped = validate_stdin(&[&model_fixture("pet.json"), "-"], b" \r\n\t");
    assert_eq!(piped.status.code(), Some(1));
    assert_eq!(stdout(&piped), missing);

    // API Gateway's `Empty` model is `{"type": "object"}`: an empty body satisfies it.
    let empty = validate(&["--api", "models/api.kdl", "--model", "Empty", "empty.json"]);
    assert_eq!(empty.status.code(), Some(0), "{}", stderr(&empty));
}

#[test]
fn model_validate_checks_its_arguments() {
    let one = validate(&["pet.json"]);
    assert_eq!(one.status.code(), Some(2));
    assert!(
        stderr(&one).contains("give a schema and a document"),
        "{}",
        stderr(&one)
    );

    let two = validate(&[
        "--api",
        "models/api.kdl",
        "--model",
        "Tag",
        "pet.json",
        "pet.json",
    ]);
    assert_eq!(two.status.code(), Some(2));
    assert!(
        stderr(&two).contains("give only the document"),
        "{}",
        stderr(&two)
    );

    let no_model = validate(&["--api", "models/api.kdl", "pet.json"]);
    assert_eq!(no_model.status.code(), Some(2));
    assert!(
        stderr(&no_model).contains("--model"),
        "{}",
        stderr(&no_model)
    );

    let help = tollgate(&["model", "validate", "--help"]);
    assert!(help.status.success());
    let help = stdout(&help);
    for expected in [
        "Exit status:",
        "0  the document is valid",
        "--format",
        "--api",
    ] {
        assert!(help.contains(expected), "missing {expected:?} in\n{help}");
    }
}

#[test]
fn template_render_prints_what_the_gateway_would_send() {
    let out = tollgate(&[
        "template",
        "render",
        "tests/cli-fixtures/templates/c1.vtl",
        "--request",
        "tests/cli-fixtures/templates/c1-request.json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "{\n    \"name\" : \"Bella\",\n    \"body\" : {\"Price\":\"249.99\",\"Age\":\"6\"}\n}"
    );
}

#[test]
fn template_render_lists_overrides_and_run_time_failures() {
    let out = tollgate(&[
        "template",
        "render",
        "tests/cli-fixtures/templates/override.vtl",
    ]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("override: responseOverride.status = 418"),
        "{err}"
    );

    // An empty body reads `{}`; a body that is not JSON fails `$input.json`.
    let dir = std::env::temp_dir().join(format!("tollgate-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let req = dir.join("req.json");
    std::fs::write(&req, r#"{"body": "not json"}"#).unwrap();
    let out = tollgate(&[
        "template",
        "render",
        "tests/cli-fixtures/templates/override.vtl",
        "--request",
        req.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Could not parse request body into json"),
        "{err}"
    );
    assert!(err.contains("400"), "{err}");
}

#[test]
fn template_render_draws_syntax_errors_with_line_and_column() {
    let out = tollgate(&[
        "template",
        "render",
        "tests/cli-fixtures/templates/broken.vtl",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("tests/cli-fixtures/templates/broken.vtl:3:"),
        "{err}"
    );
    assert!(err.contains("method call `.path(` is not closed"), "{err}");
    assert!(err.contains("this #if is never closed"), "{err}");
    assert!(err.contains("2 errors"), "{err}");
}
