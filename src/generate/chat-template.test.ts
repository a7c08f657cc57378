import { test } from "node:test";
import assert from "node:assert/strict";
import { BUILTIN_TEMPLATES, ChatTemplate } from "./chat-template.js";

test("the built-in Gemma template folds the system message into the first user turn", () => {
  const t = new ChatTemplate(BUILTIN_TEMPLATES.gemma3, { bos_token: "<bos>", eos_token: "<eos>" });
  const text = t.render([
    { role: "system", content: "Be brief." },
    { role: "user", content: "Hi " },
    { role: "assistant", content: "Hello!" },
    { role: "user", content: "Capital of France?" },
  ]);
  assert.equal(
    text,
    "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n" +
      "<start_of_turn>user\nCapital of France?<end_of_turn>\n<start_of_turn>model\n",
  );
});

test("a template that does not parse, and malformed messages, are refused clearly", () => {
  assert.throws(() => new ChatTemplate("{% for %}", { bos_token: "", eos_token: "" }), /chat template does not parse/);
  const t = new ChatTemplate(BUILTIN_TEMPLATES.gemma3, { bos_token: "", eos_token: "" });
  assert.throws(() => t.render([]), /at least one message/);
  assert.throws(() => t.render([{ role: "user", content: 5 as unknown as string }]), /string role and a string content/);
});
