/**
 * Pull the models the tests use (`npm run test:models`). Locally a model that
 * cannot be pulled is a warning and its tests skip; under CI it is a failure.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { IN_CI, ROOT } from "./paths.js";

let failed = 0;
for (const alias of ["smollm2-135m-instruct", "gemma3-270m"]) {
  try {
    execFileSync(process.execPath, [join(ROOT, "bin", "ffnskip.js"), "pull", alias], { stdio: "inherit" });
  } catch {
    failed++;
    console.error(
      `${IN_CI ? "error" : "warning"}: the model ${alias} could not be pulled; ` +
        (IN_CI ? "under CI its tests fail" : "its tests will be skipped"),
    );
  }
}
if (failed && IN_CI) process.exit(1);
