//! The documentation page of every diagnostic code, compiled in for `mlopsc explain`.
//! The same Markdown files live in `docs/diagnostics/`, one per code.

use crate::diagnostics::Code;

/// The Markdown page for `code`.
pub fn page(code: Code) -> &'static str {
    match code {
        Code::F001 => include_str!("../docs/diagnostics/F001.md"),
        Code::F002 => include_str!("../docs/diagnostics/F002.md"),
        Code::Y001 => include_str!("../docs/diagnostics/Y001.md"),
        Code::Y002 => include_str!("../docs/diagnostics/Y002.md"),
        Code::Y003 => include_str!("../docs/diagnostics/Y003.md"),
        Code::Y004 => include_str!("../docs/diagnostics/Y004.md"),
        Code::Y005 => include_str!("../docs/diagnostics/Y005.md"),
        Code::Y006 => include_str!("../docs/diagnostics/Y006.md"),
        Code::Y007 => include_str!("../docs/diagnostics/Y007.md"),
        Code::S001 => include_str!("../docs/diagnostics/S001.md"),
        Code::S002 => include_str!("../docs/diagnostics/S002.md"),
        Code::S003 => include_str!("../docs/diagnostics/S003.md"),
        Code::S004 => include_str!("../docs/diagnostics/S004.md"),
        Code::S005 => include_str!("../docs/diagnostics/S005.md"),
        Code::N001 => include_str!("../docs/diagnostics/N001.md"),
        Code::N002 => include_str!("../docs/diagnostics/N002.md"),
        Code::N003 => include_str!("../docs/diagnostics/N003.md"),
        Code::I001 => include_str!("../docs/diagnostics/I001.md"),
        Code::I002 => include_str!("../docs/diagnostics/I002.md"),
        Code::I003 => include_str!("../docs/diagnostics/I003.md"),
        Code::I004 => include_str!("../docs/diagnostics/I004.md"),
        Code::I005 => include_str!("../docs/diagnostics/I005.md"),
        Code::I006 => include_str!("../docs/diagnostics/I006.md"),
        Code::I007 => include_str!("../docs/diagnostics/I007.md"),
        Code::V001 => include_str!("../docs/diagnostics/V001.md"),
        Code::V002 => include_str!("../docs/diagnostics/V002.md"),
        Code::V003 => include_str!("../docs/diagnostics/V003.md"),
        Code::V004 => include_str!("../docs/diagnostics/V004.md"),
        Code::V005 => include_str!("../docs/diagnostics/V005.md"),
        Code::V006 => include_str!("../docs/diagnostics/V006.md"),
        Code::V007 => include_str!("../docs/diagnostics/V007.md"),
        Code::X001 => include_str!("../docs/diagnostics/X001.md"),
        Code::X002 => include_str!("../docs/diagnostics/X002.md"),
        Code::X003 => include_str!("../docs/diagnostics/X003.md"),
        Code::X004 => include_str!("../docs/diagnostics/X004.md"),
        Code::R001 => include_str!("../docs/diagnostics/R001.md"),
        Code::R002 => include_str!("../docs/diagnostics/R002.md"),
        Code::R003 => include_str!("../docs/diagnostics/R003.md"),
        Code::R004 => include_str!("../docs/diagnostics/R004.md"),
        Code::A001 => include_str!("../docs/diagnostics/A001.md"),
    }
}
