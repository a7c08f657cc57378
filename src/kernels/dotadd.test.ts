// The dot-add kernel build (build/kernels-dotadd.wasm, assembly/common.ts
// DOT_ADD_BUILD) runs only where the runtime's
// i32x4.relaxed_dot_i8x16_i7x16_add_s is exact for the kernels' operands:
// V8 >= 12 (Node >= 22), and not on every CPU (V8 13 passed on an AVX-512
// VNNI host and fails on an AVX2-only one). Node 20's V8 computes it
// differently; where it is not exact the self-test rejects the build and
// auto never takes it. wasm.test.ts includes
// the dot-add build wherever the Node running it can run it; where it cannot,
// this test runs wasm.test.ts and neuron-major.test.ts again under a second Node that can: the one in
// FFNSKIP_NODE_DOTADD, or the one scripts/install-node.sh puts in the model
// cache (.ci/run installs it, so under CI its absence is a failure).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { buildStatus, kernelModule, runsBuild } from "./wasm-module.js";
import { HOME, ROOT, skipOrFail } from "../../test/helpers/paths.js";

/** Where scripts/install-node.sh puts its Node. */
const INSTALLED = join(HOME, "node", "bin", "node");

test("the dot-add build is rejected with a clear error where the runtime's dot-add is not exact, or runs", () => {
  try {
    kernelModule("dotadd");
    assert.equal(buildStatus("dotadd"), "runs");
  } catch (e) {
    const why = buildStatus("dotadd");
    if (why === "self-test failed")
      assert.match(
        (e as Error).message,
        /dot-add kernels do not run on this JavaScript engine and CPU: V8 \S+ .*exactness self-test; use FFNSKIP_KERNELS=auto, relaxed or baseline/,
      );
    else {
      assert.equal(why, "no relaxed SIMD");
      assert.match(
        (e as Error).message,
        /dot-add kernels do not run on this JavaScript engine \(needs WebAssembly relaxed SIMD.*FFNSKIP_KERNELS=baseline/,
      );
      // relaxed SIMD is standard from V8 12 on: there only the self-test may refuse the build
      assert.equal(Number(process.versions.v8.split(".")[0]) < 12, true, `V8 ${process.versions.v8} should have relaxed SIMD`);
    }
  }
});

test("kernel tests (bit-identity of every build, dot-add included) under a Node whose V8 runs the dot-add build", (t) => {
  if (runsBuild("dotadd")) {
    t.diagnostic(`this Node (V8 ${process.versions.v8}) runs the dot-add build: wasm.test.ts covers it in this run`);
    return;
  }
  const node = process.env.FFNSKIP_NODE_DOTADD ?? INSTALLED;
  if (
    skipOrFail(
      t,
      existsSync(node) ? null : `no second Node for the dot-add build at ${node} (scripts/install-node.sh, or FFNSKIP_NODE_DOTADD)`,
    )
  )
    return;
  const probe = spawnSync(node, ["-p", "process.versions.v8"], { encoding: "utf8" });
  assert.equal(probe.status, 0, `${node} does not run: ${probe.stderr}`);
  // whether that Node runs the dot-add build on this CPU (its V8 lowers the relaxed dot product per CPU)
  const mod = pathToFileURL(join(ROOT, "dist", "src", "kernels", "wasm-module.js")).href;
  const status = spawnSync(
    node,
    ["--input-type=module", "-e", `import { buildStatus } from ${JSON.stringify(mod)}; console.log(buildStatus("dotadd"))`],
    {
      encoding: "utf8",
    },
  );
  assert.equal(status.status, 0, `${node} cannot load the kernels: ${status.stderr}`);
  const dotadd = status.stdout.trim();
  assert.notEqual(dotadd, "no relaxed SIMD", `${node} (V8 ${probe.stdout.trim()}) has no relaxed SIMD: it cannot test the dot-add build`);
  // without the runner's NODE_TEST_CONTEXT, which would make the child report to this runner instead of to stdout
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const files = ["wasm.test.js", "neuron-major.test.js"].map((f) => join(ROOT, "dist", "src", "kernels", f));
  const r = spawnSync(node, ["--test", "--test-reporter=tap", ...files], {
    encoding: "utf8",
    timeout: 150_000,
    env,
  });
  const tail = `${r.stdout}\n${r.stderr}`.split("\n").slice(-40).join("\n");
  assert.equal(r.status, 0, `wasm.test.js and neuron-major.test.js under ${node} (V8 ${probe.stdout.trim()}) failed:\n${tail}`);
  assert.match(r.stdout, /^# skipped 0$/m, `the second run skipped tests:\n${tail}`);
  if (dotadd === "self-test failed") {
    // a CPU where that V8's relaxed dot product is not exact (an AVX2-only host): the product never takes the build here, and the
    // second run covered the other builds under the newer V8; the dot-add build's bit-identity needs another CPU
    assert.doesNotMatch(r.stdout, /neuron-major .*dotadd/, "the second run included a build that its self-test refused");
    t.diagnostic(`${node} (V8 ${probe.stdout.trim()}) refuses the dot-add build on this CPU (its self-test fails): not covered here`);
    return;
  }
  // the run really included the dot-add build in both files
  assert.equal(dotadd, "runs");
  assert.match(r.stdout, /wasm-relaxed-simd-dotadd|dotadd kernels/, "the second run did not include the dot-add build");
  assert.match(r.stdout, /neuron-major .*dotadd/, "the second run did not include the dot-add build's neuron-major kernels");
});
