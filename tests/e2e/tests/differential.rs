//! Compiled templates and the interpreter must agree byte for byte — output, overrides and
//! failures — on a corpus of random templates (`gen.rs`, compiled by `build.rs`) over several
//! requests. Also: neither the parser nor the renderer panics on random input.

use tollgate_vtl::env::{Env, Output, RenderError, Sample};

type Compiled = fn(&Env<'_>, &mut Output) -> Result<(), RenderError>;

mod corpus {
    use super::Compiled;
    include!(concat!(env!("OUT_DIR"), "/vtl_corpus.rs"));
}

#[path = "../gen.rs"]
#[allow(dead_code)]
mod generator;

fn samples() -> Vec<Sample> {
    let pairs = |p: &[(&str, &str)]| -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    let base = || Sample {
        path: pairs(&[("id", "7")]),
        querystring: pairs(&[("q", "x,y")]),
        headers: pairs(&[("x-h", "v\"1")]),
        stage_variables: pairs(&[("env", "prod")]),
        context: Sample::default_context(),
        ..Sample::default()
    };
    vec![
        Sample {
            body: r#"{"a":{"b":"c","n":1},"list":[{"n":1},{"n":2.5},{"n":"x"}],"s":"it's \"q\"","num":10.0}"#.into(),
            ..base()
        },
        Sample {
            body: String::new(),
            ..base()
        },
        Sample {
            body: "not json".into(),
            ..base()
        },
    ]
}

fn overrides(o: &Output) -> String {
    format!("{:?}", o.overrides)
}

#[test]
fn compiled_and_interpreted_agree_on_random_templates() {
    assert!(
        corpus::CORPUS.len() > 200,
        "the corpus mostly parses: {}",
        corpus::CORPUS.len()
    );
    let mut rendered = 0;
    for (text, f) in corpus::CORPUS {
        let t = tollgate_template::parse(text).expect("the corpus was compiled, so it parses");
        for s in samples() {
            let env = Env::new(&s);
            let mut a = Output::new();
            let ra = f(&env, &mut a);
            let env = Env::new(&s);
            let mut b = Output::new();
            let rb = tollgate_template::interpret::render(&t, &env, &mut b);
            assert_eq!(ra, rb, "result differs for template:\n{text}");
            assert_eq!(a.body, b.body, "output differs for template:\n{text}");
            assert_eq!(overrides(&a), overrides(&b), "overrides differ:\n{text}");
            rendered += usize::from(ra.is_ok());
        }
    }
    assert!(rendered > 300, "most renders succeed: {rendered}");
}

#[test]
fn random_text_never_panics_the_parser_or_the_renderer() {
    let mut r = generator::Rng(42);
    let atoms = [
        "$",
        "#",
        "(",
        ")",
        "{",
        "}",
        "[",
        "]",
        "'",
        "\"",
        "\\",
        "\n",
        " ",
        ".",
        ",",
        "=",
        "!",
        "#if",
        "#else",
        "#elseif",
        "#end",
        "#foreach",
        "#set",
        "#break",
        "#stop",
        "#*",
        "*#",
        "##",
        "#[[",
        "]]#",
        "$x",
        "$input",
        ".path",
        ".json",
        "('$.a')",
        "$util",
        ".get(",
        "in",
        "..",
        "1",
        "é",
        "\u{1F600}",
        "&&",
        "<=",
        "$foreach.count",
    ];
    let samples = samples();
    for _ in 0..5000 {
        let mut t = String::new();
        for _ in 0..r.below(30) {
            t.push_str(atoms[r.below(atoms.len())]);
        }
        if let Ok(parsed) = tollgate_template::parse(&t) {
            let env = Env::new(&samples[0]);
            let mut out = Output::new();
            let _ = tollgate_template::interpret::render(&parsed, &env, &mut out);
        }
    }
}
