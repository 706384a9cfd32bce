//! The `platform` binary: every subcommand lives in `api::cli`.

fn main() -> std::process::ExitCode {
    api::cli::main()
}
