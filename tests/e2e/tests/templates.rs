//! API Gateway's mapping-template conformance cases (facts file §1.7, C1–C12), each rendered by
//! the compiled template *and* the reference interpreter; both must give the expected output
//! (exact bytes, or JSON equality where the facts file says the docs pretty-print).

use tollgate_vtl::env::{Env, Output, RenderError, Sample};

mod compiled {
    include!(concat!(env!("OUT_DIR"), "/vtl_cases.rs"));
}

type Compiled = fn(&Env<'_>, &mut Output) -> Result<(), RenderError>;

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn sample(body: &str) -> Sample {
    Sample {
        body: body.to_owned(),
        context: Sample::default_context(),
        ..Sample::default()
    }
}

/// Renders `name` both ways; asserts they agree and returns the output.
fn render(name: &str, f: Compiled, s: &Sample) -> Output {
    let text = std::fs::read_to_string(format!("templates/{name}.vtl")).unwrap();
    let t = tollgate_template::parse(&text).unwrap();
    let env = Env::new(s);
    let mut compiled = Output::new();
    f(&env, &mut compiled).unwrap_or_else(|e| panic!("{name} (compiled): {e}"));
    let env = Env::new(s);
    let mut interpreted = Output::new();
    tollgate_template::interpret::render(&t, &env, &mut interpreted)
        .unwrap_or_else(|e| panic!("{name} (interpreted): {e}"));
    assert_eq!(
        compiled.body, interpreted.body,
        "{name}: compiled and interpreted differ"
    );
    compiled
}

fn json_eq(actual: &str, expected: &str) {
    let a: serde_json::Value =
        serde_json::from_str(actual).unwrap_or_else(|e| panic!("not JSON ({e}):\n{actual}"));
    let b: serde_json::Value = serde_json::from_str(expected).unwrap();
    assert_eq!(a, b, "rendered:\n{actual}");
}

fn c1_request() -> Sample {
    Sample {
        querystring: pairs(&[("name", "Bella"), ("type", "dog")]),
        ..sample(r#"{"Price" : "249.99", "Age": "6"}"#)
    }
}

#[test]
fn c1_subsection_with_input_json() {
    let out = render("c1", compiled::c1, &c1_request());
    assert_eq!(
        out.body,
        "{\n    \"name\" : \"Bella\",\n    \"body\" : {\"Price\":\"249.99\",\"Age\":\"6\"}\n}"
    );
}

#[test]
fn c2_scalar_string_keeps_its_quotes() {
    let out = render("c2", compiled::c2, &c1_request());
    assert_eq!(
        out.body,
        "{\n    \"name\" : \"Bella\",\n    \"body\" : \"6\"\n}"
    );
    let out = render("c2_escaped", compiled::c2_escaped, &c1_request());
    assert_eq!(
        out.body,
        "{\n    \"name\" : \"Bella\",\n    \"body\" : \"\\\"6\\\"\"\n}"
    );
}

#[test]
fn c3_size_of_an_object() {
    let s = Sample {
        path: pairs(&[("id", "abc")]),
        ..sample(r#"{"things":{"1":{},"2":{},"3":{}}}"#)
    };
    let out = render("c3", compiled::c3, &s);
    json_eq(
        &out.body,
        r#"{"id":"abc","count":"3","things":{"1":{},"2":{},"3":{}}}"#,
    );
    let out = render("c3_escaped", compiled::c3_escaped, &s);
    json_eq(
        &out.body,
        r#"{"id":"abc","count":"3","things":"{\"1\":{},\"2\":{},\"3\":{}}"}"#,
    );
}

#[test]
fn c4_all_parameters_in_order() {
    let s = Sample {
        path: pairs(&[("myparam", "myparamm")]),
        querystring: pairs(&[("querystring1", "value1,value2")]),
        headers: pairs(&[("header1", "value1")]),
        ..sample("")
    };
    let out = render("c4", compiled::c4, &s);
    json_eq(
        &out.body,
        r#"{"params":{"path":{"myparam":"myparamm"},"querystring":{"querystring1":"value1,value2"},"header":{"header1":"value1"}}}"#,
    );
    // Key order is path, querystring, header.
    let p = out.body.find("\"path\"").unwrap();
    let q = out.body.find("\"querystring\"").unwrap();
    let h = out.body.find("\"header\"").unwrap();
    assert!(p < q && q < h, "{}", out.body);
}

#[test]
fn c5_parse_json() {
    let s = sample(r#"{"errorMessage":"{\"key1\":\"var1\",\"key2\":{\"arr\":[1,2,3]}}"}"#);
    let out = render("c5", compiled::c5, &s);
    json_eq(&out.body, r#"{ "errorMessageObjKey2ArrVal" : 1 }"#);
}

const GROCERY: &str = r#"{"department":"produce","categories":["fruit","vegetables"],"bins":[{"category":"fruit","type":"apples","price":1.99,"unit":"pound","quantity":232},{"category":"fruit","type":"bananas","price":0.19,"unit":"each","quantity":112},{"category":"vegetables","type":"carrots","price":1.29,"unit":"bag","quantity":57}]}"#;

#[test]
fn c6_foreach_has_next() {
    let out = render("c6", compiled::c6, &sample(GROCERY));
    json_eq(
        &out.body,
        r#"{"choices":[{"kind":"apples","suggestedPrice":"1.99 per pound","available":232},{"kind":"bananas","suggestedPrice":"0.19 per each","available":112},{"kind":"carrots","suggestedPrice":"1.29 per bag","available":57}]}"#,
    );
}

#[test]
fn c7_params_and_body() {
    let s = Sample {
        path: pairs(&[("city", "Seattle")]),
        querystring: pairs(&[("time", "morning")]),
        headers: pairs(&[("day", "Wednesday")]),
        ..sample(r#"{ "callerName": "John" }"#)
    };
    let out = render("c7", compiled::c7, &s);
    json_eq(
        &out.body,
        r#"{"city":"Seattle","time":"morning","day":"Wednesday","name":"John"}"#,
    );
}

#[test]
fn c8_how_path_values_print() {
    let cases: [(&str, Compiled, &str, &str); 9] = [
        ("c8", compiled::c8, r#"{"foo":"bar"}"#, "{foo=bar}"),
        (
            "c8",
            compiled::c8,
            r#"[{"foo":"bar"}]"#,
            r#"[{"foo":"bar"}]"#,
        ),
        (
            "c8",
            compiled::c8,
            r#"{"foo":[{"nested":"bar"}]}"#,
            r#"{foo=[{"nested":"bar"}]}"#,
        ),
        (
            "c8",
            compiled::c8,
            r#"{"bigger":"dict","to":"test","with":"separators"}"#,
            "{bigger=dict, to=test, with=separators}",
        ),
        (
            "c8e",
            compiled::c8e,
            r#"{"nested":{"foo":"bar"}}"#,
            "{foo=bar}",
        ),
        (
            "c8e",
            compiled::c8e,
            r#"{"nested":[{"foo":"bar"}]}"#,
            r#"[{"foo":"bar"}]"#,
        ),
        (
            "c8f_index",
            compiled::c8f_index,
            r#"[{"foo":"bar"}]"#,
            "{foo=bar}",
        ),
        (
            "c8f_tostring",
            compiled::c8f_tostring,
            r#"{"list":[{"foo":"bar"}]}"#,
            r#"{list=[{"foo":"bar"}]}"#,
        ),
        (
            "c8g",
            compiled::c8g,
            r#"{"json":1}"#,
            r#"{"body": , "nested": , "isNull": "true", "isEmptyString": "true"}"#,
        ),
    ];
    for (name, f, json, expected) in cases {
        let body = format!(r#"{{"json":{json}}}"#);
        let out = render(name, f, &sample(&body));
        assert_eq!(out.body, expected, "{name} over {json}");
    }
    let out = render(
        "c8h",
        compiled::c8h,
        &sample(r#"{"json":{"listValue":[]}}"#),
    );
    assert_eq!(
        out.body,
        r#"{"body": [], "nested": , "isNull": "false", "isEmptyString": "false"}"#
    );
    let out = render(
        "c8h",
        compiled::c8h,
        &sample(r#"{"json":{"listValue":null}}"#),
    );
    assert_eq!(
        out.body,
        r#"{"body": , "nested": , "isNull": "true", "isEmptyString": "true"}"#
    );
}

#[test]
fn c9_input_body_and_url_encode() {
    let bodies = ["", r#"{"some": "value"}"#, "some raw data"];
    let expected: [(&str, Compiled, [&str; 3]); 3] = [
        (
            "c9_body",
            compiled::c9_body,
            ["{}", r#"{"some": "value"}"#, "some raw data"],
        ),
        (
            "c9_sqs",
            compiled::c9_sqs,
            [
                "Action=SendMessage&MessageBody={}",
                r#"Action=SendMessage&MessageBody={"some": "value"}"#,
                "Action=SendMessage&MessageBody=some raw data",
            ],
        ),
        (
            "c9_encode",
            compiled::c9_encode,
            [
                "EncodedBody=%7B%7D&EncodedBodyAccess=",
                "EncodedBody=%7B%22some%22%3A+%22value%22%7D&EncodedBodyAccess=",
                "EncodedBody=some+raw+data&EncodedBodyAccess=",
            ],
        ),
    ];
    for (name, f, outs) in expected {
        for (body, want) in bodies.iter().zip(outs) {
            let out = render(name, f, &sample(body));
            assert_eq!(out.body, want, "{name} over {body:?}");
        }
    }
}

#[test]
fn c11_overrides_apply_after_rendering() {
    let out = render(
        "c11_response",
        compiled::c11_response,
        &sample(r#"{"kind":"error"}"#),
    );
    assert_eq!(out.overrides.status(), Some(400));
    json_eq(&out.body, r#"{"kind":"error"}"#);
    let out = render(
        "c11_response",
        compiled::c11_response,
        &sample(r#"{"kind":"fine"}"#),
    );
    assert_eq!(out.overrides.status(), None);

    let s = Sample {
        headers: pairs(&[("header1", "header1Val"), ("header2", "header2Val")]),
        ..sample(r#"{"a":1}"#)
    };
    let out = render("c11_request", compiled::c11_request, &s);
    let h: Vec<(String, String)> = out
        .overrides
        .request_header
        .iter()
        .map(|(n, v)| {
            let v = match v {
                tollgate_vtl::Value::List(l) => l
                    .borrow()
                    .iter()
                    .map(|x| x.to_java_string())
                    .collect::<Vec<_>>()
                    .join(","),
                other => other.to_java_string(),
            };
            (n.clone(), v)
        })
        .collect();
    assert_eq!(
        h,
        pairs(&[
            ("header3", "header1Valheader2Val"),
            ("header1", "foo"),
            ("multivalueheader", "foo,header1Valheader2Val"),
        ])
    );
}

#[test]
fn c12_integration_extension_example() {
    let s = sample(r#"{ "name":"value_1", "key":"value_2", "redirect": {"url" :"..."} }"#);
    let out = render("c12", compiled::c12, &s);
    json_eq(&out.body, r#"{ "stage": "value_1", "user-id": "value_2" }"#);
}

#[test]
fn a_body_that_is_not_json_fails_input_json_but_not_input_body() {
    let t = tollgate_template::parse("$input.json('$')").unwrap();
    let s = sample("some raw data");
    let env = Env::new(&s);
    let mut out = Output::new();
    let err = tollgate_template::interpret::render(&t, &env, &mut out).unwrap_err();
    assert_eq!(err.kind, tollgate_vtl::env::ErrorKind::BodyNotJson);
}
