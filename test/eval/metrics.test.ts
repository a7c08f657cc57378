/** Scorers: factoid normalisation/aliases, ROUGE vs hand-computed values, loop detection, distinct-n, windows. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { factoidItems, factoidPrompt, isCorrect, normalizeAnswer } from "../../src/eval/factoid.js";
import { lcsLength, rougeL, rougeN, rougeTokens, tokenF1, rougeF } from "../../src/eval/rouge.js";
import { distinctN, findLoop, isLooping, lineTokens } from "../../src/eval/collapse.js";
import { slidingWindows } from "../../src/eval/perplexity.js";
import { kSchedule, modelStem, topIndices } from "../../src/eval/targets.js";

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) < eps, `${a} ≠ ${b}`);

test("factoid: normalisation lowercases and removes all whitespace", () => {
  assert.equal(normalizeAnswer("  The Taming\tof the\nShrew "), "thetamingoftheshrew");
});

test("factoid: answer or alias as a substring, after normalisation", () => {
  assert.ok(isCorrect("Dodie Smith wrote it.", ["dodie smith"]));
  assert.ok(isCorrect("it was DodieSmith", ["dodie smith"])); // spaces removed on both sides
  assert.ok(isCorrect("Electric Light\nOrchestra", ["elo", "electric light orchestra"]));
  assert.ok(isCorrect("ELO, of course", ["electric light orchestra", "ELO"])); // alias
  assert.ok(!isCorrect("Greenwich Village", ["hackney"]));
  assert.ok(!isCorrect("anything", ["", "  "])); // empty golds never match
  assert.ok(!isCorrect("", ["paris"]));
});

test("factoid: rows take question or context, answer and aliases; bad rows name the field", () => {
  const it = factoidItems(
    [
      { context: "Q1?", answer: "a", aliases: ["b"] },
      { question: "Q2?", answer: "c" },
    ],
    "x.jsonl",
  );
  assert.deepEqual(it, [
    { question: "Q1?", golds: ["a", "b"] },
    { question: "Q2?", golds: ["c"] },
  ]);
  assert.throws(() => factoidItems([{ answer: "a" }], "x.jsonl"), /row 1.*"context"/);
  assert.throws(() => factoidItems([{ context: "q", answer: "a", aliases: [1] }], "x.jsonl"), /aliases/);
  assert.equal(factoidPrompt("Who?"), "Please give answer to this question: Who?\nThe answer is ");
});

test("rouge: tokenizer lowercases and splits on non-alphanumerics", () => {
  assert.deepEqual(rougeTokens("The cat's hat, 2024!"), ["the", "cat", "s", "hat", "2024"]);
  assert.deepEqual(rougeTokens("  ...  "), []);
});

test("rouge: hand-computed ROUGE-1/2/L", () => {
  // cand: the cat sat on the mat (6)   ref: the cat was on the mat (6)
  // unigrams: the×2, cat, on, mat match; sat≠was → overlap 5 → P = R = F = 5/6
  const c = "The cat sat on the mat.",
    r = "the cat was on the mat";
  const r1 = rougeN(c, r, 1);
  close(r1.p, 5 / 6);
  close(r1.r, 5 / 6);
  close(r1.f, 5 / 6);
  // bigrams cand: the-cat cat-sat sat-on on-the the-mat; ref: the-cat cat-was was-on on-the the-mat → 3/5
  close(rougeN(c, r, 2).f, 3 / 5);
  // LCS: the cat on the mat = 5 → 5/6
  close(rougeL(c, r).f, 5 / 6);
  // asymmetric lengths: cand "a b c d" ref "a c" → LCS 2, P 2/4, R 2/2, F = 2·0.5·1/1.5 = 2/3
  const l = rougeL("a b c d", "a c");
  close(l.p, 0.5);
  close(l.r, 1);
  close(l.f, 2 / 3);
  // clipping: cand "the the the" vs ref "the cat" → overlap min(3,1) = 1: P 1/3, R 1/2, F 0.4
  close(rougeN("the the the", "the cat", 1).f, 0.4);
  assert.deepEqual(rougeF("", "x"), { rouge1: 0, rouge2: 0, rougeL: 0 });
  assert.throws(() => rougeN("a", "a", 0), /n must be/);
});

test("rouge: LCS length", () => {
  assert.equal(lcsLength("ABCBDAB".split(""), "BDCABA".split("")), 4);
  assert.equal(lcsLength([], ["a"]), 0);
});

test("token F1 drops articles and punctuation", () => {
  close(tokenF1("The Eiffel Tower.", "eiffel tower"), 1);
  // "a red car" → [red, car]; "red bike" → [red, bike]; overlap 1 → P = R = 1/2
  close(tokenF1("a red car", "red bike"), 0.5);
  close(tokenF1("", ""), 1);
  close(tokenF1("x", ""), 0);
});

test("loop: periodic tails of ≥ 3 copies and ≥ 12 words count; escaped or short repeats do not", () => {
  const w = (s: string) => s.split(" ");
  assert.deepEqual(findLoop(w("so " + "the ".repeat(12).trim())), { period: 1, words: 12 });
  assert.equal(findLoop(w("the ".repeat(11).trim())), null); // 11 words < 12
  // period 4, 3.5 copies (last cut short): 14 words
  const t = "intro words here " + "i am a robot ".repeat(3) + "i am";
  assert.deepEqual(findLoop(w(t.trim())), { period: 4, words: 14 });
  // two copies of a 7-word sentence: 14 words but < 3 copies
  assert.equal(findLoop(w("one two three four five six seven one two three four five six seven")), null);
  // a loop the model left again is not at the end
  assert.ok(!isLooping("yes ".repeat(20) + "and then it ended with something new"));
  assert.ok(isLooping("Sure! " + "I can help. ".repeat(6)));
  assert.ok(!isLooping("A normal answer that never repeats itself at all, with plenty of distinct words in it."));
});

test("loop: line breaks count — blank lines to the limit, or a word between blank lines of varying length", () => {
  const nl = (n: number) => "\n".repeat(n);
  // a hundred blank lines: no word repeats, the line breaks do
  assert.ok(isLooping("How many times do you have a memory" + nl(100)));
  // "1" between blank lines of varying length: periodic once each run of line breaks is one token
  assert.ok(isLooping("Question?" + [3, 1, 5, 2, 4, 1, 6, 2].map((k) => nl(k) + "1").join("") + nl(1)));
  assert.deepEqual(lineTokens("A b\n\n c\nd!", false), ["a", "b", "\n", "\n", "c", "\n", "d"]);
  assert.deepEqual(lineTokens("A b\n\n c\nd!", true), ["a", "b", "\n", "c", "\n", "d"]);
  // ordinary answers: a list, paragraphs, a few trailing line breaks
  assert.ok(!isLooping("Here are some tips:\n\n1. Plan your day.\n2. Take breaks.\n3. Sleep well.\n\nGood luck!\n\n"));
  assert.ok(!isLooping("First paragraph here.\n\nSecond one, different.\n\nThird and last." + nl(5)));
  // 11 line breaks are not enough (the same 12-token minimum as words)
  assert.ok(!isLooping("An answer that ends" + nl(11)));
  // a word loop separated by varying blank lines still counts
  assert.ok(
    isLooping(
      "Sure." +
        ["\n", "\n\n", "\n", "\n\n\n"]
          .map((s) => s + "I can help you")
          .join("")
          .repeat(3),
    ),
  );
});

test("distinct-n", () => {
  close(distinctN("a b a b", 2), 2 / 3); // ab ba ab
  close(distinctN("a b c", 2), 1);
  assert.ok(Number.isNaN(distinctN("a", 2)));
});

test("sliding windows score every position once", () => {
  for (const [n, w, s] of [
    [10, 4, 2],
    [10, 4, 3],
    [3, 8, 4],
    [17, 5, 3],
    [9, 2, 1],
  ]) {
    const seen = new Array(n).fill(0);
    for (const win of slidingWindows(n, w, s)) {
      assert.ok(win.end - win.begin <= w && win.first > win.begin);
      for (let p = win.first; p < win.end; p++) seen[p]++;
    }
    assert.deepEqual(seen, [0, ...new Array(n - 1).fill(1)], `n=${n} w=${w} s=${s}`);
  }
  assert.deepEqual(
    slidingWindows(10, 4, 2).map((x) => [x.begin, x.end, x.first]),
    [
      [0, 4, 1],
      [2, 6, 4],
      [4, 8, 6],
      [6, 10, 8],
    ],
  );
  assert.deepEqual(
    slidingWindows(9, 4, 3).map((x) => [x.begin, x.end, x.first]),
    [
      [0, 4, 1],
      [3, 7, 4],
      [5, 9, 7],
    ],
  );
  assert.throws(() => slidingWindows(10, 4, 4), /stride/);
});

test("targets: k schedules, top indices, model stem", () => {
  assert.deepEqual(kSchedule(1.5), [2, 1, 2, 1, 2, 1, 2, 1, 2, 1]);
  assert.deepEqual(kSchedule(3), new Array(10).fill(3));
  const s = kSchedule(7.5 * 1.4);
  close(s.reduce((a, b) => a + b, 0) / 10, 10.5);
  assert.deepEqual(topIndices([0.5, 0.9, NaN, 0.9, 0.1], 2), [1, 3]);
  assert.equal(modelStem("/x/SmolLM2-135M-Instruct.Q4_1.gguf"), "smollm2-135m-instruct");
});
