/** OpenAI-style JSON errors: every failure the server answers is one of these. */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  /** The body OpenAI clients parse: `{error: {message, type, param, code}}`. */
  body(): { error: { message: string; type: string; param: string | null; code: string } } {
    const type =
      this.status === 401
        ? "authentication_error"
        : this.status === 429
          ? "rate_limit_error"
          : this.status >= 500
            ? "server_error"
            : "invalid_request_error";
    return { error: { message: this.message, type, param: this.param, code: this.code } };
  }
}

/** 400 for a request field that is missing, of the wrong type or out of range. */
export const badRequest = (message: string, param: string | null = null, code = "invalid_request") =>
  new ApiError(400, message, code, param);
