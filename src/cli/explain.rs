//! `mlopsc explain`: a diagnostic code's page, or the list of codes.

use super::{Io, exit};
use crate::diagnostics::Code;

pub(super) fn explain_command(code: Option<&str>, list: bool, io: &mut Io) -> u8 {
    if list {
        for code in Code::ALL {
            let title = code
                .documentation()
                .lines()
                .next()
                .unwrap_or_default()
                .trim_start_matches('#')
                .trim();
            let _ = writeln!(io.stdout, "{title}");
        }
        return exit::OK;
    }
    let text = code.unwrap_or_default();
    match Code::parse(text) {
        Some(code) => {
            let _ = io.stdout.write_all(code.documentation().as_bytes());
            exit::OK
        }
        None => {
            let _ = writeln!(
                io.stderr,
                "error: `{text}` is not a diagnostic code\n\nhelp: `mlopsc explain --list` lists every code"
            );
            exit::USAGE_OR_IO
        }
    }
}
