//! Runs the whole JSON Schema draft-4 suite through tollgate's compiled validators and through
//! the build-time interpreter (`tollgate model validate` uses it), and checks they agree.
//! Required tests must all pass; optional ones are reported.

use tollgate_conformance::{SUITE, SUITE_DIR};

#[test]
fn draft4_suite_through_compiled_validators() {
    if SUITE.is_empty() {
        let msg = format!(
            "the draft-4 suite was not found at {SUITE_DIR} (it lives in ../shared beside the repository)"
        );
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{msg}");
        }
        eprintln!("SKIPPED: {msg}");
        return;
    }
    let mut per_file: Vec<(&str, usize, usize)> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    let mut disagreements: Vec<String> = Vec::new();
    let mut typed_wrong: Vec<String> = Vec::new();
    let mut typed_decided = 0usize;
    for group in SUITE {
        let schema: serde_json::Value = serde_json::from_str(group.schema).unwrap();
        for case in group.cases {
            let data: serde_json::Value = serde_json::from_str(case.data).unwrap();
            let compiled = group.validate.map(|(f, _)| f(&data));
            // The one-pass typed path may only decide where it agrees with the suite.
            if let Some((_, typed)) = group.validate {
                use tollgate::__codegen::schema::Checked;
                match typed(case.data) {
                    Some(Checked::Valid) if !case.valid => typed_wrong.push(format!(
                        "{} / {} / {}: typed path accepted an invalid document",
                        group.file, group.description, case.description
                    )),
                    Some(Checked::Invalid) if case.valid => typed_wrong.push(format!(
                        "{} / {} / {}: typed path refused a valid document",
                        group.file, group.description, case.description
                    )),
                    Some(Checked::Valid | Checked::Invalid) => typed_decided += 1,
                    _ => {}
                }
            }
            let ok = compiled == Some(case.valid);
            if !ok {
                failures.push(format!(
                    "{} / {} / {}: expected valid={}, got {}",
                    group.file,
                    group.description,
                    case.description,
                    case.valid,
                    match (compiled, group.compile_error) {
                        (Some(v), _) => format!("valid={v}"),
                        (None, e) => format!("schema error: {}", e.unwrap_or("?")),
                    }
                ));
            }
            if let (Some(c), Some(i)) = (compiled, interpret(&schema, &data))
                && i != c
            {
                disagreements.push(format!(
                    "{} / {} / {}: compiled {c}, interpreter {i}",
                    group.file, group.description, case.description
                ));
            }
            match per_file.iter_mut().find(|(f, _, _)| *f == group.file) {
                Some(entry) => {
                    if ok {
                        entry.1 += 1
                    } else {
                        entry.2 += 1
                    }
                }
                None => per_file.push((group.file, usize::from(ok), usize::from(!ok))),
            }
        }
    }
    let (mut req, mut opt) = ((0, 0), (0, 0));
    for (file, passed, failed) in &per_file {
        println!("{file}: {passed} passed, {failed} failed");
        let t = if file.starts_with("optional/") {
            &mut opt
        } else {
            &mut req
        };
        t.0 += passed;
        t.1 += failed;
    }
    println!("optional: {} passed, {} failed", opt.0, opt.1);
    for f in failures.iter().filter(|f| f.starts_with("optional/")) {
        println!("  optional failure: {f}");
    }
    println!(
        "typed one-pass path: decided {typed_decided} cases itself, {} wrong",
        typed_wrong.len()
    );
    println!("conformance: {} passed, {} failed", req.0, req.1);
    assert!(
        typed_wrong.is_empty(),
        "the typed path disagrees with the suite:\n{}",
        typed_wrong.join("\n")
    );
    let required: Vec<&String> = failures
        .iter()
        .filter(|f| !f.starts_with("optional/"))
        .collect();
    assert!(
        required.is_empty(),
        "required draft-4 tests failed:\n{}",
        required
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        disagreements.is_empty(),
        "compiled validators and the interpreter disagree:\n{}",
        disagreements.join("\n")
    );
}

/// The interpreter's answer for schemas that compile without remote documents.
fn interpret(schema: &serde_json::Value, data: &serde_json::Value) -> Option<bool> {
    let (set, roots) =
        tollgate_dsl::schema::compile(&[("http://suite.invalid/interp", schema)]).ok()?;
    Some(tollgate_dsl::schema::interpret::is_valid(
        &set, roots[0], data,
    ))
}
