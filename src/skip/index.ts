/** Public surface of the skip package (policies, config, tracing, profiling, calibration). */
export type { LayerMode, SkipPolicy, SkipStats, StepInfo } from "./policy.js";
export {
  createPolicy, resolveConfig, buildConfig, isSkipMethod, SKIP_METHODS, SKIP_DEFAULTS, KNOBS, METHOD_KNOBS,
  type SkipConfig, type ResolvedSkipConfig, type SkipMethod, type KnobName,
} from "./config.js";
export { configFromFlags, parseSkipArgs, SKIP_FLAGS } from "./flags.js";
export { configFromProfile, readSkipProfile, profileToJSON, type SkipProfile } from "./skip-profile.js";
export { withTrace, traceCounts, type StepRecord, type TracedPolicy } from "./trace.js";
export { cosineProfile, cosineProfileChart, summarize, quantile, type CosineProfile, type LayerSummary } from "./profile.js";
export { lineChart, niceTicks, type ChartSeries, type ChartPoint, type ChartOptions } from "./chart.js";
export { calibrate, defaultGrid, type CalibrateOptions, type CalibrateResult, type EvalResult, type Evaluator, type Trial } from "./calibrate.js";
export { drive, type DriveOptions, type CosineFn } from "./fake-driver.js";
