//! Where a refresh token lives between process starts: the [`TokenStore`] trait and
//! [`FileTokenStore`], a file written atomically with owner-only permissions.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use secrecy::{ExposeSecret, SecretString};

use crate::{Error, Result};

/// Persistent storage for the refresh token of a [`RefreshTokenSource`](super::RefreshTokenSource).
///
/// With refresh-token rotation, Salesforce returns a new refresh token with every refresh and
/// invalidates the one used; presenting an invalidated token again revokes the whole grant. The
/// source therefore
///
/// - **loads** the stored token when it is built (a stored token wins over the configured one),
///   and again before every refresh and after a concurrent-refresh race, so that processes
///   sharing one store always send the newest token;
/// - **saves** every rotated token before handing out the access token it came with.
///
/// The methods are synchronous and are called inside the token request, under the source's lock:
/// keep them short (a small file, a local database row). Implement it to keep tokens in your own
/// secret store; object-safe, used as `Arc<dyn TokenStore>`.
///
/// `Debug` output of implementations must not contain the token.
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// Returns the stored refresh token, or `None` when nothing is stored yet.
    ///
    /// # Errors
    ///
    /// [`Error::TokenStore`] when the store exists but cannot be read.
    fn load(&self) -> Result<Option<SecretString>>;

    /// Replaces the stored refresh token with `token`.
    ///
    /// # Errors
    ///
    /// [`Error::TokenStore`] when the token cannot be written; the previous value must then still
    /// be readable (write atomically).
    fn save(&self, token: &SecretString) -> Result<()>;
}

/// A [`TokenStore`] in one file holding the bare token (plus a newline).
///
/// [`save`](TokenStore::save) writes a temporary file in the same directory (created with mode
/// `0600` on Unix), flushes it to disk (`fsync`), renames it over the target and syncs the
/// directory, so a crash leaves either the old or the new token, never a torn file. A missing or
/// empty file loads as `None`.
#[derive(Debug, Clone)]
pub struct FileTokenStore {
    path: PathBuf,
}

/// Distinguishes temporary files of concurrent saves within one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl FileTokenStore {
    /// Creates a store for the file at `path` (nothing is read or written yet).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Returns the file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn error(&self, action: &str, err: &std::io::Error) -> Error {
        Error::TokenStore {
            message: format!("cannot {action} {}: {err}", self.path.display()),
        }
    }

    fn temp_path(&self) -> PathBuf {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "token".to_owned());
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        self.path
            .with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
    }
}

impl TokenStore for FileTokenStore {
    fn load(&self) -> Result<Option<SecretString>> {
        match fs::read_to_string(&self.path) {
            Ok(text) => {
                let token = text.trim();
                Ok((!token.is_empty()).then(|| SecretString::from(token.to_owned())))
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.error("read", &e)),
        }
    }

    fn save(&self, token: &SecretString) -> Result<()> {
        let temp = self.temp_path();
        let written = write_private(&temp, token).and_then(|()| fs::rename(&temp, &self.path));
        if let Err(e) = written {
            // Best effort: the temporary file holds a secret.
            let _ = fs::remove_file(&temp);
            return Err(self.error("write", &e));
        }
        sync_parent(&self.path);
        Ok(())
    }
}

/// Creates `path` (owner read/write only on Unix), writes the token and flushes it to disk.
fn write_private(path: &Path, token: &SecretString) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(token.expose_secret().as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

/// Syncs the directory holding `path` so the rename survives a crash (Unix; a no-op elsewhere).
fn sync_parent(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(handle) = fs::File::open(dir) {
            let _ = handle.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "sfdc-rest-token-store-{name}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn round_trip_replaces_atomically_and_leaves_no_temp_file() {
        let dir = temp_dir("round-trip");
        let store = FileTokenStore::new(dir.join("refresh_token"));
        assert!(store.load().unwrap().is_none());
        store.save(&SecretString::from("5Aep-first")).unwrap();
        store.save(&SecretString::from("5Aep-second")).unwrap();
        assert_eq!(
            store.load().unwrap().unwrap().expose_secret(),
            "5Aep-second"
        );
        let files: Vec<_> = fs::read_dir(&dir).unwrap().collect();
        assert_eq!(files.len(), 1, "only the token file remains");
        fs::write(store.path(), "\n").unwrap();
        assert!(store.load().unwrap().is_none());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn file_is_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("mode");
        let store = FileTokenStore::new(dir.join("rt"));
        store.save(&SecretString::from("5Aep-x")).unwrap();
        let mode = fs::metadata(store.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn errors_name_the_path_not_the_token() {
        let dir = temp_dir("errors");
        let store = FileTokenStore::new(dir.join("missing-dir").join("rt"));
        let err = store
            .save(&SecretString::from("5Aep-very-secret"))
            .unwrap_err();
        let text = format!("{err} {err:?} {store:?}");
        assert!(text.contains("missing-dir"), "{text}");
        assert!(!text.contains("very-secret"), "{text}");
        assert!(matches!(err, Error::TokenStore { .. }));
        // A directory where the file should be cannot be read as a token.
        let err = FileTokenStore::new(&dir).load().unwrap_err();
        assert!(matches!(err, Error::TokenStore { .. }), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
