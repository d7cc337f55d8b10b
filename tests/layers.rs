//! The module layering of `src/`, checked from its `use` paths (a lint, run natively with the
//! other tests): every `crate::…` and `super::…` path a module names must point at a module of
//! its own layer or a lower one, and no two modules may name each other through any chain (no
//! import cycle). The layers are the ones `src/lib.rs`'s crate doc describes, top to bottom:
//!
//! | layer | modules |
//! |---|---|
//! | entry | `lib.rs` |
//! | HTTP | `api` |
//! | work | `service`, `sync`, `reconcile`, `track`, `objects` (the Durable Objects) |
//! | shell | `app`, `error` |
//! | stores | `store` |
//! | domain | everything else: pure types and rules, no `worker` |
//!
//! A domain module also must not use `worker` (the runtime): `web_url` alone reaches the
//! runtime's `URL`, behind its own native stand-in.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Layer of a top-level module; higher may import lower. Unknown top-level modules are domain.
fn layer(top: &str) -> u8 {
    match top {
        "crate" => 5,
        "api" => 4,
        "service" | "sync" | "reconcile" | "track" | "objects" => 3,
        "app" | "error" => 2,
        "store" => 1,
        _ => 0,
    }
}

/// Domain modules allowed to reach the runtime, and why: see the module doc.
const RUNTIME_ADAPTERS: &[&str] = &["web_url"];

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir` with its module path (`crate`, `api`, `api::links`, …).
fn modules(dir: &Path, prefix: &[String], out: &mut BTreeMap<String, PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            let mut next = prefix.to_vec();
            next.push(name);
            modules(&path, &next, out);
        } else if let Some(stem) = name.strip_suffix(".rs") {
            let mut segments = prefix.to_vec();
            if stem != "mod" && stem != "lib" {
                segments.push(stem.to_owned());
            }
            let module = if segments.is_empty() {
                "crate".to_owned()
            } else {
                segments.join("::")
            };
            out.insert(module, path);
        }
    }
}

/// The code of a file without comments and string literals' contents (a path in a doc comment
/// or a message is no import).
fn code_of(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let line = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        let mut in_string = false;
        let mut prev = ' ';
        for c in line.chars() {
            if c == '"' && prev != '\\' {
                in_string = !in_string;
                out.push(c);
            } else if !in_string {
                out.push(c);
            }
            prev = c;
        }
        out.push('\n');
    }
    out
}

/// The paths a file names from `crate::` or `super::`, expanded out of `{…}` groups, each as
/// an absolute module path (segments after `crate`).
fn named_paths(module: &str, code: &str) -> Vec<Vec<String>> {
    let tokens: Vec<char> = code.chars().collect();
    let mut paths = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let rest: String = tokens[i..tokens.len().min(i + 7)].iter().collect();
        let starts_word = i == 0 || !(tokens[i - 1].is_alphanumeric() || tokens[i - 1] == '_');
        if starts_word && (rest.starts_with("crate::") || rest.starts_with("super::")) {
            let (base, skip) = if rest.starts_with("crate::") {
                (Vec::new(), 7)
            } else {
                (parent_of(module, 1), 7)
            };
            let mut j = i + skip;
            let mut base = base;
            // Further `super::`s climb further.
            while tokens[j..]
                .iter()
                .collect::<String>()
                .starts_with("super::")
            {
                base.pop();
                j += 7;
            }
            let (found, end) = expand(&tokens, j, base);
            paths.extend(found);
            i = end;
        } else {
            i += 1;
        }
    }
    paths
}

fn parent_of(module: &str, levels: usize) -> Vec<String> {
    let mut segments: Vec<String> = if module == "crate" {
        Vec::new()
    } else {
        module.split("::").map(str::to_owned).collect()
    };
    for _ in 0..levels {
        segments.pop();
    }
    segments
}

/// Reads a path (with `{…}` groups) starting at `at` after `base`; the full paths and where it
/// ended.
fn expand(tokens: &[char], mut at: usize, base: Vec<String>) -> (Vec<Vec<String>>, usize) {
    let mut path = base;
    if at < tokens.len() && tokens[at] == '{' {
        return group(tokens, at + 1, path);
    }
    loop {
        let start = at;
        while at < tokens.len() && (tokens[at].is_alphanumeric() || tokens[at] == '_') {
            at += 1;
        }
        if at > start {
            path.push(tokens[start..at].iter().collect());
        }
        let next: String = tokens[at..tokens.len().min(at + 2)].iter().collect();
        if next == "::" {
            at += 2;
            if at < tokens.len() && tokens[at] == '{' {
                return group(tokens, at + 1, path);
            }
            continue;
        }
        return (vec![path], at);
    }
}

/// Reads `a, b::c, {…}}` after a `{`.
fn group(tokens: &[char], mut at: usize, base: Vec<String>) -> (Vec<Vec<String>>, usize) {
    let mut out = Vec::new();
    loop {
        while at < tokens.len() && (tokens[at].is_whitespace() || tokens[at] == ',') {
            at += 1;
        }
        if at >= tokens.len() {
            return (out, at);
        }
        if tokens[at] == '}' {
            return (out, at + 1);
        }
        if tokens[at] == '{' {
            let (found, end) = group(tokens, at + 1, base.clone());
            out.extend(found);
            at = end;
            continue;
        }
        let (found, end) = expand(tokens, at, base.clone());
        out.extend(found);
        at = end.max(at + 1);
        // Skip `as name` and anything else up to the next item.
        while at < tokens.len() && tokens[at] != ',' && tokens[at] != '}' {
            at += 1;
        }
    }
}

/// The module a path lands in: its longest prefix that is a module.
fn module_of(path: &[String], known: &BTreeSet<String>) -> Option<String> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].join("::"))
        .find(|m| known.contains(m))
}

fn top(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

/// The import graph: module → modules it names (itself and its own ancestors left out).
fn graph() -> (BTreeMap<String, BTreeSet<String>>, BTreeMap<String, String>) {
    let mut files = BTreeMap::new();
    modules(&src(), &[], &mut files);
    let known: BTreeSet<String> = files.keys().cloned().collect();
    let mut edges = BTreeMap::new();
    let mut code = BTreeMap::new();
    for (module, path) in &files {
        let text = fs::read_to_string(path).expect("read source");
        let body = code_of(&text);
        let mut targets = BTreeSet::new();
        for named in named_paths(module, &body) {
            if let Some(target) = module_of(&named, &known) {
                let ancestor = module == &target || module.starts_with(&format!("{target}::"));
                if !ancestor {
                    targets.insert(target);
                }
            }
        }
        edges.insert(module.clone(), targets);
        code.insert(module.clone(), body);
    }
    (edges, code)
}

#[test]
fn every_import_points_down_the_layers() {
    let (edges, _) = graph();
    let mut wrong = Vec::new();
    for (from, targets) in &edges {
        for to in targets {
            if top(from) != top(to) && layer(top(to)) > layer(top(from)) {
                wrong.push(format!("{from} → {to}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that point up the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_module_imports_itself_through_a_cycle() {
    let (edges, _) = graph();
    // Depth-first search with colours; the first back edge found is reported with its cycle.
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
        cycles: &mut Vec<String>,
    ) {
        state.insert(node.to_owned(), 1);
        stack.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            match state.get(next.as_str()).copied().unwrap_or(0) {
                0 => visit(next, edges, state, stack, cycles),
                1 => {
                    let from = stack.iter().position(|m| m == next).unwrap_or(0);
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(next.clone());
                    cycles.push(cycle.join(" → "));
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(node.to_owned(), 2);
    }
    let mut state = BTreeMap::new();
    let mut cycles = Vec::new();
    for node in edges.keys() {
        if state.get(node.as_str()).copied().unwrap_or(0) == 0 {
            visit(node, &edges, &mut state, &mut Vec::new(), &mut cycles);
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_domain_does_not_reach_the_runtime() {
    let (_, code) = graph();
    let offenders: Vec<&String> = code
        .iter()
        .filter(|(module, _)| layer(top(module)) == 0 && !RUNTIME_ADAPTERS.contains(&top(module)))
        .filter(|(_, body)| body.contains("worker::") || body.contains("use worker"))
        .map(|(module, _)| module)
        .collect();
    assert!(
        offenders.is_empty(),
        "domain modules using `worker`: {offenders:?}"
    );
}

#[test]
fn the_checker_reads_grouped_and_relative_paths() {
    let code = code_of(
        "use crate::{a::X, b::{c::Y, d}};\nuse super::e::Z; // crate::not_this\nlet s = \"crate::nor_this\";\n",
    );
    let paths: Vec<String> = named_paths("m::n", &code)
        .into_iter()
        .map(|p| p.join("::"))
        .collect();
    assert_eq!(paths, ["a::X", "b::c::Y", "b::d", "m::e::Z"]);
}
