// `npm run build`: a fresh dist/, then the three kernel builds (asc, asconfig.json's targets) and the TypeScript build
// (tsc) side by side. They share no outputs (tsc never reads build/), and run one after another they were half of
// `npm test`'s set-up time on a 2-core machine. Fails, naming the step, when any of them fails.
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";

const bin = (name) => join("node_modules", ".bin", process.platform === "win32" ? `${name}.cmd` : name);
const steps = [
  ...["release", "relaxed", "dotadd"].map((t) => [bin("asc"), ["src/kernels/assembly/kernels.ts", "--config", "asconfig.json", "--target", t]]),
  [bin("tsc"), ["-p", "tsconfig.json"]],
];

rmSync("dist", { recursive: true, force: true });
const results = await Promise.all(
  steps.map(
    ([cmd, args]) =>
      new Promise((resolve) => {
        const p = spawn(cmd, args, { stdio: "inherit", shell: process.platform === "win32" });
        p.on("error", (e) => resolve(`${cmd}: ${e.message}`));
        p.on("close", (code) => resolve(code === 0 ? null : `${cmd} ${args.join(" ")} exited with ${code}`));
      }),
  ),
);
const failed = results.filter((r) => r !== null);
if (failed.length) {
  for (const f of failed) console.error(`build: ${f}`);
  process.exit(1);
}
