/** Where evaluation data lives and how it is read (JSONL, with clear errors). */
import { readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";

/** The shared data folder: $FFNSKIP_SHARED or ../shared. */
export function sharedDir(): string {
  return resolve(process.env.FFNSKIP_SHARED ?? "../shared");
}

/** A path under shared/data (absolute paths pass through). */
export function dataPath(rel: string, shared = sharedDir()): string {
  return isAbsolute(rel) ? rel : join(shared, "data", rel);
}

export function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`${what}: cannot read ${path} (${(e as Error).message}); shared data is taken from ../shared or $FFNSKIP_SHARED`);
  }
}

/** Parse a JSONL file into objects (blank lines skipped); names the bad line. */
export function readJsonl(path: string, what: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  readText(path, what)
    .split("\n")
    .forEach((line, i) => {
      if (line.trim() === "") return;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch (e) {
        throw new Error(`${what}: ${path} line ${i + 1} is not valid JSON (${(e as Error).message})`);
      }
      if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error(`${what}: ${path} line ${i + 1} is not a JSON object`);
      out.push(v as Record<string, unknown>);
    });
  return out;
}

/** A required string field of a data row. */
export function str(row: Record<string, unknown>, key: string, where: string): string {
  const v = row[key];
  if (typeof v !== "string") throw new Error(`${where}: field "${key}" must be a string, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Which rows to evaluate: `items` (0-based indices) when given, else the
 * first `limit` (all when undefined).
 */
export function select<T>(rows: T[], limit: number | undefined, items: number[] | undefined, what: string): { index: number; row: T }[] {
  const all = rows.map((row, index) => ({ index, row }));
  if (items) {
    for (const i of items) {
      if (!Number.isInteger(i) || i < 0 || i >= rows.length) throw new Error(`${what}: item ${i} is out of range [0, ${rows.length})`);
    }
    return items.map((i) => all[i]);
  }
  if (limit === undefined) return all;
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`${what}: --limit must be an integer ≥ 1, got ${limit}`);
  return all.slice(0, limit);
}
