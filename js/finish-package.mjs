// Run by `cargo xtask build` after wasm-pack: adds the package entry (js/index.js) to
// pkg/ and points package.json at it.
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = join(root, "pkg");
for (const file of ["index.js", "index.d.ts"]) copyFileSync(join(root, "js", file), join(pkg, file));

const manifest = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8"));
manifest.files = [...new Set([...(manifest.files ?? []), "index.js", "index.d.ts"])];
manifest.main = "index.js";
manifest.module = "index.js";
manifest.types = "index.d.ts";
manifest.exports = {
  ".": { types: "./index.d.ts", default: "./index.js" },
  "./wsocket.js": { types: "./wsocket.d.ts", default: "./wsocket.js" },
  "./wsocket_bg.wasm": "./wsocket_bg.wasm",
};
writeFileSync(join(pkg, "package.json"), JSON.stringify(manifest, null, 2) + "\n");
console.log("pkg/package.json: entry index.js");
