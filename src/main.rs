//! The `hoinghi` binary: everything lives in the library (`hoinghi::cli`).

/// jemalloc, also behind `malloc` (SQLite's allocations): see `Cargo.toml`.
#[cfg(all(target_os = "linux", not(target_env = "musl")))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    hoinghi::cli::run()
}
