/**
 * The trace viewer page: its structure from a hand-made trace (no model), and
 * the real thing served at /trace opened in headless Chromium, checked from
 * the DOM and from a screenshot of the heatmap.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { renderTracePage } from "../../src/viewer/page.js";
import type { TraceView } from "../../src/viewer/trace-run.js";
import { SMOLLM2, needs, skipOrFail } from "../helpers/paths.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

function fakeView(): TraceView {
  const L = 4;
  const row = (text: string, id: number | null, skip: number[], cos: number) => ({
    text,
    id,
    phase: "decode" as const,
    counted: true,
    mode: new Array(L).fill("run"),
    ran: Array.from({ length: L }, (_, l) => !skip.includes(l)),
    cos: Array.from({ length: L }, (_, l) => (skip.includes(l) ? null : cos + l * 0.01)),
    skipped: skip.length,
  });
  return {
    model: "fake",
    prompt: "<b>hi</b>",
    nLayers: L,
    rows: [row("A", 1, [], 0.5), row(" <x>", 2, [1, 2], 0.9), row("", null, [2], 0.95)],
    text: "A <x>",
    finish_reason: "stop",
    stats: { prompt_tokens: 3, generated_tokens: 2, prompt_ms: 1, decode_ms: 1, prompt_tok_per_s: 3000, decode_tok_per_s: 2000 },
    skip: { method: "ffn-skip", ratio: 0.25, skipped_ffn: 3, total_ffn: 12 },
    settings: { tau: "0.9" },
  };
}

test("page: one cell per row × layer, skipped FFNs marked, counts, stats, text escaped, nothing external", () => {
  const html = renderTracePage(fakeView());
  assert.equal((html.match(/<rect class="cell /g) ?? []).length, 3 * 4);
  assert.equal((html.match(/<rect class="cell skipped"/g) ?? []).length, 3);
  assert.match(html, /<sup>2<\/sup>/);
  assert.match(html, /25\.0%<\/b> \(3\/12 FFNs\)/);
  assert.match(html, /2000\.0 tok\/s/);
  assert.ok(html.includes("&lt;b&gt;hi&lt;/b&gt;") && !html.includes("<b>hi</b>"), "prompt escaped");
  assert.ok(html.includes(" &lt;x&gt;"), "token text escaped");
  assert.match(html, /\(end\)/);
  assert.doesNotMatch(html, /(src|href)=["']?(https?:)?\/\//, "no external resources");
  // cosine colours differ between low and high cosines
  const fills = new Set([...html.matchAll(/class="cell ran"[^>]*fill="(#[0-9a-f]{6})"/g)].map((m) => m[1]));
  assert.ok(fills.size >= 4, `distinct cosine colours: ${[...fills].join(" ")}`);
});

test("/trace in headless Chromium draws the heatmap", async (t) => {
  if (needs(t, SMOLLM2)) return;
  if (skipOrFail(t, existsSync(CHROMIUM) ? null : `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`)) return;
  const { chromium } = await import("playwright-core");
  const { loadModel } = await import("../../src/api/engine.js");
  const { startServer } = await import("../../src/server/server.js");
  const engine = await loadModel(SMOLLM2, { threads: 1 });
  const srv = await startServer(engine, { port: 0 });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const q = new URLSearchParams({ prompt: "The capital of France is", max_tokens: "6", skip: "static", layers: "10,11", warmup: "0" });
    const resp = await page.goto(`${srv.url}/trace?${q}`);
    assert.equal(resp?.status(), 200);
    // browser-side code as strings: this project compiles without the DOM typings
    const dom = (await page.evaluate(`({
      rows: document.querySelectorAll("#heatmap-svg g.row").length,
      cells: document.querySelectorAll("#heatmap-svg rect.cell").length,
      skipped: [...document.querySelectorAll("#heatmap-svg rect.cell.skipped")].map((e) => e.closest("g").getAttribute("data-row")),
      tokens: document.querySelectorAll("#tokens .tok").length,
      method: document.querySelector("#method")?.textContent,
      ratio: document.querySelector("#ratio")?.textContent,
    })`)) as { rows: number; cells: number; skipped: string[]; tokens: number; method?: string; ratio?: string };
    assert.ok(dom.rows >= 6, `rows: ${dom.rows}`);
    assert.equal(dom.cells, dom.rows * engine.config.nLayers);
    assert.equal(dom.tokens, 6);
    assert.equal(dom.method, "static");
    // decode rows skip layers 10 and 11 (row 0 is the prompt batch, run dense)
    assert.equal(dom.skipped.length, 2 * (dom.rows - 1));
    assert.ok(!dom.skipped.includes("0"));
    assert.match(dom.ratio ?? "", /^6\.7%$/);

    // from pixels: screenshot the heatmap and count the colours in it
    const box = await page.locator("#heatmap").boundingBox();
    assert.ok(box && box.width > 100 && box.height > 50, "heatmap has a size");
    const png = await page.locator("#heatmap").screenshot();
    const colours = (await page.evaluate(`(async () => {
      const img = new Image();
      img.src = "data:image/png;base64,${png.toString("base64")}";
      await img.decode();
      const c = document.createElement("canvas");
      c.width = img.width; c.height = img.height;
      const g = c.getContext("2d");
      g.drawImage(img, 0, 0);
      const d = g.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set();
      let red = 0;
      for (let i = 0; i < d.length; i += 4) {
        seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
        if (d[i] > 180 && d[i + 1] < 60 && d[i + 2] < 60) red++;
      }
      return { distinct: seen.size, red };
    })()`)) as { distinct: number; red: number };
    assert.ok(colours.distinct > 20, `distinct colours in the heatmap screenshot: ${colours.distinct}`);
    assert.ok(colours.red > 50, `red skip marks in the screenshot: ${colours.red} pixels`);
  } finally {
    await browser.close();
    await srv.close();
    await engine.dispose();
  }
});
