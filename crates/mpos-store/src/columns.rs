//! How domain values are written into columns, the same in every backend: ids as 16
//! big-endian bytes, enumerations as their names, rate and course lists as comma-separated
//! numbers. A database written by one backend reads the same through SQL in another.

use mpos_domain::catalog::Channel;
use mpos_domain::ids::{ItemId, LocationId, ModifierId, StockItemId, VariantId};
use mpos_domain::inventory::{
    Depletion, Dimension, Ingredient, Movement, Recipe, RecipeFor, StockValue, Unit,
};
use mpos_domain::order::{Source, Status, Tender};
use mpos_domain::{PriceMode, TaxRate};

use crate::{JobState, StoreError};

pub fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// How an id is stored: 16 bytes, big-endian (so ids made in time order sort in order).
pub fn id_bytes(v: u128) -> [u8; 16] {
    v.to_be_bytes()
}

/// A stored 16-byte id; `what` names it in the error.
pub fn from_id(b: &[u8], what: &str) -> Result<u128, StoreError> {
    <[u8; 16]>::try_from(b)
        .map(u128::from_be_bytes)
        .map_err(|_| corrupt(format!("{what} is not a 16-byte id")))
}

/// Databases have signed integers only; sequence numbers, times and sizes never come near
/// 2^63.
pub fn sql_int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A stored count, time or sequence number; `what` names it in the error.
pub fn unsigned(v: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| corrupt(format!("{what} is negative")))
}

pub fn channel_from(text: &str) -> Result<Channel, StoreError> {
    Channel::ALL
        .into_iter()
        .find(|c| c.name() == text)
        .ok_or_else(|| corrupt(format!("unknown channel {text:?}")))
}

pub fn source_text(s: &Source) -> String {
    match s {
        Source::Register => "register".into(),
        Source::SelfOrder => "self_order".into(),
        Source::Online => "online".into(),
        Source::Aggregator(name) => format!("aggregator:{name}"),
    }
}

pub fn source_from(text: &str) -> Result<Source, StoreError> {
    Ok(match text {
        "register" => Source::Register,
        "self_order" => Source::SelfOrder,
        "online" => Source::Online,
        other => match other.strip_prefix("aggregator:") {
            Some(name) => Source::Aggregator(name.to_string()),
            None => return Err(corrupt(format!("unknown source {other:?}"))),
        },
    })
}

pub fn status_text(s: Status) -> &'static str {
    match s {
        Status::Open => "open",
        Status::Closed => "closed",
        Status::Voided => "voided",
    }
}

pub fn status_from(text: &str) -> Result<Status, StoreError> {
    match text {
        "open" => Ok(Status::Open),
        "closed" => Ok(Status::Closed),
        "voided" => Ok(Status::Voided),
        other => Err(corrupt(format!("unknown status {other:?}"))),
    }
}

pub fn mode_text(m: PriceMode) -> &'static str {
    match m {
        PriceMode::Inclusive => "inclusive",
        PriceMode::Exclusive => "exclusive",
    }
}

pub fn mode_from(text: &str) -> Result<PriceMode, StoreError> {
    match text {
        "inclusive" => Ok(PriceMode::Inclusive),
        "exclusive" => Ok(PriceMode::Exclusive),
        other => Err(corrupt(format!("unknown price mode {other:?}"))),
    }
}

/// A tender as its kind and its detail (card reference, other tender's name).
pub fn tender_text(t: &Tender) -> (&'static str, &str) {
    match t {
        Tender::Cash => ("cash", ""),
        Tender::Card { reference } => ("card", reference),
        Tender::Other { name } => ("other", name),
    }
}

pub fn tender_from(kind: &str, detail: String) -> Result<Tender, StoreError> {
    match kind {
        "cash" => Ok(Tender::Cash),
        "card" => Ok(Tender::Card { reference: detail }),
        "other" => Ok(Tender::Other { name: detail }),
        other => Err(corrupt(format!("unknown tender {other:?}"))),
    }
}

pub fn join_u32(v: impl IntoIterator<Item = u32>) -> String {
    v.into_iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn split_u32(text: &str) -> Result<Vec<u32>, StoreError> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|x| {
            x.parse()
                .map_err(|_| corrupt(format!("bad number list {text:?}")))
        })
        .collect()
}

/// Tax rates as parts per million, comma separated.
pub fn rates_text(rates: &[TaxRate]) -> String {
    join_u32(rates.iter().map(|r| r.ppm()))
}

pub fn rates_from(text: &str) -> Result<Vec<TaxRate>, StoreError> {
    Ok(split_u32(text)?
        .into_iter()
        .map(TaxRate::from_ppm)
        .collect())
}

pub fn job_state_from(text: &str) -> Result<JobState, StoreError> {
    Ok(match text {
        "queued" => JobState::Queued,
        "sending" => JobState::Sending,
        "printed" => JobState::Printed,
        "failed" => JobState::Failed,
        other => return Err(corrupt(format!("unknown print job state {other:?}"))),
    })
}

/// A printer's stations: their ids, concatenated.
pub fn stations_bytes(stations: &[mpos_domain::ids::StationId]) -> Vec<u8> {
    stations.iter().flat_map(|s| id_bytes(s.0)).collect()
}

pub fn stations_from(bytes: &[u8]) -> Result<Vec<mpos_domain::ids::StationId>, StoreError> {
    if !bytes.len().is_multiple_of(16) {
        return Err(corrupt("printer stations are not 16-byte ids"));
    }
    bytes
        .chunks_exact(16)
        .map(|c| from_id(c, "station").map(mpos_domain::ids::StationId))
        .collect()
}

pub fn unit_from(text: &str) -> Result<Unit, StoreError> {
    Unit::ALL
        .into_iter()
        .find(|u| u.symbol() == text)
        .ok_or_else(|| corrupt(format!("unknown unit {text:?}")))
}

pub fn dimension_from(text: &str) -> Result<Dimension, StoreError> {
    [Dimension::Mass, Dimension::Volume, Dimension::Count]
        .into_iter()
        .find(|d| d.name() == text)
        .ok_or_else(|| corrupt(format!("unknown dimension {text:?}")))
}

/// How a recipe's target is keyed: kind, item or modifier id, variant id (or empty).
pub fn recipe_key(t: RecipeFor) -> (&'static str, [u8; 16], Vec<u8>) {
    match t {
        RecipeFor::Item(i) => ("item", id_bytes(i.0), Vec::new()),
        RecipeFor::Variant(i, v) => ("variant", id_bytes(i.0), id_bytes(v.0).to_vec()),
        RecipeFor::Modifier(m) => ("modifier", id_bytes(m.0), Vec::new()),
    }
}

/// The target [`recipe_key`] stored.
pub fn recipe_target(kind: &str, id: &[u8], variant: &[u8]) -> Result<RecipeFor, StoreError> {
    let id = from_id(id, "recipe target")?;
    match kind {
        "item" => Ok(RecipeFor::Item(ItemId(id))),
        "variant" => Ok(RecipeFor::Variant(
            ItemId(id),
            VariantId(from_id(variant, "recipe variant")?),
        )),
        "modifier" => Ok(RecipeFor::Modifier(ModifierId(id))),
        other => Err(corrupt(format!("unknown recipe target {other:?}"))),
    }
}

/// Rows of (target, ingredient) in any order, grouped into recipes sorted by target.
pub fn recipes_from(rows: Vec<(RecipeFor, i64, Ingredient)>) -> Vec<Recipe> {
    let mut by_target: std::collections::BTreeMap<RecipeFor, Vec<(i64, Ingredient)>> =
        std::collections::BTreeMap::new();
    for (target, position, ingredient) in rows {
        by_target
            .entry(target)
            .or_default()
            .push((position, ingredient));
    }
    by_target
        .into_iter()
        .map(|(target, mut ingredients)| {
            ingredients.sort_by_key(|(p, _)| *p);
            Recipe {
                target,
                ingredients: ingredients.into_iter().map(|(_, i)| i).collect(),
            }
        })
        .collect()
}

pub fn depletion_from(text: &str) -> Result<Depletion, StoreError> {
    [Depletion::OnSend, Depletion::OnClose]
        .into_iter()
        .find(|d| d.name() == text)
        .ok_or_else(|| corrupt(format!("unknown depletion {text:?}")))
}

/// What each (location, item) a movement touches gains in quantity and value, from the
/// levels before it and after it (`levels_after`).
pub fn usage_deltas(
    moved: &[(LocationId, StockItemId, i64)],
    before: &[(LocationId, StockItemId, StockValue)],
    after: &[(LocationId, StockItemId, StockValue)],
) -> Vec<(LocationId, StockItemId, i64, i64)> {
    moved
        .iter()
        .map(|(l, i, milli)| {
            let find = |levels: &[(LocationId, StockItemId, StockValue)]| {
                levels
                    .iter()
                    .find(|(ll, li, _)| ll == l && li == i)
                    .map_or(0, |(_, _, v)| v.value)
            };
            (*l, *i, *milli, find(after) - find(before))
        })
        .collect()
}

pub fn movement_kind(m: &Movement) -> &'static str {
    match m {
        Movement::Received { .. } => "received",
        Movement::Wasted { .. } => "wasted",
        Movement::Counted { .. } => "counted",
        Movement::TransferSent { .. } => "transfer_sent",
        Movement::TransferReceived { .. } => "transfer_received",
        Movement::Depleted { .. } => "depleted",
        Movement::Restored { .. } => "restored",
    }
}

/// The print jobs a print request queued, as stored: their ids, comma separated.
pub fn job_ids_text(ids: &[u64]) -> String {
    ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
}

/// The jobs of print request `request`, stored as having done `done` with `jobs`, for a
/// retry asking `action`: an id reused for another action is a conflict.
pub fn print_request_jobs(
    request: u128,
    action: &str,
    done: &str,
    jobs: &str,
) -> Result<Vec<u64>, StoreError> {
    if done != action {
        return Err(StoreError::Conflict(format!(
            "request {request:032x} was already used to {done}"
        )));
    }
    jobs.split(',')
        .filter(|j| !j.is_empty())
        .map(|j| {
            j.parse::<u64>()
                .map_err(|_| corrupt(format!("print request jobs {jobs:?}")))
        })
        .collect()
}

/// The words of what a cashier typed into a menu search: runs of letters and digits, at
/// most eight. Each store matches every one as a word prefix, so user text is never
/// read as query syntax.
pub fn search_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
}

/// Escapes `prefix` for `LIKE … ESCAPE '\'` and appends the wildcard: an order number
/// typed with `%` or `_` matches those characters, not anything.
pub fn like_prefix(prefix: &str) -> String {
    format!(
        "{}%",
        prefix
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}
