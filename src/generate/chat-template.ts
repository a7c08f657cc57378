/** Chat templates (the model's own Jinja template) rendered with @huggingface/jinja. */
import { Template } from "@huggingface/jinja";

export interface ChatMessage {
  role: "system" | "user" | "assistant" | string;
  content: string;
}

export class ChatTemplate {
  private readonly template: Template;
  constructor(
    source: string,
    private readonly specials: { bos_token: string; eos_token: string },
  ) {
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

/**
 * Templates for architectures whose GGUF files may lack
 * `tokenizer.chat_template` (llama.cpp likewise falls back to its built-in
 * ones). Gemma: no system role, so a system message is folded into the
 * first user turn; the assistant's role is called "model".
 */
export const BUILTIN_TEMPLATES: Record<string, string> = {
  gemma3:
    "{{ bos_token }}" +
    "{%- if messages[0]['role'] == 'system' -%}{%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}{%- set loop_messages = messages[1:] -%}" +
    "{%- else -%}{%- set first_user_prefix = '' -%}{%- set loop_messages = messages -%}{%- endif -%}" +
    "{%- for message in loop_messages -%}{%- if message['role'] == 'assistant' -%}{%- set role = 'model' -%}{%- else -%}{%- set role = message['role'] -%}{%- endif -%}" +
    "{{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else '') + (message['content'] | trim) + '<end_of_turn>\n' }}" +
    "{%- endfor -%}{%- if add_generation_prompt -%}{{ '<start_of_turn>model\n' }}{%- endif -%}",
};
