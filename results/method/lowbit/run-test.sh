# Session 26: the tests of the low-bit designs whose screens said go (README here), through the shared test script.
#   bash results/method/lowbit/run-test.sh q3ks-25     simulated q3ks copies in every middle layer (~25%)
#   bash results/method/lowbit/run-test.sh q3cold1-35  q3ks copies in layers 1-28 plus outright skips (~35%; no knowledge tasks:
#                                                       FFN-SkipLLM has no 500-item runs at ~35%)
# Needs the research worktree /work/sim with sim.patch applied (run-screen.sh's header says how).
T=results/method/lowbit
export FFNSKIP_SIM_LOWBIT=q3ks
case "$1" in
q3ks-25) export P=$T/q3-static.json KNOWLEDGE=1 ;;
q3cold1-35) export P=$T/q3-base-cold1-35.json KNOWLEDGE=0 FFNSKIP_SIM_BASE=1 FFNSKIP_SIM_BASE_COLD=1,1 ;;
*) echo "usage: run-test.sh q3ks-25|q3cold1-35" >&2; exit 2 ;;
esac
TAG=$1 OUT=$T/test BIN=/work/sim/bin/ffnskip.js bash results/method/compact-loops/tiered/run-test.sh
