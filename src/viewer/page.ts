/**
 * The trace viewer: one self-contained HTML page (inline CSS, SVG and a few
 * lines of JS; nothing fetched) showing, for a traced generation, a heatmap
 * of generated tokens × layers coloured by the FFN cosine, skipped FFNs
 * marked, the text with each token's skip count, and the run's ratio and
 * speed. Used by `ffnskip trace --html` and the server's GET /trace.
 */
import { esc, ramp } from "./colour.js";
import type { TraceRow, TraceView } from "./trace-run.js";

const CELL = 16;
const LABEL_W = 120;
const TOP = 34;

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:20px;color:#222;background:#fafafa}
h1{font-size:20px;margin:0 0 8px}
.stats{display:flex;flex-wrap:wrap;gap:6px 18px;margin:8px 0 14px}
.stats b{font-variant-numeric:tabular-nums}
.legend{display:flex;align-items:center;gap:8px;margin:6px 0 10px;font-size:12px}
.bar{width:160px;height:12px;border:1px solid #999}
.box{width:12px;height:12px;border:1px solid #999;display:inline-block;vertical-align:middle}
#heatmap{overflow:auto;max-height:75vh;border:1px solid #ddd;background:#fff;display:inline-block}
#heatmap svg text{font:11px monospace;fill:#333}
#heatmap .row:hover .lbl{fill:#c00}
.cell.skipped{fill:#fff}
.x{stroke:#d00;stroke-width:2}
.tokens{font:14px/2 monospace;white-space:pre-wrap;background:#fff;border:1px solid #ddd;padding:10px;max-width:1000px}
.tok{border-radius:3px;padding:1px 0}
.tok sup{font-size:9px;color:#b00;margin-left:1px}
.tok.hl{outline:2px solid #c00}
.row.hl .lbl{fill:#c00;font-weight:bold}
pre.prompt{background:#fff;border:1px solid #ddd;padding:8px;white-space:pre-wrap;max-width:1000px}
form{background:#fff;border:1px solid #ddd;padding:10px;margin-bottom:14px;max-width:1000px}
form label{margin-right:12px}
`;

/** Visible text for a token in a narrow label (whitespace made visible). */
function shown(t: string): string {
  return t.replace(/\n/g, "⏎").replace(/\t/g, "⇥").replace(/ /g, "·") || "∅";
}

function cellSvg(r: TraceRow, l: number, y: number, lo: number): string {
  const x = LABEL_W + l * CELL;
  const mode = r.mode[l];
  const cos = r.cos[l];
  if (mode !== "run") {
    return (
      `<rect class="cell layer-${mode}" x="${x}" y="${y}" width="${CELL - 1}" height="${CELL - 1}" fill="#9a9a9a"><title>layer ${l}: ${mode}</title></rect>` +
      `<line class="x" x1="${x + 3}" y1="${y + CELL / 2}" x2="${x + CELL - 4}" y2="${y + CELL / 2}" stroke="#fff"/>`
    );
  }
  if (!r.ran[l]) {
    return (
      `<rect class="cell skipped" x="${x}" y="${y}" width="${CELL - 1}" height="${CELL - 1}" stroke="#d00"><title>layer ${l}: FFN skipped</title></rect>` +
      `<path class="x" d="M${x + 3} ${y + 3}L${x + CELL - 4} ${y + CELL - 4}M${x + CELL - 4} ${y + 3}L${x + 3} ${y + CELL - 4}"/>`
    );
  }
  const t = cos === null ? 0 : (cos - lo) / Math.max(1e-6, 1 - lo);
  const label = cos === null ? "n/a" : cos.toFixed(4);
  return `<rect class="cell ran" x="${x}" y="${y}" width="${CELL - 1}" height="${CELL - 1}" fill="${ramp(t)}" data-cos="${label}"><title>layer ${l}: cos ${label}</title></rect>`;
}

function heatmap(v: TraceView, lo: number): string {
  const L = v.nLayers;
  const W = LABEL_W + L * CELL + 50;
  const H = TOP + v.rows.length * CELL + 4;
  const parts: string[] = [];
  for (let l = 0; l < L; l++) {
    if (l % 5 === 0 || l === L - 1) parts.push(`<text x="${LABEL_W + l * CELL + 2}" y="${TOP - 6}">${l}</text>`);
  }
  parts.push(`<text x="4" y="${TOP - 20}">token \\ layer</text><text x="${LABEL_W + L * CELL + 6}" y="${TOP - 6}">skip</text>`);
  v.rows.forEach((r, i) => {
    const y = TOP + i * CELL;
    const lbl = r.id === null ? "(end)" : shown(r.text);
    const cells: string[] = [];
    for (let l = 0; l < L; l++) cells.push(cellSvg(r, l, y, lo));
    parts.push(
      `<g class="row" data-row="${i}" data-skipped="${r.skipped}">` +
        `<text class="lbl" x="4" y="${y + 12}">${esc(lbl.length > 14 ? lbl.slice(0, 13) + "…" : lbl)}</text>` +
        cells.join("") +
        `<text x="${LABEL_W + L * CELL + 8}" y="${y + 12}">${r.skipped}</text></g>`,
    );
  });
  return `<svg id="heatmap-svg" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${parts.join("")}</svg>`;
}

function tokensHtml(v: TraceView): string {
  const L = v.nLayers;
  return v.rows
    .filter((r) => r.id !== null)
    .map((r, i) => {
      // tint by the share of FFNs skipped for this token
      const a = (r.skipped / L) * 0.6;
      return `<span class="tok" data-row="${i}" style="background:rgba(220,0,0,${a.toFixed(3)})" title="token ${r.id}: ${r.skipped}/${L} FFNs skipped">${esc(r.text)}<sup>${r.skipped}</sup></span>`;
    })
    .join("");
}

export interface PageOptions {
  /** HTML placed above the result (the server's form) */
  header?: string;
  title?: string;
}

/** The whole page for a traced run (or only the header when `v` is null). */
export function renderTracePage(v: TraceView | null, opts: PageOptions = {}): string {
  const title = opts.title ?? "ffnskip trace";
  let body = opts.header ?? "";
  if (v) {
    const finite = v.rows.flatMap((r) => r.cos.filter((c): c is number => c !== null));
    const lo = Math.min(0.99, finite.length ? Math.min(...finite) : 0);
    const s = v.stats,
      k = v.skip;
    const settings = Object.entries(v.settings)
      .filter(([, x]) => x !== undefined)
      .map(([a, b]) => `${esc(a)}=${esc(typeof b === "string" ? b : JSON.stringify(b))}`)
      .join(" ");
    body += `
<div class="stats" id="stats">
  <span>model <b>${esc(v.model)}</b></span>
  <span>skip <b id="method">${esc(k.method)}</b></span>
  <span>ratio <b id="ratio">${(k.ratio * 100).toFixed(1)}%</b> (${+k.skipped_ffn.toFixed(1)}/${k.total_ffn} FFNs)</span>
  <span>decode <b id="decode-speed">${s.decode_tok_per_s.toFixed(1)} tok/s</b></span>
  <span>prompt <b>${s.prompt_tokens} tok</b> at ${s.prompt_tok_per_s.toFixed(1)} tok/s</span>
  <span>generated <b>${s.generated_tokens} tok</b> (${esc(v.finish_reason)})</span>
</div>
${settings ? `<div class="settings">settings: <code>${settings}</code></div>` : ""}
<h2>Prompt</h2><pre class="prompt">${esc(v.prompt)}</pre>
<h2>Text (superscript: FFNs skipped producing the token)</h2>
<div class="tokens" id="tokens">${tokensHtml(v)}</div>
<h2>FFN cosine per generated token × layer</h2>
<div class="legend">cos ${lo.toFixed(3)} <span class="bar" style="background:linear-gradient(to right,${[0, 0.25, 0.5, 0.75, 1].map(ramp).join(",")})"></span> 1.000
  <span><svg width="14" height="14"><rect x="0.5" y="0.5" width="13" height="13" fill="#fff" stroke="#d00"/><path d="M3 3L11 11M11 3L3 11" stroke="#d00" stroke-width="2"/></svg> FFN skipped</span>
  <span><span class="box" style="background:#9a9a9a"></span> whole layer skipped / removed</span></div>
<p style="font-size:12px;color:#555">Row <i>i</i> is the forward pass that produced token <i>i</i> (row 0: the last prompt batch; an "(end)" row produced the end-of-generation token). Hover a cell for its value.</p>
<div id="heatmap">${heatmap(v, lo)}</div>
<script>
// hovering a token highlights its heatmap row and vice versa
(function(){
  function hl(i,on){document.querySelectorAll('[data-row="'+i+'"]').forEach(function(e){e.classList.toggle('hl',on)});}
  document.querySelectorAll('[data-row]').forEach(function(e){
    e.addEventListener('mouseenter',function(){hl(e.dataset.row,true)});
    e.addEventListener('mouseleave',function(){hl(e.dataset.row,false)});
  });
})();
</script>`;
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>${CSS}</style></head>
<body><h1>${esc(title)}</h1>${body}
</body></html>
`;
}
