//! `offload NAME ARGS...` for a NAME this binary does not know: run the tool `offload-NAME` with
//! ARGS, looked up beside this binary first (where cargo and an install put the workspace's
//! binaries side by side), then on PATH. The heavy tools (offload-bench, offload-hw) stay out of
//! the client this way while `offload bench ...` keeps working.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// Where each tool of this workspace comes from, for the message when it is missing.
const KNOWN: &[(&str, &str)] = &[
    (
        "bench",
        "cargo build --release -p offload-benches --bin offload-bench",
    ),
    (
        "hw",
        "cargo build --release -p offload-hdl --bin offload-hw",
    ),
];

pub fn run(args: &[OsString]) -> ExitCode {
    let Some((name, rest)) = args.split_first() else {
        return fail("no command given; `offload --help` lists them");
    };
    let Some(name) = name
        .to_str()
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    else {
        return fail(&format!(
            "{name:?} is not a command; `offload --help` lists them"
        ));
    };
    let exe = format!("offload-{name}");
    let Some(path) = find(&exe) else {
        let hint = KNOWN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, build)| format!("; it comes with `{build}`"))
            .unwrap_or_else(|| "; `offload --help` lists the commands".into());
        return fail(&format!(
            "offload {name}: no {exe} beside this binary or on PATH{hint}"
        ));
    };
    exec(&path, rest)
}

fn find(exe: &str) -> Option<PathBuf> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join(exe)));
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(exe));
    beside.into_iter().chain(on_path).find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

fn exec(path: &Path, args: &[OsString]) -> ExitCode {
    use std::os::unix::process::CommandExt;
    // exec replaces this process, so the tool's exit status and signals are the caller's.
    let e = Command::new(path).args(args).exec();
    fail(&format!("running {}: {e}", path.display()))
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("offload: {msg}");
    ExitCode::FAILURE
}
