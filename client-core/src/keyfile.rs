//! Keyrings on disk (feature `sled`): one file per hamlet in a `keys` folder beside a
//! sled store, the device's and the server's embedded engine alike.
//!
//! sled is log-structured: a removed value stays in its segment files until sled
//! happens to rewrite them, so a household key deleted from a sled tree could still be
//! read off the disk. A keyring is therefore its own small file (`Keyring::to_bytes`),
//! replaced whole on every change: written to a temporary file, synced, renamed over
//! the old one, and the folder synced. The old file's inode is unlinked by the rename,
//! so an erased key is in no live file of the folder once `save` returns. (A disk's
//! free blocks and a backup taken earlier are outside what this promises;
//! ARCHITECTURE.md says so.)

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::ids::HamletId;
use crate::sealed::Keyring;

/// The keyring files of one store.
#[derive(Debug, Clone)]
pub struct KeyFiles {
    dir: PathBuf,
}

impl KeyFiles {
    /// The `keys` folder inside `store_dir`, made if needed, its owner's alone.
    pub fn open(store_dir: &Path) -> std::io::Result<Self> {
        let dir = store_dir.join("keys");
        std::fs::create_dir_all(&dir)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
        }
        // A save a crash interrupted leaves its temporary file: it may hold a key
        // erased since, so it goes.
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "tmp") {
                std::fs::remove_file(path)?;
            }
        }
        Ok(Self { dir })
    }

    fn path(&self, hamlet: &HamletId) -> PathBuf {
        // Hamlet ids hold only A–Z a–z 0–9 - _ . and never start a hidden name here.
        self.dir.join(format!("{hamlet}.keys"))
    }

    /// A hamlet's keyring; empty if none was saved. A damaged file is an error, never
    /// taken for an empty keyring (that would read every household as erased).
    pub fn load(&self, hamlet: &HamletId) -> std::io::Result<Keyring> {
        match std::fs::read(self.path(hamlet)) {
            Ok(bytes) => Keyring::from_bytes(&bytes).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("the keyring of {hamlet} is damaged"),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Keyring::default()),
            Err(e) => Err(e),
        }
    }

    /// Replaces a hamlet's keyring, durably, unless it is what is saved already.
    pub fn save(&self, hamlet: &HamletId, keys: &Keyring) -> std::io::Result<()> {
        let bytes = keys.to_bytes();
        let path = self.path(hamlet);
        match std::fs::read(&path) {
            Ok(saved) if saved == bytes => return Ok(()),
            _ => {}
        }
        let tmp = self.dir.join(format!("{hamlet}.keys.tmp"));
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
        self.sync_dir()
    }

    /// Deletes a hamlet's keyring (the device stops holding the hamlet).
    pub fn remove(&self, hamlet: &HamletId) -> std::io::Result<()> {
        match std::fs::remove_file(self.path(hamlet)) {
            Ok(()) => self.sync_dir(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Deletes every keyring (the device was wiped).
    pub fn remove_all(&self) -> std::io::Result<()> {
        for entry in std::fs::read_dir(&self.dir)? {
            std::fs::remove_file(entry?.path())?;
        }
        self.sync_dir()
    }

    /// The hamlets with a saved keyring.
    pub fn hamlets(&self) -> std::io::Result<Vec<HamletId>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let name = entry?.file_name();
            if let Some(id) =
                name.to_str().and_then(|n| n.strip_suffix(".keys")).and_then(|n| HamletId::parse(n).ok())
            {
                out.push(id);
            }
        }
        Ok(out)
    }

    fn sync_dir(&self) -> std::io::Result<()> {
        std::fs::File::open(&self.dir)?.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::HouseholdId;
    use crate::sealed::HouseholdKey;

    #[test]
    fn an_erased_key_is_in_no_file_once_saved() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = KeyFiles::open(dir.path()).expect("open");
        let hamlet = HamletId::parse("thon-1").expect("id");
        let household = HouseholdId::parse("aaaaaaaaaaaaaaaa").expect("id");
        let key = HouseholdKey::fresh();
        let mut ring = Keyring::default();
        ring.insert(household.clone(), key.clone(), 1);
        files.save(&hamlet, &ring).expect("save");
        assert_eq!(files.load(&hamlet).expect("load"), ring);
        let holds_key = || {
            std::fs::read_dir(dir.path().join("keys")).expect("dir").any(|f| {
                let bytes = std::fs::read(f.expect("entry").path()).expect("read");
                bytes.windows(32).any(|w| w == key.as_bytes())
            })
        };
        assert!(holds_key());
        ring.erase(household, 2);
        files.save(&hamlet, &ring).expect("save");
        assert!(!holds_key());
        assert_eq!(files.hamlets().expect("list"), vec![hamlet.clone()]);
        // A temporary file a crash left behind is gone at the next open.
        std::fs::write(dir.path().join("keys/thon-1.keys.tmp"), key.as_bytes()).expect("write");
        assert!(holds_key());
        let files = KeyFiles::open(dir.path()).expect("reopen");
        assert!(!holds_key());
        // A damaged file is an error, not an empty keyring.
        std::fs::write(dir.path().join("keys/thon-1.keys"), b"TNK1 torn").expect("write");
        assert!(files.load(&hamlet).is_err());
    }
}
