//! PostgreSQL `COPY … FROM STDIN` in text format, the bulk path of [`super::Store::bulk_insert`] on
//! PostgreSQL: several times the throughput of multi-row `INSERT`s, no bind-parameter limit, and one
//! round trip per table instead of one per chunk (sqlx leaves Nagle's algorithm on, so every large
//! `Bind` message can wait out a 40 ms delayed ACK over TCP).

use sqlx::postgres::PgConnection;

use super::columns::{Table, CASES, EVENTS, HOLDERS, TIMERS};
use super::model::{CaseRow, EventRow, TimerRow};
use super::rows::{ms, opt_ms};
use super::StoreError;

/// Bytes buffered before they go to the server as one `CopyData` message.
const SEND_AT: usize = 1 << 20;

/// One table's rows in `COPY` text format: columns separated by tabs, rows ended by newlines, `\N`
/// for NULL, and backslash, tab, newline and carriage return escaped.
#[derive(Default)]
struct CopyText {
    buf: Vec<u8>,
    in_row: bool,
}

impl CopyText {
    fn sep(&mut self) {
        if self.in_row {
            self.buf.push(b'\t');
        }
        self.in_row = true;
    }

    fn text(&mut self, s: &str) -> &mut Self {
        self.sep();
        for &b in s.as_bytes() {
            match b {
                b'\\' => self.buf.extend_from_slice(b"\\\\"),
                b'\t' => self.buf.extend_from_slice(b"\\t"),
                b'\n' => self.buf.extend_from_slice(b"\\n"),
                b'\r' => self.buf.extend_from_slice(b"\\r"),
                _ => self.buf.push(b),
            }
        }
        self
    }

    fn opt_text(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.text(s),
            None => self.null(),
        }
    }

    fn int(&mut self, v: i64) -> &mut Self {
        self.sep();
        self.buf.extend_from_slice(v.to_string().as_bytes());
        self
    }

    fn opt_int(&mut self, v: Option<i64>) -> &mut Self {
        match v {
            Some(v) => self.int(v),
            None => self.null(),
        }
    }

    /// A finite float as Rust writes it (the shortest text that reads back as the same `f64`, which
    /// PostgreSQL's `DOUBLE PRECISION` input reads exactly).
    fn opt_float(&mut self, v: Option<f64>) -> &mut Self {
        match v {
            Some(v) if v.is_finite() => {
                self.sep();
                self.buf.extend_from_slice(v.to_string().as_bytes());
                self
            }
            _ => self.null(),
        }
    }

    fn null(&mut self) -> &mut Self {
        self.sep();
        self.buf.extend_from_slice(b"\\N");
        self
    }

    fn end_row(&mut self) {
        self.buf.push(b'\n');
        self.in_row = false;
    }
}

/// Streams `rows` into `table` with one `COPY`, each row written by `write` in `table.cols` order.
async fn copy_rows<T>(
    c: &mut PgConnection,
    table: &Table,
    rows: &[T],
    write: impl Fn(&mut CopyText, &T),
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut copy = c.copy_in_raw(&table.copy_in()).await?;
    let mut out = CopyText { buf: Vec::with_capacity(SEND_AT + (64 << 10)), in_row: false };
    for r in rows {
        write(&mut out, r);
        out.end_row();
        if out.buf.len() >= SEND_AT {
            if let Err(e) = copy.send(out.buf.as_slice()).await {
                let _ = copy.abort("send failed").await;
                return Err(e.into());
            }
            out.buf.clear();
        }
    }
    if !out.buf.is_empty() {
        if let Err(e) = copy.send(out.buf.as_slice()).await {
            let _ = copy.abort("send failed").await;
            return Err(e.into());
        }
    }
    copy.finish().await?;
    Ok(())
}

/// Copies cases, events, timers and holders, in that order (timers and holders refer to cases).
pub(super) async fn copy_all(
    c: &mut PgConnection,
    cases: &[CaseRow],
    events: &[EventRow],
    timers: &[TimerRow],
    holders: &[(String, String)],
) -> Result<(), StoreError> {
    copy_rows(c, &CASES, cases, |o, r| {
        o.text(&r.id)
            .text(&r.tracking_id)
            .text(&r.kind)
            .text(&r.channel)
            .opt_text(r.category.as_deref())
            .opt_text(r.region.as_deref())
            .text(&r.privacy)
            .text(&r.status)
            .opt_text(r.agency.as_deref())
            .int(r.escalation_level.into())
            .text(&r.flags)
            .text(&r.title)
            .text(&r.body)
            .opt_text(r.reporter.as_deref())
            .text(&r.state)
            .int(ms(r.created_at))
            .int(ms(r.updated_at))
            .text(&r.pack)
            .int(r.head_seq)
            .text(&r.head_hash)
            .opt_int(opt_ms(r.first_assigned_at))
            .opt_int(opt_ms(r.first_followup_at))
            .opt_text(r.first_followup_agency.as_deref())
            .opt_float(r.location_lat)
            .opt_float(r.location_long)
            .opt_text(r.location_address.as_deref())
            .opt_text(r.media_url.as_deref())
            .opt_text(r.source_system.as_deref())
            .opt_text(r.source_ref.as_deref())
            .opt_text(r.source_url.as_deref());
    })
    .await?;
    copy_rows(c, &EVENTS, events, |o, e| {
        o.text(&e.id)
            .text(&e.complaint_id)
            .int(e.seq)
            .text(&e.event_type)
            .int(ms(e.at))
            .text(&e.actor)
            .opt_text(e.agency.as_deref())
            .int(e.escalation_level.into())
            .text(&e.pack)
            .text(&e.payload)
            .text(&e.prev_hash)
            .text(&e.hash);
    })
    .await?;
    copy_rows(c, &TIMERS, timers, |o, t| {
        o.text(&t.complaint_id)
            .text(&t.clock)
            .int(t.generation)
            .text(&t.budget_kind)
            .int(t.budget)
            .int(t.warn_permille.into())
            .text(&t.calendar_ref)
            .int(ms(t.started_at))
            .text(&t.suspensions)
            .text(&t.status)
            .opt_int(opt_ms(t.due_at))
            .opt_int(opt_ms(t.warn_at))
            .opt_int(opt_ms(t.next_action_at))
            .text(&t.sla_source);
    })
    .await?;
    copy_rows(c, &HOLDERS, holders, |o, (id, agency)| {
        o.text(id).text(agency).text("f");
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format_escapes() {
        let mut o = CopyText::default();
        o.text("a\tb\\c\nd\re ½")
            .opt_text(None)
            .int(-5)
            .opt_int(Some(7))
            .opt_int(None)
            .opt_float(Some(-7.2575))
            .opt_float(None);
        o.end_row();
        o.text("x");
        o.end_row();
        assert_eq!(String::from_utf8(o.buf).unwrap(), "a\\tb\\\\c\\nd\\re ½\t\\N\t-5\t7\t\\N\t-7.2575\t\\N\nx\n");
    }
}
