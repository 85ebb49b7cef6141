//! The documentation's examples are files that the test command runs: each fenced block that
//! follows a `<!-- file: PATH -->` line in README.md or docs/ must equal that file, byte for
//! byte (`PATH#NAME`: the part of it between `docs:begin NAME` and `docs:end NAME`).
//! `UPDATE_DOCS=1 cargo test --test docs` copies the files into the blocks.

use std::fs;
use std::path::{Path, PathBuf};

fn markdown_files(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md"), root.join("CONTRIBUTING.md")];
    let mut dirs = vec![root.join("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                files.push(path);
            }
        }
    }
    files.retain(|f| f.exists());
    files
}

/// The document with every marked block replaced by its file, and the blocks that differed.
fn synced(root: &Path, doc: &str) -> (String, Vec<String>) {
    const MARK: &str = "<!-- file: ";
    let mut out = String::new();
    let mut stale = Vec::new();
    let mut lines = doc.split_inclusive('\n');
    while let Some(line) = lines.next() {
        out.push_str(line);
        let Some(path) = line.trim().strip_prefix(MARK).and_then(|r| r.strip_suffix(" -->")) else { continue };
        let fence = lines.next().unwrap_or_else(|| panic!("{path}: a fenced block must follow the marker"));
        assert!(fence.starts_with("```"), "{path}: a fenced block must follow the marker, not {fence:?}");
        out.push_str(fence);
        let mut block = String::new();
        for line in lines.by_ref() {
            if line.trim_end() == "```" {
                break;
            }
            block.push_str(line);
        }
        let file = shown(root, path);
        if block != file {
            stale.push(path.to_owned());
        }
        out.push_str(&file);
        out.push_str("```\n");
    }
    (out, stale)
}

/// What a marker shows: `PATH` is the whole file; `PATH#NAME` the lines between `docs:begin NAME`
/// and `docs:end NAME` in it, without their common indentation.
fn shown(root: &Path, marker: &str) -> String {
    let (path, region) = marker.split_once('#').map_or((marker, None), |(p, r)| (p, Some(r)));
    let file = fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    let Some(name) = region else { return file };
    let (begin, end) = (format!("docs:begin {name}"), format!("docs:end {name}"));
    let lines: Vec<&str> = file.lines().collect();
    let start =
        lines.iter().position(|l| l.trim_end().ends_with(&begin)).unwrap_or_else(|| panic!("{marker}: no {begin}"));
    let stop = lines.iter().position(|l| l.trim_end().ends_with(&end)).unwrap_or_else(|| panic!("{marker}: no {end}"));
    let mut body = &lines[start + 1..stop];
    while let [rest @ .., last] = body
        && last.trim().is_empty()
    {
        body = rest;
    }
    let indent =
        body.iter().filter(|l| !l.trim().is_empty()).map(|l| l.len() - l.trim_start().len()).min().unwrap_or(0);
    body.iter().map(|l| format!("{}\n", l.get(indent..).unwrap_or(""))).collect()
}

#[test]
fn every_example_in_the_docs_is_the_file_the_tests_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let update = std::env::var_os("UPDATE_DOCS").is_some();
    let mut stale = Vec::new();
    let mut examples = 0;
    for doc in markdown_files(root) {
        let text = fs::read_to_string(&doc).unwrap();
        examples += text.matches("<!-- file: ").count();
        let (new, differ) = synced(root, &text);
        if update && new != text {
            fs::write(&doc, new).unwrap();
        } else {
            stale.extend(differ.into_iter().map(|p| format!("{} shows {p}", doc.display())));
        }
    }
    assert!(examples >= 5, "the docs' examples are marked with <!-- file: PATH -->");
    assert!(
        stale.is_empty(),
        "examples differ from their files (UPDATE_DOCS=1 cargo test --test docs):\n{}",
        stale.join("\n")
    );
}

#[test]
fn every_example_file_is_shown_in_the_docs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shown: String = markdown_files(root).iter().map(|f| fs::read_to_string(f).unwrap()).collect();
    for lang in ["python", "node", "packages/python", "packages/node"] {
        for entry in fs::read_dir(root.join("docs/examples").join(lang)).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let path = format!("docs/examples/{lang}/{name}");
            assert!(shown.contains(&format!("<!-- file: {path} -->")), "{path} is run by the tests but shown nowhere");
        }
    }
}

#[test]
fn the_readme_is_a_front_door_of_at_most_12_kib() {
    let readme = fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    assert!(readme.len() <= 12 * 1024, "README.md is {} bytes: the reference belongs in docs/", readme.len());
}

#[test]
fn every_relative_link_in_the_docs_names_a_file_that_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut broken = Vec::new();
    for file in markdown_files(root) {
        let text = fs::read_to_string(&file).unwrap();
        for (i, _) in text.match_indices("](") {
            let target = &text[i + 2..];
            let target = &target[..target.find(')').unwrap_or(target.len())];
            let path = target.split('#').next().unwrap();
            if path.is_empty() || path.contains("://") || path.starts_with("mailto:") {
                continue;
            }
            if !file.parent().unwrap().join(path).exists() {
                broken.push(format!("{}: {target}", file.strip_prefix(root).unwrap().display()));
            }
        }
    }
    assert!(broken.is_empty(), "links to nothing:\n{}", broken.join("\n"));
}
