// Parses each file (a fenced ```mermaid block in it, else the whole file) named on the command line with mermaid's own parser (under jsdom).
import { JSDOM } from "jsdom";
import { readFileSync } from "node:fs";
const dom = new JSDOM("<!DOCTYPE html><body></body>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });
let bad = 0;
for (const f of process.argv.slice(2)) {
  let text = readFileSync(f, "utf8");
  const fence = text.match(/```mermaid\n([\s\S]*?)```/);
  if (fence) text = fence[1];
  try {
    const r = await mermaid.parse(text);
    if (!r || r.diagramType !== "flowchart-v2") throw new Error("not a flowchart: " + JSON.stringify(r));
  } catch (e) {
    bad++;
    console.error(`${f}: ${e.message || e}`);
  }
}
console.log(`${process.argv.length - 2 - bad} parsed, ${bad} failed`);
process.exit(bad ? 1 : 0);
