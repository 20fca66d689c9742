//! Opening sled so that a snapshot torn by a kill does not lock anyone out: the one
//! workaround every store on sled uses (the device's `store`, the server's engine).

use std::path::Path;

/// Removes the snapshots sled left half-written in `dir` (`snap.<lsn>.generating`: a
/// finished one is renamed without the suffix); returns how many.
///
/// sled 0.34 reads the newest `snap.*` file when it opens, `.generating` ones included,
/// so a process killed while writing one (a phone's battery, the OS, SIGKILL) leaves a
/// store that refuses to open with "Read corrupted data at file offset None". The
/// snapshot it was writing is only a shortcut: the previous one and the log hold
/// everything, so removing it loses nothing.
pub fn remove_torn_snapshots(dir: &Path) -> std::io::Result<usize> {
    let mut removed = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Opens sled in `dir`; if it finds its newest snapshot torn, removes the half-written
/// ones (`remove_torn_snapshots`) and opens again. The failed open got as far as
/// reading the snapshot, so it held the directory's lock: no other process was
/// writing a snapshot, and one that opens meanwhile fails on the same torn file
/// before it could write one.
pub fn open(config: &sled::Config, dir: &Path) -> Result<sled::Db, sled::Error> {
    match config.open() {
        Err(sled::Error::Corruption { at: None, .. }) if remove_torn_snapshots(dir).unwrap_or(0) > 0 => {
            config.open()
        }
        other => other,
    }
}
