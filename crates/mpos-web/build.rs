//! Builds the web app (`web/`: TypeScript, Vite) into OUT_DIR and writes the table of its
//! files that `src/lib.rs` embeds, each also gzipped. Installs the npm packages first
//! (`npm ci`) when `node_modules` is missing or older than `package-lock.json`.
//!
//! `MPOS_WEB_DIST=DIR` embeds an already built directory instead (the web app's own
//! development loop).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let web = manifest.join("../../web").canonicalize()?;
    let out = PathBuf::from(env::var("OUT_DIR")?);
    println!("cargo:rerun-if-env-changed=MPOS_WEB_DIST");
    for watched in [
        "src",
        "public",
        "index.html",
        "package.json",
        "package-lock.json",
        "tsconfig.json",
        "vite.config.ts",
        "buf.gen.yaml",
        "../crates/mpos-proto/proto",
    ] {
        println!("cargo:rerun-if-changed={}", web.join(watched).display());
    }

    let dist = match env::var_os("MPOS_WEB_DIST") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let dist = out.join("dist");
            build(&web, &dist)?;
            dist
        }
    };

    let mut files = Vec::new();
    collect(&dist, &dist, &mut files)?;
    files.sort();
    let mut table = String::from("&[\n");
    for (i, (route, path)) in files.iter().enumerate() {
        let bytes = fs::read(path)?;
        let gz = out.join(format!("asset-{i}.gz"));
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&bytes)?;
        fs::write(&gz, enc.finish()?)?;
        writeln!(
            table,
            "    Asset {{ path: {route:?}, bytes: include_bytes!({:?}), gzip: include_bytes!({:?}) }},",
            path.display().to_string(),
            gz.display().to_string()
        )?;
    }
    table.push(']');
    fs::write(out.join("assets.rs"), table)?;
    Ok(())
}

fn build(web: &Path, dist: &Path) -> Result<(), Error> {
    let stamp = web.join("node_modules/.package-lock.json");
    let stale = match (
        fs::metadata(&stamp),
        fs::metadata(web.join("package-lock.json")),
    ) {
        (Ok(installed), Ok(lock)) => installed.modified()? < lock.modified()?,
        _ => true,
    };
    if stale {
        run(web, &["ci", "--no-audit", "--no-fund"])?;
    }
    let out_dir = dist.display().to_string();
    run(
        web,
        &[
            "run",
            "build",
            "--",
            "--outDir",
            &out_dir,
            "--emptyOutDir",
            "--logLevel",
            "warn",
        ],
    )
}

fn run(web: &Path, args: &[&str]) -> Result<(), Error> {
    let status = Command::new("npm")
        .args(args)
        .current_dir(web)
        .status()
        .map_err(|e| {
            format!(
                "cannot run npm ({e}): building the web app needs Node.js 20 or newer and npm \
                 (Debian: apt-get install nodejs npm)"
            )
        })?;
    if !status.success() {
        return Err(format!(
            "`npm {}` in {} failed: {status}",
            args.join(" "),
            web.display()
        )
        .into());
    }
    Ok(())
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) -> Result<(), Error> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, files)?;
        } else {
            let rel = path
                .strip_prefix(root)?
                .to_string_lossy()
                .replace('\\', "/");
            files.push((format!("/{rel}"), path));
        }
    }
    Ok(())
}
