//! The dirty-row protocol: the row is committed as unfinished before the
//! statements run one by one, and settled after, so a failure or crash in
//! between stays visible (MySQL, `transaction: false`).

use super::{BodyError, Chain, Handoff, Protocol, Runner, Work};
use crate::connection::MigrationConnection;
use crate::error::{FailureStage, MigrationFailure};
use crate::observer::Observer;
use crate::report::{Direction, StepReport};
use crate::store::WriteError;

impl Runner<'_> {
    pub(super) fn dirty_row(
        &self,
        conn: &mut dyn MigrationConnection,
        observer: &mut dyn Observer,
        work: &Work,
        chain: Chain,
    ) -> Result<(StepReport, Handoff), Box<MigrationFailure>> {
        let given = chain.from_previous;
        let marked = match (work.direction, given.row_written) {
            (Direction::Up, true) => Ok(()),
            (Direction::Up, false) => self.store.insert(conn, &self.row(work, false, 0.0)),
            (Direction::Down, _) => self.store.mark_dirty(conn, work.version),
        };
        if let Err(e) = marked {
            return Err(self.bookkeeping_failure(work, &e, false));
        }
        // MySQL, a migration that asked for a transaction and has no code
        // step: its statements run with autocommit off, so the data changes
        // after its last DDL commit together with the row's settling, one
        // commit instead of one each (DDL still commits at once, and the
        // dirty row is already committed). The row is settled before
        // autocommit comes back on (so under the migration's lock timeouts,
        // not the tool's); turning it on commits what ran, whether the
        // statements succeeded or not.
        let settings = self.session.migration_session();
        let group = self.commit_group(conn, work).filter(|_| settings.is_some());
        let settings = settings.map(|(during, after)| match group {
            Some((off, on)) => (format!("{during}; {off}"), format!("{on}; {after}")),
            None => (during, after),
        });
        // The step before left the migration's settings on and autocommit
        // off for this one (see `Handoff`).
        let opened = given.group_open && group.is_some();
        let outcome = match &settings {
            Some((during, _)) if !opened => conn
                .batch_execute(during)
                .map_err(|e| BodyError::Statement(0, e))
                .and_then(|()| self.body(conn, observer, work)),
            _ => self.body(conn, observer, work),
        };
        // Settled inside the group, before autocommit commits it.
        let settled = match (&outcome, group) {
            (Ok(elapsed), Some(_)) => Some(self.settle(conn, work, *elapsed)),
            _ => None,
        };
        let next = chain.next.filter(|_| matches!(settled, Some(Ok(()))));
        let row_written = next.is_some_and(|next| self.write_next_row(conn, next));
        let group_open = row_written && next.is_some_and(|n| self.commit_group(conn, n).is_some());
        let mut outcome = outcome;
        if let Some((_, after)) = &settings {
            // Going on in the same settings: a plain commit ends the group.
            let closing = match group_open {
                true => conn.dialect().commit(),
                false => after.as_str(),
            };
            if let Err(e) = conn.batch_execute(closing) {
                outcome = outcome.and(Err(BodyError::Statement(0, e)));
            }
        }
        if outcome.is_err() && row_written {
            // The run stops here: the next row, if committed, is taken
            // back, and the tool's settings come back.
            if let (true, Some((_, after))) = (group_open, &settings) {
                let _ = conn.batch_execute(after);
            }
            if let Some(next) = next {
                let _ = self.store.delete(conn, next.version);
            }
        }
        let elapsed = match outcome {
            Ok(elapsed) => elapsed,
            Err(BodyError::Statement(index, e)) => {
                return Err(self.statement_failed_dirty(conn, work, index, &e))
            }
            // Outside a transaction its changes stay: the row stays dirty.
            Err(BodyError::Code(message)) => return Err(self.code_failure(work, &message, true)),
        };
        let settled = settled.unwrap_or_else(|| self.settle(conn, work, elapsed));
        let handoff = Handoff {
            row_written,
            group_open,
        };
        match settled {
            Ok(()) => Ok((self.report(work, elapsed), handoff)),
            Err(e) => Err(self.bookkeeping_failure(work, &e, true)),
        }
    }

    /// The statements that open and close `work`'s commit group, if it
    /// runs in one (see `Dialect::commit_group`).
    fn commit_group(
        &self,
        conn: &mut dyn MigrationConnection,
        work: &Work,
    ) -> Option<(&'static str, &'static str)> {
        conn.dialect()
            .commit_group()
            .filter(|_| work.transaction && work.code.is_none())
    }

    /// Inside a commit group, after the settling: the next migration's
    /// dirty row, so that one commit settles this migration and marks the
    /// next one started (one commit per migration fewer; the next one's
    /// statements follow at once, and a crash in between leaves it dirty
    /// with nothing run, as a crash right after its own dirty row would).
    /// When the insert fails, the next migration writes its row itself and
    /// meets the error there.
    fn write_next_row(&self, conn: &mut dyn MigrationConnection, next: &Work) -> bool {
        let chained = next.direction == Direction::Up
            && Protocol::choose(conn.dialect(), next.transaction, false) == Protocol::DirtyRow;
        chained && self.store.insert(conn, &self.row(next, false, 0.0)).is_ok()
    }

    /// Marks a dirty-row migration finished (up) or removes its row (down).
    fn settle(
        &self,
        conn: &mut dyn MigrationConnection,
        work: &Work,
        elapsed: f64,
    ) -> Result<(), WriteError> {
        match work.direction {
            Direction::Up => self.store.mark_done(conn, &self.row(work, true, elapsed)),
            Direction::Down => self.store.delete(conn, work.version),
        }
    }

    /// A statement of a dirty-row migration failed. When it was the first
    /// and the database rejected it outright (nothing ran), the dirty row is
    /// taken back: there is nothing for a person to check.
    fn statement_failed_dirty(
        &self,
        conn: &mut dyn MigrationConnection,
        work: &Work,
        index: usize,
        error: &diesel::result::Error,
    ) -> Box<MigrationFailure> {
        let message = error.to_string();
        let dialect = conn.dialect();
        let lock_timeout = dialect.is_lock_timeout(&message);
        // A first statement cancelled on a lock wait kept nothing, once any
        // invalid index a concurrent build left is dropped.
        let dropped_index = match (index, lock_timeout) {
            (1, true) => self.drop_invalid_index(conn, work.statements[0]),
            _ => None,
        };
        let clean = index == 1 && (lock_timeout || dialect.rejected_before_running(&message));
        let taken_back = clean
            && match work.direction {
                Direction::Up => self.store.delete(conn, work.version).is_ok(),
                Direction::Down => self.store.mark_applied(conn, work.version).is_ok(),
            };
        let stage = match index {
            0 => FailureStage::Bookkeeping,
            _ => FailureStage::Statement,
        };
        let mut failure = self.failure(
            work,
            stage,
            (index > 0).then_some(index),
            &message,
            !taken_back,
        );
        failure.nothing_ran = taken_back;
        failure.dropped_index = dropped_index;
        self.note_lock_wait(conn, work, &mut failure);
        failure
    }

    /// PostgreSQL: the INVALID index a cancelled `CREATE INDEX CONCURRENTLY`
    /// left behind, dropped; its name.
    fn drop_invalid_index(
        &self,
        conn: &mut dyn MigrationConnection,
        statement: &str,
    ) -> Option<String> {
        let index = crate::guardrails::concurrent_index(statement)?;
        let dialect = conn.dialect();
        let check = crate::dialect::Sql::new(dialect.invalid_index_query(&index)?, Vec::new());
        if conn.scalar_i64(&check).ok()? != Some(1) {
            return None;
        }
        conn.batch_execute(&dialect.drop_index_concurrently(&index)?)
            .ok()?;
        Some(index)
    }
}
