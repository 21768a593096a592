//! `gaqno-lb`: the command-line face of the `shared` model crate. All file IO lives here.

mod check;
mod commands;
mod flags;
mod rehearse;
mod serve;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let flags = flags::Flags::parse();
    match commands::run(flags.command) {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("gaqno-lb: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// `gaqno-lb export | head` closing the pipe early is not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
