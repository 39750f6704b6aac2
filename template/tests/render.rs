//! Velocity details through the interpreter: whitespace rules, escapes, comments, loops,
//! `#set` semantics and parse errors.

use tollgate_template::{interpret, parse};
use tollgate_vtl::env::{Env, Output, Sample};

fn render_with(t: &str, body: &str) -> String {
    let t = parse(t).unwrap_or_else(|e| panic!("{e:?}"));
    let s = Sample {
        body: body.to_owned(),
        querystring: vec![("q".into(), "v".into())],
        stage_variables: vec![("env".into(), "prod".into())],
        context: Sample::default_context(),
        ..Sample::default()
    };
    let env = Env::new(&s);
    let mut out = Output::new();
    interpret::render(&t, &env, &mut out).unwrap();
    out.body
}

fn render(t: &str) -> String {
    render_with(t, "")
}

#[test]
fn directives_eat_their_newline_and_set_its_indentation() {
    assert_eq!(render("a\n  #set($x = 1)\nb$x"), "a\nb1");
    assert_eq!(render("#if(true)\nyes\n#end\nafter"), "yes\nafter");
    assert_eq!(render("  #if(true)x#end"), "  x");
    assert_eq!(
        render("#foreach($i in [1..3])$i#if($foreach.hasNext),#end#end"),
        "1,2,3"
    );
    assert_eq!(render("#foreach($i in [1, 2])\n$i\n#end"), "1\n2\n");
}

#[test]
fn comments_escapes_and_unparsed_text() {
    assert_eq!(render("a## comment\nb"), "ab");
    assert_eq!(render("a#* block\n *#b"), "ab");
    assert_eq!(render("\\$q \\#if"), "$q #if");
    assert_eq!(render("#[[ $notParsed #if ]]#"), " $notParsed #if ");
    assert_eq!(
        render("price: $ 5, tag: #hash, a\\b"),
        "price: $ 5, tag: #hash, a\\b"
    );
}

#[test]
fn references_and_formal_notation() {
    assert_eq!(render("${stageVariables.env}-x"), "prod-x");
    assert_eq!(render("$stageVariables['env']"), "prod");
    assert_eq!(render("$!missing|$missing|${missing}"), "||");
    assert_eq!(render("$input.params('q')."), "v.");
    assert_eq!(render("$context.stage"), "test");
    assert_eq!(
        render("#set($m = {'a': 1, \"b\": [1, 2]})$m $m.b $m.a"),
        "{a=1, b=[1, 2]} [1, 2] 1"
    );
}

#[test]
fn set_to_null_keeps_the_old_value_as_velocity_1_7() {
    assert_eq!(render("#set($x = 'a')#set($x = $nothing)$x"), "a");
    assert_eq!(render("#set($x = 'a')#set($x = '')[$x]"), "[]");
}

#[test]
fn a_json_object_in_a_variable_takes_new_entries() {
    let body = r#"{"a":1,"l":[1]}"#;
    assert_eq!(
        render_with(
            "#set($b = $input.path('$'))#set($b.c = 'x')#set($b.a = 2)$b $b.c",
            body
        ),
        "{a=2, l=[1], c=x} x"
    );
}

#[test]
fn operators() {
    assert_eq!(
        render("#set($a = 7)#set($b = $a / 2)$b #set($c = $a % 4)$c"),
        "3 3"
    );
    assert_eq!(
        render("#if($a == $null && !false || false)t#{else}f#end"),
        "t"
    );
    assert_eq!(render("#if(1 lt 2 and 'x' eq \"x\")t#end"), "t");
    assert_eq!(render("#set($s = \"n=${stageVariables.env}\")$s"), "n=prod");
    assert_eq!(render("#set($x = 2 + 3 * 4)$x"), "14");
    assert_eq!(render("#set($x = 'a' + 1)$x"), "a1");
}

#[test]
fn loops_break_stop_and_the_cap() {
    assert_eq!(
        render("#foreach($i in [1..10])#if($i > 3)#break#end$i#end"),
        "123"
    );
    assert_eq!(render("a#stop b"), "a");
    assert_eq!(render("#foreach($i in [1..2000])#end$velocityCount."), ".");
    let n = render("#foreach($i in [1..2000])x#end").len();
    assert_eq!(n, 1000, "a #foreach stops after 1000 iterations");
    assert_eq!(
        render("#foreach($a in [1, 2])#foreach($b in ['x'])$foreach.parent.count$b#end#end"),
        "1x2x"
    );
    // The loop variable is restored afterwards.
    assert_eq!(render("#set($i = 'o')#foreach($i in [1])$i#end$i"), "1o");
}

#[test]
fn input_body_path_and_json() {
    let body = r#"{"a":{"b":[1,2.5,"x"]},"s":"t\"q"}"#;
    assert_eq!(
        render_with("$input.json('$.a')", body),
        r#"{"b":[1,2.5,"x"]}"#
    );
    assert_eq!(
        render_with("$input.path('$.a')", body),
        r#"{b=[1,2.5,"x"]}"#
    );
    assert_eq!(render_with("$input.path('$.a.b').size()", body), "3");
    assert_eq!(render_with("$input.json('$.s')", body), r#""t\"q""#);
    assert_eq!(render_with("$input.path('$.s')", body), "t\"q");
    assert_eq!(
        render_with("$util.escapeJavaScript($input.path('$.s'))", body),
        "t\\\"q"
    );
    assert_eq!(
        render_with("$util.base64Encode('hi')|$util.base64Decode('aGk=')", body),
        "aGk=|hi"
    );
    assert_eq!(render_with("$util.urlDecode('a+b%21')", body), "a b!");
}

#[test]
fn syntax_errors_point_at_their_spot() {
    let e = parse("ok\n#if($x\nno").unwrap_err();
    assert!(e[0].message.starts_with("malformed #if"), "{e:?}");
    let e = parse("#end").unwrap_err();
    assert_eq!(e[0].message, "#end without an open #if or #foreach");
    let e = parse("#foreach($a in $b)x").unwrap_err();
    assert_eq!(e[0].message, "this #foreach is never closed");
    let e = parse("#else").unwrap_err();
    assert_eq!(e[0].message, "#else without an open #if");
    let e = parse("#if(true)#else#else#end").unwrap_err();
    assert_eq!(e[0].message, "#else after #else");
    let e = parse("#break").unwrap_err();
    assert_eq!(e[0].message, "#break outside #foreach");
    let e = parse("#set($input = 1)").unwrap_err();
    assert!(e[0].message.contains("built in"));
    let e = parse("#macro(x)#end").unwrap_err();
    assert!(e[0].message.contains("not available"), "{e:?}");
    let e = parse("#* never closed").unwrap_err();
    assert!(e[0].message.contains("never closed"));
    // Every error of one template in one run.
    assert_eq!(parse("#end\n#end\n$a.b(").unwrap_err().len(), 3);
}
