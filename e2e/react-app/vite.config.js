import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// No wasm plugin: the package loads its .wasm through `new URL(..., import.meta.url)`,
// which Vite turns into an asset by itself.
export default defineConfig({ base: "./", plugins: [react()] });
