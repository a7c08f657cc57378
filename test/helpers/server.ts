/** The server tests' fixture: the default model behind a server on a free port, and an `openai` client for it. */
import OpenAI from "openai";
import { loadModel, type Engine } from "../../src/api/engine.js";
import { startServer, type RunningServer } from "../../src/server/server.js";
import { SMOLLM2 } from "./paths.js";

export async function openServer(): Promise<{ engine: Engine; srv: RunningServer; client: OpenAI }> {
  const engine = await loadModel(SMOLLM2, { threads: 1 });
  const srv = await startServer(engine, { port: 0 });
  return { engine, srv, client: new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: "unused", maxRetries: 0 }) };
}

export async function closeServer(srv: RunningServer | undefined, engine: Engine | undefined): Promise<void> {
  await srv?.close();
  await engine?.dispose();
}
