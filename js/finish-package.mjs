// Run by `cargo xtask build` after wasm-bindgen and wasm-opt: shortens the names between
// the wasm and its glue, adds the entry points (js/*.js and their types) to pkg/ and
// writes package.json with their `exports`.
import { copyFileSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = join(root, "pkg");

// wasm-bindgen names every import `__wbg_<name>_<16 hex digits>` and every export after
// its Rust path; both sides of the boundary carry each name, and the hashes do not
// compress (BENCHMARKS.md, size). They are renamed here to one or two letters, in the
// wasm and in the glue, which names them only as `<name>:` keys of its import object
// and as `wasm.<name>`. `memory` keeps its name: `init()` returns the exports.
const wasmFile = join(pkg, "wsocket_bg.wasm");
const glueFile = join(pkg, "wsocket.js");
const { bytes, module, imports, exports } = minifyNames(readFileSync(wasmFile));
let glue = readFileSync(glueFile, "utf8");
const swap = (from, to, what) => {
  const next = glue.replace(from, to);
  if (next === glue) throw new Error(`finish-package: ${what} not found in the glue`);
  glue = next;
};
// `free()` called by a listener that runs inside one of the client's own calls (a
// `state` listener during `connect()` or `close()`) finds the object borrowed by that
// call. wasm-bindgen's `free()` passes `allow_delayed = 0` and throws "attempted to take
// ownership of Rust value while it was borrowed" into the listener, although the client
// is released anyway once the call returns. With 1 (what its FinalizationRegistry
// passes) the release just waits for the call to return, and nothing throws.
swap(/(?<call>\bfree\(\) \{\s+const ptr = this\.__destroy_into_raw\(\);\s+wasm\.__wbg_wsclient_free\(ptr, )0\)/, "$<call>1)", "WsClient.free()'s call");
for (const [name, short] of imports) swap(new RegExp(`^(\\s+)${name}(: function\\()`, "m"), `$1${short}$2`, `import ${name}`);
// Exports the glue never names (the panic hooks) are left as they are there.
for (const [name, short] of exports) glue = glue.replace(new RegExp(`\\bwasm\\.${name}\\b`, "g"), `wasm.${short}`);
swap(`"${module}": import0`, `"m": import0`, "the import module");
writeFileSync(wasmFile, bytes);
writeFileSync(glueFile, glue);

// The typings of the raw exports name them as they were; only `memory` keeps its name
// meaning (the rest are the glue's business).
rmSync(join(pkg, "wsocket_bg.wasm.d.ts"), { force: true });
const typesFile = join(pkg, "wsocket.d.ts");
const types = readFileSync(typesFile, "utf8");
const raw = /export interface InitOutput \{[^}]*\}/;
if (!raw.test(types)) throw new Error("finish-package: InitOutput not found in wsocket.d.ts");
// The `Port` (the hub's typed calls into the client) is internal: its declaration moves
// to pkg/port.d.ts, outside the package's files, where `tsc --checkJs` checks the hub's
// calls against it (e2e/types/tsconfig.hub.json). Left here, its `[Symbol.dispose]`
// would also need `lib: esnext` in every app that type-checks the package.
const port = /export class Port \{[\s\S]*?\n\}\n/;
const portTypes = types.match(port)?.[0];
if (portTypes === undefined) throw new Error("finish-package: class Port not found in wsocket.d.ts");
writeFileSync(join(pkg, "port.d.ts"), portTypes.replace(/^\s*\[Symbol\.dispose\]\(\): void;\n/m, ""));
writeFileSync(typesFile, types.replace(port, "").replace(raw, "export interface InitOutput {\n    readonly memory: WebAssembly.Memory;\n}"));

const entries = ["index", "preconnect", "compat", "react", "vue"];
const files = [...entries.flatMap((e) => [`${e}.js`, `${e}.d.ts`]), "shared.js"];
for (const file of files) copyFileSync(join(root, "js", file), join(pkg, file));
// The entries import the early part of the client (src/web/early.js: errors, URLs,
// `preconnect`) from its snippet, wherever wasm-bindgen put it.
const early = readdirSync(join(pkg, "snippets"), { recursive: true }).map(String).filter((p) => p.endsWith("src/web/early.js"));
if (early.length !== 1) throw new Error(`finish-package: expected one early.js snippet, found ${early.length}`);
for (const file of ["index.js", "preconnect.js"]) {
  const text = readFileSync(join(pkg, file), "utf8");
  if (!text.includes(`"./snippets/EARLY"`)) throw new Error(`finish-package: the early.js import not found in ${file}`);
  writeFileSync(join(pkg, file), text.replace(`"./snippets/EARLY"`, JSON.stringify(`./snippets/${early[0]}`)));
}

// package.json from Cargo.toml's `[package]`, as wasm-pack would write it, then the
// entries; the README as the package's; and a .gitignore so pkg/ stays out of git.
const cargo = readFileSync(join(root, "Cargo.toml"), "utf8").split(/^\[package\]$/m)[1].split(/^\[/m)[0];
const field = (key) => {
  const value = cargo.match(new RegExp(`^${key} = (".*"|\\[.*\\])$`, "m"))?.[1];
  if (value === undefined) throw new Error(`finish-package: no ${key} in Cargo.toml's [package]`);
  return JSON.parse(value);
};
const manifest = {
  name: field("name"),
  type: "module",
  description: field("description"),
  version: field("version"),
  license: field("license"),
  repository: { type: "git", url: field("repository") },
  files: ["wsocket_bg.wasm", "wsocket.js", "wsocket.d.ts", "snippets", ...files],
  keywords: field("keywords"),
  main: "index.js",
  module: "index.js",
  types: "index.d.ts",
  exports: {
    ".": { types: "./index.d.ts", default: "./index.js" },
    "./preconnect": { types: "./preconnect.d.ts", default: "./preconnect.js" },
    "./compat": { types: "./compat.d.ts", default: "./compat.js" },
    "./react": { types: "./react.d.ts", default: "./react.js" },
    "./vue": { types: "./vue.d.ts", default: "./vue.js" },
    "./wsocket_bg.wasm": "./wsocket_bg.wasm",
    "./package.json": "./package.json",
  },
  // The hooks import their framework; an app that uses neither installs neither.
  peerDependencies: { react: ">=18", vue: ">=3.3" },
  peerDependenciesMeta: { react: { optional: true }, vue: { optional: true } },
  sideEffects: false,
};
copyFileSync(join(root, "README.md"), join(pkg, "README.md"));
writeFileSync(join(pkg, ".gitignore"), "*\n");
writeFileSync(join(pkg, "package.json"), JSON.stringify(manifest, null, 2) + "\n");
console.log(`pkg/package.json: entries ${entries.join(", ")}`);


// Renames the imports (module "m", then a, b, ...) and the exports other than `memory` of
// a wasm binary, and drops the `producers` and `target_features` custom sections. Returns
// the new bytes, the old module name and the two renamings.
function minifyNames(wasm) {
  let at = 8;
  const leb = () => {
    let n = 0, shift = 0, b;
    do { b = wasm[at++]; n += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
    return n;
  };
  const name = () => { const n = leb(); const s = new TextDecoder().decode(wasm.subarray(at, at + n)); at += n; return s; };
  const out = [wasm.subarray(0, 8)];
  const enc = (n) => { const b = []; do { let x = n % 128; n = Math.floor(n / 128); if (n) x |= 0x80; b.push(x); } while (n); return b; };
  const str = (s) => { const b = new TextEncoder().encode(s); return [...enc(b.length), ...b]; };
  const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  const short = (i) => (i < 52 ? letters[i] : short(Math.floor(i / 52) - 1) + letters[i % 52]);
  const limits = () => { const flags = leb(); leb(); if (flags & 1) leb(); };
  const imports = new Map(), exports = new Map();
  let module;
  while (at < wasm.length) {
    const start = at;
    const id = wasm[at++];
    const size = leb();
    const end = at + size;
    let section = null;
    if (id === 0) {
      if (["producers", "target_features"].includes(name())) { at = end; continue; }
    } else if (id === 2) {
      section = [];
      const count = leb();
      section.push(...enc(count));
      for (let i = 0; i < count; i++) {
        const mod = name(), field = name();
        if (module !== undefined && mod !== module) throw new Error("finish-package: more than one import module");
        module = mod;
        const descStart = at;
        const kind = wasm[at++];
        if (kind === 0) leb();
        else if (kind === 1) { at++; limits(); }
        else if (kind === 2) limits();
        else if (kind === 3) at += 2;
        else if (kind === 4) { at++; leb(); }
        else throw new Error(`finish-package: import kind ${kind}`);
        if (!imports.has(field)) imports.set(field, short(imports.size));
        section.push(...str("m"), ...str(imports.get(field)), ...wasm.subarray(descStart, at));
      }
    } else if (id === 7) {
      section = [];
      const count = leb();
      section.push(...enc(count));
      for (let i = 0; i < count; i++) {
        const field = name();
        const descStart = at;
        at++;
        leb();
        const to = field === "memory" ? field : "x" + short(exports.size);
        if (field !== "memory") exports.set(field, to);
        section.push(...str(to), ...wasm.subarray(descStart, at));
      }
    }
    if (section !== null && at !== end) throw new Error(`finish-package: section ${id} misread`);
    at = end;
    out.push(section === null ? wasm.subarray(start, end) : Uint8Array.from([id, ...enc(section.length), ...section]));
  }
  return { bytes: Buffer.concat(out), module, imports, exports };
}
