/** Chat templates (the model's own Jinja template) rendered with @huggingface/jinja. */
import { Template } from "@huggingface/jinja";

export interface ChatMessage {
  role: "system" | "user" | "assistant" | string;
  content: string;
}

export class ChatTemplate {
  private readonly template: Template;
  constructor(source: string, private readonly specials: { bos_token: string; eos_token: string }) {
    try {
      this.template = new Template(source);
    } catch (e) {
      throw new Error(`the model's chat template does not parse: ${(e as Error).message}`);
    }
  }

  /** Render the conversation, ending with the assistant's turn opened. */
  render(messages: readonly ChatMessage[], addGenerationPrompt = true): string {
    if (!Array.isArray(messages) || messages.length === 0) throw new Error("a chat needs at least one message");
    for (const m of messages) {
      if (typeof m?.role !== "string" || typeof m?.content !== "string") {
        throw new Error("each chat message needs a string role and a string content");
      }
    }
    return this.template.render({ messages, add_generation_prompt: addGenerationPrompt, ...this.specials });
  }
}
