//! The macro door's compile-time behaviour: `ui/pass` must compile, `ui/fail` must fail with
//! exactly the `.stderr` beside each case. Bless with `TRYBUILD=overwrite`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
