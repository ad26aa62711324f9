//! The `mpos` binary: parses the command line and hands over to `mpos_cli::run`.

fn main() -> std::process::ExitCode {
    mpos_cli::run()
}
