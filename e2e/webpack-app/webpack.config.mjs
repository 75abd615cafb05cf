import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

export default {
  mode: "production",
  entry: join(here, "src", "index.js"),
  output: { path: join(here, "dist"), filename: "main.js", clean: true },
};
