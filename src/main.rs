//! The `platform` binary: every subcommand lives in `api::cli`.

/// mimalloc instead of glibc's allocator: under Q2 of the benchmark, glibc's `malloc` and
/// `free` took a third of the server's CPU (BENCHMARKS.md, the perf profile).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    api::cli::main()
}
