// Bundle the widget into one minified script and print its gzipped size (budget: 50 kB).
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const OUTFILE = new URL("./dist/widget.js", import.meta.url).pathname;
const BUDGET_BYTES = 50 * 1024;

await build({
  entryPoints: [new URL("./src/index.js", import.meta.url).pathname],
  outfile: OUTFILE,
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  legalComments: "eof",
  logLevel: "warning",
});

const bytes = readFileSync(OUTFILE);
const gzipped = gzipSync(bytes, { level: 9 }).length;
console.log(`widget: dist/widget.js ${(bytes.length / 1024).toFixed(1)} kB, ${(gzipped / 1024).toFixed(1)} kB gzipped (budget 50 kB)`);
if (gzipped > BUDGET_BYTES) {
  console.error("widget: over the 50 kB gzipped budget");
  process.exit(1);
}
