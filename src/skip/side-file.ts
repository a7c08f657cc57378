/**
 * A profile's binary side file (ffn-skip-linear's stand-in maps, ffn-sparse's neuron order), read and decoded once per
 * process: every policy made from the profile shares the result, which is read-only.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const loaded = new Map<string, unknown>();

/** The decoded side file at `path`; `what` names its kind in errors ("stand-in file"), `decode` parses its bytes. */
export function loadSideFile<T>(path: string, what: string, decode: (bytes: Uint8Array, where: string) => T): T {
  const key = `${what}\0${resolve(path)}`;
  if (loaded.has(key)) return loaded.get(key) as T;
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(resolve(path));
  } catch (e) {
    throw new Error(`${what} ${path}: cannot read (${(e as Error).message})`);
  }
  const v = decode(bytes, `${what} ${path}`);
  loaded.set(key, v);
  return v;
}
