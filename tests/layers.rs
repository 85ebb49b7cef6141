//! The house in one direction: every module of `src/` imports only modules in the layers below
//! its own (the table in `docs/architecture.md`), so there is no import circle and no import
//! that runs back up. A file's module is its top-level module (`src/core/store.rs` is `core`);
//! test modules (`#[cfg(test)]` to the end of a file) are not product code and are skipped.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The layers, top first: a module may name only modules of a later layer.
const LAYERS: &[&[&str]] = &[
    &["main"],
    &["lib"],
    &["server", "cli"],
    &["router"],
    &["control", "proxy"],
    &["app"],
    &["config"],
    &["providers"],
    &["delivery"],
    &["persist", "faults", "journal", "http", "client", "zero_touch"],
    &["core", "tls", "allow", "shutdown", "memory"],
];

fn layer_of(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|layer| layer.contains(&module))
        .unwrap_or_else(|| panic!("module {module} is in no layer: add it to LAYERS and docs/architecture.md"))
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The top-level module a file belongs to.
fn module_of(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).unwrap();
    let first = rel.components().next().unwrap().as_os_str().to_str().unwrap();
    first.trim_end_matches(".rs").to_owned()
}

/// The lines of product code: before `#[cfg(test)]`, without `//` comments.
fn code(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let code = match line.find("//") {
            Some(i) if line[..i].matches('"').count() % 2 == 0 => &line[..i],
            _ => line,
        };
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// The top-level modules `text` names through `crate::` (including `use crate::{a, b::c}`).
fn named(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| s.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names in the braces: split on commas at depth 0.
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.insert(ident(item.trim()));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            out.insert(ident(item.trim()));
        } else {
            out.insert(ident(rest));
        }
    }
    out.retain(|m| !m.is_empty() && m != "self");
    out
}

#[test]
fn every_import_runs_down_the_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut wrong = Vec::new();
    for file in files(&root) {
        let module = module_of(&root, &file);
        let text = code(&std::fs::read_to_string(&file).unwrap());
        let from = layer_of(&module);
        for target in named(&text) {
            // Items of the crate root (`crate::Config`) are not modules; `lib` is the root.
            if !LAYERS.iter().any(|l| l.contains(&target.as_str())) && target.starts_with(char::is_uppercase) {
                continue;
            }
            if target == module {
                continue;
            }
            if layer_of(&target) <= from {
                let shown = file.strip_prefix(&root).unwrap().display();
                wrong.push(format!("src/{shown} ({module}) imports {target}, which is not below it"));
            }
        }
    }
    assert!(wrong.is_empty(), "imports that do not run down the layers:\n{}", wrong.join("\n"));
}

#[test]
fn the_layers_are_the_ones_the_architecture_page_shows() {
    let page = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/architecture.md")).unwrap();
    for layer in LAYERS {
        let row = layer.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ");
        assert!(page.contains(&format!("| {row} |")), "docs/architecture.md has no layer row for {row}");
    }
}

#[test]
fn no_source_file_is_over_500_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let long: Vec<String> = files(&root)
        .into_iter()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(&f).unwrap().lines().count();
            (lines > 500).then(|| format!("{} ({lines} lines)", f.strip_prefix(&root).unwrap().display()))
        })
        .collect();
    assert!(long.is_empty(), "files of one job are shorter; split these:\n{}", long.join("\n"));
}
