// Build the optional native helper native/hugepages.c into build/hugepages.node (see src/kernels/hugepages.ts):
// one C file against Node-API, compiled with the system's C compiler, no node-gyp. It never fails the install: without
// a compiler or Node's headers (include/node/node_api.h beside this Node, or under /usr or /usr/local), or off Linux,
// it prints why and ffnskip runs without huge-page advice. FFNSKIP_NATIVE=0 skips it.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "build", "hugepages.node");
const say = (s) => process.stderr.write(`build-native: ${s}\n`);
if (process.env.FFNSKIP_NATIVE === "0") say("skipped (FFNSKIP_NATIVE=0)");
else if (process.platform !== "linux") say(`skipped on ${process.platform} (the helper advises Linux transparent huge pages)`);
else {
  const prefix = dirname(dirname(process.execPath));
  const include = [prefix, "/usr", "/usr/local"].map((p) => join(p, "include", "node")).find((d) => existsSync(join(d, "node_api.h")));
  if (!include) say("skipped: Node's headers (include/node/node_api.h) not found; ffnskip runs without huge-page advice");
  else {
    mkdirSync(dirname(out), { recursive: true });
    const cc = process.env.CC || "cc";
    try {
      execFileSync(cc, ["-shared", "-fPIC", "-O2", "-Wall", "-I", include, join(root, "native", "hugepages.c"), "-o", out], { stdio: "inherit" });
      say(`built ${out}`);
    } catch (e) {
      say(`skipped: ${cc} failed (${e.message.split("\n")[0]}); ffnskip runs without huge-page advice`);
    }
  }
}
