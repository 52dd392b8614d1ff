//! Child processes that die with the test process.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Starts `program args…` through a small shell guard that stops it (with
/// `signal`) as soon as this test process is gone, so a killed or panicking
/// test never leaves servers behind; then removes `remove_after` if given.
/// Returns the guard's child handle (send it TERM to stop the program early).
pub fn spawn_tied_to_this_process(
    program: &str,
    args: &[&str],
    envs: &[(&str, &str)],
    signal: &str,
    remove_after: Option<&std::path::Path>,
) -> Child {
    let quoted: Vec<String> = std::iter::once(program).chain(args.iter().copied()).map(shell_quote).collect();
    let cleanup = remove_after
        .map(|path| format!("rm -rf {}", shell_quote(&path.display().to_string())))
        .unwrap_or_else(|| "true".to_owned());
    let script = format!(
        "{command} & child=$!; \
         trap 'kill -{signal} $child 2>/dev/null; wait $child; {cleanup}; exit 0' TERM INT; \
         while kill -0 {parent} 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 0.2; done; \
         kill -{signal} $child 2>/dev/null; wait $child; {cleanup}",
        command = quoted.join(" "),
        parent = std::process::id(),
    );
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .spawn()
        .unwrap_or_else(|error| panic!("could not start {program}: {error}"))
}

/// Like [`spawn_tied_to_this_process`], with the program's output in `log`
/// instead of the test's (a server's chatter stays out of test reports; the
/// file is there to read when a test fails).
pub fn spawn_logged(program: &str, args: &[&str], envs: &[(&str, &str)], log: &std::path::Path) -> Child {
    let quoted: Vec<String> = std::iter::once(program).chain(args.iter().copied()).map(shell_quote).collect();
    let script = format!("exec {} >{} 2>&1", quoted.join(" "), shell_quote(&log.display().to_string()));
    spawn_tied_to_this_process("sh", &["-c", &script], envs, "TERM", None)
}

/// The program a [`spawn_tied_to_this_process`] guard started (the guard's
/// child), once it runs.
pub fn program_pid(guard: &Child) -> Option<u32> {
    let children = std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", guard.id())).ok()?;
    children.split_whitespace().next()?.parse().ok()
}

/// A memory figure of a process from `/proc/PID/status`, in KiB: `VmRSS:`
/// (resident now) or `VmHWM:` (the most it has held).
pub fn memory_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|error| panic!("cannot read the status of process {pid}: {error}"));
    status
        .lines()
        .find(|line| line.starts_with(field))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kib| kib.parse().ok())
        .unwrap_or_else(|| panic!("process {pid} reports no {field}"))
}

/// Stops a process started by [`spawn_tied_to_this_process`] (TERM to its
/// guard, which stops the program) and waits for it.
pub fn stop(guard: &mut Child) {
    let _ = Command::new("kill").arg("-TERM").arg(guard.id().to_string()).status();
    let _ = guard.wait();
}

/// Quotes `text` for a POSIX shell.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("the loopback interface can bind an ephemeral port")
}

/// `count` different TCP ports on 127.0.0.1 that were free a moment ago (all
/// held at once while choosing, so they never repeat one another).
pub fn free_ports(count: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("the loopback interface can bind an ephemeral port"))
        .collect();
    listeners.iter().map(|listener| listener.local_addr().expect("a bound address").port()).collect()
}

/// Polls `ready` every 50 ms until it returns true or `limit` passes.
pub fn wait_until(limit: Duration, what: &str, ready: impl FnMut() -> bool) {
    assert!(poll(limit, ready), "{what} was not ready within {limit:?}");
}

/// Polls `ready` every 50 ms until it returns true (then true) or `limit`
/// passes (then false), for callers that try again on their own.
pub fn poll(limit: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if ready() {
            return true;
        }
        if start.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs the shell `script` (a writer looping forever) `rounds` times, each
/// time SIGKILLing its whole process group after a while — so the kill lands
/// inside an `opsdeck` child mid-write too. For crash-safety tests.
pub fn kill_writer_repeatedly(script: &str, env: &[(&str, &str)], rounds: u64) {
    use std::os::unix::process::CommandExt;
    for round in 0..rounds {
        let mut writer = Command::new("sh");
        writer.arg("-c").arg(script).envs(env.iter().copied()).process_group(0);
        let child = writer.spawn().expect("start the writer");
        std::thread::sleep(Duration::from_millis(700 + 170 * round));
        let group = child.id().to_string();
        let status =
            Command::new("kill").args(["-KILL", "--", &format!("-{group}")]).status().expect("run kill");
        assert!(status.success(), "the writer's process group could not be killed");
        let _ = { child }.wait();
    }
}
