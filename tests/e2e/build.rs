fn main() {
    println!("cargo:rerun-if-changed=apis/schemas");
    for api in [
        "apis/rest.kdl",
        "apis/http.kdl",
        "apis/validation.kdl",
        "apis/detailed.kdl",
    ] {
        tollgate_codegen::compile(api).unwrap();
    }
}
