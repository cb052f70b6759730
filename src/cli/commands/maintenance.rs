//! `repair` and `baseline`.

use std::process::ExitCode;

use anstream::println;

use super::super::failure::Failure;
use super::super::output::{document, print_json, Out, Target, DIM, GREEN, YELLOW};
use super::super::progress::Progress;
use crate::connection::AnyConnection;
use crate::migrator::Migrator;

pub(super) fn repair(
    migrator: &Migrator,
    accept_descriptions: bool,
    target: &Target,
    conn: &mut AnyConnection,
    out: Out,
) -> Result<ExitCode, Failure> {
    let report = migrator
        .repair(conn, accept_descriptions, &mut Progress::new(out))
        .map_err(Failure::on(target))?;
    if out.json {
        print_json(&document(&report, Some(target)));
        return Ok(ExitCode::SUCCESS);
    }
    if !out.human() {
        return Ok(ExitCode::SUCCESS);
    }
    if report.removed_dirty.is_empty() && report.accepted.is_empty() {
        println!("Nothing to repair in {}", target.describe());
    } else {
        println!("Repaired {}", target.describe());
    }
    for version in &report.removed_dirty {
        println!("  removed the dirty row of migration {version}: it runs again on the next apply");
    }
    for version in &report.accepted {
        println!("  accepted the code's checksum and description for migration {version}");
    }
    for version in &report.unknown {
        println!("  {YELLOW}left alone{YELLOW:#}: migration {version} is unknown to this build (database ahead)");
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn baseline(
    migrator: &Migrator,
    version: i64,
    target: &Target,
    conn: &mut AnyConnection,
    out: Out,
) -> Result<ExitCode, Failure> {
    let report = migrator
        .baseline(conn, version, &mut Progress::new(out))
        .map_err(Failure::on(target))?;
    if out.json {
        print_json(&document(&report, Some(target)));
    } else if out.human() {
        println!(
            "{GREEN}Baselined{GREEN:#} {} at version {}: recorded {} migration(s) as applied without running them {DIM}({}){DIM:#}",
            target.describe(),
            report.version,
            report.recorded.len(),
            format_versions(&report.recorded)
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn format_versions(versions: &[i64]) -> String {
    match (versions.first(), versions.last()) {
        (Some(first), Some(last)) if first != last => format!("versions {first}..={last}"),
        (Some(only), _) => format!("version {only}"),
        _ => String::new(),
    }
}
