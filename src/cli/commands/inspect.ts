/** `ffnskip inspect`: what a model file holds — architecture, hyper-parameters, metadata, tensors. */
import { statSync } from "node:fs";
import { openGGUF } from "../../gguf/reader.js";
import { describeHFDirectory } from "../../model/hf-source.js";
import { configFromMetadata } from "../../model/config.js";
import { resolveModel } from "../../models/resolve.js";
import { ALL_TYPE_NAMES } from "../../quant/types.js";
import { parse } from "../args.js";

export const INSPECT_HELP = `ffnskip inspect [--model M] [--json] [--tensors]
  Architecture, hyper-parameters, metadata and tensor types/sizes of a model file.`;

/** Long arrays (vocabularies) are summarised, not dumped. */
function summarise(v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (ArrayBuffer.isView(v) || Array.isArray(v)) {
    const a = v as ArrayLike<unknown>;
    if (a.length > 8) return `[${a.length} values: ${Array.from({ length: 3 }, (_, i) => JSON.stringify(summarise(a[i]))).join(", ")}, …]`;
    return Array.from(a, summarise);
  }
  if (typeof v === "string" && v.length > 200) return v.slice(0, 200) + `… (${v.length} chars)`;
  return v;
}

export async function inspectCommand(argv: string[]): Promise<number> {
  const { values: v } = parse(
    argv,
    {
      model: { type: "string", short: "m" },
      json: { type: "boolean" },
      tensors: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    false,
  );
  if (v.help) {
    process.stdout.write(INSPECT_HELP + "\n");
    return 0;
  }
  const path = await resolveModel(v.model as string | undefined, { onProgress: (m) => process.stderr.write(m + "\n") });
  const f = statSync(path).isDirectory() ? describeHFDirectory(path) : openGGUF(path);
  let config: unknown;
  try {
    config = configFromMetadata(f.metadata as Record<string, unknown>, path);
  } catch (e) {
    config = { error: (e as Error).message };
  }
  const byType: Record<string, { count: number; bytes: number }> = {};
  for (const t of f.tensors) {
    const n = ALL_TYPE_NAMES[t.type] ?? String(t.type);
    byType[n] ??= { count: 0, bytes: 0 };
    byType[n].count++;
    byType[n].bytes += t.nbytes;
  }
  const metadata = Object.fromEntries(Object.entries(f.metadata).map(([k, x]) => [k, summarise(x)]));
  const tensors = f.tensors.map((t) => ({ name: t.name, type: ALL_TYPE_NAMES[t.type] ?? t.type, dims: t.dims, bytes: t.nbytes }));
  if (v.json) {
    process.stdout.write(
      JSON.stringify({
        path,
        version: f.version,
        file_bytes: f.fileSize,
        architecture: f.architecture,
        config,
        tensor_types: byType,
        metadata,
        tensors,
      }) + "\n",
    );
    return 0;
  }
  const out: string[] = [];
  out.push(`file          ${path} (${typeof f.version === "number" ? "GGUF v" : ""}${f.version}, ${(f.fileSize / 1e6).toFixed(1)} MB)`);
  out.push(`architecture  ${f.architecture}`);
  out.push(`config        ${JSON.stringify(config)}`);
  out.push(
    `tensors       ${f.tensors.length}: ${Object.entries(byType)
      .map(([k, x]) => `${k} ×${x.count} (${(x.bytes / 1e6).toFixed(1)} MB)`)
      .join(", ")}`,
  );
  out.push("metadata");
  for (const [k, x] of Object.entries(metadata))
    out.push(`  ${k} = ${typeof x === "string" ? x.replace(/\n/g, "\\n") : JSON.stringify(x)}`);
  if (v.tensors) {
    out.push("tensors");
    for (const t of tensors) out.push(`  ${t.name.padEnd(28)} ${String(t.type).padEnd(6)} [${t.dims.join(", ")}] ${t.bytes} B`);
  }
  process.stdout.write(out.join("\n") + "\n");
  return 0;
}
