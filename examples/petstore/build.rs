fn main() {
    // Compiles api.kdl into $OUT_DIR/petstore.rs; a mistake in the file fails the build with
    // every diagnostic, each pointing at its line.
    tollgate_codegen::compile("api.kdl").unwrap();
}
