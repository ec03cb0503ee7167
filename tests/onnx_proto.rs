//! `src/onnx/proto.rs` is exactly what prost-build makes of
//! `src/onnx/onnx.proto` (ONNX's own schema), compiled by protox (a protobuf
//! compiler in Rust, so no `protoc` is needed). After updating `onnx.proto`,
//! `DENPA_REGENERATE=1 cargo test --test onnx_proto` rewrites the file.

use std::path::Path;

#[test]
fn the_committed_protobuf_types_are_prost_builds_output() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/onnx");
    let descriptors =
        protox::compile([dir.join("onnx.proto")], [&dir]).expect("onnx.proto compiles");
    let out = std::env::temp_dir().join(format!("denpa-onnx-proto-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    prost_build::Config::new()
        .out_dir(&out)
        .compile_fds(descriptors)
        .expect("prost-build generates the types");
    let generated = std::fs::read_to_string(out.join("onnx.rs")).unwrap();
    std::fs::remove_dir_all(&out).ok();
    let committed_path = dir.join("proto.rs");
    if std::env::var_os("DENPA_REGENERATE").is_some() {
        std::fs::write(&committed_path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&committed_path).unwrap();
    assert!(
        committed == generated,
        "src/onnx/proto.rs is not prost-build's output for onnx.proto; \
         `DENPA_REGENERATE=1 cargo test --test onnx_proto` rewrites it"
    );
}
