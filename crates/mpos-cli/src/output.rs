//! Small helpers for readable output.

use mpos_ledger::Hlc;

/// `println!` that does not panic when stdout is closed (`mpos ... | head`): a closed pipe
/// ends the process quietly with status 141, as a shell's SIGPIPE would; any other write
/// failure (a full disk behind a redirect) is reported and exits 2.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            $crate::output::stdout_failed(&e);
        }
    }};
}
pub(crate) use say;

pub fn stdout_failed(e: &std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(141);
    }
    eprintln!("error: cannot write the output: {e}");
    std::process::exit(2);
}

/// An HLC as an RFC 3339 UTC time (the logical counter is dropped).
pub fn time(hlc: Hlc) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(hlc.millis());
    humantime::format_rfc3339_millis(t).to_string()
}

/// Prints a JSON value on one line.
pub fn json(value: &serde_json::Value) {
    say!("{value}");
}
