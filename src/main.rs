//! The `migrate` binary: this project's `migrations.rs`, checked at compile
//! time and handed to the library's command-line interface.

mod migrations {
    include!("../migrations.rs");
}

// A duplicate, out-of-order or non-positive version, an empty description or
// empty `sql` in migrations.rs stops the build here, naming the version.
const _: () = versioned_migrations::validate(migrations::MIGRATIONS);

fn main() -> std::process::ExitCode {
    versioned_migrations::cli::main(migrations::MIGRATIONS)
}
