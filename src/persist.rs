//! `--state FILE`: the state is saved after changes (at most every [`DEBOUNCE`]) and at
//! shutdown, always by writing a temporary file beside it, syncing it, and renaming it over the
//! old one, so a crash at any moment leaves either the previous save or the new one, whole.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::core::Core;

/// The quiet time between a change and its save.
pub(crate) const DEBOUNCE: Duration = Duration::from_millis(100);

/// Saves whenever the state changed, until `stop`; then saves once more if needed.
pub(crate) async fn run(core: Arc<Core>, path: PathBuf, mut stop: watch::Receiver<bool>) {
    let mut saved = None;
    loop {
        let stopping = tokio::select! {
            _ = tokio::time::sleep(DEBOUNCE) => false,
            _ = stop.wait_for(|s| *s) => true,
        };
        let generation = core.generation();
        if saved != Some(generation) {
            let json = serde_json::to_vec_pretty(&core.export_state()).expect("the state serializes");
            let target = path.clone();
            match tokio::task::spawn_blocking(move || write_atomically(&target, &json)).await {
                Ok(Ok(())) => saved = Some(generation),
                Ok(Err(e)) => tracing::warn!(path = %path.display(), error = %e, "state not saved"),
                Err(e) => tracing::warn!(error = %e, "state saver failed"),
            }
        }
        if stopping {
            return;
        }
    }
}

/// Writes `bytes` to `path` so that readers only ever see a complete file.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)?;
    // Make the rename itself durable.
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_whole_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("callerid-mock-persist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        write_atomically(&path, b"{\"a\":1}").unwrap();
        write_atomically(&path, b"{\"a\":2}").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"a\":2}");
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
