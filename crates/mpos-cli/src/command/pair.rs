//! `mpos pair` (a new terminal joins the organization with a one-time code) and `mpos node`
//! (the organization's nodes: where each sells, when it was last heard from; revoking one).

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use clap::Subcommand;
use mpos_proto::v1;
use serde_json::json;

use crate::Outcome;
use crate::command::client::{Target, authed, connect, new_id, refused};
use crate::command::order::runtime;
use crate::output::{self, say};

#[derive(Debug, Subcommand)]
pub enum PairCommand {
    /// On the node that holds the organization's root key (an owner, logged in): a
    /// one-time code for a new terminal, good for ten minutes.
    New {
        /// What the organization will call the terminal ("Bar till", "Harbour server").
        #[arg(long)]
        name: String,
        #[command(flatten)]
        target: Target,
    },
    /// On the new terminal: join the organization with the code, into a new data
    /// directory. Then `mpos serve --data DIR --peer HOST:PORT` takes the organization's
    /// menu, staff and sales from the node it joined through.
    Join {
        /// The new terminal's data directory (created).
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// The inviting node's sync address (`mpos serve --sync`), HOST:PORT.
        #[arg(long, value_name = "HOST:PORT")]
        peer: String,
        /// The code `mpos pair new` printed.
        #[arg(long)]
        code: String,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// The organization's nodes: where each sells, how much of its ledger this node holds
    /// and when it was last heard from.
    List {
        #[command(flatten)]
        target: Target,
    },
    /// Withdraw the organization's trust in a node (a lost or stolen terminal): what this
    /// node holds of its ledger stands, anything it writes later is refused everywhere.
    Revoke {
        /// The node: its name, or its id (or the start of it).
        node: String,
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        target: Target,
    },
}

pub fn pair(cmd: PairCommand) -> Result<Outcome> {
    runtime()?.block_on(async move {
        match cmd {
            PairCommand::New { name, target } => {
                let mut c = connect(&target.target).await?;
                let reply = c
                    .invite_node(authed(v1::InviteNodeRequest { name: name.clone() })?)
                    .await
                    .map_err(refused)?
                    .into_inner();
                if target.json {
                    output::json(&json!({
                        "code": reply.code,
                        "expires_at": reply.expires_at,
                        "sync_address": reply.sync_address,
                    }));
                    return Ok(Outcome::Ok);
                }
                say!("pairing code for {name:?}: {}", reply.code);
                say!("good for ten minutes, once. On the new terminal:");
                let peer = if reply.sync_address.is_empty() {
                    "HOST:PORT".to_string()
                } else {
                    reply.sync_address.clone()
                };
                say!(
                    "  mpos pair join --data DIR --peer {peer} --code {}",
                    reply.code
                );
                if reply.sync_address.is_empty() {
                    say!("(this node does not answer sync: restart it with --sync ADDR first)");
                } else if reply.sync_address.starts_with("0.0.0.0")
                    || reply.sync_address.starts_with("[::]")
                {
                    say!("(with this machine's address on the network in place of 0.0.0.0)");
                }
                Ok(Outcome::Ok)
            }
            PairCommand::Join {
                data,
                peer,
                code,
                json,
            } => {
                let certificate = mpos_node::pairing::join(&data, &peer, &code)
                    .await
                    .with_context(|| format!("joining through {peer}"))?;
                let organization = certificate.organization().to_string();
                let node = certificate.node.node_id().to_string();
                if json {
                    output::json(&json!({
                        "organization": organization,
                        "node": node,
                        "name": certificate.name,
                    }));
                } else {
                    say!(
                        "joined organization {organization} as {:?} (node {node})",
                        certificate.name
                    );
                    say!(
                        "next: mpos serve --data {} --sync ADDR --peer {peer}",
                        data.display()
                    );
                }
                Ok(Outcome::Ok)
            }
        }
    })
}

fn time(millis: u64) -> String {
    if millis == 0 {
        return "never".into();
    }
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(millis);
    humantime::format_rfc3339_seconds(t).to_string()
}

pub fn node(cmd: NodeCommand) -> Result<Outcome> {
    runtime()?.block_on(async move {
        match cmd {
            NodeCommand::List { target } => {
                let mut c = connect(&target.target).await?;
                let reply = c
                    .list_nodes(authed(v1::ListNodesRequest {})?)
                    .await
                    .map_err(refused)?
                    .into_inner();
                if target.json {
                    let nodes: Vec<_> = reply
                        .nodes
                        .iter()
                        .map(|n| {
                            json!({
                                "id": hex::encode(&n.node_id),
                                "name": n.name,
                                "this_node": n.node_id == reply.node_id,
                                "location": n.location_name,
                                "entries": n.entries,
                                "last_heard": n.last_heard,
                                "certified_at": n.certified_at,
                                "revoked": n.revoked,
                                "revoked_reason": n.revoked_reason,
                                "entries_standing": n.entries_standing,
                            })
                        })
                        .collect();
                    output::json(&json!({
                        "organization": hex::encode(&reply.organization),
                        "holds_root_key": reply.holds_root_key,
                        "nodes": nodes,
                    }));
                    return Ok(Outcome::Ok);
                }
                say!("organization {}", hex::encode(&reply.organization));
                for n in &reply.nodes {
                    let this = if n.node_id == reply.node_id {
                        " (this node)"
                    } else {
                        ""
                    };
                    let place = if n.location_name.is_empty() {
                        "-"
                    } else {
                        n.location_name.as_str()
                    };
                    say!(
                        "  {:<20} {}  {:<18} {:>8} entries  last heard {}{this}",
                        n.name,
                        &hex::encode(&n.node_id)[..8],
                        place,
                        n.entries,
                        time(n.last_heard)
                    );
                    if n.revoked {
                        say!(
                            "      revoked {} ({}): its first {} entries stand",
                            time(n.revoked_at),
                            n.revoked_reason,
                            n.entries_standing
                        );
                    }
                }
                Ok(Outcome::Ok)
            }
            NodeCommand::Revoke {
                node,
                reason,
                target,
            } => {
                let mut c = connect(&target.target).await?;
                let list = c
                    .list_nodes(authed(v1::ListNodesRequest {})?)
                    .await
                    .map_err(refused)?
                    .into_inner();
                let wanted = node.trim().to_lowercase();
                let found: Vec<&v1::NodeView> = list
                    .nodes
                    .iter()
                    .filter(|n| {
                        n.name.to_lowercase() == wanted
                            || (wanted.len() >= 4 && hex::encode(&n.node_id).starts_with(&wanted))
                    })
                    .collect();
                let target_node = match found.as_slice() {
                    [one] => *one,
                    [] => {
                        return Err(anyhow!(
                            "no node called or numbered {node:?} (`mpos node list`)"
                        ));
                    }
                    _ => {
                        return Err(anyhow!(
                            "{node:?} could be several nodes: give more of its id"
                        ));
                    }
                };
                let reply = c
                    .revoke_node(authed(v1::RevokeNodeRequest {
                        request_id: new_id(),
                        node_id: target_node.node_id.clone(),
                        reason,
                    })?)
                    .await
                    .map_err(refused)?
                    .into_inner();
                if target.json {
                    output::json(&json!({
                        "node": hex::encode(&target_node.node_id),
                        "last_seq": reply.last_seq,
                    }));
                } else {
                    say!(
                        "revoked {:?}: the {} entries held of it stand  (ledger entry {})",
                        target_node.name,
                        target_node.entries,
                        reply.last_seq
                    );
                }
                Ok(Outcome::Ok)
            }
        }
    })
}
