//! What every client subcommand shares: the node's address, the saved session, request
//! ids, and readable errors from gRPC statuses.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use clap::Args;
use mpos_proto::v1::pos_client::PosClient;
use serde_json::{Value, json};
use tonic::transport::Channel;

#[derive(Debug, Args, Clone)]
pub struct Target {
    /// The node to talk to.
    #[arg(
        long,
        env = "MPOS_TARGET",
        default_value = "127.0.0.1:7070",
        global = true
    )]
    pub target: String,
    /// Print one JSON object instead of text.
    #[arg(long, global = true)]
    pub json: bool,
}

/// Where the session token is kept: `$MPOS_SESSION`, or `~/.mpos/session.json`
/// (owner-only, like an SSH key).
fn session_path() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os("MPOS_SESSION") {
        return Ok(PathBuf::from(p));
    }
    let home =
        std::env::var_os("HOME").ok_or_else(|| anyhow!("HOME is not set; set MPOS_SESSION"))?;
    Ok(PathBuf::from(home).join(".mpos").join("session.json"))
}

/// The saved session: the node, the token, who is logged in, the last order opened.
pub fn save_session(value: &Value) -> Result<()> {
    let path = session_path()?;
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(value.to_string().as_bytes())?;
    fs::rename(&tmp, &path)?;
    Ok(())
}

pub fn load_session() -> Result<Value> {
    let path = session_path()?;
    let text = fs::read_to_string(&path)
        .map_err(|_| anyhow!("not logged in: run `mpos login --staff NAME --pin PIN` first"))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a session file", path.display()))
}

pub async fn connect(target: &str) -> Result<PosClient<Channel>> {
    let client = PosClient::connect(format!("http://{target}"))
        .await
        .with_context(|| {
            format!("cannot reach a node at {target} (is `mpos serve` or `mpos demo` running?)")
        })?;
    // The stock of a hundred locations is a few megabytes: more than a client takes by
    // default.
    Ok(client.max_decoding_message_size(256 << 20))
}

/// A request carrying the saved session's token.
pub fn authed<T>(message: T) -> Result<tonic::Request<T>> {
    let session = load_session()?;
    let token = session["token"]
        .as_str()
        .ok_or_else(|| anyhow!("the session file has no token: log in again"))?;
    let mut r = tonic::Request::new(message);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    Ok(r)
}

/// A fresh UUIDv7: time-ordered, unique across terminals.
pub fn new_id() -> Vec<u8> {
    uuid::Uuid::now_v7().as_bytes().to_vec()
}

pub fn parse_id(text: &str) -> Result<Vec<u8>> {
    let u = uuid::Uuid::parse_str(text.trim())
        .map_err(|_| anyhow!("{text:?} is not an id (a UUID such as 0192…)"))?;
    Ok(u.as_bytes().to_vec())
}

pub fn show_id(bytes: &[u8]) -> String {
    uuid::Uuid::from_slice(bytes)
        .map(|u| u.to_string())
        .unwrap_or_else(|_| hex::encode(bytes))
}

/// Turns a gRPC status into an error a person can act on.
pub fn refused(status: tonic::Status) -> anyhow::Error {
    anyhow!("{}: {}", code_name(status.code()), status.message())
}

fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        InvalidArgument => "refused",
        FailedPrecondition => "not now",
        PermissionDenied => "not allowed",
        NotFound => "not found",
        Unauthenticated => "not logged in",
        ResourceExhausted => "locked",
        Unavailable => "node unreachable",
        _ => "failed",
    }
}

/// The order a command names: an id, or `last` for the last order opened here.
pub fn order_id(text: &str) -> Result<Vec<u8>> {
    if text == "last" {
        let s = load_session()?;
        let last = s["last_order"]
            .as_str()
            .ok_or_else(|| anyhow!("no order opened yet from this terminal"))?;
        return parse_id(last);
    }
    parse_id(text)
}

pub fn remember_last_order(id: &[u8]) -> Result<()> {
    let mut s = load_session()?;
    s["last_order"] = json!(show_id(id));
    save_session(&s)
}

/// The restaurant's currency, as the login saved it.
pub fn currency() -> Result<String> {
    let s = load_session()?;
    match s["currency"].as_str() {
        Some(c) if !c.is_empty() => Ok(c.to_string()),
        _ => Err(anyhow!(
            "the session does not know the currency: log in again"
        )),
    }
}

/// An amount in minor units, written in its currency's own decimals.
pub fn money(minor: i64, currency: &str) -> String {
    match mpos_domain::Currency::from_code(currency) {
        Ok(c) => mpos_domain::Money::new(minor, c).to_string(),
        Err(_) => format!("{minor} (minor units)"),
    }
}
