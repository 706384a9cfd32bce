//! The `platform` binary: every subcommand lives in `api::cli`.

/// mimalloc instead of glibc's allocator: under Q2 of the benchmark, glibc's `malloc` and
/// `free` took a third of the server's CPU (BENCHMARKS.md, the perf profile).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    api::cli::main()
}

/// mimalloc asks the kernel for transparent huge pages on its arenas by default, so that a
/// few small objects keep whole 2 MiB pages resident: over the five benchmark queries the
/// server's peak RSS was 87.2–95.7 MiB with them and 67.7–68.9 MiB without, at the same
/// throughput (`bench/memory.sh`, BENCHMARKS.md, "Memory"). Returning freed pages at once
/// (`purge_delay` 0) saved 4–7 MiB more but cost Q4 about a tenth of its throughput, so
/// mimalloc's delay stays.
///
/// The option is set from `.preinit_array`, which runs before any constructor and so before
/// mimalloc initialises itself and reserves its first arena (which happens before `main`);
/// from `main` it would come too late for that arena. `MIMALLOC_ALLOW_THP` in the environment
/// still wins.
#[cfg(target_os = "linux")]
mod allocator_options {
    use libmimalloc_sys::{mi_option_set, mi_version};
    use std::ffi::{c_char, c_int};

    /// The option number of `mi_option_allow_thp` in mimalloc 3.3's `include/mimalloc.h`;
    /// another version may number it otherwise, so it is set only when 3.3 is the one linked.
    const ALLOW_THP: libmimalloc_sys::mi_option_t = 43;

    /// Whether `envp` (the process's initial environment) names `name` (`NAME=`).
    ///
    /// # Safety
    /// `envp` is null or a null-terminated array of C strings, as the loader passes it.
    unsafe fn in_environment(envp: *const *const c_char, name: &[u8]) -> bool {
        if envp.is_null() {
            return false;
        }
        let mut at = envp;
        // SAFETY: walking the loader's array up to its null terminator.
        unsafe {
            while !(*at).is_null() {
                let var = std::ffi::CStr::from_ptr(*at).to_bytes();
                if var.len() > name.len() && var.starts_with(name) && var[name.len()] == b'=' {
                    return true;
                }
                at = at.add(1);
            }
        }
        false
    }

    /// Called by the loader with the process's arguments and environment (glibc passes them to
    /// `.preinit_array` functions).
    extern "C" fn set(_argc: c_int, _argv: *const *const c_char, envp: *const *const c_char) {
        // SAFETY: `envp` comes from the loader; the option calls only read or write
        // mimalloc's static option table, which exists before any initialisation, and
        // neither allocates.
        unsafe {
            if mi_version() / 100 == 303 && !in_environment(envp, b"MIMALLOC_ALLOW_THP") {
                mi_option_set(ALLOW_THP, 0);
            }
        }
    }

    #[used]
    #[unsafe(link_section = ".preinit_array")]
    static SET: extern "C" fn(c_int, *const *const c_char, *const *const c_char) = set;
}
