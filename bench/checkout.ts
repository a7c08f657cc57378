// The A/B benches that compare two built checkouts (ab-trees, step-ab, logits-ab) import each one's compiled modules.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

/** Module `path` (under dist/src, e.g. "api/engine.js") of the built checkout at `dir`. */
export async function checkoutModule<T>(dir: string, path: string): Promise<T> {
  return (await import(pathToFileURL(resolve(dir, "dist/src", path)).href)) as T;
}

/** The built checkout's loadModel. */
export async function checkoutLoadModel(dir: string): Promise<typeof import("../src/api/engine.js").loadModel> {
  return (await checkoutModule<typeof import("../src/api/engine.js")>(dir, "api/engine.js")).loadModel;
}
