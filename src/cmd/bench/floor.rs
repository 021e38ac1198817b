//! The floors, measured right after a scenario's run on its database and NATS server: raw SQL
//! transactions writing a follow-up command's rows (`Store::floor_transactions`) and raw JetStream
//! publishes of an event's payload (`Bus::floor_publish`). Their rows are copies of a case made by the
//! seed's bulk path: verified, with its `respond` and `complete` timers, as a `respond` finds it.

use super::figures::{ratio, Floor, Latency};
use super::sut::InProcess;
use crate::cmd::seed::{seed_batch, SeedPlan};
use aduan_core::region::RegionCode;
use aduan_service::bus::event_subject;
use aduan_service::crypto::sha256_hex;
use aduan_service::store::floor::FloorRows;
use aduan_service::store::CommandRecord;
use anyhow::{anyhow, Context};
use std::time::Duration;

/// What the floors are compared with.
pub(super) struct Ours {
    pub commands_per_second: f64,
    pub events_per_second: f64,
}

/// Runs the floors for `each` apiece, the SQL one from `concurrency` tasks.
pub(super) async fn measure(sut: &InProcess, concurrency: usize, each: Duration, ours: Ours) -> anyhow::Result<Floor> {
    let rows = template(sut)?;
    let sql = sut.store.floor_transactions(&rows, concurrency, each).await.context("the SQL floor")?;
    let payload = rows.event.payload.as_bytes();
    let one = sut.bus.floor_publish(payload, 1, each).await.context("the JetStream floor, one at a time")?;
    let many = sut.bus.floor_publish(payload, 256, each).await.context("the JetStream floor, 256 in flight")?;
    let per_second = |n: u64, s: f64| ratio(n as f64, s);
    let sql_per_second = per_second(sql.transactions, sql.seconds);
    let (one, many) = (per_second(one.messages, one.seconds), per_second(many.messages, many.seconds));
    Ok(Floor {
        seconds_each: each.as_secs_f64(),
        event_payload_bytes: payload.len(),
        sql_transactions_per_second: sql_per_second,
        sql_transaction_ms: Latency::of(sql.latencies_ms),
        commands_ratio_to_sql: ratio(ours.commands_per_second, sql_per_second),
        jetstream_one_at_a_time_per_second: one,
        jetstream_256_in_flight_per_second: many,
        events_ratio_to_jetstream_one: ratio(ours.events_per_second, one),
        events_ratio_to_jetstream_256: ratio(ours.events_per_second, many),
    })
}

/// A dispatched case's rows, its `assigned` event standing for the event a command appends.
fn template(sut: &InProcess) -> anyhow::Result<FloorRows> {
    let pack = sut.service.pack();
    let now = aduan_service::clock::now().utc();
    let region = RegionCode::parse("35.78").map_err(|e| anyhow!(e))?;
    let plan = SeedPlan { complaints: 1, regions: vec![region], dispatched: true, at: now };
    let rows = seed_batch(&pack, &plan, 0, 1)?;
    let case = rows.cases.into_iter().next().ok_or_else(|| anyhow!("the seed made no case"))?;
    let event = rows.events.into_iter().last().ok_or_else(|| anyhow!("the seed made no event"))?;
    let subject = event_subject(&sut.prefix, event.agency.as_deref(), &event.event_type);
    let command = CommandRecord {
        scope: String::new(),
        key: String::new(),
        request_hash: sha256_hex(event.payload.as_bytes()),
        status: 200,
        complaint_id: None,
        reporter_token_sealed: None,
        created_at: now,
    };
    Ok(FloorRows { case, event, subject, timers: rows.timers, command })
}
