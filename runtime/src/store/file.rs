//! The memory store's keys: a JSON file (`--api-keys keys.json`) that `tollgate keys` writes
//! and the gateway re-reads when it changes. Values are never in it, only their digests.

use std::path::{Path, PathBuf};

use super::{KeyStore, StoreError};
use crate::keys::ApiKey;
use crate::usage::{UsageQuery, UsageRow};

/// The keys file's contents.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct FileContents {
    /// Always `tollgate-api-keys/1`.
    format: String,
    keys: Vec<ApiKey>,
}

const FORMAT: &str = "tollgate-api-keys/1";

/// What reading the file found.
struct Read {
    bytes: Vec<u8>,
    keys: Vec<ApiKey>,
}

/// Keys in a JSON file.
#[derive(Debug)]
pub struct KeysFile {
    path: PathBuf,
}

impl KeysFile {
    /// The keys file at `path` (created by the first write).
    pub fn new(path: &Path) -> KeysFile {
        KeysFile {
            path: path.to_path_buf(),
        }
    }

    /// The file's bytes and keys; `None` when there is no file yet.
    fn read(&self) -> Result<Option<Read>, StoreError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(StoreError::Backend(format!(
                    "cannot read {}: {e}",
                    self.path.display()
                )));
            }
        };
        let contents: FileContents = serde_json::from_slice(&bytes).map_err(|e| {
            StoreError::Corrupt(format!(
                "{} is not a tollgate keys file: {e}",
                self.path.display()
            ))
        })?;
        if contents.format != FORMAT {
            return Err(StoreError::Corrupt(format!(
                "{} has format `{}`; this tollgate reads `{FORMAT}`",
                self.path.display(),
                contents.format
            )));
        }
        Ok(Some(Read {
            bytes,
            keys: contents.keys,
        }))
    }

    fn write(&self, keys: Vec<ApiKey>) -> Result<(), StoreError> {
        let contents = FileContents {
            format: FORMAT.to_owned(),
            keys,
        };
        let mut text =
            serde_json::to_vec_pretty(&contents).map_err(|e| StoreError::Backend(e.to_string()))?;
        text.push(b'\n');
        // Write beside it and rename: a gateway re-reading the file never sees half of it.
        let tmp = self.path.with_extension("json.tmp");
        let fail = |e: std::io::Error| {
            StoreError::Backend(format!("cannot write {}: {e}", self.path.display()))
        };
        std::fs::write(&tmp, &text).map_err(fail)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600)).map_err(fail)?;
        }
        std::fs::rename(&tmp, &self.path).map_err(fail)
    }
}

impl KeyStore for KeysFile {
    fn version(&mut self) -> Result<String, StoreError> {
        Ok(match self.read()? {
            Some(r) => crate::keys::Digest::of(&String::from_utf8_lossy(&r.bytes)).to_hex(),
            None => "missing".to_owned(),
        })
    }

    fn keys(&mut self) -> Result<Vec<ApiKey>, StoreError> {
        Ok(self.read()?.map(|r| r.keys).unwrap_or_default())
    }

    fn put(&mut self, keys: &[ApiKey]) -> Result<(), StoreError> {
        let mut all = self.keys()?;
        for k in keys {
            match all.iter_mut().find(|o| o.id == k.id) {
                Some(slot) => *slot = k.clone(),
                None => all.push(k.clone()),
            }
        }
        self.write(all)
    }

    fn delete(&mut self, id: &str) -> Result<bool, StoreError> {
        let mut all = self.keys()?;
        let before = all.len();
        all.retain(|k| k.id != id);
        if all.len() == before {
            return Ok(false);
        }
        self.write(all).map(|()| true)
    }

    fn usage(&mut self, _: &UsageQuery) -> Result<Vec<UsageRow>, StoreError> {
        Err(usage_in_memory())
    }
}

fn usage_in_memory() -> StoreError {
    StoreError::Unsupported(
        "the memory store keeps usage in the gateway's memory: ask its admin endpoint \
         (`tollgate usage --admin http://127.0.0.1:9901`)"
            .to_owned(),
    )
}

fn no_keys_file() -> StoreError {
    StoreError::Unsupported(
        "the memory store keeps its keys in a file: pass --api-keys FILE".to_owned(),
    )
}

/// The memory store without a keys file: no keys at all.
#[derive(Debug)]
pub struct NoKeys;

impl KeyStore for NoKeys {
    fn version(&mut self) -> Result<String, StoreError> {
        Ok(String::new())
    }

    fn keys(&mut self) -> Result<Vec<ApiKey>, StoreError> {
        Ok(Vec::new())
    }

    fn put(&mut self, _: &[ApiKey]) -> Result<(), StoreError> {
        Err(no_keys_file())
    }

    fn delete(&mut self, _: &str) -> Result<bool, StoreError> {
        Err(no_keys_file())
    }

    fn usage(&mut self, _: &UsageQuery) -> Result<Vec<UsageRow>, StoreError> {
        Err(usage_in_memory())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Digest;

    #[test]
    fn keys_round_trip_through_the_file() {
        let dir = std::env::temp_dir().join(format!("tollgate-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keys.json");
        let _ = std::fs::remove_file(&path);
        let mut f = KeysFile::new(&path);
        assert_eq!(f.version().unwrap(), "missing");
        assert!(f.keys().unwrap().is_empty());
        let key = ApiKey {
            id: "abc".into(),
            name: "alice".into(),
            description: String::new(),
            digest: Digest::of("a-value-of-twenty-chars"),
            enabled: true,
            created_ms: 5,
            plans: vec!["basic".into()],
        };
        f.put(std::slice::from_ref(&key)).unwrap();
        let v1 = f.version().unwrap();
        assert_eq!(f.keys().unwrap(), vec![key.clone()]);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("a-value-of-twenty-chars"));
        let mut off = key.clone();
        off.enabled = false;
        f.put(&[off]).unwrap();
        assert_ne!(f.version().unwrap(), v1);
        assert!(!f.keys().unwrap()[0].enabled);
        assert!(f.delete("abc").unwrap());
        assert!(!f.delete("abc").unwrap());
        std::fs::write(&path, "{").unwrap();
        assert!(matches!(f.keys(), Err(StoreError::Corrupt(_))));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
