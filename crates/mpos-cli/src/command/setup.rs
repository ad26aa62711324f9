//! `mpos setup`: a new restaurant in a data directory, with its first owner.

use std::path::PathBuf;

use anyhow::{Result, anyhow};
use clap::Args;
use mpos_domain::menu::Settings;
use mpos_domain::{Currency, PriceMode};
use mpos_node::setup::{NewRestaurant, set_up};
use serde_json::json;

use crate::Outcome;
use crate::command::client::show_id;
use crate::output::{self, say};

#[derive(Debug, Args)]
pub struct SetupArgs {
    /// The node's data directory (created if missing).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// The restaurant's name, printed on receipts.
    #[arg(long)]
    pub restaurant: String,
    /// ISO 4217 code: EUR, USD, SGD, JPY...
    #[arg(long)]
    pub currency: String,
    /// Whether menu prices include tax (most of Europe and Asia) or have it added.
    #[arg(long, default_value = "inclusive", value_parser = ["inclusive", "exclusive"])]
    pub prices: String,
    /// The first owner's name.
    #[arg(long)]
    pub owner: String,
    /// The owner's PIN, 4 to 8 digits (or set MPOS_OWNER_PIN, kept out of shell history).
    #[arg(long, env = "MPOS_OWNER_PIN", hide_env_values = true)]
    pub pin: String,
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: SetupArgs) -> Result<Outcome> {
    let currency = Currency::from_code(&args.currency.to_uppercase())
        .map_err(|e| anyhow!("--currency {:?}: {e}", args.currency))?;
    let price_mode = if args.prices == "exclusive" {
        PriceMode::Exclusive
    } else {
        PriceMode::Inclusive
    };
    let owner = set_up(
        &args.data,
        &NewRestaurant {
            settings: Settings {
                name: args.restaurant.clone(),
                currency,
                price_mode,
            },
            owner_name: args.owner.clone(),
            owner_pin: args.pin,
        },
    )?;
    let owner_id = show_id(&owner.0.to_be_bytes());
    if args.json {
        output::json(&json!({ "restaurant": args.restaurant, "owner": owner_id }));
    } else {
        say!("{} is set up, owned by {}.", args.restaurant, args.owner);
        say!("next: mpos serve --data {}", args.data.display());
        say!("      mpos login --staff {:?} --pin ...", args.owner);
        say!(
            "      mpos menu tax / category / modifiers / add-item, mpos staff add, mpos table add"
        );
    }
    Ok(Outcome::Ok)
}
