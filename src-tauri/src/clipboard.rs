//! The clipboard a copied secret goes to: written from Rust (the value never
//! passes through the web view), marked so that clipboard managers leave it
//! out of their history, and cleared again after a while.
//!
//! We use `arboard` directly rather than Tauri's clipboard plugin because the
//! plugin cannot mark an entry as concealed. The marks are each platform's
//! convention: `x-kde-passwordManagerHint` on Linux (KDE Klipper, GNOME's
//! and most other managers honour it), `ExcludeClipboardContentFromMonitorProcessing`
//! and no cloud sync on Windows, `org.nspasteboard.ConcealedType` on macOS.

use std::sync::Mutex;

use zeroize::Zeroizing;

/// One clipboard for the app's lifetime: on X11 the process serves what it
/// copied for as long as its clipboard lives.
#[derive(Default)]
pub struct SecretClipboard {
    inner: Mutex<Option<arboard::Clipboard>>,
}

impl SecretClipboard {
    fn with<T>(
        &self,
        work: impl FnOnce(&mut arboard::Clipboard) -> Result<T, arboard::Error>,
    ) -> Result<T, String> {
        let mut guard = self
            .inner
            .lock()
            .map_err(|_| "the clipboard is unusable after an earlier failure".to_string())?;
        if guard.is_none() {
            *guard = Some(arboard::Clipboard::new().map_err(|error| error.to_string())?);
        }
        let clipboard = guard.as_mut().ok_or_else(|| "no clipboard".to_string())?;
        work(clipboard).map_err(|error| error.to_string())
    }

    /// Puts a secret on the clipboard, concealed from clipboard history.
    pub fn copy_secret(&self, value: &str) -> Result<(), String> {
        self.with(|clipboard| {
            let set = clipboard.set();
            #[cfg(all(unix, not(any(target_os = "macos", target_os = "android", target_os = "emscripten"))))]
            let set = arboard::SetExtLinux::exclude_from_history(set);
            #[cfg(target_os = "windows")]
            let set =
                arboard::SetExtWindows::exclude_from_cloud(arboard::SetExtWindows::exclude_from_history(set));
            #[cfg(target_os = "macos")]
            let set = arboard::SetExtApple::exclude_from_history(set);
            set.text(value.to_owned())
        })
    }

    /// Clears the clipboard if it still holds `value` (something copied since stays).
    pub fn clear_if_still(&self, value: &str) -> Result<bool, String> {
        self.with(|clipboard| {
            let still_ours = clipboard.get_text().is_ok_and(|text| Zeroizing::new(text).as_str() == value);
            if still_ours {
                clipboard.clear()?;
            }
            Ok(still_ours)
        })
    }
}
