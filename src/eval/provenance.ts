/** What a result was made with: the model file's sha256 and the git commit. */
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { openSync, readSync, closeSync, statSync } from "node:fs";

const shaCache = new Map<string, string>();

/** sha256 of a file, read in 4 MiB chunks (memoised per path + size + mtime). */
export function fileSha256(path: string): string {
  const st = statSync(path);
  const key = `${path}:${st.size}:${st.mtimeMs}`;
  const hit = shaCache.get(key);
  if (hit) return hit;
  const h = createHash("sha256");
  const buf = Buffer.alloc(4 << 20);
  const fd = openSync(path, "r");
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  const d = h.digest("hex");
  shaCache.set(key, d);
  return d;
}

/** HEAD commit (with "-dirty" when tracked files under src/ changed), or null outside git. */
export function gitCommit(cwd = process.cwd()): string | null {
  try {
    const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd, stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no", "--", "src"], {
      cwd,
      stdio: ["ignore", "pipe", "ignore"],
    })
      .toString()
      .trim();
    return dirty ? `${head}-dirty` : head;
  } catch {
    return null;
  }
}

/** Stable JSON (sorted keys) for hashing configurations. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(",")}]`;
  if (v !== null && typeof v === "object") {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

export function hashOf(v: unknown, len = 16): string {
  return createHash("sha256").update(stableJson(v)).digest("hex").slice(0, len);
}
