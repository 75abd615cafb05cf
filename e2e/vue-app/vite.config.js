import { defineConfig } from "vite";
import vue from "@vitejs/plugin-vue";

// No wasm plugin: the package loads its .wasm through `new URL(..., import.meta.url)`,
// which Vite turns into an asset by itself.
export default defineConfig({ base: "./", plugins: [vue()] });
