//! Fixture tests for the KDL front end and the checks.
//!
//! - `fixtures/ok/*.kdl` must compile; the IR of each is pinned in `*.ir.json`.
//! - `fixtures/err/*.kdl` must fail; every diagnostic, rendered, is pinned in `*.stderr`.
//!
//! Re-bless after an intended change with `TOLLGATE_BLESS=1 cargo test -p tollgate-dsl`.

use std::path::{Path, PathBuf};
use tollgate_dsl::{Source, compile_kdl};

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "kdl"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", root.display());
    files
}

fn source(path: &Path) -> Source {
    let name = format!(
        "{}/{}",
        path.parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy(),
        path.file_name().unwrap().to_string_lossy()
    );
    Source::new(name, std::fs::read_to_string(path).unwrap())
}

/// Compares `actual` with the golden file, or rewrites it when blessing.
fn golden(path: &Path, actual: &str) -> Result<(), String> {
    if std::env::var_os("TOLLGATE_BLESS").is_some() {
        std::fs::write(path, actual).unwrap();
        return Ok(());
    }
    let expected = std::fs::read_to_string(path).map_err(|_| {
        format!(
            "{} is missing; run with TOLLGATE_BLESS=1 to create it",
            path.display()
        )
    })?;
    if expected != actual {
        return Err(format!(
            "{} differs (re-bless with TOLLGATE_BLESS=1 if intended)\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        ));
    }
    Ok(())
}

#[test]
fn ok_fixtures_compile_and_pin_their_ir() {
    let mut failures = Vec::new();
    for path in fixtures("ok") {
        match compile_kdl(&source(&path)) {
            Ok(checked) => {
                let json = serde_json::to_string_pretty(&checked.api).unwrap() + "\n";
                if let Err(e) = golden(&path.with_extension("ir.json"), &json) {
                    failures.push(e);
                }
            }
            Err(d) => failures.push(format!("{} should compile:\n{d:?}", path.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn err_fixtures_fail_with_pinned_diagnostics() {
    let mut failures = Vec::new();
    for path in fixtures("err") {
        match compile_kdl(&source(&path)) {
            Ok(_) => failures.push(format!("{} should fail to compile", path.display())),
            Err(d) => {
                assert!(d.has_errors());
                for item in d.items() {
                    let code = item.code.as_deref().unwrap_or_default();
                    assert!(
                        code.starts_with("tollgate::"),
                        "{}: diagnostic without a code",
                        path.display()
                    );
                    assert!(
                        item.help.is_some(),
                        "{}: `{code}` has no help",
                        path.display()
                    );
                    assert!(
                        item.labels.as_ref().is_some_and(|l| !l.is_empty()),
                        "{}: `{code}` has no label",
                        path.display()
                    );
                }
                if let Err(e) = golden(&path.with_extension("stderr"), &d.render()) {
                    failures.push(e);
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
