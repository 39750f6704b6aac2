fn main() {
    for api in ["apis/rest.kdl", "apis/http.kdl"] {
        tollgate_codegen::compile(api).unwrap();
    }
}
