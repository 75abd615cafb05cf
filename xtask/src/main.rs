//! `cargo xtask`: the project's tasks, in Rust, with no dependencies.
//!
//! - `cargo xtask demo [--port 8080]`: installs what is missing, builds the npm package
//!   into `pkg/`, starts the companion server and prints the demo URL.
//! - `cargo xtask test`: installs what is missing and runs every tier: format and lint,
//!   native core tests, server tests, the wasm package build, and the browser tests in
//!   headless Chromium against a freshly started server.
//! - `cargo xtask bench`: every benchmark at full size, written to `BENCHMARKS.md`.
//! - `cargo xtask setup`: only the installation step.
//! - `cargo xtask build`: setup, then the package build and its size.
//!
//! Installation uses only the package registries: `rustup target add`, `cargo install`
//! (wasm-bindgen-cli at the version in Cargo.lock, wasm-pack), `apt-get` (chromium,
//! chromium-driver, redis-server) and `npm` (binaryen's wasm-opt, into `.tools/`).

use std::env;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Instant;

type Result<T = ()> = std::result::Result<T, String>;

/// The binaryen release whose `wasm-opt` reads what rustc emits (Debian's is too old).
const BINARYEN: &str = "binaryen@132.0.0";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup(),
        Some("build") => setup().and_then(|_| build_pkg().map(|_| ())),
        Some("demo") => demo(&args[1..]),
        Some("test") => test(),
        Some("bench") => bench(),
        Some("size") => setup().and_then(|_| size()),
        _ => {
            eprintln!("usage: cargo xtask <demo [--port N] | test | bench | size | setup | build>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

fn tools_bin() -> PathBuf {
    root().join(".tools/node_modules/.bin")
}

/// PATH with binaryen's wasm-opt and cargo's bin directory first.
fn path_env() -> String {
    let cargo_bin = env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env::var("HOME").unwrap_or_default()).join(".cargo"))
        .join("bin");
    format!(
        "{}:{}:{}",
        tools_bin().display(),
        cargo_bin.display(),
        env::var("PATH").unwrap_or_default()
    )
}

fn cmd(program: &str) -> Command {
    let mut c = Command::new(program);
    c.current_dir(root()).env("PATH", path_env());
    c
}

/// The command line of `c`, for logs.
fn show(c: &Command) -> String {
    let mut line = c.get_program().to_string_lossy().into_owned();
    for arg in c.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}

fn run(c: &mut Command) -> Result {
    let shown = show(c);
    println!("$ {shown}");
    let status = c.status().map_err(|e| format!("cannot run {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

fn output(c: &mut Command) -> Option<String> {
    let out = c.output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn step(name: &str) {
    println!("\n==> {name}");
}

// ---- setup ---------------------------------------------------------------------------

fn lock_version(krate: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("Cargo.lock: {e}"))?;
    let needle = format!("name = \"{krate}\"\nversion = \"");
    let start =
        lock.find(&needle).ok_or_else(|| format!("{krate} is not in Cargo.lock"))? + needle.len();
    let end = lock[start..].find('"').ok_or("Cargo.lock is malformed")?;
    Ok(lock[start..start + end].to_owned())
}

fn cargo_install(krate: &str, version: Option<&str>) -> Result {
    let mut args = vec!["install", krate];
    if let Some(v) = version {
        args.extend(["--version", v]);
    }
    // `--locked` first, for the versions the tool was released with; a registry mirror
    // that lacks one of them gets a plain install.
    let mut locked = args.clone();
    locked.push("--locked");
    run(cmd("cargo").args(&locked)).or_else(|_| run(cmd("cargo").args(&args)))
}

fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_some_and(|s| s.trim() == "0")
}

/// `apt-get` as root, or through sudo otherwise.
fn apt_get() -> Command {
    if is_root() {
        Command::new("apt-get")
    } else {
        let mut c = Command::new("sudo");
        c.arg("apt-get");
        c
    }
}

fn apt_install(packages: &[&str]) -> Result {
    run(apt_get().arg("update"))?;
    run(apt_get().env("DEBIAN_FRONTEND", "noninteractive").args(["install", "-y"]).args(packages))
}

fn setup() -> Result {
    step("setup: toolchain, browser and wasm-opt");
    let targets =
        output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if !targets.lines().any(|t| t.trim() == "wasm32-unknown-unknown") {
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    if !root().join("Cargo.lock").exists() {
        run(cmd("cargo").arg("generate-lockfile"))?;
    }
    let wanted = lock_version("wasm-bindgen")?;
    let have = output(cmd("wasm-bindgen").arg("--version")).unwrap_or_default();
    if have.split_whitespace().nth(1) != Some(wanted.as_str()) {
        cargo_install("wasm-bindgen-cli", Some(&wanted))?;
    }
    if output(cmd("wasm-pack").arg("--version")).is_none() {
        cargo_install("wasm-pack", None)?;
    }
    // Redis: the many-node tests start their own on a free port (server/tests/cluster.rs).
    let missing: Vec<&str> = [
        ("/usr/bin/chromium", "chromium"),
        ("/usr/bin/chromedriver", "chromium-driver"),
        ("/usr/bin/redis-server", "redis-server"),
    ]
    .iter()
    .filter(|(path, _)| !Path::new(path).exists())
    .map(|(_, package)| *package)
    .collect();
    if output(Command::new("npm").arg("--version")).is_none() {
        apt_install(&["nodejs", "npm"])?;
    }
    if !missing.is_empty() {
        apt_install(&missing)?;
    }
    // The FastAPI test backend runs in a venv of its own (e2e/backends.mjs); Debian's
    // python3 has no `venv` (ensurepip) without python3-venv.
    let venv = Command::new("python3").args(["-c", "import venv, ensurepip"]).output();
    if !venv.is_ok_and(|o| o.status.success()) {
        apt_install(&["python3", "python3-venv"])?;
    }
    if output(Command::new(tools_bin().join("wasm-opt")).arg("--version")).is_none() {
        std::fs::create_dir_all(root().join(".tools")).map_err(|e| format!(".tools: {e}"))?;
        run(cmd("npm").args(["install", "--no-save", "--prefix", ".tools", BINARYEN]))?;
    }
    let v = |c: &mut Command| output(c).unwrap_or_else(|| "missing".into()).trim().to_owned();
    println!("wasm-bindgen: {}", v(cmd("wasm-bindgen").arg("--version")));
    println!("wasm-pack:    {}", v(cmd("wasm-pack").arg("--version")));
    println!("wasm-opt:     {}", v(Command::new(tools_bin().join("wasm-opt")).arg("--version")));
    println!("chromium:     {}", v(Command::new("/usr/bin/chromium").arg("--version")));
    Ok(())
}

// ---- build ---------------------------------------------------------------------------

/// What the package's wasm is compiled with: no reference types, so that wasm-bindgen,
/// seeing no `reference-types` in the `target_features` section (`bind_package_wasm`
/// strips the one the prebuilt `core`/`alloc` bring), keeps JS values in a slab in the
/// glue instead of a wasm `externref` table. Its per-export shims are smaller: the
/// package is ~660 B gzip smaller (BENCHMARKS.md, size). Only the package build: the
/// browser tier runs wasm-bindgen-test in its default (externref) mode, as a Rust app
/// that depends on the crate does.
///
/// A 48 KiB stack instead of rustc's 1 MiB default: the wasm memory a page pays for
/// from the first load is the stack plus the data (one 64 KiB page for both), then the
/// pages the allocator asks for (lol_alloc grows memory rather than use the first page's
/// tail). Issue 24: 1,088 KiB before, 128 KiB with this (BENCHMARKS.md, section 5; 192
/// KiB with a 64 KiB stack). The client's call depth is shallow (the per-message path
/// is JS); the stack sits first in memory, so an overflow traps at address 0 rather
/// than write over data.
const PACKAGE_RUSTFLAGS: &str = "-C target-feature=-reference-types -C link-arg=-zstack-size=49152";

/// Compiles the package's wasm (into `target/package`, so its flags do not rebuild the
/// other targets) and runs wasm-bindgen on it into `out`; returns the bound wasm's path.
fn bind_package_wasm(out: &Path) -> Result<PathBuf> {
    let target_dir = root().join("target/package");
    run(cmd("cargo")
        .env("RUSTFLAGS", PACKAGE_RUSTFLAGS)
        .args(["build", "--release", "--target", "wasm32-unknown-unknown", "--lib"])
        // A panic traps (the release profile unwinds, for the server's sake).
        .args(["--config", "profile.release.panic=\"abort\""])
        .args(["--no-default-features", "--features", "npm-package", "--target-dir"])
        .arg(&target_dir))?;
    let linked = target_dir.join("wasm32-unknown-unknown/release/wsocket.wasm");
    let input = target_dir.join("wsocket.wasm");
    run(Command::new(tools_bin().join("wasm-opt"))
        // `-g`: keep the function names for wasm-bindgen and the size profile (the
        // shipped build's last wasm-opt drops them).
        .args(["--strip-target-features", "-g"])
        .arg(&linked)
        .arg("-o")
        .arg(&input))?;
    // Multi-value returns: an export that returns a `Result` hands back its two words
    // directly, so the glue needs no stack slot and memory reads per call (~80 B gzip).
    // `--encode-into always`: no fallback for a `TextEncoder` without `encodeInto`
    // (every browser since 2021 and Node since 12 has it).
    run(cmd("wasm-bindgen")
        .env("WASM_BINDGEN_MULTI_VALUE", "1")
        .args(["--target", "web", "--encode-into", "always", "--out-dir"])
        .arg(out)
        .arg(&input))?;
    Ok(out.join("wsocket_bg.wasm"))
}

/// Builds the npm package into `pkg/`; returns the wasm size (raw, gzip -9).
fn build_pkg() -> Result<(u64, u64)> {
    step(
        "build: the npm package into pkg/ (cargo build --no-default-features --features \
         npm-package, wasm-bindgen --target web, wasm-opt -Oz, js/finish-package.mjs)",
    );
    let pkg = root().join("pkg");
    if pkg.exists() {
        std::fs::remove_dir_all(&pkg).map_err(|e| format!("{}: {e}", pkg.display()))?;
    }
    let wasm = bind_package_wasm(&pkg)?;
    run(Command::new(tools_bin().join("wasm-opt"))
        .args(shipped_wasm_opt_flags()?)
        .arg(&wasm)
        .arg("-o")
        .arg(&wasm))?;
    run(cmd("node").arg("js/finish-package.mjs"))?;
    let raw = std::fs::metadata(&wasm).map_err(|e| format!("{}: {e}", wasm.display()))?.len();
    let gz =
        output(Command::new("sh").arg("-c").arg(format!("gzip -9c '{}' | wc -c", wasm.display())))
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
    println!("pkg/wsocket_bg.wasm: {raw} bytes, {gz} bytes gzip -9");
    Ok((raw, gz))
}

// ---- demo ----------------------------------------------------------------------------

fn demo(args: &[String]) -> Result {
    let port = match args {
        [] => "8080".to_owned(),
        [flag, port] if flag == "--port" => port.clone(),
        _ => return Err("usage: cargo xtask demo [--port N]".into()),
    };
    setup()?;
    build_pkg()?;
    step("demo: starting the companion server (Ctrl-C stops it)");
    println!("open http://127.0.0.1:{port}/ once the server says it is listening");
    // The demo's buttons break the connection through the test-control API (loopback
    // only); its publish form publishes over the WebSocket.
    run(cmd("cargo").args(["run", "--release", "-p", "wsocket-server", "--"]).args([
        "--port",
        &port,
        "--test-control",
    ]))
}

// ---- bench ---------------------------------------------------------------------------

/// Builds the load generator, installs the benchmark's npm packages, starts a release
/// companion server (benchmark limits) and runs `bench/run.mjs` with `args`.
fn run_benchmarks(args: &[&str]) -> Result {
    // The smoke run only proves the benchmarks still work: debug builds will do.
    let profile = if args.contains(&"--smoke") { "debug" } else { "release" };
    let mut build = cmd("cargo");
    build.args(["build", "-p", "wsocket-loadgen"]);
    if profile == "release" {
        build.arg("--release");
    }
    run(&mut build)?;
    if !root().join("bench/node_modules/socket.io").exists() {
        run(cmd("npm").args(["ci", "--prefix", "bench", "--no-audit", "--no-fund"]))?;
    }
    let srv = Server::start_profile(
        profile,
        &[
            "--no-feeds",
            "--rate-limit",
            "1000000000",
            "--max-connections",
            "20000",
            "--max-http-connections",
            "20000",
            // Held connections stay silent for the whole run.
            "--first-frame-timeout-ms",
            "3600000",
            "--idle-timeout-ms",
            "3600000",
        ],
    )?;
    let loadgen = root().join("target").join(profile).join("wsocket-loadgen");
    let loadgen = loadgen.to_string_lossy();
    // Section 9 starts nodes of its own (with `--redis`) from the same binary.
    let bin = root().join("target").join(profile).join("wsocket-server");
    let bin = bin.to_string_lossy();
    run(cmd("node")
        .args(["bench/run.mjs", "--server", &srv.addr, "--loadgen", &loadgen, "--server-bin", &bin])
        .args(args))
}

fn bench() -> Result {
    setup()?;
    build_pkg()?;
    let text = size_profile()?;
    let profile = root().join("target/size-profile.md");
    let notes = std::fs::read_to_string(root().join("bench/notes.md")).unwrap_or_default();
    std::fs::write(&profile, format!("{text}\n{notes}"))
        .map_err(|e| format!("{}: {e}", profile.display()))?;
    step("benchmarks (about fifteen minutes)");
    let profile = profile.to_string_lossy();
    run_benchmarks(&["--write", "BENCHMARKS.md", "--append", &profile])
}

/// The `wasm-opt` flags the package is built with: the `wasm-opt = [...]` line of
/// Cargo.toml's `[package.metadata.wasm-pack.profile.release]`, so the profile measures
/// exactly what ships.
fn shipped_wasm_opt_flags() -> Result<Vec<String>> {
    let manifest = root().join("Cargo.toml");
    let text =
        std::fs::read_to_string(&manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let line = text
        .split("[package.metadata.wasm-pack.profile.release]")
        .nth(1)
        .and_then(|profile| profile.lines().find(|l| l.trim_start().starts_with("wasm-opt =")))
        .ok_or("Cargo.toml: no wasm-opt line in the wasm-pack release profile")?;
    Ok(line.split('"').skip(1).step_by(2).map(str::to_owned).collect())
}

/// `cargo xtask size`: prints the size profile BENCHMARKS.md carries.
fn size() -> Result {
    println!("{}", size_profile()?);
    Ok(())
}

/// The wasm as shipped (wasm-bindgen, then `wasm-opt -Oz`) but with its function names
/// kept (`-g`), profiled with twiggy: the bytes per area, then the 25 largest items.
fn size_profile() -> Result<String> {
    step("size profile: twiggy of the shipped wasm, with names kept");
    if output(cmd("twiggy").arg("--version")).is_none() {
        cargo_install("twiggy", None)?;
    }
    let dir = root().join("target/size");
    let bound = bind_package_wasm(&dir)?;
    let named = dir.join("named.wasm");
    run(Command::new(tools_bin().join("wasm-opt"))
        .args(shipped_wasm_opt_flags()?)
        .arg("-g")
        .arg(&bound)
        .arg("-o")
        .arg(&named))?;
    let csv = output(cmd("twiggy").args(["top", "-n", "100000", "--format", "csv"]).arg(&named))
        .ok_or("twiggy top failed")?;
    // Name → shallow bytes; the names section is not shipped (the real build has none).
    let items: Vec<(String, u64)> = csv
        .lines()
        .skip(1)
        .filter_map(|line| {
            let (name, rest) = if let Some(quoted) = line.strip_prefix('"') {
                let end = quoted.find("\",").unwrap_or(quoted.len());
                (quoted[..end].replace("\"\"", "\""), quoted.get(end + 2..).unwrap_or(""))
            } else {
                let (name, rest) = line.split_once(',')?;
                (name.to_owned(), rest)
            };
            let bytes = rest.split(',').next()?.parse().ok()?;
            Some((name, bytes))
        })
        .filter(|(name, _)| !name.contains("function names") && !name.starts_with("custom section"))
        .collect();
    const AREAS: [(&str, &[&str]); 7] = [
        ("data: strings (error messages, option names, frames) and tables", &["data segment"]),
        (
            "core::fmt and panic messages (alloc's out-of-memory message, RefCell and bounds checks)",
            &["fmt", "panic", "slice_error", "unicode", "str::count"],
        ),
        (
            "allocator (lol_alloc)",
            &["lol_alloc", "__rdl", "__rust_alloc", "__rust_dealloc", "__rust_realloc"],
        ),
        (
            "exported methods (wasm-bindgen shims, with the driver code wasm-opt inlined)",
            &["wsclient_", "__wbg_wsclient"],
        ),
        ("driver (src/web)", &["wsocket::web"]),
        ("core (machine, queue, topics, requests, codec, socketio, options)", &["wsocket::"]),
        (
            "std collections, strings and wasm-bindgen runtime",
            &["alloc::", "core::", "wasm_bindgen", "js_sys", "__wbindgen", "__externref"],
        ),
    ];
    let mut totals = vec![0u64; AREAS.len() + 1];
    for (name, bytes) in &items {
        let area = AREAS
            .iter()
            .position(|(_, keys)| keys.iter().any(|k| name.contains(k)))
            .unwrap_or(AREAS.len());
        totals[area] += bytes;
    }
    let all: u64 = totals.iter().sum();
    let mut text = String::from(
        "## Size profile\n\n`twiggy` of the wasm as shipped (wasm-bindgen, `wasm-opt -Oz`) \
         built again with its function names kept (`-g`; the names section itself is left \
         out). Bytes are before gzip; areas are matched on item names, first match wins.\n\n\
         | area | bytes | share |\n|---|---|---|\n",
    );
    let labels = AREAS
        .iter()
        .map(|(label, _)| *label)
        .chain(["other (indirect-call table, types, imports)"]);
    for (label, bytes) in labels.zip(&totals) {
        text += &format!("| {label} | {bytes} | {:.0}% |\n", *bytes as f64 * 100.0 / all as f64);
    }
    text += &format!(
        "| total | {all} | 100% |\n\nThe 25 largest items:\n\n| item | bytes |\n|---|---|\n"
    );
    let mut top = items.clone();
    top.sort_by_key(|item| std::cmp::Reverse(item.1));
    for (name, bytes) in top.iter().take(25) {
        // Rust symbol hashes say nothing to a reader.
        let name = match name.rfind("::h") {
            Some(i) if name[i + 3..].chars().all(|c| c.is_ascii_hexdigit()) => &name[..i],
            _ => name.as_str(),
        };
        text += &format!("| `{}` | {bytes} |\n", name.replace('|', "\\|"));
    }
    Ok(text)
}

// ---- test ----------------------------------------------------------------------------

/// The bearer token of `/publish` on the test tier's servers (`tests/web/scenarios.js`
/// and `server/tests/common` use the same test value).
const TEST_PUBLISH_TOKEN: &str = "test-publish-token";

/// The companion server, killed on drop.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(extra: &[&str]) -> Result<Server> {
        Server::start_profile("debug", extra)
    }

    fn start_profile(profile: &str, extra: &[&str]) -> Result<Server> {
        let mut build = cmd("cargo");
        build.args(["build", "-p", "wsocket-server"]);
        if profile == "release" {
            build.arg("--release");
        }
        run(&mut build)?;
        let bin = root().join("target").join(profile).join("wsocket-server");
        // Every test server has the test-control API (loopback only) and `/publish`
        // with the test tier's credential (a test value, not a secret).
        let mut child = Command::new(&bin)
            .args(["--port", "0", "--test-control", "--publish-token", TEST_PUBLISH_TOKEN])
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{}: {e}", bin.display()))?;
        let stdout = child.stdout.take().ok_or("no server stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map_err(|e| format!("server stdout: {e}"))?;
        let addr = line
            .split("http://")
            .nth(1)
            .map(|s| s.trim().trim_end_matches('/').to_owned())
            .ok_or_else(|| format!("unexpected server output: {line:?}"))?;
        println!("companion server on {addr}");
        Ok(Server { child, addr })
    }
}

/// The reference Socket.IO server (tests/socketio-reference), killed on drop.
struct NodeGateway {
    child: Child,
    addr: String,
}

impl NodeGateway {
    fn start() -> Result<NodeGateway> {
        let dir = root().join("tests").join("socketio-reference");
        if !dir.join("node_modules").join("socket.io").exists() {
            run(cmd("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&dir))?;
        }
        let mut child = Command::new("node")
            .arg(dir.join("gateway.mjs"))
            .args(["--port", "0", "--token", "good-token", "--ping-ms", "300,200"])
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("node gateway.mjs: {e}"))?;
        let stdout = child.stdout.take().ok_or("no gateway stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map_err(|e| format!("gateway stdout: {e}"))?;
        let addr = line
            .trim()
            .rsplit(' ')
            .next()
            .filter(|a| a.contains(':'))
            .ok_or_else(|| format!("unexpected gateway output: {line:?}"))?
            .to_owned();
        println!("reference socket.io server on {addr}");
        Ok(NodeGateway { child, addr })
    }
}

impl Drop for NodeGateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a test command, echoing its output, and returns the summed counts of its
/// `test result:` lines.
fn run_counted(c: &mut Command) -> Result<(u32, u32)> {
    let shown = show(c);
    println!("$ {shown}");
    let mut child = c.stdout(Stdio::piped()).spawn().map_err(|e| format!("{shown}: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (mut passed, mut failed) = (0, 0);
    for line in BufReader::new(stdout).lines().map_while(std::result::Result::ok) {
        println!("{line}");
        if let Some(rest) = line.trim().strip_prefix("test result: ") {
            let count = |word: &str| {
                rest.split(';')
                    .find_map(|part| {
                        part.trim().strip_suffix(word).map(|n| {
                            n.trim()
                                .trim_start_matches("ok. ")
                                .trim_start_matches("FAILED. ")
                                .parse::<u32>()
                                .unwrap_or(0)
                        })
                    })
                    .unwrap_or(0)
            };
            passed += count("passed");
            failed += count("failed");
        }
    }
    let status = child.wait().map_err(|e| format!("{shown}: {e}"))?;
    if !status.success() || failed > 0 {
        return Err(format!("{shown} failed ({status}, {failed} failed)"));
    }
    Ok((passed, failed))
}

fn test() -> Result {
    let started = Instant::now();
    setup()?;
    step("lint: rustfmt and clippy");
    run(cmd("cargo").args(["fmt", "--all", "--", "--check"]))?;
    run(cmd("cargo").args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
    run(cmd("cargo").args([
        "clippy",
        "--target",
        "wasm32-unknown-unknown",
        "--lib",
        "--tests",
        "--examples",
        "--",
        "-D",
        "warnings",
    ]))?;
    // The README's Rust API example, compiled (and linked) for the browser.
    run(cmd("cargo").args([
        "build",
        "--example",
        "rust_client",
        "--target",
        "wasm32-unknown-unknown",
    ]))?;
    step("tier 1: native core tests (fake clock)");
    let native = run_counted(cmd("cargo").args(["test", "-p", "wsocket", "--", "--show-output"]))?;
    step("tier 1b: JS unit tests (node --test js/test/: the hub with a fake socket, the crossTab mux)");
    run(cmd("node").args(["--test", "js/test/"]))?;
    step("tier 3: server tests (port 0)");
    let server = run_counted(cmd("cargo").args(["test", "-p", "wsocket-server"]))?;
    let (raw, gz) = build_pkg()?;
    step("tier 2: browser tests (headless Chromium against the companion server)");
    // The chaos test needs a history window longer than its outages, and more than the
    // default 100 messages/s per connection; the auth tests need a server that requires
    // a token.
    let srv = Server::start(&["--no-feeds", "--history", "20000", "--rate-limit", "1000"])?;
    // Also the Socket.IO gateway the Socket.IO tests use (fast pings, for the watchdog).
    let auth = Server::start(&["--no-feeds", "--token", "good-token", "--sio-ping-ms", "300,200"])?;
    // The reference `socket.io` server from npm, behind a relay of our own server (where
    // the control API acts), for the same Socket.IO tests.
    let reference = NodeGateway::start()?;
    let relay = Server::start(&["--no-feeds", "--socketio-upstream", &reference.addr])?;
    // What `wasm-pack test --headless --chrome` runs, spelled out so that `--nocapture`
    // reaches the runner and the chaos figures are printed.
    let browser = run_counted(
        cmd("cargo")
            .args([
                "test",
                "--target",
                "wasm32-unknown-unknown",
                "--test",
                "web",
                "--",
                "--nocapture",
            ])
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", "wasm-bindgen-test-runner")
            .env("CHROMEDRIVER", "/usr/bin/chromedriver")
            .env("WASM_BINDGEN_TEST_ONLY_WEB", "1")
            .env("WASM_BINDGEN_TEST_TIMEOUT", "600")
            .env("WSOCKET_TEST_SERVER", &srv.addr)
            .env("WSOCKET_TEST_AUTH_SERVER", &auth.addr)
            .env("WSOCKET_TEST_SIO_REFERENCE_SERVER", &relay.addr),
    )?;
    step(
        "tier 4: the npm package (tsc, SSR, Vite React and Vue apps, legacy page, every \
         browser scenario through the package, real NestJS and FastAPI servers)",
    );
    // With the demo feeds: the apps and the demo page show live data. The scenarios run
    // again, through the package as apps import it, against tier 2's servers.
    let demo = Server::start(&[])?;
    let scenario_servers = format!("{},{},{}", srv.addr, auth.addr, relay.addr);
    run(cmd("node").args([
        "e2e/run.mjs",
        "--server",
        &format!("http://{}", demo.addr),
        "--scenarios",
        &scenario_servers,
    ]))?;
    drop((demo, srv, auth, relay, reference));
    step("benchmarks, once at tiny sizes (no figures kept; `cargo xtask bench` for those)");
    run_benchmarks(&["--smoke"])?;
    step("summary");
    println!("native core tests: {} passed", native.0);
    println!("server tests:      {} passed", server.0);
    println!("browser tests:     {} passed", browser.0);
    println!("wasm package:      {raw} bytes, {gz} bytes gzip -9");
    println!("total time:        {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}
