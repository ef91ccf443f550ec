//! The `hoinghi` binary: everything lives in the library (`hoinghi::cli`).
fn main() -> std::process::ExitCode {
    hoinghi::cli::run()
}
