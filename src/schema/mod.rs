//! Knowing the schema: the [`Schema`] model read from a database's
//! catalogs, its deterministic text, the difference between two models, and
//! the commands built on them: `schema`, `drift`, `roundtrip` and
//! `check --schema`. Replays happen on a [`ScratchDatabase`], never on the
//! live one, which is only read.

mod diff;
mod drift;
mod model;
mod normalize;
mod read;
mod roundtrip;
mod scratch;
mod text;

pub use diff::{diff, ChangeKind, SchemaChange};
pub use drift::DriftReport;
pub use model::{Check, Column, Definition, ForeignKey, Index, Key, Schema, Table};
pub use roundtrip::{RoundtripOutcome, RoundtripReport, RoundtripStep};
pub use scratch::ScratchDatabase;
