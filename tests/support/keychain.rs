//! A real OS keychain for tests: GNOME Keyring's Secret Service on a private
//! D-Bus session bus, unlocked with a throwaway password.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::process::poll;

/// A private session bus with an unlocked GNOME Keyring on it. Processes get
/// it through [`SecretService::env`]. Stopped when dropped.
pub struct SecretService {
    bus: Child,
    address: String,
    /// The keyring files live here, not in the user's home.
    _home: tempfile::TempDir,
}

impl SecretService {
    /// Starts `dbus-daemon` and `gnome-keyring-daemon`; panics with the reason
    /// when they are missing (run `make setup`). A keyring that does not take
    /// items in time (seen on a loaded machine: the default collection still
    /// unlocking) is stopped and started afresh, up to three times.
    pub fn start() -> SecretService {
        let mut reasons = Vec::new();
        for _ in 0..3 {
            match SecretService::launch() {
                Ok(service) => return service,
                Err(reason) => reasons.push(reason),
            }
        }
        panic!("the Secret Service did not come up in three tries: {}", reasons.join("; "))
    }

    fn launch() -> Result<SecretService, String> {
        let mut bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon is not installed: run `make setup`");
        let mut address = String::new();
        BufReader::new(bus.stdout.take().expect("stdout")).read_line(&mut address).expect("bus address");
        let address = address.trim().to_owned();
        assert!(address.starts_with("unix:"), "dbus-daemon gave no address: {address:?}");

        let home = tempfile::Builder::new().prefix("opsdeck-keyring-").tempdir().expect("temp dir");
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--unlock", "--components=secrets", "--replace"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("HOME", home.path())
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_RUNTIME_DIR", home.path())
            .env_remove("GNOME_KEYRING_CONTROL")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon is not installed: run `make setup`");
        keyring.stdin.take().expect("stdin").write_all(b"opsdeck-test-keyring").expect("unlock password");
        // It forks into the background and stays on the bus until the bus ends.
        let _ = keyring.wait();

        // Dropping `service` on an early return stops the bus and the keyring.
        let service = SecretService { bus, address, _home: home };
        if !poll(Duration::from_secs(10), || service.lookup_works()) {
            return Err("it never answered a search".into());
        }
        // Answering a search is not yet taking items: right after start the
        // default collection may still be unlocking, and a store then fails
        // with "result not returned from SS API". Wait for a whole round trip.
        let mut last_failure = String::new();
        if !poll(Duration::from_secs(15), || match service.store_works() {
            Ok(()) => true,
            Err(failure) => {
                last_failure = failure;
                false
            }
        }) {
            return Err(format!("it answered searches but did not store items: {last_failure}"));
        }
        Ok(service)
    }

    /// Stores, reads back and clears a probe item; says which step failed.
    fn store_works(&self) -> Result<(), String> {
        let stored = Command::new("secret-tool")
            .args(["store", "--label=opsdeck probe", "opsdeck-probe", "1"])
            .envs(self.env())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                if let Some(mut stdin) = child.stdin.take() {
                    stdin.write_all(b"probe")?;
                }
                child.wait_with_output()
            })
            .map_err(|error| format!("secret-tool store did not run: {error}"))?;
        if !stored.status.success() {
            return Err(format!("secret-tool store: {}", String::from_utf8_lossy(&stored.stderr).trim()));
        }
        let read_back = Command::new("secret-tool")
            .args(["lookup", "opsdeck-probe", "1"])
            .envs(self.env())
            .output()
            .map_err(|error| format!("secret-tool lookup did not run: {error}"))?;
        if !(read_back.status.success() && read_back.stdout == b"probe") {
            return Err(format!("secret-tool lookup: {}", String::from_utf8_lossy(&read_back.stderr).trim()));
        }
        let cleared = Command::new("secret-tool")
            .args(["clear", "opsdeck-probe", "1"])
            .envs(self.env())
            .output()
            .map_err(|error| format!("secret-tool clear did not run: {error}"))?;
        if !cleared.status.success() {
            return Err(format!("secret-tool clear: {}", String::from_utf8_lossy(&cleared.stderr).trim()));
        }
        Ok(())
    }

    fn lookup_works(&self) -> bool {
        Command::new("secret-tool")
            .args(["search", "--all", "opsdeck-probe", "1"])
            .envs(self.env())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.code().is_some())
            && self.owner_present()
    }

    fn owner_present(&self) -> bool {
        Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ])
            .envs(self.env())
            .output()
            .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).contains("boolean true"))
    }

    /// Environment variables that point a process at this keychain.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![("DBUS_SESSION_BUS_ADDRESS", self.address.clone())]
    }

    /// How many OpsDeck items the keychain holds.
    pub fn opsdeck_items(&self) -> usize {
        let output = Command::new("secret-tool")
            .args(["search", "--all", "service", "dev.opsdeck"])
            .envs(self.env())
            .output()
            .expect("run secret-tool");
        String::from_utf8_lossy(&output.stdout).lines().filter(|line| line.starts_with('[')).count()
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        // gnome-keyring-daemon leaves when its bus goes away.
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}
