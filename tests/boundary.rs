//! A provider is a folder: its name, path prefix and flags appear in no code outside
//! `src/providers/<name>/`, except its one line in the registry (`registry!(…)` in
//! `src/providers/mod.rs`). Comments may name providers as examples; code may not. Test
//! modules (`#[cfg(test)]` to the end of a file) are not product code and are skipped.

use std::path::{Path, PathBuf};

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The code of a source file: lines before `#[cfg(test)]`, comments removed (a rough cut:
/// `//` outside a string literal ends the line).
fn code(path: &Path, text: &str) -> Vec<(usize, String)> {
    if path.extension().is_some_and(|e| e != "rs") {
        return text.lines().map(str::to_owned).enumerate().collect();
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let mut in_string = false;
        let mut end = line.len();
        let bytes = line.as_bytes();
        for j in 0..bytes.len() {
            match bytes[j] {
                b'"' if j == 0 || bytes[j - 1] != b'\\' => in_string = !in_string,
                b'/' if !in_string && bytes.get(j + 1) == Some(&b'/') => {
                    end = j;
                    break;
                }
                _ => {}
            }
        }
        out.push((i + 1, line[..end].to_owned()));
    }
    out
}

/// A provider's folder implements `Provider`; another folder (`compat`, a dialect several
/// providers speak) is shared code, and must name no provider either.
fn is_provider(folder: &Path) -> bool {
    files(folder).iter().any(|f| std::fs::read_to_string(f).unwrap_or_default().contains("impl Provider for"))
}

/// What a provider folder declares: its name, its path prefixes and its flags.
struct Declared {
    name: String,
    needles: Vec<String>,
    /// Its prefixes, each as `"/a/b"`.
    prefixes: Vec<String>,
}

fn declared(folder: &Path) -> Declared {
    let name = folder.file_name().unwrap().to_str().unwrap().to_owned();
    let mut needles = vec![name.clone()];
    let text: String = files(folder).iter().map(|f| std::fs::read_to_string(f).unwrap()).collect();
    // `fn prefixes(&self) -> … { &[&["api", "relay", "rest"], &["api", "laml"]] }`: each list of
    // literals after `fn prefixes`, up to the body's end.
    let after = &text[text.find("fn prefixes(").expect("every provider declares its prefixes")..];
    let body = &after[after.find('{').unwrap() + 1..];
    let body = &body[..body.find('}').unwrap()];
    let mut prefixes = Vec::new();
    for list in body.split("&[").skip(1).filter(|l| l.trim_start().starts_with('"')) {
        let list = &list[..list.find(']').unwrap()];
        let segs: Vec<&str> = list.split(',').map(|s| s.trim().trim_matches('"')).filter(|s| !s.is_empty()).collect();
        // A prefix shows as a path (`"/v1/…"`) or a segment list (`["v1", …]`), not as a bare word.
        let path = format!("/{}", segs.join("/"));
        needles.push(format!("\"{path}"));
        needles.push(format!("[{}", segs.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", ")));
        prefixes.push(path);
    }
    assert!(!prefixes.is_empty(), "{name}: no prefix found");
    // `long = "plivo-otp-length"`
    for (i, _) in text.match_indices("long = \"") {
        let rest = &text[i + 8..];
        needles.push(format!("--{}", &rest[..rest.find('"').unwrap()]));
    }
    Declared { name, needles, prefixes }
}

#[test]
fn no_code_outside_a_providers_folder_names_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let providers_dir = root.join("providers");
    let providers: Vec<Declared> = std::fs::read_dir(&providers_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && is_provider(p))
        .map(|p| declared(&p))
        .collect();
    assert!(providers.len() >= 4, "the provider folders are found");
    let registry = providers_dir.join("mod.rs");

    let mut found = Vec::new();
    // Snapshots are what unit tests saw, test data like the `#[cfg(test)]` modules.
    for file in files(&root).into_iter().filter(|f| !f.components().any(|c| c.as_os_str() == "snapshots")) {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        // A provider whose prefix extends another's (`/api/relay/rest` under `/api`) spells the
        // shorter one in its own paths: that is not a leak.
        let owner = providers.iter().find(|q| file.starts_with(providers_dir.join(&q.name)));
        for p in &providers {
            if file.starts_with(providers_dir.join(&p.name)) {
                continue;
            }
            let nested = |needle: &str| {
                p.prefixes.iter().any(|prefix| needle.contains(prefix.as_str()) || needle.starts_with('['))
                    && owner.is_some_and(|q| {
                        q.prefixes
                            .iter()
                            .any(|own| p.prefixes.iter().any(|short| own.starts_with(short.as_str()) && own != short))
                    })
            };
            for (line, code) in code(&file, &text) {
                if file == registry && code.trim_start().starts_with("registry!(") {
                    continue;
                }
                let lower = code.to_ascii_lowercase();
                for needle in p.needles.iter().filter(|n| !nested(n)) {
                    let hit = if !needle.starts_with(|c: char| c.is_ascii_alphanumeric()) {
                        code.contains(needle.as_str())
                    } else {
                        lower.match_indices(needle.as_str()).any(|(i, _)| {
                            let before = lower[..i].chars().next_back();
                            let after = lower[i + needle.len()..].chars().next();
                            !before.is_some_and(|c| c.is_ascii_alphanumeric())
                                && !after.is_some_and(|c| c.is_ascii_alphanumeric())
                        })
                    };
                    if hit {
                        let shown = file.strip_prefix(&root).unwrap().display();
                        found.push(format!("src/{shown}:{line}: {needle} ({})", code.trim()));
                    }
                }
            }
        }
    }
    assert!(found.is_empty(), "provider names, prefixes or flags outside their folders:\n{}", found.join("\n"));
}
