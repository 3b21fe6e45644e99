//! The structure rules of `docs/ARCHITECTURE.md` that a reader of the source can check, checked
//! here by reading the source as text:
//! - SQL only in `store.rs` files and `src/db/`;
//! - no module imports another domain's `routes` (only the router assembly in `http/mod.rs`);
//! - no files of `src/` import each other in a loop (a file and its parent or children aside);
//! - a command's status changes only through `vmops::store::set_status`;
//! - no test discards the HTTP status of a call it makes (`tests/`, `e2e/`).
//!
//! Each check has a test on planted lines, so a check that stopped finding anything would fail.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir` whose name ends with `ext`, sorted.
fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "node_modules") {
                    stack.push(path);
                }
            } else if path.to_string_lossy().ends_with(ext) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root()).unwrap().to_string_lossy().replace('\\', "/")
}

/// Rust source split into code (comments removed, string and char literals blanked, offsets
/// kept) and the contents of its string literals.
struct Lexed {
    code: String,
    strings: Vec<String>,
}

fn lex(src: &str) -> Lexed {
    let b = src.as_bytes();
    let mut code = String::with_capacity(src.len());
    let mut strings = Vec::new();
    let mut i = 0;
    let blank = |code: &mut String, s: &[u8]| {
        for c in s {
            code.push(if *c == b'\n' { '\n' } else { ' ' });
        }
    };
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            let end = rest.iter().position(|c| *c == b'\n').unwrap_or(rest.len());
            blank(&mut code, &rest[..end]);
            i += end;
        } else if rest.starts_with(b"/*") {
            let end = src[i + 2..].find("*/").map_or(rest.len(), |e| e + 4);
            blank(&mut code, &rest[..end]);
            i += end;
        } else if rest.starts_with(b"r\"") || rest.starts_with(b"r#") || rest.starts_with(b"br\"") {
            let start = if rest[0] == b'b' { 2 } else { 1 };
            let hashes = rest[start..].iter().take_while(|c| **c == b'#').count();
            if rest.get(start + hashes) != Some(&b'"') {
                code.push(rest[0] as char);
                i += 1;
                continue;
            }
            let close = format!("\"{}", "#".repeat(hashes));
            let body_start = i + start + hashes + 1;
            let body_end = src[body_start..].find(&close).map_or(src.len(), |e| body_start + e);
            strings.push(src[body_start..body_end].to_owned());
            let end = (body_end + close.len()).min(src.len());
            code.push('"');
            blank(&mut code, &b[i + 1..end - 1]);
            code.push('"');
            i = end;
        } else if rest[0] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            strings.push(src[i + 1..j.min(b.len())].to_owned());
            code.push('"');
            blank(&mut code, &b[i + 1..j.min(b.len())]);
            code.push('"');
            i = j + 1;
        } else if rest[0] == b'\'' && (rest.get(1) == Some(&b'\\') || rest.get(2) == Some(&b'\'')) {
            // A char literal, not a lifetime.
            let mut j = i + 1;
            while j < b.len() && b[j] != b'\'' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            blank(&mut code, &b[i..=j.min(b.len() - 1)]);
            i = j + 1;
        } else {
            let ch = src[i..].chars().next().unwrap();
            code.push(ch);
            i += ch.len_utf8();
        }
    }
    Lexed { code, strings }
}

/// The part of a file that is not its unit tests (these may set up rows directly).
fn before_tests(src: &str) -> &str {
    src.find("\n#[cfg(test)]").map_or(src, |i| &src[..i])
}

const SQL_CALLS: [&str; 11] = [
    ".prepare(",
    ".prepare_cached(",
    ".query_row(",
    ".query_map(",
    ".query_and_then(",
    ".execute_batch(",
    ".pragma_update(",
    ".pragma_query(",
    ".pragma_query_value(",
    "params!",
    "params_from_iter(",
];
const SQL_WORDS: [&str; 16] = [
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "ALTER",
    "PRAGMA",
    "WITH",
    "REPLACE",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT",
    "RELEASE",
    "VACUUM",
];

/// What in one source file talks to SQLite: statement calls of rusqlite and SQL text (a string
/// literal that starts with an upper-case SQL keyword).
fn sql_in(src: &str) -> Vec<String> {
    let lexed = lex(before_tests(src));
    let mut found: Vec<String> = SQL_CALLS
        .iter()
        .filter(|call| lexed.code.contains(*call))
        .map(|call| format!("calls {call}"))
        .collect();
    for s in &lexed.strings {
        let text = s.trim_start();
        let word = text.split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or("");
        if SQL_WORDS.contains(&word) && text[word.len()..].starts_with(char::is_whitespace) {
            found.push(format!("SQL text {:?}", text.lines().next().unwrap_or("")));
        }
    }
    found
}

#[test]
fn sql_lives_only_in_stores_and_the_database_module() {
    let mut offenders = Vec::new();
    for path in files(&root().join("src"), ".rs") {
        let name = relative(&path);
        if name.ends_with("/store.rs") || name.starts_with("src/db/") {
            continue;
        }
        for what in sql_in(&std::fs::read_to_string(&path).unwrap()) {
            offenders.push(format!("{name}: {what}"));
        }
    }
    assert!(
        offenders.is_empty(),
        "SQL outside store.rs and src/db/:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_sql_check_finds_planted_sql() {
    assert!(sql_in("fn f(c: &Connection) { c.query_row(\"SELECT 1\", [], |r| r.get(0)) }").len() == 2);
    assert_eq!(sql_in("const Q: &str = r#\"\n  DELETE FROM x\"#;").len(), 1);
    assert!(sql_in("let m = \"Delete the bot first\"; // SELECT in a comment").is_empty());
    assert!(sql_in("fn f(c: &rusqlite::Connection) -> rusqlite::Result<()> { store::get(c) }").is_empty());
    assert!(
        sql_in("fn f() {}\n#[cfg(test)]\nmod tests { fn t(c: &C) { c.execute_batch(\"INSERT INTO t\") } }").is_empty()
    );
}

/// `crate::<domain>::routes` named in a file of another domain.
fn foreign_routes(name: &str, src: &str) -> Vec<String> {
    let own = name
        .strip_prefix("src/")
        .and_then(|n| n.split('/').next())
        .unwrap_or("");
    let code = lex(src).code;
    let mut found = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let path: String = code[at + 7..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        let mut parts = path.split("::");
        let domain = parts.next().unwrap_or("");
        if parts.next() == Some("routes") && domain != own.trim_end_matches(".rs") {
            found.push(format!("crate::{path}"));
        }
    }
    found
}

#[test]
fn no_module_imports_another_domains_routes() {
    let mut offenders = Vec::new();
    for path in files(&root().join("src"), ".rs") {
        let name = relative(&path);
        // The router assembly is the one place that names every domain's routes.
        if name == "src/http/mod.rs" {
            continue;
        }
        for what in foreign_routes(&name, &std::fs::read_to_string(&path).unwrap()) {
            offenders.push(format!("{name}: {what}"));
        }
    }
    assert!(
        offenders.is_empty(),
        "a domain calls another through its service module, never its routes:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_routes_check_finds_a_planted_import() {
    let src = "use crate::vmops::routes::queue;\nuse crate::agents::routes::x; // fine: own domain";
    assert_eq!(foreign_routes("src/agents/ws.rs", src), ["crate::vmops::routes::queue"]);
    assert!(foreign_routes("src/infra/relay.rs", "use crate::vmops::service::queue;").is_empty());
}

#[test]
fn a_commands_status_changes_only_through_set_status() {
    let src = std::fs::read_to_string(root().join("src/vmops/store.rs")).unwrap();
    let writes = lex(before_tests(&src))
        .strings
        .iter()
        .filter(|s| s.contains("UPDATE vm_commands") && s.contains("status ="))
        .count();
    assert_eq!(
        writes, 1,
        "one UPDATE of vm_commands.status, in set_status (which writes the event)"
    );
}

/// Calls that answer an HTTP status: reqwest's `.send()`, and the test server's `call`, `get`,
/// `login` and `gateway_get`.
fn is_http_call(method: &str, args: &str) -> bool {
    match method {
        "send" => args.trim().is_empty(),
        "call" | "get" | "login" | "gateway_get" => true,
        _ => false,
    }
}

/// If `expr` ends in an awaited HTTP call (maybe unwrapped), the call's method name.
fn awaited_http_call(expr: &str) -> Option<&str> {
    let mut e = expr.trim_end();
    loop {
        if let Some(rest) = e.strip_suffix('?') {
            e = rest.trim_end();
        } else if let Some(rest) = e.strip_suffix(".unwrap()") {
            e = rest.trim_end();
        } else if e.ends_with(')') && e[..open_of(e)?].trim_end().ends_with(".expect") {
            e = e[..open_of(e)?].trim_end().strip_suffix(".expect")?.trim_end();
        } else {
            break;
        }
    }
    let e = e.strip_suffix(".await")?.trim_end();
    if !e.ends_with(')') {
        return None;
    }
    let open = open_of(e)?;
    let args = &e[open + 1..e.len() - 1];
    let before = e[..open].trim_end();
    let method_start = before.rfind(|c: char| !(c.is_alphanumeric() || c == '_'))? + 1;
    let method = &before[method_start..];
    (before[..method_start].trim_end().ends_with('.') && is_http_call(method, args)).then_some(method)
}

/// The index of the `(` that opens the group `text` ends with.
fn open_of(text: &str) -> Option<usize> {
    let mut depth = 0;
    for (i, c) in text.char_indices().rev() {
        match c {
            ')' | ']' | '}' => depth += 1,
            '(' | '[' | '{' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Statements of Rust test code that throw a status away: an awaited HTTP call used as a
/// statement, or bound to `_`/`_name`, or a `call` whose status is bound to `_`.
fn discarded_statuses(src: &str) -> Vec<(usize, String)> {
    let code = lex(src).code;
    let bytes = code.as_bytes();
    let mut found = Vec::new();
    for (end, _) in code.match_indices(';') {
        // Back to the start of the statement: the previous `;` or an unmatched `{`.
        let mut depth = 0i32;
        let mut start = 0;
        for i in (0..end).rev() {
            match bytes[i] {
                b')' | b']' | b'}' => depth += 1,
                b'(' | b'[' | b'{' => {
                    depth -= 1;
                    if depth < 0 {
                        start = i + 1;
                        break;
                    }
                }
                b';' if depth == 0 => {
                    start = i + 1;
                    break;
                }
                _ => {}
            }
        }
        let statement = code[start..end].trim();
        // A block that ended just before (an `if`, a loop) is not part of this statement.
        let statement = statement
            .rfind("} let ")
            .map_or(statement, |i| &statement[i + 2..])
            .trim();
        let flagged = if let Some(binding) = statement.strip_prefix("let ") {
            let Some((pattern, value)) = binding.split_once('=') else {
                continue;
            };
            let pattern = pattern.trim();
            let ignored = pattern == "_" || (pattern.starts_with('_') && !pattern.contains(['(', ',']));
            let status_ignored = pattern.starts_with("(_") && awaited_http_call(value) == Some("call");
            (ignored && awaited_http_call(value).is_some()) || status_ignored
        } else {
            let assigns = statement.contains(" = ");
            !assigns && !statement.starts_with("return") && awaited_http_call(statement).is_some()
        };
        if flagged {
            let line = code[..end].matches('\n').count() + 1;
            found.push((line, statement.split_whitespace().collect::<Vec<_>>().join(" ")));
        }
    }
    found
}

/// Lines of browser tests that read a `pageApi` answer's body without its status.
fn unchecked_page_api(src: &str) -> Vec<(usize, String)> {
    src.lines()
        .enumerate()
        .filter(|(_, line)| {
            let body_read = (line.contains("(await pageApi(") && line.contains(")).body"))
                || line.replace(' ', "").contains("{body}=awaitpageApi(");
            body_read && !line.contains("status")
        })
        .map(|(i, line)| (i + 1, line.trim().to_owned()))
        .collect()
}

#[test]
fn no_test_discards_the_status_of_an_http_call() {
    let mut offenders = Vec::new();
    for path in files(&root().join("tests"), ".rs") {
        for (line, what) in discarded_statuses(&std::fs::read_to_string(&path).unwrap()) {
            offenders.push(format!("{}:{line}: {what}", relative(&path)));
        }
    }
    for path in files(&root().join("e2e"), ".mjs") {
        for (line, what) in unchecked_page_api(&std::fs::read_to_string(&path).unwrap()) {
            offenders.push(format!("{}:{line}: {what}", relative(&path)));
        }
    }
    assert!(
        offenders.is_empty(),
        "assert the status of every call (call_ok, json_of(res, status), assert_eq!(res.status(), ..)):\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_status_check_finds_planted_lines() {
    let bad = r#"
async fn t(server: &TestServer, token: &str) {
    server.call("DELETE", "/api/v1/bots/x", token, None).await;
    let _ = client().post(server.url("/api/v1/bots")).json(&body).send().await.unwrap();
    let (_, body) = server.call("GET", "/api/v1/bots", token, None).await;
    let _res = server.get("/api/v1/bots", token).await;
    client()
        .delete(server.url("/api/v1/bots/x"))
        .bearer_auth(token)
        .send()
        .await
        .expect("sent");
}"#;
    let lines: Vec<usize> = discarded_statuses(bad).into_iter().map(|(l, _)| l).collect();
    assert_eq!(lines, [3, 4, 5, 6, 12]);
    let good = r#"
async fn t(server: &TestServer, token: &str) {
    let (status, body) = server.call("GET", "/api/v1/bots", token, None).await;
    assert_eq!(status, 200);
    let _ = server.call_ok("POST", "/api/v1/vm/register", token, None).await;
    let res = client().get(server.url("/x")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let (_, token) = server.paired_agent(&op, "lab").await;
    let _ = socket.send(Message::Text("hi".into())).await;
    if ready { server.call_ok("GET", "/x", token, None).await; }
    json_of(server.get("/api/v1/bots", token).await, 200).await;
}"#;
    assert_eq!(discarded_statuses(good), []);
    let js = "const rows = (await pageApi(page, 'GET', '/bots')).body.data;\nconst { body } = await pageApi(page, 'GET', '/x');\nconst { status, body } = await pageApi(page, 'GET', '/y');";
    let lines: Vec<usize> = unchecked_page_api(js).into_iter().map(|(l, _)| l).collect();
    assert_eq!(lines, [1, 2]);
}

/// A file's module path: `src/a/b.rs` and `src/a/b/mod.rs` are `a::b`; `src/lib.rs` is the root.
fn module_of(file: &str) -> Vec<String> {
    let path = file.strip_prefix("src/").unwrap_or(file).trim_end_matches(".rs");
    let mut segments: Vec<String> = path.split('/').map(str::to_owned).collect();
    if matches!(segments.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        segments.pop();
    }
    segments
}

/// The file that defines what a path names: the longest prefix of it that is a file of `src`.
fn file_of(segments: &[String], files: &std::collections::BTreeMap<String, String>) -> Option<String> {
    (1..=segments.len()).rev().find_map(|n| {
        let base = format!("src/{}", segments[..n].join("/"));
        [format!("{base}.rs"), format!("{base}/mod.rs")]
            .into_iter()
            .find(|f| files.contains_key(f))
    })
}

/// The module paths a file's code names through `crate::` and `super::`, grouped imports
/// (`use crate::a::{b, c::d}`) spread out.
fn named_paths(file: &str, src: &str) -> Vec<Vec<String>> {
    let code = lex(before_tests(src)).code;
    let mut out = Vec::new();
    for root in ["crate::", "super::"] {
        for (at, _) in code.match_indices(root) {
            if code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let rest = &code[at + root.len()..];
            let path: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut prefix = Vec::new();
            if root == "super::" {
                // `super::` from `a/b.rs` (module `a::b`) and from `a/b/mod.rs` alike is `a`.
                prefix = module_of(file);
                prefix.pop();
            }
            for segment in path.split("::").filter(|s| !s.is_empty()) {
                if segment == "super" {
                    prefix.pop();
                } else {
                    prefix.push(segment.to_owned());
                }
            }
            let after = &rest[path.len()..];
            if (path.is_empty() || path.ends_with("::")) && after.starts_with('{') {
                // One level of a group is enough to find the files it names.
                let group = &after[1..after.find('}').unwrap_or(after.len())];
                for item in group.split(',') {
                    let first: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    let mut p = prefix.clone();
                    if !first.is_empty() && first != "self" {
                        p.push(first);
                    }
                    out.push(p);
                }
            } else {
                out.push(prefix);
            }
        }
    }
    out
}

/// Groups of files that import each other in a loop, leaving out a file's ties to its own
/// parent and children (`mod.rs` and the files it declares may name each other).
fn import_cycles(files: &std::collections::BTreeMap<String, String>) -> Vec<Vec<String>> {
    let names: Vec<&String> = files.keys().collect();
    let mut edges: std::collections::BTreeMap<&str, std::collections::BTreeSet<String>> = Default::default();
    for (file, src) in files {
        let own = module_of(file);
        for path in named_paths(file, src) {
            let Some(target) = file_of(&path, files) else { continue };
            let theirs = module_of(&target);
            let kin = own.starts_with(&theirs) || theirs.starts_with(&own);
            if target != *file && !kin {
                edges.entry(file).or_default().insert(target);
            }
        }
    }
    let reach = |from: &str| {
        let mut seen = std::collections::BTreeSet::new();
        let mut todo = vec![from.to_owned()];
        while let Some(f) = todo.pop() {
            for next in edges.get(f.as_str()).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    };
    let reached: std::collections::BTreeMap<&str, _> = names.iter().map(|f| (f.as_str(), reach(f))).collect();
    let mut cycles: Vec<Vec<String>> = Vec::new();
    for f in &names {
        if !reached[f.as_str()].contains(f.as_str()) || cycles.iter().any(|c| c.contains(f)) {
            continue;
        }
        let members = names
            .iter()
            .filter(|g| reached[f.as_str()].contains(g.as_str()) && reached[g.as_str()].contains(f.as_str()))
            .map(|g| g.to_string())
            .collect();
        cycles.push(members);
    }
    cycles
}

#[test]
fn no_import_cycles_in_src() {
    let files = files(&root().join("src"), ".rs")
        .into_iter()
        .map(|p| (relative(&p), std::fs::read_to_string(&p).unwrap()))
        .collect();
    let cycles = import_cycles(&files);
    assert!(
        cycles.is_empty(),
        "files that import each other in a loop (move what both need into a third file or the parent):\n{}",
        cycles.iter().map(|c| c.join(" <-> ")).collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn the_cycle_check_finds_a_planted_loop() {
    let tree = |entries: &[(&str, &str)]| -> std::collections::BTreeMap<String, String> {
        entries.iter().map(|(f, s)| (f.to_string(), s.to_string())).collect()
    };
    let clean = tree(&[
        ("src/lib.rs", "pub mod http; pub mod bots; pub mod agents;"),
        (
            "src/http/mod.rs",
            "pub mod respond; fn r() { crate::bots::routes::router(); }",
        ),
        ("src/http/respond.rs", "pub fn ok() {}"),
        ("src/bots/mod.rs", "pub mod routes;"),
        (
            "src/bots/routes.rs",
            "use crate::http::{respond::ok};\nuse crate::agents::service::beat;",
        ),
        ("src/agents/mod.rs", "pub mod service;"),
        ("src/agents/service.rs", "use super::super::http::respond::ok;"),
    ]);
    assert!(import_cycles(&clean).is_empty());
    let mut planted = clean.clone();
    planted.insert(
        "src/agents/service.rs".into(),
        "use super::super::bots::routes::x;".into(),
    );
    assert_eq!(
        import_cycles(&planted),
        [vec![
            "src/agents/service.rs".to_owned(),
            "src/bots/routes.rs".to_owned()
        ]]
    );
    // The router assembly naming a route file that names `http` back is a loop too.
    let mut back = clean;
    back.insert("src/bots/routes.rs".into(), "use crate::http::ok;".into());
    assert_eq!(
        import_cycles(&back),
        [vec!["src/bots/routes.rs".to_owned(), "src/http/mod.rs".to_owned()]]
    );
}
