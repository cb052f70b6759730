//! The `migrate` binary: this project's `migrations.rs`, checked at compile
//! time and handed to the library's command-line interface.

include!("../migrations.rs");

// A duplicate, out-of-order or non-positive version, an empty description or
// empty `sql` in migrations.rs stops the build here, naming the version.
const _: () = versioned_migrations::validate(MIGRATIONS);

fn main() -> std::process::ExitCode {
    versioned_migrations::cli::main_with(versioned_migrations::app!(), MIGRATIONS)
}
