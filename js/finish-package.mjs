// Run by `cargo xtask build` after wasm-pack: adds the entry points (js/*.js and their
// types) to pkg/ and writes package.json's `exports` for them.
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = join(root, "pkg");
const entries = ["index", "compat", "react", "vue"];
const files = [...entries.flatMap((e) => [`${e}.js`, `${e}.d.ts`]), "shared.js"];
for (const file of files) copyFileSync(join(root, "js", file), join(pkg, file));

const manifest = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8"));
manifest.files = [...new Set([...(manifest.files ?? []), ...files])];
manifest.main = "index.js";
manifest.module = "index.js";
manifest.types = "index.d.ts";
manifest.exports = {
  ".": { types: "./index.d.ts", default: "./index.js" },
  "./compat": { types: "./compat.d.ts", default: "./compat.js" },
  "./react": { types: "./react.d.ts", default: "./react.js" },
  "./vue": { types: "./vue.d.ts", default: "./vue.js" },
  "./wsocket_bg.wasm": "./wsocket_bg.wasm",
  "./package.json": "./package.json",
};
// The hooks import their framework; an app that uses neither installs neither.
manifest.peerDependencies = { react: ">=18", vue: ">=3.3" };
manifest.peerDependenciesMeta = { react: { optional: true }, vue: { optional: true } };
manifest.sideEffects = false;
writeFileSync(join(pkg, "package.json"), JSON.stringify(manifest, null, 2) + "\n");
console.log(`pkg/package.json: entries ${entries.join(", ")}`);
