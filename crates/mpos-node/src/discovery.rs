//! Finding the organization's other nodes on the LAN (mDNS, DNS-SD, RFC 6762 and 6763): a
//! node that answers sync advertises `_mpos-sync._tcp.local.` with its node id and its
//! organization's id, and pulls from every node of its own organization it hears of.
//! An advert is only an address: who answers there is proved over TLS with its key and
//! certificate, as for a peer named on the command line.

use std::collections::HashMap;
use std::net::IpAddr;

use mdns_sd::{ServiceDaemon, ServiceEvent, ServiceInfo};
use mpos_ledger::OrganizationId;
use tokio::task::AbortHandle;

use crate::error::NodeError;
use crate::grpc::PosApi;

/// Most nodes pulled from at once: a LAN that advertises more (a misbehaving host) is
/// not followed further.
const MAX_PEERS: usize = 64;

/// The DNS-SD service type of a node's sync listener.
pub const SERVICE: &str = "_mpos-sync._tcp.local.";

/// Advertising and browsing, for as long as the node runs.
pub struct Discovery {
    daemon: ServiceDaemon,
}

impl std::fmt::Debug for Discovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Discovery").finish_non_exhaustive()
    }
}

fn failed(e: mdns_sd::Error) -> NodeError {
    NodeError::Unavailable(format!("mDNS: {e}"))
}

/// A peer's sync address as `pull_from` takes it.
fn peer_address(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{v4}:{port}"),
        IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    }
}

impl Discovery {
    /// Advertises this node's sync listener on `port` and pulls from the organization's
    /// nodes as they are found.
    pub fn start(api: PosApi, port: u16) -> Result<Discovery, NodeError> {
        let root = api.trust().root.ok_or_else(|| {
            NodeError::BadRequest("a node of no organization has nobody to discover".into())
        })?;
        let organization = OrganizationId::of(&root).to_string();
        let node = api.trust().key.node_id().to_string();
        let daemon = ServiceDaemon::new().map_err(failed)?;
        // The addresses are the interfaces' own, kept up to date by the daemon.
        let advert = ServiceInfo::new(
            SERVICE,
            &node,
            &format!("mpos-{node}.local."),
            "",
            port,
            [("org", organization.as_str()), ("node", node.as_str())].as_slice(),
        )
        .map_err(failed)?
        .enable_addr_auto();
        daemon.register(advert).map_err(failed)?;
        let found = daemon.browse(SERVICE).map_err(failed)?;
        let mut closing = api.closing().subscribe();
        tokio::spawn(async move {
            // One puller per node, at the first address it was found at; an advert repeats
            // itself, and a node that moves (a new DHCP lease) is followed to its new address.
            let mut pulling: HashMap<String, (String, AbortHandle)> = HashMap::new();
            loop {
                let event = tokio::select! {
                    e = found.recv_async() => match e {
                        Ok(e) => e,
                        Err(_) => return,
                    },
                    _ = closing.wait_for(|c| *c) => return,
                };
                let ServiceEvent::ServiceResolved(service) = event else {
                    continue;
                };
                let (Some(theirs), Some(peer)) = (
                    service.txt_properties.get_property_val_str("org"),
                    service.txt_properties.get_property_val_str("node"),
                ) else {
                    continue;
                };
                if theirs != organization || peer == node {
                    continue;
                }
                let addresses: Vec<String> = service
                    .get_addresses()
                    .iter()
                    .map(|a| a.to_ip_addr())
                    // A link-local IPv6 address needs its interface to be dialled.
                    .filter(|ip| {
                        !ip.is_loopback()
                            && !matches!(ip, IpAddr::V6(v6) if v6.is_unicast_link_local())
                    })
                    .map(|ip| peer_address(ip, service.get_port()))
                    .collect();
                let Some(first) = addresses.first() else {
                    continue;
                };
                match pulling.get(peer) {
                    Some((at, _)) if addresses.contains(at) => continue,
                    None if pulling.len() >= MAX_PEERS => {
                        tracing::warn!(%peer, "too many nodes found on the LAN: not pulling from this one");
                        continue;
                    }
                    _ => {}
                }
                if let Some((at, old)) = pulling.remove(peer) {
                    tracing::info!(%peer, from = %at, to = %first, "a node of the organization moved");
                    old.abort();
                } else {
                    tracing::info!(%peer, address = %first, "found a node of the organization on the LAN");
                }
                let puller = api.pull_from(first.clone());
                pulling.insert(peer.to_string(), (first.clone(), puller));
            }
        });
        Ok(Discovery { daemon })
    }
}

impl Drop for Discovery {
    fn drop(&mut self) {
        // Says goodbye on the LAN, so the others forget this address.
        let _ = self.daemon.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_written_as_a_puller_dials_them() {
        assert_eq!(
            peer_address("10.0.0.7".parse().unwrap(), 7071),
            "10.0.0.7:7071"
        );
        assert_eq!(
            peer_address("fe80::1".parse().unwrap(), 7071),
            "[fe80::1]:7071"
        );
    }
}
