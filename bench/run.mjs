// Runs the in-page benchmarks in headless Chromium and prints medians as ratios.
// usage: node bench/run.mjs http://127.0.0.1:8080 [frames] [reps]
import { chromium } from "playwright-core";

const [base, n = "300000", reps = "7"] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage();
page.on("pageerror", (e) => console.error("page error:", e));
await page.goto(`${base}/bench/dispatch.html`);
await page.waitForFunction(() => document.title === "ready");
const rows = await page.evaluate(([n, reps]) => window.runBench(n, reps), [Number(n), Number(reps)]);
await browser.close();

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
for (const key of ["type", "event"]) {
  const mine = rows.filter((r) => r.key === key);
  const stat = (f) => {
    const ns = mine.map((r) => (r[f] * 1e6) / Number(n));
    return { median: median(ns), min: Math.min(...ns), max: Math.max(...ns) };
  };
  const raw = stat("raw");
  for (const f of ["raw", "legacy", "wsocket"]) {
    const s = stat(f);
    // Ratio as throughput relative to raw: raw time / variant time (higher is better).
    console.log(`${key.padEnd(5)} ${f.padEnd(8)} median ${s.median.toFixed(0)} ns/msg (min ${s.min.toFixed(0)}, max ${s.max.toFixed(0)})  ${(raw.median / s.median).toFixed(2)}x raw`);
  }
}
