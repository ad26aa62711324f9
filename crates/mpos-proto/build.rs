//! Compiles the `.proto` contract with protox (pure Rust: no system `protoc`) and generates
//! the prost messages and tonic services.

use std::path::PathBuf;
use std::{env, fs};

use protox::prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = [
        "proto/mpos/v1/events.proto",
        "proto/mpos/v1/pos.proto",
        "proto/mpos/v1/guest.proto",
        "proto/mpos/v1/sync.proto",
    ];
    let includes = ["proto"];
    for p in protos {
        println!("cargo:rerun-if-changed={p}");
    }
    let descriptors = protox::compile(protos, includes)?;
    let out = PathBuf::from(env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?);
    let descriptor_path = out.join("mpos_descriptor.bin");
    fs::write(&descriptor_path, descriptors.encode_to_vec())?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .file_descriptor_set_path(&descriptor_path)
        .skip_protoc_run()
        .compile_protos(&protos, &includes)?;
    Ok(())
}
